//! The persistent index for nightly runs: tonight's batch is deduplicated against everything
//! seen before without recomputing history.
//!
//! # Layout of an index directory
//!
//! ```text
//! IDX/MANIFEST                  JSON: format version, parameters, files; checksummed
//! IDX/LOCK                      flock(2)-held by the one writer (released by the kernel on exit)
//! IDX/seg-GGGGGGGG[-k].docs     one batch's articles: id, source, title, url, date, cluster, story
//! IDX/seg-GGGGGGGG[-k].ids      their ids' 128-bit hashes, sorted
//! IDX/seg-GGGGGGGG[-k].sig      their signatures (16-bit slots)
//! IDX/seg-GGGGGGGG[-k].bands    their band keys, sorted per band
//! IDX/kept-GGGGGGGG.bin         the kept copy (record and signature) of each cluster a night made
//! IDX/state-GGGGGGGG.bin        cluster sizes, merges, overrides, learned boilerplate, stories,
//!                               pairs verified below their estimate
//! ```
//!
//! Every file is written once and never changed (see [`mod@format`]: header with the format
//! version and the parameters' fingerprint, XXH3-64 trailer). A new index starts with an empty
//! `MANIFEST` in a new or empty directory. An update writes its files under names of the next
//! generation, fsyncs them and the directory, writes `MANIFEST.tmp`, fsyncs it, renames it over
//! `MANIFEST` and fsyncs the directory: the rename is the commit. A crash before it leaves the
//! old manifest, which names only old files; files no manifest names (and only names this
//! module writes) are removed on the next open for writing.
//!
//! # Cost of a batch
//!
//! Reading the index streams its files once (id hashes; band keys merged per band against
//! tonight's sorted keys; signatures, records and kept copies, keeping those of the matched
//! articles only): memory grows with the batch and 16 bytes per indexed id, not with the rest
//! of history. Writing adds one segment of the batch's size, the kept copies of tonight's new
//! clusters, and a state of 12 bytes per cluster.
//!
//! # Decisions across nights
//!
//! A pair of tonight's article and an indexed one is decided on the signatures' estimate
//! (indexes keep no texts, so `--verify auto`'s exact check applies within the batch only).
//! Old ids keep their cluster; a new article joins the cluster of the indexed article it
//! matches, and when it bridges two old clusters they merge under the older (smaller) id.
//! An article whose cluster already existed is never the kept copy: the kept copy went out
//! in an earlier night's `deduped.jsonl`.

pub mod format;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use ahash::{AHashMap, AHashSet};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ingest::{Article, ArticleFields, ArticleId, IdRef, LineLocation, Outlet};
use crate::lsh::{LshParams, MAX_BUCKET, band_key};
use crate::minhash::{Signatures, Slot, estimate_jaccard};
use crate::shingle::TokenHash;
use format::{BinReader, BinWriter, Kind, NONE_I64, NONE_U32, crash_point, damaged};

const MANIFEST: &str = "MANIFEST";
const MANIFEST_TMP: &str = "MANIFEST.tmp";
const LOCK: &str = "LOCK";

/// The parameters an index is built with; opening it with others is an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexParams {
    /// `word` or `char`.
    pub shingle: String,
    /// Shingle length.
    pub ngram: usize,
    /// Hash seed, hexadecimal.
    pub seed: String,
    /// MinHash variant.
    pub sketch: String,
    /// Slots per signature.
    pub num_perm: usize,
    /// LSH bands.
    pub bands: usize,
    /// LSH rows per band.
    pub rows: usize,
    /// Jaccard threshold.
    pub threshold: f64,
    /// How words are hashed. Indexes built before format version 3 hash them with `xxh3`, and their
    /// manifests do not name it: it is left out for `xxh3`, so that the parameters, and the
    /// fingerprint in every file, stay what they were. A run against an index hashes words as
    /// the index does ([`Index::token_hash`]).
    #[serde(
        default = "TokenHash::xxh3",
        skip_serializing_if = "TokenHash::is_xxh3"
    )]
    pub token_hash: TokenHash,
}

impl IndexParams {
    /// The parameters of a run.
    pub fn of(config: &crate::pipeline::DedupConfig, lsh: &LshParams) -> IndexParams {
        let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
        IndexParams {
            shingle: name(serde_json::to_value(config.shingle.kind).unwrap_or_default()),
            ngram: config.shingle.ngram,
            seed: format!("{:#018x}", config.shingle.seed),
            sketch: name(serde_json::to_value(config.sketch).unwrap_or_default()),
            num_perm: config.num_perm,
            bands: lsh.bands,
            rows: lsh.rows,
            threshold: config.cluster.threshold,
            token_hash: config.shingle.token_hash,
        }
    }

    /// The stable fingerprint every index file carries in its header.
    pub fn fingerprint(&self) -> u64 {
        let text = serde_json::to_string(self).expect("parameters serialize");
        xxhash_rust::xxh3::xxh3_64(text.as_bytes())
    }

    /// What differs between the index's parameters and a run's, in flag names. The word hash
    /// is none of them: the run takes the index's. Nor are the bands and rows when the run's
    /// were chosen from its threshold (`lsh_given` false): the run takes the index's, so that
    /// an index outlives a change in how they are chosen (18 × 7 at the defaults until
    /// 2026-11-28, 21 × 6 since).
    fn differences(&self, run: &IndexParams, lsh_given: bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |flag: &str, index: String, ours: String| {
            if index != ours {
                out.push(format!("--{flag} {ours} (index: {index})"));
            }
        };
        check("shingle", self.shingle.clone(), run.shingle.clone());
        check("ngram", self.ngram.to_string(), run.ngram.to_string());
        check("seed", self.seed.clone(), run.seed.clone());
        check("sketch", self.sketch.clone(), run.sketch.clone());
        check(
            "num-perm",
            self.num_perm.to_string(),
            run.num_perm.to_string(),
        );
        if lsh_given {
            check("bands", self.bands.to_string(), run.bands.to_string());
            check("rows", self.rows.to_string(), run.rows.to_string());
        }
        check(
            "threshold",
            self.threshold.to_string(),
            run.threshold.to_string(),
        );
        out
    }
}

/// One file as the manifest records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileEntry {
    name: String,
    bytes: u64,
    checksum: String,
}

impl FileEntry {
    fn new(name: String, (bytes, checksum): (u64, u64)) -> FileEntry {
        FileEntry {
            name,
            bytes,
            checksum: format!("{checksum:016x}"),
        }
    }

    fn checksum(&self) -> u64 {
        u64::from_str_radix(&self.checksum, 16).unwrap_or(0)
    }
}

/// One segment: the articles of one batch (or what retention left of them).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Segment {
    /// The batch (night) that added it, from 1.
    batch: u32,
    /// Articles in it.
    docs: u64,
    /// Oldest and newest age date of its articles (seconds), when any has one.
    oldest: Option<i64>,
    newest: Option<i64>,
    docs_file: FileEntry,
    ids_file: FileEntry,
    sig_file: FileEntry,
    bands_file: FileEntry,
}

/// The manifest: what the index holds now.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    format_version: u32,
    storyhash_version: String,
    params: IndexParams,
    generation: u64,
    batches: u32,
    articles: u64,
    segments: Vec<Segment>,
    /// Kept copies of the clusters made by each night (immutable; dropped when all their
    /// clusters have expired).
    #[serde(default)]
    kept_files: Vec<FileEntry>,
    state: Option<FileEntry>,
}

impl Manifest {
    fn empty(params: IndexParams) -> Manifest {
        Manifest {
            format_version: format::FORMAT_VERSION,
            storyhash_version: env!("CARGO_PKG_VERSION").into(),
            params,
            generation: 0,
            batches: 0,
            articles: 0,
            segments: Vec::new(),
            kept_files: Vec::new(),
            state: None,
        }
    }

    fn files(&self) -> impl Iterator<Item = &FileEntry> {
        self.segments
            .iter()
            .flat_map(|s| [&s.docs_file, &s.ids_file, &s.sig_file, &s.bands_file])
            .chain(&self.kept_files)
            .chain(&self.state)
    }

    fn encode(&self) -> Vec<u8> {
        let mut text = serde_json::to_vec_pretty(self).expect("manifest serializes");
        text.push(b'\n');
        let sum = xxhash_rust::xxh3::xxh3_64(&text);
        text.extend_from_slice(format!("checksum {sum:016x}\n").as_bytes());
        text
    }

    fn decode(path: &Path, data: &[u8]) -> Result<Manifest> {
        let bad = |what: &str| damaged(path, format!("manifest is damaged: {what}"));
        let text = std::str::from_utf8(data).map_err(|_| bad("not UTF-8"))?;
        let body_end = text
            .trim_end_matches('\n')
            .rfind('\n')
            .map(|i| i + 1)
            .ok_or_else(|| bad("no checksum line"))?;
        let (body, tail) = text.split_at(body_end);
        let sum = tail
            .trim()
            .strip_prefix("checksum ")
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .ok_or_else(|| bad("no checksum line"))?;
        if xxhash_rust::xxh3::xxh3_64(body.as_bytes()) != sum {
            return Err(bad("checksum mismatch"));
        }
        let version = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("format_version")?.as_u64());
        if let Some(v) = version
            && !format::reads_version(v)
        {
            return Err(damaged(path, format::version_refused(v)));
        }
        serde_json::from_str(body).map_err(|e| bad(&e.to_string()))
    }
}

/// An indexed article, as tonight's run sees it.
#[derive(Debug, Clone)]
pub struct IndexedArticle {
    /// Its number in the index (never reused).
    pub g: u64,
    /// The batch that added it.
    pub batch: u32,
    /// The article's metadata (its `location` points nowhere: the text is not kept).
    pub article: Article,
    /// Its cluster now (after merges), if in one.
    pub cluster: Option<u32>,
    /// Its story, if stories were clustered.
    pub story: Option<u32>,
    /// Whether its text had any shingle.
    pub has_shingles: bool,
}

