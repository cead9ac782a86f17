//! The checks that span tables: `[optimizer]`'s schedule-free keys and `[averaging]` against
//! the rest of the run.

use burn_lr::averaging::AveragingKind;

use super::error::{bad, ConfigError};
use super::schema::{OptimizerConfig, OptimizerName, TrainConfig};

impl OptimizerConfig {
    /// The schedule-free keys: only with a schedule-free optimizer, in the reference's ranges.
    pub(super) fn validate_schedule_free(&self) -> Result<(), ConfigError> {
        let keys = [
            ("optimizer.warmup_steps", self.warmup_steps.map(|v| v.to_string())),
            ("optimizer.r", self.r.map(|v| v.to_string())),
            ("optimizer.weight_lr_power", self.weight_lr_power.map(|v| v.to_string())),
        ];
        if !self.name.is_schedule_free() {
            if let Some((field, Some(value))) = keys.into_iter().find(|(_, v)| v.is_some()) {
                return bad(
                    field,
                    value,
                    "belongs to a schedule-free optimizer (name = \"sgd_schedule_free\" or \"adamw_schedule_free\")",
                );
            }
            return Ok(());
        }
        if self.nesterov {
            return bad(
                "optimizer.nesterov",
                "true".into(),
                "a schedule-free optimizer has no Nesterov option (its y/z interpolation takes its place)",
            );
        }
        let (field, beta) = match self.name {
            OptimizerName::SgdScheduleFree => ("optimizer.momentum", self.momentum),
            _ => ("optimizer.beta1", self.beta1),
        };
        if beta <= 0.0 {
            return bad(
                field,
                beta.to_string(),
                "must be in (0, 1) for a schedule-free optimizer (the reference's interpolation y = (1 - b) z + b x)",
            );
        }
        for (field, v) in [
            ("optimizer.r", self.r),
            ("optimizer.weight_lr_power", self.weight_lr_power),
        ] {
            if let Some(v) = v.filter(|v| !(v.is_finite() && *v >= 0.0)) {
                return bad(field, v.to_string(), "must be a finite number >= 0");
            }
        }
        Ok(())
    }
}

impl TrainConfig {
    /// `[averaging]` and the schedule-free optimizers against the rest of the run: one of the
    /// two, on one device; schedule-free without parameter groups or a cycled momentum.
    pub(super) fn validate_weights(&self) -> Result<(), ConfigError> {
        let schedule_free = self.optimizer.name.is_schedule_free();
        if let Some(averaging) = &self.averaging {
            if schedule_free {
                return bad(
                    "averaging.kind",
                    format!("\"{}\" (with a schedule-free optimizer)", kind_name(averaging.kind)),
                    "a schedule-free optimizer already validates and keeps an average (x): use [averaging] or a schedule-free optimizer, not both",
                );
            }
            averaging.validate(self.training.epochs, &self.scheduler)?;
        }
        let devices = self.training.devices.len();
        if (schedule_free || self.averaging.is_some()) && devices > 1 {
            return bad(
                "training.devices",
                devices.to_string(),
                "a weight average ([averaging]) or a schedule-free optimizer trains on one device",
            );
        }
        if !schedule_free {
            return Ok(());
        }
        if let Some(g) = self.param_groups.first() {
            return bad(
                "param_groups.params",
                format!("\"{}\"", g.params),
                "a schedule-free optimizer has one learning rate for the whole model: remove [[param_groups]]",
            );
        }
        if self.scheduler.cycles_momentum() {
            return bad(
                "scheduler.cycle_momentum",
                "true".into(),
                "a schedule-free optimizer keeps its momentum / beta1 fixed: set cycle_momentum = false",
            );
        }
        Ok(())
    }
}

fn kind_name(kind: AveragingKind) -> &'static str {
    match kind {
        AveragingKind::Swa => "swa",
        AveragingKind::Ema => "ema",
    }
}
