//! The devices a run trains on: their names in configs and on the command line, Burn's
//! execution strategy over several of them, and their float type.

mod error;
mod name;
mod precision;
mod strategy;

pub use error::DeviceError;
pub use name::{describe, device, devices, resolved, DeviceName, Devices};
pub use precision::{cast_floats, configure, Precision};
pub use strategy::{describe_all, Strategy};
