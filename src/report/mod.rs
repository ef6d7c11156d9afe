//! Report: writes a run's output files, each atomically (a temporary file in the output
//! directory, flushed, synced, then renamed over the final name).
//!
//! | file | one line per |
//! |---|---|
//! | `articles.jsonl` | accepted article, input order |
//! | `duplicates.jsonl` | near-duplicate cluster of two or more |
//! | `deduped.jsonl` | kept article: its input line, byte for byte |
//! | `rejects.jsonl` | rejected line or file (empty when none) |
//! | `summary.json` | the run: counts, parameters, timings |
//! | `report.md` | people: the counts, parameters and largest clusters, in Markdown ([`markdown`]) |
//! | `report.html` | people: one self-contained page with charts and search ([`html`]) |

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::headlines::Headline;
use crate::ingest::IdRef;
use crate::lsh::LshParams;
use crate::pipeline::{
    DedupConfig, DedupRun, RunStats, article_line, for_each_article_chunk, for_each_wanted_article,
};
use crate::progress::Progress;
use crate::progress::Silent;

pub mod html;
pub mod markdown;

/// A share as a percentage with one decimal, never rounded to all or nothing when it is
/// neither: 2,954 of 2,955 is ">99.9%", not "100.0%"; 1 of 10,000 is "<0.1%".
pub fn percent(part: usize, whole: usize) -> String {
    if whole == 0 || part == 0 {
        return "0.0%".into();
    }
    if part >= whole {
        return "100.0%".into();
    }
    let shown = format!("{:.1}", 100.0 * part as f64 / whole as f64);
    match shown.as_str() {
        "100.0" => ">99.9%".into(),
        "0.0" => "<0.1%".into(),
        _ => format!("{shown}%"),
    }
}

/// Texts of the articles a people's report quotes (for diffs), by document.
pub type QuotedTexts = std::collections::BTreeMap<u32, String>;

/// A file being written under a temporary name until [`AtomicFile::commit`].
pub struct AtomicFile {
    target: PathBuf,
    writer: BufWriter<SyncingFile>,
}

impl AtomicFile {
    /// Starts writing `dir/name`.
    pub fn create(dir: &Path, name: &str) -> Result<AtomicFile> {
        // A killed run's temporary file is swept by the next run only under a known name.
        #[cfg(not(test))]
        debug_assert!(
            crate::outdir::OUTPUT_NAMES.contains(&name),
            "{name} is missing from outdir::OUTPUT_NAMES"
        );
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        // Outputs are ordinary files: readable as the umask allows, not private like a tempfile.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let tmp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
        Ok(AtomicFile {
            target: dir.join(name),
            writer: BufWriter::with_capacity(
                1 << 20,
                SyncingFile {
                    file: tmp,
                    step: SYNC_STEP,
                    written: 0,
                    synced: 0,
                    syncer: None,
                },
            ),
        })
    }

    /// The buffered writer.
    pub fn writer(&mut self) -> &mut BufWriter<SyncingFile> {
        &mut self.writer
    }

    /// Appends `len` bytes of `from` at `offset`, after what the writer holds. The kernel copies
    /// them file to file where it can (`copy_file_range` on Linux), so they never pass through
    /// this process.
    pub fn copy_range(&mut self, from: &std::fs::File, offset: u64, len: u64) -> Result<()> {
        self.writer
            .flush()
            .and_then(|()| self.writer.get_mut().copy_range(from, offset, len))
            .map_err(|e| Error::io(&self.target, e))
    }

    /// Writes one value as a JSON line.
    pub fn json_line<T: Serialize>(&mut self, value: &T) -> Result<()> {
        serde_json::to_writer(&mut self.writer, value)
            .map_err(|e| Error::io(&self.target, e.into()))?;
        self.writer
            .write_all(b"\n")
            .map_err(|e| Error::io(&self.target, e))
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(self) -> Result<()> {
        self.finish()?.publish()
    }

    /// Flushes and syncs the file under its temporary name: [`Finished::publish`] renames it
    /// into place, so that a run's outputs can all be finished before any is published.
    pub fn finish(self) -> Result<Finished> {
        let target = self.target;
        let mut inner = self
            .writer
            .into_inner()
            .map_err(|e| Error::io(&target, e.into_error()))?;
        // Wait for the background syncs first: a failed one fails the commit too.
        if let Some(syncer) = inner.syncer.take() {
            drop(syncer.wake);
            syncer
                .thread
                .join()
                .expect("the syncer thread does not panic")
                .map_err(|e| Error::io(&target, e))?;
        }
        let tmp = inner.file;
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(&target, e))?;
        Ok(Finished { tmp, target })
    }
}

