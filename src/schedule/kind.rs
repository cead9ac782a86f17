//! [`ScheduleKind`]: what every schedule type's config answers for a run.
//! [`SchedulerConfig`](super::SchedulerConfig) dispatches its methods to the variant's config; a
//! new schedule implements the required methods (`closed_form_kind!` writes them for a closed
//! form) and overrides a default only where it differs.

use super::base::Schedule;
use super::base::Unit;
use super::error::ScheduleError;
use super::run::RunInfo;

/// What every schedule type's config answers for a run (see the module docs).
pub(crate) trait ScheduleKind {
    /// The schedule's TOML `type` (its config's `NAME`).
    fn kind(&self) -> &'static str;

    /// The unit the schedule counts in.
    fn unit(&self) -> Unit;

    /// The update-indexed schedule for `run`.
    ///
    /// # Errors
    /// The schedule's own validation ([`ScheduleError::InvalidParam`]).
    fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError>;

    /// `Ok` when, over `run`, it only scales the base LR by a factor (what `ChainedScheduler`
    /// may combine); else why not, naming the schedule. Default: a factor.
    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        Ok(())
    }

    /// Whether it cycles momentum, anywhere inside. Default: no.
    fn cycles_momentum(&self) -> bool {
        false
    }

    /// Whether it scales the optimizer's base LR. Default: yes.
    fn uses_base_lr(&self) -> bool {
        true
    }

    /// Appends a warning for each declared length that differs from `run`'s. Default: none
    /// (the schedule declares no length).
    fn length_warnings(&self, _run: &RunInfo, _out: &mut Vec<String>) {}
}

/// The glue of a closed-form schedule: its Burn scheduler type (the one
/// [`ClosedFormScheduler`](super::ClosedFormScheduler) shell over its closed form) and its
/// [`ScheduleKind`]: the config's `unit`, and the closed form that `build` makes for a run,
/// advancing once per unit. Methods after `build` override the trait's defaults.
///
/// ```text
/// closed_form_kind! {
///     StepLrSchedulerConfig => StepLrScheduler(StepLr),
///     build(config, run) config.build(run.base_lr),
/// }
/// ```
macro_rules! closed_form_kind {
    (
        $config:ident => $scheduler:ident($form:ty),
        build($c:ident, $run:ident) $build:expr,
        $($extra:tt)*
    ) => {
        #[doc = concat!("[`", stringify!($config), "`]'s scheduler: a Burn `LrScheduler`.")]
        pub type $scheduler = $crate::schedule::base::ClosedFormScheduler<$form>;

        impl $crate::schedule::kind::ScheduleKind for $config {
            fn kind(&self) -> &'static str {
                Self::NAME
            }

            fn unit(&self) -> $crate::schedule::base::Unit {
                self.unit
            }

            fn build_schedule(
                &self,
                $run: &$crate::schedule::run::RunInfo,
            ) -> Result<Box<dyn $crate::schedule::base::Schedule>, $crate::schedule::error::ScheduleError> {
                let $c = self;
                let per = $crate::schedule::run::run_per($run, self.unit);
                Ok($crate::schedule::base::leaf($build?, per))
            }

            $($extra)*
        }
    };
}
pub(crate) use closed_form_kind;
