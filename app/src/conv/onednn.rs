//! A small, safe wrapper of oneDNN 2.x's C API (`libdnnl.so.2`, Debian's `libdnnl-dev`, the
//! library behind PyTorch's CPU convolutions): one 2-D convolution's forward pass, its input
//! (data) gradient and its weight gradient, on plain row-major f32 buffers (`NCHW` activations,
//! `OIHW` weights).
//!
//! The library is opened at run time ([`get`]), so a build never needs it: without it,
//! [`get`] says why and the caller keeps Burn's convolution. Each call builds the primitive
//! descriptor with memory format `any` (oneDNN picks its blocked layout, e.g. `nChw8c` for
//! AVX2), reorders the plain buffers in and the result out, and runs on a stream of its own.
//! oneDNN's primitive cache makes a repeated shape cheap. The descriptors are opaque here:
//! they are only passed to the library by pointer, in buffers larger than 2.x's structs.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use super::onednn_api::*;

/// A loaded oneDNN with its CPU engine. Thread-safe: oneDNN's engines and primitives may be
/// used from several threads; each call here has its own stream and memory objects.
pub struct OneDnn {
    api: Api,
    engine: Handle,
    version: String,
    _lib: libloading::Library,
}

// SAFETY: the engine is only read after creation, and oneDNN documents engines and primitives
// as thread-safe; everything else a call creates is its own.
unsafe impl Send for OneDnn {}
unsafe impl Sync for OneDnn {}

/// The shape of one convolution: input `[batch, c_in, h, w]`, weight `[c_out, c_in, kh, kw]`,
/// `stride` and symmetric zero `padding` (rows, columns), no dilation, no groups, no bias.
/// The output is `[batch, c_out, (h + 2 padding - kh) / stride + 1, ...]`, PyTorch's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dShape {
    /// `[batch, c_in, h, w]`.
    pub input: [usize; 4],
    /// `[c_out, c_in, kh, kw]`.
    pub weight: [usize; 4],
    /// `[rows, columns]`, at least 1.
    pub stride: [usize; 2],
    /// `[rows, columns]` of zeros on each side.
    pub padding: [usize; 2],
}

impl Conv2dShape {
    /// `[batch, c_out, oh, ow]`, or `None` when the kernel does not fit the padded input or a
    /// dimension is zero.
    pub fn output(&self) -> Option<[usize; 4]> {
        let [n, c, h, w] = self.input;
        let [o, ci, kh, kw] = self.weight;
        let fits = |len: usize, k: usize, p: usize| len + 2 * p >= k;
        if n * c * h * w * o * kh * kw == 0 || ci != c || self.stride.contains(&0) {
            return None;
        }
        if !fits(h, kh, self.padding[0]) || !fits(w, kw, self.padding[1]) {
            return None;
        }
        let out = |len: usize, k: usize, s: usize, p: usize| (len + 2 * p - k) / s + 1;
        Some([
            n,
            o,
            out(h, kh, self.stride[0], self.padding[0]),
            out(w, kw, self.stride[1], self.padding[1]),
        ])
    }

    fn checked(&self) -> Result<[usize; 4], String> {
        self.output()
            .ok_or_else(|| format!("oneDNN convolution: unsupported shape {self:?}"))
    }
}

static ONEDNN: OnceLock<Result<OneDnn, String>> = OnceLock::new();

/// The process's oneDNN, opened on first use from `BURN_LR_ONEDNN_LIB` if set, else
/// `libdnnl.so.2` (`apt-get install libdnnl-dev`, or Debian's `libdnnl2`). Errors: the library
/// is missing, lacks an entry point, is not oneDNN 2.x, or has no CPU engine.
pub fn get() -> Result<&'static OneDnn, &'static str> {
    ONEDNN.get_or_init(OneDnn::open).as_ref().map_err(String::as_str)
}

