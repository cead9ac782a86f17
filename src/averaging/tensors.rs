//! A module's float tensors in traversal order (parameters and running statistics), read and
//! rewritten by position, with their dotted paths.

use crate::burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use crate::burn::tensor::Tensor;

use super::error::AveragingError;

/// One float tensor of a module, flattened to `[numel]`, without autodiff.
#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    /// The dotted path (`bn.running_var`).
    pub path: String,
    /// Its shape in the module.
    pub shape: Vec<usize>,
    /// A running statistic (a field named `running_*`, as Burn's `BatchNorm` names its
    /// `RunningState`s): PyTorch's buffers.
    pub buffer: bool,
    /// The values, `[numel]`.
    pub value: Tensor<1>,
}

/// Whether a tensor at `path` is a buffer (a running statistic) rather than a parameter.
fn is_buffer(path: &[String]) -> bool {
    path.last().is_some_and(|name| name.starts_with("running_"))
}

#[derive(Default)]
struct Collect {
    path: Vec<String>,
    leaves: Vec<Leaf>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val().inner();
        let shape = value.dims().to_vec();
        let numel = shape.iter().product::<usize>();
        self.leaves.push(Leaf {
            path: self.path.join("."),
            shape,
            buffer: is_buffer(&self.path),
            value: value.reshape([numel]),
        });
    }
}

/// Every float tensor of `module` in traversal order. Reads a validation snapshot
/// (`Module::valid`), so running statistics updated by the last train-mode forward are included.
pub(crate) fn leaves<M: Module>(module: &M) -> Vec<Leaf> {
    let mut collect = Collect::default();
    module.valid().visit(&mut collect);
    collect.leaves
}

/// Checks that `found` has the tensors of `expected`: same count, same shapes.
pub(crate) fn same_layout(expected: &[Leaf], found: &[Leaf]) -> Result<(), AveragingError> {
    if expected.len() != found.len() {
        return Err(AveragingError::ModuleMismatch {
            expected: format!("{} tensors", expected.len()),
            found: format!("{} tensors", found.len()),
        });
    }
    for (e, f) in expected.iter().zip(found) {
        if e.shape != f.shape {
            return Err(AveragingError::ModuleMismatch {
                expected: format!("`{}` of shape {:?}", e.path, e.shape),
                found: format!("`{}` of shape {:?}", f.path, f.shape),
            });
        }
    }
    Ok(())
}

struct Rewrite<'a> {
    index: usize,
    values: &'a [Option<Tensor<1>>],
}

impl ModuleMapper for Rewrite<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let new = self.values.get(self.index).cloned().flatten();
        self.index += 1;
        match new {
            Some(flat) => param.map(|old| {
                let device = old.device();
                flat.reshape(old.dims()).to_device(&device)
            }),
            None => param,
        }
    }
}

/// `module` with its `i`-th float tensor replaced by `values[i]` (reshaped to its shape, on its
/// device) where `values[i]` is `Some`. `values` follows the order of [`leaves`].
pub(crate) fn rewrite<M: Module>(module: M, values: &[Option<Tensor<1>>]) -> M {
    module.map(&mut Rewrite { index: 0, values })
}

/// PyTorch's `lerp` (`torch.lerp`, `torch._foreach_lerp_`): `start + weight * (end - start)` for
/// `|weight| < 0.5`, `end - (end - start) * (1 - weight)` otherwise, as ATen rounds it.
pub(crate) fn lerp<const D: usize>(start: Tensor<D>, end: Tensor<D>, weight: f64) -> Tensor<D> {
    if weight.abs() < 0.5 {
        start.clone() + (end - start).mul_scalar(weight)
    } else {
        end.clone() - (end - start).mul_scalar(1.0 - weight)
    }
}
