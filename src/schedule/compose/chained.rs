//! `ChainedScheduler`: every child at once, their multiplicative factors combined.

use crate::schedule::base::{Schedule, Unit};
use crate::schedule::error::ScheduleError;
use crate::schedule::kind::ScheduleKind;
use crate::schedule::run::RunInfo;
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};

/// `ChainedScheduler`: all children at once, their multiplicative factors combined.
///
/// TOML: `type = "chained"`, then one `[[scheduler.schedulers]]` table per child.
///
/// `lr(k) = base_lr * prod_i(child_i(k) / base_lr)`; each child in its own unit.
///
/// ```
/// # use burn_lr::burn;
/// use burn::lr_scheduler::LrScheduler;
/// use burn_lr::schedule::{RunInfo, SchedulerConfig};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // PyTorch: ChainedScheduler([ConstantLR(opt, factor=0.5, total_iters=2),
/// //                            ExponentialLR(opt, gamma=0.9)]), lr=1.0
/// let config: SchedulerConfig = toml::from_str(
///     r#"type = "chained"
/// [[schedulers]]
/// type = "constant"
/// factor = 0.5
/// total_iters = 2
/// [[schedulers]]
/// type = "exponential"
/// gamma = 0.9"#,
/// )?;
/// let mut s = config.init(&RunInfo { base_lr: 1.0, updates_per_epoch: 1, total_updates: 4 })?;
/// let lrs: Vec<f64> = (0..4).map(|_| s.step()).collect();
/// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
/// assert!(lrs.iter().zip([0.5, 0.45, 0.81, 0.729]).all(|(a, b)| close(*a, b)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainedSchedulerConfig<C> {
    /// The children (at least one); any schedule but `reduce_on_plateau`.
    pub schedulers: Vec<C>,
    /// In TOML, the default `unit` of every child that does not set its own (a child's own
    /// `unit` wins); no effect of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
}

impl<C> ChainedSchedulerConfig<C> {
    /// The canonical TOML `type` (also the kind in records).
    pub const NAME: &'static str = "chained";
}

/// PyTorch's
/// [`ChainedScheduler`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ChainedScheduler.html):
/// every child steps together and their multiplicative factors combine,
/// `lr(k) = base_lr * prod(child_i(k) / base_lr)`.
#[derive(Debug, Clone)]
pub(crate) struct Chained {
    children: Vec<Box<dyn Schedule>>,
    base_lr: LearningRate,
}

impl Chained {
    /// Chains `children`, all defined on `base_lr`.
    pub(crate) fn new(children: Vec<Box<dyn Schedule>>, base_lr: LearningRate) -> Self {
        Self { children, base_lr }
    }
}

impl Schedule for Chained {
    fn lr(&self, k: u64) -> LearningRate {
        if self.base_lr == 0.0 {
            return 0.0;
        }
        self.children
            .iter()
            .fold(self.base_lr, |lr, c| lr * (c.lr(k) / self.base_lr))
    }

    fn momentum(&self, k: u64) -> Option<f64> {
        self.children.iter().rev().find_map(|c| c.momentum(k))
    }

    fn fingerprint(&self) -> String {
        let children: Vec<String> = self.children.iter().map(|c| c.fingerprint()).collect();
        format!("chained(base_lr={:?}, [{}])", self.base_lr, children.join(", "))
    }

    fn clone_box(&self) -> Box<dyn Schedule> {
        Box::new(self.clone())
    }
}

impl<C: ScheduleKind> ScheduleKind for ChainedSchedulerConfig<C> {
    fn kind(&self) -> &'static str {
        Self::NAME
    }

    fn unit(&self) -> Unit {
        Unit::Iteration
    }

    fn factor_check(&self, run: &RunInfo) -> Result<(), String> {
        self.schedulers.iter().try_for_each(|child| child.factor_check(run))
    }

    fn cycles_momentum(&self) -> bool {
        self.schedulers.iter().any(C::cycles_momentum)
    }

    fn uses_base_lr(&self) -> bool {
        self.schedulers.iter().any(C::uses_base_lr)
    }

    fn length_warnings(&self, run: &RunInfo, out: &mut Vec<String>) {
        for child in &self.schedulers {
            child.length_warnings(run, out);
        }
    }

    /// Validates the children (at least one, all multiplicative) and builds them on the run.
    ///
    /// # Errors
    /// No children; a child that sets an absolute LR; any child's error.
    fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        if self.schedulers.is_empty() {
            return Err(ScheduleError::invalid(
                Self::NAME,
                "schedulers",
                "[]",
                "needs at least one scheduler",
            ));
        }
        for child in &self.schedulers {
            child.factor_check(run).map_err(|why| {
                ScheduleError::invalid(
                    Self::NAME,
                    "schedulers",
                    child.kind(),
                    format!(
                        "{why}: PyTorch's ChainedScheduler multiplies factors of the base LR, and a child that \
                         sets the LR itself discards the other factors; combine it with sequential or warmup instead"
                    ),
                )
            })?;
        }
        let children = self
            .schedulers
            .iter()
            .map(|s| s.build_schedule(run))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(Chained::new(children, run.base_lr)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chained_by_hand() {
        let toml = "type = \"chained\"\nunit = \"iteration\"\n[[schedulers]]\ntype = \"constant\"\nfactor = 0.5\ntotal_iters = 1\n[[schedulers]]\ntype = \"exponential\"\ngamma = 0.5";
        assert_eq!(super::super::first_lrs(toml, 4), [0.5, 0.5, 0.25, 0.125]);
    }
}
