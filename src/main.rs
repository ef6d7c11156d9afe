//! The `storyhash` binary: parses arguments and calls the library.

mod cli;

fn main() {
    fix_mmap_threshold();
    std::process::exit(cli::main());
}

/// Fixes glibc's mmap threshold at its starting value, 128 KiB, for the whole run, unless
/// `MALLOC_MMAP_THRESHOLD_` (glibc's own setting) is in the environment. Returns whether it was
/// set here.
///
/// By default glibc raises the threshold (up to 32 MiB) each time a block it mapped is freed,
/// so that later blocks of that size come from the heap; freed there, between live blocks, they
/// stay resident. A run frees 8 MiB read buffers and large tables as it goes: at 1M articles
/// its peak held about 50 MB of such freed memory (resident peak 225 MB as is, 177 MB with the
/// threshold fixed, the same speed; 2026-11-27). Setting the threshold also turns the
/// adjustment off.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code, reason = "the binary's one foreign call: a glibc tunable")]
fn fix_mmap_threshold() -> bool {
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some() {
        return false;
    }
    // SAFETY: mallopt has no preconditions: it sets a tunable of the allocator, and runs here
    // before any other thread exists.
    let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10) };
    set == 1
}

/// Other allocators do not keep freed memory as glibc's heap does.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fix_mmap_threshold() -> bool {
    false
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    /// glibc takes the setting (mallopt returns 1 on success), unless told otherwise.
    #[test]
    fn glibc_takes_the_threshold() {
        let told = std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some();
        assert_eq!(super::fix_mmap_threshold(), !told);
    }
}