impl OneDnn {
    fn open() -> Result<Self, String> {
        let path = std::env::var("BURN_LR_ONEDNN_LIB").unwrap_or_else(|_| "libdnnl.so.2".into());
        // A damaged file would end the process with SIGBUS inside the loader.
        if let Some(file) = super::elf::locate(&path).filter(|f| f.exists()) {
            super::elf::check_shared_library(&file).map_err(|why| {
                format!(
                    "oneDNN 2.x ({}) {why}; reinstall it with `apt-get install --reinstall libdnnl2`",
                    file.display()
                )
            })?;
        }
        // SAFETY: loading oneDNN runs its (and OpenMP's) initialisers, which have no
        // preconditions.
        let lib = unsafe { libloading::Library::new(&path) }.map_err(|e| {
            format!("oneDNN 2.x ({path}) cannot be opened: {e}; install it with `apt-get install libdnnl-dev` (Debian 12, Ubuntu 22.04: oneDNN 2.x)")
        })?;
        let api = Api::resolve(&lib).map_err(|e| format!("{path} is not oneDNN 2.x: {e}"))?;
        // SAFETY: `dnnl_version` returns a pointer to a static struct.
        let v = unsafe { &*(api.version)() };
        if v.major != 2 {
            return Err(format!(
                "{path} is oneDNN {}.{}, this wrapper needs 2.x",
                v.major, v.minor
            ));
        }
        let mut engine = null_mut();
        // SAFETY: out-pointer to a handle; CPU engine 0.
        dnnl("creating the CPU engine", unsafe {
            (api.engine_create)(&mut engine, ENGINE_CPU, 0)
        })?;
        let version = format!("{}.{}.{}", v.major, v.minor, v.patch);
        Ok(Self {
            api,
            engine,
            version,
            _lib: lib,
        })
    }

    /// The library's version, e.g. `2.6.3`.
    pub fn version(&self) -> &str {
        &self.version
    }

    fn plain_md(&self, dims: [usize; 4], tag: c_int) -> Result<Box<Md>, String> {
        let mut md = Md::new();
        // SAFETY: `md` is larger than dnnl_memory_desc_t; `dims` holds 12 entries.
        dnnl("a memory descriptor", unsafe {
            (self.api.md_init_by_tag)(&mut *md, 4, dims4(dims).as_ptr(), F32, tag)
        })?;
        Ok(md)
    }

    fn forward_pd(&self, s: &Conv2dShape, out: [usize; 4]) -> Result<Guard, String> {
        let (src, wei, dst) = (
            self.plain_md(s.input, TAG_ANY)?,
            self.plain_md(s.weight, TAG_ANY)?,
            self.plain_md(out, TAG_ANY)?,
        );
        let mut desc = Box::new(OpDesc([0; 16384]));
        let (st, pad) = (dims2(s.stride), dims2(s.padding));
        // SAFETY: every descriptor is initialised; bias is absent (null).
        dnnl("the convolution descriptor", unsafe {
            (self.api.conv_forward_init)(
                &mut *desc,
                FORWARD_TRAINING,
                CONVOLUTION_DIRECT,
                &*src,
                &*wei,
                null(),
                &*dst,
                st.as_ptr(),
                pad.as_ptr(),
                pad.as_ptr(),
            )
        })?;
        self.pd(&desc, null_mut())
    }

    /// The primitive descriptor of `desc`, its scratchpad left to the caller ([`Self::run`]).
    fn pd(&self, desc: &OpDesc, hint: Handle) -> Result<Guard, String> {
        let api = &self.api;
        let mut attr = null_mut();
        // SAFETY: out-pointer.
        dnnl("primitive attributes", unsafe { (api.attr_create)(&mut attr) })?;
        let attr = Guard(attr, api.attr_destroy);
        // SAFETY: a valid attribute object.
        dnnl("the scratchpad mode", unsafe {
            (api.attr_set_scratchpad_mode)(attr.0, SCRATCHPAD_USER)
        })?;
        let mut pd = null_mut();
        // SAFETY: `desc` was initialised by a *_desc_init call; the descriptor copies `attr`.
        dnnl("the primitive descriptor", unsafe {
            (api.pd_create)(&mut pd, desc, attr.0, self.engine, hint)
        })?;
        Ok(Guard(pd, api.pd_destroy))
    }

    /// The implementation oneDNN picks for the forward pass of `shape` (e.g. `jit:avx2`).
    pub fn implementation(&self, shape: &Conv2dShape) -> Result<String, String> {
        let pd = self.forward_pd(shape, shape.checked()?)?;
        let mut info: *const c_char = null();
        // SAFETY: the query writes a pointer to a string owned by the descriptor.
        dnnl("the implementation query", unsafe {
            (self.api.pd_query)(pd.0, QUERY_IMPL_INFO_STR, 0, &mut info as *mut _ as *mut c_void)
        })?;
        // SAFETY: a NUL-terminated string alive while `pd` is.
        Ok(unsafe { CStr::from_ptr(info) }.to_string_lossy().into_owned())
    }

