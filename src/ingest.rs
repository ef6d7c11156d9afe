//! Ingest: JSON Lines files (plain, gzip or zstd, or standard input) to articles.
//!
//! Input is read in chunks of whole lines; a reader thread decompresses the next chunk while the
//! workers parse the current one; the buffers of finished chunks go back to the reader. Every
//! later stage that needs the text again reads the inputs once more, so the texts are never all
//! in memory at once: the deduplicated corpus streams them through [`for_each_chunk`]; the
//! stages that need a few articles only (re-signing after learned boilerplate, exact
//! verification) read just those lines by offset when the input is uncompressed
//! ([`crate::pipeline::for_each_wanted_article`]). Standard input is spooled to a temporary file
//! first, so that it too can be read more than once.
//!
//! A record is one JSON object per line with at least an id (string or integer) and a text
//! (string); the field names are configurable ([`FieldNames`]). Blank lines are skipped. Every
//! other line becomes either an [`Article`] or a [`Reject`] naming its file, line and reason.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use crate::error::{Error, Result};

/// Bytes of input per chunk handed to the workers.
///
/// Several chunks are in memory at once (the one being read, two waiting, the one being signed,
/// and the one being merged). 2 MiB holds about 750 news articles, enough to amortize the
/// scheduling: against 8 MiB it signed as fast (1M articles: 7.4-7.5 s against 7.3-7.4 s) and
/// lowered the peak from 185 to 158 MB at 1M and from 65 to 38 MB at 48k (2026-11-28).
pub const CHUNK_BYTES: usize = 2 << 20;

/// Read buffers kept from one pass over the inputs for the next.
///
/// A run reads its inputs in several passes (the scan; the articles signed again, those checked
/// on exact Jaccard, the texts the reports quote; the kept lines copied), each through buffers
/// of about a chunk ([`CHUNK_BYTES`]). A fresh one is fresh pages, which the kernel faults in
/// and zeroes on first touch: at 48k articles the passes after the scan faulted in about 6k
/// pages of new buffers, a quarter of the run's page faults, where the scan's buffers were
/// there to take (medians of ten alternated runs, 2026-11-28: 23.8k faults before and 17.5k
/// after, system time 0.255 and 0.230 s; wall time within the noise, paired ratio 0.99; peak
/// RSS +0.3 MB, and +3 MB at 1M articles).
///
/// It holds at most [`BufferPool::MAX_SPARE`] buffers, what one pass has in flight, and none
/// larger than [`BufferPool::MAX_BYTES`] (a line longer than a chunk grows its buffer).
#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    spare: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    /// The most buffers kept: a pass holds four at once (one being read, two waiting, one in
    /// use).
    pub(crate) const MAX_SPARE: usize = 4;

    /// The largest buffer kept: a chunk's buffer grows to twice the chunk as it is read.
    pub(crate) const MAX_BYTES: usize = 4 * CHUNK_BYTES;

    /// An empty pool.
    pub(crate) const fn new() -> BufferPool {
        BufferPool {
            spare: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// A kept buffer, emptied, or a new one.
    pub(crate) fn take(&self) -> Vec<u8> {
        let mut buffer = self.lock().pop().unwrap_or_default();
        buffer.clear();
        buffer
    }

    /// Keeps `buffer` for a later pass, unless the pool is full or the buffer is empty or
    /// larger than [`BufferPool::MAX_BYTES`].
    pub(crate) fn keep(&self, buffer: Vec<u8>) {
        let mut spare = self.lock();
        if spare.len() < Self::MAX_SPARE && (1..=Self::MAX_BYTES).contains(&buffer.capacity()) {
            spare.push(buffer);
        }
    }

    /// How many buffers are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no buffer is kept.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The kept buffers, taken out.
    #[cfg(test)]
    pub(crate) fn drain(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        // A thread that panicked holding the lock left a whole vector of buffers.
        self.spare
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The process's read buffers, shared by every pass over the inputs, and kept after a run (at
/// most four of at most 8 MiB; after an ordinary run, four of 2 to 4 MiB).
pub(crate) static READ_BUFFERS: BufferPool = BufferPool::new();

/// The names of the fields read from each record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldNames {
    /// Unique article id (string or integer); required.
    pub id: String,
    /// Article text; required (may be empty).
    pub text: String,
    /// Headline.
    pub title: String,
    /// Outlet, e.g. a host name.
    pub source: String,
    /// Publication date or date-time (RFC 3339, or RFC 2822).
    pub published: String,
    /// Link to the article.
    pub url: String,
}

impl FieldNames {
    /// Refuses an empty field name, and two roles read from one field, which would leave one
    /// of them always missing;
    /// only the headline may be the text's field (`--text-field title`), and the link the id's
    /// (`--id-field url`).
    pub fn validate(&self) -> Result<()> {
        let roles = [
            ("id", &self.id),
            ("text", &self.text),
            ("title", &self.title),
            ("source", &self.source),
            ("published", &self.published),
            ("url", &self.url),
        ];
        if let Some((role, _)) = roles.iter().find(|(_, name)| name.is_empty()) {
            return Err(Error::Config(format!(
                "--{role}-field is empty: it must name a field"
            )));
        }
        for (i, (a, name_a)) in roles.iter().enumerate() {
            for (b, name_b) in &roles[i + 1..] {
                let shared = matches!((*a, *b), ("text", "title") | ("id", "url"));
                if name_a == name_b && !shared {
                    return Err(Error::Config(format!(
                        "--{a}-field and --{b}-field both name the field `{name_a}`: each must be a field of its own (save the title and the text, and the id and the url)"
                    )));
                }
            }
        }
        Ok(())
    }
}

impl Default for FieldNames {
    fn default() -> Self {
        FieldNames {
            id: "id".into(),
            text: "text".into(),
            title: "title".into(),
            source: "source".into(),
            published: "published".into(),
            url: "url".into(),
        }
    }
}

/// An article id as the input gave it: a string or an integer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArticleId {
    /// A JSON string id.
    Str(Box<str>),
    /// A JSON integer id, kept as its decimal text.
    Int(Box<str>),
}

impl ArticleId {
    /// The id as text (integers in decimal); two ids with the same text are the same id.
    pub fn as_str(&self) -> &str {
        match self {
            ArticleId::Str(s) | ArticleId::Int(s) => s,
        }
    }

    /// The id, borrowed.
    pub fn as_ref(&self) -> IdRef<'_> {
        IdRef {
            text: self.as_str(),
            int: matches!(self, ArticleId::Int(_)),
        }
    }
}

/// A borrowed [`ArticleId`]: what an [`Article`] hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdRef<'a> {
    text: &'a str,
    int: bool,
}

impl<'a> IdRef<'a> {
    /// The id as text (integers in decimal).
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// True for a JSON integer id.
    pub fn is_int(&self) -> bool {
        self.int
    }

    /// An owned copy.
    pub fn to_owned(&self) -> ArticleId {
        if self.int {
            ArticleId::Int(self.text.into())
        } else {
            ArticleId::Str(self.text.into())
        }
    }
}

impl fmt::Display for IdRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

impl serde::Serialize for IdRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !self.int {
            return serializer.serialize_str(self.text);
        }
        match self.text.parse::<i64>() {
            Ok(n) => serializer.serialize_i64(n),
            Err(_) => {
                serializer.serialize_u64(self.text.parse().map_err(serde::ser::Error::custom)?)
            }
        }
    }
}

impl fmt::Display for ArticleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ArticleId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_ref().serialize(serializer)
    }
}

/// Where a record's line lies in its input (after decompression).
///
/// 20 bytes, aligned to 4 (`packed(4)`: the offset's 8 bytes would pad it to 24), as every
/// [`Article`] holds one. Read its fields by value (a packed struct's fields cannot be borrowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(Rust, packed(4))]
pub struct LineLocation {
    /// Index of the input in the run's input list.
    pub input: u32,
    /// 1-based line number (an article further down than [`MAX_LINES`] is a bad record).
    pub line: u32,
    /// Byte offset of the line's first byte.
    pub offset: u64,
    /// Length of the line in bytes, without its newline.
    pub len: u32,
}

/// The last line of an input an article may come from (line numbers are 32-bit in
/// [`LineLocation`]); lines further down may be blank or rejected, and an article there is a bad
/// record.
pub const MAX_LINES: u64 = u32::MAX as u64;

/// An outlet's name, shared by the articles of a run that name it (outlets repeat across
/// articles): a thin pointer, 8 bytes in every [`Article`] where an `Arc<str>` takes 16.
pub type Outlet = std::sync::Arc<String>;

