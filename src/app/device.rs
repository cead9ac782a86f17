//! The Burn device of a `device = ...` name.

use super::config::DeviceName;
use super::run::TrainError;
use burn::tensor::Device;

/// Resolves a device name to a Burn device.
///
/// # Errors
/// [`TrainError::DeviceUnavailable`] for `wgpu` / `cuda` without their cargo feature.
#[allow(deprecated, unreachable_code)]
pub fn device(name: DeviceName) -> Result<Device, TrainError> {
    Ok(match name {
        DeviceName::Auto => {
            #[cfg(feature = "cuda")]
            return Ok(Device::cuda(0));
            #[cfg(all(feature = "wgpu", not(feature = "cuda")))]
            return Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice));
            Device::flex()
        }
        DeviceName::Cpu => Device::flex(),
        DeviceName::Ndarray => Device::ndarray(),
        DeviceName::Wgpu => {
            #[cfg(feature = "wgpu")]
            return Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice));
            return Err(TrainError::DeviceUnavailable("wgpu"));
        }
        DeviceName::Cuda => {
            #[cfg(feature = "cuda")]
            return Ok(Device::cuda(0));
            return Err(TrainError::DeviceUnavailable("cuda"));
        }
    })
}
