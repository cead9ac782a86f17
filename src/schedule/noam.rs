//! Noam: Burn's `NoamLrScheduler` (Vaswani et al. 2017, "Attention Is All You Need", eq. 3).

use super::base::{schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{not_a_factor, positive, ScheduleError};
use super::kind::closed_form_kind;
use super::run::RunInfo;
use burn::optim::LearningRate;

schedule_config! {
    /// Configuration of [`NoamLrScheduler`], Burn's `NoamLrSchedulerConfig` with the same
    /// parameter names and defaults.
    ///
    /// The k-th `step()` (from 0; `n = k + 1`, in `unit`s) returns
    /// `factor * model_size^-0.5 * min(n^-0.5, n * warmup_steps^-1.5)`: a linear rise for
    /// `warmup_steps` steps, then an inverse-square-root decay. The optimizer's `lr` is not used
    /// (`factor` sets the scale), as in Burn.
    ///
    /// TOML: `[scheduler] type = "noam"`, `factor = 1.0`, `warmup_steps = 4000`, `model_size = 512`.
    ///
    /// `lr(n) = factor * model_size^-0.5 * min(n^-0.5, n * warmup_steps^-1.5), n = t + 1`; `n` counts optimizer updates from 1; the optimizer's `lr` is not used.
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::NoamLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: Burn's NoamLrSchedulerConfig::new(1.0).with_warmup_steps(4).with_model_size(1) (the Transformer paper's schedule)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = NoamLrSchedulerConfig::new(1.0).with_warmup_steps(4).with_model_size(1).init()?;
    /// let lrs: Vec<f64> = (0..16).map(|_| s.step()).collect();
    /// assert!(close(lrs[0], 0.125) && close(lrs[3], 0.5) && close(lrs[15], 0.25));
    /// # Ok(())
    /// # }
    /// ```
    pub struct NoamLrSchedulerConfig = "noam", new(factor: f64) {
        /// Overall scale of the learning rate; finite, > 0.
        pub factor: f64,
        /// Steps of the warmup (default 4000); >= 1.
        pub warmup_steps: u64 = 4000 => with_warmup_steps,
        /// The model's embedding size (default 512); >= 1.
        pub model_size: u64 = 512 => with_model_size,
        /// What one step counts (`iteration` by default, as in Burn).
        pub unit: Unit = Unit::Iteration => with_unit,
    }
}

impl NoamLrSchedulerConfig {
    /// Validates into the closed form.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `warmup_steps = 0`, `model_size = 0` (as Burn) or a
    /// non-positive `factor`.
    pub(crate) fn build(&self) -> Result<Noam, ScheduleError> {
        const S: &str = NoamLrSchedulerConfig::NAME;
        positive(S, "factor", self.factor)?;
        if self.warmup_steps == 0 {
            return Err(ScheduleError::invalid(S, "warmup_steps", 0, "must be an integer >= 1"));
        }
        if self.model_size == 0 {
            return Err(ScheduleError::invalid(S, "model_size", 0, "must be an integer >= 1"));
        }
        Ok(Noam {
            factor: self.factor,
            warmup_steps: self.warmup_steps as f64,
            model_size: self.model_size as f64,
        })
    }

    /// A scheduler whose every `step()` is one Burn `NoamLrScheduler::step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `warmup_steps = 0`, `model_size = 0` (as Burn) or a
    /// non-positive `factor`.
    pub fn init(&self) -> Result<NoamLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build()?))
    }
}

/// Noam in closed form (Burn's `NoamLrScheduler::step`, same float operations).
#[derive(Debug, Clone, PartialEq)]
pub struct Noam {
    factor: f64,
    warmup_steps: f64,
    model_size: f64,
}

impl ClosedForm for Noam {
    const KIND: &'static str = NoamLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        let n = t as f64 + 1.0;
        let rise = n * self.warmup_steps.powf(-1.5);
        self.factor * self.model_size.powf(-0.5) * f64::min(n.powf(-0.5), rise)
    }
}

closed_form_kind! {
    NoamLrSchedulerConfig => NoamLrScheduler(Noam),
    build(config, run) config.build(),

    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        not_a_factor(Self::NAME)
    }

    fn uses_base_lr(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // factor 2, model 4, warmup 4: 2 * 0.5 * min(n^-0.5, n / 8).
        let s = NoamLrSchedulerConfig::new(2.0)
            .with_model_size(4)
            .with_warmup_steps(4)
            .build()
            .unwrap();
        assert_eq!(s.lr_at(0), 0.125);
        assert_eq!(s.lr_at(3), 0.5);
        assert_eq!(s.lr_at(15), 0.25);
        assert!(NoamLrSchedulerConfig::new(1.0).with_warmup_steps(0).build().is_err());
        assert!(NoamLrSchedulerConfig::new(1.0).with_model_size(0).build().is_err());
    }
}