/// A multi-article cluster in the index (its kept copy lives in a kept-copies file).
#[derive(Debug, Clone)]
struct ClusterEntry {
    /// Members (kept copy included), as far as retention left them.
    size: u64,
}

/// The kept copy of a cluster, as a kept-copies file holds it (written once, by the night that
/// made the cluster).
#[derive(Debug, Clone)]
struct KeptCopy {
    cluster: u32,
    article: IndexedArticle,
    signature: Vec<Slot>,
}

/// A story the index remembers, so that a later night's story on the same event can join it.
#[derive(Debug, Clone)]
struct StoryEntry {
    size: u64,
    first: Option<i64>,
    last: Option<i64>,
    last_batch: u32,
    /// Normalized centroid of its TF-IDF vectors, sorted by term.
    centroid: Vec<(u64, f32)>,
}

/// A night's story, for [`Index::commit`].
#[derive(Debug, Clone)]
pub struct StoryUpdate {
    /// Its id (an old one when it joined an old story).
    pub id: u32,
    /// Tonight's articles in it.
    pub size: u64,
    /// Tonight's first and last publication dates.
    pub first: Option<i64>,
    /// See `first`.
    pub last: Option<i64>,
    /// Tonight's centroid (empty: none).
    pub centroid: Vec<(u64, f32)>,
}

/// Stories with no article in this many batches are no longer linked to.
pub const STORY_MEMORY_BATCHES: u32 = 7;
/// A night's story joins an old one only when their dates are at most this many days apart
/// (when both have dates).
pub const STORY_LINK_DAYS: f64 = 30.0;

/// The first of the state's learned keys: the keys that follow are lines' own keys (what
/// [`crate::normalize::LearnedBoilerplate::keys`] holds since 2026-11-27), not keys of a line
/// within its outlet as before.
const LEARNED_LINES_MARK: u64 = 0x6c69_6e65_7320_0002;

/// The index's mutable state, rewritten whole by every update (its size grows with the number
/// of clusters, not of articles).
#[derive(Debug, Clone, Default)]
struct State {
    next_g: u64,
    next_cluster: u32,
    next_story: u32,
    /// Newest article date seen (seconds).
    newest: Option<i64>,
    /// Learned boilerplate lines, by [`crate::normalize::LearnedBoilerplate::keys`].
    learned: Vec<u64>,
    clusters: BTreeMap<u32, ClusterEntry>,
    /// Clusters merged into another: `from → to` (`to < from`).
    aliases: BTreeMap<u32, u32>,
    /// Indexed articles whose cluster changed after their segment was written.
    overrides: BTreeMap<u64, u32>,
    /// Recent stories.
    stories: BTreeMap<u32, StoryEntry>,
    /// (member, kept copy) of the clusters, by `g`, whose member a night verified near its
    /// kept copy though their signatures estimate them below the threshold (decided on exact
    /// Jaccard, which later nights cannot redo without the texts). Written after the stories
    /// (format version 2); a version-1 state has none.
    verified: BTreeSet<(u64, u64)>,
}

impl State {
    /// Drops the verified pairs of member `g`.
    fn forget_verified(&mut self, g: u64) {
        let pairs: Vec<(u64, u64)> = self
            .verified
            .range((g, 0)..=(g, u64::MAX))
            .copied()
            .collect();
        for pair in pairs {
            self.verified.remove(&pair);
        }
    }

    fn resolve(&self, mut c: u32) -> u32 {
        while let Some(&to) = self.aliases.get(&c) {
            c = to;
        }
        c
    }

    /// The current cluster of an indexed article whose segment recorded `written`.
    fn cluster_of(&self, g: u64, written: Option<u32>) -> Option<u32> {
        self.overrides
            .get(&g)
            .copied()
            .or(written)
            .map(|c| self.resolve(c))
    }
}

/// Tonight's matches against the index.
#[derive(Debug, Clone, Default)]
pub struct HistoryMatch {
    /// Indexed articles that tonight's articles matched, and the kept copies of their
    /// clusters, ordered by `g`.
    pub articles: Vec<IndexedArticle>,
    /// Their signatures, in the same order.
    pub signatures: Vec<Vec<Slot>>,
    /// Per article: whether it is the copy an earlier night kept (its cluster's kept copy, or
    /// an article in no cluster).
    pub kept: Vec<bool>,
    /// Accepted pairs `(tonight's doc, index into articles)`.
    pub edges: Vec<(u32, u32)>,
    /// Pairs `(member, kept copy)` of `articles` (indexes into it) that an earlier night
    /// verified though their estimate is below the threshold.
    pub verified: Vec<(u32, u32)>,
    /// Candidate pairs from the band keys.
    pub candidate_pairs: u64,
}

/// What `storyhash index stats` shows.
#[derive(Debug, Clone, Serialize)]
pub struct IndexStats {
    /// The directory.
    pub path: String,
    /// Format version.
    pub format_version: u32,
    /// storyhash version that wrote the manifest.
    pub written_by: String,
    /// Parameters (their `token_hash` left out for `xxh3`, as the manifest has it).
    pub params: IndexParams,
    /// How words are hashed, for word shingles: named whichever it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_hash: Option<TokenHash>,
    /// Batches added.
    pub batches: u32,
    /// Updates committed (generation).
    pub generation: u64,
    /// Articles held.
    pub articles: u64,
    /// Segments.
    pub segments: usize,
    /// Clusters of two or more.
    pub clusters: usize,
    /// Articles in those clusters.
    pub clustered_articles: u64,
    /// Clusters merged into others.
    pub merged_clusters: usize,
    /// Learned boilerplate lines.
    pub learned_boilerplate_lines: usize,
    /// Stories remembered with their centroids, to which later nights' stories link by their
    /// terms when linking is on (`--story-link-threshold`; off by default for headlines).
    pub stories_remembered: usize,
    /// Oldest and newest article dates.
    pub oldest: Option<String>,
    /// Newest article date.
    pub newest: Option<String>,
    /// Bytes on disk (files the manifest names).
    pub bytes: u64,
    /// Files read and checked against their checksums.
    pub files_verified: usize,
}

/// Files a process may want open beside an index's own: standard streams, outputs, inputs.
const OTHER_FILES: u64 = 32;