/// An output written and synced under its temporary name (removed if dropped unpublished).
pub struct Finished {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl Finished {
    /// A file written and synced under its temporary name `tmp`, to be renamed to `target`.
    pub(crate) fn new(tmp: tempfile::NamedTempFile, target: PathBuf) -> Finished {
        Finished { tmp, target }
    }

    /// Renames the file into place.
    pub fn publish(self) -> Result<()> {
        self.tmp
            .persist(&self.target)
            .map_err(|e| Error::io(&self.target, e.error))?;
        Ok(())
    }
}

/// Test hook: with `STORYHASH_OUTPUT_CRASH_AT=N` the process kills itself with SIGKILL at the
/// N-th step (1-based) of publishing its outputs (before each rename and each removal), so
/// tests can stop a run between any two.
fn crash_point() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STEP: AtomicU64 = AtomicU64::new(0);
    static TARGET: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let target = *TARGET.get_or_init(|| {
        std::env::var("STORYHASH_OUTPUT_CRASH_AT")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if let Some(target) = target
        && STEP.fetch_add(1, Ordering::SeqCst) + 1 == target
    {
        crate::index::format::kill_self();
    }
}

/// Publishes a run's finished outputs together, `summary.json` last, once every one of them
/// is written: a run that fails before leaves the outputs of the run before it as they were,
/// never some of each. Then `mark`, the batch mark of a run that adds its batch to an index
/// ([`crate::outdir::BATCH_MARK`]): the earlier run's mark guards its outputs until the last
/// of them is replaced. `stale` names files of an earlier run this run does not write (a
/// `run`'s `stories.jsonl` after a `dedup`, an earlier batch mark), removed after the renames.
/// The directory is then synced, so that the renames are on disk before an index update
/// follows them.
fn publish_all(
    out_dir: &Path,
    files: Vec<Finished>,
    mark: Option<Finished>,
    stale: &[&str],
) -> Result<()> {
    // Renaming onto a directory fails, and so does removing one: find one before anything is
    // renamed.
    let is_dir = |path: &Path| fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    for f in files.iter().chain(&mark) {
        if is_dir(&f.target) {
            return Err(Error::io(
                &f.target,
                std::io::Error::other("is a directory, where this run writes a file"),
            ));
        }
    }
    for name in stale {
        let path = out_dir.join(name);
        if is_dir(&path) {
            return Err(Error::io(
                &path,
                std::io::Error::other(
                    "is a directory, where this run removes an earlier run's file of that name",
                ),
            ));
        }
    }
    let (summary, rest): (Vec<Finished>, Vec<Finished>) = files
        .into_iter()
        .partition(|f| f.target.file_name() == Some(std::ffi::OsStr::new("summary.json")));
    for f in rest.into_iter().chain(summary).chain(mark) {
        crash_point();
        f.publish()?;
    }
    for name in stale {
        crash_point();
        match fs::remove_file(out_dir.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(out_dir.join(name), e)),
        }
    }
    #[cfg(unix)]
    fs::File::open(out_dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(out_dir, e))?;
    Ok(())
}

/// Bytes written between background syncs. The sync before the rename waits for up to this
/// much: with 64 MiB, the last tens of milliseconds of a 48k-article run were spent idle,
/// waiting on the disk (write stage 0.110 s against 0.091 s with 8 MiB, medians of five
/// alternated runs; at 1M articles 1.74 against 1.66 s, three each).
const SYNC_STEP: u64 = 8 << 20;

/// An output's temporary file. Once a file grows past one sync step (8 MiB), a thread syncs it each
/// time another step has been written, while writing goes on: the disk then works while the
/// pipeline does, and the sync before the rename waits for the last step only, not for the
/// whole file (a 3 GB `deduped.jsonl` takes ~7 s to reach this machine's disk).
pub struct SyncingFile {
    file: tempfile::NamedTempFile,
    /// [`SYNC_STEP`], smaller in tests.
    step: u64,
    written: u64,
    /// `written` when the syncer was last woken.
    synced: u64,
    syncer: Option<Syncer>,
}

struct Syncer {
    /// One message per step; a full channel means a sync is under way and another is queued.
    wake: std::sync::mpsc::SyncSender<()>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl SyncingFile {
    fn wake_syncer(&mut self) -> std::io::Result<()> {
        if self.syncer.is_none() {
            let file = self.file.as_file().try_clone()?;
            let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
            let thread = std::thread::Builder::new()
                .name("storyhash-sync".into())
                .spawn(move || {
                    while woken.recv().is_ok() {
                        file.sync_data()?;
                    }
                    Ok(())
                })?;
            self.syncer = Some(Syncer { wake, thread });
        }
        let syncer = self.syncer.as_ref().expect("started above");
        // Full: a sync is queued already and will cover these bytes too. Disconnected: the
        // syncer stopped on an error, which commit reports.
        let _ = syncer.wake.try_send(());
        Ok(())
    }
}

impl SyncingFile {
    fn copy_range(&mut self, from: &std::fs::File, offset: u64, len: u64) -> std::io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let mut from = from;
        from.seek(SeekFrom::Start(offset))?;
        let copied = std::io::copy(&mut from.take(len), self.file.as_file_mut())?;
        if copied != len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the input changed while storyhash was reading it (it is shorter)",
            ));
        }
        self.written += copied;
        if self.written - self.synced >= self.step {
            self.synced = self.written;
            self.wake_syncer()?;
        }
        Ok(())
    }
}

