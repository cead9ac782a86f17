//! `CyclicLR` (Smith 2017, "Cyclical Learning Rates for Training Neural Networks").

use super::base::{land, leaf, schedule_config, ClosedForm, ClosedFormScheduler, Schedule, Unit};
use super::error::{momentum_bounds, not_a_factor, positive, ScheduleError};
use super::kind::ScheduleKind;
use super::run::{run_per, RunInfo};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};

/// The cycle policy (PyTorch's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CyclicMode {
    /// Triangle of constant amplitude (default).
    Triangular,
    /// Amplitude halves every cycle.
    Triangular2,
    /// Amplitude scaled by `gamma^iteration`.
    ExpRange,
}

/// What the amplitude scale is a function of (PyTorch's `scale_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMode {
    /// The cycle number (used by `triangular` and `triangular2`).
    Cycle,
    /// The iteration count since the start (used by `exp_range`).
    Iterations,
}

impl CyclicMode {
    fn scale_mode(self) -> ScaleMode {
        match self {
            CyclicMode::Triangular | CyclicMode::Triangular2 => ScaleMode::Cycle,
            CyclicMode::ExpRange => ScaleMode::Iterations,
        }
    }
}

schedule_config! {
    /// Configuration of [`CyclicLrScheduler`], PyTorch's
    /// [`torch.optim.lr_scheduler.CyclicLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.CyclicLR.html).
    ///
    /// As in PyTorch the optimizer's base LR is ignored: the cycle runs between `base_lr` and
    /// `max_lr`. PyTorch derives `scale_mode` from `mode` unless a custom `scale_fn` is given; here
    /// `scale_mode` may be left out, and a value that contradicts `mode` is an error.
    ///
    /// TOML: `[scheduler] type = "cyclic"`, `base_lr = 0.001`, `max_lr = 0.006`,
    /// `step_size_up = 2000`, `mode = "triangular"`.
    ///
    /// `lr(t) = base_lr + (max_lr - base_lr) * triangle(t) * scale(cycle)`; `t` and the step sizes in `unit`s (optimizer updates by default); `triangle` rises over `step_size_up` and falls over `step_size_down`, `scale` is 1 (`triangular`), halves every cycle (`triangular2`) or `gamma^t` (`exp_range`).
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::CyclicLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: CyclicLR(SGD(params, lr=0.001, momentum=0.9), base_lr=0.001, max_lr=0.006, step_size_up=2)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = CyclicLrSchedulerConfig::new(0.001, 0.006).with_step_sizes(2, None).init()?;
    /// let lrs: Vec<f64> = (0..5).map(|_| s.step()).collect();
    /// assert!(lrs.iter().zip([0.001, 0.0035, 0.006, 0.0035, 0.001]).all(|(a, b)| close(*a, b)));
    /// # Ok(())
    /// # }
    /// ```
    pub struct CyclicLrSchedulerConfig = "cyclic", new(base_lr: f64, max_lr: f64) {
        /// Lower LR bound (the cycle's start); finite, > 0.
        pub base_lr: f64,
        /// Upper LR bound; finite, > 0.
        pub max_lr: f64,
        /// Steps in the increasing half of a cycle (default 2000); >= 1.
        pub step_size_up: u64 = 2000 => with_step_size_up,
        /// Steps in the decreasing half (default: `step_size_up`); >= 1.
        pub step_size_down: Option<u64> = None => with_step_size_down,
        /// `triangular` (default), `triangular2` or `exp_range`.
        pub mode: CyclicMode = CyclicMode::Triangular,
        /// `exp_range` decay base (default 1.0); in (0, 1].
        pub gamma: f64 = 1.0 => with_gamma,
        /// Must match `mode` when given (`cycle` for the triangular modes, `iterations` for
        /// `exp_range`).
        pub scale_mode: Option<ScaleMode> = None => with_scale_mode,
        /// Cycle momentum inversely to the LR (default true).
        pub cycle_momentum: bool = true => with_cycle_momentum,
        /// Lower momentum bound (default 0.8).
        pub base_momentum: f64 = 0.8 => with_base_momentum,
        /// Upper momentum bound (default 0.9).
        pub max_momentum: f64 = 0.9 => with_max_momentum,
        /// What one step counts (`iteration` by default, as in PyTorch).
        pub unit: Unit = Unit::Iteration => with_unit,
    }
}

impl CyclicLrSchedulerConfig {
    /// Sets `step_size_up` and `step_size_down`.
    pub fn with_step_sizes(mut self, up: u64, down: Option<u64>) -> Self {
        self.step_size_up = up;
        self.step_size_down = down;
        self
    }

    /// Sets `mode` and `gamma`.
    pub fn with_mode(mut self, mode: CyclicMode, gamma: f64) -> Self {
        self.mode = mode;
        self.gamma = gamma;
        self
    }

    /// Sets `cycle_momentum`, `base_momentum` and `max_momentum`.
    pub fn with_momentum(mut self, cycle: bool, base_momentum: f64, max_momentum: f64) -> Self {
        self.cycle_momentum = cycle;
        self.base_momentum = base_momentum;
        self.max_momentum = max_momentum;
        self
    }

