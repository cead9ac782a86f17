//! The one table of schedule types: TOML `type` names, the names users know them by (the
//! reference class or function in snake_case, short forms), and how each is parsed. TOML
//! dispatch, error messages and record kinds all come from here.

use super::config::SchedulerConfig;

/// One schedule type.
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

macro_rules! leaf {
    ($variant:ident, $name:literal) => {
        |table| Ok(SchedulerConfig::$variant(parse_fields($name, table)?))
    };
}

/// Every schedule type with a TOML form.
pub const SCHEDULE_TYPES: &[ScheduleType] = &[
    ScheduleType {
        name: "fixed",
        aliases: &["constant_schedule", "get_constant_schedule"],
        source: "no scheduler (HF get_constant_schedule)",
        parse: parse_fixed,
    },
    ScheduleType {
        name: "step",
        aliases: &["step_lr"],
        source: "PyTorch StepLR",
        parse: leaf!(Step, "step"),
    },
    ScheduleType {
        name: "multi_step",
        aliases: &["multi_step_lr", "multistep", "multistep_lr"],
        source: "PyTorch MultiStepLR",
        parse: leaf!(MultiStep, "multi_step"),
    },
    ScheduleType {
        name: "exponential",
        aliases: &["exponential_lr"],
        source: "PyTorch ExponentialLR",
        parse: leaf!(Exponential, "exponential"),
    },
    ScheduleType {
        name: "linear",
        aliases: &["linear_lr"],
        source: "PyTorch LinearLR",
        parse: leaf!(Linear, "linear"),
    },
    ScheduleType {
        name: "constant",
        aliases: &["constant_lr"],
        source: "PyTorch ConstantLR",
        parse: leaf!(Constant, "constant"),
    },
    ScheduleType {
        name: "polynomial",
        aliases: &["polynomial_lr"],
        source: "PyTorch PolynomialLR",
        parse: leaf!(Polynomial, "polynomial"),
    },
    ScheduleType {
        name: "cosine_annealing",
        aliases: &["cosine_annealing_lr"],
        source: "PyTorch CosineAnnealingLR",
        parse: leaf!(CosineAnnealing, "cosine_annealing"),
    },
    ScheduleType {
        name: "cosine_annealing_warm_restarts",
        aliases: &["cosine_warm_restarts"],
        source: "PyTorch CosineAnnealingWarmRestarts",
        parse: leaf!(CosineAnnealingWarmRestarts, "cosine_annealing_warm_restarts"),
    },
    ScheduleType {
        name: "reduce_on_plateau",
        aliases: &["reduce_lr_on_plateau"],
        source: "PyTorch ReduceLROnPlateau",
        parse: leaf!(ReduceOnPlateau, "reduce_on_plateau"),
    },
    ScheduleType {
        name: "one_cycle",
        aliases: &["one_cycle_lr", "onecycle"],
        source: "PyTorch OneCycleLR",
        parse: leaf!(OneCycle, "one_cycle"),
    },
    ScheduleType {
        name: "cyclic",
        aliases: &["cyclic_lr"],
        source: "PyTorch CyclicLR",
        parse: leaf!(Cyclic, "cyclic"),
    },
    ScheduleType {
        name: "sequential",
        aliases: &["sequential_lr"],
        source: "PyTorch SequentialLR",
        parse: leaf!(Sequential, "sequential"),
    },
    ScheduleType {
        name: "chained",
        aliases: &["chained_scheduler"],
        source: "PyTorch ChainedScheduler",
        parse: leaf!(Chained, "chained"),
    },
    ScheduleType {
        name: "warmup",
        aliases: &[],
        source: "a [scheduler.warmup] table (PyTorch SequentialLR([LinearLR, X]))",
        parse: |table| Ok(SchedulerConfig::Warmup(Box::new(parse_fields("warmup", table)?))),
    },
    ScheduleType {
        name: "warmup_stable_decay",
        aliases: &["wsd", "wsd_schedule", "get_wsd_schedule"],
        source: "Hugging Face get_wsd_schedule",
        parse: leaf!(WarmupStableDecay, "warmup_stable_decay"),
    },
    ScheduleType {
        name: "inverse_sqrt",
        aliases: &["inverse_sqrt_schedule", "get_inverse_sqrt_schedule"],
        source: "Hugging Face get_inverse_sqrt_schedule",
        parse: leaf!(InverseSqrt, "inverse_sqrt"),
    },
    ScheduleType {
        name: "noam",
        aliases: &["noam_lr", "noam_lr_scheduler"],
        source: "Burn NoamLrScheduler",
        parse: leaf!(Noam, "noam"),
    },
    ScheduleType {
        name: "cosine_with_restarts",
        aliases: &[
            "cosine_with_hard_restarts",
            "cosine_with_hard_restarts_schedule_with_warmup",
            "get_cosine_with_hard_restarts_schedule_with_warmup",
        ],
        source: "Hugging Face get_cosine_with_hard_restarts_schedule_with_warmup",
        parse: leaf!(CosineWithRestarts, "cosine_with_restarts"),
    },
    ScheduleType {
        name: "polynomial_decay",
        aliases: &[
            "polynomial_decay_schedule_with_warmup",
            "get_polynomial_decay_schedule_with_warmup",
        ],
        source: "Hugging Face get_polynomial_decay_schedule_with_warmup",
        parse: leaf!(PolynomialDecay, "polynomial_decay"),
    },
    ScheduleType {
        name: "timm_cosine",
        aliases: &["cosine_lr_scheduler"],
        source: "timm CosineLRScheduler",
        parse: leaf!(TimmCosine, "timm_cosine"),
    },
];

