//! The output directory of a run: created if absent, locked while a run writes in it, and swept
//! of the temporary files a killed run left behind.
//!
//! Every output is written under a temporary name and renamed into place
//! ([`crate::report::AtomicFile`]), and standard input is spooled to a temporary file
//! ([`crate::ingest::Input::open`]). A run that is killed leaves those files behind: as large as
//! the deduplicated corpus or the whole input. The lock makes it safe for the next run to delete
//! them once its inputs are open (no other storyhash can be writing them), and keeps two runs
//! from writing into one directory at once.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ingest::Reject;
use crate::pipeline::{ALREADY_INDEXED, InputStats};

/// The lock file's name inside the directory.
pub const LOCK: &str = ".storyhash.lock";

/// The outputs written under a temporary name `.NAME.XXXXXX`: every name the reports create
/// through [`crate::report::AtomicFile`], which checks it in debug builds.
pub(crate) const OUTPUT_NAMES: &[&str] = &[
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

/// Writes and syncs, under a temporary name, the [`BATCH_MARK`] that says `out_dir`'s outputs
/// are those of the batch read from `inputs` (by their [`InputStats::content`]) and added to
/// `index`: published with the outputs.
pub(crate) fn batch_mark_file(
    out_dir: &Path,
    index: &Path,
    inputs: &[InputStats],
) -> Result<crate::report::Finished> {
    let mark = BatchMark {
        index: dir_id(index).ok_or_else(|| {
            Error::io(
                index,
                std::io::Error::other("cannot tell the index directory's identity"),
            )
        })?,
        inputs: inputs.iter().filter_map(|i| i.content).collect(),
    };
    let path = out_dir.join(BATCH_MARK);
    let mut builder = tempfile::Builder::new();
    let prefix = format!("{BATCH_MARK}.");
    builder.prefix(&prefix);
    // Readable as the outputs are, not private like a tempfile.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder
        .tempfile_in(out_dir)
        .map_err(|e| Error::io(out_dir, e))?;
    serde_json::to_writer(&mut tmp, &mark).map_err(|e| Error::io(&path, e.into()))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(&path, e))?;
    Ok(crate::report::Finished::new(tmp, path))
}

/// An output directory held for one run: the lock goes when this is dropped (or the process
/// ends, however it ends).
#[derive(Debug)]
pub struct OutDir {
    path: PathBuf,
    created: bool,
    _lock: File,
}

/// The file in an output directory that says its outputs are those of a batch added to an
/// index. A run publishes it (or removes an earlier run's) with its outputs, right after them
/// ([`crate::report::write_dedup`]), and before its index update: until then the directory
/// keeps the earlier run's, so that a run killed while it writes leaves the earlier outputs
/// guarded.
pub const BATCH_MARK: &str = ".storyhash-batch.json";

/// What [`BATCH_MARK`] holds.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct BatchMark {
    /// The index directory: its canonical path (as bytes: a path need not be UTF-8), device
    /// and inode (a directory removed and made again may get the inode back, or the path).
    index: (Vec<u8>, u64, u64),
    /// The inputs read: the XXH3-64 of each one's bytes (decompressed) and their number.
    inputs: Vec<(u64, u64)>,
}

