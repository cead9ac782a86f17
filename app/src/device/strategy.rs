//! How several devices train together (`[training] strategy`): Burn's
//! `ExecutionStrategy::multi` or its distributed data parallel `ExecutionStrategy::ddp`
//! (PyTorch Lightning's `Trainer(strategy="ddp")`). One device trains alone whatever the
//! strategy (DDP on one device is that device's run).
//!
//! | `strategy` | model copies | gradients of an update | optimizer | Burn |
//! |---|---|---|---|---|
//! | `"multi"` (default) | one, on the first device | **summed** over the devices' batches | one, first device | `MultiDeviceOptim::OptimMainDevice` |
//! | `"ddp"` | one per device | **averaged** (all-reduce, `ReduceOperation::Mean`), as PyTorch's `DistributedDataParallel` | one per device, stepped in lockstep | `DistributedConfig { all_reduce_op: Mean }` |
//!
//! Under DDP every device steps its own clone of the schedule, once per update and in
//! lockstep (the all-reduce of each update waits for every device); `lr.csv` and TensorBoard
//! keep each update once (the library's observer drops the other devices' copies), the end-of-
//! epoch hook decides once per epoch for all devices (`metrics.csv`, the epoch line, a stop),
//! the first device alone validates and checkpoints (Burn), and a non-finite loss or a Ctrl-C
//! ends the run at the end of its epoch, never in the middle (a device that left early would
//! leave the others waiting in the next all-reduce).
//!
//! Burn's all-reduce exists only on CUDA (NCCL, `cubecl-cuda`): Burn's CPU backends leave it
//! unimplemented and CubeCL's wgpu runtime has no device transport for it, so `"ddp"` on more
//! than one device needs `device = "cuda"`; anything else is one line and exit code 2 before
//! any data is read.

use super::error::DeviceError;
use super::name::{describe, resolved, DeviceName, Devices};
use burn::tensor::distributed::{DistributedConfig, ReduceOperation};
use burn::tensor::Device;
use burn::train::{ExecutionStrategy, MultiDeviceOptim};
use burn_lr::learner::LearnerRun;
use serde::{Deserialize, Serialize};
use std::fmt;

/// `[training] strategy`: how more than one device trains; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Burn's `ExecutionStrategy::multi`: one model, the devices' gradients summed on the
    /// first device (the default).
    #[default]
    Multi,
    /// Burn's `ExecutionStrategy::ddp`: a model per device, gradients averaged by an
    /// all-reduce (CUDA only).
    Ddp,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strategy::Multi => "multi",
            Strategy::Ddp => "ddp",
        })
    }
}

impl Strategy {
    /// Whether `devices` devices train under DDP (more than one, `strategy = "ddp"`).
    pub fn is_ddp(self, devices: usize) -> bool {
        self == Strategy::Ddp && devices > 1
    }

    /// `strategy = "ddp"` on more than one device of a kind that has no all-reduce is refused:
    /// `[training] strategy = "ddp": ...`, with what to use instead.
    ///
    /// # Errors
    /// [`DeviceError::Settings`] for DDP on the CPU (`cpu`, `ndarray`) or on `wgpu`.
    pub fn check_device(self, device: DeviceName, devices: usize) -> Result<(), DeviceError> {
        if !self.is_ddp(devices) {
            return Ok(());
        }
        let why = match resolved(device) {
            DeviceName::Cuda => return Ok(()),
            DeviceName::Wgpu => "CubeCL's wgpu runtime has no device transport for an all-reduce",
            _ => "Burn's CPU backends implement no all-reduce",
        };
        Err(DeviceError::Settings(format!(
            "[training] strategy = \"ddp\": {why} (Burn's DDP averages gradients through NCCL, on CUDA only); \
             use device = \"cuda\" with 2 or more GPUs, or strategy = \"multi\" (gradients summed on the first device)"
        )))
    }

    /// Under DDP every device must make the same number of batches in an epoch (else the
    /// devices with more wait forever in an all-reduce the others never join): refused
    /// otherwise, with the slices Burn's split makes.
    ///
    /// # Errors
    /// [`DeviceError::Settings`] naming the devices' batch counts.
    pub fn check_split(self, run: &LearnerRun) -> Result<(), DeviceError> {
        let batches = run.batches_per_device();
        if !self.is_ddp(run.devices) || batches.iter().all(|b| *b == batches[0]) {
            return Ok(());
        }
        let per: Vec<String> = batches.iter().map(usize::to_string).collect();
        Err(DeviceError::Settings(format!(
            "[training] strategy = \"ddp\": {} training images on {} devices make {} batches of {} per device \
             (Burn's split gives the last device the remainder); every device needs as many batches \
             (each update's all-reduce waits for all): use a number of images (train_limit) or a batch_size that splits evenly",
            run.train_items,
            run.devices,
            per.join(", "),
            run.batch_size
        )))
    }

