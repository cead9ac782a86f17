//! `OneCycleLR` (Smith & Topin 2017, "Super-Convergence").

use super::base::{leaf, schedule_config, ClosedForm, ClosedFormScheduler, Schedule, Unit};
use super::error::{finite, momentum_bounds, not_a_factor, positive, ScheduleError};
use super::kind::ScheduleKind;
use super::run::{length_warning, run_length, run_per, run_too_short, RunInfo};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// How OneCycle anneals between two values (PyTorch's `anneal_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnealStrategy {
    /// Cosine annealing (PyTorch `"cos"`, the default).
    Cos,
    /// Linear annealing (PyTorch `"linear"`).
    Linear,
}

impl AnnealStrategy {
    /// PyTorch's `_annealing_cos` / `_annealing_linear`, same operation order, exactly `start`
    /// at `pct = 0` and `end` at `pct = 1`.
    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            _ if pct <= 0.0 => start,
            // The exact final value (the linear form can miss it by a rounding residue).
            _ if pct >= 1.0 => end,
            AnnealStrategy::Cos => {
                let cos_out = (PI * pct).cos() + 1.0;
                end + (start - end) / 2.0 * cos_out
            }
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

schedule_config! {
    /// Configuration of [`OneCycleLrScheduler`], PyTorch's
    /// [`torch.optim.lr_scheduler.OneCycleLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html),
    /// with the same parameter names and defaults.
    ///
    /// The cycle length is `total_steps`, or `epochs * steps_per_epoch` (in the schedule's `unit`,
    /// optimizer updates by default), used as given: a run longer than the cycle holds the final LR
    /// and momentum, a shorter one simply stops early in the cycle (a training run warns once about
    /// either). Leave all three out and a training run fills in its own length (epochs × optimizer
    /// updates per epoch, after gradient accumulation), so the cycle runs exactly once. The base LR
    /// of the optimizer is ignored, as in PyTorch: the cycle starts at `max_lr / div_factor`.
    ///
    /// TOML: `[scheduler] type = "one_cycle"`, `max_lr = 0.1`, `pct_start = 0.3`, ...
    ///
    /// `lr rises from max_lr / div_factor to max_lr over pct_start * total_steps updates (cosine or linear), then anneals to max_lr / div_factor / final_div_factor`; steps in `unit`s (optimizer updates by default); momentum cycles the other way between `max_momentum` and `base_momentum`.
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::OneCycleLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: OneCycleLR(SGD(params, lr=0.1, momentum=0.9), max_lr=0.1, total_steps=100)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let s = OneCycleLrSchedulerConfig::new(0.1).with_total_steps(100).init()?;
    /// assert!(close(s.lr_at_update(0), 0.004)); // max_lr / div_factor
    /// assert!(close(s.lr_at_update(29), 0.1)); // max_lr at pct_start * total_steps - 1
    /// assert!(close(s.lr_at_update(99), 4e-7)); // max_lr / div_factor / final_div_factor
    /// assert_eq!(s.momentum_at_update(0), Some(0.95)); // max_momentum while the LR is low
    /// let mut s = s;
    /// assert!(close(s.step(), 0.004));
    /// # Ok(())
    /// # }
    /// ```
    pub struct OneCycleLrSchedulerConfig = "one_cycle", new(max_lr: f64) {
        /// Peak learning rate; finite, > 0 (values above 1 are allowed).
        pub max_lr: f64,
        /// Length of the cycle in `unit`s; `None`: `epochs * steps_per_epoch`, or the run's length.
        pub total_steps: Option<u64> = None,
        /// Number of epochs (with `steps_per_epoch`), PyTorch's alternative to `total_steps`.
        pub epochs: Option<u64> = None,
        /// Steps per epoch (with `epochs`).
        pub steps_per_epoch: Option<u64> = None => with_steps_per_epoch,
        /// Fraction of the cycle spent increasing the LR, in (0, 1) (default 0.3).
        pub pct_start: f64 = 0.3 => with_pct_start,
        /// `cos` (default) or `linear`.
        pub anneal_strategy: AnnealStrategy = AnnealStrategy::Cos => with_anneal_strategy,
        /// Whether momentum is cycled inversely to the LR (default true).
        pub cycle_momentum: bool = true => with_cycle_momentum,
        /// Lower momentum bound (default 0.85).
        pub base_momentum: f64 = 0.85 => with_base_momentum,
        /// Upper momentum bound (default 0.95).
        pub max_momentum: f64 = 0.95 => with_max_momentum,
        /// `initial_lr = max_lr / div_factor` (default 25).
        pub div_factor: f64 = 25.0 => with_div_factor,
        /// `min_lr = initial_lr / final_div_factor` (default 1e4).
        pub final_div_factor: f64 = 1e4 => with_final_div_factor,
        /// Use the three-phase schedule (fast.ai's original) instead of two phases (default false).
        pub three_phase: bool = false => with_three_phase,
        /// What one step counts (`iteration` by default, as in PyTorch).
        pub unit: Unit = Unit::Iteration => with_unit,
    }
}

struct Phase {
    end_step: f64,
    start_lr: f64,
    end_lr: f64,
    start_momentum: f64,
    end_momentum: f64,
}

impl OneCycleLrSchedulerConfig {
    /// Sets `total_steps`.
    pub fn with_total_steps(mut self, total_steps: u64) -> Self {
        self.total_steps = Some(total_steps);
        self
    }

