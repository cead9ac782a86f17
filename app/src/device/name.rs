//! The Burn devices of a `device = ...` name and a `devices = ...` count or list.

use super::error::DeviceError;
use burn::tensor::Device;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Where the run executes (`--device`, `[training] device`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DeviceName {
    /// The best device this build has: CUDA with `--features cuda`, else wgpu with
    /// `--features wgpu`, else the CPU (flex). The default.
    Auto,
    /// Burn's flex CPU backend (all cores).
    Cpu,
    /// Burn's ndarray CPU backend (deprecated by Burn for flex; slow convolutions); needs the
    /// `ndarray` cargo feature.
    Ndarray,
    /// wgpu (Vulkan / Metal / DX12); needs the `wgpu` cargo feature.
    Wgpu,
    /// CUDA; needs the `cuda` cargo feature.
    Cuda,
}

/// Which devices of the `device` kind a run trains on (`[training] devices`, `--devices`), as
/// PyTorch Lightning's `Trainer(devices=...)` reads it: a count `N` (devices `0..N`) or a list
/// of device indices (`[0, 2]`). The default is one device.
///
/// More than one device trains with Burn's data-parallel `ExecutionStrategy::multi`
/// (`MultiDeviceOptim::OptimMainDevice`): each optimizer update takes one batch per device, the
/// gradients are summed on the first device, and the schedule steps once per update, so an
/// epoch has `ceil(largest slice / batch_size)` updates (see
/// [`burn_lr::learner::LearnerRun::with_devices`]). Indices are CUDA ordinals for `cuda` and
/// discrete-GPU indices for `wgpu`; the CPU (`cpu`, `ndarray`) is one device, so `N` CPU devices
/// are `N` Burn workers on the same cores (useful to test the strategy, not for speed).
///
/// ```toml
/// [training]
/// device = "cuda"
/// devices = 2        # or [0, 1]
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Devices {
    /// The first `N` devices (N >= 1).
    Count(usize),
    /// These device indices (non-empty, no index twice).
    Indices(Vec<usize>),
}

impl Default for Devices {
    fn default() -> Self {
        Devices::Count(1)
    }
}

/// What `devices` accepts, for its error messages.
const ALLOWED: &str = "a number of devices >= 1 (e.g. 2) or a list of distinct device indices (e.g. [0, 1])";

impl Devices {
    /// The device indices: `0..N` for a count.
    pub fn indices(&self) -> Vec<usize> {
        match self {
            Devices::Count(n) => (0..*n).collect(),
            Devices::Indices(list) => list.clone(),
        }
    }

    /// The number of devices.
    pub fn len(&self) -> usize {
        match self {
            Devices::Count(n) => *n,
            Devices::Indices(list) => list.len(),
        }
    }

    /// Never true for a checked value (kept for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `Ok(self)` if it is a count >= 1 or a non-empty list without repeats.
    ///
    /// # Errors
    /// One line saying what is allowed.
    pub fn checked(self) -> Result<Self, String> {
        let ok = match &self {
            Devices::Count(n) => *n >= 1,
            Devices::Indices(list) => {
                let mut sorted = list.clone();
                sorted.sort_unstable();
                sorted.dedup();
                !list.is_empty() && sorted.len() == list.len()
            }
        };
        if ok {
            Ok(self)
        } else {
            Err(format!("devices = {self}: must be {ALLOWED}"))
        }
    }
}

impl fmt::Display for Devices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Devices::Count(n) => write!(f, "{n}"),
            Devices::Indices(list) => {
                let items: Vec<String> = list.iter().map(usize::to_string).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

/// `--devices 2` (a count) or `--devices 0,1` (indices).
impl std::str::FromStr for Devices {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || format!("`{s}`: must be {ALLOWED}, written 2 or 0,1");
        let devices = if s.contains(',') || s.starts_with('[') {
            let inner = s.trim_start_matches('[').trim_end_matches(']');
            let list = inner
                .split(',')
                .map(|p| p.trim().parse::<usize>())
                .collect::<Result<Vec<_>, _>>();
            Devices::Indices(list.map_err(|_| bad())?)
        } else {
            Devices::Count(s.parse().map_err(|_| bad())?)
        };
        devices.checked()
    }
}

impl Serialize for Devices {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Devices::Count(n) => serializer.serialize_u64(*n as u64),
            Devices::Indices(list) => list.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Devices {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Devices;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(ALLOWED)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Devices, E> {
                let n = usize::try_from(v).map_err(|_| E::custom(format!("devices = {v}: must be {ALLOWED}")))?;
                Devices::Count(n).checked().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Devices, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(-1))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Devices, A::Error> {
                let mut list = Vec::new();
                while let Some(i) = seq.next_element::<usize>()? {
                    list.push(i);
                }
                Devices::Indices(list).checked().map_err(serde::de::Error::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The concrete device kind `Auto` stands for in this build: `Cuda` with the `cuda` feature,
/// else `Wgpu` with `wgpu`, else `Cpu`; any other name is itself.
#[allow(unreachable_code)]
pub fn resolved(name: DeviceName) -> DeviceName {
    if name != DeviceName::Auto {
        return name;
    }
    #[cfg(feature = "cuda")]
    return DeviceName::Cuda;
    #[cfg(all(feature = "wgpu", not(feature = "cuda")))]
    return DeviceName::Wgpu;
    DeviceName::Cpu
}

/// Resolves a device name to a Burn device (for `wgpu`, the default adapter; for `cuda`, GPU 0).
///
/// # Errors
/// [`DeviceError::Unavailable`] for `ndarray` / `wgpu` / `cuda` without their cargo feature.
pub fn device(name: DeviceName) -> Result<Device, DeviceError> {
    #[cfg(feature = "wgpu")]
    if resolved(name) == DeviceName::Wgpu {
        return Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice));
    }
    indexed(name, 0)
}

/// The Burn devices of a run: [`device`] for the default single device, else one per index
/// of `devices` (see [`Devices`]).
///
/// # Errors
/// [`DeviceError::Unavailable`] for `ndarray` / `wgpu` / `cuda` without their cargo feature;
/// [`DeviceError::Settings`] for a count of 0 or a list that is empty or repeats an index.
pub fn devices(name: DeviceName, devices: &Devices) -> Result<Vec<Device>, DeviceError> {
    let devices = devices.clone().checked().map_err(DeviceError::Settings)?;
    if devices == Devices::Count(1) {
        return Ok(vec![device(name)?]);
    }
    devices.indices().into_iter().map(|i| indexed(name, i)).collect()
}

/// Device `index` of kind `name` (the CPU is one device whatever the index).
#[allow(deprecated, unreachable_code, unused_variables)]
fn indexed(name: DeviceName, index: usize) -> Result<Device, DeviceError> {
    Ok(match resolved(name) {
        DeviceName::Auto | DeviceName::Cpu => Device::flex(),
        DeviceName::Ndarray => {
            #[cfg(feature = "ndarray")]
            return Ok(Device::ndarray());
            return Err(DeviceError::Unavailable("ndarray"));
        }
        DeviceName::Wgpu => {
            #[cfg(feature = "wgpu")]
            return Ok(Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(index)));
            return Err(DeviceError::Unavailable("wgpu"));
        }
        DeviceName::Cuda => {
            #[cfg(feature = "cuda")]
            return Ok(Device::cuda(index));
            return Err(DeviceError::Unavailable("cuda"));
        }
    })
}

/// The device a name resolves to, as the run header shows it: `Cpu (flex)`, `Cpu (ndarray)`,
/// `Wgpu (default adapter: Vulkan, Metal or DX12)`, `Cuda (GPU 0)`.
pub fn describe(name: DeviceName) -> String {
    match resolved(name) {
        DeviceName::Auto | DeviceName::Cpu => "Cpu (flex)".into(),
        DeviceName::Ndarray => "Cpu (ndarray)".into(),
        DeviceName::Wgpu => "Wgpu (default adapter: Vulkan, Metal or DX12)".into(),
        DeviceName::Cuda => "Cuda (GPU 0)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_or_a_list_parses_from_toml_and_the_command_line() {
        #[derive(Deserialize, Serialize)]
        struct T {
            devices: Devices,
        }
        let read = |s: &str| toml::from_str::<T>(s).map(|t| t.devices).map_err(|e| e.to_string());
        assert_eq!(read("devices = 2").unwrap(), Devices::Count(2));
        assert_eq!(read("devices = [0, 3]").unwrap(), Devices::Indices(vec![0, 3]));
        for bad in [
            "devices = 0",
            "devices = []",
            "devices = [1, 1]",
            "devices = -1",
            "devices = \"two\"",
        ] {
            let err = read(bad).unwrap_err();
            assert!(err.contains("number of devices >= 1"), "{bad}: {err}");
        }
        assert_eq!("2".parse::<Devices>().unwrap(), Devices::Count(2));
        assert_eq!("0,2".parse::<Devices>().unwrap(), Devices::Indices(vec![0, 2]));
        assert!(
            "0".parse::<Devices>().is_err() && "1,1".parse::<Devices>().is_err() && "x".parse::<Devices>().is_err()
        );
        let text = toml::to_string(&T {
            devices: Devices::Indices(vec![1, 0]),
        })
        .unwrap();
        assert_eq!(read(&text).unwrap(), Devices::Indices(vec![1, 0]));
    }

    #[test]
    fn cpu_devices_resolve_to_one_handle_each() {
        let all = devices(DeviceName::Cpu, &Devices::Count(2)).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(devices(DeviceName::Cpu, &Devices::default()).unwrap().len(), 1);
        for empty in [Devices::Count(0), Devices::Indices(vec![])] {
            let err = devices(DeviceName::Cpu, &empty).unwrap_err().to_string();
            assert!(err.contains("number of devices >= 1"), "{err}");
        }
    }
}
