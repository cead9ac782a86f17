//! `SequentialLR`: children in turn, each restarted at its own step 0 at its milestone.

use crate::schedule::base::{Schedule, Unit};
use crate::schedule::error::{not_a_factor, ScheduleError};
use crate::schedule::kind::ScheduleKind;
use crate::schedule::run::{run_per, RunInfo};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};

/// `SequentialLR`: children in turn, switching at `milestones` (in `unit`s).
///
/// TOML: `type = "sequential"`, `milestones = [5]`, then one `[[scheduler.schedulers]]` table per
/// child (one more child than milestones), each with its own `type` and `unit`.
///
/// `lr(k) = child_i(k - milestone_i)`: child `i` runs from its own step 0 from milestone `i`
/// on; `milestones` in the sequential's `unit` (epochs by default), each child in its own unit.
///
/// ```
/// # use burn_lr::burn;
/// use burn::lr_scheduler::LrScheduler;
/// use burn_lr::schedule::{RunInfo, SchedulerConfig};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // PyTorch: SequentialLR(opt, [LinearLR(opt, start_factor=0.1, total_iters=2),
/// //                             ExponentialLR(opt, gamma=0.5)], milestones=[2]), lr=1.0
/// let config: SchedulerConfig = toml::from_str(
///     r#"type = "sequential"
/// milestones = [2]
/// [[schedulers]]
/// type = "linear"
/// start_factor = 0.1
/// total_iters = 2
/// [[schedulers]]
/// type = "exponential"
/// gamma = 0.5"#,
/// )?;
/// let mut s = config.init(&RunInfo { base_lr: 1.0, updates_per_epoch: 1, total_updates: 4 })?;
/// let lrs: Vec<f64> = (0..4).map(|_| s.step()).collect();
/// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
/// assert!(lrs.iter().zip([0.1, 0.55, 1.0, 0.5]).all(|(a, b)| close(*a, b)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequentialLrSchedulerConfig<C> {
    /// The children, `milestones.len() + 1` of them; any schedule but `reduce_on_plateau`.
    pub schedulers: Vec<C>,
    /// Where child `i + 1` takes over (non-decreasing, in `unit`s); a milestone at 0 skips the
    /// first child, as PyTorch 2.15 does.
    pub milestones: Vec<u64>,
    /// The unit of `milestones` (`epoch` when left out). In TOML it is also the default `unit`
    /// of every child that does not set its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
}

impl<C> SequentialLrSchedulerConfig<C> {
    /// The canonical TOML `type` (also the kind in records).
    pub const NAME: &'static str = "sequential";

    /// The unit of `milestones` (`epoch` unless `unit` is given).
    pub fn milestone_unit(&self) -> Unit {
        self.unit.unwrap_or(Unit::Epoch)
    }

    /// The children's start updates and the part of the run each child sees (a OneCycle child
    /// without a length spans it), `per` optimizer updates per milestone unit.
    pub(crate) fn child_runs(&self, run: &RunInfo, per: u64) -> Result<(Vec<u64>, Vec<RunInfo>), ScheduleError> {
        const S: &str = SequentialLrSchedulerConfig::<()>::NAME;
        if self.schedulers.len() != self.milestones.len() + 1 {
            return Err(ScheduleError::invalid(
                S,
                "milestones",
                format!("{:?}", self.milestones),
                format!(
                    "needs exactly one fewer milestone than schedulers ({} given)",
                    self.schedulers.len()
                ),
            ));
        }
        if self.milestones.windows(2).any(|w| w[0] > w[1]) {
            return Err(ScheduleError::invalid(
                S,
                "milestones",
                format!("{:?}", self.milestones),
                "must be non-decreasing",
            ));
        }
        let starts = self
            .milestones
            .iter()
            .map(|m| {
                m.checked_mul(per)
                    .ok_or_else(|| ScheduleError::invalid(S, "milestones", m, "too large (overflows the update count)"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let runs = (0..self.schedulers.len())
            .map(|i| {
                let start = if i == 0 { 0 } else { starts[i - 1] };
                let end = starts
                    .get(i)
                    .copied()
                    .unwrap_or(run.total_updates.max(start.saturating_add(1)));
                RunInfo {
                    total_updates: end.saturating_sub(start).max(1),
                    ..*run
                }
            })
            .collect();
        Ok((starts, runs))
    }
}

/// PyTorch's
/// [`SequentialLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.SequentialLR.html):
/// child `i` runs from milestone `i - 1` on, restarted at its own step 0. Milestones are given
/// here in optimizer updates. A milestone at 0 skips the first child, as PyTorch 2.15 does.
#[derive(Debug, Clone)]
pub(crate) struct Sequential {
    children: Vec<Box<dyn Schedule>>,
    starts: Vec<u64>,
}

impl Sequential {
    /// `children.len() == starts.len() + 1` and `starts` non-decreasing (checked by the config).
    pub(crate) fn new(children: Vec<Box<dyn Schedule>>, starts: Vec<u64>) -> Self {
        Self { children, starts }
    }

    fn active(&self, k: u64) -> (usize, u64) {
        let i = self.starts.partition_point(|s| *s <= k);
        (i, if i == 0 { k } else { k - self.starts[i - 1] })
    }
}

impl Schedule for Sequential {
    fn lr(&self, k: u64) -> LearningRate {
        let (i, local) = self.active(k);
        self.children[i].lr(local)
    }

    fn momentum(&self, k: u64) -> Option<f64> {
        let (i, local) = self.active(k);
        self.children[i].momentum(local)
    }

    fn fingerprint(&self) -> String {
        let children: Vec<String> = self.children.iter().map(|c| c.fingerprint()).collect();
        format!("sequential(starts={:?}, [{}])", self.starts, children.join(", "))
    }

    fn clone_box(&self) -> Box<dyn Schedule> {
        Box::new(self.clone())
    }
}

impl<C: ScheduleKind> ScheduleKind for SequentialLrSchedulerConfig<C> {
    fn kind(&self) -> &'static str {
        Self::NAME
    }

    fn unit(&self) -> Unit {
        self.milestone_unit()
    }

    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        not_a_factor(Self::NAME)
    }

    fn cycles_momentum(&self) -> bool {
        self.schedulers.iter().any(C::cycles_momentum)
    }

    fn uses_base_lr(&self) -> bool {
        self.schedulers.iter().any(C::uses_base_lr)
    }

    fn length_warnings(&self, run: &RunInfo, out: &mut Vec<String>) {
        if let Ok((_, runs)) = self.child_runs(run, run_per(run, self.milestone_unit())) {
            for (child, child_run) in self.schedulers.iter().zip(&runs) {
                child.length_warnings(child_run, out);
            }
        }
    }

    /// Validates the milestones and builds every child on its part of the run.
    ///
    /// # Errors
    /// Milestones that do not fit the children, decrease or overflow; any child's error.
    fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        let (starts, child_runs) = self.child_runs(run, run_per(run, self.milestone_unit()))?;
        let children = self
            .schedulers
            .iter()
            .zip(&child_runs)
            .map(|(child, child_run)| child.build_schedule(child_run))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(Sequential::new(children, starts)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sequential_by_hand() {
        let toml = "type = \"sequential\"\nunit = \"iteration\"\nmilestones = [2]\n[[schedulers]]\ntype = \"constant\"\nfactor = 0.5\ntotal_iters = 9\n[[schedulers]]\ntype = \"fixed\"";
        assert_eq!(super::super::first_lrs(toml, 4), [0.5, 0.5, 1.0, 1.0]);
    }
}
