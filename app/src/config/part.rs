//! [`ConfigPart`]: any part of a training config, checked key by key as in a whole one (what
//! `burn-lr schedule --config` reads).

use super::error::ConfigError;
use super::locate::{located, parse_toml};
use super::schema::{ParamGroupConfig, TrainConfig};
use burn_lr::schedule::SchedulerConfig;
use std::path::{Path, PathBuf};

/// Any part of a training config (`burn-lr schedule --config`): every table is optional, a
/// table may leave out keys a training run requires, and each key that is there is checked as
/// in a whole config (types, ranges, unknown keys and tables are errors). A whole training
/// config is one too.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigPart {
    /// `[scheduler]` (a fixed LR when left out, as in a training config).
    pub scheduler: SchedulerConfig,
    /// `[optimizer] lr`, when given.
    pub lr: Option<f64>,
    /// `[[param_groups]]`, each checked as in a training config.
    pub param_groups: Vec<ParamGroupConfig>,
}

/// The keys a training config requires, with the values that stand in for them when a part
/// leaves them out (only to check the keys that are there; never used). A
/// `[[param_groups]]` table without `params` gets one too.
fn stand_ins() -> [(&'static str, &'static str, toml::Value); 5] {
    let text = |s: &str| toml::Value::String(s.into());
    [
        ("model", "arch", text("tiny")),
        ("optimizer", "name", text("sgd")),
        ("optimizer", "lr", toml::Value::Float(0.0)),
        ("training", "epochs", toml::Value::Integer(1)),
        ("training", "batch_size", toml::Value::Integer(1)),
    ]
}

/// Whether `tables` holds every key a training config requires (each of [`stand_ins`], and
/// `params` in every `[[param_groups]]` table): then it is read as a whole config.
fn is_whole(tables: &toml::Table) -> bool {
    let has = |table: &str, key: &str| tables.get(table).and_then(|t| t.get(key)).is_some();
    let groups_whole = match tables.get("param_groups") {
        Some(toml::Value::Array(groups)) => groups.iter().all(|g| g.get("params").is_some()),
        _ => true,
    };
    stand_ins().iter().all(|(table, key, _)| has(table, key)) && groups_whole
}

impl ConfigPart {
    /// Reads and checks a file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, the table, the key and (where it can be found) its line.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Self::from_toml(&text).map_err(|e| e.in_file(path, &text))
    }

    /// Parses and checks TOML text.
    ///
    /// # Errors
    /// As [`Self::from_file`].
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let parse = |message| ConfigError::Parse {
            path: PathBuf::new(),
            message,
        };
        let mut tables: toml::Table = parse_toml(text).map_err(parse)?;
        if is_whole(&tables) {
            // A whole training config, read with the positions of its own text.
            let cfg: TrainConfig = parse_toml(text).map_err(parse)?;
            cfg.validate()?;
            return Ok(Self {
                lr: Some(cfg.optimizer.lr),
                scheduler: cfg.scheduler,
                param_groups: cfg.param_groups,
            });
        }
        let lr = match tables.get("optimizer").and_then(|o| o.get("lr")) {
            Some(toml::Value::Float(lr)) => Some(*lr),
            Some(toml::Value::Integer(lr)) => Some(*lr as f64),
            _ => None,
        };
        for (table, key, value) in stand_ins() {
            let entry = tables
                .entry(table)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = entry {
                t.entry(key).or_insert(value);
            }
        }
        if let Some(toml::Value::Array(groups)) = tables.get_mut("param_groups") {
            for group in groups.iter_mut().filter_map(toml::Value::as_table_mut) {
                group
                    .entry("params")
                    .or_insert_with(|| toml::Value::String("(any)".into()));
            }
        }
        let cfg: TrainConfig = serde_path_to_error::deserialize(toml::Value::Table(tables))
            .map_err(|err| parse(located(text, &err.path().to_string(), &err.inner().to_string())))?;
        cfg.validate()?;
        Ok(Self {
            scheduler: cfg.scheduler,
            lr,
            param_groups: cfg.param_groups,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_told_from_a_whole_config_by_its_keys_not_by_an_error_message() {
        let whole =
            "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[training]\nepochs = 1\nbatch_size = 2\n";
        assert!(is_whole(&whole.parse().unwrap()));
        assert!(!is_whole(&"[optimizer]\nlr = 0.1\n".parse().unwrap()));
        let group = format!("{whole}[[param_groups]]\nlr = 0.01\n");
        assert!(!is_whole(&group.parse().unwrap()), "a group without params is a part");
        // A whole config whose schedule lacks a key: the schedule's own message, on its line.
        let err = ConfigPart::from_toml(&format!("{whole}[scheduler]\ntype = \"step\"\n")).unwrap_err();
        assert!(err.to_string().contains("step_size"), "{err}");
        // A part with a bad value: named with its table, key and line.
        let err = ConfigPart::from_toml("[scheduler]\ntype = \"fixed\"\n[optimizer]\nlr = \"x\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 4") && text.contains("lr"), "{text}");
    }
}
