//! The `storyhash` binary: parses arguments and calls the library.

mod cli;

fn main() {
    fix_mmap_threshold();
    std::process::exit(cli::main());
}

/// Fixes glibc's mmap threshold at its starting value, 128 KiB, for the whole run, unless the
/// environment sets it for glibc (`MALLOC_MMAP_THRESHOLD_`, or `glibc.malloc.mmap_threshold` in
/// `GLIBC_TUNABLES`). Returns whether it was set here.
///
/// By default glibc raises the threshold (up to 32 MiB) each time a block it mapped is freed,
/// so that later blocks of that size come from the heap; freed there, between live blocks, they
/// stay resident. A run frees read buffers and large tables as it goes: at 1M articles
/// its peak held about 50 MB of such freed memory (resident peak 225 MB as is, 177 MB with the
/// threshold fixed, the same speed; 2026-11-27). Setting the threshold also turns the
/// adjustment off.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code, reason = "the binary's one foreign call: a glibc tunable")]
fn fix_mmap_threshold() -> bool {
    if told_by_environment() {
        return false;
    }
    // SAFETY: mallopt has no preconditions: it sets a parameter of the allocator. `main` calls
    // it before any other thread exists. (The unit test calls it while other tests run; glibc
    // sets the parameter under the main arena's lock, and a concurrent malloc reading the old or
    // the new value is fine either way.)
    let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10) };
    set == 1
}

/// Whether the environment sets glibc's mmap threshold itself.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn told_by_environment() -> bool {
    std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
        || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("glibc.malloc.mmap_threshold"))
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
        assert_eq!(super::fix_mmap_threshold(), !super::told_by_environment());
    }
}