/// What later stages keep of an accepted article.
///
/// Every article of a run stays in memory, so the id, headline and link share one string
/// (read them with [`Article::id`], [`Article::title`] and [`Article::url`]): 72 bytes, plus
/// a heap block for strings over 24 bytes, where three boxed strings took 120 plus three
/// allocations. A run's own articles keep only the id ([`Article::without_headline`]), which
/// mostly fits in those 72 bytes.
#[derive(Debug, Clone)]
pub struct Article {
    /// The id, the headline and the link, one after the other; up to 24 bytes held inline.
    strings: compact_str::CompactString,
    /// Where the id ends in `strings`.
    id_end: u32,
    /// Where the headline ends in `strings` (the link follows).
    title_end: u32,
    /// Outlet, if any (read it with [`Article::source`]).
    source: Option<Outlet>,
    /// Publication time in seconds since the Unix epoch (UTC), [`NO_DATE`] if not given,
    /// shifted left by 8 bits, with the flags ([`INT_ID`], [`HAS_TITLE`], [`HAS_URL`],
    /// [`ELSEWHERE`], [`DATE_ONLY`]) in the low byte: 8 bytes where an `Option<i64>` and a
    /// flags byte took 24 with padding. Dates lie within years -9999 to 9999, under 2^39 seconds either way
    /// (read it with [`Article::published`]).
    date_and_flags: i64,
    /// Length of the text in characters.
    pub text_chars: u32,
    /// Where the record's line is.
    pub location: LineLocation,
}

/// [`Article`]'s stand-in for no date: below any date a record can give (those lie within
/// years -9999 to 9999), and room for the flags byte below it.
const NO_DATE: i64 = i64::MIN >> 8;

const INT_ID: u8 = 1;
const HAS_TITLE: u8 = 2;
const HAS_URL: u8 = 4;
/// The headline and link are kept in the run's [`crate::headlines::Headlines`].
const ELSEWHERE: u8 = 8;
/// The date was given without a time of day (midnight UTC stands in for it).
const DATE_ONLY: u8 = 16;

/// The fields of an [`Article`] to build one from.
#[derive(Debug, Clone)]
pub struct ArticleFields<'a> {
    /// The article's id.
    pub id: IdRef<'a>,
    /// Headline, if any.
    pub title: Option<&'a str>,
    /// Outlet, if any.
    pub source: Option<Outlet>,
    /// Link, if any.
    pub url: Option<&'a str>,
    /// Publication time in seconds since the Unix epoch (UTC), if given.
    pub published: Option<i64>,
    /// Whether `published` was a date without a time of day (midnight UTC stands in for it);
    /// the people's reports then show the day alone.
    pub date_only: bool,
    /// Length of the text in characters.
    pub text_chars: u32,
    /// Where the record's line is.
    pub location: LineLocation,
}

impl Article {
    /// An article of these fields.
    ///
    /// A date is kept to within ±2^55 seconds (a billion years): one further out is clamped to
    /// that range. Every date a record can give lies far inside it (years -9999 to 9999).
    ///
    /// # Panics
    ///
    /// If the id and headline together reach 4 GiB (a line cannot).
    pub fn new(fields: ArticleFields<'_>) -> Article {
        let (id, title, url) = (fields.id.as_str(), fields.title, fields.url);
        let mut strings =
            String::with_capacity(id.len() + title.map_or(0, str::len) + url.map_or(0, str::len));
        strings.push_str(id);
        let id_end = strings.len();
        strings.push_str(title.unwrap_or(""));
        let title_end = strings.len();
        strings.push_str(url.unwrap_or(""));
        let flag = |on: bool, f: u8| if on { f } else { 0 };
        let flags = flag(fields.id.is_int(), INT_ID)
            | flag(title.is_some(), HAS_TITLE)
            | flag(url.is_some(), HAS_URL)
            | flag(fields.date_only && fields.published.is_some(), DATE_ONLY);
        // Dates come from jiff timestamps (years -9999 to 9999); the clamp only keeps a
        // caller's out-of-range number from reaching the flags.
        let date = fields
            .published
            .map_or(NO_DATE, |d| d.clamp(NO_DATE + 1, i64::MAX >> 8));
        Article {
            strings: strings.into(),
            id_end: u32::try_from(id_end).expect("an id is under 4 GiB"),
            title_end: u32::try_from(title_end).expect("a headline is under 4 GiB"),
            source: fields.source,
            date_and_flags: (date << 8) | i64::from(flags),
            text_chars: fields.text_chars,
            location: fields.location,
        }
    }

    /// Publication time in seconds since the Unix epoch (UTC), if given.
    pub fn published(&self) -> Option<i64> {
        let date = self.date_and_flags >> 8;
        (date != NO_DATE).then_some(date)
    }

    /// Whether the date was given without a time of day (false with no date).
    pub fn date_only(&self) -> bool {
        self.flags() & DATE_ONLY != 0
    }

    fn flags(&self) -> u8 {
        self.date_and_flags as u8
    }

    /// The article's id.
    pub fn id(&self) -> IdRef<'_> {
        IdRef {
            text: &self.strings[..self.id_end as usize],
            int: self.flags() & INT_ID != 0,
        }
    }

    /// Headline, if any.
    ///
    /// A run's own articles leave theirs to the run ([`Article::headline_elsewhere`]): read
    /// them with [`crate::pipeline::DedupRun::headline`].
    ///
    /// # Panics
    ///
    /// In debug builds, on an article whose headline is kept elsewhere (release builds give
    /// `None`): a caller that asks such an article has a bug.
    pub fn title(&self) -> Option<&str> {
        debug_assert!(
            !self.headline_elsewhere(),
            "read through the run's headlines"
        );
        (self.flags() & HAS_TITLE != 0 && !self.headline_elsewhere())
            .then(|| &self.strings[self.id_end as usize..self.title_end as usize])
    }

    /// Link, if any. Like [`Article::title`], this panics in debug builds on an article whose
    /// headline and link are kept elsewhere.
    pub fn url(&self) -> Option<&str> {
        debug_assert!(
            !self.headline_elsewhere(),
            "read through the run's headlines"
        );
        (self.flags() & HAS_URL != 0 && !self.headline_elsewhere())
            .then(|| &self.strings[self.title_end as usize..])
    }

    /// Whether the article has a headline, wherever it is kept.
    pub fn has_title(&self) -> bool {
        self.flags() & HAS_TITLE != 0
    }

    /// Whether the headline and link are kept elsewhere ([`Article::without_headline`]).
    pub fn headline_elsewhere(&self) -> bool {
        self.flags() & ELSEWHERE != 0
    }

    /// This article with the headline and link given (as [`Article::new`] builds it): the
    /// inverse of [`Article::without_headline`].
    pub fn with_headline(&self, title: Option<&str>, url: Option<&str>) -> Article {
        Article::new(ArticleFields {
            id: self.id(),
            title,
            source: self.source.clone(),
            url,
            published: self.published(),
            date_only: self.date_only(),
            text_chars: self.text_chars,
            location: self.location,
        })
    }

    /// This article without its headline and link (which the caller keeps elsewhere): only
    /// the id in its heap block.
    pub fn without_headline(&self) -> Article {
        Article {
            strings: self.id().as_str().into(),
            title_end: self.id_end,
            date_and_flags: self.date_and_flags | i64::from(ELSEWHERE),
            source: self.source.clone(),
            ..*self
        }
    }

    /// Outlet, if any.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref().map(String::as_str)
    }

    /// Makes the article's outlet the one of `outlets` with its name (added if new), so that
    /// the articles of a run share one string per outlet.
    pub fn share_outlet(&mut self, outlets: &mut ahash::AHashSet<Outlet>) {
        if let Some(source) = self.source.take() {
            self.source = Some(match outlets.get(&*source) {
                Some(shared) => shared.clone(),
                None => {
                    outlets.insert(source.clone());
                    source
                }
            });
        }
    }
}

/// A line that was not accepted, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reject {
    /// The input file (`-` for standard input).
    pub file: String,
    /// 1-based line number; absent for a whole-file problem such as an empty file.
    pub line: Option<u64>,
    /// The record's id, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What was wrong.
    pub reason: String,
}

/// One input: a file (or spooled standard input) and how it is compressed.
#[derive(Debug)]
pub struct Input {
    /// The name the user gave (`-` for standard input).
    pub name: PathBuf,
    /// The file actually read.
    path: PathBuf,
    compression: Compression,
    /// Size and modification time when opened, to tell whether the file changed since.
    stamp: Option<(u64, std::time::SystemTime)>,
    /// Keeps spooled standard input alive for the run.
    _spool: Option<tempfile::TempPath>,
}

/// Uncompressed inputs opened for reads by offset, one at a time (a run may name more files
/// than a process may hold open): asking for another input closes the previous one.
pub struct OpenInputs<'a> {
    inputs: &'a [Input],
    open: Option<(u32, File, u64)>,
}

