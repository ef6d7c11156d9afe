//! The index's binary files: a header, little-endian fields, and an XXH3-64 trailer.
//!
//! Every file starts with [`MAGIC`], its kind, the format version and the fingerprint of the
//! parameters the index was built with, and ends with the XXH3-64 of every byte before the
//! trailer. Readers hash what they read and compare at the end, so a damaged file is reported
//! by name and never used; lengths read from a file are checked against its size before
//! anything is allocated.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;

use crate::error::{Error, Result};

/// The first eight bytes of every index file.
pub const MAGIC: &[u8; 8] = b"STORYIDX";
/// The on-disk format version files are written in.
/// - 2 (2026-11-27): the state ends with the pairs verified below their estimate; storyhash
///   before it read a version-2 state as damaged, so it now refuses the index by its version
///   instead.
/// - 3 (2026-11-27, later): the parameters may name the word hash (`token_hash`: `mum16` for a new
///   index), which storyhash before it would not know it must use: it refuses the index by its
///   version instead of finding none of its duplicates. The files are laid out as in version 2.
pub const FORMAT_VERSION: u32 = 3;
/// The oldest format version read: a version-1 file is read as version 3 (its state has no
/// verified pairs, its parameters no word hash: `xxh3`), a version-2 file as version 3 (no word
/// hash), and either is rewritten as version 3 when the index next changes it.
pub const OLDEST_READ_VERSION: u32 = 1;

/// Whether files of format `version` are read.
pub fn reads_version(version: u64) -> bool {
    (u64::from(OLDEST_READ_VERSION)..=u64::from(FORMAT_VERSION)).contains(&version)
}

/// Why an index file of format `version` is refused.
pub fn version_refused(version: u64) -> String {
    format!(
        "written in index format version {version}; this storyhash reads versions \
         {OLDEST_READ_VERSION} to {FORMAT_VERSION}"
    )
}
/// `None` for a 32-bit field.
pub const NONE_U32: u32 = u32::MAX;
/// `None` for a date.
pub const NONE_I64: i64 = i64::MIN;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    /// Article records of one segment.
    Docs = 1,
    /// Signatures of one segment.
    Sigs = 2,
    /// Band keys of one segment, sorted per band.
    Bands = 3,
    /// Clusters, stories and learned boilerplate.
    State = 4,
    /// Sorted 128-bit hashes of one segment's ids.
    Ids = 5,
    /// The kept copies of the clusters one night made.
    Kept = 6,
}

/// The error for a damaged or foreign index file.
pub fn damaged(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Index {
        path: path.to_path_buf(),
        reason: what.to_string(),
    }
}

/// Test hooks: with `STORYHASH_INDEX_CRASH_AT=N` the process kills itself with SIGKILL when
/// the update reaches its N-th step (1-based), so tests can stop an update at every point; with
/// `STORYHASH_INDEX_FAIL_AT=N` the N-th step fails with an I/O error instead (a full disk, say),
/// so tests can check what a failed update leaves.
pub fn crash_point() -> Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STEP: AtomicU64 = AtomicU64::new(0);
    static TARGETS: std::sync::OnceLock<(Option<u64>, Option<u64>)> = std::sync::OnceLock::new();
    let (crash, fail) = *TARGETS.get_or_init(|| {
        let at = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
        (
            at("STORYHASH_INDEX_CRASH_AT"),
            at("STORYHASH_INDEX_FAIL_AT"),
        )
    });
    if crash.is_none() && fail.is_none() {
        return Ok(());
    }
    let step = STEP.fetch_add(1, Ordering::SeqCst) + 1;
    if crash == Some(step) {
        kill_self();
    }
    if fail == Some(step) {
        return Err(Error::io(
            "index update",
            std::io::Error::other(format!("injected failure at step {step}")),
        ));
    }
    Ok(())
}

