//! `piecewise_linear`: a factor of the base LR, linear between knots (`numpy.interp`), read at
//! every optimizer update: David Page's DAWNBench ResNet-9 schedule.

use super::base::{schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{finite, non_negative, not_a_factor, ScheduleError};
use super::kind::closed_form_kind;
use super::run::{run_length, RunInfo};
use burn::optim::LearningRate;

schedule_config! {
    /// Configuration of [`PiecewiseLinearLrScheduler`]: the factor of the base LR is linear between
    /// `(knots[i], values[i])` points, `values[0]` before the first knot and the last value after the
    /// last one (`numpy.interp(t, knots, values)`). As in PyTorch's `LambdaLR`, `lr = base_lr * f(t)`.
    ///
    /// With `unit = "epoch"` (the default) the knots are epochs, possibly fractional, and inside a
    /// `Learner` the factor is read at every optimizer update `k` at `t = k / updates_per_epoch`
    /// (David Page's "How to train your ResNet" schedule: `knots = [0, 5, 24]`,
    /// `values = [0, 1, 0]` with a base LR of 0.4). With `unit = "iteration"`, `t` is the update
    /// count and the knots are in updates.
    ///
    /// PyTorch: `LambdaLR(opt, lambda k: numpy.interp(k / steps_per_epoch, knots, values))`, stepped
    /// once per optimizer update. The neighbours elsewhere: optax's
    /// `piecewise_interpolate_schedule(interpolate_type="linear", ...)` (whose values are absolute
    /// rates and whose boundaries are in updates) and fastai's `combine_scheds` of `SchedLin`
    /// pieces.
    ///
    /// TOML: `[scheduler] type = "piecewise_linear"`, `knots = [0, 5, 24]`, `values = [0.0, 1.0, 0.0]`.
    ///
    /// `lr(t) = base_lr * (values[i] + (values[i+1] - values[i]) / (knots[i+1] - knots[i]) * (t - knots[i]))`
    /// for `knots[i] <= t < knots[i+1]`; `t` in `unit`s (epochs by default, fractional inside a
    /// `Learner`).
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::PiecewiseLinearLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: LambdaLR(SGD(params, lr=0.4), lambda k: numpy.interp(k / 2, [0, 5, 24], [0, 1, 0]))
    /// let config = PiecewiseLinearLrSchedulerConfig::new(vec![0.0, 5.0, 24.0], vec![0.0, 1.0, 0.0]);
    /// let mut s = config.init_per_update(0.4, 2)?; // 2 optimizer updates per epoch
    /// let lrs: Vec<f64> = (0..3).map(|_| s.step()).collect(); // epochs 0, 0.5, 1
    /// assert_eq!(lrs, [0.0, 0.4 * 0.1, 0.4 * 0.2]);
    /// # Ok(())
    /// # }
    /// ```
    pub struct PiecewiseLinearLrSchedulerConfig = "piecewise_linear", new(knots: Vec<f64>, values: Vec<f64>) {
        /// Where the factor is given, strictly ascending, finite (in `unit`s; fractional epochs
        /// allowed). At least one.
        pub knots: Vec<f64>,
        /// The factor of the base LR at each knot (as many as `knots`), finite and >= 0.
        pub values: Vec<f64>,
        /// What `t` counts: `epoch` (default; read at every update as a fraction of the epoch) or
        /// `iteration` (optimizer updates).
        pub unit: Unit = Unit::Epoch => with_unit,
    }
}

impl PiecewiseLinearLrSchedulerConfig {
    /// Validates into the closed form starting at `base_lr`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`]: no knot, `values` of another length, knots not strictly
    /// ascending, a non-finite knot, a negative or non-finite value or `base_lr`.
    pub(crate) fn build(&self, base_lr: LearningRate) -> Result<PiecewiseLinear, ScheduleError> {
        const S: &str = PiecewiseLinearLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        if self.knots.is_empty() {
            return Err(ScheduleError::invalid(S, "knots", "[]", "give at least one knot"));
        }
        if self.values.len() != self.knots.len() {
            return Err(ScheduleError::invalid(
                S,
                "values",
                format!("{:?}", self.values),
                format!("must have one value per knot ({} knots)", self.knots.len()),
            ));
        }
        for &k in &self.knots {
            finite(S, "knots", k)?;
        }
        for &v in &self.values {
            non_negative(S, "values", v)?;
        }
        if let Some(w) = self.knots.windows(2).find(|w| w[1] <= w[0]) {
            return Err(ScheduleError::invalid(
                S,
                "knots",
                format!("{:?}", self.knots),
                format!("must be strictly ascending ({} is followed by {})", w[0], w[1]),
            ));
        }
        Ok(PiecewiseLinear {
            base_lr,
            knots: self.knots.clone(),
            values: self.values.clone(),
        })
    }

    /// A scheduler whose every `step()` is one PyTorch `scheduler.step()`: `t = 0, 1, 2, ...`
    /// in `unit`s (whole epochs for an epoch unit).
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`]: no knot, `values` of another length, knots not strictly
    /// ascending, a non-finite knot, a negative or non-finite value or `base_lr`.
    pub fn init(&self, base_lr: LearningRate) -> Result<PiecewiseLinearLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr)?))
    }

    /// A scheduler stepped once per optimizer update, reading the factor at
    /// `t = k / updates_per_epoch` (Page's schedule, `LambdaLR` over `k / steps_per_epoch`).
    /// For `unit = "iteration"` pass 1.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`]: no knot, `values` of another length, knots not strictly
    /// ascending, a non-finite knot, a negative or non-finite value or `base_lr`.
    pub fn init_per_update(
        &self,
        base_lr: LearningRate,
        updates_per_epoch: u64,
    ) -> Result<PiecewiseLinearLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::with_steps_per_unit(
            self.build(base_lr)?,
            updates_per_epoch,
        ))
    }
}