impl ScheduleType {
    /// Parses the rest of a scheduler table (its `type` removed) into this schedule's config.
    ///
    /// # Errors
    /// A message naming the offending key, its value and what is allowed.
    pub fn parse(&self, table: toml::Table) -> Result<SchedulerConfig, String> {
        (self.parse)(table)
    }
}

fn parse_fields<'a, T: serde::Deserialize<'a>>(kind: &str, table: toml::Table) -> Result<T, String> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| match e.path().to_string().as_str() {
        "." => format!("type = \"{kind}\": {}", e.inner()),
        path => format!("type = \"{kind}\": `{path}`: {}", e.inner()),
    })
}

fn parse_fixed(table: toml::Table) -> Result<SchedulerConfig, String> {
    match table.keys().next() {
        Some(key) => Err(format!("type = \"fixed\" takes no parameters, got `{key}`")),
        None => Ok(SchedulerConfig::Fixed),
    }
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

/// The accepted `type` name closest to `name` (edit distance), for "did you mean" messages.
pub fn closest_type(name: &str) -> &'static str {
    let snake = snake_case(name);
    // A name that starts a canonical one (`cosine` -> `cosine_annealing`) wins.
    if let Some(t) = SCHEDULE_TYPES
        .iter()
        .find(|t| t.name.starts_with(&snake) && !snake.is_empty())
    {
        return t.name;
    }
    SCHEDULE_TYPES
        .iter()
        .flat_map(|t| std::iter::once(&t.name).chain(t.aliases.iter()))
        .min_by_key(|candidate| strsim::levenshtein(&snake, candidate))
        .copied()
        .unwrap_or("fixed")
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
pub fn type_list() -> String {
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
        assert_eq!(closest_type("cosine_anealing"), "cosine_annealing");
        assert_eq!(closest_type("one_cylce"), "one_cycle");
        assert_eq!(closest_type("cosine"), "cosine_annealing");
        assert_eq!(
            resolve_type("get_wsd_schedule").map(|t| t.name),
            Some("warmup_stable_decay")
        );
        assert_eq!(closure_only("LambdaLR"), Some("LambdaLrScheduler"));
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
