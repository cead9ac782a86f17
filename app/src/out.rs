//! Printing that never panics. `println!` panics when stdout is closed (`burn-lr train | head
//! -5`) or full (`> /dev/full`), and `eprintln!` likewise for stderr; a panic in the middle of a
//! run could split a checkpoint from its `metrics.csv` row. Here a failed write of stdout is
//! remembered ([`stdout_failure`]): a training run ends after the epoch it is in (that epoch
//! committed, so `--resume` continues), every other command finishes its files, and the process
//! exits quietly (141 for a closed pipe, as a process ended by `SIGPIPE`; 1 for another error).
//! A failed write of stderr is ignored (there is nowhere left to say anything).

use std::io::Write;
use std::sync::Mutex;

/// The first error writing stdout, if any.
static STDOUT_FAILURE: Mutex<Option<std::io::ErrorKind>> = Mutex::new(None);

/// Writes `args` and a newline to stdout and flushes it; `false` (and the failure remembered)
/// when stdout cannot be written. After a failure nothing more is written.
pub fn print_line(args: std::fmt::Arguments<'_>) -> bool {
    let mut failure = STDOUT_FAILURE.lock().unwrap_or_else(|e| e.into_inner());
    if failure.is_some() {
        return false;
    }
    let mut out = std::io::stdout().lock();
    match out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
    {
        Ok(()) => true,
        Err(e) => {
            *failure = Some(e.kind());
            false
        }
    }
}

/// Writes `args` and a newline to stderr; a failure is ignored.
pub fn eprint_line(args: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// Why stdout could not be written, if it could not.
pub fn stdout_failure() -> Option<std::io::ErrorKind> {
    *STDOUT_FAILURE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records a failure to write stdout seen elsewhere (a `BufWriter` of the CSV preview).
pub fn record_stdout_failure(kind: std::io::ErrorKind) {
    STDOUT_FAILURE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert(kind);
}

/// The exit code of a process whose stdout failed: 141 for a closed pipe (as `SIGPIPE` would
/// end it), 1 otherwise (a full disk).
pub fn exit_code(kind: std::io::ErrorKind) -> i32 {
    if kind == std::io::ErrorKind::BrokenPipe {
        141
    } else {
        1
    }
}

/// What went wrong with stdout, in words.
pub fn describe(kind: std::io::ErrorKind) -> String {
    match kind {
        std::io::ErrorKind::BrokenPipe => "stdout was closed (its reader ended)".into(),
        other => format!("stdout cannot be written ({})", std::io::Error::from(other)),
    }
}

/// `println!` that never panics (see the module documentation); evaluates to whether the line
/// was written.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::out::print_line(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics (see the module documentation).
#[macro_export]
macro_rules! tell {
    ($($arg:tt)*) => {
        $crate::out::eprint_line(format_args!($($arg)*))
    };
}