impl Write for SyncingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.synced >= self.step {
            self.synced = self.written;
            self.wake_syncer()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Rejects of whole files (an input holding no articles, under `--skip-invalid`), which are no
/// input lines: the rest of `run.rejects` are lines.
pub fn rejected_files(run: &DedupRun) -> usize {
    run.rejects.iter().filter(|r| r.line.is_none()).count()
}

/// The `--prefer-source` outlets no article of the run is from (in the order given): most
/// likely a misspelled name, since nothing tells otherwise that the preference never applied.
pub fn preferred_outlets_unseen<'c>(run: &DedupRun, config: &'c DedupConfig) -> Vec<&'c str> {
    let prefer = &config.cluster.prefer_sources;
    if prefer.is_empty() {
        return Vec::new();
    }
    let mut seen = vec![false; prefer.len()];
    // The outlets once each (articles share one string per outlet; a set is linear).
    let outlets: ahash::AHashSet<&str> = run.articles.iter().filter_map(|a| a.source()).collect();
    for outlet in outlets {
        for (i, p) in prefer.iter().enumerate() {
            seen[i] |= crate::cluster::same_outlet(p, outlet);
        }
    }
    prefer
        .iter()
        .zip(seen)
        .filter(|&(_, s)| !s)
        .map(|(p, _)| p.as_str())
        .collect()
}

/// When most articles have no words but have headlines, a hint that the text may be in another
/// field (headline datasets): empty otherwise, and when the text already is the headline.
/// Plain text, no markup.
pub fn text_field_hint(run: &DedupRun, config: &DedupConfig) -> &'static str {
    if config.fields.text == config.fields.title {
        return "";
    }
    // Texts that are empty, not those that are all boilerplate (a scrape that failed has text,
    // and the title is no cure for it).
    let batch = run.batch();
    let empty = batch.iter().filter(|a| a.text_chars == 0).count();
    if empty * 2 > batch.len() && batch.iter().any(|a| a.has_title()) {
        " Most articles have a headline but no text: if the text is in another field, \
         --text-field names it (--text-field title for headline datasets)."
    } else {
        ""
    }
}

/// Runs of kept lines at least this long are copied by the kernel, file to file. A
/// `copy_file_range` call costs ~13 µs here, about what copying 32 KiB in and out of this
/// process costs: shorter runs are cut from a window read ahead instead. (Measured on the bench
/// corpora: all runs copied by the kernel 0.18 s / 2.69 s to write at 48k / 1M articles,
/// streamed 0.12 s / 3.05 s, this split 0.14 s / 2.54 s.)
const COPY_MIN: u64 = 32 << 10;

/// The UTF-8 byte-order mark, which an input may open with.
const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// Bytes of input read ahead at once for shorter runs: a chunk's worth, so that the window
/// fits a read buffer an earlier pass left ([`crate::ingest::READ_BUFFERS`]). At 8 MiB it
/// grew that buffer into fresh pages, about 2,000 page faults at 48k articles.
const WINDOW_BYTES: u64 = crate::ingest::CHUNK_BYTES as u64;

