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

/// The device a name resolves to, as the run header shows it: `Cpu (flex)`, `Cpu (ndarray)`,
/// `Wgpu (default adapter: Vulkan, Metal or DX12)`, `Cuda (GPU 0)`.
#[allow(unreachable_code)]
pub fn describe(name: DeviceName) -> String {
    match name {
        DeviceName::Auto => {
            #[cfg(feature = "cuda")]
            return describe(DeviceName::Cuda);
            #[cfg(all(feature = "wgpu", not(feature = "cuda")))]
            return describe(DeviceName::Wgpu);
            describe(DeviceName::Cpu)
        }
        DeviceName::Cpu => "Cpu (flex)".into(),
        DeviceName::Ndarray => "Cpu (ndarray)".into(),
        DeviceName::Wgpu => "Wgpu (default adapter: Vulkan, Metal or DX12)".into(),
        DeviceName::Cuda => "Cuda (GPU 0)".into(),
    }
}
