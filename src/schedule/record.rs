//! The one record codec of every schedule: the schedule's kind and a hash of its parameters
//! (so that a record of another schedule, or of other parameters, is refused), plus its state
//! (the step count; the plateau state).

use super::error::ScheduleError;
use burn::lr_scheduler::LrSchedulerRecord;

/// FNV-1a 64-bit hash: stable across runs and platforms (unlike `DefaultHasher`).
pub(crate) fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

pub(crate) const KEY_KIND: &str = "burn_lr_kind";
pub(crate) const KEY_PARAMS: &str = "burn_lr_params";
pub(crate) const KEY_STEP: &str = "step";

/// Writes the identity of a schedule (kind + parameter hash) into a record.
pub(crate) fn tag_record(record: LrSchedulerRecord, kind: &str, fingerprint: &str) -> LrSchedulerRecord {
    record
        .with_scalar(KEY_KIND, fnv1a(kind))
        .with_scalar(KEY_PARAMS, fnv1a(fingerprint))
}

/// Checks that a record was written by the schedule `kind` with the same parameters.
pub(crate) fn check_record(record: &LrSchedulerRecord, kind: &str, fingerprint: &str) -> Result<(), ScheduleError> {
    let found_kind: u64 = record
        .scalar(KEY_KIND)
        .ok_or_else(|| ScheduleError::RecordIncomplete(KEY_KIND.into()))?;
    let found_params: u64 = record
        .scalar(KEY_PARAMS)
        .ok_or_else(|| ScheduleError::RecordIncomplete(KEY_PARAMS.into()))?;
    if found_kind != fnv1a(kind) {
        return Err(ScheduleError::RecordMismatch {
            expected: format!("a `{kind}` schedule"),
            found: "another kind of schedule".into(),
        });
    }
    if found_params != fnv1a(fingerprint) {
        return Err(ScheduleError::RecordMismatch {
            expected: format!("`{kind}` with {fingerprint}"),
            found: format!("`{kind}` with other parameters (hash {found_params:#018x})"),
        });
    }
    Ok(())
}

/// The record of a step-count schedule: identity plus the number of `step()` calls.
pub(crate) fn step_record(kind: &str, fingerprint: &str, step: u64) -> LrSchedulerRecord {
    tag_record(LrSchedulerRecord::new(), kind, fingerprint).with_scalar(KEY_STEP, step)
}

/// The step count of a record written by [`step_record`] for the same schedule.
///
/// # Errors
/// [`ScheduleError::RecordMismatch`] / [`ScheduleError::RecordIncomplete`].
pub(crate) fn read_step(record: &LrSchedulerRecord, kind: &str, fingerprint: &str) -> Result<u64, ScheduleError> {
    check_record(record, kind, fingerprint)?;
    record
        .scalar(KEY_STEP)
        .ok_or_else(|| ScheduleError::RecordIncomplete(KEY_STEP.into()))
}

/// Burn's `LrScheduler::load_record` cannot return an error: refuse a foreign record loudly
/// (call `try_load_record` first to get the reason as an error).
pub(crate) fn refuse(result: Result<(), ScheduleError>) {
    if let Err(err) = result {
        panic!("{err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_foreign_record_is_refused() {
        let r = step_record("step", "a", 7);
        assert_eq!(read_step(&r, "step", "a"), Ok(7));
        assert!(matches!(
            read_step(&r, "step", "b"),
            Err(ScheduleError::RecordMismatch { .. })
        ));
        assert!(matches!(
            read_step(&r, "linear", "a"),
            Err(ScheduleError::RecordMismatch { .. })
        ));
        assert!(matches!(
            read_step(&LrSchedulerRecord::new(), "step", "a"),
            Err(ScheduleError::RecordIncomplete(_))
        ));
    }
}