/// Copies the kept articles' lines of uncompressed inputs into `file`, each with a newline,
/// in runs of lines that follow each other in the input. Returns how many were kept.
fn copy_kept_runs(
    run: &DedupRun,
    is_kept: &dyn Fn(usize) -> bool,
    file: &mut AtomicFile,
    progress: &dyn Progress,
) -> Result<usize> {
    let articles = run.batch();
    let mut files = crate::ingest::OpenInputs::new(&run.inputs);
    let mut checked: Option<u32> = None;
    let mut kept = 0;
    let mut done = (0u32, 0u64);
    // (input, offset, bytes) of the stretch of input read ahead for short runs.
    let mut window: (u32, u64, Vec<u8>) = (u32::MAX, 0, crate::ingest::READ_BUFFERS.take());
    // (input, first byte, end of the last line) of the run being gathered.
    let mut pending: Option<(u32, u64, u64)> = None;
    let mut copy = |files: &mut crate::ingest::OpenInputs<'_>,
                    (input, mut start, end): (u32, u64, u64)|
     -> Result<()> {
        if checked != Some(input) {
            run.inputs[input as usize].check_unchanged()?;
            checked = Some(input);
        }
        let (source, f, len) = files.get(input)?;
        if start == 0 {
            // A byte-order mark that opens an input is not part of its first line: copied, it
            // would sit inside deduped.jsonl after the lines of the inputs before.
            let mut head = [0u8; 3];
            if len >= 3 {
                crate::ingest::Input::read_exact_at(f, &mut head, 0)
                    .map_err(|e| Error::io(&source.name, e))?;
            }
            if head == *BOM {
                start = 3;
            }
        }
        // The newline after the run's last line comes along, unless that line ends the file.
        let n = if end < len {
            end + 1 - start
        } else {
            end - start
        };
        if n >= COPY_MIN {
            file.copy_range(f, start, n)?;
        } else {
            // Short runs (most: one removed line in a few dozen) would cost a system call
            // each; they are cut from a window of the input read ahead.
            let inside = window.0 == input
                && start >= window.1
                && start + n <= window.1 + window.2.len() as u64;
            if !inside {
                let size = (len - start).min(WINDOW_BYTES).max(n);
                window.2.resize(size as usize, 0);
                crate::ingest::Input::read_exact_at(f, &mut window.2, start)
                    .map_err(|e| Error::io(&source.name, e))?;
                window.0 = input;
                window.1 = start;
            }
            let at = (start - window.1) as usize;
            file.writer()
                .write_all(&window.2[at..at + n as usize])
                .map_err(|e| Error::io(&file.target, e))?;
        }
        if end >= len {
            file.writer()
                .write_all(b"\n")
                .map_err(|e| Error::io(&file.target, e))?;
        }
        // Progress: the input up to the run's end is done, removed lines before it included.
        if input != done.0 {
            done = (input, 0);
        }
        progress.advance((end + 1).saturating_sub(done.1));
        done.1 = end + 1;
        Ok(())
    };
    for (doc, a) in articles.iter().enumerate() {
        if !is_kept(doc) {
            continue;
        }
        kept += 1;
        let loc = &a.location;
        let end = loc.offset + u64::from(loc.len);
        pending = match pending {
            Some((input, start, last_end)) if input == loc.input && last_end + 1 == loc.offset => {
                Some((input, start, end))
            }
            other => {
                if let Some(run_bytes) = other {
                    copy(&mut files, run_bytes)?;
                }
                Some((loc.input, loc.offset, end))
            }
        };
    }
    if let Some(run_bytes) = pending {
        copy(&mut files, run_bytes)?;
    }
    crate::ingest::READ_BUFFERS.keep(window.2);
    // A file that changed while it was copied.
    for input in &run.inputs {
        input.check_unchanged()?;
    }
    Ok(kept)
}

#[derive(Serialize)]
struct ArticleLine<'a> {
    id: IdRef<'a>,
    source: Option<&'a str>,
    title: Option<&'a str>,
    dup_cluster: Option<u32>,
    canonical: bool,
    duplicate_of: Option<IdRef<'a>>,
    similarity: Option<f64>,
    /// With an index: the batch of the kept copy when an earlier batch holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    earlier_batch: Option<Option<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    story: Option<u32>,
    /// With an index and stories: whether the story began in an earlier batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    story_continued: Option<bool>,
}

#[derive(Serialize)]
struct StoryLine<'a> {
    story: u32,
    headline: Option<String>,
    size: usize,
    outlets: Vec<&'a str>,
    first_published: Option<String>,
    last_published: Option<String>,
    articles: Vec<IdRef<'a>>,
    dup_clusters: Vec<u32>,
    /// With an index: whether the story began in an earlier batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    continued: Option<bool>,
}

#[derive(Serialize)]
struct Member<'a> {
    id: IdRef<'a>,
    source: Option<&'a str>,
    title: Option<String>,
    similarity: f64,
    /// With an index: the batch of a member an earlier batch added.
    #[serde(skip_serializing_if = "Option::is_none")]
    earlier_batch: Option<u32>,
    /// With an index, for a member an earlier batch added: whether that batch kept it (wrote
    /// it to its `deduped.jsonl`) and it is a duplicate since tonight.
    #[serde(skip_serializing_if = "Option::is_none")]
    demoted: Option<bool>,
}

#[derive(Serialize)]
struct DuplicateLine<'a> {
    cluster: u32,
    size: usize,
    canonical: IdRef<'a>,
    members: Vec<Member<'a>>,
}

/// The run parameters, as `summary.json` shows them.
#[derive(Serialize)]
struct Parameters<'a> {
    shingle: crate::shingle::ShingleKind,
    ngram: usize,
    /// How words were hashed (word shingles only).
    #[serde(skip_serializing_if = "Option::is_none")]
    token_hash: Option<crate::shingle::TokenHash>,
    sketch: crate::minhash::SketchKind,
    num_perm: usize,
    seed: String,
    threshold: f64,
    bands: usize,
    rows: usize,
    expected_false_positive: f64,
    expected_false_negative: f64,
    verify: crate::verify::VerifyMode,
    keep: crate::cluster::KeepRule,
    prefer_sources: &'a [String],
    split_chains: bool,
    learn_boilerplate: bool,
    boilerplate_min_docs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    story: Option<&'a crate::story::StoryConfig>,
    /// With `--index`: its directory, and `--index-max-age` (null: keep all).
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<IndexParameters>,
}

