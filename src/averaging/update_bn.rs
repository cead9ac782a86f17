//! `torch.optim.swa_utils.update_bn` for any Burn module: running statistics recomputed as the
//! equal-weight average over a loader's batches, for weights that were never trained as such.

use crate::burn::module::Module;
use crate::burn::tensor::Tensor;

use super::error::AveragingError;
use super::tensors::{leaves, rewrite, Leaf};

/// What [`update_bn`] did, for the one line a run prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateBnReport {
    /// The running statistics recomputed (`bn.running_mean`, `bn.running_var`, ...).
    pub statistics: Vec<String>,
    /// The batches averaged over.
    pub batches: usize,
}

impl std::fmt::Display for UpdateBnReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "update_bn: {} running statistics recomputed over {} batches",
            self.statistics.len(),
            self.batches
        )
    }
}

/// PyTorch's `update_bn(loader, model)`: every running statistic (the `running_*` fields, Burn's
/// `BatchNorm` `running_mean` / `running_var`) reset, then set to the cumulative (equal-weight)
/// average of the statistic each batch records in train mode, as PyTorch's BatchNorm with
/// `momentum = None`.
///
/// `forward(&model, batch)` runs the model on one batch (the input on the model's device); its
/// output is dropped. The model it is given is in train mode (`Module::train`, its parameters on
/// the autodiff device Burn's `BatchNorm` needs for batch statistics). The first batch runs twice (to learn each statistic's momentum, which Burn's modules
/// keep private), the others once. The statistic recorded is the module's own: Burn's
/// `BatchNorm` records the biased batch variance where PyTorch's records the unbiased one (a
/// factor `n / (n - 1)`, `n` the values per channel in the batch). Returns the module ready for
/// evaluation (`Module::valid`) and what was done; with no batches, the reset statistics (mean
/// 0, variance 1), as PyTorch.
///
/// Errors: no statistic changed over the first batch ([`AveragingError::NoBatchStatistics`]);
/// a statistic with momentum 0 ([`AveragingError::ZeroMomentum`]).
pub fn update_bn<M, B, F>(
    model: M,
    batches: impl IntoIterator<Item = B>,
    mut forward: F,
) -> Result<(M, UpdateBnReport), AveragingError>
where
    M: Module,
    B: Clone,
    F: FnMut(&M, B),
{
    let model = model.valid();
    let layout = leaves(&model);
    let stats: Vec<usize> = (0..layout.len()).filter(|&i| layout[i].buffer).collect();
    let statistics = stats.iter().map(|&i| layout[i].path.clone()).collect();
    let mut report = UpdateBnReport { statistics, batches: 0 };
    let mut average: Vec<Tensor<1>> = stats.iter().map(|&i| reset_value(&layout[i])).collect();
    if stats.is_empty() {
        return Ok((model, report));
    }
    let mut momentum: Option<Vec<Tensor<1>>> = None;
    for batch in batches {
        let recorded = match &momentum {
            None => {
                let (m, s) = first_batch(&model, &layout, &stats, batch, &mut forward)?;
                momentum = Some(m);
                s
            }
            Some(m) => {
                let zero = recorded_from(&model, &layout, &stats, Filler::Zero, batch, &mut forward);
                zero.into_iter().zip(m).map(|(out, m)| out / m.clone()).collect()
            }
        };
        report.batches += 1;
        let f = 1.0 / report.batches as f64;
        average = average
            .into_iter()
            .zip(recorded)
            .map(|(r, s)| r.mul_scalar(1.0 - f) + s.mul_scalar(f))
            .collect();
    }
    let values = place(layout.len(), &stats, average);
    Ok((rewrite(model, &values).valid(), report))
}

/// PyTorch's `reset_running_stats`: mean 0, variance (and any other statistic) 1.
fn reset_value(leaf: &Leaf) -> Tensor<1> {
    if leaf.path.ends_with("running_mean") {
        leaf.value.zeros_like()
    } else {
        leaf.value.ones_like()
    }
}

/// What the running statistics are set to before a forward.
enum Filler<'a> {
    Zero,
    Values(&'a [Tensor<1>]),
}

/// The running statistics after one train-mode forward of `batch` from the values `filler`.
fn recorded_from<M: Module, B>(
    model: &M,
    layout: &[Leaf],
    stats: &[usize],
    filler: Filler,
    batch: B,
    forward: &mut impl FnMut(&M, B),
) -> Vec<Tensor<1>> {
    let start: Vec<Tensor<1>> = match filler {
        Filler::Zero => stats.iter().map(|&i| layout[i].value.zeros_like()).collect(),
        Filler::Values(v) => v.to_vec(),
    };
    let work = rewrite(model.valid(), &place(layout.len(), stats, start)).train();
    forward(&work, batch);
    let after = leaves(&work);
    stats.iter().map(|&i| after[i].value.clone()).collect()
}

/// The first batch, twice: from 0 it records `m * s`, from `c` (large against `m * s`) it records
/// `(1 - m) * c + m * s`; so `m` and `s` per statistic, whatever the module's momentum.
fn first_batch<M: Module, B: Clone>(
    model: &M,
    layout: &[Leaf],
    stats: &[usize],
    batch: B,
    forward: &mut impl FnMut(&M, B),
) -> Result<(Vec<Tensor<1>>, Vec<Tensor<1>>), AveragingError> {
    let from_zero = recorded_from(model, layout, stats, Filler::Zero, batch.clone(), forward);
    let c: Vec<Tensor<1>> = from_zero
        .iter()
        .map(|a| a.clone().abs().mul_scalar(1024.0).add_scalar(1.0))
        .collect();
    let from_c = recorded_from(model, layout, stats, Filler::Values(&c), batch, forward);
    let momentum: Vec<Tensor<1>> = from_zero
        .iter()
        .zip(from_c)
        .zip(c)
        .map(|((a, b), c)| (b - a.clone()).div(c).neg().add_scalar(1.0))
        .collect();
    let silent: Vec<usize> = (0..stats.len())
        .filter(|&k| smallest_abs(&momentum[k]) < 1e-12)
        .collect();
    if silent.len() == stats.len() {
        return Err(AveragingError::NoBatchStatistics);
    }
    if let Some(&k) = silent.first() {
        return Err(AveragingError::ZeroMomentum {
            path: layout[stats[k]].path.clone(),
        });
    }
    let recorded = from_zero
        .into_iter()
        .zip(&momentum)
        .map(|(a, m)| a / m.clone())
        .collect();
    Ok((momentum, recorded))
}

/// A full-length rewrite list with `values` at the positions `stats`.
fn place(len: usize, stats: &[usize], values: Vec<Tensor<1>>) -> Vec<Option<Tensor<1>>> {
    let mut out: Vec<Option<Tensor<1>>> = vec![None; len];
    for (&i, v) in stats.iter().zip(values) {
        out[i] = Some(v);
    }
    out
}

/// The smallest absolute value of `t`.
fn smallest_abs(t: &Tensor<1>) -> f64 {
    t.clone().abs().min().into_data().iter::<f64>().next().unwrap_or(0.0)
}