/// A directory's canonical path, device and inode.
#[cfg(unix)]
fn dir_id(path: &Path) -> Option<(Vec<u8>, u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).ok()?;
    let canonical = fs::canonicalize(path).ok()?;
    Some((canonical.as_os_str().as_bytes().to_vec(), m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn dir_id(_path: &Path) -> Option<(Vec<u8>, u64, u64)> {
    None
}

/// A temporary file of an interrupted run, removed by [`OutDir::sweep`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// The file's path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

impl OutDir {
    /// Creates `path` if absent and takes its lock. Fails if another storyhash holds the lock,
    /// or if `path` is not a directory.
    pub fn open(path: &Path) -> Result<OutDir> {
        if path.is_symlink() && !path.exists() {
            return Err(Error::Config(format!(
                "--out {}: is a symbolic link to nothing (--out takes a directory, created if absent)",
                path.display()
            )));
        }
        if path.exists() && !path.is_dir() {
            return Err(Error::Config(format!(
                "--out {}: is not a directory (--out takes a directory, created if absent)",
                path.display()
            )));
        }
        let created = !path.exists();
        // An existing directory is not made again: on a read-only file system that failed as
        // "cannot create the output directory", where the lock below names what failed.
        if created {
            fs::create_dir_all(path).map_err(|e| {
                Error::io(
                    path,
                    std::io::Error::new(
                        e.kind(),
                        format!("cannot create the output directory (--out): {e}"),
                    ),
                )
            })?;
        }
        let lock_path = path.join(LOCK);
        let lock = match lock_file(&lock_path)? {
            Ok(lock) => lock,
            Err(holder) => {
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
        };
        Ok(OutDir {
            path: path.to_path_buf(),
            created,
            _lock: lock,
        })
    }

    /// Removes the temporary files that earlier, interrupted runs left in the directory
    /// (returned, sorted by name, for a note), except the files `keep` names (the run's inputs
    /// as read: an operator may feed a killed run's spooled input to the next run, and this
    /// run's own spool has the same kind of name).
    ///
    /// Call it once the inputs are open: standard input and pipes are spooled by then, so a
    /// leftover being fed through a pipe (`cat .storyhash-input-X | storyhash dedup -`) has
    /// been read whole before it goes.
    pub fn sweep(&self, keep: &[&Path]) -> Result<Vec<Leftover>> {
        let keep: Vec<FileId> = keep.iter().filter_map(|p| file_id(p)).collect();
        let dir = &self.path;
        let mut found = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if is_file
                && entry.file_name().to_str().is_some_and(is_leftover_name)
                && !file_id(&entry.path()).is_some_and(|id| keep.contains(&id))
            {
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

    /// Refuses inputs that are outputs of this directory (by device and inode, so that any
    /// name of the file counts): the run would rename its output over the input.
    pub fn check_inputs(&self, inputs: &[&Path]) -> Result<()> {
        for output in OUTPUT_NAMES {
            let path = self.path.join(output);
            // A symbolic link there is replaced, not the file it points to.
            if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                continue;
            }
            let Some(id) = file_id(&path) else {
                continue;
            };
            if let Some(input) = inputs.iter().find(|i| file_id(i).as_ref() == Some(&id)) {
                let input = if input.as_os_str() == "/dev/stdin" {
                    "standard input".to_string()
                } else {
                    input.display().to_string()
                };
                return Err(Error::Config(format!(
                    "input {input} is {}, an output this run replaces: move it out of the output \
                     directory or give another --out",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// Refuses to replace the outputs of the run that added this very batch to `index`, or a
    /// part of it: the directory's [`BATCH_MARK`] was written by a run against `index` whose
    /// inputs included every one of tonight's, by content (`inputs`, each one's
    /// [`InputStats::content`]: whatever its name, place or time), tonight accepted no article
    /// (`accepted`), and some of its lines are rejected as already indexed (the error names the
    /// first). Run again with `--skip-invalid` after a crash once the update took effect, such
    /// a batch rejects every line so, and its outputs, its deduplicated corpus too, were
    /// replaced by an empty night's. The same batch after a crash before the update, or any
    /// batch with a new article, goes on and replaces the outputs, as ever: so does another
    /// input into a `--out` reused every night.
    pub fn check_not_replacing_added_batch(
        &self,
        rejects: &[Reject],
        accepted: usize,
        inputs: &[InputStats],
        index: &Path,
    ) -> Result<()> {
        if accepted > 0 {
            return Ok(());
        }
        let Some(first) = rejects.iter().find(|r| r.reason.ends_with(ALREADY_INDEXED)) else {
            return Ok(());
        };
        let Some(mark) = self.batch_mark() else {
            return Ok(());
        };
        let same_index = dir_id(index) == Some(mark.index);
        let all_marked = inputs
            .iter()
            .all(|i| i.content.is_some_and(|c| mark.inputs.contains(&c)));
        if !same_index || !all_marked {
            return Ok(());
        }
        Err(Error::BadRecord {
            path: PathBuf::from(&first.file),
            line: first.line.unwrap_or(0),
            reason: format!(
                "{}: {} holds the outputs of the run that added this input to the index (as its \
                 {BATCH_MARK} says), so they are left as they are (give another --out to write \
                 this batch's outputs again)",
                first.reason,
                self.path.display()
            ),
        })
    }

    fn batch_mark(&self) -> Option<BatchMark> {
        let text = fs::read(self.path.join(BATCH_MARK)).ok()?;
        serde_json::from_slice(&text).ok()
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

/// Takes the advisory lock (flock) on the file at `path`, created if absent, and writes the
/// holder's pid and start time into it; `Ok(Err(holder))` when another process holds it, with
/// what that process wrote.
///
/// The file is opened without following a symbolic link (a link planted in a shared directory
/// must not make a run overwrite the file it points to), and must be a regular file with no
/// other name. A lock
/// file that another user created and this one cannot write is opened read-only: flock works
/// on it all the same, and only the note is skipped.
pub(crate) fn lock_file(path: &Path) -> Result<std::result::Result<File, String>> {
    use std::io::{Read, Seek};
    let refuse = |what: &str| {
        Err(Error::io(
            path,
            std::io::Error::other(format!(
                "is {what}, not a lock file; storyhash does not write through it (remove it)"
            )),
        ))
    };
    let not_a_lock_file = |m: &fs::Metadata| {
        if m.is_symlink() {
            Some("a symbolic link")
        } else if m.is_dir() {
            Some("a directory")
        } else if !m.is_file() {
            Some("a special file (FIFO, socket or device)")
        } else {
            // A second name for another file (a hard link planted like a symbolic link would be).
            #[cfg(unix)]
            if std::os::unix::fs::MetadataExt::nlink(m) > 1 {
                return Some("a hard link to another file");
            }
            None
        }
    };
    // Looked at before opening, so that opening a FIFO cannot block; and again once open, in
    // case it was swapped in between.
    if let Some(what) = fs::symlink_metadata(path)
        .ok()
        .as_ref()
        .and_then(not_a_lock_file)
    {
        return refuse(what);
    }
    let open = |write: bool| {
        let mut options = File::options();
        options.read(true);
        if write {
            options.write(true).create(true).truncate(false);
        }
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(
            &mut options,
            libc::O_NOFOLLOW | libc::O_NONBLOCK,
        );
        options.open(path)
    };
    let (mut file, writable) = match open(true) {
        Ok(file) => (file, true),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            (open(false).map_err(|_| Error::io(path, e))?, false)
        }
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return refuse("a symbolic link"),
        Err(e) => return Err(Error::io(path, e)),
    };
    let metadata = file.metadata().map_err(|e| Error::io(path, e))?;
    if let Some(what) = not_a_lock_file(&metadata) {
        return refuse(what);
    }
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Ok(Err(match holder.trim() {
                "" => "process unknown".to_string(),
                h => h.to_string(),
            }));
        }
        Err(fs::TryLockError::Error(e)) => return Err(Error::io(path, e)),
    }
    if writable {
        let stamp = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "pid {} since {stamp}", std::process::id()))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(Ok(file))
}

/// True for the name of a temporary file storyhash writes in an output directory.
fn is_leftover_name(name: &str) -> bool {
    let random_tail =
        |rest: &str| rest.len() == RANDOM_CHARS && rest.bytes().all(|b| b.is_ascii_alphanumeric());
    if let Some(rest) = name.strip_prefix(INPUT_SPOOL_PREFIX) {
        return random_tail(rest);
    }
    if let Some(rest) = name
        .strip_prefix(BATCH_MARK)
        .and_then(|r| r.strip_prefix('.'))
    {
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

/// What tells two names of one file apart from two files: device and inode where there are
/// such, else the canonical path.
#[cfg(unix)]
pub(crate) type FileId = (u64, u64);
#[cfg(not(unix))]
pub(crate) type FileId = PathBuf;

#[cfg(unix)]
pub(crate) fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
pub(crate) fn file_id(path: &Path) -> Option<FileId> {
    fs::canonicalize(path).ok()
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
            ".storyhash-batch.json.x9Y8z7",
        ] {
            assert!(is_leftover_name(name), "{name}");
        }
        for name in [
            "deduped.jsonl",
            ".deduped.jsonl",
            ".deduped.jsonl.",
            ".storyhash-batch.json",
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
        let held = OutDir::open(&out).unwrap();
        assert!(held.sweep(&[]).unwrap().is_empty());
        let err = OutDir::open(&out).unwrap_err().to_string();
        assert!(err.contains("another storyhash is writing"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(held);
        let again = OutDir::open(&out).unwrap();
        // Not created by this holder: discarding keeps it.
        again.discard();
        assert!(out.is_dir());
    }

    /// Another user's lock file, which this one may not write, still locks (read-only): as
    /// root, which writes any file, the note is rewritten instead.
    #[test]
    #[cfg(unix)]
    fn a_lock_file_this_user_cannot_write_still_locks() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK);
        fs::write(&path, "pid 1 since then\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
        let root = fs::metadata(&path).unwrap().uid() == 0;
        let held = lock_file(&path).unwrap().expect("the lock is free");
        let note = fs::read_to_string(&path).unwrap();
        assert_eq!(note.starts_with("pid 1 since"), !root, "{note}");
        assert_eq!(lock_file(&path).unwrap().unwrap_err(), note.trim());
        drop(held);
        assert!(lock_file(&path).unwrap().is_ok());
    }

    /// Leftovers go, except the files to keep, whatever name they are given by.
    #[test]
    #[cfg(unix)]
    fn the_sweep_keeps_the_files_it_is_given_by_any_name() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let held = OutDir::open(&out).unwrap();
        for name in [
            ".storyhash-input-aaaaaa",
            ".storyhash-input-bbbbbb",
            ".deduped.jsonl.cccccc",
        ] {
            fs::write(out.join(name), name).unwrap();
        }
        let elsewhere = dir.path().join("input.jsonl");
        fs::hard_link(out.join(".storyhash-input-bbbbbb"), &elsewhere).unwrap();
        let via_dots = out.join("../out/.storyhash-input-aaaaaa");
        let removed = held.sweep(&[&via_dots, &elsewhere]).unwrap();
        let names: Vec<_> = removed
            .iter()
            .map(|l| l.path.file_name().unwrap())
            .collect();
        assert_eq!(names, [".deduped.jsonl.cccccc"]);
        assert_eq!(removed[0].bytes, 21);
        assert!(out.join(".storyhash-input-aaaaaa").exists());
        assert!(out.join(".storyhash-input-bbbbbb").exists());
    }

    /// Whatever is at the lock path but a lock file is refused without blocking or writing.
    #[test]
    #[cfg(unix)]
    fn only_a_regular_file_with_one_name_is_a_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        type Make<'a> = &'a dyn Fn(&Path);
        let cases: [(&str, Make); 4] = [
            ("a directory", &|p| fs::create_dir(p).unwrap()),
            ("a symbolic link", &|p| {
                std::os::unix::fs::symlink(&victim, p).unwrap()
            }),
            ("a hard link to another file", &|p| {
                fs::hard_link(&victim, p).unwrap()
            }),
            ("a special file (FIFO, socket or device)", &|p| {
                let made = std::process::Command::new("mkfifo").arg(p).status();
                assert!(made.is_ok_and(|s| s.success()), "mkfifo");
            }),
        ];
        for (i, (what, make)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("lock{i}"));
            make(&path);
            let err = lock_file(&path).unwrap_err().to_string();
            assert!(
                err.contains(&format!("is {what}, not a lock file")),
                "{err}"
            );
        }
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    }

    #[test]
    fn a_directory_made_by_a_failed_run_goes_with_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fresh");
        let held = OutDir::open(&out).unwrap();
        assert!(out.join(LOCK).is_file());
        held.discard();
        assert!(!out.exists());
    }
}