#[derive(Serialize)]
struct IndexParameters {
    /// As the terminal shows it (a path that is not UTF-8 cannot be a JSON string).
    dir: String,
    max_age_days: Option<f64>,
}

#[derive(Serialize)]
struct Summary<'a> {
    storyhash_version: &'static str,
    articles_in: u64,
    articles: usize,
    /// Lines and whole files rejected (`rejects.jsonl`'s records).
    rejected: usize,
    /// Of those, whole files (holding no articles).
    rejected_files: usize,
    duplicate_clusters: usize,
    duplicates_removed: usize,
    kept: usize,
    removed_share: f64,
    members_below_threshold: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    stories: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_article_stories: Option<u64>,
    parameters: Parameters<'a>,
    stats: &'a RunStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    story_stats: Option<&'a crate::story::StoryStats>,
    timings: serde_json::Map<String, serde_json::Value>,
    throughput_mb_per_s: f64,
}

/// Writes `articles.jsonl`, `stories.jsonl` (with stories), `duplicates.jsonl` and
/// `rejects.jsonl`, to be published together with the other outputs.
fn write_tables(run: &DedupRun, out_dir: &Path) -> Result<Vec<Finished>> {
    let mut finished = Vec::new();
    let articles = &run.articles;
    let clusters = &run.clusters;
    let canonical_of = |doc: usize| {
        clusters.cluster_of[doc].map(|c| clusters.clusters[c as usize].canonical as usize)
    };
    let mut file = AtomicFile::create(out_dir, "articles.jsonl")?;
    let batch = run.batch();
    // Tonight's headlines, read back in order.
    run.headlines.for_each(
        |e| run.headline_error(e),
        |doc, headline| {
            let a = &batch[doc];
            let canonical = canonical_of(doc);
            file.json_line(&ArticleLine {
                id: a.id(),
                source: a.source(),
                title: headline.title.as_deref(),
                dup_cluster: clusters.cluster_of[doc].map(|c| clusters.clusters[c as usize].id),
                canonical: canonical.is_none_or(|c| c == doc),
                duplicate_of: canonical.filter(|&c| c != doc).map(|c| articles[c].id()),
                similarity: clusters.similarity(doc),
                earlier_batch: run
                    .index
                    .as_ref()
                    .map(|_| canonical.and_then(|c| run.earlier_batch(c))),
                story: run.stories.as_ref().map(|s| run.story_id(s.story_of[doc])),
                story_continued: run
                    .stories
                    .as_ref()
                    .and_then(|s| run.story_continued(run.story_id(s.story_of[doc]))),
            })
        },
    )?;
    finished.push(file.finish()?);

    if let Some(stories) = &run.stories {
        let mut file = AtomicFile::create(out_dir, "stories.jsonl")?;
        for (idx, story) in stories.stories.iter().enumerate() {
            file.json_line(&story_line(run, run.story_id(idx as u32), story)?)?;
        }
        finished.push(file.finish()?);
    }

    let mut file = AtomicFile::create(out_dir, "duplicates.jsonl")?;
    for c in &clusters.clusters {
        let mut order = c.members.clone();
        // The kept article first, then the rest in input order.
        order.sort_by_key(|&d| (d != c.canonical, d));
        let members = order
            .iter()
            .map(|&d| {
                Ok(Member {
                    id: articles[d as usize].id(),
                    source: articles[d as usize].source(),
                    title: run.headline(d as usize)?.title,
                    similarity: clusters.similarity(d as usize).unwrap_or(1.0),
                    earlier_batch: run.earlier_batch(d as usize),
                    demoted: run
                        .earlier_batch(d as usize)
                        .map(|_| run.demoted(d as usize)),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        file.json_line(&DuplicateLine {
            cluster: c.id,
            size: c.members.len(),
            canonical: articles[c.canonical as usize].id(),
            members,
        })?;
    }
    finished.push(file.finish()?);

    let mut file = AtomicFile::create(out_dir, "rejects.jsonl")?;
    for r in &run.rejects {
        file.json_line(r)?;
    }
    finished.push(file.finish()?);
    Ok(finished)
}

/// Writes `deduped.jsonl` under its temporary name; returns it (to be committed) and how many
/// articles were kept. Sends the texts the people's reports quote to `quoted_to` as soon as it
/// has them: before copying, for uncompressed inputs.
fn write_deduped(
    run: &DedupRun,
    config: &DedupConfig,
    out_dir: &Path,
    progress: &dyn Progress,
    quoted_to: std::sync::mpsc::SyncSender<QuotedTexts>,
) -> Result<(AtomicFile, usize)> {
    let articles = &run.articles;
    let clusters = &run.clusters;
    let canonical_of = |doc: usize| {
        clusters.cluster_of[doc].map(|c| clusters.clusters[c as usize].canonical as usize)
    };
    // The deduplicated corpus: a second pass over the inputs, copying kept lines.
    let mut file = AtomicFile::create(out_dir, "deduped.jsonl")?;
    let target = out_dir.join("deduped.jsonl");
    let total: u64 = run.inputs.iter().map(|i| i.file_len()).sum();
    progress.start("writing", Some(total));
    let mut kept = 0usize;
    // The people's reports quote a few texts.
    let wanted = html::texts_wanted(run);
    let mut quoted = QuotedTexts::new();
    let mut quote = |chunk: &crate::ingest::Chunk, doc: usize| -> Result<()> {
        let line = article_line(chunk, &articles[doc]);
        let record = crate::ingest::parse_record(line, &config.fields)
            .map_err(|_| crate::pipeline::input_changed(&run.inputs, &articles[doc]))?;
        quoted.insert(doc as u32, record.text.as_deref().unwrap_or("").to_string());
        Ok(())
    };
    let is_kept = |doc: usize| canonical_of(doc).is_none_or(|c| c == doc);
    if run.inputs.iter().all(crate::ingest::Input::is_plain) {
        // Uncompressed inputs: runs of kept lines are copied file to file; the quoted texts are
        // read by offset.
        for_each_wanted_article(&run.inputs, run.batch(), &wanted, &Silent, |chunk, docs| {
            docs.iter().try_for_each(|&d| quote(chunk, d as usize))
        })?;
        // The HTML report renders while the lines are copied.
        let _ = quoted_to.send(std::mem::take(&mut quoted));
        kept = copy_kept_runs(run, &is_kept, &mut file, progress)?;
    } else {
        for_each_article_chunk(&run.inputs, run.batch(), progress, |chunk, range| {
            // Kept lines that follow each other in the input are written as one run of bytes.
            let mut run_bytes: Option<(usize, usize)> = None;
            let mut flush = |run_bytes: Option<(usize, usize)>| -> Result<()> {
                if let Some((start, end)) = run_bytes {
                    let w = file.writer();
                    w.write_all(&chunk.data[start..end])
                        .and_then(|()| w.write_all(b"\n"))
                        .map_err(|e| Error::io(&target, e))?;
                }
                Ok(())
            };
            for doc in range {
                if wanted.binary_search(&(doc as u32)).is_ok() {
                    quote(chunk, doc)?;
                }
                if is_kept(doc) {
                    let loc = &articles[doc].location;
                    let mut start = (loc.offset - chunk.offset) as usize;
                    let end = start + loc.len as usize;
                    if loc.offset == 0 && chunk.data.starts_with(BOM) {
                        start = BOM.len();
                    }
                    run_bytes = match run_bytes {
                        // The line right after the run's last one, past its newline.
                        Some((first, last_end)) if last_end + 1 == start => Some((first, end)),
                        other => {
                            flush(other)?;
                            Some((start, end))
                        }
                    };
                    kept += 1;
                }
            }
            flush(run_bytes)
        })?;
        let _ = quoted_to.send(quoted);
    }
    progress.finish();
    // Committed by the caller, once the other outputs are written.
    Ok((file, kept))
}

/// Writes every `dedup` output into `out_dir` (created if absent). Returns the seconds spent.
///
/// With an index (`config.index`) and articles to add, the outputs are followed by the batch
/// mark ([`crate::outdir::BATCH_MARK`]) that guards them against a rerun of the same batch;
/// otherwise an earlier run's mark is removed, after the outputs.
pub fn write_dedup(
    run: &DedupRun,
    config: &DedupConfig,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<f64> {
    let clock = Instant::now();
    fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let clusters = &run.clusters;
    // The deduplicated corpus (input bytes, mostly the kernel's copying) is written beside the
    // tables and the people's reports (serializing, mostly this process). The reports show the
    // timings up to writing: they render while the copy goes on, and are written last.
    let (deduped, tables, reports) = std::thread::scope(|scope| {
        let (quoted_to, quoted) = std::sync::mpsc::sync_channel(1);
        let deduped = std::thread::Builder::new()
            .name("storyhash-deduped".into())
            .spawn_scoped(scope, || {
                write_deduped(run, config, out_dir, progress, quoted_to)
            })
            .map_err(|e| Error::io(out_dir, e));
        let tables = write_tables(run, out_dir);
        let reports = match (&tables, &deduped) {
            (Ok(_), Ok(_)) => Some((
                markdown::render(run, config),
                // Nothing arrives if the copy failed before quoting: its error is reported.
                quoted
                    .recv()
                    .map(|quoted| html::render(run, config, &quoted)),
            )),
            _ => None,
        };
        let deduped =
            deduped.and_then(|d| d.join().expect("the deduped.jsonl writer does not panic"));
        (deduped, tables, reports)
    });
    let mut finished = tables?;
    let (deduped, kept) = deduped?;
    finished.push(deduped.finish()?);

    let write_s = clock.elapsed().as_secs_f64();
    let mut timings = serde_json::Map::new();
    for &(stage, s) in run
        .timings
        .iter()
        .chain(std::iter::once(&("write", write_s)))
    {
        timings.insert(stage.to_string(), round_ms(s).into());
    }
    let total_s: f64 = run.timings.iter().map(|t| t.1).sum::<f64>() + write_s;
    timings.insert("total".into(), round_ms(total_s).into());
    let lsh: &LshParams = &run.lsh;
    let summary = Summary {
        storyhash_version: env!("CARGO_PKG_VERSION"),
        articles_in: run.stats.inputs.iter().map(|i| i.lines).sum(),
        articles: run.batch_len,
        rejected: run.rejects.len(),
        rejected_files: rejected_files(run),
        duplicate_clusters: clusters.clusters.len(),
        duplicates_removed: run.batch_len - kept,
        kept,
        removed_share: if run.batch_len == 0 {
            0.0
        } else {
            (run.batch_len - kept) as f64 / run.batch_len as f64
        },
        members_below_threshold: clusters.below_threshold,
        stories: run.stories.as_ref().map(|s| s.stories.len()),
        multi_article_stories: run.stories.as_ref().map(|s| s.stats.multi_article_stories),
        story_stats: run.stories.as_ref().map(|s| &s.stats),
        parameters: Parameters {
            shingle: config.shingle.kind,
            ngram: config.shingle.ngram,
            token_hash: (config.shingle.kind == crate::shingle::ShingleKind::Word)
                .then_some(run.token_hash),
            sketch: config.sketch,
            num_perm: config.num_perm,
            seed: format!("{:#018x}", config.shingle.seed),
            threshold: config.cluster.threshold,
            bands: lsh.bands,
            rows: lsh.rows,
            expected_false_positive: lsh.expected_false_positive,
            expected_false_negative: lsh.expected_false_negative,
            verify: config.verify,
            keep: config.cluster.keep,
            prefer_sources: &config.cluster.prefer_sources,
            split_chains: config.cluster.split_chains,
            learn_boilerplate: config.learn_boilerplate,
            boilerplate_min_docs: config.boilerplate_min_docs,
            story: config.stories.as_ref(),
            index: config.index.as_ref().map(|ic| IndexParameters {
                dir: ic.dir.display().to_string(),
                max_age_days: ic.max_age_days,
            }),
        },
        stats: &run.stats,
        timings,
        throughput_mb_per_s: if total_s > 0.0 {
            (run.stats.text_bytes as f64 / 1e6 / total_s * 10.0).round() / 10.0
        } else {
            0.0
        },
    };
    let mut file = AtomicFile::create(out_dir, "summary.json")?;
    serde_json::to_writer_pretty(file.writer(), &summary)
        .map_err(|e| Error::io(out_dir.join("summary.json"), e.into()))?;
    file.writer()
        .write_all(b"\n")
        .map_err(|e| Error::io(out_dir.join("summary.json"), e))?;
    finished.push(file.finish()?);

    let (markdown, html) = reports.expect("rendered when the tables and the copy succeeded");
    finished.push(write_report(out_dir, markdown::FILE_NAME, &markdown?)?);
    let html = html.expect("the quoted texts come before the copy succeeds");
    finished.push(write_report(out_dir, html::FILE_NAME, &html?)?);
    // Marked before the index update, so that a crash at any point after it leaves the
    // outputs guarded against a rerun that would find every article indexed.
    let mark = match &config.index {
        Some(ic) if run.batch_len > 0 => Some(crate::outdir::batch_mark_file(
            out_dir,
            &ic.dir,
            &run.stats.inputs,
        )?),
        _ => None,
    };
    // A `dedup` into a directory an earlier `run` wrote must not leave its stories behind, nor
    // a run that adds nothing to an index (or has none) an earlier night's batch mark.
    let mut stale = Vec::new();
    if run.stories.is_none() {
        stale.push("stories.jsonl");
    }
    if mark.is_none() {
        stale.push(crate::outdir::BATCH_MARK);
    }
    publish_all(out_dir, finished, mark, &stale)?;
    Ok(write_s)
}

/// Writes a rendered report as `out_dir/name`, to be published with the other outputs.
fn write_report(out_dir: &Path, name: &str, text: &str) -> Result<Finished> {
    let mut file = AtomicFile::create(out_dir, name)?;
    file.writer()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io(out_dir.join(name), e))?;
    file.finish()
}

/// Headlines for the people's reports, which render without errors: each is read once, and
/// the first read that fails is kept for [`ReportHeadlines::finish`], which fails the report.
pub(crate) struct ReportHeadlines<'r> {
    run: &'r DedupRun,
    read: std::sync::Mutex<ahash::AHashMap<u32, std::sync::Arc<Headline>>>,
    error: std::sync::Mutex<Option<Error>>,
}

impl<'r> ReportHeadlines<'r> {
    pub(crate) fn new(run: &'r DedupRun) -> ReportHeadlines<'r> {
        ReportHeadlines {
            run,
            read: Default::default(),
            error: Default::default(),
        }
    }

    /// Document `doc`'s headline and link (none after a failed read).
    pub(crate) fn get(&self, doc: u32) -> std::sync::Arc<Headline> {
        fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
            m.lock().unwrap_or_else(|e| e.into_inner())
        }
        if let Some(h) = lock(&self.read).get(&doc) {
            return h.clone();
        }
        let headline = std::sync::Arc::new(self.run.headline(doc as usize).unwrap_or_else(|e| {
            lock(&self.error).get_or_insert(e);
            Headline::default()
        }));
        lock(&self.read).insert(doc, headline.clone());
        headline
    }

    /// The first failed read, if any.
    pub(crate) fn finish(self) -> Result<()> {
        match self.error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The outlets of some articles with their article counts, most articles first, ties by name
/// (the order of `stories.jsonl`); articles without an outlet are not counted.
pub(crate) fn outlets_by_count<'a>(
    members: impl IntoIterator<Item = &'a crate::ingest::Article>,
) -> Vec<(&'a str, usize)> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for a in members {
        if let Some(source) = a.source() {
            *counts.entry(source).or_default() += 1;
        }
    }
    let mut outlets: Vec<(&str, usize)> = counts.into_iter().collect();
    outlets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    outlets
}

/// The `stories.jsonl` line of one story.
fn story_line<'a>(
    run: &'a DedupRun,
    idx: u32,
    story: &crate::story::Story,
) -> Result<StoryLine<'a>> {
    let articles = &run.articles;
    let outlets = outlets_by_count(story.articles.iter().map(|&d| &articles[d as usize]));
    let dates = story
        .articles
        .iter()
        .filter_map(|&d| articles[d as usize].published());
    let mut dup_clusters: Vec<u32> = story
        .articles
        .iter()
        .filter_map(|&d| run.clusters.cluster_of[d as usize])
        .map(|c| run.clusters.clusters[c as usize].id)
        .collect();
    dup_clusters.dedup();
    dup_clusters.sort_unstable();
    dup_clusters.dedup();
    Ok(StoryLine {
        story: idx,
        headline: run.headline(story.headline_article as usize)?.title,
        size: story.articles.len(),
        outlets: outlets.into_iter().map(|(o, _)| o).collect(),
        first_published: dates.clone().min().map(crate::ingest::format_published),
        last_published: dates.max().map(crate::ingest::format_published),
        articles: story
            .articles
            .iter()
            .map(|&d| articles[d as usize].id())
            .collect(),
        dup_clusters,
        continued: run.story_continued(idx),
    })
}

fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_all_or_nothing_only_when_they_are() {
        assert_eq!(percent(0, 0), "0.0%");
        assert_eq!(percent(0, 7), "0.0%");
        assert_eq!(percent(1, 10_000), "<0.1%");
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(2_954, 2_955), ">99.9%");
        assert_eq!(percent(2_955, 2_955), "100.0%");
    }

    /// A file written past several sync steps, in writes of every size, syncs in the background
    /// as it grows and reads back whole after the commit; nothing stays under the temporary name.
    #[test]
    fn an_atomic_file_syncs_as_it_grows_and_holds_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = AtomicFile::create(dir.path(), "big.jsonl").unwrap();
        file.writer().get_mut().step = 4096;
        let mut expected = Vec::new();
        for i in 0..2000usize {
            // Small writes go through the buffer, large ones past it.
            let line = format!("{i:05} {}\n", "x".repeat((i * 131) % 3000));
            let line = if i % 100 == 0 { line.repeat(600) } else { line };
            file.writer().write_all(line.as_bytes()).unwrap();
            expected.extend_from_slice(line.as_bytes());
        }
        assert!(
            file.writer().get_ref().syncer.is_some(),
            "a background sync was started"
        );
        assert!(expected.len() > (1 << 20) * 4, "{} bytes", expected.len());
        file.commit().unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("big.jsonl")).unwrap(),
            expected
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("big.jsonl")]);
    }
}