/// Checks that this process may hold `files` of the index at `dir` open at once (`what` holds
/// them): a reader keeps every file open (four per night, five when the night made a cluster:
/// a yearly index holds up to 1,800), a night's merge of band keys one file per night. The
/// binary raises its soft limit to the hard one when it starts; where that is still too low,
/// the error says which limit to raise, where "Too many open files" named only the file it
/// failed on.
fn check_open_files(dir: &Path, files: u64, what: &str) -> Result<()> {
    #[cfg(unix)]
    {
        let wanted = files + OTHER_FILES;
        let Ok((soft, hard)) = rlimit::Resource::NOFILE.get() else {
            return Ok(());
        };
        if soft >= wanted {
            return Ok(());
        }
        let limit = |n: u64| {
            if n == rlimit::INFINITY {
                "unlimited".to_string()
            } else {
                n.to_string()
            }
        };
        Err(Error::io(
            dir,
            std::io::Error::other(format!(
                "{what} holds {files} of the index's files open at once, and this process may \
                 open {} files (its soft limit; the hard limit is {}): raise the limit to {wanted} \
                 or more (`ulimit -n`, or LimitNOFILE= for a systemd service)",
                limit(soft),
                limit(hard)
            )),
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, files, what);
        Ok(())
    }
}

/// An open index. Opened for update it holds the directory's lock until dropped.
#[derive(Debug)]
pub struct Index {
    dir: PathBuf,
    _lock: Option<File>,
    /// For a reader: every file the manifest names, opened up front, so that a writer that
    /// commits meanwhile and removes them cannot pull them away (an open file stays readable).
    pinned: AHashMap<String, File>,
    manifest: Manifest,
    state: State,
    fingerprint: u64,
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// True for the names this module writes (and only those): `MANIFEST.tmp`,
/// `seg-GGGGGGGG[-k].{docs,ids,sig,bands}`, `kept-GGGGGGGG.bin`, `state-GGGGGGGG.bin`.
fn is_index_file(name: &str) -> bool {
    let generation = |s: &str| s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit());
    if name == MANIFEST_TMP {
        return true;
    }
    if let Some(rest) = name.strip_prefix("state-") {
        return rest.strip_suffix(".bin").is_some_and(generation);
    }
    if let Some(rest) = name.strip_prefix("kept-") {
        return rest.strip_suffix(".bin").is_some_and(generation);
    }
    let Some(rest) = name.strip_prefix("seg-") else {
        return false;
    };
    let Some((stem, ext)) = rest.split_once('.') else {
        return false;
    };
    let (g, k) = stem.split_once('-').unwrap_or((stem, "0"));
    generation(g)
        && !k.is_empty()
        && k.bytes().all(|b| b.is_ascii_digit())
        && matches!(ext, "docs" | "ids" | "sig" | "bands")
}

/// Writes `manifest` as the index's MANIFEST: a temporary file, fsynced, renamed into place,
/// the directory fsynced. The rename is the commit.
///
/// `update`: the manifest commits an update (not a new index's empty one), so that a failure
/// after its rename says the update is in place.
fn write_manifest(dir: &Path, manifest: &Manifest, update: bool) -> Result<()> {
    let tmp = dir.join(MANIFEST_TMP);
    {
        let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(&manifest.encode())
            .map_err(|e| Error::io(&tmp, e))?;
        crash_point()?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    }
    crash_point()?;
    let target = dir.join(MANIFEST);
    fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
    // The new manifest is in force: a failure now must not read as an update that did not
    // happen (running the batch again would find its ids indexed).
    crash_point()
        .and_then(|()| sync_dir(dir))
        .map_err(|e| {
            if !update {
                return e;
            }
            Error::Index {
                path: dir.to_path_buf(),
                reason: format!(
                    "the update is in place (its MANIFEST renamed), but syncing the directory after it failed, so a crash now could still undo it: {e}"
                ),
            }
        })?;
    // Synced: nothing after this step can fail the write.
    let _ = crash_point();
    Ok(())
}

/// Removes the files in `dir` that look like the index's (by name) and `manifest` does not
/// name, then syncs the directory if it removed any.
fn remove_unnamed(dir: &Path, manifest: &Manifest) -> Result<()> {
    let named: AHashSet<&str> = manifest.files().map(|f| f.name.as_str()).collect();
    let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut removed = false;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_index_file(name) && !named.contains(name) {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            removed = true;
        }
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(())
}

/// What an index directory held before a run ([`Index::dir_before`]), for
/// [`Index::discard_new`] after a failure.
#[derive(Debug, Clone, Copy)]
pub struct DirBefore {
    existed: bool,
    had_lock: bool,
}

impl Index {
    /// Opens (creating if absent) the index in `dir` for an update with `params`: takes the
    /// lock, checks the format and parameters, removes leftovers of an interrupted update and
    /// loads the state. `lsh_given` says whether the run's bands and rows were given (else
    /// the run takes the index's: [`Index::bands_rows`]).
    pub fn open_for_update(dir: &Path, params: IndexParams, lsh_given: bool) -> Result<Index> {
        if dir.exists() && !dir.is_dir() {
            // A usage error, as with `--out`: not a damaged index.
            return Err(Error::Config(format!(
                "--index {}: is not a directory (--index takes a directory, created if absent)",
                dir.display()
            )));
        }
        let fresh = !dir.exists();
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        if fresh && let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        let lock = take_lock(dir)?;
        let manifest = match read_manifest(dir)? {
            Some(m) => {
                let diff = m.params.differences(&params, lsh_given);
                if !diff.is_empty() {
                    return Err(Error::Config(format!(
                        "the index {} was built with other parameters; this run has {}. Use the index's parameters or another --index directory",
                        dir.display(),
                        diff.join(", ")
                    )));
                }
                m
            }
            None => {
                // A new index: only in an empty directory (a lost MANIFEST, or someone else's
                // files, must not be taken for one), and the empty manifest goes first, so
                // that index files without a MANIFEST always mean damage.
                let listed = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
                for entry in listed {
                    let entry = entry.map_err(|e| Error::io(dir, e))?;
                    // The lock, and a manifest an interrupted creation left unfinished.
                    if entry.file_name() != LOCK && entry.file_name() != MANIFEST_TMP {
                        return Err(Error::Index {
                            path: dir.to_path_buf(),
                            reason: format!(
                                "holds no index (no MANIFEST) but is not empty ({} and maybe more); give a new or empty directory, or restore the MANIFEST",
                                entry.file_name().to_string_lossy()
                            ),
                        });
                    }
                }
                let manifest = Manifest::empty(params);
                write_manifest(dir, &manifest, false)?;
                manifest
            }
        };
        let mut index = Index::from_manifest(dir, manifest, Some(lock), AHashMap::new())?;
        index.remove_leftovers()?;
        format::hold_point();
        Ok(index)
    }

    /// What `dir` held before a run that may fail: whether it existed, and held a lock file.
    pub fn dir_before(dir: &Path) -> DirBefore {
        DirBefore {
            existed: dir.exists() || dir.is_symlink(),
            had_lock: dir.join(LOCK).exists(),
        }
    }

    /// After a failed run: removes what it added to `dir` while holding nothing. When `dir`
    /// still holds no more than that run began a new index with (its lock and the empty
    /// MANIFEST), those go, and the directory too if the run made it, so that a first night
    /// that fails leaves no index behind. In a directory refused for holding other files, the
    /// lock file goes if the run made it. A lock held by another process leaves all as it is.
    pub fn discard_new(dir: &Path, before: DirBefore) {
        if before.existed && !dir.is_dir() {
            return;
        }
        let Ok(Ok(lock)) = crate::outdir::lock_file(&dir.join(LOCK)) else {
            return;
        };
        // The lock, the empty manifest, and one a failure left half written.
        let only_these = fs::read_dir(dir).is_ok_and(|mut entries| {
            entries.all(|e| {
                e.is_ok_and(|e| {
                    [LOCK, MANIFEST, MANIFEST_TMP]
                        .iter()
                        .any(|n| e.file_name() == *n)
                })
            })
        });
        let empty = match read_manifest(dir) {
            Ok(None) => true,
            Ok(Some(m)) => m.batches == 0 && m.articles == 0 && m.files().next().is_none(),
            Err(_) => false,
        };
        if only_these && empty {
            let _ = fs::remove_file(dir.join(MANIFEST));
            let _ = fs::remove_file(dir.join(MANIFEST_TMP));
        }
        let no_manifest = !dir.join(MANIFEST).exists();
        if !before.had_lock && no_manifest {
            let _ = fs::remove_file(dir.join(LOCK));
        }
        drop(lock);
        if !before.existed && only_these && empty {
            let _ = fs::remove_dir(dir);
        }
    }

    /// Opens an existing index to read it, without the lock: the manifest is replaced
    /// atomically, and the files it names are opened at once (if a writer removed one between
    /// reading the manifest and opening it, the manifest is read again).
    pub fn open_read(dir: &Path) -> Result<Index> {
        if dir.is_file() {
            // A usage error, as for an update (`open_for_update`): not a damaged index.
            return Err(Error::Config(format!(
                "{}: is not a directory (an index is a directory)",
                dir.display()
            )));
        }
        let mut attempts = 0;
        loop {
            let manifest = read_manifest(dir)?.ok_or_else(|| Error::Index {
                path: dir.to_path_buf(),
                reason: if dir.exists() {
                    "no index here (no MANIFEST)".into()
                } else {
                    "no index here (no such directory)".into()
                },
            })?;
            check_open_files(dir, manifest.files().count() as u64, "a reader")?;
            let mut pinned = AHashMap::new();
            let mut missing = None;
            for f in manifest.files() {
                match File::open(dir.join(&f.name)) {
                    Ok(file) => {
                        pinned.insert(f.name.clone(), file);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        missing = Some(f.name.clone());
                        break;
                    }
                    Err(e) => return Err(Error::io(dir.join(&f.name), e)),
                }
            }
            let Some(name) = missing else {
                return Index::from_manifest(dir, manifest, None, pinned);
            };
            let moved_on = read_manifest(dir)?.is_some_and(|m| m.generation != manifest.generation);
            if !moved_on || attempts >= 3 {
                return Err(damaged(&dir.join(name), "file is missing"));
            }
            attempts += 1;
        }
    }

    fn from_manifest(
        dir: &Path,
        manifest: Manifest,
        lock: Option<File>,
        pinned: AHashMap<String, File>,
    ) -> Result<Index> {
        let fingerprint = manifest.params.fingerprint();
        let mut index = Index {
            dir: dir.to_path_buf(),
            _lock: lock,
            pinned,
            manifest,
            state: State::default(),
            fingerprint,
        };
        if let Some(entry) = index.manifest.state.clone() {
            index.state = index.read_state(&entry)?;
        }
        Ok(index)
    }

    /// Articles held.
    pub fn len(&self) -> u64 {
        self.manifest.articles
    }

    /// True when the index holds no article.
    pub fn is_empty(&self) -> bool {
        self.manifest.articles == 0
    }

    /// Batches added so far.
    pub fn batches(&self) -> u32 {
        self.manifest.batches
    }

    /// How the index's signatures hashed words: what a run against it must use.
    pub fn token_hash(&self) -> TokenHash {
        self.manifest.params.token_hash
    }

    /// The LSH bands and rows the index is built with: a run whose own were chosen from its
    /// threshold takes these.
    pub fn bands_rows(&self) -> (usize, usize) {
        (self.manifest.params.bands, self.manifest.params.rows)
    }

    /// Boilerplate line keys learned in earlier batches.
    pub fn learned_keys(&self) -> &[u64] {
        &self.state.learned
    }

    fn remove_leftovers(&mut self) -> Result<()> {
        remove_unnamed(&self.dir, &self.manifest)
    }

    fn reader(&self, entry: &FileEntry, kind: Kind) -> Result<BinReader> {
        let path = self.dir.join(&entry.name);
        match self.pinned.get(&entry.name) {
            Some(file) => {
                let file = file.try_clone().map_err(|e| Error::io(&path, e))?;
                BinReader::from_file(path, file, kind, self.fingerprint, entry.bytes)
            }
            None => BinReader::open(path, kind, self.fingerprint, entry.bytes),
        }
    }

    /// Streams the article records of `segment` in order, calling `f` for those `want(local)`
    /// selects (none: the file is only checked).
    fn read_segment(
        &self,
        segment: &Segment,
        mut want: impl FnMut(u64) -> bool,
        any: bool,
        mut f: impl FnMut(u64, IndexedArticle) -> Result<()>,
    ) -> Result<()> {
        let mut r = self.reader(&segment.docs_file, Kind::Docs)?;
        let n = r.count(40)?;
        if n != segment.docs {
            return Err(damaged(
                r.path(),
                "file is damaged: article count differs from the manifest",
            ));
        }
        if any {
            for local in 0..n {
                let a = read_article(&mut r)?;
                if want(local) {
                    f(local, a)?;
                }
            }
        } else {
            r.skip_rest()?;
        }
        r.finish(segment.docs_file.checksum())
    }

    /// The 128-bit hashes of every indexed id, sorted (tonight's ids must be new).
    pub fn ids(&self) -> Result<Vec<u128>> {
        let mut ids: Vec<u128> = Vec::with_capacity(self.manifest.articles as usize);
        let mut buf = Vec::new();
        for segment in &self.manifest.segments {
            let mut r = self.reader(&segment.ids_file, Kind::Ids)?;
            let n = r.count(16)?;
            if n != segment.docs {
                return Err(damaged(
                    r.path(),
                    "file is damaged: id count differs from the manifest",
                ));
            }
            let mut left = n;
            while left > 0 {
                let take = left.min(1 << 16);
                r.read_into(16 * take, &mut buf)?;
                ids.extend(
                    buf.chunks_exact(16)
                        .map(|b| u128::from_le_bytes(b.try_into().expect("16 bytes"))),
                );
                left -= take;
            }
            r.finish(segment.ids_file.checksum())?;
        }
        ids.par_sort_unstable();
        Ok(ids)
    }

    /// Finds tonight's articles (`sigs`, those with `eligible` set) that match indexed ones:
    /// candidates from equal band keys, accepted when their estimate reaches `threshold`.
    pub fn match_batch(
        &self,
        sigs: &Signatures,
        eligible: &[bool],
        lsh: &LshParams,
        threshold: f64,
    ) -> Result<HistoryMatch> {
        let segments = &self.manifest.segments;
        let mut out = HistoryMatch::default();
        if segments.is_empty() {
            return Ok(out);
        }
        check_open_files(
            &self.dir,
            segments.len() as u64,
            "a night's merge of band keys",
        )?;
        // (doc, segment, local) candidates, merged band by band against every segment.
        let mut readers: Vec<BinReader> = Vec::with_capacity(segments.len());
        for s in segments {
            let mut r = self.reader(&s.bands_file, Kind::Bands)?;
            let (bands, rows) = (r.u32()? as usize, r.u32()? as usize);
            if (bands, rows) != (lsh.bands, lsh.rows) {
                return Err(damaged(
                    r.path(),
                    "file is damaged: bands and rows differ from the manifest",
                ));
            }
            readers.push(r);
        }
        let docs: Vec<u32> = (0..sigs.len() as u32)
            .filter(|&d| eligible[d as usize])
            .collect();
        let mut packed: Vec<(u32, u32, u32)> = Vec::new();
        let mut block: Vec<u8> = Vec::new();
        let mut tonight: Vec<(u64, u32)> = Vec::with_capacity(docs.len());
        for band in 0..lsh.bands {
            let (lo, hi) = (band * lsh.rows, (band + 1) * lsh.rows);
            tonight.clear();
            tonight.extend(
                docs.iter()
                    .map(|&d| (band_key(&sigs.get(d as usize)[lo..hi]), d)),
            );
            tonight.sort_unstable();
            for (seg, r) in readers.iter_mut().enumerate() {
                let n = r.count(12)?;
                let mut t = 0;
                let mut run_key = None;
                let mut run_len = 0usize;
                let mut last_key = 0u64;
                let mut i = 0u64;
                while i < n {
                    // Blocks of up to 64k entries: one read and one hash update each.
                    let take = (n - i).min(1 << 16);
                    r.read_into(12 * take, &mut block)?;
                    i += take;
                    for entry in block.chunks_exact(12) {
                        let key = u64::from_le_bytes(entry[..8].try_into().expect("8 bytes"));
                        let local = u32::from_le_bytes(entry[8..].try_into().expect("4 bytes"));
                        if key < last_key {
                            return Err(damaged(
                                r.path(),
                                "file is damaged: band keys out of order",
                            ));
                        }
                        last_key = key;
                        if run_key != Some(key) {
                            run_key = Some(key);
                            run_len = 0;
                        }
                        run_len += 1;
                        if run_len > MAX_BUCKET {
                            continue;
                        }
                        while t < tonight.len() && tonight[t].0 < key {
                            t += 1;
                        }
                        let mut j = t;
                        while j < tonight.len() && tonight[j].0 == key {
                            packed.push((tonight[j].1, seg as u32, local));
                            j += 1;
                        }
                    }
                }
            }
            if packed.len() > (1 << 22) {
                packed.sort_unstable();
                packed.dedup();
            }
        }
        for (r, s) in readers.into_iter().zip(segments) {
            r.finish(s.bands_file.checksum())?;
        }
        packed.sort_unstable();
        packed.dedup();
        out.candidate_pairs = packed.len() as u64;

        // The signatures of the candidates, segment by segment; accept on the estimate.
        let k = sigs.num_perm();
        let mut by_segment: Vec<Vec<(u32, u32)>> = vec![Vec::new(); segments.len()];
        for &(doc, seg, local) in &packed {
            by_segment[seg as usize].push((local, doc));
        }
        drop(packed);
        let mut accepted: Vec<(u32, u32, u32)> = Vec::new(); // (seg, local, doc)
        let mut wanted_sigs: AHashMap<(u32, u32), Vec<Slot>> = AHashMap::new();
        // Every segment's file is read to its end, so damage anywhere is found tonight.
        for (seg, (segment, pairs)) in segments.iter().zip(&mut by_segment).enumerate() {
            pairs.sort_unstable();
            let mut r = self.reader(&segment.sig_file, Kind::Sigs)?;
            let n = r.count(2 * k as u64)?;
            if n != segment.docs || r.u32()? as usize != k {
                return Err(damaged(
                    r.path(),
                    "file is damaged: shape differs from the manifest",
                ));
            }
            let mut p = 0;
            let mut local = 0u32;
            while u64::from(local) < n {
                // Blocks of up to 4,096 signatures: one read and one hash update each.
                let take = (n - u64::from(local)).min(4096);
                r.read_into(take * 2 * k as u64, &mut block)?;
                for row in block.chunks_exact(2 * k) {
                    if p < pairs.len() && pairs[p].0 == local {
                        let sig: Vec<Slot> = row
                            .chunks_exact(2)
                            .map(|b| Slot::from_le_bytes([b[0], b[1]]))
                            .collect();
                        let mut any = false;
                        while p < pairs.len() && pairs[p].0 == local {
                            let doc = pairs[p].1;
                            if estimate_jaccard(sigs.get(doc as usize), &sig) >= threshold {
                                accepted.push((seg as u32, local, doc));
                                any = true;
                            }
                            p += 1;
                        }
                        if any {
                            wanted_sigs.insert((seg as u32, local), sig);
                        }
                    }
                    local += 1;
                }
            }
            r.finish(segment.sig_file.checksum())?;
        }
        accepted.sort_unstable();

        // The records of the matched articles.
        let mut matched: Vec<(IndexedArticle, Vec<Slot>)> = Vec::new();
        let mut slot_of: AHashMap<(u32, u32), u32> = AHashMap::new();
        for (seg, segment) in segments.iter().enumerate() {
            let seg = seg as u32;
            let lo = accepted.partition_point(|&(s, _, _)| s < seg);
            let hi = accepted.partition_point(|&(s, _, _)| s <= seg);
            // Every segment's records are read (checked) even without a match.
            let locals: AHashSet<u32> = accepted[lo..hi].iter().map(|&(_, l, _)| l).collect();
            self.read_segment(
                segment,
                |local| locals.contains(&(local as u32)),
                !locals.is_empty(),
                |local, mut a| {
                    a.cluster = self.state.cluster_of(a.g, a.cluster);
                    let sig = wanted_sigs
                        .remove(&(seg, local as u32))
                        .expect("accepted articles have their signature");
                    slot_of.insert((seg, local as u32), matched.len() as u32);
                    matched.push((a, sig));
                    Ok(())
                },
            )?;
        }
        // The kept copies of the clusters they are in (every kept-copies file is read, and
        // checked, to its end).
        let mut clusters: Vec<u32> = matched.iter().filter_map(|(a, _)| a.cluster).collect();
        clusters.sort_unstable();
        clusters.dedup();
        let mut kept_g: AHashMap<u32, u64> = AHashMap::new();
        let mut kept_copies: Vec<KeptCopy> = Vec::new();
        for entry in &self.manifest.kept_files {
            self.read_kept(entry, |k| {
                if clusters.binary_search(&k.cluster).is_ok() {
                    kept_g.insert(k.cluster, k.article.g);
                    kept_copies.push(k);
                }
            })?;
        }
        let have: AHashSet<u64> = matched.iter().map(|(a, _)| a.g).collect();
        for k in kept_copies {
            if !have.contains(&k.article.g) {
                let mut kept = k.article;
                kept.cluster = Some(k.cluster);
                matched.push((kept, k.signature));
            }
        }
        // Ordered by g; edges renumbered.
        let mut order: Vec<u32> = (0..matched.len() as u32).collect();
        order.sort_by_key(|&i| matched[i as usize].0.g);
        let mut rank = vec![0u32; matched.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        out.edges = accepted
            .iter()
            .map(|&(seg, local, doc)| (doc, rank[slot_of[&(seg, local)] as usize]))
            .collect();
        out.edges.sort_unstable();
        let mut slots: Vec<Option<(IndexedArticle, Vec<Slot>)>> =
            matched.into_iter().map(Some).collect();
        for i in order {
            let (a, sig) = slots[i as usize].take().expect("each once");
            out.kept.push(match a.cluster {
                None => true,
                Some(c) => kept_g.get(&c) == Some(&a.g),
            });
            out.articles.push(a);
            out.signatures.push(sig);
        }
        // The pairs an earlier night verified below their estimate, among these articles
        // (ordered by g, so found by binary search).
        let index_of = |g: u64| {
            out.articles
                .binary_search_by_key(&g, |a| a.g)
                .ok()
                .map(|i| i as u32)
        };
        for (i, a) in out.articles.iter().enumerate() {
            for &(_, kept) in self.state.verified.range((a.g, 0)..=(a.g, u64::MAX)) {
                if let Some(k) = index_of(kept) {
                    out.verified.push((i as u32, k));
                }
            }
        }
        Ok(out)
    }

    fn read_state(&self, entry: &FileEntry) -> Result<State> {
        let mut r = self.reader(entry, Kind::State)?;
        let mut s = State {
            next_g: r.u64()?,
            next_cluster: r.u32()?,
            next_story: r.u32()?,
            newest: some_date(r.i64()?),
            ..State::default()
        };
        let n = r.count(8)?;
        s.learned = (0..n).map(|_| r.u64()).collect::<Result<_>>()?;
        // Keys written before learned lines were known by the line alone (they were keys of
        // the line within its outlet) lack the mark, and mean nothing now: they are dropped,
        // and the lines are learned again from the batches to come.
        if s.learned.first() == Some(&LEARNED_LINES_MARK) {
            s.learned.remove(0);
        } else {
            s.learned.clear();
        }
        let n = r.count(12)?;
        let mut block = Vec::new();
        r.read_into(12 * n, &mut block)?;
        for b in block.chunks_exact(12) {
            let id = u32::from_le_bytes(b[..4].try_into().expect("4 bytes"));
            let size = u64::from_le_bytes(b[4..].try_into().expect("8 bytes"));
            s.clusters.insert(id, ClusterEntry { size });
        }
        let n = r.count(8)?;
        for _ in 0..n {
            let (from, to) = (r.u32()?, r.u32()?);
            if to >= from {
                return Err(damaged(
                    r.path(),
                    "file is damaged: a cluster merge points forward",
                ));
            }
            s.aliases.insert(from, to);
        }
        let n = r.count(12)?;
        for _ in 0..n {
            let (g, c) = (r.u64()?, r.u32()?);
            s.overrides.insert(g, c);
        }
        let n = r.count(36)?;
        for _ in 0..n {
            let id = r.u32()?;
            let size = r.u64()?;
            let first = some_date(r.i64()?);
            let last = some_date(r.i64()?);
            let last_batch = r.u32()?;
            let terms = r.u32()?;
            if u64::from(terms) * 12 > r.left() {
                return Err(damaged(
                    r.path(),
                    "file is damaged: a count exceeds the file",
                ));
            }
            let mut block = Vec::new();
            r.read_into(u64::from(terms) * 12, &mut block)?;
            let centroid = block
                .chunks_exact(12)
                .map(|b| {
                    (
                        u64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
                        f32::from_bits(u32::from_le_bytes(b[8..].try_into().expect("4 bytes"))),
                    )
                })
                .collect();
            s.stories.insert(
                id,
                StoryEntry {
                    size,
                    first,
                    last,
                    last_batch,
                    centroid,
                },
            );
        }
        // Format version 2: the pairs verified below their estimate (a version-1 state ends
        // here).
        if r.left() > 0 {
            let n = r.count(16)?;
            for _ in 0..n {
                let pair = (r.u64()?, r.u64()?);
                s.verified.insert(pair);
            }
        }
        r.finish(entry.checksum())?;
        Ok(s)
    }

    /// Streams every indexed article, in the order they were added, with its current
    /// cluster (after merges) and story.
    pub fn for_each_article(&self, mut f: impl FnMut(&IndexedArticle) -> Result<()>) -> Result<()> {
        for segment in &self.manifest.segments {
            self.read_segment(
                segment,
                |_| true,
                true,
                |_, mut a| {
                    a.cluster = self.state.cluster_of(a.g, a.cluster);
                    f(&a)
                },
            )?;
        }
        Ok(())
    }

    /// The kept copy of every cluster that has one: cluster id to the copy's number in the
    /// index and its id. A cluster merged into an older one keeps that one's copy; the copy may
    /// have expired while its cluster lives on.
    pub fn kept_copies(&self) -> Result<AHashMap<u32, (u64, ArticleId)>> {
        let mut kept = AHashMap::new();
        for entry in &self.manifest.kept_files {
            self.read_kept(entry, |k| {
                kept.insert(k.cluster, (k.article.g, k.article.article.id().to_owned()));
            })?;
        }
        Ok(kept)
    }

    /// Reads every file the manifest names, checking each against its checksum, and counts
    /// what the index holds.
    pub fn stats(&self) -> Result<IndexStats> {
        let mut files_verified = usize::from(self.manifest.state.is_some());
        let (mut oldest, mut newest): (Option<i64>, Option<i64>) = (None, None);
        let k = self.manifest.params.num_perm;
        for segment in &self.manifest.segments {
            self.read_segment(
                segment,
                |_| true,
                true,
                |_, a| {
                    if let Some(p) = a.article.published() {
                        oldest = Some(oldest.map_or(p, |o| o.min(p)));
                        newest = Some(newest.map_or(p, |o| o.max(p)));
                    }
                    Ok(())
                },
            )?;
            let mut r = self.reader(&segment.sig_file, Kind::Sigs)?;
            let n = r.count(2 * k as u64)?;
            if n != segment.docs || r.u32()? as usize != k {
                return Err(damaged(
                    r.path(),
                    "file is damaged: shape differs from the manifest",
                ));
            }
            r.skip_rest()?;
            r.finish(segment.sig_file.checksum())?;
            let mut r = self.reader(&segment.bands_file, Kind::Bands)?;
            r.u32()?;
            r.u32()?;
            for _ in 0..self.manifest.params.bands {
                let n = r.count(12)?;
                r.read_into(12 * n, &mut Vec::new())?;
            }
            r.finish(segment.bands_file.checksum())?;
            let mut r = self.reader(&segment.ids_file, Kind::Ids)?;
            let n = r.count(16)?;
            r.read_into(16 * n, &mut Vec::new())?;
            r.finish(segment.ids_file.checksum())?;
            files_verified += 4;
        }
        for entry in &self.manifest.kept_files {
            self.read_kept(entry, |_| {})?;
            files_verified += 1;
        }
        let live: Vec<&ClusterEntry> = self
            .state
            .clusters
            .values()
            .filter(|c| c.size >= 2)
            .collect();
        Ok(IndexStats {
            path: self.dir.display().to_string(),
            format_version: self.manifest.format_version,
            written_by: self.manifest.storyhash_version.clone(),
            params: self.manifest.params.clone(),
            token_hash: (self.manifest.params.shingle == "word")
                .then_some(self.manifest.params.token_hash),
            batches: self.manifest.batches,
            generation: self.manifest.generation,
            articles: self.manifest.articles,
            segments: self.manifest.segments.len(),
            clusters: live.len(),
            clustered_articles: live.iter().map(|c| c.size).sum(),
            merged_clusters: self.state.aliases.len(),
            learned_boilerplate_lines: self.state.learned.len(),
            stories_remembered: self.state.stories.len(),
            oldest: oldest.map(crate::ingest::format_published),
            newest: newest.map(crate::ingest::format_published),
            bytes: self.manifest.files().map(|f| f.bytes).sum(),
            files_verified,
        })
    }

    /// For each of tonight's stories (`centroids`, with their first and last dates in
    /// `spans`), the remembered story whose centroid is most similar, when the cosine reaches
    /// `threshold` and the dates are at most [`STORY_LINK_DAYS`] apart (ties go to the
    /// smaller id).
    pub fn link_stories(
        &self,
        centroids: &[Vec<(u64, f32)>],
        spans: &[(Option<i64>, Option<i64>)],
        threshold: f64,
    ) -> Vec<Option<u32>> {
        let mut postings: AHashMap<u64, Vec<(u32, f32)>> = AHashMap::new();
        for (&id, e) in &self.state.stories {
            for &(t, w) in &e.centroid {
                postings.entry(t).or_default().push((id, w));
            }
        }
        let max_gap = (STORY_LINK_DAYS * 86_400.0) as i64;
        let best = centroids
            .par_iter()
            .zip(spans)
            .map(|(c, &(first, last))| {
                let mut scores: BTreeMap<u32, f64> = BTreeMap::new();
                for &(t, w) in c {
                    for &(id, w2) in postings.get(&t).map_or(&[][..], |p| &p[..]) {
                        *scores.entry(id).or_default() += f64::from(w) * f64::from(w2);
                    }
                }
                let near = |id: u32| {
                    let e = &self.state.stories[&id];
                    let gap = match (first, last, e.first, e.last) {
                        (Some(f), Some(l), Some(ef), Some(el)) => (f - el).max(ef - l).max(0),
                        _ => 0,
                    };
                    gap <= max_gap
                };
                let mut best: Option<(f64, u32)> = None;
                for (id, score) in scores {
                    if score >= threshold && near(id) && best.is_none_or(|(b, _)| score > b) {
                        best = Some((score, id));
                    }
                }
                best
            })
            .collect::<Vec<Option<(f64, u32)>>>();
        // Several of tonight's stories may join one remembered story: in small batches they
        // are often one story that tonight's few articles did not hold together (allowing it
        // scored higher on the development data than one per remembered story, 0.729 / 0.696).
        best.into_iter().map(|b| b.map(|(_, id)| id)).collect()
    }

    /// The next cluster id a new cluster gets.
    pub fn next_cluster(&self) -> u32 {
        self.state.next_cluster
    }

    /// The next story id a new story gets.
    pub fn next_story(&self) -> u32 {
        self.state.next_story
    }

    /// The current cluster of an old cluster id (after merges).
    pub fn resolve_cluster(&self, c: u32) -> u32 {
        self.state.resolve(c)
    }

    /// Commits tonight's batch: a new segment with `batch`, clusters updated, then (with
    /// `max_age_days`) articles older than that many days before tonight's median date dropped.
    /// Atomic: either all of it is visible afterwards, or none.
    pub fn commit(mut self, batch: &Batch<'_>, max_age_days: Option<f64>) -> Result<CommitStats> {
        let result = self.commit_update(batch, max_age_days);
        if result.is_err() {
            self.remove_unnamed_after_failure();
        }
        result
    }

    /// After a failed update: removes the index files the manifest on disk does not name,
    /// which this update wrote (those of earlier failures were removed when it opened), so
    /// that a disk that filled up is not left full until the next run. Best effort: the next
    /// writer removes what is left.
    ///
    /// A failure after the new manifest's rename (syncing the directory) leaves the new
    /// manifest in force, but not surely on disk: a crash could still bring the old one back,
    /// so the old files it names stay until the next writer, which opens the index once the
    /// new manifest is on disk, removes them.
    fn remove_unnamed_after_failure(&self) {
        if let Ok(Some(on_disk)) = read_manifest(&self.dir)
            && on_disk.generation == self.manifest.generation
        {
            let _ = remove_unnamed(&self.dir, &on_disk);
        }
    }

    fn commit_update(
        &mut self,
        batch: &Batch<'_>,
        max_age_days: Option<f64>,
    ) -> Result<CommitStats> {
        let generation = self.manifest.generation + 1;
        let mut stats = CommitStats::default();
        if batch.articles.is_empty() {
            // Nothing to add (every line rejected): the index stays as it was.
            stats.articles_held = self.manifest.articles;
            stats.batch = self.manifest.batches;
            return Ok(stats);
        }
        let base_g = self.state.next_g;
        let batch_no = self.manifest.batches + 1;
        let n = batch.articles.len();

        // State: clusters, merges, overrides; tonight's articles' clusters.
        let mut state = self.state.clone();
        let mut cluster_of: Vec<Option<u32>> = vec![None; n];
        let mut new_kept: Vec<KeptCopy> = Vec::new();
        let record_of = |doc: usize, cluster: Option<u32>| Record {
            g: base_g + doc as u64,
            batch: batch_no,
            article: &batch.articles[doc],
            cluster,
            story: batch.story_of.map(|s| s[doc]),
            has_shingles: batch.has_shingles[doc],
        };
        for a in batch.articles {
            if let Some(p) = a.published() {
                state.newest = Some(state.newest.map_or(p, |o| o.max(p)));
            }
        }
        for c in &batch.clusters.clusters {
            let id = c.id;
            let mut joined = 0u64;
            for &m in &c.members {
                let m = m as usize;
                if m < n {
                    cluster_of[m] = Some(id);
                    joined += 1;
                } else {
                    let old = &batch.history.articles[m - n];
                    match old.cluster {
                        Some(o) if o == id => {}
                        Some(o) => {
                            // A bridge: the younger cluster merges into this one.
                            if let Some(gone) = state.clusters.remove(&o) {
                                joined += gone.size;
                            }
                            state.aliases.insert(o, id);
                            stats.merged_clusters += 1;
                        }
                        None => {
                            state.overrides.insert(old.g, id);
                            joined += 1;
                        }
                    }
                }
            }
            match state.clusters.get_mut(&id) {
                Some(entry) => {
                    entry.size += joined;
                    stats.joined_old_clusters += 1;
                }
                None => {
                    let kept = c.canonical as usize;
                    let (canonical, canonical_sig) = if kept < n {
                        let r = record_of(kept, Some(id));
                        let a = IndexedArticle {
                            g: r.g,
                            batch: r.batch,
                            article: r.article.clone(),
                            cluster: r.cluster,
                            story: r.story,
                            has_shingles: r.has_shingles,
                        };
                        (a, batch.signatures.get(kept).to_vec())
                    } else {
                        let old = &batch.history.articles[kept - n];
                        (old.clone(), batch.history.signatures[kept - n].clone())
                    };
                    state.clusters.insert(id, ClusterEntry { size: joined });
                    new_kept.push(KeptCopy {
                        cluster: id,
                        article: IndexedArticle {
                            cluster: Some(id),
                            ..canonical
                        },
                        signature: canonical_sig,
                    });
                    stats.new_clusters += 1;
                }
            }
            state.next_cluster = state.next_cluster.max(id + 1);
        }
        state.next_g = base_g + n as u64;
        if let Some(&max) = batch.story_of.and_then(|s| s.iter().max()) {
            state.next_story = state.next_story.max(max + 1);
        }
        for u in batch.story_updates {
            let span = |a: Option<i64>, b: Option<i64>, f: fn(i64, i64) -> i64| match (a, b) {
                (Some(x), Some(y)) => Some(f(x, y)),
                (x, y) => x.or(y),
            };
            match state.stories.get_mut(&u.id) {
                Some(e) => {
                    e.centroid = crate::story::weighted_sum(
                        &e.centroid,
                        e.size as f32,
                        &u.centroid,
                        u.size as f32,
                    );
                    e.size += u.size;
                    e.first = span(e.first, u.first, i64::min);
                    e.last = span(e.last, u.last, i64::max);
                    e.last_batch = batch_no;
                }
                None => {
                    state.stories.insert(
                        u.id,
                        StoryEntry {
                            size: u.size,
                            first: u.first,
                            last: u.last,
                            last_batch: batch_no,
                            centroid: u.centroid.clone(),
                        },
                    );
                }
            }
        }
        state.stories.retain(|_, e| {
            e.last_batch + STORY_MEMORY_BATCHES > batch_no && !e.centroid.is_empty()
        });
        let mut learned: Vec<u64> = batch.learned.to_vec();
        learned.sort_unstable();
        learned.dedup();
        state.learned = learned;
        // Pairs verified below their estimate: the indexed members of tonight's clusters are
        // decided again (their kept copy may have changed), tonight's are new. An indexed
        // article in none of them (a cluster whose only pairs with tonight's articles were held
        // apart as unsure bridges) was not decided again, and keeps its pairs.
        let g_of = |doc: u32| match (doc as usize).checked_sub(n) {
            None => base_g + u64::from(doc),
            Some(i) => batch.history.articles[i].g,
        };
        for c in &batch.clusters.clusters {
            for &m in &c.members {
                if let Some(i) = (m as usize).checked_sub(n) {
                    state.forget_verified(batch.history.articles[i].g);
                }
            }
        }
        state.verified.extend(
            batch
                .verified_below_estimate
                .iter()
                .map(|&(member, kept)| (g_of(member), g_of(kept))),
        );

        // Write the segment of tonight's articles.
        let mut manifest = self.manifest.clone();
        // An index of an older format version is one of this version from now on (its older
        // files are read as they are).
        manifest.format_version = format::FORMAT_VERSION;
        manifest.generation = generation;
        manifest.batches = batch_no;
        let mut written: Vec<String> = Vec::new();
        if n > 0 {
            let stem = format!("seg-{generation:08}");
            let segment = self.write_segment(
                &stem,
                batch_no,
                n,
                |doc| record_of(doc, cluster_of[doc]),
                |doc| batch.signatures.get(doc),
                &mut written,
            )?;
            manifest.segments.push(segment);
        }

        // Tonight's new clusters' kept copies.
        if !new_kept.is_empty() {
            let name = format!("kept-{generation:08}.bin");
            let entry = self.write_kept(&name, &new_kept)?;
            written.push(name);
            manifest.kept_files.push(entry);
        }
        drop(new_kept);

        // Retention, measured from tonight's median date (not the newest date ever seen: one
        // article dated decades ahead must not expire the whole index), and never tonight's
        // own articles. A night without dates expires nothing.
        let mut dates: Vec<i64> = batch
            .articles
            .iter()
            .filter_map(|a| a.published())
            .collect();
        dates.sort_unstable();
        if let (Some(days), Some(&median)) = (max_age_days, dates.get(dates.len() / 2)) {
            let cutoff = median - (days * 86_400.0).round() as i64;
            state
                .stories
                .retain(|_, e| e.last.is_none_or(|l| l >= cutoff));
            let tonight = manifest.segments.pop_if(|s| s.batch == batch_no);
            stats.expired =
                self.expire(&mut manifest, &mut state, cutoff, generation, &mut written)?;
            manifest.segments.extend(tonight);
            // Kept-copies files whose clusters have all expired go too.
            let mut live_files = Vec::new();
            for entry in std::mem::take(&mut manifest.kept_files) {
                let mut live = false;
                self.read_kept(&entry, |k| live |= state.clusters.contains_key(&k.cluster))?;
                if live {
                    live_files.push(entry);
                }
            }
            manifest.kept_files = live_files;
        }
        manifest.articles = manifest.segments.iter().map(|s| s.docs).sum();

        // The state, then the manifest: the rename is the commit.
        let state_name = format!("state-{generation:08}.bin");
        let entry = self.write_state(&state_name, &state)?;
        written.push(state_name);
        manifest.state = Some(entry);
        manifest.storyhash_version = env!("CARGO_PKG_VERSION").into();
        sync_dir(&self.dir)?;
        crash_point()?;
        write_manifest(&self.dir, &manifest, true)?;

        // Committed. Files the new manifest does not name go; failing to remove one is not a
        // failed update (the next writer removes leftovers).
        let old_files: Vec<String> = self.manifest.files().map(|f| f.name.clone()).collect();
        self.manifest = manifest;
        let named: AHashSet<&str> = self.manifest.files().map(|f| f.name.as_str()).collect();
        for name in old_files.iter().chain(&written) {
            if !named.contains(name.as_str()) {
                let _ = fs::remove_file(self.dir.join(name));
                // Committed: an injected failure here would be no failure of the update.
                let _ = crash_point();
            }
        }
        stats.articles_added = n as u64;
        stats.articles_held = self.manifest.articles;
        stats.batch = batch_no;
        Ok(stats)
    }

    /// Writes one segment: `n` article records, their signatures, band keys and id hashes.
    fn write_segment<'a>(
        &self,
        stem: &str,
        batch_no: u32,
        n: usize,
        record_of: impl Fn(usize) -> Record<'a>,
        sig_of: impl Fn(usize) -> &'a [Slot] + Sync,
        written: &mut Vec<String>,
    ) -> Result<Segment> {
        let p = &self.manifest.params;
        let name = |ext: &str| format!("{stem}.{ext}");
        let mut w = BinWriter::create(self.dir.join(name("docs")), Kind::Docs, self.fingerprint)?;
        written.push(name("docs"));
        w.u64(n as u64)?;
        let (mut oldest, mut newest): (Option<i64>, Option<i64>) = (None, None);
        let mut ids: Vec<u128> = Vec::with_capacity(n);
        for local in 0..n {
            let r = record_of(local);
            if let Some(d) = r.article.published() {
                oldest = Some(oldest.map_or(d, |o| o.min(d)));
                newest = Some(newest.map_or(d, |o| o.max(d)));
            }
            ids.push(id_hash(r.article.id()));
            write_record(&mut w, &r)?;
        }
        let docs_file = FileEntry::new(name("docs"), w.finish()?);

        let mut w = BinWriter::create(self.dir.join(name("ids")), Kind::Ids, self.fingerprint)?;
        written.push(name("ids"));
        ids.sort_unstable();
        w.u64(n as u64)?;
        let mut block: Vec<u8> = Vec::with_capacity(16 * n.min(1 << 16));
        for chunk in ids.chunks(1 << 16) {
            block.clear();
            for id in chunk {
                block.extend_from_slice(&id.to_le_bytes());
            }
            w.bytes(&block)?;
        }
        drop(ids);
        let ids_file = FileEntry::new(name("ids"), w.finish()?);

        let mut w = BinWriter::create(self.dir.join(name("sig")), Kind::Sigs, self.fingerprint)?;
        written.push(name("sig"));
        w.u64(n as u64)?;
        w.u32(p.num_perm as u32)?;
        for start in (0..n).step_by(4096) {
            block.clear();
            for local in start..(start + 4096).min(n) {
                for s in sig_of(local) {
                    block.extend_from_slice(&s.to_le_bytes());
                }
            }
            w.bytes(&block)?;
        }
        let sig_file = FileEntry::new(name("sig"), w.finish()?);

        // Band keys, one band at a time (memory: one band's keys).
        let mut w = BinWriter::create(self.dir.join(name("bands")), Kind::Bands, self.fingerprint)?;
        written.push(name("bands"));
        w.u32(p.bands as u32)?;
        w.u32(p.rows as u32)?;
        let eligible: Vec<u32> = (0..n as u32)
            .filter(|&l| record_of(l as usize).has_shingles)
            .collect();
        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(eligible.len());
        for band in 0..p.bands {
            keys.clear();
            keys.par_extend(eligible.par_iter().map(|&l| {
                let sig = sig_of(l as usize);
                (band_key(&sig[band * p.rows..(band + 1) * p.rows]), l)
            }));
            keys.par_sort_unstable();
            w.u64(keys.len() as u64)?;
            for chunk in keys.chunks(1 << 16) {
                block.clear();
                for &(key, local) in chunk {
                    block.extend_from_slice(&key.to_le_bytes());
                    block.extend_from_slice(&local.to_le_bytes());
                }
                w.bytes(&block)?;
            }
        }
        let bands_file = FileEntry::new(name("bands"), w.finish()?);
        Ok(Segment {
            batch: batch_no,
            docs: n as u64,
            oldest,
            newest,
            docs_file,
            ids_file,
            sig_file,
            bands_file,
        })
    }

    /// Drops articles whose age date is before `cutoff`: whole segments, or segments rewritten
    /// without them. Returns the number dropped.
    fn expire(
        &self,
        manifest: &mut Manifest,
        state: &mut State,
        cutoff: i64,
        generation: u64,
        written: &mut Vec<String>,
    ) -> Result<u64> {
        let mut dropped = 0u64;
        let mut kept_segments = Vec::new();
        let segments = std::mem::take(&mut manifest.segments);
        for (i, segment) in segments.into_iter().enumerate() {
            if segment.oldest.is_none_or(|o| o >= cutoff) {
                kept_segments.push(segment);
                continue;
            }
            // Read it whole (one segment at a time), keep the young.
            let batch_newest = segment.newest;
            let mut keep: Vec<IndexedArticle> = Vec::new();
            let mut keep_locals: Vec<u64> = Vec::new();
            let mut gone: Vec<IndexedArticle> = Vec::new();
            self.read_segment(
                &segment,
                |_| true,
                true,
                |local, a| {
                    if age_date(&a, batch_newest).is_some_and(|d| d < cutoff) {
                        gone.push(a);
                    } else {
                        keep.push(a);
                        keep_locals.push(local);
                    }
                    Ok(())
                },
            )?;
            for a in &gone {
                if let Some(c) = state.cluster_of(a.g, a.cluster)
                    && let Some(entry) = state.clusters.get_mut(&c)
                {
                    entry.size = entry.size.saturating_sub(1);
                    if entry.size == 0 {
                        state.clusters.remove(&c);
                    }
                }
                state.overrides.remove(&a.g);
                state.forget_verified(a.g);
            }
            dropped += gone.len() as u64;
            if keep.is_empty() {
                continue;
            }
            let k = manifest.params.num_perm;
            let mut sigs: Vec<Vec<Slot>> = Vec::with_capacity(keep.len());
            let mut r = self.reader(&segment.sig_file, Kind::Sigs)?;
            let n = r.count(2 * k as u64)?;
            r.u32()?;
            let mut row = vec![0u8; 2 * k];
            let mut p = 0;
            for local in 0..n {
                r.read(&mut row)?;
                if p < keep_locals.len() && keep_locals[p] == local {
                    sigs.push(
                        row.chunks_exact(2)
                            .map(|b| Slot::from_le_bytes([b[0], b[1]]))
                            .collect(),
                    );
                    p += 1;
                }
            }
            r.finish(segment.sig_file.checksum())?;
            let stem = format!("seg-{generation:08}-{i}");
            let mut rewritten = self.write_segment(
                &stem,
                segment.batch,
                keep.len(),
                |i| keep[i].record(),
                |i| &sigs[i],
                written,
            )?;
            rewritten.newest = rewritten.newest.max(batch_newest);
            kept_segments.push(rewritten);
        }
        manifest.segments = kept_segments;
        Ok(dropped)
    }

    /// Streams the kept copies of a kept-copies file (read and checked to its end).
    fn read_kept(&self, entry: &FileEntry, mut f: impl FnMut(KeptCopy)) -> Result<()> {
        let k = self.manifest.params.num_perm;
        let mut r = self.reader(entry, Kind::Kept)?;
        let n = r.count(4 + 40 + 2 * k as u64)?;
        let mut row = Vec::new();
        for _ in 0..n {
            let cluster = r.u32()?;
            let article = read_article(&mut r)?;
            r.read_into(2 * k as u64, &mut row)?;
            let signature = row
                .chunks_exact(2)
                .map(|b| Slot::from_le_bytes([b[0], b[1]]))
                .collect();
            f(KeptCopy {
                cluster,
                article,
                signature,
            });
        }
        r.finish(entry.checksum())
    }

    fn write_kept(&self, name: &str, kept: &[KeptCopy]) -> Result<FileEntry> {
        let mut w = BinWriter::create(self.dir.join(name), Kind::Kept, self.fingerprint)?;
        w.u64(kept.len() as u64)?;
        for k in kept {
            w.u32(k.cluster)?;
            write_record(&mut w, &k.article.record())?;
            for slot in &k.signature {
                w.bytes(&slot.to_le_bytes())?;
            }
        }
        Ok(FileEntry::new(name.to_string(), w.finish()?))
    }

    fn write_state(&self, name: &str, s: &State) -> Result<FileEntry> {
        let mut w = BinWriter::create(self.dir.join(name), Kind::State, self.fingerprint)?;
        w.u64(s.next_g)?;
        w.u32(s.next_cluster)?;
        w.u32(s.next_story)?;
        w.i64(s.newest.unwrap_or(NONE_I64))?;
        w.u64(s.learned.len() as u64 + 1)?;
        w.u64(LEARNED_LINES_MARK)?;
        for &k in &s.learned {
            w.u64(k)?;
        }
        w.u64(s.clusters.len() as u64)?;
        for (&id, c) in &s.clusters {
            w.u32(id)?;
            w.u64(c.size)?;
        }
        w.u64(s.aliases.len() as u64)?;
        for (&from, &to) in &s.aliases {
            w.u32(from)?;
            w.u32(to)?;
        }
        w.u64(s.overrides.len() as u64)?;
        for (&g, &c) in &s.overrides {
            w.u64(g)?;
            w.u32(c)?;
        }
        w.u64(s.stories.len() as u64)?;
        for (&id, st) in &s.stories {
            w.u32(id)?;
            w.u64(st.size)?;
            w.i64(st.first.unwrap_or(NONE_I64))?;
            w.i64(st.last.unwrap_or(NONE_I64))?;
            w.u32(st.last_batch)?;
            w.u32(st.centroid.len() as u32)?;
            for &(t, x) in &st.centroid {
                w.u64(t)?;
                w.u32(x.to_bits())?;
            }
        }
        // Since format version 2 (a version-1 state ends after its stories).
        w.u64(s.verified.len() as u64)?;
        for &(member, kept) in &s.verified {
            w.u64(member)?;
            w.u64(kept)?;
        }
        Ok(FileEntry::new(name.to_string(), w.finish()?))
    }
}

/// Tonight's batch as the index stores it.
pub struct Batch<'a> {
    /// Tonight's accepted articles.
    pub articles: &'a [Article],
    /// Their signatures.
    pub signatures: &'a Signatures,
    /// Whether each had any shingle.
    pub has_shingles: &'a [bool],
    /// Clusters over tonight's articles and the matched indexed ones (numbered after them),
    /// with their final ids.
    pub clusters: &'a crate::cluster::Clusters,
    /// The matched indexed articles.
    pub history: &'a HistoryMatch,
    /// Tonight's story per article, when stories ran.
    pub story_of: Option<&'a [u32]>,
    /// Tonight's stories, to remember for linking.
    pub story_updates: &'a [StoryUpdate],
    /// All boilerplate keys learned so far (the index's and tonight's).
    pub learned: &'a [u64],
    /// `(member, kept copy)` pairs of `clusters` verified though estimated below the threshold.
    pub verified_below_estimate: &'a [(u32, u32)],
}

