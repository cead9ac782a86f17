//! [`ConfigPart`]: any part of a training config, checked key by key as in a whole one (what
//! `burn-lr schedule --config` reads).

use super::error::{read_file, ConfigError};
use super::locate::{located, parse_toml, parse_toml_at};
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

/// Whether the value at `path` (an error's) is a table that lacks a key a training config
/// requires and a part may leave out (one of [`stand_ins`], or `params` of a
/// `[[param_groups]]` table), or the top level while such a table is absent: an error there
/// is the part's incompleteness, which the stand-ins fill, not a mistake in it.
fn lacks_required(tables: &toml::Table, path: &str) -> bool {
    let has = |table: &str, key: &str| tables.get(table).and_then(|t| t.get(key)).is_some();
    let incomplete = |table: &str| stand_ins().iter().any(|(t, key, _)| *t == table && !has(t, key));
    match path {
        "." => stand_ins().iter().any(|(t, _, _)| !tables.contains_key(*t)),
        "model" | "optimizer" | "training" => incomplete(path),
        group => group
            .strip_prefix("param_groups[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| tables.get("param_groups")?.get(i))
            .is_some_and(|g| g.get("params").is_none()),
    }
}

impl ConfigPart {
    /// Reads and checks a file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, the table, the key and (where it can be found) its line.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        read_file(path, Self::from_toml)
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
        // A whole training config, read with the positions of its own text; a part whose
        // first error is a required key it leaves out goes through the stand-ins.
        match parse_toml_at::<TrainConfig>(text) {
            Ok(cfg) => {
                cfg.validate()?;
                return Ok(Self {
                    lr: Some(cfg.optimizer.lr),
                    scheduler: cfg.scheduler,
                    param_groups: cfg.param_groups,
                });
            }
            Err((path, message)) if !lacks_required(&tables, &path) => return Err(parse(message)),
            Err(_) => {}
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

    const WHOLE: &str =
        "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[training]\nepochs = 1\nbatch_size = 2\n";

    fn tables(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn a_part_is_told_from_a_whole_config_by_the_keys_it_lacks_not_by_an_error_message() {
        assert!(!lacks_required(&tables(WHOLE), "."));
        assert!(!lacks_required(&tables(WHOLE), "model"));
        let part = tables("[optimizer]\nlr = 0.1\n");
        assert!(lacks_required(&part, ".") && lacks_required(&part, "optimizer"));
        assert!(!lacks_required(&part, "scheduler"));
        let group = tables(&format!("{WHOLE}[[param_groups]]\nlr = 0.01\n"));
        assert!(lacks_required(&group, "param_groups[0]"), "a group without params");
        // A whole config whose schedule lacks a key: the schedule's own message.
        let err = ConfigPart::from_toml(&format!("{WHOLE}[scheduler]\ntype = \"step\"\n")).unwrap_err();
        assert!(err.to_string().contains("step_size"), "{err}");
        // A part's own mistake is the parser's, with its position (here the table's).
        let err = ConfigPart::from_toml("[scheduler]\n  type = \"stpe\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 1, column 1: [scheduler]") && err.contains("did you mean"),
            "{err}"
        );
        // A part with a bad value after a table that lacks its required key: named with its
        // table, key and line.
        let err =
            ConfigPart::from_toml("[model]\n[scheduler]\ntype = \"fixed\"\n[optimizer]\nlr = \"x\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 5") && text.contains("lr"), "{text}");
        // A part that only leaves keys out is read.
        assert!(ConfigPart::from_toml("[scheduler]\ntype = \"step\"\nstep_size = 2\n").is_ok());
    }
}