    /// `y = conv(x, weight)`: `x` `[batch, c_in, h, w]`, `weight` `[c_out, c_in, kh, kw]`,
    /// both row-major; returns `y` `[batch, c_out, oh, ow]` row-major.
    pub fn forward(&self, s: &Conv2dShape, x: &[f32], weight: &[f32]) -> Result<Vec<f32>, String> {
        let out = s.checked()?;
        check_len(x, s.input)?;
        check_len(weight, s.weight)?;
        let pd = self.forward_pd(s, out)?;
        let mut y = vec![0f32; out.iter().product()];
        self.run(
            &pd,
            &[
                (ARG_SRC, QUERY_SRC, s.input, Buffer::In(x.as_ptr())),
                (ARG_WEIGHTS, QUERY_WEIGHTS, s.weight, Buffer::In(weight.as_ptr())),
                (ARG_DST, QUERY_DST, out, Buffer::Out(y.as_mut_ptr())),
            ],
        )?;
        Ok(y)
    }

    /// The input gradient `dL/dx` `[batch, c_in, h, w]` from `dL/dy` `grad` `[batch, c_out,
    /// oh, ow]` and `weight` `[c_out, c_in, kh, kw]`.
    pub fn backward_data(&self, s: &Conv2dShape, weight: &[f32], grad: &[f32]) -> Result<Vec<f32>, String> {
        let out = s.checked()?;
        check_len(weight, s.weight)?;
        check_len(grad, out)?;
        let hint = self.forward_pd(s, out)?;
        let (dsrc, wei, ddst) = (
            self.plain_md(s.input, TAG_ANY)?,
            self.plain_md(s.weight, TAG_ANY)?,
            self.plain_md(out, TAG_ANY)?,
        );
        let mut desc = Box::new(OpDesc([0; 16384]));
        let (st, pad) = (dims2(s.stride), dims2(s.padding));
        // SAFETY: every descriptor is initialised.
        dnnl("the data-gradient descriptor", unsafe {
            (self.api.conv_backward_data_init)(
                &mut *desc,
                CONVOLUTION_DIRECT,
                &*dsrc,
                &*wei,
                &*ddst,
                st.as_ptr(),
                pad.as_ptr(),
                pad.as_ptr(),
            )
        })?;
        let pd = self.pd(&desc, hint.0)?;
        let mut dx = vec![0f32; s.input.iter().product()];
        self.run(
            &pd,
            &[
                (ARG_DIFF_DST, QUERY_DIFF_DST, out, Buffer::In(grad.as_ptr())),
                (ARG_WEIGHTS, QUERY_WEIGHTS, s.weight, Buffer::In(weight.as_ptr())),
                (ARG_DIFF_SRC, QUERY_DIFF_SRC, s.input, Buffer::Out(dx.as_mut_ptr())),
            ],
        )?;
        Ok(dx)
    }

    /// The weight gradient `dL/dweight` `[c_out, c_in, kh, kw]` from the input `x` `[batch,
    /// c_in, h, w]` and `dL/dy` `grad` `[batch, c_out, oh, ow]`.
    pub fn backward_weights(&self, s: &Conv2dShape, x: &[f32], grad: &[f32]) -> Result<Vec<f32>, String> {
        let out = s.checked()?;
        check_len(x, s.input)?;
        check_len(grad, out)?;
        let hint = self.forward_pd(s, out)?;
        let (src, dwei, ddst) = (
            self.plain_md(s.input, TAG_ANY)?,
            self.plain_md(s.weight, TAG_ANY)?,
            self.plain_md(out, TAG_ANY)?,
        );
        let mut desc = Box::new(OpDesc([0; 16384]));
        let (st, pad) = (dims2(s.stride), dims2(s.padding));
        // SAFETY: every descriptor is initialised; no bias gradient (null).
        dnnl("the weight-gradient descriptor", unsafe {
            (self.api.conv_backward_weights_init)(
                &mut *desc,
                CONVOLUTION_DIRECT,
                &*src,
                &*dwei,
                null(),
                &*ddst,
                st.as_ptr(),
                pad.as_ptr(),
                pad.as_ptr(),
            )
        })?;
        let pd = self.pd(&desc, hint.0)?;
        let mut dw = vec![0f32; s.weight.iter().product()];
        self.run(
            &pd,
            &[
                (ARG_SRC, QUERY_SRC, s.input, Buffer::In(x.as_ptr())),
                (ARG_DIFF_DST, QUERY_DIFF_DST, out, Buffer::In(grad.as_ptr())),
                (
                    ARG_DIFF_WEIGHTS,
                    QUERY_DIFF_WEIGHTS,
                    s.weight,
                    Buffer::Out(dw.as_mut_ptr()),
                ),
            ],
        )?;
        Ok(dw)
    }

