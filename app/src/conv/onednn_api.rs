//! oneDNN 2.x's C API as this crate uses it: the opaque descriptors, the constants of
//! `dnnl_types.h`, the entry points resolved from the library ([`Api`]), and the guards that
//! destroy what a call creates (and wait for its stream) on every path out of it.

use std::ffi::{c_char, c_int, c_uint, c_void};

/// `dnnl_memory_desc_t` (696 bytes in oneDNN 2.6), held opaque.
#[repr(C, align(64))]
pub(super) struct Md([u8; 2048]);
/// `dnnl_convolution_desc_t` (5,976 bytes in oneDNN 2.6), held opaque.
#[repr(C, align(64))]
pub(super) struct OpDesc(pub(super) [u8; 16384]);

impl Md {
    pub(super) fn new() -> Box<Self> {
        Box::new(Md([0; 2048]))
    }
}

pub(super) type Handle = *mut c_void;
pub(super) type Status = c_int;

#[repr(C)]
pub(super) struct ExecArg {
    pub(super) arg: c_int,
    pub(super) memory: Handle,
}

#[repr(C)]
pub(super) struct Version {
    pub(super) major: c_int,
    pub(super) minor: c_int,
    pub(super) patch: c_int,
    pub(super) hash: *const c_char,
    pub(super) cpu_runtime: c_uint,
    pub(super) gpu_runtime: c_uint,
}

// Constants of oneDNN 2.x's `dnnl_types.h`.
pub(super) const SUCCESS: Status = 0;
pub(super) const F32: c_int = 3;
pub(super) const TAG_ANY: c_int = 1;
/// `nchw` and `oihw` (the same tag, `abcd`).
pub(super) const TAG_ABCD: c_int = 5;
pub(super) const FORWARD_TRAINING: c_int = 64;
pub(super) const CONVOLUTION_DIRECT: c_int = 1;
pub(super) const ENGINE_CPU: c_int = 1;
pub(super) const QUERY_SRC: c_int = 129;
pub(super) const QUERY_DIFF_SRC: c_int = 130;
pub(super) const QUERY_WEIGHTS: c_int = 131;
pub(super) const QUERY_DIFF_WEIGHTS: c_int = 132;
pub(super) const QUERY_DST: c_int = 133;
pub(super) const QUERY_DIFF_DST: c_int = 134;
pub(super) const QUERY_IMPL_INFO_STR: c_int = 8;
pub(super) const ARG_SRC: c_int = 1;
pub(super) const ARG_DST: c_int = 17;
pub(super) const ARG_WEIGHTS: c_int = 33;
pub(super) const ARG_DIFF_SRC: c_int = 129;
pub(super) const ARG_DIFF_DST: c_int = 145;
pub(super) const ARG_DIFF_WEIGHTS: c_int = 161;
pub(super) const QUERY_SCRATCHPAD: c_int = 136;
pub(super) const ARG_SCRATCHPAD: c_int = 80;
pub(super) const SCRATCHPAD_USER: c_int = 1;
/// `dnnl_stream_default_flags` (`dnnl_stream_in_order`).
pub(super) const STREAM_DEFAULT_FLAGS: c_uint = 1;
/// oneDNN's preferred buffer alignment, in bytes.
pub(super) const ALIGN: usize = 64;

pub(super) type Dims = [i64; 12];

/// The entry points used, resolved once from the library.
pub(super) struct Api {
    pub(super) engine_create: unsafe extern "C" fn(*mut Handle, c_int, usize) -> Status,
    pub(super) stream_create: unsafe extern "C" fn(*mut Handle, Handle, c_uint) -> Status,
    pub(super) stream_wait: unsafe extern "C" fn(Handle) -> Status,
    pub(super) stream_destroy: unsafe extern "C" fn(Handle) -> Status,
    pub(super) md_init_by_tag: unsafe extern "C" fn(*mut Md, c_int, *const i64, c_int, c_int) -> Status,
    pub(super) md_equal: unsafe extern "C" fn(*const Md, *const Md) -> c_int,
    pub(super) md_get_size: unsafe extern "C" fn(*const Md) -> usize,
    pub(super) attr_create: unsafe extern "C" fn(*mut Handle) -> Status,
    pub(super) attr_destroy: unsafe extern "C" fn(Handle) -> Status,
    pub(super) attr_set_scratchpad_mode: unsafe extern "C" fn(Handle, c_int) -> Status,
    pub(super) memory_create: unsafe extern "C" fn(*mut Handle, *const Md, Handle, Handle) -> Status,
    pub(super) memory_destroy: unsafe extern "C" fn(Handle) -> Status,
    pub(super) conv_forward_init: unsafe extern "C" fn(
        *mut OpDesc,
        c_int,
        c_int,
        *const Md,
        *const Md,
        *const Md,
        *const Md,
        *const i64,
        *const i64,
        *const i64,
    ) -> Status,
    pub(super) conv_backward_data_init: unsafe extern "C" fn(
        *mut OpDesc,
        c_int,
        *const Md,
        *const Md,
        *const Md,
        *const i64,
        *const i64,
        *const i64,
    ) -> Status,
    pub(super) conv_backward_weights_init: unsafe extern "C" fn(
        *mut OpDesc,
        c_int,
        *const Md,
        *const Md,
        *const Md,
        *const Md,
        *const i64,
        *const i64,
        *const i64,
    ) -> Status,
    pub(super) pd_create: unsafe extern "C" fn(*mut Handle, *const OpDesc, Handle, Handle, Handle) -> Status,
    pub(super) pd_destroy: unsafe extern "C" fn(Handle) -> Status,
    pub(super) pd_query: unsafe extern "C" fn(Handle, c_int, c_int, *mut c_void) -> Status,
    pub(super) pd_query_md: unsafe extern "C" fn(Handle, c_int, c_int) -> *const Md,
    pub(super) reorder_pd_create:
        unsafe extern "C" fn(*mut Handle, *const Md, Handle, *const Md, Handle, Handle) -> Status,
    pub(super) primitive_create: unsafe extern "C" fn(*mut Handle, Handle) -> Status,
    pub(super) primitive_destroy: unsafe extern "C" fn(Handle) -> Status,
    pub(super) primitive_execute: unsafe extern "C" fn(Handle, Handle, c_int, *const ExecArg) -> Status,
    pub(super) version: unsafe extern "C" fn() -> *const Version,
}