impl<'a> OpenInputs<'a> {
    /// Nothing opened yet.
    pub fn new(inputs: &'a [Input]) -> OpenInputs<'a> {
        OpenInputs { inputs, open: None }
    }

    /// Input `idx`'s file and its length, opened now unless it is the one already open.
    pub fn get(&mut self, idx: u32) -> Result<(&'a Input, &File, u64)> {
        let input = &self.inputs[idx as usize];
        if self.open.as_ref().is_none_or(|(open, ..)| *open != idx) {
            self.open = None;
            let file = input.open_file()?;
            let len = file
                .metadata()
                .map_err(|e| Error::io(&input.name, e))?
                .len();
            self.open = Some((idx, file, len));
        }
        let (_, file, len) = self.open.as_ref().expect("opened above");
        Ok((input, file, *len))
    }
}

fn stamp(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

/// How an input is compressed, by its first bytes. Formats storyhash does not read are refused
/// by name (rather than read as text that is not UTF-8).
fn sniff(path: &Path) -> io::Result<Compression> {
    let mut magic = [0u8; 6];
    let mut file = File::open(path)?;
    let mut n = 0;
    while n < magic.len() {
        match file.read(&mut magic[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let unread = match &magic[..n] {
        [0x1f, 0x8b, ..] => return Ok(Compression::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => return Ok(Compression::Zstd),
        [b'B', b'Z', b'h', b'1'..=b'9', ..] => ("bzip2", "bzcat"),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00] => ("xz", "xzcat"),
        [0x04, 0x22, 0x4d, 0x18, ..] => ("lz4", "lz4cat"),
        [b'P', b'K', 0x03, 0x04, ..] => ("zip", "unzip -p"),
        _ => return Ok(Compression::None),
    };
    Err(io::Error::other(format!(
        "is {}-compressed, which storyhash does not read (it reads plain, gzip and zstd): decompress it on the way in, e.g. `{} FILE | storyhash dedup - --out DIR`",
        unread.0, unread.1
    )))
}

impl Input {
    /// Opens an input by name; `-` spools standard input into `spool_dir`.
    ///
    /// Anything that cannot be read twice (standard input, a pipe such as `<(zcat x.gz)`, a
    /// FIFO) is spooled into `spool_dir` first, because later stages read the input again. The
    /// compression is recognized from the file's first bytes, whatever its name.
    pub fn open(name: &Path, spool_dir: &Path) -> Result<Input> {
        let is_stdin = name == Path::new("-");
        let regular = !is_stdin
            && std::fs::metadata(name)
                .map_err(|e| Error::io(name, e))?
                .is_file();
        let (path, spool) = if regular {
            (name.to_path_buf(), None)
        } else {
            let mut tmp = tempfile::Builder::new()
                .prefix(crate::outdir::INPUT_SPOOL_PREFIX)
                .tempfile_in(spool_dir)
                .map_err(|e| Error::io(spool_dir, e))?;
            let copied = if is_stdin {
                io::copy(&mut io::stdin().lock(), tmp.as_file_mut())
            } else {
                File::open(name).and_then(|mut f| io::copy(&mut f, tmp.as_file_mut()))
            };
            copied.map_err(|e| Error::io(name, e))?;
            let temp_path = tmp.into_temp_path();
            (temp_path.to_path_buf(), Some(temp_path))
        };
        let compression = sniff(&path).map_err(|e| Error::io(name, e))?;
        Ok(Input {
            name: name.to_path_buf(),
            stamp: stamp(&path),
            path,
            compression,
            _spool: spool,
        })
    }

    /// An error if the file's size or modification time differ from when it was opened (a
    /// file system without modification times passes).
    pub fn check_unchanged(&self) -> Result<()> {
        if self.stamp.is_some() && stamp(&self.path) != self.stamp {
            return Err(Error::io(
                &self.name,
                io::Error::other("the input changed while storyhash was reading it"),
            ));
        }
        Ok(())
    }

    /// Whether the file holds the input's bytes as they are (not compressed), so that a line
    /// can be read at its offset.
    pub fn is_plain(&self) -> bool {
        self.compression == Compression::None
    }

    /// Opens the file read, for positioned reads of a plain input.
    pub fn open_file(&self) -> Result<File> {
        File::open(&self.path).map_err(|e| Error::io(&self.name, e))
    }

    /// Reads `buf.len()` bytes at `offset` of a file opened with [`Input::open_file`].
    pub fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
        }
        #[cfg(not(unix))]
        {
            use std::io::{Seek, SeekFrom};
            let mut file = file;
            file.seek(SeekFrom::Start(offset))?;
            file.read_exact(buf)
        }
    }

    /// The name to show in messages.
    /// The file actually read: the input itself, or the spooled copy of standard input or a
    /// pipe.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name to show for this input.
    pub fn display_name(&self) -> String {
        self.name.display().to_string()
    }

    /// Size of the file read (compressed size for compressed input).
    pub fn file_len(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }

    /// The input's bytes, decompressed. A compressed file's reads add to `counter` (for
    /// progress); a plain file is read as it is, whole chunks at a time, and its reader counts
    /// the bytes itself ([`ChunkReader`]): through `Box<dyn Read>`, `read_to_end` fills a
    /// chunk's spare room straight from the `File`, where a wrapper zeroed it first and a
    /// buffer in between copied it once more (together 1.5% of a run's instructions).
    fn reader(&self, counter: Arc<AtomicU64>) -> Result<Box<dyn Read + Send>> {
        let file = File::open(&self.path).map_err(|e| Error::io(&self.name, e))?;
        if self.compression == Compression::None {
            return Ok(Box::new(file));
        }
        let file = BufReader::with_capacity(
            1 << 20,
            CountingReader {
                inner: file,
                counter,
            },
        );
        Ok(match self.compression {
            Compression::None => unreachable!("a plain file is read as it is"),
            Compression::Gzip => Box::new(Decoding {
                inner: flate2::read::MultiGzDecoder::new(file),
                format: "gzip",
            }),
            Compression::Zstd => Box::new(Decoding {
                inner: zstd::stream::read::Decoder::with_buffer(file)
                    .map_err(|e| Error::io(&self.name, e))?,
                format: "zstd",
            }),
        })
    }
}

/// A decompressing reader whose errors of the stream say so: "unexpected end of file" alone
/// did not tell a cut-short gzip file, or one with other bytes after its end, from anything
/// else.
struct Decoding<R> {
    inner: R,
    format: &'static str,
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::InvalidData
            | io::ErrorKind::InvalidInput
            | io::ErrorKind::Other => io::Error::new(
                e.kind(),
                format!(
                    "{} stream: {e} (the file is damaged or cut short, or holds other bytes \
                     after the compressed data)",
                    self.format
                ),
            ),
            _ => e,
        })
    }
}

/// Counts the bytes read from a file (before decompression), for progress.
struct CountingReader<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A run of whole lines from one input.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Index of the input.
    pub input: u32,
    /// Offset of `data[0]` in the (decompressed) input.
    pub offset: u64,
    /// Line number of the first line.
    pub first_line: u64,
    /// The bytes, ending at a line end (or the end of input).
    pub data: Vec<u8>,
    /// `(start, end)` of each line in `data`, newline excluded.
    pub lines: Vec<(usize, usize)>,
    /// Bytes read from the file since the previous chunk (compressed bytes when compressed),
    /// for progress.
    pub raw_bytes: u64,
    /// For a chunk of separate stretches of the input read by offset: `(offset in the input,
    /// start in data)` of each stretch, in order. Empty when `data` is one stretch from
    /// `offset`.
    pub windows: Vec<(u64, usize)>,
}