    /// Burn's strategy for `devices` (`None` for one device: Burn's default single-device
    /// loop).
    pub fn execution(self, devices: Vec<Device>) -> Option<ExecutionStrategy> {
        match (devices.len(), self) {
            (0 | 1, _) => None,
            (_, Strategy::Multi) => Some(ExecutionStrategy::multi(devices, MultiDeviceOptim::OptimMainDevice)),
            (_, Strategy::Ddp) => Some(ExecutionStrategy::ddp(
                devices,
                DistributedConfig {
                    all_reduce_op: ReduceOperation::Mean,
                },
            )),
        }
    }

    /// How the run header names Burn's strategy: `Burn's multi-device strategy` or
    /// `Burn's DDP, gradients averaged`.
    pub fn describe(self) -> &'static str {
        match self {
            Strategy::Multi => "Burn's multi-device strategy",
            Strategy::Ddp => "Burn's DDP, gradients averaged",
        }
    }
}

/// [`describe`] for a run on `devices` under `strategy`: the single-device text, or e.g.
/// `2 x Cuda [0, 1] (Burn's multi-device strategy)` or `2 x Cuda [0, 1] (Burn's DDP, gradients
/// averaged)`.
pub fn describe_all(name: DeviceName, devices: &Devices, strategy: Strategy) -> String {
    if *devices == Devices::Count(1) {
        return describe(name);
    }
    let list = Devices::Indices(devices.indices());
    let kind = match resolved(name) {
        DeviceName::Auto | DeviceName::Cpu => "Cpu (flex)",
        DeviceName::Ndarray => "Cpu (ndarray)",
        DeviceName::Wgpu => "Wgpu (discrete GPUs)",
        DeviceName::Cuda => "Cuda",
    };
    match devices.len() {
        1 => format!("{kind} {list}"),
        n => format!("{n} x {kind} {list} ({})", strategy.describe()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_on_several_devices_is_described_with_its_strategy() {
        assert!(
            describe_all(DeviceName::Cpu, &Devices::Indices(vec![0, 1]), Default::default())
                .starts_with("2 x Cpu (flex) [0, 1]")
        );
        assert_eq!(
            describe_all(DeviceName::Cpu, &Devices::Indices(vec![1]), Default::default()),
            "Cpu (flex) [1]"
        );
    }

    #[test]
    fn ddp_needs_cuda_on_more_than_one_device() {
        for device in [DeviceName::Cpu, DeviceName::Ndarray, DeviceName::Wgpu] {
            let err = Strategy::Ddp.check_device(device, 2).unwrap_err().to_string();
            assert!(
                err.starts_with("[training] strategy = \"ddp\": ")
                    && err.contains("strategy = \"multi\"")
                    && !err.contains('\n'),
                "{err}"
            );
            assert!(Strategy::Ddp.check_device(device, 1).is_ok(), "one device trains alone");
            assert!(Strategy::Multi.check_device(device, 2).is_ok());
        }
        assert!(Strategy::Ddp.check_device(DeviceName::Cuda, 4).is_ok());
    }

    #[test]
    fn ddp_refuses_a_split_with_unequal_batches() {
        // 26 images on 3 devices at batch 4: slices of 8, 8 and 10, so 2, 2 and 3 batches.
        let uneven = LearnerRun::new(26, 4, 1).with_devices(3);
        let err = Strategy::Ddp.check_split(&uneven).unwrap_err().to_string();
        assert!(
            err.contains("26 training images on 3 devices make 2, 2, 3 batches of 4"),
            "{err}"
        );
        assert!(
            Strategy::Multi.check_split(&uneven).is_ok(),
            "multi takes a step with fewer batches"
        );
        // Slices of 7, 7 and 8 images: 2 batches each (the first two end with a partial one).
        assert!(Strategy::Ddp
            .check_split(&LearnerRun::new(22, 4, 1).with_devices(3))
            .is_ok());
        assert!(Strategy::Ddp.check_split(&LearnerRun::new(26, 4, 1)).is_ok());
    }

    #[test]
    fn the_strategy_reads_from_toml() {
        #[derive(Deserialize)]
        struct T {
            strategy: Strategy,
        }
        let read = |s: &str| toml::from_str::<T>(s).map(|t| t.strategy).map_err(|e| e.to_string());
        assert_eq!(read("strategy = \"ddp\"").unwrap(), Strategy::Ddp);
        assert_eq!(read("strategy = \"multi\"").unwrap(), Strategy::Multi);
        let err = read("strategy = \"fsdp\"").unwrap_err();
        assert!(err.contains("multi") && err.contains("ddp"), "{err}");
    }
}