pub(super) fn dnnl(what: &str, status: Status) -> Result<(), String> {
    match status {
        SUCCESS => Ok(()),
        s => Err(format!("oneDNN: {what} failed (dnnl_status_t {s})")),
    }
}

pub(super) fn dims4(d: [usize; 4]) -> Dims {
    let mut out = [0i64; 12];
    for (o, v) in out.iter_mut().zip(d) {
        *o = v as i64;
    }
    out
}

pub(super) fn dims2(d: [usize; 2]) -> Dims {
    dims4([d[0], d[1], 0, 0])
}

/// Destroys a oneDNN object when dropped.
pub(super) struct Guard(pub(super) Handle, pub(super) unsafe extern "C" fn(Handle) -> Status);

/// A stream, waited for before it is destroyed (on every path out of a call).
pub(super) struct Stream(pub(super) Guard, pub(super) unsafe extern "C" fn(Handle) -> Status);

impl Stream {
    pub(super) fn handle(&self) -> Handle {
        self.0 .0
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: a valid stream; the guard destroys it after the wait.
        unsafe { (self.1)(self.0 .0) };
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the handle came from the matching create call and is destroyed once.
            unsafe { (self.1)(self.0) };
        }
    }
}

impl Api {
    pub(super) fn resolve(lib: &libloading::Library) -> Result<Self, libloading::Error> {
        /// SAFETY (of each use): the symbol's C signature in oneDNN 2.x's `dnnl.h` is the
        /// field's type.
        macro_rules! sym {
            ($name:literal) => {
                *unsafe { lib.get(concat!($name, "\0").as_bytes()) }?
            };
        }
        Ok(Self {
            engine_create: sym!("dnnl_engine_create"),
            stream_create: sym!("dnnl_stream_create"),
            stream_wait: sym!("dnnl_stream_wait"),
            stream_destroy: sym!("dnnl_stream_destroy"),
            md_init_by_tag: sym!("dnnl_memory_desc_init_by_tag"),
            md_equal: sym!("dnnl_memory_desc_equal"),
            md_get_size: sym!("dnnl_memory_desc_get_size"),
            attr_create: sym!("dnnl_primitive_attr_create"),
            attr_destroy: sym!("dnnl_primitive_attr_destroy"),
            attr_set_scratchpad_mode: sym!("dnnl_primitive_attr_set_scratchpad_mode"),
            memory_create: sym!("dnnl_memory_create"),
            memory_destroy: sym!("dnnl_memory_destroy"),
            conv_forward_init: sym!("dnnl_convolution_forward_desc_init"),
            conv_backward_data_init: sym!("dnnl_convolution_backward_data_desc_init"),
            conv_backward_weights_init: sym!("dnnl_convolution_backward_weights_desc_init"),
            pd_create: sym!("dnnl_primitive_desc_create"),
            pd_destroy: sym!("dnnl_primitive_desc_destroy"),
            pd_query: sym!("dnnl_primitive_desc_query"),
            pd_query_md: sym!("dnnl_primitive_desc_query_md"),
            reorder_pd_create: sym!("dnnl_reorder_primitive_desc_create"),
            primitive_create: sym!("dnnl_primitive_create"),
            primitive_destroy: sym!("dnnl_primitive_destroy"),
            primitive_execute: sym!("dnnl_primitive_execute"),
            version: sym!("dnnl_version"),
        })
    }
}