    /// Runs the primitive of `pd` on plain buffers: each argument `(arg, query, dims, buffer)`
    /// is reordered from (inputs) or to (outputs) the layout the primitive chose when it
    /// differs from the plain one.
    fn run(&self, pd: &Guard, args: &[(c_int, c_int, [usize; 4], Buffer)]) -> Result<(), String> {
        let api = &self.api;
        // Declared first, so dropped last (also on an early return): the memories' own buffers.
        let mut buffers = Vec::new();
        let mut stream = null_mut();
        // SAFETY: out-pointer; `dnnl_stream_default_flags` (in order).
        dnnl("a stream", unsafe {
            (api.stream_create)(&mut stream, self.engine, STREAM_DEFAULT_FLAGS)
        })?;
        // Waits for the work on it before it is destroyed, before any buffer is freed.
        let stream = Stream(Guard(stream, api.stream_destroy), api.stream_wait);
        let mut keep = Vec::new(); // memories and reorders, destroyed after the wait
        let mut exec = Vec::new();
        let mut after = Vec::new(); // reorders of the outputs, run after the primitive
                                    // SAFETY: the descriptor answers a query of its scratchpad.
        let scratch_md = unsafe { (api.pd_query_md)(pd.0, QUERY_SCRATCHPAD, 0) };
        // SAFETY: an initialised descriptor (a zero size when none is needed).
        if !scratch_md.is_null() && unsafe { (api.md_get_size)(scratch_md) } > 0 {
            let (scratch, buf) = self.memory_chosen(scratch_md)?;
            buffers.push(buf);
            exec.push(ExecArg {
                arg: ARG_SCRATCHPAD,
                memory: scratch.0,
            });
            keep.push(scratch);
        }
        for (arg, query, dims, buffer) in args {
            let plain = self.plain_md(*dims, TAG_ABCD)?;
            // SAFETY: the descriptor answers a query of one of its own arguments.
            let chosen = unsafe { (api.pd_query_md)(pd.0, *query, 0) };
            if chosen.is_null() {
                return Err(format!("oneDNN: the primitive has no argument {query}"));
            }
            let user = self.memory(&plain, buffer.ptr())?;
            // SAFETY: both descriptors are initialised.
            if unsafe { (api.md_equal)(&*plain, chosen) } == 1 {
                exec.push(ExecArg {
                    arg: *arg,
                    memory: user.0,
                });
                keep.push(user);
                continue;
            }
            let (inner, buf) = self.memory_chosen(chosen)?;
            buffers.push(buf);
            exec.push(ExecArg {
                arg: *arg,
                memory: inner.0,
            });
            match buffer {
                Buffer::In(_) => {
                    self.reorder(stream.handle(), &*plain, &user, chosen, &inner)?;
                    keep.push(inner);
                }
                Buffer::Out(_) => after.push((user, inner, plain, chosen)),
            }
        }
        let mut prim = null_mut();
        // SAFETY: `pd` is a valid primitive descriptor.
        dnnl("creating the primitive", unsafe {
            (api.primitive_create)(&mut prim, pd.0)
        })?;
        let prim = Guard(prim, api.primitive_destroy);
        // SAFETY: every argument's memory lives until the wait below.
        dnnl("running the convolution", unsafe {
            (api.primitive_execute)(prim.0, stream.handle(), exec.len() as c_int, exec.as_ptr())
        })?;
        for (user, inner, plain, chosen) in &after {
            self.reorder(stream.handle(), *chosen, inner, &**plain, user)?;
        }
        // SAFETY: the stream is valid.
        dnnl("waiting for the stream", unsafe { (api.stream_wait)(stream.handle()) })?;
        drop(after);
        drop(keep);
        drop(buffers);
        Ok(())
    }

    fn memory(&self, md: &Md, ptr: Handle) -> Result<Guard, String> {
        let mut mem = null_mut();
        // SAFETY: `md` is initialised; `ptr` points to a buffer of the descriptor's size, alive
        // for the whole call (the caller's slice).
        dnnl("a memory object", unsafe {
            (self.api.memory_create)(&mut mem, md, self.engine, ptr)
        })?;
        Ok(Guard(mem, self.api.memory_destroy))
    }

    /// A memory of the primitive's layout `md` on a buffer of Rust's allocator (the caller
    /// keeps it until the memory is destroyed). oneDNN's own buffers come from the C
    /// allocator, where the large ones are fresh pages, zeroed by the kernel, on every call;
    /// the binary's allocator (mimalloc) reuses them.
    fn memory_chosen(&self, md: *const Md) -> Result<(Guard, Vec<u8>), String> {
        // SAFETY: `md` is an initialised descriptor of the primitive.
        let size = unsafe { (self.api.md_get_size)(md) };
        let mut buf: Vec<u8> = Vec::with_capacity(size + ALIGN);
        // Only oneDNN writes and reads the buffer (never Rust), so it needs no initialisation.
        let ptr = buf.as_mut_ptr();
        // SAFETY: the offset to the next 64-byte boundary is within the capacity.
        let aligned = unsafe { ptr.add((ALIGN - ptr as usize % ALIGN) % ALIGN) };
        let mut mem = null_mut();
        // SAFETY: `md` is the primitive's; `aligned` has `size` bytes, alive as long as `buf`.
        dnnl("a memory object", unsafe {
            (self.api.memory_create)(&mut mem, md, self.engine, aligned as Handle)
        })?;
        Ok((Guard(mem, self.api.memory_destroy), buf))
    }