/// Test hook: with `STORYHASH_INDEX_HOLD_MS=N` a writer sleeps N ms right after taking the
/// lock, so tests can start a second writer while the first holds it.
pub fn hold_point() {
    if let Some(ms) = std::env::var("STORYHASH_INDEX_HOLD_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Ends this process with SIGKILL, as an outside `kill -9` would (no destructor, no flush);
/// `abort` if `kill` cannot be run.
pub(crate) fn kill_self() {
    let pid = std::process::id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status();
    std::process::abort();
}

/// Writes one index file, hashing every byte, and seals it with the trailer.
pub struct BinWriter {
    path: PathBuf,
    out: BufWriter<File>,
    hasher: Xxh3,
    bytes: u64,
}

impl BinWriter {
    /// Creates `path` (which must not exist) and writes the header.
    pub fn create(path: PathBuf, kind: Kind, params: u64) -> Result<BinWriter> {
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut w = BinWriter {
            path,
            out: BufWriter::with_capacity(1 << 20, file),
            hasher: Xxh3::new(),
            bytes: 0,
        };
        w.bytes(MAGIC)?;
        w.u32(kind as u32)?;
        w.u32(FORMAT_VERSION)?;
        w.u64(params)?;
        crash_point()?;
        Ok(w)
    }

    /// Raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> Result<()> {
        self.hasher.update(b);
        self.bytes += b.len() as u64;
        self.out.write_all(b).map_err(|e| Error::io(&self.path, e))
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self, v: u32) -> Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self, v: u64) -> Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    /// A little-endian `i64`.
    pub fn i64(&mut self, v: i64) -> Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    /// A string: its length, then its bytes.
    pub fn str(&mut self, s: &str) -> Result<()> {
        self.u32(u32::try_from(s.len()).map_err(|_| damaged(&self.path, "string over 4 GiB"))?)?;
        self.bytes(s.as_bytes())
    }

    /// An optional string ([`NONE_U32`] as the length of `None`).
    pub fn opt_str(&mut self, s: Option<&str>) -> Result<()> {
        match s {
            Some(s) => self.str(s),
            None => self.u32(NONE_U32),
        }
    }

    /// Writes the trailer, flushes and fsyncs. Returns the file's size and checksum.
    pub fn finish(mut self) -> Result<(u64, u64)> {
        let checksum = self.hasher.digest();
        let trailer = checksum.to_le_bytes();
        self.out
            .write_all(&trailer)
            .map_err(|e| Error::io(&self.path, e))?;
        crash_point()?;
        let file = self
            .out
            .into_inner()
            .map_err(|e| Error::io(&self.path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&self.path, e))?;
        crash_point()?;
        Ok((self.bytes + 8, checksum))
    }
}

/// Reads one index file front to back, hashing what it reads; [`BinReader::finish`] checks
/// the trailer.
pub struct BinReader {
    path: PathBuf,
    input: BufReader<File>,
    hasher: Xxh3,
    /// Bytes left before the trailer.
    left: u64,
}