impl Chunk {
    /// The line at `idx`, without newline or trailing carriage return.
    pub fn line(&self, idx: usize) -> &[u8] {
        let (start, end) = self.lines[idx];
        let mut line = &self.data[start..end];
        if self.offset + start as u64 == 0 {
            // A byte-order mark at the start of a file is not part of the first record.
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        line.strip_suffix(b"\r").unwrap_or(line)
    }

    /// Where in `data` the input's byte at `offset` is (which must be in the chunk).
    pub fn position_of(&self, offset: u64) -> usize {
        if self.windows.is_empty() {
            return (offset - self.offset) as usize;
        }
        let w = self.windows.partition_point(|&(start, _)| start <= offset) - 1;
        let (start, at) = self.windows[w];
        at + (offset - start) as usize
    }

    /// The 1-based line number of line `idx` in its input.
    pub fn line_number(&self, idx: usize) -> u64 {
        self.first_line + idx as u64
    }

    /// The location of line `idx`; its line number is [`u32::MAX`] past [`MAX_LINES`].
    pub fn location(&self, idx: usize) -> LineLocation {
        let (start, end) = self.lines[idx];
        LineLocation {
            input: self.input,
            // Past MAX_LINES, an article is rejected before it is kept (see `MAX_LINES`).
            line: u32::try_from(self.first_line + idx as u64).unwrap_or(u32::MAX),
            offset: self.offset + start as u64,
            len: (end - start) as u32,
        }
    }
}

struct ChunkReader {
    input: u32,
    /// Bytes read from the file (compressed, for compressed input), for progress.
    file_bytes: Arc<AtomicU64>,
    /// The input is not compressed: its reader does not count, and this one does.
    plain: bool,
    reported_bytes: u64,
    reader: Box<dyn Read + Send>,
    carry: Vec<u8>,
    offset: u64,
    next_line: u64,
    done: bool,
}

impl ChunkReader {
    /// The next chunk, in a buffer from `recycled` when there is one, else from `pool`: a fresh
    /// buffer per chunk costs a page fault and a zeroed page per 4 KiB.
    fn next_chunk(
        &mut self,
        name: &Path,
        recycled: &std::sync::mpsc::Receiver<Vec<u8>>,
        pool: &BufferPool,
    ) -> Result<Option<Chunk>> {
        if self.done && self.carry.is_empty() {
            return Ok(None);
        }
        let mut data = match recycled.try_recv() {
            Ok(mut buffer) => {
                buffer.clear();
                buffer.extend_from_slice(&self.carry);
                self.carry.clear();
                buffer
            }
            Err(_) => {
                let mut buffer = pool.take();
                buffer.append(&mut self.carry);
                buffer
            }
        };
        let mut target = CHUNK_BYTES;
        // Read to the target size, then cut at the last newline; a line longer than the target
        // doubles it until the line ends.
        let cut = loop {
            while !self.done && data.len() < target {
                // read_to_end fills spare capacity without zeroing it first.
                let want = (target - data.len()) as u64;
                let read = (&mut self.reader).take(want).read_to_end(&mut data);
                let n = match read {
                    Ok(n) => n,
                    Err(e) => {
                        // The lines before the break were read: say how far that was.
                        let whole =
                            self.next_line - 1 + memchr::memchr_iter(b'\n', &data).count() as u64;
                        return Err(Error::io(name, broken_after(e, whole)));
                    }
                };
                if self.plain {
                    self.file_bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
                if (n as u64) < want {
                    self.done = true;
                }
            }
            if self.done {
                break data.len();
            }
            match memchr_last_newline(&data) {
                Some(pos) => break pos + 1,
                None => target = data.len() * 2,
            }
        };
        self.carry.extend_from_slice(&data[cut..]);
        data.truncate(cut);
        let mut lines = Vec::new();
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', &data) {
            lines.push((start, end));
            start = end + 1;
        }
        if start < data.len() {
            lines.push((start, data.len()));
        }
        let chunk = Chunk {
            input: self.input,
            offset: self.offset,
            first_line: self.next_line,
            raw_bytes: {
                let total = self.file_bytes.load(Ordering::Relaxed);
                let delta = total - self.reported_bytes;
                self.reported_bytes = total;
                delta
            },
            data,
            lines,
            windows: Vec::new(),
        };
        self.offset += chunk.data.len() as u64;
        self.next_line += chunk.lines.len() as u64;
        if chunk.lines.is_empty() {
            pool.keep(chunk.data);
            return Ok(None);
        }
        Ok(Some(chunk))
    }
}

/// `e`, saying how many lines of the input were read whole before it: a broken compressed
/// stream, or a read that failed, midway through a file.
fn broken_after(e: io::Error, whole_lines: u64) -> io::Error {
    let read = match whole_lines {
        0 => "no line was read whole".to_string(),
        1 => "line 1 was read whole".to_string(),
        n => format!("lines 1 to {n} were read whole"),
    };
    io::Error::new(e.kind(), format!("{e}; {read}"))
}

fn memchr_last_newline(data: &[u8]) -> Option<usize> {
    memchr::memrchr(b'\n', data)
}

/// Streams every input, chunk by chunk, into `process`, in input order.
///
/// A reader thread decompresses and cuts the next chunk while `process` works on the current
/// one (which may use rayon inside). Its buffers come from a pool the process keeps, and go
/// back there for the next pass.
pub fn for_each_chunk(
    inputs: &[Input],
    process: impl FnMut(&Input, &Chunk) -> Result<()>,
) -> Result<()> {
    for_each_chunk_pooled(inputs, &READ_BUFFERS, process)
}

/// [`for_each_chunk`] with the buffers of `pool`.
fn for_each_chunk_pooled(
    inputs: &[Input],
    pool: &BufferPool,
    mut process: impl FnMut(&Input, &Chunk) -> Result<()>,
) -> Result<()> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Chunk>>(2);
        let (back_tx, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
        // The reader gives back the channel of returned buffers: once it is joined, every
        // buffer is back, and goes to the pool.
        let reader = scope.spawn(move || {
            read_chunks(inputs, &tx, &recycled, pool);
            recycled
        });
        let mut result = Ok(());
        for chunk in rx.iter() {
            match chunk.and_then(|c| {
                process(&inputs[c.input as usize], &c)?;
                let _ = back_tx.send(c.data);
                Ok(())
            }) {
                Ok(()) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        drop(rx);
        let recycled = reader.join().expect("the reader thread does not panic");
        recycled.try_iter().for_each(|buffer| pool.keep(buffer));
        result
    })
}

/// The reader thread of [`for_each_chunk`]: sends every chunk of every input, or the first
/// error, and stops early if the receiver is gone.
fn read_chunks(
    inputs: &[Input],
    tx: &std::sync::mpsc::SyncSender<Result<Chunk>>,
    recycled: &std::sync::mpsc::Receiver<Vec<u8>>,
    pool: &BufferPool,
) {
    for (idx, input) in inputs.iter().enumerate() {
        let file_bytes = Arc::new(AtomicU64::new(0));
        let mut chunks = match input.reader(Arc::clone(&file_bytes)) {
            Ok(reader) => ChunkReader {
                input: idx as u32,
                file_bytes,
                plain: input.is_plain(),
                reported_bytes: 0,
                reader,
                carry: Vec::new(),
                offset: 0,
                next_line: 1,
                done: false,
            },
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        loop {
            match chunks.next_chunk(&input.name, recycled, pool) {
                Ok(Some(chunk)) => {
                    if tx.send(Ok(chunk)).is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
    }
}

/// The fields of one record, borrowed from its line where possible.
#[derive(Debug, Default)]
pub struct Record<'a> {
    /// Id, if present and not null.
    pub id: Option<ArticleId>,
    /// Whether the id field is there but null (the last one, when the field is repeated).
    pub id_is_null: bool,
    /// Text, if present and not null.
    pub text: Option<Cow<'a, str>>,
    /// Whether the text field is there but null (the last one, when the field is repeated).
    pub text_is_null: bool,
    /// Title.
    pub title: Option<Cow<'a, str>>,
    /// Source.
    pub source: Option<Cow<'a, str>>,
    /// Published, as given.
    pub published: Option<Cow<'a, str>>,
    /// URL.
    pub url: Option<Cow<'a, str>>,
}

#[derive(Clone, Copy)]
enum Slot {
    Id,
    Text,
    Title,
    Source,
    Published,
    Url,
    Other,
}

/// Reads a record; the text, when it has escapes, is unescaped into the buffer if there is one.
///
/// With `raw_text`, the text is taken as the raw JSON string (`RawValue`: serde_json checks its
/// escapes without unescaping them) and unescaped by [`unescape_json_str`] straight into the
/// buffer. serde_json would unescape it into a scratch vector of its own, new for every line
/// and grown by doubling: at 48k news articles, reallocating it took 4% of the run's CPU, and
/// more in lock waits, the other thread freeing what one allocated. The raw read gives way to the
/// exact one (the value is `Err`) for a text field given more than once (the raw read would
/// check only the last value, where the exact one rejects an earlier value of the wrong type),
/// and for a text that is neither a string nor null, or has a lone surrogate, so that errors
/// read as before.
struct RecordSeed<'f, 'de> {
    names: &'f FieldNames,
    text_buf: Option<&'de mut String>,
    raw_text: bool,
    /// The field whose value is being read (cleared after it), so that an error can name it.
    reading: &'f std::cell::Cell<Option<Slot>>,
}

/// A record, or the text buffer back when the raw read gives way to the exact one.
type RecordOrRetry<'de> = std::result::Result<Record<'de>, Option<&'de mut String>>;

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, 'de> {
    type Value = RecordOrRetry<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, 'de> {
    type Value = RecordOrRetry<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let names = self.names;
        let mut record = Record::default();
        // The last text field's raw value, when reading it raw, and whether there were more.
        let mut raw_text: Option<&'de serde_json::value::RawValue> = None;
        let mut text_repeated = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                k if k == names.id => Slot::Id,
                k if k == names.text => Slot::Text,
                k if k == names.title => Slot::Title,
                k if k == names.source => Slot::Source,
                k if k == names.published => Slot::Published,
                k if k == names.url => Slot::Url,
                _ => Slot::Other,
            };
            // Which field is being read, for a value of the wrong type.
            self.reading.set(Some(slot));
            match slot {
                Slot::Id => {
                    record.id = map.next_value::<Option<IdValue>>()?.map(|v| v.0);
                    record.id_is_null = record.id.is_none();
                }
                // Read raw, the value is decoded after the loop; a second one sends the line
                // to the exact read.
                Slot::Text if self.raw_text => {
                    text_repeated |= raw_text.is_some();
                    raw_text = Some(map.next_value()?);
                }
                // In the exact read, a second text field (the last one counts) is owned, the
                // buffer being taken.
                Slot::Text => {
                    record.text = map.next_value_seed(OptStr(self.text_buf.take()))?;
                    record.text_is_null = record.text.is_none();
                }
                Slot::Title => record.title = map.next_value_seed(OptStr(None))?,
                Slot::Source => record.source = map.next_value_seed(OptStr(None))?,
                Slot::Published => record.published = map.next_value_seed(OptStr(None))?,
                Slot::Url => record.url = map.next_value_seed(OptStr(None))?,
                Slot::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            self.reading.set(None);
        }
        if text_repeated {
            return Ok(Err(self.text_buf));
        }
        if let Some(raw) = raw_text.map(serde_json::value::RawValue::get) {
            if raw == "null" {
                record.text_is_null = true;
            } else if !raw.starts_with('"') {
                return Ok(Err(self.text_buf));
            } else if memchr::memchr(b'\\', raw.as_bytes()).is_none() {
                record.text = Some(Cow::Borrowed(&raw[1..raw.len() - 1]));
            } else {
                match self.text_buf {
                    Some(buf) => {
                        if !unescape_json_str(raw, buf) {
                            return Ok(Err(Some(buf)));
                        }
                        let buf: &'de String = buf;
                        record.text = Some(Cow::Borrowed(buf.as_str()));
                    }
                    None => {
                        let mut owned = String::new();
                        if !unescape_json_str(raw, &mut owned) {
                            return Ok(Err(None));
                        }
                        record.text = Some(Cow::Owned(owned));
                    }
                }
            }
        }
        // One field can be both the text and the headline (`--text-field title`), and both
        // the id and the link (`--id-field url`, for inputs whose links are their ids).
        if names.title == names.text {
            record.title.clone_from(&record.text);
        }
        if names.url == names.id {
            record.url = record
                .id
                .as_ref()
                .map(|id| Cow::Owned(id.as_str().to_owned()));
        }
        Ok(Ok(record))
    }
}

/// A string field, where null counts as absent: borrowed from the line when it has no escapes,
/// else unescaped into the buffer when there is one, else owned.
///
/// (Serde's own `Cow<str>` is always owned: it allocated every field of every record.)
struct OptStr<'de>(Option<&'de mut String>);