    fn reorder(
        &self,
        stream: Handle,
        from_md: *const Md,
        from: &Guard,
        to_md: *const Md,
        to: &Guard,
    ) -> Result<(), String> {
        let api = &self.api;
        let mut pd = null_mut();
        // SAFETY: both descriptors are initialised and describe the same tensor.
        dnnl("a reorder", unsafe {
            (api.reorder_pd_create)(&mut pd, from_md, self.engine, to_md, self.engine, null_mut())
        })?;
        let pd = Guard(pd, api.pd_destroy);
        let mut prim = null_mut();
        // SAFETY: `pd` is a reorder descriptor.
        dnnl("a reorder primitive", unsafe {
            (api.primitive_create)(&mut prim, pd.0)
        })?;
        let prim = Guard(prim, api.primitive_destroy);
        let args = [
            ExecArg {
                arg: ARG_SRC,
                memory: from.0,
            },
            ExecArg {
                arg: ARG_DST,
                memory: to.0,
            },
        ];
        // SAFETY: both memories are alive until the stream's wait (the caller's guards).
        dnnl("running a reorder", unsafe {
            (api.primitive_execute)(prim.0, stream, 2, args.as_ptr())
        })?;
        // SAFETY: the stream is valid; the reorder finishes before its primitive is dropped.
        dnnl("waiting for a reorder", unsafe { (api.stream_wait)(stream) })
    }
}

/// A caller's plain buffer, already checked against its shape: read (an input, from
/// `as_ptr`) or written (an output, from `as_mut_ptr`), alive for the whole call.
enum Buffer {
    In(*const f32),
    Out(*mut f32),
}

impl Buffer {
    fn ptr(&self) -> Handle {
        match *self {
            // oneDNN only reads an input's memory.
            Buffer::In(p) => p as Handle,
            Buffer::Out(p) => p as Handle,
        }
    }
}

fn check_len(data: &[f32], dims: [usize; 4]) -> Result<(), String> {
    match data.len() == dims.iter().product::<usize>() {
        true => Ok(()),
        false => Err(format!(
            "oneDNN convolution: a buffer of {} values for shape {dims:?}",
            data.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(input: [usize; 4], weight: [usize; 4], stride: usize, padding: usize) -> Conv2dShape {
        Conv2dShape {
            input,
            weight,
            stride: [stride; 2],
            padding: [padding; 2],
        }
    }

    #[test]
    fn the_output_shape_is_pytorchs() {
        // floor((h + 2p - k) / s) + 1, as torch.nn.Conv2d.
        assert_eq!(
            shape([2, 3, 32, 32], [16, 3, 3, 3], 1, 1).output(),
            Some([2, 16, 32, 32])
        );
        assert_eq!(
            shape([1, 16, 32, 32], [32, 16, 1, 1], 2, 0).output(),
            Some([1, 32, 16, 16])
        );
        assert_eq!(shape([1, 7, 13, 11], [5, 7, 7, 7], 2, 3).output(), Some([1, 5, 7, 6]));
        assert_eq!(shape([1, 1, 5, 5], [1, 1, 3, 3], 3, 0).output(), Some([1, 1, 1, 1]));
    }

    #[test]
    fn shapes_onednn_cannot_run_are_refused() {
        assert_eq!(shape([1, 3, 2, 2], [4, 3, 5, 5], 1, 1).output(), None); // kernel > padded input
        assert_eq!(shape([1, 3, 8, 8], [4, 2, 3, 3], 1, 1).output(), None); // channels differ
        assert_eq!(shape([0, 3, 8, 8], [4, 3, 3, 3], 1, 1).output(), None); // empty batch
        assert_eq!(shape([1, 3, 8, 8], [4, 3, 3, 3], 0, 1).output(), None); // stride 0
        let err = shape([1, 3, 8, 8], [4, 2, 3, 3], 1, 1).checked().unwrap_err();
        assert!(err.starts_with("oneDNN convolution: unsupported shape"), "{err}");
    }
}
