//! Training progress on a terminal, for
//! [`QuietRenderer::with_progress`](crate::learner::QuietRenderer::with_progress).

use crate::learner::{Progress, ProgressFn};
use std::io::{IsTerminal, Write};
use std::time::Instant;

/// `1h02m`, `2m03s` or `41s`.
pub(crate) fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

/// The bar's state between events.
#[derive(Default)]
struct Bar {
    bar: Option<indicatif::ProgressBar>,
    training: bool,
    lr: Option<f64>,
    loss_sum: f64,
    losses: usize,
}

impl Bar {
    fn start(&mut self, split: &str, total_items: usize) {
        let b = indicatif::ProgressBar::new(total_items as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix:>5} [{bar:28}] {pos}/{len} images  {rate:>11}  eta {eta:>4}  {msg}",
            )
            .expect("valid progress template")
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} img/s", state.per_sec());
                },
            )
            .progress_chars("=> "),
        );
        b.set_prefix(split.to_string());
        self.training = split == "train";
        (self.lr, self.loss_sum, self.losses) = (None, 0.0, 0);
        self.bar = Some(b);
    }

    fn metric(&mut self, name: &str, value: f64) {
        if !self.training {
            return;
        }
        match name {
            "Loss" => {
                self.loss_sum += value;
                self.losses += 1;
            }
            "Learning Rate" => self.lr = Some(value),
            _ => return,
        }
        if let Some(b) = &self.bar {
            let lr = self.lr.map_or(String::new(), |lr| format!("lr {lr:.3e}  "));
            let loss = if self.losses > 0 {
                format!("loss {:.4} (epoch mean)", self.loss_sum / self.losses as f64)
            } else {
                String::new()
            };
            b.set_message(format!("{lr}{loss}"));
        }
    }
}

/// A progress callback: on a terminal (stderr), one `indicatif` bar per split with images/s,
/// ETA and, while training, the current learning rate and the running (epoch mean) loss.
/// Without a terminal (CI, `| tee`) it draws nothing but one early line on stdout, once a tenth
/// of the first training epoch is done: the run's ETA from that pace over `epochs_to_train`
/// epochs (the caller's per-epoch lines do the rest).
pub fn progress_bar(epochs_to_train: usize) -> ProgressFn {
    let tty = std::io::stderr().is_terminal();
    let mut bar = Bar::default();
    let mut first_epoch: Option<(Instant, usize)> = None;
    let mut estimated = false;
    Box::new(move |event| match event {
        Progress::Start { split, total_items } => {
            if tty {
                bar.start(split, total_items);
            }
            if split == "train" && first_epoch.is_none() {
                first_epoch = Some((Instant::now(), total_items));
            }
        }
        Progress::Metric { name, value } => bar.metric(name, value),
        Progress::Update(n) => {
            if let Some(b) = &bar.bar {
                b.set_position(n as u64);
            }
            if let (Some((t0, total)), false, false) = (first_epoch, estimated, tty) {
                if total > 0 && n * 10 >= total {
                    estimated = true;
                    let per_epoch = t0.elapsed().as_secs_f64() * total as f64 / n as f64;
                    // A closed or full stdout is the caller's to notice; the bar never panics.
                    let _ = writeln!(
                        std::io::stdout(),
                        "eta ~{} ({epochs_to_train} epoch(s) at ~{} of training each, measured on the first {n} images)",
                        clock(per_epoch * epochs_to_train as f64),
                        clock(per_epoch)
                    );
                }
            }
        }
        Progress::End => {
            if let Some(b) = bar.bar.take() {
                b.finish_and_clear();
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock_reads_like_a_clock() {
        assert_eq!(super::clock(41.4), "41s");
        assert_eq!(super::clock(123.0), "2m03s");
        assert_eq!(super::clock(3725.0), "1h02m");
    }
}