    /// Sets `epochs` and `steps_per_epoch`.
    pub fn with_epochs(mut self, epochs: u64, steps_per_epoch: u64) -> Self {
        self.epochs = Some(epochs);
        self.steps_per_epoch = Some(steps_per_epoch);
        self
    }

    /// Sets `div_factor` and `final_div_factor`.
    pub fn with_div_factors(mut self, div_factor: f64, final_div_factor: f64) -> Self {
        self.div_factor = div_factor;
        self.final_div_factor = final_div_factor;
        self
    }

    /// Sets `cycle_momentum`, `base_momentum` and `max_momentum`.
    pub fn with_momentum(mut self, cycle: bool, base_momentum: f64, max_momentum: f64) -> Self {
        self.cycle_momentum = cycle;
        self.base_momentum = base_momentum;
        self.max_momentum = max_momentum;
        self
    }

    /// The cycle length this config declares, if any (`total_steps`, else
    /// `epochs * steps_per_epoch`).
    ///
    /// # Errors
    /// When only one of `epochs` / `steps_per_epoch` is given, or either is 0.
    pub fn declared_total_steps(&self) -> Result<Option<u64>, ScheduleError> {
        const S: &str = OneCycleLrSchedulerConfig::NAME;
        if let Some(total) = self.total_steps {
            return Ok(Some(total));
        }
        match (self.epochs, self.steps_per_epoch) {
            (None, None) => Ok(None),
            (Some(e), Some(s)) => {
                if e == 0 {
                    return Err(ScheduleError::invalid(S, "epochs", e, "must be an integer >= 1"));
                }
                if s == 0 {
                    return Err(ScheduleError::invalid(
                        S,
                        "steps_per_epoch",
                        s,
                        "must be an integer >= 1",
                    ));
                }
                e.checked_mul(s)
                    .map(Some)
                    .ok_or_else(|| ScheduleError::invalid(S, "epochs", e, "epochs * steps_per_epoch overflows u64"))
            }
            (Some(e), None) => Err(ScheduleError::invalid(
                S,
                "steps_per_epoch",
                "missing",
                format!("required with epochs = {e} (or give total_steps)"),
            )),
            (None, Some(s)) => Err(ScheduleError::invalid(
                S,
                "epochs",
                "missing",
                format!("required with steps_per_epoch = {s} (or give total_steps)"),
            )),
        }
    }

    /// Checks every parameter but the length: the errors a user must see first, whatever the
    /// length of the run.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] naming the field for a non-positive or non-finite
    /// `max_lr`, `div_factor`, `final_div_factor`; `pct_start` outside (0, 1); momenta outside
    /// [0, 1) or `base_momentum > max_momentum` (with `cycle_momentum`).
    pub(crate) fn validate_params(&self) -> Result<(), ScheduleError> {
        const S: &str = OneCycleLrSchedulerConfig::NAME;
        positive(S, "max_lr", self.max_lr)?;
        positive(S, "div_factor", self.div_factor)?;
        positive(S, "final_div_factor", self.final_div_factor)?;
        finite(S, "pct_start", self.pct_start)?;
        if !(self.pct_start > 0.0 && self.pct_start < 1.0) {
            return Err(ScheduleError::invalid(
                S,
                "pct_start",
                self.pct_start,
                "must be in the open interval (0, 1)",
            ));
        }
        if self.cycle_momentum {
            momentum_bounds(S, self.base_momentum, self.max_momentum)?;
            if self.base_momentum > self.max_momentum {
                return Err(ScheduleError::invalid(
                    S,
                    "base_momentum",
                    self.base_momentum,
                    format!("must be <= max_momentum = {}", self.max_momentum),
                ));
            }
        }
        Ok(())
    }