impl<'de> DeserializeSeed<'de> for OptStr<'de> {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for OptStr<'de> {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(StrVisitor(self.0)).map(Some)
    }
}

struct StrVisitor<'de>(Option<&'de mut String>);

impl<'de> Visitor<'de> for StrVisitor<'de> {
    type Value = Cow<'de, str>;

    /// The words serde's `String` uses, so that error messages are as before.
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(match self.0 {
            Some(buf) => {
                buf.clear();
                buf.push_str(v);
                let buf: &'de String = buf;
                Cow::Borrowed(buf.as_str())
            }
            None => Cow::Owned(v.to_owned()),
        })
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Unescapes a JSON string literal, quotes included, that serde_json has read (as a `RawValue`:
/// its escapes are well formed), onto the end of `out` after clearing it. Returns false, `out`
/// then undefined, for a surrogate escape that is not part of a pair, which serde_json's exact
/// read rejects with its own message.
///
/// serde_json has no way to unescape into a caller's buffer; this is its `parse_escape`, kept
/// to the cases a checked literal can hold, and tested against it.
fn unescape_json_str(literal: &str, out: &mut String) -> bool {
    out.clear();
    let body = &literal[1..literal.len() - 1];
    out.reserve(body.len());
    let bytes = body.as_bytes();
    let hex = |at: usize| {
        body.get(at..at + 4)
            .and_then(|h| u16::from_str_radix(h, 16).ok())
    };
    let mut start = 0;
    while let Some(found) = memchr::memchr(b'\\', &bytes[start..]) {
        let at = start + found;
        out.push_str(&body[start..at]);
        let (ch, len) = match bytes.get(at + 1) {
            Some(b'"') => ('"', 2),
            Some(b'\\') => ('\\', 2),
            Some(b'/') => ('/', 2),
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'n') => ('\n', 2),
            Some(b'r') => ('\r', 2),
            Some(b't') => ('\t', 2),
            Some(b'u') => {
                let Some(high) = hex(at + 2) else {
                    return false;
                };
                match high {
                    0xD800..=0xDBFF => {
                        let low = match (bytes.get(at + 6..at + 8), hex(at + 8)) {
                            (Some(b"\\u"), Some(low @ 0xDC00..=0xDFFF)) => low,
                            _ => return false,
                        };
                        let c = 0x1_0000
                            + ((u32::from(high) - 0xD800) << 10)
                            + (u32::from(low) - 0xDC00);
                        match char::from_u32(c) {
                            Some(ch) => (ch, 12),
                            None => return false,
                        }
                    }
                    0xDC00..=0xDFFF => return false,
                    _ => match char::from_u32(u32::from(high)) {
                        Some(ch) => (ch, 6),
                        None => return false,
                    },
                }
            }
            _ => return false,
        };
        out.push(ch);
        start = at + len;
    }
    out.push_str(&body[start..]);
    true
}

struct IdValue(ArticleId);

impl<'de> de::Deserialize<'de> for IdValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = IdValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IdValue, E> {
                Ok(IdValue(ArticleId::Str(v.into())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IdValue, E> {
                Ok(IdValue(ArticleId::Int(v.to_string().into())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IdValue, E> {
                Ok(IdValue(ArticleId::Int(v.to_string().into())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<IdValue, E> {
                // JSON reads an integer past 64 bits as a float: say that, not "a float".
                // (One just below i64::MIN rounds to -2^63: an integer that is -2^63 itself
                // comes as an i64, so a float there was beyond.)
                if v.fract() == 0.0
                    && (v <= -9_223_372_036_854_775_808.0 || v >= 18_446_744_073_709_551_616.0)
                {
                    return Err(E::custom(
                        "an integer id beyond 64 bits (give such an id as a string)",
                    ));
                }
                Err(E::invalid_type(de::Unexpected::Float(v), &self))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

/// Parses one line into a record, or says why it cannot be read.
///
/// Checks UTF-8 first, so that invalid bytes get a clear reason with their position.
pub fn parse_record<'a>(line: &'a [u8], names: &FieldNames) -> Result<Record<'a>, String> {
    parse(line, names, None)
}

/// [`parse_record`], with a text that has escapes unescaped into `text_buf` (reused from line to
/// line) instead of a new allocation.
pub fn parse_record_in<'a>(
    line: &'a [u8],
    names: &FieldNames,
    text_buf: &'a mut String,
) -> Result<Record<'a>, String> {
    parse(line, names, Some(text_buf))
}

fn parse<'a>(
    line: &'a [u8],
    names: &FieldNames,
    text_buf: Option<&'a mut String>,
) -> Result<Record<'a>, String> {
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1))?;
    if text.starts_with('\u{feff}') {
        // The one that opens a file is skipped before any line is parsed.
        return Err(
            "a byte-order mark opens this line, not the file (files joined with cat? \
                    give them as separate inputs)"
                .into(),
        );
    }
    let reading = std::cell::Cell::new(None);
    let read = |text_buf, raw_text| {
        reading.set(None);
        let mut de = serde_json::Deserializer::from_str(text);
        RecordSeed {
            names,
            text_buf,
            raw_text,
            reading: &reading,
        }
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r))
    };
    // The raw read, and the exact one for what it leaves (see `RecordSeed`), and for errors,
    // so that their messages and columns are serde_json's own.
    let record = match read(text_buf, true) {
        Ok(Ok(record)) => Ok(record),
        Ok(Err(text_buf)) => read(text_buf, false).map(|r| r.unwrap_or_default()),
        Err(_) => read(None, false).map(|r| r.unwrap_or_default()),
    };
    let record = record.map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        let field = match reading.get() {
            Some(Slot::Id) => Some(&names.id),
            Some(Slot::Text) => Some(&names.text),
            Some(Slot::Title) => Some(&names.title),
            Some(Slot::Source) => Some(&names.source),
            Some(Slot::Published) => Some(&names.published),
            Some(Slot::Url) => Some(&names.url),
            Some(Slot::Other) | None => None,
        };
        match (e.classify(), field) {
            // Valid JSON, a value of the wrong type: the field is named.
            (serde_json::error::Category::Data, Some(field)) => {
                format!("field `{field}`: {msg} (column {})", e.column())
            }
            _ => format!("invalid JSON: {msg} (column {})", e.column()),
        }
    })?;
    Ok(record)
}

/// The id of a line that is valid JSON but not a valid record (a field of the wrong type), for
/// its reject; `None` when the line is not a JSON object or its id cannot be read.
pub fn id_of_rejected(line: &[u8], names: &FieldNames) -> Option<ArticleId> {
    struct IdOnly<'f>(&'f str);
    impl<'de> DeserializeSeed<'de> for IdOnly<'_> {
        type Value = Option<ArticleId>;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for IdOnly<'_> {
        type Value = Option<ArticleId>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut id = None;
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if key == self.0 {
                    // The last id key counts, as in the record parser; an id of the wrong
                    // type makes the id unreadable.
                    match map.next_value::<Option<IdValue>>() {
                        Ok(value) => id = value.map(|v| v.0),
                        Err(_) => return Ok(None),
                    }
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(id)
        }
    }
    let text = std::str::from_utf8(line).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let id = IdOnly(&names.id).deserialize(&mut de).ok().flatten();
    // Only a line that is one JSON object, nothing after it.
    de.end().ok().and(id)
}

/// Parses a publication date: RFC 3339 date-time, a date alone (midnight UTC), a date-time
/// without offset (taken as UTC), or RFC 2822. Gives the seconds since the epoch, and whether
/// the string was a date alone.
pub fn parse_published(s: &str) -> Option<(i64, bool)> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some((ts.as_second(), false));
    }
    // jiff reads a date alone as a date-time at midnight: a date alone is told by its
    // characters (digits and signs: a time brings a `T` or a space, and colons).
    // (An RFC 9557 annotation such as `[America/New_York]` after it changes nothing.)
    let date_only = s.split('[').next().is_some_and(|d| {
        d.bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
    });
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return jiff::tz::Offset::UTC
            .to_timestamp(dt)
            .ok()
            .map(|t| (t.as_second(), date_only));
    }
    jiff::fmt::rfc2822::parse(s)
        .ok()
        .map(|z| (z.timestamp().as_second(), false))
}

