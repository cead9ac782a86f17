//! "Did you mean": the accepted schedule name closest to an unknown `type`, and the
//! `CamelCase` to `snake_case` rule that lets a PyTorch class name be written as it is in Python.

/// `CamelCase` (`OneCycleLR`, `ReduceLROnPlateau`) to `snake_case` (`one_cycle_lr`,
/// `reduce_lr_on_plateau`); snake_case stays as it is.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase() || prev.is_ascii_digit() || (prev.is_ascii_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// What a "did you mean" message suggests for an unknown `type`: the closest accepted name,
/// and the canonical name of its type when that name is an alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Suggestion {
    /// The accepted name closest to what was written.
    pub name: &'static str,
    /// Its type's canonical name (the same as `name` unless `name` is an alias).
    pub canonical: &'static str,
}

impl std::fmt::Display for Suggestion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.name == self.canonical {
            write!(f, "`{}`", self.name)
        } else {
            write!(f, "`{}` (an alias of `{}`)", self.name, self.canonical)
        }
    }
}

/// The accepted name closest to `name` among `candidates` (each a name, canonical or alias, and
/// its type's canonical name), for "did you mean";
/// `None` when nothing is close enough.
///
/// A name that starts an accepted one (`cosine_warm` -> `cosine_warm_restarts`) wins, the one
/// it covers most first. Otherwise names are scored by how well their words match: each word
/// is matched to the closest word on the other side (equal, a prefix either way, or within
/// Jaro-Winkler 0.8, which forgives typos and transpositions), and the F1 of the words covered
/// on both sides is the score (`lr`, `schedule`, `decay` and the like weigh half; a leading
/// `get_` is dropped): `plateau` -> `reduce_on_plateau`, `cosine_restarts` ->
/// `cosine_with_restarts`. A name written as one word, or a near miss, is also scored by the
/// Damerau-Levenshtein similarity of the names without underscores (`onecyclelr` ->
/// `one_cycle_lr`). Ties go to canonical names, then to names whose first word was written,
/// then to the closer spelling, then to the shorter name.
pub(crate) fn closest_type(
    name: &str,
    candidates: impl Iterator<Item = (&'static str, &'static str)>,
) -> Option<Suggestion> {
    let query = normalized(name);
    let best = candidates
        .map(|(name, canonical)| (Rank::of(&query, name, canonical), Suggestion { name, canonical }))
        .max_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal))?;
    let says_something = query.split('_').any(|w| !WEAK_WORDS.contains(&w));
    let family = best.1.name.split('_').next().is_some_and(|w| !WEAK_WORDS.contains(&w));
    let close = best.0.score >= MIN_SCORE
        || (best.0.score >= MIN_FAMILY_SCORE && best.0.first_word && family)
        || coverage(&query, best.1.name) >= 0.9;
    (close && says_something).then_some(best.1)
}

/// Below this score nothing is suggested (`adam` is not a misspelled `noam`), unless every
/// word written was found in the name (`plateau` -> `reduce_on_plateau`). Nor is anything
/// for a name made only of `lr`, `schedule` and the like.
const MIN_SCORE: f64 = 0.6;

/// The lower bar for a name whose family (its first word, not a weak one) was written:
/// `cosine_decay` -> `cosine_annealing`, `linear_schedule_with_warmup` -> `linear`.
const MIN_FAMILY_SCORE: f64 = 0.5;

/// How well a candidate name matches what was written, compared field by field in this order.
#[derive(Debug, PartialEq, PartialOrd)]
struct Rank {
    /// Prefix (above 2), else the word F1 or, for one word or a near miss, the spelling.
    score: f64,
    /// A canonical name wins a tie over an alias.
    canonical: bool,
    /// Then a candidate whose first word (the schedule's family) was written.
    first_word: bool,
    /// Then the closer spelling.
    spelling: f64,
    /// Then the shorter name.
    shorter: std::cmp::Reverse<usize>,
}

impl Rank {
    fn of(query: &str, name: &str, canonical: &str) -> Self {
        let spelling = strsim::normalized_damerau_levenshtein(&query.replace('_', ""), &name.replace('_', ""));
        let first = name.split('_').next().unwrap_or_default();
        let score = if query.len() >= 3 && name.starts_with(query) {
            2.0 + query.len() as f64 / name.len() as f64
        } else {
            // Spelling decides for a name written as one word (`onecyclelr`) or a near miss;
            // otherwise a long shared tail (`..._schedule_with_warmup`) would outweigh the
            // word that matters.
            let by_spelling = if !query.contains('_') || spelling >= 0.8 {
                spelling
            } else {
                0.0
            };
            word_f1(query, name).max(by_spelling)
        };
        Self {
            score,
            canonical: name == canonical,
            first_word: query.split('_').any(|w| word_match(w, first) >= 0.9),
            spelling,
            shorter: std::cmp::Reverse(name.len()),
        }
    }
}

/// snake_case with `-`, spaces and dots as underscores, no leading, trailing or double ones,
/// without Hugging Face's `get_` prefix.
fn normalized(name: &str) -> String {
    let snake = snake_case(name.trim()).replace(['-', ' ', '.'], "_");
    let words: Vec<&str> = snake.split('_').filter(|w| !w.is_empty()).collect();
    let words = match words.as_slice() {
        ["get", rest @ ..] if !rest.is_empty() => rest,
        all => all,
    };
    words.join("_")
}

/// Words that say little about which schedule is meant (`..._schedule_with_warmup`, `..._lr`,
/// `..._decay`) count half.
const WEAK_WORDS: [&str; 7] = ["get", "lr", "scheduler", "schedule", "with", "warmup", "decay"];

fn weight(word: &str) -> f64 {
    if WEAK_WORDS.contains(&word) {
        0.5
    } else {
        1.0
    }
}

/// The F1 of the words of `query` and `candidate` matched to each other, each word weighted
/// by [`weight`] on its own side (see [`closest_type`]).
fn word_f1(query: &str, candidate: &str) -> f64 {
    let (precision, recall) = (coverage(query, candidate), coverage(candidate, query));
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

/// How much of `words` (weighted by [`weight`]) is matched by the words of `other`, in [0, 1].
fn coverage(words: &str, other: &str) -> f64 {
    let (words, other): (Vec<&str>, Vec<&str>) = (words.split('_').collect(), other.split('_').collect());
    let matched: f64 = words
        .iter()
        .map(|w| weight(w) * other.iter().map(|v| word_match(w, v)).fold(0.0, f64::max))
        .sum();
    matched / words.iter().map(|w| weight(w)).sum::<f64>()
}

/// 1 for the same word, 0.9 when one starts the other (3 letters at least), a discounted
/// Jaro-Winkler similarity from 0.8 up, else 0.
fn word_match(a: &str, b: &str) -> f64 {
    let jw = strsim::jaro_winkler(a, b);
    if a == b {
        1.0
    } else if a.len().min(b.len()) >= 3 && (a.starts_with(b) || b.starts_with(a)) {
        0.9
    } else if jw >= 0.8 {
        0.9 * jw
    } else {
        0.0
    }
}

/// PyTorch schedulers that take a Python function, so they have no TOML form.
pub(crate) fn closure_only(name: &str) -> Option<&'static str> {
    match snake_case(name).as_str() {
        "lambda_lr" | "lambda" => Some("LambdaLrScheduler"),
        "multiplicative_lr" | "multiplicative" => Some("MultiplicativeLrScheduler"),
        _ => None,
    }
}