    /// Validates the parameters into the closed-form schedule over `total_steps` steps (in the
    /// schedule's unit). Parameter errors come first, then the length.
    ///
    /// A phase shorter than one step is allowed wherever PyTorch computes finite values (e.g.
    /// `total_steps = 6, pct_start = 0.25`: a 0.5-step warmup, the same values as PyTorch).
    ///
    /// # Errors
    /// As [`Self::validate_params`]; `total_steps = 0`; a phase of length exactly zero
    /// (`pct_start * total_steps = 1`, or a three-phase cycle whose last phase is empty), where
    /// PyTorch divides by zero.
    pub(crate) fn build_with_total(&self, total_steps: u64) -> Result<OneCycleLr, ScheduleError> {
        const S: &str = OneCycleLrSchedulerConfig::NAME;
        self.validate_params()?;
        if total_steps == 0 {
            return Err(ScheduleError::invalid(S, "total_steps", 0, "must be an integer >= 1"));
        }
        let initial_lr = self.max_lr / self.div_factor;
        let min_lr = initial_lr / self.final_div_factor;
        if !initial_lr.is_finite() {
            return Err(ScheduleError::invalid(
                S,
                "div_factor",
                self.div_factor,
                format!("max_lr / div_factor = {initial_lr} must be finite"),
            ));
        }
        let phases = self.phases(total_steps, initial_lr, min_lr);
        let mut start = 0.0;
        for (i, phase) in phases.iter().enumerate() {
            if phase.end_step == start {
                return Err(ScheduleError::invalid(
                    S,
                    "pct_start",
                    self.pct_start,
                    format!(
                        "with total_steps = {total_steps} phase {} of the cycle has length exactly 0 (PyTorch divides \
                         by zero there); change pct_start or total_steps",
                        i + 1
                    ),
                ));
            }
            start = phase.end_step;
        }
        Ok(OneCycleLr {
            total_steps,
            anneal: self.anneal_strategy,
            cycle_momentum: self.cycle_momentum,
            phases: phases
                .into_iter()
                .map(|p| [p.end_step, p.start_lr, p.end_lr, p.start_momentum, p.end_momentum])
                .collect(),
        })
    }

    /// PyTorch's phase table, same float expressions.
    fn phases(&self, total_steps: u64, initial_lr: f64, min_lr: f64) -> Vec<Phase> {
        let total = total_steps as f64;
        let (bm, mm) = (self.base_momentum, self.max_momentum);
        if self.three_phase {
            vec![
                Phase {
                    end_step: self.pct_start * total - 1.0,
                    start_lr: initial_lr,
                    end_lr: self.max_lr,
                    start_momentum: mm,
                    end_momentum: bm,
                },
                Phase {
                    end_step: 2.0 * self.pct_start * total - 2.0,
                    start_lr: self.max_lr,
                    end_lr: initial_lr,
                    start_momentum: bm,
                    end_momentum: mm,
                },
                Phase {
                    end_step: total - 1.0,
                    start_lr: initial_lr,
                    end_lr: min_lr,
                    start_momentum: mm,
                    end_momentum: mm,
                },
            ]
        } else {
            vec![
                Phase {
                    end_step: self.pct_start * total - 1.0,
                    start_lr: initial_lr,
                    end_lr: self.max_lr,
                    start_momentum: mm,
                    end_momentum: bm,
                },
                Phase {
                    end_step: total - 1.0,
                    start_lr: self.max_lr,
                    end_lr: min_lr,
                    start_momentum: bm,
                    end_momentum: mm,
                },
            ]
        }
    }

    /// Validates into a closed-form schedule using the declared length.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] naming the field: `max_lr`, `pct_start` outside (0, 1),
    /// divisors, momenta; no length declared (`total_steps`, or `epochs` and
    /// `steps_per_epoch`); a phase of length exactly zero (`pct_start * total_steps = 1`, or an
    /// empty third phase), where PyTorch divides by zero.
    pub(crate) fn build(&self) -> Result<OneCycleLr, ScheduleError> {
        self.validate_params()?;
        let total = self.declared_total_steps()?.ok_or_else(|| {
            ScheduleError::invalid(
                Self::NAME,
                "total_steps",
                "missing",
                "give total_steps, or epochs and steps_per_epoch (a training run fills it in)",
            )
        })?;
        self.build_with_total(total)
    }