/// Why [`parse_published`] read no date in `s`: the reason of the parser its form points to
/// (RFC 3339 when it opens with a year and a dash, else RFC 2822), or that the date lies past
/// the timestamps storyhash handles.
fn published_error(s: &str) -> String {
    let s = s.trim();
    let shown = s.chars().take(40).collect::<String>();
    // RFC 3339 (and its extended years) opens with a year and a dash: `2014-`, `+002014-`.
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let year_digits = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    let rfc3339 =
        (4..=6).contains(&year_digits) && unsigned.as_bytes().get(year_digits) == Some(&b'-');
    let detail = if rfc3339 {
        match (
            s.parse::<jiff::Timestamp>(),
            s.parse::<jiff::civil::DateTime>(),
        ) {
            // A calendar date past what a timestamp holds (one with an offset, or none).
            (_, Ok(_)) => None,
            (Err(e), Err(_)) => Some(e.to_string()),
            (Ok(_), Err(_)) => Some(String::new()),
        }
    } else {
        jiff::fmt::rfc2822::parse(s).err().map(|e| e.to_string())
    };
    match detail {
        // Words without a digit ("yesterday") need no parser's reason.
        Some(_) if !s.bytes().any(|b| b.is_ascii_digit()) => {
            format!("`{shown}` is not an RFC 3339 or RFC 2822 date")
        }
        // jiff says a date past its range "overflowed"; were that wording to change, such a
        // date would read as no date, with jiff's reason after it: still true.
        Some(d) if !d.contains("overflow") => {
            format!("`{shown}` is not an RFC 3339 or RFC 2822 date ({d})")
        }
        _ => format!(
            "`{shown}` is outside the dates storyhash handles (-009999-01-02 to 9999-12-30 UTC)"
        ),
    }
}