/// What an update did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CommitStats {
    /// The batch number.
    pub batch: u32,
    /// Articles added.
    pub articles_added: u64,
    /// Articles the index holds now.
    pub articles_held: u64,
    /// Clusters created.
    pub new_clusters: u64,
    /// Existing clusters that tonight's articles joined.
    pub joined_old_clusters: u64,
    /// Old clusters merged into another.
    pub merged_clusters: u64,
    /// Articles dropped by retention.
    pub expired: u64,
}

/// The date an article ages by: its own, or its batch's newest.
fn age_date(a: &IndexedArticle, batch_newest: Option<i64>) -> Option<i64> {
    a.article.published().or(batch_newest)
}

fn some_date(v: i64) -> Option<i64> {
    (v != NONE_I64).then_some(v)
}

/// The 128-bit hash of an id (its text), for checking tonight's ids against the index.
pub fn id_hash(id: IdRef<'_>) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_str().as_bytes())
}

/// An article record to write, borrowed.
#[derive(Debug, Clone, Copy)]
struct Record<'a> {
    g: u64,
    batch: u32,
    article: &'a Article,
    cluster: Option<u32>,
    story: Option<u32>,
    has_shingles: bool,
}

impl IndexedArticle {
    fn record(&self) -> Record<'_> {
        Record {
            g: self.g,
            batch: self.batch,
            article: &self.article,
            cluster: self.cluster,
            story: self.story,
            has_shingles: self.has_shingles,
        }
    }
}

