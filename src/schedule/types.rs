//! The one table of schedule types: TOML `type` names, the names users know them by (the
//! reference class or function in snake_case, short forms), and how each is parsed. TOML
//! dispatch, error messages and record kinds all come from here.

use super::config::ScheduleKind;
use super::*;
use serde::Serialize;

/// One schedule type of [`SCHEDULE_TYPES`].
#[derive(Debug)]
pub struct ScheduleType {
    /// The canonical TOML `type` (also [`SchedulerConfig::kind`] and the record kind).
    pub name: &'static str,
    /// Other accepted `type` names: the reference implementation's class or function name in
    /// snake_case, and short forms.
    pub aliases: &'static [&'static str],
    /// Where the schedule comes from (library and class or function).
    pub source: &'static str,
    parse: fn(toml::Table) -> Result<SchedulerConfig, String>,
}

/// The TOML `type` name of a schedule config type, from the one list below.
pub(crate) trait Named {
    /// The canonical `type` name (also the kind stored in records).
    const NAME: &'static str;
}

/// The one list of schedule types: from it come the [`SchedulerConfig`] enum (one variant per
/// type), its serde tags, [`SchedulerConfig::kind`], every config's [`Named::NAME`], the
/// [`SCHEDULE_TYPES`] table (names, aliases, sources, parsers) and the dispatch to each
/// config's [`ScheduleKind`](super::config::ScheduleKind) implementation (one exhaustive
/// match, so a new type that does not implement it does not compile).
macro_rules! schedule_types {
    ($($variant:ident($ty:ty) = $name:literal, aliases [$($alias:literal),*], source $source:literal;)*) => {
        /// Every schedule that has a TOML form, tagged by `type` (any name of
        /// [`SCHEDULE_TYPES`]: the canonical one, the reference class or function name in
        /// snake_case, short forms); see the table in [`crate::schedule`](super).
        ///
        /// Any of them (but `reduce_on_plateau`) takes a `warmup` table. Unknown keys are
        /// errors that name the key; an unknown `type` suggests the closest valid name when one is close.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(tag = "type")]
        pub enum SchedulerConfig {
            $(
                #[doc = concat!("`type = \"", $name, "\"`: ", $source, " ([`", stringify!($ty), "`]).")]
                #[serde(rename = $name)]
                $variant($ty),
            )*
        }

        $(impl Named for $ty {
            const NAME: &'static str = $name;
        })*

        /// Every schedule type with a TOML form: its canonical name, aliases and source.
        pub const SCHEDULE_TYPES: &[ScheduleType] = &[$(
            ScheduleType {
                name: $name,
                aliases: &[$($alias),*],
                source: $source,
                parse: |table| parse_fields::<$ty>($name, table).map(SchedulerConfig::$variant),
            },
        )*];

        impl SchedulerConfig {
            /// The canonical TOML `type` name.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $name,)*
                }
            }

            /// The config of this type, for the dispatch of [`SchedulerConfig`]'s methods.
            pub(crate) fn as_kind(&self) -> &dyn ScheduleKind {
                match self {
                    $(Self::$variant(c) => c,)*
                }
            }
        }
    };
}