    /// Builds a scheduler whose every `step()` call is one optimizer update.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] naming the field: `max_lr`, `pct_start` outside (0, 1),
    /// divisors, momenta; no length declared (`total_steps`, or `epochs` and
    /// `steps_per_epoch`); a phase of length exactly zero (`pct_start * total_steps = 1`, or an
    /// empty third phase), where PyTorch divides by zero.
    pub fn init(&self) -> Result<OneCycleLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build()?))
    }
}

/// OneCycleLR in closed form (PyTorch's `OneCycleLR.get_lr`, same float operations).
///
/// For `t` in `0..total_steps`, `t` falls in the phase `[start, end]` and
/// `lr = anneal(start_lr, end_lr, (t - start) / (end - start))`. From `t = total_steps` on the
/// LR and momentum hold their final values (PyTorch raises there, or, at exactly
/// `total_steps`, bounces back up; we hold the final LR).
#[derive(Debug, Clone, PartialEq)]
pub struct OneCycleLr {
    total_steps: u64,
    anneal: AnnealStrategy,
    cycle_momentum: bool,
    /// `[end_step, start_lr, end_lr, start_momentum, end_momentum]` per phase.
    phases: Vec<[f64; 5]>,
}

impl OneCycleLr {
    /// Number of steps in the cycle.
    pub fn total_steps(&self) -> u64 {
        self.total_steps
    }

    fn eval(&self, t: u64) -> (f64, f64) {
        let step = t.min(self.total_steps - 1) as f64;
        let mut start = 0.0;
        let last = self.phases.len() - 1;
        for (i, [end, lr0, lr1, m0, m1]) in self.phases.iter().copied().enumerate() {
            if step <= end || i == last {
                let pct = (step - start) / (end - start);
                return (self.anneal.anneal(lr0, lr1, pct), self.anneal.anneal(m0, m1, pct));
            }
            start = end;
        }
        unreachable!("the last phase always matches")
    }
}

impl ClosedForm for OneCycleLr {
    const KIND: &'static str = OneCycleLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        self.eval(t).0
    }

    fn momentum_at(&self, t: u64) -> Option<f64> {
        self.cycle_momentum.then(|| self.eval(t).1)
    }

    fn fingerprint(&self) -> String {
        format!(
            "total_steps={} anneal={:?} cycle_momentum={} phases={:?}",
            self.total_steps, self.anneal, self.cycle_momentum, self.phases
        )
    }
}

/// [`OneCycleLrSchedulerConfig`]'s scheduler: a Burn `LrScheduler`; its `momentum()` gives the
/// momentum of the current update when `cycle_momentum` is on.
pub type OneCycleLrScheduler = ClosedFormScheduler<OneCycleLr>;

impl ScheduleKind for OneCycleLrSchedulerConfig {
    fn kind(&self) -> &'static str {
        Self::NAME
    }

    fn unit(&self) -> Unit {
        self.unit
    }

    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        not_a_factor(Self::NAME)
    }

    fn cycles_momentum(&self) -> bool {
        self.cycle_momentum
    }

    fn uses_base_lr(&self) -> bool {
        false
    }

    fn length_warnings(&self, run: &RunInfo, out: &mut Vec<String>) {
        if let Ok(Some(declared)) = self.declared_total_steps() {
            out.extend(length_warning(Self::NAME, "total_steps", declared, self.unit, run));
        }
    }

    fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        self.validate_params()?;
        let declared = self.declared_total_steps()?;
        let total = declared.unwrap_or_else(|| run_length(run, self.unit));
        let cycle = self.build_with_total(total).map_err(|e| match (declared, e) {
            // The user set no length: the run is what is too short.
            (None, ScheduleError::InvalidParam { field: "pct_start", .. }) => ScheduleError::invalid(
                Self::NAME,
                "pct_start",
                self.pct_start,
                run_too_short(
                    total,
                    "pct_start (a phase of the cycle would have length exactly 0, where PyTorch divides by zero)",
                    "change pct_start",
                ),
            ),
            (_, e) => e,
        })?;
        Ok(leaf(cycle, run_per(run, self.unit)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let s = OneCycleLrSchedulerConfig::new(0.1)
            .with_total_steps(10)
            .build()
            .unwrap();
        // Phase 1 ends at 0.3 * 10 - 1 = 2: max_lr exactly there, min_lr at the last step.
        assert_eq!(s.lr_at(0), 0.004);
        assert_eq!(s.lr_at(2), 0.1);
        assert_eq!(s.momentum_at(2), Some(0.85));
        assert_eq!(s.lr_at(9), 0.1 / 25.0 / 1e4);
        assert_eq!(s.lr_at(1000), s.lr_at(9));
    }
}
