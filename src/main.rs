//! The `storyhash` binary: parses arguments and calls the library.

mod cli;

fn main() {
    fix_mmap_threshold();
    raise_open_files_limit();
    std::process::exit(cli::main());
}

/// Raises the soft limit on open files to the hard limit, as Go's runtime does for every
/// program: an index holds four or five files per night, which a reader (`index stats`,
/// `index export`) keeps open at once, and a night's merge of band keys one per night. Under
/// the common soft limit of 1,024, readers failed with "Too many open files" after 200 to 245
/// nights, and nights themselves after about 1,000. The library checks the limit and says
/// which to raise where even the hard limit is too low. No child process inherits it: the
/// binary starts none (but the test hook that kills it).
fn raise_open_files_limit() {
    #[cfg(unix)]
    let _ = rlimit::increase_nofile_limit(u64::MAX);
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
#[allow(unsafe_code, reason = "a foreign call: a glibc tunable")]
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

/// What a run calls where it has just freed much memory in small blocks
/// (`DedupConfig::release_memory`): with glibc, [`trim_heap`].
///
/// glibc returns the top of its heaps to the system, and blocks of the mmap threshold or more,
/// but keeps the free pages between live blocks resident. Exact verification holds the shingle
/// sets of the articles it has read until their last pair is decided, a few hundred bytes each,
/// allocated on the worker threads: at 10M short articles, about 270 MiB stayed resident after it,
/// through clustering and writing, until `malloc_trim` handed it back (peak 1,586 MiB against
/// 1,851, 2026-11-28).
pub(crate) fn release_memory() -> Option<fn()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    return Some(trim_heap);
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    return None;
}

/// Hands the free pages of glibc's heaps, every arena's, back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code, reason = "a foreign call: glibc's heap trim")]
fn trim_heap() {
    // SAFETY: malloc_trim has no preconditions: it takes each arena's lock and releases whole
    // free pages (madvise) without moving any live block. (Its return value says only whether
    // it released anything, pages released before included.)
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    /// glibc takes the setting (mallopt returns 1 on success), unless told otherwise.
    #[test]
    fn glibc_takes_the_threshold() {
        assert_eq!(super::fix_mmap_threshold(), !super::told_by_environment());
    }

    /// The process's resident pages, from /proc/self/statm, in bytes.
    fn resident_bytes() -> usize {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: usize = statm.split(' ').nth(1).unwrap().parse().unwrap();
        pages * 4096
    }

    /// Free pages between live blocks are handed back: 64 MiB of 8 KiB blocks (below the mmap
    /// threshold, so in the heap), one in sixteen kept, leave runs of 120 KiB free between
    /// live blocks. Freed, they stay resident; trimmed, most of the 60 MiB goes.
    #[test]
    fn trim_hands_back_the_pages_between_live_blocks() {
        if super::told_by_environment() {
            return; // an mmap threshold under 8 KiB would map the blocks
        }
        let mut blocks: Vec<Vec<u8>> = (0..8192).map(|i| vec![i as u8 | 1; 8 << 10]).collect();
        let kept: Vec<Vec<u8>> = blocks.iter_mut().step_by(16).map(std::mem::take).collect();
        drop(blocks);
        let freed = resident_bytes();
        super::trim_heap();
        let trimmed = resident_bytes();
        assert!(
            trimmed + (32 << 20) < freed,
            "resident {freed} bytes after the free, {trimmed} after the trim"
        );
        let intact = |(i, b): (usize, &Vec<u8>)| b.len() == 8 << 10 && b[0] == (i * 16) as u8 | 1;
        assert!(kept.iter().enumerate().all(intact));
    }
}
