//! The `burn-lr` command line: the clap definitions and one module per subcommand. Every error
//! is one line on stderr with an exit code: 2 for bad input (flags, config, data, resume
//! checks), 1 for a run that failed while training, 130 for an interrupted run.

mod compare;
mod find_lr;
mod plot;
mod schedule;
mod train;

use crate::error::TrainError;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "burn-lr",
    version,
    about = "Exact PyTorch-style LR schedulers for Burn; CIFAR-10 ResNet training"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Train a ResNet on CIFAR-10 (prints one line per epoch, writes checkpoints and metrics.csv).
    Train(train::TrainArgs),
    /// Print a schedule as CSV `step,lr[,momentum]` without training (row k = optimizer update
    /// k), or draw it with --plot.
    Schedule(schedule::ScheduleArgs),
    /// Redraw a run's plots (lr_schedule.png, loss.png, accuracy.png) from its lr.csv and
    /// metrics.csv.
    Plot(plot::PlotArgs),
    /// LR range test (Smith; fastai's lr_find): suggests a learning rate and OneCycle's max_lr
    /// for a config's model and data; writes lr_find.csv and lr_find.png.
    FindLr(find_lr::FindLrArgs),
    /// Train several configs on the same data with the same seed, one after the other; write
    /// summary.md (best and final accuracy, epochs and time to a target accuracy) and overlay
    /// charts (validation accuracy per epoch, LR per update) to --out.
    Compare(compare::CompareArgs),
}

/// Parses the command line and runs it; returns the process exit code. A command whose stdout
/// failed (closed by its reader, or full) ends quietly: its files are written (a training run
/// ends after the epoch in progress, committed), then 141 for a closed pipe, 1 otherwise.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(), // --help, --version
        Err(err) => {
            // clap's whole message: what is wrong, the valid values or a "did you mean", the
            // usage line.
            tell!("{}", err.render().to_string().trim_end());
            return 2;
        }
    };
    let result = match cli.command.unwrap_or(Command::Train(train::TrainArgs::default())) {
        Command::Train(args) => train::run(args),
        Command::Schedule(args) => schedule::run(args),
        Command::Plot(args) => plot::run(args),
        Command::FindLr(args) => find_lr::run(args),
        Command::Compare(args) => compare::run(args),
    };
    let closed = crate::out::stdout_failure();
    match result {
        Ok(()) => match closed {
            None => 0,
            Some(kind) => {
                if kind != std::io::ErrorKind::BrokenPipe {
                    tell!("error: {}", crate::out::describe(kind));
                }
                crate::out::exit_code(kind)
            }
        },
        Err(err) => {
            tell!("error: {}", one_line(&err));
            exit_code(&err)
        }
    }
}

/// 1 for a failure while working (an I/O error writing a chart or a run file), 130 for an
/// interruption, 2 for bad input (see [`TrainError::exit_code`]).
fn exit_code(err: &anyhow::Error) -> i32 {
    if let Some(e) = err.downcast_ref::<TrainError>() {
        return e.exit_code();
    }
    match err.downcast_ref::<burn_lr::monitor::MonitorError>() {
        Some(e) if e.is_io() => 1,
        _ => 2,
    }
}

/// The error and its causes on one line, each cause only when the text so far does not
/// already say it (many errors print their source themselves).
fn one_line(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text += ": ";
            }
            text += &part;
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
