//! The output directory of a run: created if absent, locked while a run writes in it, and swept
//! of the temporary files a killed run left behind.
//!
//! Every output is written under a temporary name and renamed into place
//! ([`crate::report::AtomicFile`]), and standard input is spooled to a temporary file
//! ([`crate::ingest::Input::open`]). A run that is killed leaves those files behind: as large as
//! the deduplicated corpus or the whole input. The lock makes it safe to delete them at the next
//! run's start (no other storyhash can be writing them), and keeps two runs from writing into one
//! directory at once.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The lock file's name inside the directory.
pub const LOCK: &str = ".storyhash.lock";

/// The outputs written under a temporary name `.NAME.XXXXXX`.
const OUTPUT_NAMES: &[&str] = &[
    "articles.jsonl",
    "deduped.jsonl",
    "duplicates.jsonl",
    "rejects.jsonl",
    "stories.jsonl",
    "summary.json",
    "report.md",
    "report.html",
];

/// The prefix of standard input's spooled copy.
pub const INPUT_SPOOL_PREFIX: &str = ".storyhash-input-";

/// Random characters that end a temporary name (the `tempfile` crate's default).
const RANDOM_CHARS: usize = 6;

/// An output directory held for one run: the lock goes when this is dropped (or the process
/// ends, however it ends).
#[derive(Debug)]
pub struct OutDir {
    path: PathBuf,
    created: bool,
    _lock: File,
}

/// A temporary file of an interrupted run, removed by [`OutDir::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// The file's path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

impl OutDir {
    /// Creates `path` if absent, takes its lock, and removes the temporary files that earlier,
    /// interrupted runs left in it (returned, for a note). Fails if another storyhash holds the
    /// lock, or if `path` is not a directory.
    pub fn open(path: &Path) -> Result<(OutDir, Vec<Leftover>)> {
        if path.exists() && !path.is_dir() {
            return Err(Error::Config(format!(
                "--out {}: is not a directory (--out takes a directory, created if absent)",
                path.display()
            )));
        }
        let created = !path.exists();
        fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        let lock_path = path.join(LOCK);
        let mut lock = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&lock_path).unwrap_or_default();
                let holder = match holder.trim() {
                    "" => "process unknown".to_string(),
                    h => h.to_string(),
                };
                return Err(Error::io(
                    path,
                    std::io::Error::new(
                        std::io::ErrorKind::WouldBlock,
                        format!(
                            "another storyhash is writing into this directory ({holder}); wait for it to finish or give another --out (the lock goes when that process ends, even if it crashes)"
                        ),
                    ),
                ));
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&lock_path, e)),
        }
        let stamp = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
        lock.set_len(0)
            .and_then(|()| writeln!(lock, "pid {} since {stamp}", std::process::id()))
            .map_err(|e| Error::io(&lock_path, e))?;
        let leftovers = remove_leftovers(path)?;
        Ok((
            OutDir {
                path: path.to_path_buf(),
                created,
                _lock: lock,
            },
            leftovers,
        ))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// After a failed run: removes the directory if this run created it and left nothing else
    /// in it.
    pub fn discard(self) {
        if self.created {
            let _ = fs::remove_file(self.path.join(LOCK));
            let _ = fs::remove_dir(&self.path);
        }
    }
}

/// True for the name of a temporary file storyhash writes in an output directory.
fn is_leftover_name(name: &str) -> bool {
    let random_tail =
        |rest: &str| rest.len() == RANDOM_CHARS && rest.bytes().all(|b| b.is_ascii_alphanumeric());
    if let Some(rest) = name.strip_prefix(INPUT_SPOOL_PREFIX) {
        return random_tail(rest);
    }
    name.strip_prefix('.').is_some_and(|rest| {
        OUTPUT_NAMES.iter().any(|output| {
            rest.strip_prefix(output)
                .and_then(|r| r.strip_prefix('.'))
                .is_some_and(random_tail)
        })
    })
}

/// Removes the temporary files of interrupted runs from `dir` (held locked), sorted by name.
fn remove_leftovers(dir: &Path) -> Result<Vec<Leftover>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && entry.file_name().to_str().is_some_and(is_leftover_name) {
            let bytes = entry.metadata().map_or(0, |m| m.len());
            found.push(Leftover {
                path: entry.path(),
                bytes,
            });
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    for leftover in &found {
        fs::remove_file(&leftover.path).map_err(|e| Error::io(&leftover.path, e))?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_storyhash_temporary_names_are_leftovers() {
        for name in [
            ".deduped.jsonl.AbC123",
            ".report.html.000000",
            ".summary.json.zzzzzz",
            ".storyhash-input-q1W2e3",
        ] {
            assert!(is_leftover_name(name), "{name}");
        }
        for name in [
            "deduped.jsonl",
            ".deduped.jsonl",
            ".deduped.jsonl.",
            ".deduped.jsonl.AbC12",
            ".deduped.jsonl.AbC1234",
            ".deduped.jsonl.AbC-12",
            ".deduped.jsonl.bak.AbC123",
            ".notes.txt.AbC123",
            ".storyhash-input-",
            ".storyhash.lock",
            "x.deduped.jsonl.AbC123",
        ] {
            assert!(!is_leftover_name(name), "{name}");
        }
    }

    #[test]
    fn a_second_holder_is_refused_and_the_first_keeps_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let (held, leftovers) = OutDir::open(&out).unwrap();
        assert!(leftovers.is_empty());
        let err = OutDir::open(&out).unwrap_err().to_string();
        assert!(err.contains("another storyhash is writing"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(held);
        let (again, _) = OutDir::open(&out).unwrap();
        // Not created by this holder: discarding keeps it.
        again.discard();
        assert!(out.is_dir());
    }

    #[test]
    fn a_directory_made_by_a_failed_run_goes_with_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fresh");
        let (held, _) = OutDir::open(&out).unwrap();
        assert!(out.join(LOCK).is_file());
        held.discard();
        assert!(!out.exists());
    }
}
