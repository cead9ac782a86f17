//! The TOML training configuration (`configs/*.toml`). Unknown keys are errors.

mod error;
mod locate;
mod part;
mod schema;

pub use error::ConfigError;
pub use locate::{parse_toml, schedule_line};
pub use part::ConfigPart;
pub use schema::{
    DataConfig, ModelConfig, OptimizerConfig, OptimizerName, ParamGroupConfig, TrainConfig, TrainingConfig,
};

#[cfg(test)]
mod tests {
    use super::locate::*;
    use super::*;
    use burn_lr::schedule::SchedulerConfig;

    const MIN: &str = r#"
[model]
arch = "resnet20"
[optimizer]
name = "sgd"
lr = 0.1
[scheduler]
type = "step"
step_size = 30
[training]
epochs = 2
batch_size = 8
"#;

    #[test]
    fn parses_minimal() {
        let cfg = TrainConfig::from_toml(MIN).unwrap();
        assert_eq!(cfg.training.grad_accumulation, 1);
        assert!(matches!(cfg.scheduler, SchedulerConfig::Step(ref s) if s.step_size == 30 && s.gamma == 0.1));
    }

    #[test]
    fn label_smoothing_defaults_to_none_and_is_checked() {
        assert_eq!(TrainConfig::from_toml(MIN).unwrap().training.label_smoothing, 0.0);
        let with = |a: &str| TrainConfig::from_toml(&format!("{MIN}label_smoothing = {a}\n"));
        assert_eq!(with("0.1").unwrap().training.label_smoothing, 0.1);
        assert_eq!(with("1.0").unwrap().training.label_smoothing, 1.0);
        for bad in ["-0.1", "1.5", "nan", "inf"] {
            let err = with(bad).unwrap_err().to_string();
            assert!(
                err.contains("training.label_smoothing") && err.contains("[0, 1]"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn cutout_is_a_side_of_1_to_32_with_augmentation() {
        assert_eq!(TrainConfig::from_toml(MIN).unwrap().data.cutout, None);
        let with = |data: &str| TrainConfig::from_toml(&format!("{MIN}[data]\n{data}\n"));
        assert_eq!(with("cutout = 8").unwrap().data.cutout, Some(8));
        for (bad, says) in [
            ("cutout = 0", "1..=32"),
            ("cutout = 33", "1..=32"),
            ("cutout = 8\naugment = false", "needs augment = true"),
        ] {
            let err = with(bad).unwrap_err().to_string();
            assert!(err.contains("data.cutout") && err.contains(says), "{bad}: {err}");
        }
        assert!(with("cutout = -1").is_err());
    }

    #[test]
    fn a_missing_data_table_equals_an_empty_one() {
        let without = TrainConfig::from_toml(MIN).unwrap();
        let with = TrainConfig::from_toml(&format!("{MIN}[data]\n")).unwrap();
        assert_eq!(without, with);
        assert!(without.data.augment);
        assert_eq!(without.data.num_workers, 1);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = TrainConfig::from_toml(&MIN.replace("step_size = 30", "step_size = 30\nstepsize = 3")).unwrap_err();
        assert!(err.to_string().contains("stepsize"), "{err}");
        let err = TrainConfig::from_toml(&MIN.replace("lr = 0.1", "lr = 0.1\nlearning_rate = 1")).unwrap_err();
        assert!(err.to_string().contains("learning_rate"), "{err}");
        let err = TrainConfig::from_toml(&MIN.replace("type = \"step\"", "type = \"stepp\"")).unwrap_err();
        assert!(err.to_string().contains("stepp"), "{err}");
    }

    #[test]
    fn parse_errors_are_one_line_with_position_and_key() {
        let err = TrainConfig::from_toml(&MIN.replace("epochs = 2", "epochs = \"two\"")).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(
            msg.contains("line 11, column 10: [training] epochs: invalid type: string \"two\""),
            "{msg}"
        );
        let err = TrainConfig::from_toml(&MIN.replace("step_size = 30", "step_size = 30\nstepsize = 3")).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(
            msg.contains("[scheduler] ") && msg.contains("unknown field `stepsize`"),
            "{msg}"
        );
        assert!(msg.contains("line 10, column 1: "), "{msg}");
        let err = TrainConfig::from_toml("[model\narch = 1").unwrap_err().to_string();
        assert!(err.starts_with("invalid config: line 1, column 7: "), "{err}");
    }

    #[test]
    fn a_schedule_error_points_at_its_own_table() {
        let text = "[scheduler]\ntype = \"step\"\nstep_size = 2\n[[param_groups]]\nparams = \"fc\"\n\
                    [param_groups.scheduler]\ntype = \"multi_step\"\nstep_size = 0\n";
        let err = |scheduler| burn_lr::schedule::ScheduleError::InvalidParam {
            scheduler,
            field: "step_size",
            value: "0".into(),
            allowed: String::new(),
        };
        assert_eq!(schedule_line(text, &err("step")), Some(3));
        assert_eq!(schedule_line(text, &err("multi_step")), Some(8));
        let other = burn_lr::schedule::ScheduleError::InvalidParam {
            scheduler: "step",
            field: "gamma",
            value: "2".into(),
            allowed: String::new(),
        };
        assert_eq!(schedule_line(text, &other), Some(1), "the [scheduler] header");
    }

    #[test]
    fn a_file_cut_short_says_so() {
        let err = parse_toml::<TrainConfig>("[training]\nepochs = ").unwrap_err();
        assert_eq!(
            err,
            "line 2, column 10: a value is missing here (is the file cut short?)"
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = TrainConfig::from_toml(&MIN.replace("epochs = 2", "epochs = 0")).unwrap_err();
        assert!(err.to_string().contains("training.epochs"), "{err}");
        let err = TrainConfig::from_toml(&MIN.replace("lr = 0.1", "lr = nan")).unwrap_err();
        assert!(err.to_string().contains("optimizer.lr"), "{err}");
    }
}