fn write_record(w: &mut BinWriter, a: &Record<'_>) -> Result<()> {
    w.u64(a.g)?;
    w.u32(a.batch)?;
    w.i64(a.article.published().unwrap_or(NONE_I64))?;
    w.u32(a.article.text_chars)?;
    w.u32(a.cluster.unwrap_or(NONE_U32))?;
    w.u32(a.story.unwrap_or(NONE_U32))?;
    // Flags: 1 has shingles, 2 an integer id, 4 a date without a time of day (an index written
    // before that flag existed reads as dates with a time).
    let int_id = a.article.id().is_int();
    let date_only = a.article.date_only();
    w.bytes(&[u8::from(a.has_shingles) | (u8::from(int_id) << 1) | (u8::from(date_only) << 2)])?;
    w.str(a.article.id().as_str())?;
    w.opt_str(a.article.source())?;
    w.opt_str(a.article.title())?;
    w.opt_str(a.article.url())
}

fn read_article(r: &mut BinReader) -> Result<IndexedArticle> {
    let g = r.u64()?;
    let batch = r.u32()?;
    let published = some_date(r.i64()?);
    let text_chars = r.u32()?;
    let cluster = r.u32()?;
    let story = r.u32()?;
    let flags = r.u8()?;
    let id = r.str()?;
    let id = if flags & 2 != 0 {
        ArticleId::Int(id)
    } else {
        ArticleId::Str(id)
    };
    let source = r.opt_str()?.map(|s| Outlet::new(s.into()));
    let title = r.opt_str()?;
    let url = r.opt_str()?;
    Ok(IndexedArticle {
        g,
        batch,
        article: Article::new(ArticleFields {
            id: id.as_ref(),
            title: title.as_deref(),
            source,
            url: url.as_deref(),
            published,
            date_only: flags & 4 != 0,
            text_chars,
            location: NOWHERE,
        }),
        cluster: (cluster != NONE_U32).then_some(cluster),
        story: (story != NONE_U32).then_some(story),
        has_shingles: flags & 1 != 0,
    })
}

