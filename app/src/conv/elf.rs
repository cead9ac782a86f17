//! A shared library is checked before `dlopen` maps it: opening a damaged one (the first
//! kilobytes of a binary, a truncated `libdnnl.so.2`) ends the process with `SIGBUS` when the
//! loader touches a segment past the end of the file, before any error can be returned. Here it
//! must be an ELF shared object of this machine's class, byte order and architecture whose
//! program headers, segments and section headers all lie inside the file.

use std::path::{Path, PathBuf};

/// `e_machine` of the architecture this binary runs on (`None`: not checked).
fn machine() -> Option<u64> {
    match std::env::consts::ARCH {
        "x86_64" => Some(62),
        "aarch64" => Some(183),
        "x86" => Some(3),
        "arm" => Some(40),
        "riscv64" => Some(243),
        "powerpc64" => Some(21),
        "s390x" => Some(22),
        _ => None,
    }
}

/// Where the dynamic loader would find `name` (a bare file name such as `libdnnl.so.2`), in its
/// order: `LD_LIBRARY_PATH`, then its cache (`ldconfig -p`, which holds `/usr/local/lib` and
/// the `ld.so.conf.d` folders), then the default folders. `None` when none has it (`dlopen` will
/// say so). A name with a `/` is a path.
pub fn locate(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    let from_env = std::env::var("LD_LIBRARY_PATH").unwrap_or_default();
    let in_env = from_env
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file());
    let triple = format!("{}-linux-gnu", std::env::consts::ARCH);
    let defaults = [
        format!("/lib/{triple}"),
        format!("/usr/lib/{triple}"),
        "/lib64".into(),
        "/usr/lib64".into(),
        "/lib".into(),
        "/usr/lib".into(),
    ];
    in_env.or_else(|| in_cache(name)).or_else(|| {
        defaults
            .iter()
            .map(|dir| Path::new(dir).join(name))
            .find(|p| p.is_file())
    })
}

/// The loader cache's path of `name` for this process's word size
/// (`libdnnl.so.2 (libc6,x86-64) => /lib/x86_64-linux-gnu/libdnnl.so.2`).
fn in_cache(name: &str) -> Option<PathBuf> {
    let wide = cfg!(target_pointer_width = "64");
    let listing = ["/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"]
        .iter()
        .find_map(|ldconfig| std::process::Command::new(ldconfig).arg("-p").output().ok())?;
    String::from_utf8_lossy(&listing.stdout).lines().find_map(|line| {
        let (lib, rest) = line.trim().split_once(' ')?;
        let (tag, path) = rest.split_once(" => ")?;
        (lib == name && tag.contains("64") == wide).then(|| PathBuf::from(path.trim()))
    })
}

/// The unsigned integer of `width` bytes at `at`, in the file's byte order.
fn uint_at(b: &[u8], width: usize, at: usize, little: bool) -> Option<u64> {
    let bytes = b.get(at..at.checked_add(width)?)?;
    let push = |acc: u64, byte: &u8| acc << 8 | u64::from(*byte);
    Some(if little {
        bytes.iter().rev().fold(0, push)
    } else {
        bytes.iter().fold(0, push)
    })
}

/// Checks that `path` is a shared library this process can map; see the module documentation.
///
/// # Errors
/// What is wrong with it, in words (`is truncated: a segment ends at byte N of M`).
pub fn check_shared_library(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    check_bytes(&bytes)
}

fn check_bytes(b: &[u8]) -> Result<(), String> {
    let len = b.len() as u64;
    if b.len() < 16 || &b[..4] != b"\x7fELF" {
        return Err("is not an ELF shared library".into());
    }
    let wide = cfg!(target_pointer_width = "64");
    if b[4] != if wide { 2 } else { 1 } {
        return Err(format!(
            "is a {}-bit ELF file, this program is not",
            if wide { 32 } else { 64 }
        ));
    }
    let little = cfg!(target_endian = "little");
    if b[5] != if little { 1 } else { 2 } {
        return Err("is an ELF file of the other byte order".into());
    }
    if !wide {
        return Ok(()); // The layout checks below read the 64-bit headers.
    }
    let short = || "is truncated: its ELF header is incomplete".to_string();
    if uint_at(b, 2, 16, little).ok_or_else(short)? != 3 {
        return Err("is an ELF file but not a shared library".into());
    }
    let arch = uint_at(b, 2, 18, little).ok_or_else(short)?;
    if machine().is_some_and(|m| m != arch) {
        return Err(format!(
            "is an ELF shared library for another architecture (e_machine {arch}, this machine is {})",
            std::env::consts::ARCH
        ));
    }
    let (phoff, shoff) = (
        uint_at(b, 8, 32, little).ok_or_else(short)?,
        uint_at(b, 8, 40, little).ok_or_else(short)?,
    );
    let (phentsize, phnum) = (
        uint_at(b, 2, 54, little).ok_or_else(short)?,
        uint_at(b, 2, 56, little).ok_or_else(short)?,
    );
    let (shentsize, shnum) = (
        uint_at(b, 2, 58, little).ok_or_else(short)?,
        uint_at(b, 2, 60, little).ok_or_else(short)?,
    );
    let inside = |what: &str, start: u64, size: u64| match start.checked_add(size) {
        Some(end) if end <= len => Ok(()),
        _ => Err(format!(
            "is truncated or damaged: its {what} ends past the end of the file ({len} bytes)"
        )),
    };
    inside("program header table", phoff, phentsize * phnum)?;
    if phentsize < 56 {
        return Err("is damaged: its program headers are too short".into());
    }
    for i in 0..phnum {
        let at = (phoff + i * phentsize) as usize;
        let kind = uint_at(b, 4, at, little).ok_or_else(short)?;
        let (offset, filesz) = (
            uint_at(b, 8, at + 8, little).ok_or_else(short)?,
            uint_at(b, 8, at + 32, little).ok_or_else(short)?,
        );
        if kind != 0 {
            inside(&format!("segment {i}"), offset, filesz)?;
        }
    }
    if shnum > 0 {
        inside("section header table", shoff, shentsize * shnum)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_binary_passes_and_its_damaged_copies_do_not() {
        // A test binary is an ELF executable (ET_DYN when position-independent, as Rust builds
        // it on Linux); its prefix and a non-ELF file are refused.
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        if !cfg!(target_os = "linux") || uint_at(&exe, 2, 16, true) != Some(3) {
            return;
        }
        check_bytes(&exe).unwrap();
        let err = check_bytes(&exe[..10_000]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        let err = check_bytes(&exe[..exe.len() - 1]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert!(check_bytes(b"#!/bin/sh\necho hi\n").is_err());
        assert!(check_bytes(&exe[..40]).is_err());
        let mut other = exe.clone();
        other[18] ^= 0x55;
        assert!(check_bytes(&other).unwrap_err().contains("architecture"));
    }
}