schedule_types! {
    Fixed(FixedLrSchedulerConfig) = "fixed",
        aliases ["constant_schedule", "get_constant_schedule"],
        source "no scheduler (HF get_constant_schedule)";
    Step(StepLrSchedulerConfig) = "step", aliases ["step_lr"], source "PyTorch StepLR";
    MultiStep(MultiStepLrSchedulerConfig) = "multi_step",
        aliases ["multi_step_lr", "multistep", "multistep_lr"],
        source "PyTorch MultiStepLR";
    Exponential(ExponentialLrSchedulerConfig) = "exponential",
        aliases ["exponential_lr"],
        source "PyTorch ExponentialLR";
    Linear(LinearLrSchedulerConfig) = "linear", aliases ["linear_lr"], source "PyTorch LinearLR";
    Constant(ConstantLrSchedulerConfig) = "constant", aliases ["constant_lr"], source "PyTorch ConstantLR";
    Polynomial(PolynomialLrSchedulerConfig) = "polynomial",
        aliases ["polynomial_lr"],
        source "PyTorch PolynomialLR";
    CosineAnnealing(CosineAnnealingLrSchedulerConfig) = "cosine_annealing",
        aliases ["cosine_annealing_lr"],
        source "PyTorch CosineAnnealingLR";
    CosineAnnealingWarmRestarts(CosineAnnealingWarmRestartsSchedulerConfig) = "cosine_annealing_warm_restarts",
        aliases ["cosine_warm_restarts"],
        source "PyTorch CosineAnnealingWarmRestarts";
    ReduceOnPlateau(ReduceLrOnPlateauSchedulerConfig) = "reduce_on_plateau",
        aliases ["reduce_lr_on_plateau"],
        source "PyTorch ReduceLROnPlateau";
    OneCycle(OneCycleLrSchedulerConfig) = "one_cycle",
        aliases ["one_cycle_lr", "onecycle"],
        source "PyTorch OneCycleLR";
    Cyclic(CyclicLrSchedulerConfig) = "cyclic", aliases ["cyclic_lr"], source "PyTorch CyclicLR";
    PiecewiseLinear(PiecewiseLinearLrSchedulerConfig) = "piecewise_linear",
        aliases ["piecewise", "piecewise_interpolate", "piecewise_interpolate_schedule"],
        source "LambdaLR over numpy.interp (Page's DAWNBench ResNet-9; optax piecewise_interpolate_schedule)";
    Sequential(SequentialLrSchedulerConfig) = "sequential",
        aliases ["sequential_lr"],
        source "PyTorch SequentialLR";
    Chained(ChainedSchedulerConfig) = "chained",
        aliases ["chained_scheduler"],
        source "PyTorch ChainedScheduler";
    Warmup(WarmupSchedulerConfig) = "warmup",
        aliases [],
        source "a [scheduler.warmup] table (PyTorch SequentialLR([LinearLR, X]))";
    WarmupStableDecay(WarmupStableDecayLrSchedulerConfig) = "warmup_stable_decay",
        aliases ["wsd", "wsd_schedule", "get_wsd_schedule"],
        source "Hugging Face get_wsd_schedule";
    InverseSqrt(InverseSqrtLrSchedulerConfig) = "inverse_sqrt",
        aliases ["inverse_sqrt_schedule", "get_inverse_sqrt_schedule"],
        source "Hugging Face get_inverse_sqrt_schedule";
    Noam(NoamLrSchedulerConfig) = "noam",
        aliases ["noam_lr", "noam_lr_scheduler"],
        source "Burn NoamLrScheduler";
    CosineWithRestarts(CosineWithHardRestartsLrSchedulerConfig) = "cosine_with_restarts",
        aliases [
            "cosine_with_hard_restarts",
            "cosine_with_hard_restarts_schedule_with_warmup",
            "get_cosine_with_hard_restarts_schedule_with_warmup"
        ],
        source "Hugging Face get_cosine_with_hard_restarts_schedule_with_warmup";
    PolynomialDecay(PolynomialDecayLrSchedulerConfig) = "polynomial_decay",
        aliases [
            "polynomial_decay_schedule_with_warmup",
            "get_polynomial_decay_schedule_with_warmup"
        ],
        source "Hugging Face get_polynomial_decay_schedule_with_warmup";
    TimmCosine(TimmCosineLrSchedulerConfig) = "timm_cosine",
        aliases ["cosine_lr_scheduler"],
        source "timm CosineLRScheduler";
}

impl ScheduleType {
    /// Parses the rest of a scheduler table (its `type` removed) into this schedule's config.
    pub(crate) fn parse(&self, table: toml::Table) -> Result<SchedulerConfig, String> {
        (self.parse)(table)
    }
}

fn parse_fields<'a, T: serde::Deserialize<'a>>(kind: &str, table: toml::Table) -> Result<T, String> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| match e.path().to_string().as_str() {
        "." => format!("type = \"{kind}\": {}", e.inner()),
        path => format!("type = \"{kind}\": `{path}`: {}", e.inner()),
    })
}