/// The piecewise-linear factor in closed form, `numpy.interp`'s arithmetic: at `t` in
/// `[knots[j], knots[j+1])`, `slope * (t - knots[j]) + values[j]` with
/// `slope = (values[j+1] - values[j]) / (knots[j+1] - knots[j])`; exactly `values[j]` at a knot.
#[derive(Debug, Clone, PartialEq)]
pub struct PiecewiseLinear {
    base_lr: LearningRate,
    knots: Vec<f64>,
    values: Vec<f64>,
}

impl PiecewiseLinear {
    /// `numpy.interp(t, knots, values)`.
    pub fn factor(&self, t: f64) -> f64 {
        let (xs, ys) = (&self.knots, &self.values);
        let last = xs.len() - 1;
        if t <= xs[0] {
            return ys[0];
        }
        if t >= xs[last] {
            return ys[last];
        }
        // The segment [xs[j], xs[j + 1]) holding t: xs[j] <= t < xs[j + 1].
        let j = xs.partition_point(|&x| x <= t) - 1;
        if t == xs[j] {
            // numpy's own case: a knot's value exactly, even where the slope overflows.
            return ys[j];
        }
        let slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]);
        slope * (t - xs[j]) + ys[j]
    }
}

impl ClosedForm for PiecewiseLinear {
    const KIND: &'static str = PiecewiseLinearLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        self.base_lr * self.factor(t as f64)
    }

    fn lr_at_fraction(&self, k: u64, per: u64) -> LearningRate {
        self.base_lr * self.factor(k as f64 / per.max(1) as f64)
    }
}

closed_form_kind! {
    PiecewiseLinearLrSchedulerConfig => PiecewiseLinearLrScheduler(PiecewiseLinear),
    build(config, run) config.build(run.base_lr),

    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        // LambdaLR-style: it sets `base_lr * f(t)` at every step, whatever came before.
        not_a_factor(Self::NAME)
    }

    fn length_warnings(&self, run: &RunInfo, out: &mut Vec<String>) {
        let (Some(&last), run_len) = (self.knots.last(), run_length(run, self.unit)) else {
            return;
        };
        if last > run_len as f64 {
            out.push(format!(
                "{}: the last knot is at {last} {}s, but this run has {run_len} {}s ({} optimizer updates, {} per \
                 epoch): the run ends before the schedule does (its LR never reaches the last value)",
                Self::NAME,
                self.unit,
                self.unit,
                run.total_updates,
                run.updates_per_epoch
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> PiecewiseLinear {
        PiecewiseLinearLrSchedulerConfig::new(vec![0.0, 5.0, 24.0], vec![0.0, 1.0, 0.0])
            .build(0.4)
            .unwrap()
    }

    #[test]
    fn by_hand_as_numpy_interp() {
        let s = page();
        // Knots exactly, before the first and after the last, inside both segments.
        assert_eq!(
            [
                s.factor(-1.0),
                s.factor(0.0),
                s.factor(5.0),
                s.factor(24.0),
                s.factor(30.0)
            ],
            [0.0, 0.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(s.factor(2.5), 0.5);
        assert_eq!(s.factor(5.0 + 19.0 / 2.0), 1.0 + (-1.0 / 19.0) * 9.5);
        // Per update: 4 updates per epoch, update 10 is epoch 2.5.
        assert_eq!(s.lr_at_fraction(10, 4), 0.4 * 0.5);
        assert_eq!(s.lr_at(5), 0.4);
        let one = PiecewiseLinearLrSchedulerConfig::new(vec![3.0], vec![0.5])
            .build(2.0)
            .unwrap();
        assert_eq!([one.lr_at(0), one.lr_at(3), one.lr_at(9)], [1.0, 1.0, 1.0]);
    }

    #[test]
    fn refuses_what_numpy_would_not_interpolate() {
        let bad = |knots: Vec<f64>, values: Vec<f64>| {
            PiecewiseLinearLrSchedulerConfig::new(knots, values)
                .build(1.0)
                .unwrap_err()
                .to_string()
        };
        assert!(bad(vec![], vec![]).contains("at least one knot"));
        assert!(bad(vec![0.0, 1.0], vec![1.0]).contains("one value per knot"));
        assert!(bad(vec![0.0, 2.0, 2.0], vec![0.0, 1.0, 0.0]).contains("strictly ascending (2 is followed by 2)"));
        assert!(bad(vec![0.0, f64::NAN], vec![0.0, 1.0]).contains("knots"));
        assert!(bad(vec![0.0, 1.0], vec![0.0, -1.0]).contains("values"));
    }
}