impl BinReader {
    /// Opens `path`, checks its size against `expected_bytes` and its header.
    pub fn open(path: PathBuf, kind: Kind, params: u64, expected_bytes: u64) -> Result<BinReader> {
        let file = File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => damaged(&path, "file is missing"),
            _ => Error::io(&path, e),
        })?;
        BinReader::from_file(path, file, kind, params, expected_bytes)
    }

    /// [`BinReader::open`] on a file already open (read from its start).
    pub fn from_file(
        path: PathBuf,
        mut file: File,
        kind: Kind,
        params: u64,
        expected_bytes: u64,
    ) -> Result<BinReader> {
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| Error::io(&path, e))?;
        let len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        if len != expected_bytes {
            return Err(damaged(
                &path,
                format!(
                    "file is damaged: {len} bytes where the manifest says {expected_bytes} (truncated or overwritten)"
                ),
            ));
        }
        let header = 8 + 4 + 4 + 8;
        if len < header + 8 {
            return Err(damaged(&path, "file is damaged: too short for a header"));
        }
        let mut r = BinReader {
            path,
            input: BufReader::with_capacity(1 << 20, file),
            hasher: Xxh3::new(),
            left: len - 8,
        };
        let mut magic = [0u8; 8];
        r.read(&mut magic)?;
        if &magic != MAGIC {
            return Err(damaged(&r.path, "not a storyhash index file"));
        }
        let found_kind = r.u32()?;
        let version = r.u32()?;
        if !reads_version(u64::from(version)) {
            return Err(damaged(&r.path, version_refused(u64::from(version))));
        }
        if found_kind != kind as u32 {
            return Err(damaged(
                &r.path,
                format!(
                    "file is damaged: holds kind {found_kind}, expected {}",
                    kind as u32
                ),
            ));
        }
        if r.u64()? != params {
            return Err(damaged(
                &r.path,
                "written with other parameters than the index's manifest (a file from another index?)",
            ));
        }
        Ok(r)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes left before the trailer.
    pub fn left(&self) -> u64 {
        self.left
    }

    /// Fills `buf`.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<()> {
        if (buf.len() as u64) > self.left {
            return Err(damaged(
                &self.path,
                "file is damaged: a record runs past its end",
            ));
        }
        self.input
            .read_exact(buf)
            .map_err(|e| Error::io(&self.path, e))?;
        self.hasher.update(buf);
        self.left -= buf.len() as u64;
        Ok(())
    }

    /// Reads `n` bytes into `buf` (replacing its contents), hashing them in one go.
    pub fn read_into(&mut self, n: u64, buf: &mut Vec<u8>) -> Result<()> {
        if n > self.left {
            return Err(damaged(
                &self.path,
                "file is damaged: a block runs past its end",
            ));
        }
        buf.clear();
        buf.resize(n as usize, 0);
        self.read(buf)
    }

    /// Reads and hashes everything up to the trailer without looking at it.
    pub fn skip_rest(&mut self) -> Result<()> {
        let mut buf = Vec::new();
        while self.left > 0 {
            let n = self.left.min(1 << 20);
            self.read_into(n, &mut buf)?;
        }
        Ok(())
    }

    /// A little-endian `u8`.
    pub fn u8(&mut self) -> Result<u8> {
        let mut b = [0u8; 1];
        self.read(&mut b)?;
        Ok(b[0])
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        self.read(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        self.read(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// A little-endian `i64`.
    pub fn i64(&mut self) -> Result<i64> {
        let mut b = [0u8; 8];
        self.read(&mut b)?;
        Ok(i64::from_le_bytes(b))
    }

    /// A count of records of at least `min_record_bytes` each, checked against what is left.
    pub fn count(&mut self, min_record_bytes: u64) -> Result<u64> {
        let n = self.u64()?;
        if n.saturating_mul(min_record_bytes.max(1)) > self.left {
            return Err(damaged(
                &self.path,
                "file is damaged: a count exceeds the file",
            ));
        }
        Ok(n)
    }

    /// A string written by [`BinWriter::str`].
    pub fn str(&mut self) -> Result<Box<str>> {
        let len = self.u32()?;
        self.str_of_len(len)
    }

    /// An optional string written by [`BinWriter::opt_str`].
    pub fn opt_str(&mut self) -> Result<Option<Box<str>>> {
        match self.u32()? {
            NONE_U32 => Ok(None),
            len => self.str_of_len(len).map(Some),
        }
    }

    fn str_of_len(&mut self, len: u32) -> Result<Box<str>> {
        if u64::from(len) > self.left {
            return Err(damaged(
                &self.path,
                "file is damaged: a string runs past its end",
            ));
        }
        let mut buf = vec![0u8; len as usize];
        self.read(&mut buf)?;
        String::from_utf8(buf)
            .map(String::into_boxed_str)
            .map_err(|_| damaged(&self.path, "file is damaged: invalid UTF-8 in a string"))
    }

    /// Checks that everything was read and that the trailer matches `expected` (the checksum
    /// the manifest recorded) and the bytes read.
    pub fn finish(mut self, expected: u64) -> Result<()> {
        if self.left != 0 {
            return Err(damaged(
                &self.path,
                "file is damaged: unread bytes before its end",
            ));
        }
        let mut trailer = [0u8; 8];
        self.input
            .read_exact(&mut trailer)
            .map_err(|e| Error::io(&self.path, e))?;
        let stored = u64::from_le_bytes(trailer);
        if stored != self.hasher.digest() || stored != expected {
            return Err(damaged(&self.path, "file is damaged: checksum mismatch"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_sample(dir: &Path) -> (PathBuf, u64, u64) {
        let path = dir.join("sample.bin");
        let mut w = BinWriter::create(path.clone(), Kind::Docs, 7).unwrap();
        w.u64(2).unwrap();
        w.str("héllo").unwrap();
        w.opt_str(None).unwrap();
        w.i64(-5).unwrap();
        let (bytes, sum) = w.finish().unwrap();
        (path, bytes, sum)
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (path, bytes, sum) = write_sample(dir.path());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), bytes);
        let mut r = BinReader::open(path, Kind::Docs, 7, bytes).unwrap();
        assert_eq!(r.count(1).unwrap(), 2);
        assert_eq!(&*r.str().unwrap(), "héllo");
        assert_eq!(r.opt_str().unwrap(), None);
        assert_eq!(r.i64().unwrap(), -5);
        r.finish(sum).unwrap();
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let (path, bytes, sum) = write_sample(dir.path());
        let good = std::fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            std::fs::write(&path, &bad).unwrap();
            let result = BinReader::open(path.clone(), Kind::Docs, 7, bytes).and_then(|mut r| {
                r.count(1)?;
                r.str()?;
                r.opt_str()?;
                r.i64()?;
                r.finish(sum)
            });
            let err = result.expect_err(&format!("flipped byte {i} went unnoticed"));
            assert!(err.to_string().contains("sample.bin"), "{err}");
        }
    }

    #[test]
    fn wrong_version_kind_and_params_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (path, bytes, _) = write_sample(dir.path());
        let err = |kind, params| {
            BinReader::open(path.clone(), kind, params, bytes)
                .err()
                .unwrap()
                .to_string()
        };
        assert!(err(Kind::Sigs, 7).contains("kind"));
        assert!(err(Kind::Docs, 8).contains("other parameters"));
        let mut data = std::fs::read(&path).unwrap();
        data[12] = 9; // the version field
        std::fs::write(&path, &data).unwrap();
        assert!(err(Kind::Docs, 7).contains("format version 9"));
        let short = BinReader::open(path.clone(), Kind::Docs, 7, bytes + 1);
        assert!(short.err().unwrap().to_string().contains("truncated"));
    }
}