    /// Validates the parameters into the closed-form schedule.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] naming the field: non-positive or non-finite LRs or
    /// `gamma`, zero step sizes, a `scale_mode` that contradicts `mode`, momenta outside [0, 1).
    pub(crate) fn build(&self) -> Result<CyclicLr, ScheduleError> {
        const S: &str = CyclicLrSchedulerConfig::NAME;
        positive(S, "base_lr", self.base_lr)?;
        positive(S, "max_lr", self.max_lr)?;
        positive(S, "gamma", self.gamma)?;
        if self.gamma > 1.0 {
            return Err(ScheduleError::invalid(
                S,
                "gamma",
                self.gamma,
                "must be in (0, 1] (exp_range decays the amplitude)",
            ));
        }
        if self.step_size_up == 0 {
            return Err(ScheduleError::invalid(S, "step_size_up", 0, "must be an integer >= 1"));
        }
        if self.step_size_down == Some(0) {
            return Err(ScheduleError::invalid(
                S,
                "step_size_down",
                0,
                "must be an integer >= 1 (or left out)",
            ));
        }
        let scale_mode = self.mode.scale_mode();
        if let Some(given) = self.scale_mode {
            if given != scale_mode {
                return Err(ScheduleError::invalid(
                    S,
                    "scale_mode",
                    format!("{given:?}").to_lowercase(),
                    format!(
                        "mode {:?} uses scale_mode {:?} (PyTorch ignores scale_mode unless a custom scale_fn is given); leave it out",
                        self.mode, scale_mode
                    )
                    .to_lowercase(),
                ));
            }
        }
        if self.cycle_momentum {
            momentum_bounds(S, self.base_momentum, self.max_momentum)?;
        }
        let up = self.step_size_up as f64;
        let down = self.step_size_down.unwrap_or(self.step_size_up) as f64;
        let total_size = up + down;
        Ok(CyclicLr {
            base_lr: self.base_lr,
            max_lr: self.max_lr,
            total_size,
            step_ratio: up / total_size,
            mode: self.mode,
            gamma: self.gamma,
            cycle_momentum: self.cycle_momentum,
            base_momentum: self.base_momentum,
            max_momentum: self.max_momentum,
        })
    }

    /// Builds a scheduler whose every `step()` call is one optimizer update.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] naming the field: non-positive or non-finite LRs or
    /// `gamma`, zero step sizes, a `scale_mode` that contradicts `mode`, momenta outside [0, 1).
    pub fn init(&self) -> Result<CyclicLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build()?))
    }
}

/// CyclicLR in closed form (PyTorch's `CyclicLR.get_lr`, same float operations):
/// `cycle = floor(1 + t / total)`, `x = 1 + t / total - cycle`, the triangle height
/// `x / ratio` (rising) or `(x - 1) / (ratio - 1)` (falling), scaled by `1`, `2^-(cycle-1)` or
/// `gamma^t`.
#[derive(Debug, Clone, PartialEq)]
pub struct CyclicLr {
    base_lr: f64,
    max_lr: f64,
    total_size: f64,
    step_ratio: f64,
    mode: CyclicMode,
    gamma: f64,
    cycle_momentum: bool,
    base_momentum: f64,
    max_momentum: f64,
}

impl CyclicLr {
    /// `(scale_factor, amplitude scale)` at `t`.
    fn shape(&self, t: u64) -> (f64, f64) {
        let t = t as f64;
        let cycle = (1.0 + t / self.total_size).floor();
        let x = 1.0 + t / self.total_size - cycle;
        let scale_factor = if x <= self.step_ratio {
            x / self.step_ratio
        } else {
            (x - 1.0) / (self.step_ratio - 1.0)
        };
        let scale = match self.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
            CyclicMode::ExpRange => self.gamma.powf(t),
        };
        (scale_factor, scale)
    }
}

impl ClosedForm for CyclicLr {
    const KIND: &'static str = CyclicLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        let (scale_factor, scale) = self.shape(t);
        let base_height = (self.max_lr - self.base_lr) * scale_factor;
        land(self.base_lr, self.max_lr, scale_factor * scale, base_height * scale)
    }

    fn momentum_at(&self, t: u64) -> Option<f64> {
        self.cycle_momentum.then(|| {
            let (scale_factor, scale) = self.shape(t);
            let base_height = (self.max_momentum - self.base_momentum) * scale_factor;
            land(
                self.max_momentum,
                self.base_momentum,
                scale_factor * scale,
                -(base_height * scale),
            )
        })
    }
}

/// [`CyclicLrSchedulerConfig`]'s scheduler: a Burn `LrScheduler`; its `momentum()` gives the
/// momentum of the current update when `cycle_momentum` is on.
pub type CyclicLrScheduler = ClosedFormScheduler<CyclicLr>;

impl ScheduleKind for CyclicLrSchedulerConfig {
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

    fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        Ok(leaf(self.build()?, run_per(run, self.unit)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand_triangle() {
        let s = CyclicLrSchedulerConfig::new(1.0, 3.0)
            .with_step_sizes(2, None)
            .build()
            .unwrap();
        let lrs: Vec<f64> = (0..5).map(|t| s.lr_at(t)).collect();
        assert_eq!(lrs, [1.0, 2.0, 3.0, 2.0, 1.0]);
    }
}