/// Formats seconds since the epoch as an RFC 3339 UTC date-time.
pub fn format_published(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Checks a parsed record and builds the article kept for later stages.
pub fn accept(
    record: &Record<'_>,
    names: &FieldNames,
    location: LineLocation,
) -> Result<Article, String> {
    // A null field is named as null, not as missing: the field is there.
    let absent = |name: &str, null: bool, needed: &str| {
        if null {
            format!("field `{name}` is null (an article needs {needed})")
        } else {
            format!("missing required field `{name}`")
        }
    };
    let id = record
        .id
        .as_ref()
        .ok_or_else(|| absent(&names.id, record.id_is_null, "a string or integer id"))?;
    // An empty id names nothing in the outputs (duplicate_of, rejects, the index).
    if id.as_ref().as_str().is_empty() {
        return Err(format!(
            "field `{}` is empty (an article needs a non-empty id)",
            names.id
        ));
    }
    let text = record.text.as_deref().ok_or_else(|| {
        absent(
            &names.text,
            record.text_is_null,
            "a string text, which may be empty",
        )
    })?;
    let (published, date_only) = match record.published.as_deref() {
        // Empty, as `null`: no date (feeds write "" for a date they lack).
        None => (None, false),
        Some(s) if s.trim().is_empty() => (None, false),
        Some(s) => parse_published(s)
            .map(|(t, d)| (Some(t), d))
            .ok_or_else(|| format!("field `{}`: {}", names.published, published_error(s)))?,
    };
    // Empty or blank (spaces and control characters only), as `null`: no headline, outlet or
    // link.
    fn non_empty<'s>(v: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
        v.as_deref().filter(|s| !crate::normalize::is_blank(s))
    }
    Ok(Article::new(ArticleFields {
        id: id.as_ref(),
        title: non_empty(&record.title),
        source: non_empty(&record.source).map(|s| Outlet::new(s.to_string())),
        url: non_empty(&record.url),
        published,
        date_only,
        text_chars: u32::try_from(text.chars().count()).unwrap_or(u32::MAX),
        location,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A pool keeps at most four buffers, none without memory or larger than it takes; it hands
    /// them out emptied.
    #[test]
    fn a_pool_keeps_four_buffers_and_hands_them_out_empty() {
        let pool = BufferPool::new();
        assert!(pool.is_empty() && pool.take().capacity() == 0);
        pool.keep(Vec::new());
        assert!(pool.is_empty(), "a buffer without memory is not kept");
        pool.keep(Vec::with_capacity(BufferPool::MAX_BYTES + 1));
        assert!(pool.is_empty(), "nor one a line longer than a chunk grew");
        for i in 0..6 {
            pool.keep(vec![i as u8; 100 + i]);
        }
        assert_eq!(pool.len(), BufferPool::MAX_SPARE);
        let buffer = pool.take();
        assert!(buffer.is_empty() && buffer.capacity() >= 100);
        assert_eq!(pool.len(), BufferPool::MAX_SPARE - 1);
    }

    /// Buffers of known addresses for a pool: as many as a pass holds at once, each with room
    /// for a chunk and more, so that no read grows one into a new allocation.
    pub(crate) fn seeded_pool() -> (BufferPool, Vec<usize>) {
        let pool = BufferPool::new();
        let mut addresses = Vec::new();
        for _ in 0..BufferPool::MAX_SPARE {
            let buffer = Vec::with_capacity(2 * CHUNK_BYTES);
            addresses.push(buffer.as_ptr() as usize);
            pool.keep(buffer);
        }
        addresses.sort_unstable();
        (pool, addresses)
    }

    /// The addresses of the buffers in `pool`, sorted (the pool is emptied).
    pub(crate) fn pooled_addresses(pool: &BufferPool) -> Vec<usize> {
        let mut addresses: Vec<usize> = pool.drain().iter().map(|b| b.as_ptr() as usize).collect();
        addresses.sort_unstable();
        addresses
    }

    /// A pass over the inputs reads into the pool's buffers (a pass holds at most four at
    /// once, so it needs no other), and every one is back in the pool when it ends.
    #[test]
    fn a_pass_reads_into_pooled_buffers_and_leaves_them_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        let line = format!("{{\"id\":\"x\",\"text\":\"{}\"}}\n", "word ".repeat(200));
        std::fs::write(&path, line.repeat(5 * CHUNK_BYTES / line.len())).unwrap();
        let inputs = vec![Input::open(&path, dir.path()).unwrap()];
        for round in 0..3 {
            let (pool, seeded) = seeded_pool();
            let mut chunks = 0;
            for_each_chunk_pooled(&inputs, &pool, |_, chunk| {
                let at = chunk.data.as_ptr() as usize;
                assert!(
                    seeded.contains(&at),
                    "round {round}: chunk {chunks} in a new buffer"
                );
                chunks += 1;
                Ok(())
            })
            .unwrap();
            assert!(chunks >= 4, "{chunks} chunks");
            assert_eq!(
                pooled_addresses(&pool),
                seeded,
                "round {round}: every buffer is back"
            );
        }
    }

    /// Line numbers past 32 bits saturate in a location (the run stops before it keeps one)
    /// and are whole in `line_number`.
    #[test]
    fn line_numbers_past_32_bits() {
        let chunk = Chunk {
            first_line: u64::from(u32::MAX) - 1,
            data: b"a\nb\nc".to_vec(),
            lines: vec![(0, 1), (2, 3), (4, 5)],
            ..Chunk::default()
        };
        let lines: Vec<u32> = (0..3).map(|i| chunk.location(i).line).collect();
        assert_eq!(lines, [u32::MAX - 1, u32::MAX, u32::MAX]);
        assert_eq!(chunk.line_number(2), u64::from(u32::MAX) + 1);
    }

    /// Dates share a word with the flags: every date a record can give (years -9999 to 9999,
    /// jiff's range) comes back, with every combination of flags beside it.
    #[test]
    fn dates_and_flags_come_back_together() {
        let location = LineLocation {
            input: 0,
            line: u32::MAX,
            offset: u64::MAX,
            len: 7,
        };
        let dates = [
            None,
            Some(jiff::Timestamp::MIN.as_second()),
            Some(jiff::Timestamp::MAX.as_second()),
            Some(-1),
            Some(0),
            Some(1_700_000_000),
        ];
        for (published, date_only) in dates.into_iter().flat_map(|d| [(d, false), (d, true)]) {
            for (int, title, url) in [(false, None, None), (true, Some("t"), Some("u"))] {
                let id = if int {
                    ArticleId::Int("7".into())
                } else {
                    ArticleId::Str("x".into())
                };
                let a = Article::new(ArticleFields {
                    id: id.as_ref(),
                    title,
                    source: Some(Outlet::new("o".to_string())),
                    url,
                    published,
                    date_only,
                    text_chars: 3,
                    location,
                });
                assert_eq!(a.published(), published);
                // No date has no time of day to leave out.
                assert_eq!(a.date_only(), date_only && published.is_some());
                assert_eq!(a.id().is_int(), int);
                assert_eq!((a.title(), a.url(), a.source()), (title, url, Some("o")));
                let b = a.without_headline();
                assert!(b.headline_elsewhere() && !a.headline_elsewhere());
                assert_eq!((b.published(), b.has_title()), (published, title.is_some()));
                assert_eq!((b.location, b.date_only()), (location, a.date_only()));
                let c = b.with_headline(title, url);
                assert_eq!((c.title(), c.url(), c.published()), (title, url, published));
                assert_eq!(c.date_only(), a.date_only());
            }
        }
    }

    /// An article's id, headline and link come back from their one allocation as given,
    /// absent ones as `None` (an empty headline is still a headline).
    #[test]
    fn article_strings_come_back() {
        let location = LineLocation {
            input: 1,
            line: 2,
            offset: 3,
            len: 4,
        };
        let cases = [
            (
                ArticleId::Int("42".into()),
                Some("Héadline"),
                Some("https://x.example/a"),
            ),
            (ArticleId::Str("a-1".into()), None, Some("u")),
            (ArticleId::Str("".into()), Some(""), None),
            (ArticleId::Str("ü".into()), None, None),
        ];
        for (id, title, url) in cases {
            let a = Article::new(ArticleFields {
                id: id.as_ref(),
                title,
                source: Some(Outlet::new("outlet".to_string())),
                url,
                published: Some(7),
                date_only: false,
                text_chars: 9,
                location,
            });
            assert_eq!(a.id(), id.as_ref());
            assert_eq!(a.id().to_owned(), id);
            assert_eq!(
                (a.title(), a.url(), a.source()),
                (title, url, Some("outlet"))
            );
            assert_eq!(
                (a.published(), a.text_chars, a.location),
                (Some(7), 9, location)
            );
            assert_eq!(
                serde_json::to_string(&a.id()).unwrap(),
                serde_json::to_string(&id).unwrap()
            );
            // Without the headline: the same id, date and place; the headline back as given.
            let bare = a.without_headline();
            assert!(bare.headline_elsewhere() && !a.headline_elsewhere());
            assert_eq!(bare.has_title(), title.is_some());
            assert_eq!(
                (bare.id(), bare.published(), bare.location),
                (id.as_ref(), Some(7), location)
            );
            let back = bare.with_headline(title, url);
            assert_eq!(
                (back.id(), back.title(), back.url()),
                (id.as_ref(), title, url)
            );
        }
        // No date stays no date.
        let undated = Article::new(ArticleFields {
            id: ArticleId::Str("d".into()).as_ref(),
            title: None,
            source: None,
            url: None,
            published: None,
            date_only: false,
            text_chars: 0,
            location,
        });
        assert_eq!(undated.published(), None);
        assert_eq!(
            serde_json::to_string(&ArticleId::Int("42".into())).unwrap(),
            "42"
        );
    }

    /// An article is 72 bytes (every article of a run stays in memory: its size is most of
    /// the memory budget), and one that keeps only a news-length id holds no heap block.
    #[test]
    fn articles_are_small() {
        assert_eq!(std::mem::size_of::<LineLocation>(), 20);
        assert_eq!(std::mem::size_of::<Article>(), 72);
        let a = Article::new(ArticleFields {
            id: ArticleId::Str("uci-2014-05-06-0001234".into()).as_ref(),
            title: Some("A headline long enough to need a heap block of its own"),
            source: None,
            url: None,
            published: None,
            date_only: false,
            text_chars: 0,
            location: LineLocation {
                input: 0,
                line: 1,
                offset: 0,
                len: 1,
            },
        });
        assert!(a.strings.is_heap_allocated());
        assert!(!a.without_headline().strings.is_heap_allocated());
    }

    /// A line that is JSON but not a valid record keeps its id for the reject; other lines
    /// have none.
    #[test]
    fn the_id_of_a_rejected_line() {
        let names = FieldNames::default();
        let cases: [(&str, Option<&str>); 9] = [
            (r#"{"id":"a","text":5}"#, Some("a")),
            (r#"{"title":[1],"id":7,"text":"t"}"#, Some("7")),
            (r#"{"id":1.5,"text":"t"}"#, None),
            (r#"{"text":5}"#, None),
            (r#"{"id":"a","text":"t""#, None),
            (r#"[1,2]"#, None),
            (r#"{"id":"b","text":"t"} x"#, None),
            (r#"{"id":null,"id":"c","text":5}"#, Some("c")),
            (r#"{"id":"a","id":null,"text":5}"#, None),
        ];
        for (line, want) in cases {
            let got = id_of_rejected(line.as_bytes(), &names);
            assert_eq!(got.as_ref().map(ArticleId::as_str), want, "{line}");
        }
        // The reason names the field whose value has the wrong type.
        let reason = parse_record(br#"{"id":"a","text":5}"#, &names).unwrap_err();
        assert!(reason.starts_with("field `text`:"), "{reason}");
    }

    fn check(line: &str) -> Result<Article, String> {
        let names = FieldNames::default();
        let loc = LineLocation {
            input: 0,
            line: 1,
            offset: 0,
            len: line.len() as u32,
        };
        parse_record(line.as_bytes(), &names).and_then(|r| accept(&r, &names, loc))
    }

    #[test]
    fn records_accepted_or_rejected() {
        // (line, Ok(id) or Err(substring of the reason))
        let cases: &[(&str, Result<&str, &str>)] = &[
            (r#"{"id":"a","text":"t"}"#, Ok("a")),
            (r#"{"id":7,"text":"t","extra":[1,{"x":2}]}"#, Ok("7")),
            (r#"{"id":-7,"text":""}"#, Ok("-7")),
            (r#"{"id":"a","text":"t","title":null}"#, Ok("a")),
            (r#"{"text":"t"}"#, Err("missing required field `id`")),
            (
                r#"{"id":null,"text":"t"}"#,
                Err("field `id` is null (an article needs a string or integer id)"),
            ),
            // A repeated field: the last one counts, null or not.
            (r#"{"id":null,"id":"b","text":"t"}"#, Ok("b")),
            (
                r#"{"id":"b","id":null,"text":"t"}"#,
                Err("field `id` is null"),
            ),
            (r#"{"id":"a"}"#, Err("missing required field `text`")),
            (
                r#"{"id":"a","text":null}"#,
                Err("field `text` is null (an article needs a string text, which may be empty)"),
            ),
            (r#"{"id":"a","text":null,"text":""}"#, Ok("a")),
            (
                r#"{"id":"a","text":"t","text":null}"#,
                Err("field `text` is null"),
            ),
            (
                r#"{"id":1.5,"text":"t"}"#,
                Err("field `id`: invalid type: floating point"),
            ),
            (
                r#"{"id":99999999999999999999999,"text":"t"}"#,
                Err("field `id`: an integer id beyond 64 bits (give such an id as a string)"),
            ),
            (
                r#"{"id":-9223372036854775808,"text":"t"}"#,
                Ok("-9223372036854775808"),
            ),
            (
                r#"{"id":-9223372036854775809,"text":"t"}"#,
                Err("field `id`: an integer id beyond 64 bits (give such an id as a string)"),
            ),
            (
                r#"{"id":18446744073709551615,"text":"t"}"#,
                Ok("18446744073709551615"),
            ),
            // A float that an integer could hold is a float.
            (
                r#"{"id":1e19,"text":"t"}"#,
                Err("field `id`: invalid type: floating point"),
            ),
            (
                r#"{"id":"a","text":5}"#,
                Err("field `text`: invalid type: integer"),
            ),
            (r#"{"id":"a","text":"t""#, Err("invalid JSON")),
            (r#"[1,2]"#, Err("invalid JSON")),
            (r#"{"id":"a","text":"t"} x"#, Err("invalid JSON")),
            (
                r#"{"id":"a","text":"t","published":"yesterday"}"#,
                Err("not an RFC 3339"),
            ),
        ];
        for (line, expected) in cases {
            match (check(line), expected) {
                (Ok(a), Ok(id)) => assert_eq!(a.id().as_str(), *id, "{line}"),
                (Err(reason), Err(part)) => assert!(reason.contains(part), "{line}: {reason}"),
                (got, want) => panic!("{line}: got {got:?}, want {want:?}"),
            }
        }
    }

    /// The borrowing string fields give the values and the error messages (as at 45b2856) that
    /// serde's own `Cow<str>` gave, with a text buffer or without.
    #[test]
    fn string_fields_borrowed_or_unescaped() {
        // (line, Ok(text, title, source) or Err(reason))
        type Fields = (
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
        );
        let cases: &[(&str, Result<Fields, &str>)] = &[
            (
                r#"{"id":"a","text":"plain"}"#,
                Ok((Some("plain"), None, None)),
            ),
            (
                r#"{"id":"a","text":"a\nb \u00e9 \ud83d\ude00 \"q\" \/"}"#,
                Ok((Some("a\nb é 😀 \"q\" /"), None, None)),
            ),
            (
                r#"{"id":"a","text":"a\nb","text":"c\td"}"#,
                Ok((Some("c\td"), None, None)),
            ),
            (
                r#"{"id":"a","text":"x\ty","text":null}"#,
                Ok((None, None, None)),
            ),
            (
                r#"{"id":"a","text":null,"text":"x\"y"}"#,
                Ok((Some("x\"y"), None, None)),
            ),
            (
                r#"{"id":"a","text":"x","title":"t\u0041","source":"s\/s"}"#,
                Ok((Some("x"), Some("tA"), Some("s/s"))),
            ),
            (
                r#"{"id":"a","text":"x", "title": null , "source":"s"} "#,
                Ok((Some("x"), None, Some("s"))),
            ),
            (
                r#"{"id":"a","text":5}"#,
                Err("field `text`: invalid type: integer `5`, expected a string (column 18)"),
            ),
            (
                r#"{"id":"a","text":"x","title":[1]}"#,
                Err("field `title`: invalid type: sequence, expected a string (column 29)"),
            ),
            (
                r#"{"id":"a","text":"x","source":{"a":1}}"#,
                Err("field `source`: invalid type: map, expected a string (column 30)"),
            ),
            (
                r#"{"id":"a","text":"x","url":true}"#,
                Err("field `url`: invalid type: boolean `true`, expected a string (column 31)"),
            ),
            (
                r#"{"id":"a","text":"x","published":1.5}"#,
                Err(
                    "field `published`: invalid type: floating point `1.5`, expected a string (column 36)",
                ),
            ),
            (
                r#"{"id":"a","text":"bad \x escape"}"#,
                Err("invalid JSON: invalid escape (column 24)"),
            ),
            (
                r#"{"id":"a","text":"lone \ud800 surrogate"}"#,
                Err("invalid JSON: unexpected end of hex escape (column 30)"),
            ),
            (
                "{\"id\":\"a\",\"text\":\"ctrl \u{1} char\"}",
                Err(
                    "invalid JSON: control character (\\u0000-\\u001F) found while parsing a string (column 24)",
                ),
            ),
            (
                r#"{"id":"a","text":"unterminated"#,
                Err("invalid JSON: EOF while parsing a string (column 30)"),
            ),
            (
                r#"{"id":"a","text":"t","text":7}"#,
                Err("field `text`: invalid type: integer `7`, expected a string (column 29)"),
            ),
            // A text given more than once: every value is checked, not only the last.
            (
                r#"{"id":"a","text":7,"text":"x"}"#,
                Err("field `text`: invalid type: integer `7`, expected a string (column 18)"),
            ),
            (
                r#"{"id":"a","text":"\ud800","text":"x"}"#,
                Err("invalid JSON: unexpected end of hex escape (column 25)"),
            ),
            (
                r#"{"id":"a","text":1e400,"text":"x"}"#,
                Err("invalid JSON: number out of range (column 22)"),
            ),
            (
                r#"{"id":"a","te\u0078t":[1],"text":"x"}"#,
                Err("field `text`: invalid type: sequence, expected a string (column 22)"),
            ),
            (
                r#"{"id":"a","text":"a\nb","te\u0078t":"c"}"#,
                Ok((Some("c"), None, None)),
            ),
            // A text read raw that the exact read must take back: the same messages as ever.
            (
                r#"{"id":"a","text":"trailing \udc00 first"}"#,
                Err("invalid JSON: lone leading surrogate in hex escape (column 33)"),
            ),
            (
                r#"{"id":"a","text":"high \ud800\u0041 then no low"}"#,
                Err("invalid JSON: lone leading surrogate in hex escape (column 35)"),
            ),
            (
                r#"{"id":"a","text":"high \ud800\n then"}"#,
                Err("invalid JSON: unexpected end of hex escape (column 31)"),
            ),
            (
                r#"{"id":"a","text":"\\u00e9 is not an escape","title":"T"}"#,
                Ok((Some("\\u00e9 is not an escape"), Some("T"), None)),
            ),
            (
                r#"{"id":"a","text":"x\ny","title":7}"#,
                Err("field `title`: invalid type: integer `7`, expected a string (column 33)"),
            ),
            (
                r#"{"id":"a","text":[1],"title":7}"#,
                Err("field `text`: invalid type: sequence, expected a string (column 17)"),
            ),
            (
                r#"{"id":"a","text":"x\u0000y\b\f\r\t"}"#,
                Ok((Some("x\0y\u{8}\u{c}\r\t"), None, None)),
            ),
        ];
        let names = FieldNames::default();
        let mut buf = String::from("stale");
        for (line, expected) in cases {
            for with_buf in [false, true] {
                let got = if with_buf {
                    parse_record_in(line.as_bytes(), &names, &mut buf)
                } else {
                    parse_record(line.as_bytes(), &names)
                };
                match (got, expected) {
                    (Ok(r), Ok((text, title, source))) => {
                        assert_eq!(r.text.as_deref(), *text, "{line}");
                        assert_eq!(r.title.as_deref(), *title, "{line}");
                        assert_eq!(r.source.as_deref(), *source, "{line}");
                    }
                    (Err(reason), Err(want)) => assert_eq!(reason, *want, "{line}"),
                    (got, want) => panic!("{line}: got {got:?}, want {want:?}"),
                }
            }
        }
        // Escape-free fields are borrowed from the line, not copied.
        let line = br#"{"id":"a","text":"plain","title":"t"}"#;
        let r = parse_record(line, &names).unwrap();
        assert!(
            matches!(r.text, Some(Cow::Borrowed(_))) && matches!(r.title, Some(Cow::Borrowed(_)))
        );
    }

    #[test]
    fn invalid_utf8_is_named() {
        let err =
            parse_record(b"{\"id\":\"a\",\"text\":\"\xff\"}", &FieldNames::default()).unwrap_err();
        assert_eq!(err, "invalid UTF-8 at byte 19");
    }

    #[test]
    fn remapped_fields() {
        let names = FieldNames {
            id: "doc_id".into(),
            text: "body".into(),
            ..FieldNames::default()
        };
        let r = parse_record(br#"{"doc_id":"x","body":"b","id":"ignored"}"#, &names).unwrap();
        assert_eq!(r.id, Some(ArticleId::Str("x".into())));
        assert_eq!(r.text.as_deref(), Some("b"));
    }

    #[test]
    fn dates() {
        let cases = [
            ("2014-05-06", Some((1_399_334_400, true))),
            (" 2014-05-06 ", Some((1_399_334_400, true))),
            ("2014-05-06[America/New_York]", Some((1_399_334_400, true))),
            (
                "2014-05-06T00:00:00[America/New_York]",
                Some((1_399_334_400, false)),
            ),
            ("2014-05-06T00:00:00Z", Some((1_399_334_400, false))),
            ("2014-05-06T02:00:00+02:00", Some((1_399_334_400, false))),
            ("2014-05-06T00:00:00", Some((1_399_334_400, false))),
            (
                "Tue, 06 May 2014 00:00:00 +0000",
                Some((1_399_334_400, false)),
            ),
            ("06/05/2014", None),
        ];
        for (s, expected) in cases {
            assert_eq!(parse_published(s), expected, "{s}");
        }
        assert_eq!(format_published(1_399_334_400), "2014-05-06T00:00:00Z");
    }

    /// An empty date, or one of spaces only, is no date, as null is; any other text that is no
    /// date is a bad record.
    #[test]
    fn an_empty_date_is_no_date() {
        for published in ["null", "\"\"", "\"  \"", "\"\\t\""] {
            let line = format!("{{\"id\":\"a\",\"text\":\"t\",\"published\":{published}}}");
            let article = check(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(article.published(), None, "{line}");
        }
        let err = check(r#"{"id":"a","text":"t","published":"yesterday"}"#).unwrap_err();
        assert!(err.contains("`yesterday` is not"), "{err}");
    }

    #[test]
    fn integer_ids_serialize_as_numbers() {
        let id = ArticleId::Int("42".into());
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        let id = ArticleId::Str("42".into());
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"42\"");
    }

    /// A byte-order mark inside an input (files joined with `cat`) is named as such.
    #[test]
    fn a_byte_order_mark_opening_a_line_is_named() {
        let names = FieldNames::default();
        let err =
            parse_record("\u{feff}{\"id\":\"a\",\"text\":\"x\"}".as_bytes(), &names).unwrap_err();
        assert!(err.contains("byte-order mark"), "{err}");
        // Inside a string it is text.
        let r = parse_record("{\"id\":\"a\",\"text\":\"\u{feff}x\"}".as_bytes(), &names).unwrap();
        assert_eq!(r.text.as_deref(), Some("\u{feff}x"));
    }

    /// The raw text's unescaping gives what serde_json's gives, on literals built from every
    /// kind of escape (surrogate pairs and lone halves too) among plain and non-ASCII runs;
    /// where serde_json refuses one, so does it.
    #[test]
    fn unescaping_agrees_with_serde_json() {
        let pieces = [
            "plain ",
            "é",
            "😀",
            r#"\""#,
            r"\\",
            r"\/",
            r"\b",
            r"\f",
            r"\n",
            r"\r",
            r"\t",
            r"\u0041",
            r"\u00E9",
            r"\u20ac",
            r"\uffff",
            r"\u0000",
            r"\ud83d\ude00",
            r"\uD83D\uDE00",
            r"\ud800",
            r"\udfff",
            r"\ud800\u0041",
            r"\ud800\n",
            r"\udbff\udfff",
            "u",
            r"\\u0041",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut out = String::from("stale");
        let (mut agreed, mut refused) = (0, 0);
        for _ in 0..20_000 {
            let mut literal = String::from("\"");
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            for i in 0..(state % 6) {
                let pick = (state >> (8 * i + 3)) % pieces.len() as u64;
                literal.push_str(pieces[pick as usize]);
            }
            literal.push('"');
            let theirs = serde_json::from_str::<String>(&literal).ok();
            let ours = unescape_json_str(&literal, &mut out).then(|| out.clone());
            assert_eq!(ours, theirs, "{literal}");
            if theirs.is_some() {
                agreed += 1;
            } else {
                refused += 1;
            }
        }
        // Both kinds of literal were tried.
        assert!(agreed > 1000 && refused > 1000, "{agreed} / {refused}");
    }
}
