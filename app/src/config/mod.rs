//! The TOML training configuration (`configs/*.toml`). Unknown keys are errors.

mod averaging;
mod checks;
mod error;
mod locate;
mod part;
mod schema;

pub use averaging::{AveragingConfig, Every};
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

    #[test]
    fn averaging_and_schedule_free_settings_are_checked_whole() {
        let with = |extra: &str| TrainConfig::from_toml(&format!("{MIN}{extra}\n"));
        let ok = with("[averaging]\nkind = \"swa\"\nstart_epoch = 2").unwrap();
        assert_eq!(ok.averaging.as_ref().unwrap().update_bn_batches(), 16);
        for (extra, field, says) in [
            ("[averaging]\nkind = \"swa\"\ndecay = 0.9", "averaging.decay", "EMA's"),
            ("[averaging]\nkind = \"ema\"\ndecay = 1.5", "averaging.decay", "[0, 1]"),
            (
                "[averaging]\nkind = \"ema\"\nstart_epoch = 3",
                "averaging.start_epoch",
                "last epoch",
            ),
            (
                "[averaging]\nkind = \"ema\"\nstart_epoch = 0",
                "averaging.start_epoch",
                "from 1",
            ),
            (
                "[averaging]\nkind = \"ema\"\nstart_update = 0",
                "averaging.start_update",
                "from 1",
            ),
            (
                "[averaging]\nkind = \"ema\"\nstart_epoch = 1\nstart_update = 4",
                "averaging.start_update",
                "not both",
            ),
            (
                "[averaging]\nkind = \"swa\"\n[averaging.ema_warmup]",
                "averaging.ema_warmup",
                "EMA's",
            ),
            (
                "[averaging]\nkind = \"ema\"\n[averaging.ema_warmup]\nwarmup_power = 0",
                "warmup_power",
                "> 0",
            ),
        ] {
            let err = with(extra).unwrap_err().to_string();
            assert!(
                err.contains(field) && err.contains(says) && !err.contains('\n'),
                "{extra}: {err}"
            );
        }
        for (extra, says) in [
            ("[averaging]\nkind = \"ema\"\nevery = 0", "every = 0: must be \"epoch\""),
            ("[averaging]\nkind = \"ema\"\nevery = \"epochs\"", "every = \"epochs\""),
            ("[averaging]\nkind = \"sma\"", "unknown variant `sma`"),
            ("[averaging]\nkind = \"ema\"\ndecai = 0.9", "unknown field `decai`"),
        ] {
            let err = with(extra).unwrap_err().to_string();
            assert!(err.contains(says) && err.contains("[averaging]"), "{extra}: {err}");
        }
    }

    #[test]
    fn averaging_starts_where_pytorchs_swa_loop_does() {
        let swa = MIN
            .replace(
                "step_size = 30",
                "step_size = 30\n[scheduler.swa]\nswa_start = 3\nswa_lr = 0.05",
            )
            .replace("epochs = 2", "epochs = 8");
        let cfg = TrainConfig::from_toml(&format!("{swa}[averaging]\nkind = \"swa\"\n")).unwrap();
        let a = cfg.averaging.as_ref().unwrap();
        // PyTorch: averaged after the epochs > swa_start counted from 0: epoch 5 from 1.
        assert_eq!(a.start_epoch_for(&cfg.scheduler), 5);
        let lib = a.for_run(10, &cfg.scheduler).averaging;
        assert_eq!((lib.start_update, lib.every), (50, 10));
        let late = swa.replace("epochs = 8", "epochs = 4");
        let err = TrainConfig::from_toml(&format!("{late}[averaging]\nkind = \"swa\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("averaging.start_epoch") && err.contains("swa_start"),
            "{err}"
        );
        let ema = TrainConfig::from_toml(&format!("{MIN}[averaging]\nkind = \"ema\"\nstart_epoch = 2\n")).unwrap();
        let lib = ema.averaging.as_ref().unwrap().for_run(10, &ema.scheduler).averaging;
        assert_eq!((lib.start_update, lib.every, lib.decay), (11, 1, 0.999));
        // "epoch" spacing is decided by the key, not by a number that equals the epoch's length;
        // a start_update with it means the end of that update's epoch.
        let ten = TrainConfig::from_toml(&format!(
            "{MIN}[averaging]\nkind = \"ema\"\nstart_epoch = 2\nevery = 10\n"
        ))
        .unwrap();
        let lib = ten.averaging.as_ref().unwrap().for_run(10, &ten.scheduler).averaging;
        assert_eq!((lib.start_update, lib.every), (11, 10));
        let swa = TrainConfig::from_toml(&format!("{MIN}[averaging]\nkind = \"swa\"\nstart_update = 15\n")).unwrap();
        let lib = swa.averaging.as_ref().unwrap().for_run(10, &swa.scheduler).averaging;
        assert_eq!((lib.start_update, lib.every), (20, 10));
        let every = TrainConfig::from_toml(&format!("{MIN}[averaging]\nkind = \"ema\"\nevery = \"epoch\"\n")).unwrap();
        let lib = every
            .averaging
            .as_ref()
            .unwrap()
            .for_run(10, &every.scheduler)
            .averaging;
        assert_eq!((lib.start_update, lib.every), (10, 10));
    }

    #[test]
    fn schedule_free_optimizers_take_their_reference_names_and_keys_only() {
        let sf = |name: &str, extra: &str| {
            TrainConfig::from_toml(&MIN.replace("name = \"sgd\"", &format!("name = \"{name}\"\n{extra}")))
        };
        for (name, is) in [
            ("sgd_schedule_free", OptimizerName::SgdScheduleFree),
            ("SGDScheduleFree", OptimizerName::SgdScheduleFree),
            ("adamw_schedule_free", OptimizerName::AdamwScheduleFree),
            ("AdamWScheduleFree", OptimizerName::AdamwScheduleFree),
        ] {
            assert_eq!(
                sf(name, "warmup_steps = 5\nr = 0.5\nweight_lr_power = 1")
                    .unwrap()
                    .optimizer
                    .name,
                is
            );
        }
        for (name, extra, field, says) in [
            ("sgd", "warmup_steps = 5", "optimizer.warmup_steps", "schedule-free"),
            ("adamw", "r = 1.0", "optimizer.r", "schedule-free"),
            ("sgd_schedule_free", "nesterov = true", "optimizer.nesterov", "Nesterov"),
            ("sgd_schedule_free", "momentum = 0.0", "optimizer.momentum", "(0, 1)"),
            ("adamw_schedule_free", "beta1 = 0.0", "optimizer.beta1", "(0, 1)"),
            (
                "adamw_schedule_free",
                "weight_lr_power = -1",
                "optimizer.weight_lr_power",
                ">= 0",
            ),
        ] {
            let err = sf(name, extra).unwrap_err().to_string();
            assert!(
                err.contains(field) && err.contains(says) && !err.contains('\n'),
                "{name} {extra}: {err}"
            );
        }
        let averaged = MIN.replace("name = \"sgd\"", "name = \"sgd_schedule_free\"") + "[averaging]\nkind = \"ema\"\n";
        let err = TrainConfig::from_toml(&averaged).unwrap_err().to_string();
        assert!(err.contains("averaging.kind") && err.contains("not both"), "{err}");
        let groups = format!(
            "{}[[param_groups]]\nparams = \"fc\"\n",
            MIN.replace("name = \"sgd\"", "name = \"sgd_schedule_free\"")
        );
        let err = TrainConfig::from_toml(&groups).unwrap_err().to_string();
        assert!(
            err.contains("param_groups") && err.contains("one learning rate"),
            "{err}"
        );
        let cycled = MIN
            .replace("name = \"sgd\"", "name = \"adamw_schedule_free\"")
            .replace("type = \"step\"\nstep_size = 30", "type = \"one_cycle\"\nmax_lr = 0.1");
        let err = TrainConfig::from_toml(&cycled).unwrap_err().to_string();
        assert!(err.contains("cycle_momentum = false"), "{err}");
        let two = MIN.replace("batch_size = 8", "batch_size = 8\ndevices = 2");
        let err = TrainConfig::from_toml(&format!("{two}[averaging]\nkind = \"ema\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("training.devices") && err.contains("one device"), "{err}");
    }
}