/// The location of an article whose text is not in tonight's inputs.
pub const NOWHERE: LineLocation = LineLocation {
    input: u32::MAX,
    line: 0,
    offset: 0,
    len: 0,
};

fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let path = dir.join(MANIFEST);
    match fs::read(&path) {
        Ok(data) => Manifest::decode(&path, &data).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Ok(None),
        Err(e) => Err(Error::io(&path, e)),
    }
}

fn take_lock(dir: &Path) -> Result<File> {
    crate::outdir::lock_file(&dir.join(LOCK))?.map_err(|holder| Error::Index {
        path: dir.to_path_buf(),
        reason: format!(
            "the index is being updated by another storyhash ({holder}); wait for it to finish (the lock goes when that process ends, even if it crashes)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> IndexParams {
        IndexParams {
            shingle: "word".into(),
            ngram: 5,
            seed: "0x1".into(),
            sketch: "oph".into(),
            num_perm: 4,
            bands: 2,
            rows: 2,
            threshold: 0.5,
            token_hash: TokenHash::Mum16,
        }
    }

    /// The parameters of an index that hashes words with xxh3 (every index from before
    /// mum16) serialize as they did, without the word hash, so that the fingerprint its files
    /// carry still matches; read back, parameters without one mean xxh3.
    #[test]
    fn parameters_without_a_word_hash_are_xxh3_and_keep_their_fingerprint() {
        let before = r#"{"shingle":"word","ngram":5,"seed":"0x1","sketch":"oph","num_perm":4,"bands":2,"rows":2,"threshold":0.5}"#;
        let xxh3 = IndexParams {
            token_hash: TokenHash::Xxh3,
            ..params()
        };
        assert_eq!(serde_json::to_string(&xxh3).unwrap(), before);
        assert_eq!(
            xxh3.fingerprint(),
            xxhash_rust::xxh3::xxh3_64(before.as_bytes())
        );
        let read: IndexParams = serde_json::from_str(before).unwrap();
        assert_eq!(read, xxh3);
        // A new index names its hash, and its fingerprint differs.
        let mum16 = serde_json::to_string(&params()).unwrap();
        assert!(mum16.ends_with(r#","token_hash":"mum16"}"#), "{mum16}");
        assert_ne!(params().fingerprint(), xxh3.fingerprint());
        // The word hash is no difference a run is refused for: it takes the index's.
        assert!(xxh3.differences(&params(), true).is_empty());
    }

    #[test]
    fn manifest_round_trip_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST);
        let m = Manifest::empty(params());
        let bytes = m.encode();
        let back = Manifest::decode(&path, &bytes).unwrap();
        assert_eq!(back.params, params());
        let mut bad = bytes.clone();
        let at = bad.iter().position(|&b| b == b'5').unwrap();
        bad[at] = b'6';
        let err = Manifest::decode(&path, &bad).unwrap_err().to_string();
        assert!(
            err.contains("MANIFEST") && err.contains("checksum"),
            "{err}"
        );
    }

    #[test]
    fn parameter_differences_name_the_flags() {
        let mut other = params();
        other.ngram = 3;
        other.threshold = 0.7;
        let diff = params().differences(&other, true);
        assert_eq!(
            diff,
            vec!["--ngram 3 (index: 5)", "--threshold 0.7 (index: 0.5)"]
        );
        // Bands and rows count only when the run was given them.
        other.bands = 3;
        assert_eq!(
            params().differences(&other, true)[1],
            "--bands 3 (index: 2)"
        );
        assert_eq!(params().differences(&other, false), diff);
    }

    #[test]
    fn second_writer_is_refused_and_the_lock_goes_with_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = Index::open_for_update(dir.path(), params(), true).unwrap();
        let err = Index::open_for_update(dir.path(), params(), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("being updated by another storyhash"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        Index::open_for_update(dir.path(), params(), true).unwrap();
    }

    /// The state's verified pairs are written and read back.
    #[test]
    fn verified_pairs_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open_for_update(dir.path(), params(), true).unwrap();
        let mut s = State {
            next_g: 12,
            ..State::default()
        };
        let entry = index.write_state("state-a.bin", &s).unwrap();
        let before = entry.bytes;
        assert!(index.read_state(&entry).unwrap().verified.is_empty());
        s.verified.extend([(3, 1), (9, 4), (9, 5)]);
        let entry = index.write_state("state-b.bin", &s).unwrap();
        assert_eq!(entry.bytes, before + 3 * 16);
        let back = index.read_state(&entry).unwrap();
        assert_eq!(back.verified, s.verified);
        assert_eq!(back.next_g, 12);
        let mut forgotten = back;
        forgotten.forget_verified(9);
        assert_eq!(forgotten.verified, BTreeSet::from([(3, 1)]));
    }

    #[test]
    fn aliases_resolve_through_chains() {
        let mut s = State::default();
        s.aliases.insert(9, 4);
        s.aliases.insert(4, 1);
        s.overrides.insert(70, 9);
        assert_eq!(s.resolve(9), 1);
        assert_eq!(s.cluster_of(70, None), Some(1));
        assert_eq!(s.cluster_of(71, Some(4)), Some(1));
        assert_eq!(s.cluster_of(72, None), None);
    }
}