/// `CamelCase` (`OneCycleLR`, `ReduceLROnPlateau`) to `snake_case` (`one_cycle_lr`,
/// `reduce_lr_on_plateau`); snake_case stays as it is.
fn snake_case(name: &str) -> String {
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

/// The schedule type named `name`: its canonical name, an alias, or the class name as written in
/// Python (`CosineAnnealingWarmRestarts`, `OneCycleLR`).
pub fn resolve_type(name: &str) -> Option<&'static ScheduleType> {
    let snake = snake_case(name);
    SCHEDULE_TYPES
        .iter()
        .find(|t| t.name == snake || t.aliases.contains(&snake.as_str()))
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

/// The accepted name (canonical or alias, of any type) closest to `name`, for "did you mean";
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
pub(crate) fn closest_type(name: &str) -> Option<Suggestion> {
    let query = normalized(name);
    let candidates = SCHEDULE_TYPES.iter().flat_map(|t| {
        std::iter::once(t.name)
            .chain(t.aliases.iter().copied())
            .map(move |n| (n, t.name))
    });
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

/// The canonical `type` names, comma-separated, for error messages.
pub(crate) fn type_list() -> String {
    SCHEDULE_TYPES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve() {
        for (given, want) in [
            ("cosine_annealing_warm_restarts", "cosine_annealing_warm_restarts"),
            ("cosine_warm_restarts", "cosine_annealing_warm_restarts"),
            ("CosineAnnealingWarmRestarts", "cosine_annealing_warm_restarts"),
            ("OneCycleLR", "one_cycle"),
            ("ReduceLROnPlateau", "reduce_on_plateau"),
            ("multi_step_lr", "multi_step"),
            ("step_lr", "step"),
            ("wsd", "warmup_stable_decay"),
        ] {
            assert_eq!(resolve_type(given).map(|t| t.name), Some(want), "{given}");
        }
        assert!(resolve_type("cosine_anealing").is_none());
        assert_eq!(
            resolve_type("get_wsd_schedule").map(|t| t.name),
            Some("warmup_stable_decay")
        );
        assert_eq!(closure_only("LambdaLR"), Some("LambdaLrScheduler"));
    }

    #[test]
    fn suggestions_consider_every_alias_and_word() {
        for (written, canonical) in [
            ("cosine_warm", "cosine_annealing_warm_restarts"),
            ("cosine_warm_restart", "cosine_annealing_warm_restarts"),
            ("CosineAnnealingWarmRestart", "cosine_annealing_warm_restarts"),
            ("warm_restarts", "cosine_annealing_warm_restarts"),
            ("cosine", "cosine_annealing"),
            ("cosine_anealing", "cosine_annealing"),
            ("cosineannealing", "cosine_annealing"),
            ("one_cylce", "one_cycle"),
            ("onecyclelr", "one_cycle"),
            ("one-cycle", "one_cycle"),
            ("1cycle", "one_cycle"),
            ("cyclical", "cyclic"),
            ("plateau", "reduce_on_plateau"),
            ("reduce_lr", "reduce_on_plateau"),
            ("reduceonplateau", "reduce_on_plateau"),
            ("ReduceLROnPlateu", "reduce_on_plateau"),
            ("multi_steps", "multi_step"),
            ("multisteplr", "multi_step"),
            ("steplr", "step"),
            ("step_decay", "step"),
            ("exponential_decay", "exponential"),
            ("exp_decay", "exponential"),
            ("expo", "exponential"),
            ("poly", "polynomial"),
            ("polynomial_decay_warmup", "polynomial_decay"),
            ("inverse_square_root", "inverse_sqrt"),
            ("cosine_restarts", "cosine_with_restarts"),
            ("hard_restarts", "cosine_with_restarts"),
            ("cosine_schedule_with_warmup", "cosine_with_restarts"),
            ("wsd_scheduler", "warmup_stable_decay"),
            ("warmup_stable", "warmup_stable_decay"),
            ("noam_scheduler", "noam"),
            ("timm", "timm_cosine"),
            ("sequencial", "sequential"),
            ("chain", "chained"),
            ("constnat", "constant"),
            ("cosine_decay", "cosine_annealing"),
            ("linear_schedule_with_warmup", "linear"),
            ("get_linear_schedule_with_warmup", "linear"),
        ] {
            assert_eq!(closest_type(written).map(|s| s.canonical), Some(canonical), "{written}");
        }
        for nothing_close in ["", "adam", "sgd", "xyz", "lr", "schedule", "lr_scheduler"] {
            assert_eq!(closest_type(nothing_close), None, "{nothing_close}");
        }
        let alias = closest_type("cosine_warm").unwrap();
        assert_eq!(alias.name, "cosine_warm_restarts");
        assert_eq!(
            alias.to_string(),
            "`cosine_warm_restarts` (an alias of `cosine_annealing_warm_restarts`)"
        );
        assert_eq!(closest_type("cosine").unwrap().to_string(), "`cosine_annealing`");
    }

    #[test]
    fn every_name_is_unique() {
        let mut all: Vec<&str> = SCHEDULE_TYPES
            .iter()
            .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
