//! The near-duplicate pipeline, stage after stage: the library's `dedup` entry point.
//!
//! ```text
//! scan inputs ─ validate, learn boilerplate ─┐
//! stream again ─ normalize → shingle → MinHash (parallel) ─→ signatures
//! signatures → LSH candidates → triage on estimates ─→ [stream again: exact Jaccard for the
//! ambiguous] → verified edges → clusters
//! ```
//!
//! Only the articles' metadata and the signatures' band keys stay in memory (the signatures
//! too in index runs, or without [`DedupConfig::spill_dir`]); the texts are streamed.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ahash::AHashMap;
use rayon::prelude::*;

use crate::cluster::{ClusterConfig, Clusters, cluster_with};
use crate::error::{Error, Result};
use crate::headlines::{Headline, Headlines};
use crate::index::{CommitStats, HistoryMatch, Index, IndexParams, id_hash};
use crate::ingest::{
    Article, Chunk, FieldNames, Input, LineLocation, Record, Reject, accept, for_each_chunk,
    parse_record_in,
};
use crate::lsh::{BandKeys, LshParams, band_keys_of, candidates};
use crate::minhash::{
    MAX_NUM_PERM, MinHasher, PairEstimates, ReadBack, Signatures, SketchKind, Slot,
    estimate_jaccard, fold_slot,
};
use crate::normalize::{
    BoilerplateLearner, LearnedBoilerplate, LineSample, canonical_text, canonical_words,
    for_each_token, for_each_token_sampled, for_each_word,
};
use crate::progress::Progress;
use crate::shingle::{
    ShingleConfig, ShingleKind, ShingleScratch, TokenHash, WordHasher, grams_from_token_hashes,
    shingles,
};
use crate::story::{Stories, StoryConfig, cluster_stories, extract_terms};
use crate::verify::{VerifyMode, auto_margin, triage, verify_exact};

/// Everything a `dedup` run is configured with, validated by [`DedupConfig::validate`].
#[derive(Debug, Clone)]
pub struct DedupConfig {
    /// Input field names.
    pub fields: FieldNames,
    /// Turn bad records into counted rejects instead of stopping.
    pub skip_invalid: bool,
    /// Shingle kind, length and hash seed.
    pub shingle: ShingleConfig,
    /// MinHash variant.
    pub sketch: SketchKind,
    /// MinHash slots.
    pub num_perm: usize,
    /// Bands and rows; chosen from the threshold when `None`.
    pub bands_rows: Option<(usize, usize)>,
    /// How candidates are verified.
    pub verify: VerifyMode,
    /// Threshold, keep rule, chain splitting.
    pub cluster: ClusterConfig,
    /// Learn per-outlet boilerplate lines from the corpus.
    pub learn_boilerplate: bool,
    /// In how many different articles of one outlet a line must appear to be boilerplate.
    pub boilerplate_min_docs: usize,
    /// The story stage, when wanted (`storyhash run`).
    pub stories: Option<StoryConfig>,
    /// A persistent index to deduplicate against and then update (nightly runs).
    pub index: Option<IndexConfig>,
    /// Where a run without an index keeps what it does not need in memory: three unnamed
    /// temporary files in this directory, gone when the run ends, for the signatures and band
    /// keys (2 bytes per slot and 4 per band for each article) and for the headlines and links
    /// ([`crate::headlines::Headlines`]). Finding candidates reads the band keys one band at a
    /// time; whole signatures are read back for the documents in candidate pairs alone, a part
    /// at a time, for triage and again for clustering's estimates
    /// ([`crate::minhash::Signatures::agreements_in_parts`]). `None` keeps everything in memory.
    pub spill_dir: Option<PathBuf>,
    /// Bytes of signature rows such a run reads back in one part, at most two parts held at a
    /// time ([`crate::minhash::PART_BYTES`] by default).
    pub part_bytes: usize,
    /// Called where a run has just freed much memory in small blocks (after the first pass and
    /// its re-signing, and after exact verification, which held shingle sets), to hand it back
    /// to the system. The binary passes one that calls glibc's `malloc_trim`: glibc keeps free
    /// blocks between live ones resident, about 270 MiB at 10M short articles. `None` does nothing.
    pub release_memory: Option<fn()>,
}

/// Where the persistent index is and how long it keeps articles.
#[derive(Debug, Clone)]
pub struct IndexConfig {
    /// The index directory (created if absent).
    pub dir: PathBuf,
    /// Drop articles older than this many days before the newest date seen.
    pub max_age_days: Option<f64>,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            fields: FieldNames::default(),
            skip_invalid: false,
            shingle: ShingleConfig::default(),
            sketch: SketchKind::Oph,
            num_perm: 128,
            bands_rows: None,
            verify: VerifyMode::Auto,
            cluster: ClusterConfig {
                threshold: 0.8,
                keep: crate::cluster::KeepRule::Earliest,
                prefer_sources: Vec::new(),
                split_chains: false,
            },
            learn_boilerplate: true,
            boilerplate_min_docs: 5,
            stories: None,
            index: None,
            spill_dir: None,
            part_bytes: crate::minhash::PART_BYTES,
            release_memory: None,
        }
    }
}

impl DedupConfig {
    /// Checks every value once, up front, and resolves the LSH parameters.
    pub fn validate(&self) -> Result<LshParams> {
        let t = self.cluster.threshold;
        if !(t > 0.0 && t <= 1.0) {
            return Err(Error::Config(format!(
                "threshold must be in (0, 1], got {t}"
            )));
        }
        if !(1..=MAX_NUM_PERM).contains(&self.num_perm) {
            return Err(Error::Config(format!(
                "num-perm must be between 1 and {MAX_NUM_PERM}, got {}",
                self.num_perm
            )));
        }
        if !(1..=64).contains(&self.shingle.ngram) {
            return Err(Error::Config(format!(
                "ngram must be between 1 and 64, got {}",
                self.shingle.ngram
            )));
        }
        self.fields.validate()?;
        if let Some(story) = &self.stories {
            if let Some(t) = story.threshold
                && !(t > 0.0 && t <= 1.0)
            {
                return Err(Error::Config(format!(
                    "story-threshold must be in (0, 1], got {t}"
                )));
            }
            if let crate::story::Window::Days(d) = story.window_days
                && !(d.is_finite() && d > 0.0)
            {
                return Err(Error::Config(format!(
                    "window-days must be a positive number of days, `off` or `auto`, got {d}"
                )));
            }
            for (name, w) in [
                ("title-weight", story.title_weight),
                ("entity-weight", story.entity_weight),
            ] {
                if !(w.is_finite() && w > 0.0) {
                    return Err(Error::Config(format!(
                        "{name} must be a positive number, got {w}"
                    )));
                }
            }
        }
        if let Some(index) = &self.index {
            if self.cluster.split_chains {
                return Err(Error::Config(
                    "--split-chains cannot be used with --index (an index's clusters only grow)"
                        .into(),
                ));
            }
            if let Some(d) = index.max_age_days
                && !(d.is_finite() && d > 0.0)
            {
                return Err(Error::Config(format!(
                    "--index-max-age must be a positive number of days, got {d}"
                )));
            }
        }
        if !(2..=crate::normalize::MAX_LEARN_MIN_DOCS).contains(&self.boilerplate_min_docs) {
            return Err(Error::Config(format!(
                "boilerplate-min-docs must be between 2 and {}, got {}",
                crate::normalize::MAX_LEARN_MIN_DOCS,
                self.boilerplate_min_docs
            )));
        }
        match self.bands_rows {
            Some((b, r)) if b == 0 || r == 0 || b * r > self.num_perm => {
                Err(Error::Config(format!(
                    "bands × rows must be at least 1 and at most num-perm ({}), got {b} × {r}",
                    self.num_perm
                )))
            }
            Some((b, r)) => Ok(LshParams::with(b, r, t)),
            None => Ok(LshParams::choose(t, self.num_perm)),
        }
    }
}

/// Per-input counts.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InputStats {
    /// The input's name.
    pub path: String,
    /// Bytes of the file as stored (compressed size when compressed).
    pub bytes: u64,
    /// Non-blank lines.
    pub lines: u64,
    /// Articles accepted.
    pub articles: u64,
    /// Lines rejected.
    pub rejected: u64,
    /// With an index: the XXH3-64 of the input's bytes as read (decompressed), and their
    /// number, by which a batch run again is known whatever the file's name, place or time
    /// ([`crate::outdir::OutDir::check_not_replacing_added_batch`]). Not in summary.json.
    #[serde(skip)]
    pub content: Option<(u64, u64)>,
}

/// Counts from the stages of a run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunStats {
    /// Per input.
    pub inputs: Vec<InputStats>,
    /// Bytes of article text (UTF-8).
    pub text_bytes: u64,
    /// Articles whose canonical text has no word (never clustered).
    pub no_shingles: u64,
    /// Lines learned as boilerplate (tonight's and, with an index, the earlier nights').
    pub learned_boilerplate_lines: usize,
    /// Lines in enough articles of one outlet to be learned, left as text because those
    /// articles are copies of fewer than `--boilerplate-min-docs` articles (re-scrapes,
    /// syndicated copies): the copies' own lines, not boilerplate.
    pub copy_lines_not_learned: usize,
    /// Articles signed again because they hold a learned boilerplate line.
    pub relearned_articles: u64,
    /// Distinct candidate pairs from LSH.
    pub candidate_pairs: u64,
    /// Candidates accepted on their estimate alone.
    pub accepted_on_estimate: u64,
    /// Candidates rejected on their estimate alone.
    pub rejected_on_estimate: u64,
    /// Candidates decided on exact Jaccard.
    pub exact_checked: u64,
    /// Of those, accepted.
    pub exact_accepted: u64,
    /// Verified edges.
    pub verified_pairs: u64,
    /// LSH buckets paired by a window because of their size.
    pub huge_buckets: u64,
    /// Largest LSH bucket.
    pub largest_bucket: u64,
    /// With an index: what tonight's batch found in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexRunStats>,
}

/// How the reason of a line rejected because its id is already indexed ends.
pub(crate) const ALREADY_INDEXED: &str = "is already in the index (added by an earlier batch)";

/// What a batch found in the index.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IndexRunStats {
    /// Batches the index held before this one.
    pub batches_before: u32,
    /// Articles the index held before this one.
    pub articles_before: u64,
    /// Candidate pairs between tonight's articles and indexed ones.
    pub candidate_pairs: u64,
    /// Of those, accepted on their estimate.
    pub accepted_pairs: u64,
    /// Tonight's articles in a cluster with indexed articles (the kept copy is one of those):
    /// duplicates of an indexed article, directly or through a copy of tonight's.
    pub duplicates_of_earlier: u64,
    /// Copies an earlier night kept (wrote to its `deduped.jsonl`) that are duplicates since
    /// tonight: a cluster tonight bridged into an older one, or an article tonight joined to
    /// an older kept copy. `duplicates.jsonl` marks them `demoted`.
    pub earlier_kept_demoted: u64,
    /// Of the accepted pairs, those left out because they would have merged two clusters an
    /// earlier night held apart (each with its own kept copy) on an estimate under the
    /// threshold plus `--verify auto`'s margin, which only the texts, not kept in the index,
    /// could settle. Tonight's article stays in the cluster it is nearer to.
    pub bridges_held_apart: u64,
    /// Tonight's lines rejected because their id is already in the index.
    pub ids_already_indexed: u64,
}

/// Everything a `dedup` run found, ready for the report stage.
#[derive(Debug)]
pub struct DedupRun {
    /// The inputs, kept open for the report's second pass (the deduplicated corpus).
    pub inputs: Vec<Input>,
    /// Accepted articles in input order; a document's index is its `DocId`. With an index,
    /// the indexed articles tonight's matched follow tonight's (`batch_len` onwards).
    /// Tonight's articles keep only their ids: read a headline with [`DedupRun::headline`].
    pub articles: Vec<Article>,
    /// The headlines and links of tonight's articles, which keep only their ids: read one with
    /// [`DedupRun::headline`].
    pub headlines: Headlines,
    /// How many of `articles` are tonight's (all of them without an index).
    pub batch_len: usize,
    /// Whether each of tonight's articles had any shingle.
    pub has_shingles: Vec<bool>,
    /// Rejected lines and files, in input order.
    pub rejects: Vec<Reject>,
    /// One signature per article, except in a run that spilled them
    /// ([`DedupConfig::spill_dir`], no index): none, dropped once the clusters are formed.
    pub signatures: Signatures,
    /// The LSH parameters used.
    pub lsh: LshParams,
    /// How words were hashed: the configuration's, or with an index, the index's.
    pub token_hash: TokenHash,
    /// Boilerplate lines learned from the corpus.
    pub learned: LearnedBoilerplate,
    /// Verified pairs `(a, b)`, `a < b`, sorted: with an index, tonight's pairs and those of
    /// tonight's articles with indexed ones (never two indexed articles: the links that hold
    /// an earlier night's cluster together serve the clustering only).
    pub edges: Vec<(u32, u32)>,
    /// With an index: pairs of indexed articles an earlier night verified though their
    /// signatures estimate them below the threshold (sorted, `a < b`): no pairs of tonight's,
    /// but verified all the same ([`DedupRun::verified_pair`]).
    pub verified_before: Vec<(u32, u32)>,
    /// The estimated Jaccard similarity of each verified pair of `edges`, in their order.
    pub edge_similarity: Vec<f64>,
    /// Near-duplicate clusters.
    pub clusters: Clusters,
    /// Same-story clusters, when the story stage ran.
    pub stories: Option<Stories>,
    /// With an index: the id of each story, by position (an earlier night's id where the story
    /// joined one). Without, a story's id is its position.
    pub story_ids: Option<Vec<u32>>,
    /// Counts.
    pub stats: RunStats,
    /// Seconds per stage, in order.
    pub timings: Vec<(&'static str, f64)>,
    /// With an index: the open index and tonight's matches, for [`DedupRun::commit_index`].
    pub index: Option<IndexRun>,
}

/// The index side of a run.
#[derive(Debug)]
pub struct IndexRun {
    /// The index, locked.
    pub index: Index,
    /// Tonight's matches in it (the articles after `batch_len`).
    pub history: HistoryMatch,
    /// The boilerplate keys learned so far.
    pub learned: Vec<u64>,
    /// Drop articles older than this many days.
    pub max_age_days: Option<f64>,
    /// The Jaccard threshold.
    pub threshold: f64,
}

impl DedupRun {
    /// Whether `a` and `b` are a verified pair: tonight, or (indexed articles) on an earlier
    /// night, where their estimate alone would not have made them one.
    pub fn verified_pair(&self, a: u32, b: u32) -> bool {
        crate::cluster::has_edge(&self.edges, a, b)
            || crate::cluster::has_edge(&self.verified_before, a, b)
    }

    /// The pairs (member, kept copy) of the clusters whose members are verified near their
    /// kept copy though their estimate is below the threshold: what an index remembers of
    /// them, since it keeps no texts to check them again.
    fn verified_below_estimate(&self, threshold: f64) -> Vec<(u32, u32)> {
        self.clusters
            .clusters
            .iter()
            .flat_map(|c| c.members.iter().map(move |&d| (d, c.canonical)))
            .filter(|&(d, kept)| {
                d != kept
                    && self.clusters.similarity(d as usize).unwrap_or(1.0) < threshold
                    && self.verified_pair(d, kept)
            })
            .collect()
    }

    /// The headline and link of document `doc`: tonight's from [`DedupRun::headlines`] (read
    /// back from their file when the run spilled), indexed articles' from the articles.
    pub fn headline(&self, doc: usize) -> Result<Headline> {
        let article = &self.articles[doc];
        if !article.headline_elsewhere() {
            return Ok(Headline {
                title: article.title().map(str::to_string),
                url: article.url().map(str::to_string),
            });
        }
        self.headlines.get(doc).map_err(|e| self.headline_error(e))
    }

    /// The error for a headline that could not be read back.
    pub fn headline_error(&self, e: std::io::Error) -> Error {
        Error::io(
            "temporary file of headlines (in the output directory)",
            std::io::Error::new(e.kind(), format!("reading a headline back: {e}")),
        )
    }

    /// Tonight's articles (without the indexed ones they matched).
    pub fn batch(&self) -> &[Article] {
        &self.articles[..self.batch_len]
    }

    /// The id of the story at `position` in `stories`.
    pub fn story_id(&self, position: u32) -> u32 {
        self.story_ids
            .as_ref()
            .map_or(position, |ids| ids[position as usize])
    }

    /// With an index: whether story `id` began in an earlier batch.
    pub fn story_continued(&self, id: u32) -> Option<bool> {
        let index = self.index.as_ref()?;
        Some(id < index.index.next_story())
    }

    /// The batch (night) that indexed article `doc` came from, if it is one.
    pub fn earlier_batch(&self, doc: usize) -> Option<u32> {
        let index = self.index.as_ref()?;
        let i = doc.checked_sub(self.batch_len)?;
        Some(index.history.articles[i].batch)
    }

    /// Whether document `doc` is a copy an earlier night kept that tonight made a duplicate:
    /// an indexed article it kept (its cluster's kept copy, or in no cluster) whose cluster
    /// tonight keeps another copy of. A corpus built from the nights' `deduped.jsonl` holds it
    /// and should drop it.
    pub fn demoted(&self, doc: usize) -> bool {
        let Some(index) = self.index.as_ref() else {
            return false;
        };
        let Some(i) = doc.checked_sub(self.batch_len) else {
            return false;
        };
        self.clusters.cluster_of[doc].is_some_and(|c| {
            is_demoted(&self.clusters.clusters[c as usize], doc, i, &index.history)
        })
    }

    /// Adds tonight's batch to the index (after the outputs are written, so that a failure
    /// before leaves the index as it was and the night can be run again).
    pub fn commit_index(&mut self) -> Result<Option<CommitStats>> {
        let Some(index_run) = self.index.take() else {
            return Ok(None);
        };
        let n = self.batch_len;
        let has_shingles = &self.has_shingles;
        let story_of: Option<Vec<u32>> = self
            .stories
            .as_ref()
            .map(|s| s.story_of.iter().map(|&p| self.story_id(p)).collect());
        let story_updates: Vec<crate::index::StoryUpdate> = self
            .stories
            .as_ref()
            .map(|s| {
                s.stories
                    .iter()
                    .enumerate()
                    .map(|(p, st)| {
                        let (first, last) = story_span(st, &self.articles[..n]);
                        crate::index::StoryUpdate {
                            id: self.story_id(p as u32),
                            size: st.articles.len() as u64,
                            first,
                            last,
                            centroid: s.centroids.get(p).cloned().unwrap_or_default(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        // The index keeps each article's headline and link.
        let mut articles = Vec::with_capacity(n);
        self.headlines.for_each(
            |e| self.headline_error(e),
            |doc, h| {
                articles
                    .push(self.articles[doc].with_headline(h.title.as_deref(), h.url.as_deref()));
                Ok(())
            },
        )?;
        let verified_below_estimate = self.verified_below_estimate(index_run.threshold);
        let batch = crate::index::Batch {
            verified_below_estimate: &verified_below_estimate,
            articles: &articles,
            signatures: &self.signatures,
            has_shingles: &has_shingles[..n],
            clusters: &self.clusters,
            history: &index_run.history,
            story_of: story_of.as_deref(),
            story_updates: &story_updates,
            learned: &index_run.learned,
        };
        index_run
            .index
            .commit(&batch, index_run.max_age_days)
            .map(Some)
    }
}

/// Opens the inputs (spooling standard input into `spool_dir`).
pub fn open_inputs(paths: &[PathBuf], spool_dir: &std::path::Path) -> Result<Vec<Input>> {
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Error::Config(
            "standard input (-) can be read only once".into(),
        ));
    }
    let inputs: Vec<Input> = paths
        .iter()
        .map(|p| Input::open(p, spool_dir))
        .collect::<Result<_>>()?;
    // One file given twice (by any names, standard input redirected from it too) would make
    // every article of it a duplicate id.
    let ids: Vec<_> = paths
        .iter()
        .zip(&inputs)
        .map(|(given, input)| crate::outdir::file_id(&identity_path(given, input)))
        .collect();
    for (later, id) in ids.iter().enumerate() {
        if let Some(first) = id
            .as_ref()
            .and_then(|id| ids[..later].iter().position(|f| f.as_ref() == Some(id)))
        {
            let name = |p: &Path| match p.as_os_str() == "-" {
                true => "standard input".to_string(),
                false => p.display().to_string(),
            };
            return Err(Error::Config(format!(
                "input {} is the same file as input {}: give each input once",
                name(&paths[later]),
                name(&paths[first])
            )));
        }
    }
    Ok(inputs)
}

/// The path that tells which file an input is: the file read, or for standard input the file
/// it was redirected from (`/dev/stdin`, which the system resolves; a pipe matches no file).
pub fn identity_path(given: &Path, input: &Input) -> PathBuf {
    if given.as_os_str() == "-" && cfg!(unix) {
        PathBuf::from("/dev/stdin")
    } else {
        input.path().to_path_buf()
    }
}

/// Streams the inputs with, for each chunk, the range of `articles` whose lines it holds.
///
/// Fails if the inputs no longer hold every article where the first pass found it (a file
/// changed during the run).
pub fn for_each_article_chunk(
    inputs: &[Input],
    articles: &[Article],
    progress: &dyn Progress,
    mut f: impl FnMut(&Chunk, Range<usize>) -> Result<()>,
) -> Result<()> {
    let mut cursor = 0;
    for_each_chunk(inputs, |input, chunk| {
        let end_offset = chunk.offset + chunk.data.len() as u64;
        let start = cursor;
        while cursor < articles.len() {
            let loc = articles[cursor].location;
            if loc.input != chunk.input || loc.offset >= end_offset {
                break;
            }
            if loc.offset + u64::from(loc.len) > end_offset {
                return Err(changed(input, loc.line));
            }
            cursor += 1;
        }
        progress.advance(chunk.raw_bytes);
        progress.advance_articles((cursor - start) as u64);
        f(chunk, start..cursor)
    })?;
    match articles.get(cursor) {
        None => Ok(()),
        Some(missing) => Err(changed(
            &inputs[missing.location.input as usize],
            missing.location.line,
        )),
    }
}

/// Calls `f` with chunks holding the lines of the `wanted` articles (sorted, distinct document
/// numbers) and the part of `wanted` each chunk holds, in order.
///
/// When every input is uncompressed and the wanted lines are under half of the input, only the
/// byte ranges holding them are read, by offset (lines closer than 4 KiB share a read), on
/// a reader thread, into buffers kept from one pass to the next; otherwise the inputs are
/// streamed whole. Fails as [`for_each_article_chunk`] does if an input no longer holds a line
/// where the first pass found it.
pub fn for_each_wanted_article(
    inputs: &[Input],
    articles: &[Article],
    wanted: &[u32],
    progress: &dyn Progress,
    f: impl FnMut(&Chunk, &[u32]) -> Result<()>,
) -> Result<()> {
    let pool = &crate::ingest::READ_BUFFERS;
    for_each_wanted_article_pooled(inputs, articles, wanted, progress, pool, f)
}

/// [`for_each_wanted_article`] with the buffers of `pool` when it reads by offset.
fn for_each_wanted_article_pooled(
    inputs: &[Input],
    articles: &[Article],
    wanted: &[u32],
    progress: &dyn Progress,
    pool: &crate::ingest::BufferPool,
    mut f: impl FnMut(&Chunk, &[u32]) -> Result<()>,
) -> Result<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    if !reads_by_offset(inputs, articles, wanted) {
        let mut next = 0;
        return for_each_article_chunk(inputs, articles, progress, |chunk, range| {
            let first = next;
            while next < wanted.len() && (wanted[next] as usize) < range.end {
                next += 1;
            }
            f(chunk, &wanted[first..next])
        });
    }

    // Windows of nearby wanted lines: (first, end) into `wanted`.
    let mut windows: Vec<(usize, usize)> = Vec::new();
    let mut first = 0;
    for i in 1..=wanted.len() {
        let split = i == wanted.len() || {
            let a = &articles[wanted[first] as usize].location;
            let prev = &articles[wanted[i - 1] as usize].location;
            let next = &articles[wanted[i] as usize].location;
            let prev_end = prev.offset + u64::from(prev.len);
            next.input != a.input
                || next.offset > prev_end + READ_GAP
                || next.offset + u64::from(next.len) - a.offset > crate::ingest::CHUNK_BYTES as u64
        };
        if split {
            windows.push((first, i));
            first = i;
        }
    }

    // Batches of windows from one input, up to a chunk's size each: (first, end) into `windows`.
    let mut batches: Vec<(usize, usize)> = Vec::new();
    let mut first = 0;
    let mut bytes = 0u64;
    for (i, &(a, b)) in windows.iter().enumerate() {
        let start = &articles[wanted[a] as usize].location;
        let last = &articles[wanted[b - 1] as usize].location;
        let len = last.offset + u64::from(last.len) + 1 - start.offset;
        let input_of = |w: usize| articles[wanted[windows[w].0] as usize].location.input;
        if i > first
            && (bytes + len > crate::ingest::CHUNK_BYTES as u64 || input_of(first) != start.input)
        {
            batches.push((first, i));
            first = i;
            bytes = 0;
        }
        bytes += len;
    }
    batches.push((first, windows.len()));

    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<(Chunk, (usize, usize))>>(2);
        let (back_tx, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
        let windows = &windows;
        let reader = scope.spawn(move || {
            let mut files = crate::ingest::OpenInputs::new(inputs);
            // Progress: (input, offset up to which it is done).
            let mut position = (0u32, 0u64);
            for &(first, end) in &batches {
                let mut chunk = Chunk {
                    input: articles[wanted[windows[first].0] as usize].location.input,
                    data: recycled.try_recv().unwrap_or_else(|_| pool.take()),
                    ..Chunk::default()
                };
                chunk.data.clear();
                let mut read = Ok(());
                for &(a, b) in &windows[first..end] {
                    let (start, last) = (
                        &articles[wanted[a] as usize].location,
                        &articles[wanted[b - 1] as usize].location,
                    );
                    chunk.windows.push((start.offset, chunk.data.len()));
                    read = read_window(&mut files, start, last, &mut chunk.data);
                    if read.is_err() {
                        break;
                    }
                }
                // Progress: the input bytes up to the batch's end count as done.
                let (last_start, at) = *chunk.windows.last().expect("a batch has a window");
                let done = last_start + (chunk.data.len() - at) as u64;
                if position.0 != chunk.input {
                    position = (chunk.input, 0);
                }
                chunk.raw_bytes = done.saturating_sub(position.1);
                position.1 = done;
                let docs = (windows[first].0, windows[end - 1].1);
                let failed = read.is_err();
                if tx.send(read.map(|()| (chunk, docs))).is_err() || failed {
                    break;
                }
            }
            // Once the reader is joined every buffer is back in this channel, for the pool.
            recycled
        });
        let mut result = Ok(());
        for item in rx.iter() {
            let step = item.and_then(|(chunk, (first, end))| {
                let docs = &wanted[first..end];
                for &d in docs {
                    let loc = &articles[d as usize].location;
                    let end = chunk.position_of(loc.offset) + loc.len as usize;
                    // Each line still ends where it did: at a newline or at the end of the file
                    // (the last window read stops there).
                    if chunk.data.get(end).is_some_and(|&b| b != b'\n') {
                        return Err(changed(&inputs[loc.input as usize], loc.line));
                    }
                }
                progress.advance(chunk.raw_bytes);
                progress.advance_articles(docs.len() as u64);
                f(&chunk, docs)?;
                let _ = back_tx.send(chunk.data);
                Ok(())
            });
            if let Err(e) = step {
                result = Err(e);
                break;
            }
        }
        drop(rx);
        let recycled = reader.join().expect("the reader thread does not panic");
        recycled.try_iter().for_each(|buffer| pool.keep(buffer));
        result
    })
}

/// Whether [`for_each_wanted_article`] reads the `wanted` lines by offset rather than streaming
/// the inputs: every input is uncompressed and the lines are under half of the bytes.
pub fn reads_by_offset(inputs: &[Input], articles: &[Article], wanted: &[u32]) -> bool {
    let wanted_bytes: u64 = wanted
        .iter()
        .map(|&d| u64::from(articles[d as usize].location.len) + 1)
        .sum();
    let total: u64 = inputs.iter().map(Input::file_len).sum();
    inputs.iter().all(Input::is_plain) && wanted_bytes.saturating_mul(2) <= total
}

/// Wanted lines at most this many bytes apart are read with one read. A read costs about what
/// copying a few KiB does here: at 16 KiB the learned-boilerplate pass of the peers' corpus read
/// 94 MB to sign 17 MB of articles again; at 4 KiB, nine alternated runs twice, 2.8% and 3.8%
/// less wall time (1 KiB was no better).
const READ_GAP: u64 = 4 << 10;

/// Appends to `data` the bytes from the line at `first` to the newline after the line at `last`
/// (or the end of the file).
fn read_window(
    files: &mut crate::ingest::OpenInputs<'_>,
    first: &LineLocation,
    last: &LineLocation,
    data: &mut Vec<u8>,
) -> Result<()> {
    let (input, file, file_len) = files.get(first.input)?;
    let line_end = last.offset + u64::from(last.len);
    if line_end > file_len {
        return Err(changed(input, last.line));
    }
    // The newline after the last line too, unless that line ends the file.
    let end = (line_end + 1).min(file_len);
    let want = end - first.offset;
    // Read into the buffer's spare room, which `read_to_end` leaves unzeroed for a file (a
    // positioned read takes a zeroed slice: 1.1% of a run's instructions). The file is this
    // thread's own (`OpenInputs`), so its position is too.
    data.reserve(want as usize);
    let mut file = file;
    let read = std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(first.offset))
        .and_then(|_| std::io::Read::read_to_end(&mut std::io::Read::take(file, want), data));
    match read {
        Ok(n) if n as u64 == want => Ok(()),
        Ok(_) => Err(changed(input, last.line)),
        Err(e) => Err(Error::io(&input.name, e)),
    }
}

/// The error for an article whose line no longer is what the first pass read.
pub fn input_changed(inputs: &[Input], article: &Article) -> Error {
    changed(
        &inputs[article.location.input as usize],
        article.location.line,
    )
}

fn changed(input: &Input, line: u32) -> Error {
    Error::io(
        &input.name,
        std::io::Error::other(format!(
            "the input changed while storyhash was reading it (line {line} is no longer what and where it was)"
        )),
    )
}

/// The line of an article inside the chunk that holds it, without its line end.
pub fn article_line<'c>(chunk: &'c Chunk, article: &Article) -> &'c [u8] {
    let line = article_raw_line(chunk, article);
    let line = if article.location.offset == 0 {
        line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
    } else {
        line
    };
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The line of an article exactly as the input has it (a carriage return included), without
/// the newline.
pub fn article_raw_line<'c>(chunk: &'c Chunk, article: &Article) -> &'c [u8] {
    let start = chunk.position_of(article.location.offset);
    &chunk.data[start..start + article.location.len as usize]
}

/// Per-thread buffers for shingling.
#[derive(Default)]
struct Scratch {
    canonical: String,
    token: Vec<u8>,
    token_hashes: Vec<u64>,
    shingle: ShingleScratch,
    hashes: Vec<u64>,
    /// One signature's 32-bit slots, before they are folded.
    signature: Vec<u32>,
}

/// What normalizing and shingling needs besides the text.
struct ShingleStage<'a> {
    fields: &'a FieldNames,
    shingle: ShingleConfig,
    /// The word hash with its seed.
    words: WordHasher,
    /// The text is the headline (`--text-field title`): one that reads as boilerplate
    /// ("PHOTO: First look at …") keeps all its words rather than none.
    headlines: bool,
}

impl<'a> ShingleStage<'a> {
    fn of(config: &'a DedupConfig) -> ShingleStage<'a> {
        ShingleStage {
            fields: &config.fields,
            shingle: config.shingle,
            words: config.shingle.word_hasher(),
            headlines: config.fields.text == config.fields.title,
        }
    }

    /// With headlines for text: when the rules left `scratch.token_hashes` empty, the hashes
    /// of every word of `text` ([`for_each_word`]).
    fn headline_words(&self, text: &str, scratch: &mut Scratch) {
        if self.headlines && scratch.token_hashes.is_empty() {
            let hasher = self.words;
            let hashes = &mut scratch.token_hashes;
            for_each_word(text, &mut scratch.token, |t| {
                hashes.push(hasher.hash_word(t))
            });
        }
    }

    /// The shingle hashes of one parsed record, in `scratch.hashes`.
    fn shingle(&self, record: &Record<'_>, learned: &LearnedBoilerplate, scratch: &mut Scratch) {
        let text = record.text.as_deref().unwrap_or("");
        scratch.hashes.clear();
        match self.shingle.kind {
            // Words: each token hashed as it is cut, no canonical text built.
            ShingleKind::Word => {
                let hasher = self.words;
                let token_hashes = &mut scratch.token_hashes;
                token_hashes.clear();
                for_each_token(text, learned, &mut scratch.token, |t| {
                    token_hashes.push(hasher.hash_word(t))
                });
                self.headline_words(text, scratch);
                grams_from_token_hashes(&scratch.token_hashes, &self.shingle, &mut scratch.hashes);
            }
            ShingleKind::Char => {
                canonical_text(text, learned, &mut scratch.canonical);
                if scratch.canonical.is_empty() && self.headlines {
                    canonical_words(text, &mut scratch.canonical);
                }
                shingles(
                    &scratch.canonical,
                    &self.shingle,
                    &mut scratch.shingle,
                    &mut scratch.hashes,
                );
            }
        }
    }

    /// [`ShingleStage::shingle`] without learned boilerplate (the scan's: `nothing_learned` is
    /// empty), and, if `learn`, the article's lines sampled for the learner: in the same pass
    /// over its lines for word shingles.
    fn shingle_sampled(
        &self,
        record: &Record<'_>,
        learn: bool,
        nothing_learned: &LearnedBoilerplate,
        scratch: &mut Scratch,
    ) -> Option<LineSample> {
        if !learn || self.shingle.kind != ShingleKind::Word {
            let sample = learn.then(|| {
                LineSample::of(
                    record.text.as_deref().unwrap_or(""),
                    record.source.as_deref(),
                )
            });
            self.shingle(record, nothing_learned, scratch);
            return sample;
        }
        let text = record.text.as_deref().unwrap_or("");
        let hasher = self.words;
        let token_hashes = &mut scratch.token_hashes;
        token_hashes.clear();
        let sample =
            for_each_token_sampled(text, record.source.as_deref(), &mut scratch.token, |t| {
                token_hashes.push(hasher.hash_word(t))
            });
        self.headline_words(text, scratch);
        scratch.hashes.clear();
        grams_from_token_hashes(&scratch.token_hashes, &self.shingle, &mut scratch.hashes);
        Some(sample)
    }

    /// The shingle hashes of an accepted article's line, in `scratch.hashes`; false if the line
    /// no longer parses (the input changed).
    ///
    /// `text_buf` holds the text when it has escapes, reused from line to line.
    fn shingle_line(
        &self,
        line: &[u8],
        learned: &LearnedBoilerplate,
        text_buf: &mut String,
        scratch: &mut Scratch,
    ) -> bool {
        // The scan accepted the line: if it no longer parses, the input changed since.
        let Ok(record) = parse_record_in(line, self.fields, text_buf) else {
            return false;
        };
        self.shingle(&record, learned, scratch);
        true
    }
}

/// Runs the near-duplicate pipeline over `inputs`.
pub fn dedup(
    inputs: Vec<Input>,
    config: &DedupConfig,
    progress: &dyn Progress,
) -> Result<DedupRun> {
    let index = open_index(config)?;
    dedup_with_index(inputs, config, index, progress)
}

/// Opens (and locks) the index `config` names, if any. The binary does this before it opens
/// the inputs, so that a second writer is refused at once, even while standard input is read.
pub fn open_index(config: &DedupConfig) -> Result<Option<Index>> {
    let lsh = config.validate()?;
    config
        .index
        .as_ref()
        .map(|ic| {
            let given = config.bands_rows.is_some();
            Index::open_for_update(&ic.dir, IndexParams::of(config, &lsh), given)
        })
        .transpose()
}

/// [`dedup`] with the index already opened by [`open_index`] (`None` without one).
pub fn dedup_with_index(
    inputs: Vec<Input>,
    config: &DedupConfig,
    index: Option<Index>,
    progress: &dyn Progress,
) -> Result<DedupRun> {
    if index.is_some() != config.index.is_some() {
        return Err(Error::Config(
            "the index given does not match the configuration's".into(),
        ));
    }
    // An index's signatures are comparable only with signatures that hash words as they did:
    // the run takes the index's word hash (`xxh3` for an index built before format version 3).
    // Its band keys only with band keys cut as they were: a run that was given no bands and
    // rows takes the index's (an index built before 2026-11-28 has 18 × 7 at the defaults).
    let chosen = config.validate()?;
    if let (Some(index), Some(given)) = (&index, config.bands_rows)
        && index.bands_rows() != given
    {
        // `open_index` refuses these; a caller that opened the index itself may not have.
        let (b, r) = index.bands_rows();
        return Err(Error::Config(format!(
            "the index was built with other parameters; this run has --bands {} (index: {b}), --rows {} (index: {r}). Use the index's parameters or another --index directory",
            given.0, given.1
        )));
    }
    let adopted;
    let config = match &index {
        Some(index)
            if index.token_hash() != config.shingle.token_hash
                || (config.bands_rows.is_none()
                    && index.bands_rows() != (chosen.bands, chosen.rows)) =>
        {
            adopted = DedupConfig {
                shingle: ShingleConfig {
                    token_hash: index.token_hash(),
                    ..config.shingle
                },
                bands_rows: config.bands_rows.or(Some(index.bands_rows())),
                ..config.clone()
            };
            &adopted
        }
        _ => config,
    };
    let lsh = config.validate()?;
    let mut timings = Vec::new();
    let total_bytes: u64 = inputs.iter().map(Input::file_len).sum();
    let stage = ShingleStage::of(config);
    let hasher = MinHasher::new(config.sketch, config.num_perm, config.shingle.seed);

    // The index, when there is one: locked for the whole run; its ids are taken.
    let clock = Instant::now();
    let indexed_ids = match &index {
        Some(index) if !index.is_empty() => Some(index.ids()?),
        _ => None,
    };
    if index.is_some() {
        timings.push(("index_open", clock.elapsed().as_secs_f64()));
    }

    // One pass: validate every line, keep metadata, sign, gather lines for learning.
    let clock = Instant::now();
    progress.start("signatures", Some(total_bytes));
    // Without an index, full signatures wait on disk until candidates are known, and
    // headlines until the outputs are written (an index run stores them all, and nightly
    // batches are small).
    let spill = match (&config.spill_dir, &index) {
        (Some(dir), None) => {
            let file = || tempfile::tempfile_in(dir).map_err(|e| Error::io(dir, e));
            Some((file()?, file()?, file()?))
        }
        _ => None,
    };
    let mut scanned = scan_and_sign(
        &inputs,
        config,
        (&stage, &hasher, &lsh),
        indexed_ids.as_deref(),
        spill,
        crate::ingest::MAX_LINES,
        progress,
    )?;
    drop(indexed_ids);
    progress.finish();
    timings.push(("scan_and_sign", clock.elapsed().as_secs_f64()));

    // Learned boilerplate: re-sign only the articles that hold a learned line.
    let clock = Instant::now();
    let mut learned = scanned.learner.finish(config.boilerplate_min_docs);
    let holding = |learned: &LearnedBoilerplate| -> Vec<u32> {
        (0..scanned.articles.len() as u32)
            .into_par_iter()
            .filter(|&d| scanned.line_keys.any_in(d as usize, learned))
            .collect()
    };
    let mut affected = if learned.is_empty() {
        Vec::new()
    } else {
        holding(&learned)
    };
    let k_slots = config.num_perm;
    let unlearned = drop_lines_of_copies(
        &mut learned,
        &affected,
        &scanned.articles,
        &scanned.line_keys,
        &scanned.signatures,
        config.boilerplate_min_docs,
        config.cluster.threshold - crate::verify::auto_margin(config.cluster.threshold, k_slots),
    )
    .map_err(|e| spill_error(config, e))?;
    if !unlearned.is_empty() {
        affected.retain(|&d| scanned.line_keys.any_in(d as usize, &learned));
    }
    // Without learning, no article's lines were sampled, so none could be signed again: the
    // lines an index learned on earlier nights are not used either (the index keeps them).
    if let Some(index) = index
        .as_ref()
        .filter(|i| config.learn_boilerplate && !i.learned_keys().is_empty())
    {
        learned.extend_keys(index.learned_keys());
        affected = holding(&learned);
    }
    // Lines an earlier night learned are removed whatever tonight's articles say.
    scanned.stats.copy_lines_not_learned = unlearned
        .iter()
        .filter(|&&k| !learned.contains_key(k))
        .count();
    scanned.stats.learned_boilerplate_lines = learned.len();
    if !learned.is_empty() {
        scanned.stats.relearned_articles = affected.len() as u64;
        if !affected.is_empty() {
            progress.start("boilerplate", Some(total_bytes));
            let k = config.num_perm;
            let (articles, signatures) = (&scanned.articles, &mut scanned.signatures);
            let band_keys = &mut scanned.band_keys;
            let has_shingles = &mut scanned.has_shingles;
            let mut block: Vec<u32> = Vec::new();
            let (mut folded, mut keys): (Vec<Slot>, Vec<u32>) = Default::default();
            // Per article: whether it has shingles; `None` if its line no longer parses.
            let mut nonempty: Vec<Option<bool>> = Vec::new();
            for_each_wanted_article(&inputs, articles, &affected, progress, |chunk, wanted| {
                block.clear();
                block.resize(wanted.len() * k, 0);
                nonempty.clear();
                nonempty.resize(wanted.len(), None);
                block
                    .par_chunks_mut(k)
                    .zip(nonempty.par_iter_mut())
                    .zip(wanted)
                    .for_each_init(
                        Default::default,
                        |(text_buf, scratch), ((sig, has), &doc)| {
                            let line = article_line(chunk, &articles[doc as usize]);
                            if stage.shingle_line(line, &learned, text_buf, scratch) {
                                *has = Some(!scratch.hashes.is_empty());
                                hasher.sign(&scratch.hashes, sig);
                            }
                        },
                    );
                keys.clear();
                for (i, &doc) in wanted.iter().enumerate() {
                    let Some(has) = nonempty[i] else {
                        return Err(input_changed(&inputs, &articles[doc as usize]));
                    };
                    has_shingles[doc as usize] = has;
                    folded.clear();
                    folded.extend(block[i * k..(i + 1) * k].iter().map(|&v| fold_slot(v)));
                    keys.extend(band_keys_of(&folded, &lsh));
                }
                // Whole batches: rows in the spill files are written a run at a time.
                signatures
                    .set_many(wanted, &block)
                    .and_then(|()| band_keys.set_many(wanted, &keys))
                    .map_err(|e| spill_error(config, e))
            })?;
            progress.finish();
        }
    }
    drop(scanned.line_keys);
    // The learner's tables, the ids' table and the lines sampled are gone.
    if let Some(release) = config.release_memory {
        release();
    }
    timings.push(("boilerplate", clock.elapsed().as_secs_f64()));
    let ScanOutput {
        mut articles,
        headlines,
        rejects,
        mut signatures,
        band_keys,
        has_shingles,
        terms,
        mut stats,
        ..
    } = scanned;
    stats.no_shingles = has_shingles.iter().filter(|&&h| !h).count() as u64;
    // A night without a word in any article was read from the wrong field (headlines without
    // `--text-field title`): indexed, its ids would be taken for good, and it could never be
    // run again the right way. It is refused before anything is written.
    if index.is_some() && !articles.is_empty() && stats.no_shingles == articles.len() as u64 {
        let first = &articles[0].location;
        return Err(Error::BadRecord {
            path: inputs[first.input as usize].name.clone(),
            line: u64::from(first.line),
            reason: format!(
                "no article of tonight's {} has a word in its `{}` field (headlines: --text-field title); nothing was added to the index",
                articles.len(),
                config.fields.text
            ),
        });
    }

    // Candidates.
    let clock = Instant::now();
    let found = candidates(&band_keys, &has_shingles, &lsh).map_err(|e| spill_error(config, e))?;
    drop(band_keys);
    stats.candidate_pairs = found.pairs.len() as u64;
    stats.huge_buckets = found.huge_buckets as u64;
    stats.largest_bucket = found.largest_bucket as u64;
    timings.push(("candidates", clock.elapsed().as_secs_f64()));

    // Verification.
    let clock = Instant::now();
    let threshold = config.cluster.threshold;
    // A run that spilled its signatures reads back those of the candidates for triage, part
    // by part, and none stays for exact verification, which holds shingle sets instead.
    let read_back = signatures.is_spilled();
    let sorted = if read_back {
        crate::verify::triage_read_back(
            &found.pairs,
            &mut signatures,
            config.part_bytes,
            threshold,
            config.verify,
        )
        .map_err(|e| spill_error(config, e))?
    } else {
        triage(&found.pairs, &signatures, threshold, config.verify)
    };
    drop(found);
    stats.accepted_on_estimate = sorted.accepted.len() as u64;
    stats.rejected_on_estimate = sorted.rejected as u64;
    stats.exact_checked = sorted.ambiguous.len() as u64;
    let mut edges = sorted.accepted;
    // With an index: pairs that hold an earlier night's clusters together, for clustering
    // only (they are no verified pairs of tonight's).
    let mut links: Vec<(u32, u32)> = Vec::new();
    if !sorted.ambiguous.is_empty() {
        progress.start("exact check", Some(total_bytes));
        let accepted = exact_accepted(
            &inputs,
            &articles,
            (&stage, &learned),
            &sorted.ambiguous,
            threshold,
            progress,
        )?;
        progress.finish();
        stats.exact_accepted = accepted.len() as u64;
        edges.extend(accepted);
    }
    edges.sort_unstable();
    stats.verified_pairs = edges.len() as u64;
    // Exact verification's shingle sets are gone.
    if let Some(release) = config.release_memory {
        release();
    }
    timings.push(("verify", clock.elapsed().as_secs_f64()));

    // Against the index: tonight's articles that match indexed ones; those join the run
    // after tonight's, linked to their clusters' kept copies.
    let batch_len = articles.len();
    let mut history = None;
    // Pairs of indexed articles an earlier night verified though their estimate is below the
    // threshold (on exact Jaccard): near each other, as tonight's verified pairs are.
    let mut verified_before: Vec<(u32, u32)> = Vec::new();
    if let Some(index) = &index {
        let clock = Instant::now();
        let found = index.match_batch(&signatures, &has_shingles, &lsh, threshold)?;
        let index_stats = IndexRunStats {
            batches_before: index.batches(),
            articles_before: index.len(),
            candidate_pairs: found.candidate_pairs,
            accepted_pairs: found.edges.len() as u64,
            ids_already_indexed: stats.index.as_ref().map_or(0, |s| s.ids_already_indexed),
            ..IndexRunStats::default()
        };
        stats.index = Some(index_stats);
        let mut by_cluster: BTreeMap<u32, u32> = BTreeMap::new();
        for (i, (a, sig)) in found.articles.iter().zip(&found.signatures).enumerate() {
            let doc = (batch_len + i) as u32;
            articles.push(a.article.clone());
            signatures.push_folded(sig);
            // Indexed articles of one cluster stay together.
            if let Some(c) = a.cluster {
                match by_cluster.get(&c) {
                    Some(&first) => links.push((first, doc)),
                    None => {
                        by_cluster.insert(c, doc);
                    }
                }
            }
        }
        // Pairs decided on an estimate near the threshold join tonight's article to an earlier
        // cluster, but never merge two of them (see `hold_uncertain_bridges_apart`).
        let margin = match config.verify {
            VerifyMode::Estimate => 0.0,
            VerifyMode::Auto => auto_margin(threshold, config.num_perm),
            VerifyMode::Exact => f64::INFINITY,
        };
        let cross: Vec<(u32, u32, f64)> = found
            .edges
            .iter()
            .map(|&(d, e)| {
                let est =
                    estimate_jaccard(signatures.get(d as usize), &found.signatures[e as usize]);
                (d, batch_len as u32 + e, est)
            })
            .collect();
        let held = hold_uncertain_bridges_apart(
            batch_len,
            &found.kept,
            &edges,
            &links,
            cross,
            threshold + margin,
        );
        if let Some(index_stats) = stats.index.as_mut() {
            index_stats.bridges_held_apart = held.held_apart;
        }
        links = held.links;
        edges.extend(held.cross);
        edges.sort_unstable();
        edges.dedup();
        verified_before.extend(found.verified.iter().map(|&(a, b)| {
            let (a, b) = (batch_len as u32 + a, batch_len as u32 + b);
            (a.min(b), a.max(b))
        }));
        verified_before.sort_unstable();
        verified_before.dedup();
        history = Some(found);
        timings.push(("index_match", clock.elapsed().as_secs_f64()));
    }

    // Clusters.
    let clock = Instant::now();
    // Estimates from the rows in memory, or (a run that spilled them) read back part by part
    // for each batch of pairs asked, as triage did.
    let (mut in_memory, mut from_file);
    let estimates: &mut dyn PairEstimates = if read_back {
        from_file = ReadBack {
            sigs: &mut signatures,
            part_bytes: config.part_bytes,
        };
        &mut from_file
    } else {
        in_memory = &signatures;
        &mut in_memory
    };
    let clusters = match &history {
        None => cluster_with(
            &articles,
            estimates,
            &edges,
            &links,
            &[],
            &config.cluster,
            &|_| None,
        ),
        Some(found) => {
            let kept_of = |members: &[u32]| kept_indexed(members, batch_len, found);
            cluster_with(
                &articles,
                estimates,
                &edges,
                &links,
                &verified_before,
                &config.cluster,
                &kept_of,
            )
        }
    };
    let mut clusters = clusters.map_err(|e| spill_error(config, e))?;
    if let (Some(found), Some(index)) = (&history, &index) {
        number_clusters(&mut clusters, batch_len, found, index.next_cluster());
        // Tonight's articles whose cluster holds indexed articles (its kept copy is one of
        // them): those that match one, and those that join through a copy of tonight's. The
        // matches alone were counted before, fewer than articles.jsonl's `earlier_batch`.
        let with_earlier: Vec<bool> = clusters
            .clusters
            .iter()
            .map(|c| c.members.iter().any(|&d| d as usize >= batch_len))
            .collect();
        if let Some(index_stats) = stats.index.as_mut() {
            index_stats.duplicates_of_earlier = clusters.cluster_of[..batch_len]
                .iter()
                .filter(|c| c.is_some_and(|c| with_earlier[c as usize]))
                .count() as u64;
            index_stats.earlier_kept_demoted = clusters
                .clusters
                .iter()
                .flat_map(|c| c.members.iter().map(move |&d| (c, d as usize)))
                .filter(|&(c, d)| d >= batch_len && is_demoted(c, d, d - batch_len, found))
                .count() as u64;
        }
    }
    // The report's chart of verified pairs needs their estimates; after those, a run that
    // spilled its signatures needs none of them (an index run stores them all).
    let edge_similarity = estimates
        .estimates(&edges)
        .map_err(|e| spill_error(config, e))?;
    if config.spill_dir.is_some() && index.is_none() {
        signatures = Signatures::new(config.num_perm);
    }
    timings.push(("cluster", clock.elapsed().as_secs_f64()));

    // Stories (tonight's articles). When the text field is the headline field, the input is
    // headlines: no lead beyond the title, and the headline defaults.
    let headline_text = config.fields.text == config.fields.title;
    let story_config = config.stories.as_ref().map(|sc| {
        if headline_text {
            StoryConfig {
                lead_chars: 0,
                threshold: sc.threshold.or(Some(crate::story::HEADLINE_THRESHOLD)),
                link_threshold: sc.link_threshold.or(Some(f64::INFINITY)),
                ..sc.clone()
            }
        } else {
            sc.clone()
        }
    });
    let mut stories = story_config.as_ref().map(|story_config| {
        let clock = Instant::now();
        let stories = if history.is_some() {
            let tonight = clusters.restricted(batch_len);
            let with_centroids = StoryConfig {
                centroids: true,
                ..story_config.clone()
            };
            cluster_stories(&articles[..batch_len], &terms, &tonight, &with_centroids)
        } else {
            cluster_stories(&articles, &terms, &clusters, story_config)
        };
        timings.push(("stories", clock.elapsed().as_secs_f64()));
        stories
    });
    drop(terms);
    let mut story_ids = None;
    if let (Some(stories), Some(found), Some(index)) = (stories.as_mut(), &history, &index) {
        story_ids = Some(number_stories(
            stories,
            &articles,
            &clusters,
            batch_len,
            found,
            index,
            // The headline defaults too: `--text-field title` links no stories by their terms.
            story_config.as_ref().map_or(f64::INFINITY, |s| {
                s.resolved_link_threshold(&articles[..batch_len])
            }),
        ));
    }
    let index = match (index, history) {
        (Some(index), Some(history)) => Some(IndexRun {
            learned: if config.learn_boilerplate {
                learned.keys()
            } else {
                index.learned_keys().to_vec()
            },
            index,
            history,
            max_age_days: config.index.as_ref().and_then(|c| c.max_age_days),
            threshold,
        }),
        _ => None,
    };

    Ok(DedupRun {
        inputs,
        articles,
        headlines,
        batch_len,
        has_shingles,
        rejects,
        signatures,
        lsh,
        token_hash: config.shingle.token_hash,
        learned,
        edges,
        verified_before,
        edge_similarity,
        clusters,
        stories,
        story_ids,
        stats,
        timings,
        index,
    })
}

/// Gives the stories of an index run their ids: a story at least half of whose articles are
/// duplicates of indexed articles of one old story joins that story; a story the centroids
/// link to an old one joins it (stories joining the same one become one); the others get new
/// ids from `next` in order. Returns the id of each story, by position.
fn number_stories(
    stories: &mut Stories,
    articles: &[Article],
    clusters: &Clusters,
    batch_len: usize,
    found: &HistoryMatch,
    index: &Index,
    link_threshold: f64,
) -> Vec<u32> {
    // A cluster that holds indexed articles points at the old story most of them are in. A
    // story continues the old story most of its articles' clusters point at, when those
    // articles are at least half of it: a few copies in a story are no evidence that it goes
    // on an old one (headlines such as "10 things to know this morning" recur every day), and
    // tonight's stories that continue the same old one merge.
    let old_of_cluster: Vec<Option<u32>> = clusters
        .clusters
        .iter()
        .map(|c| {
            most_common(
                c.members
                    .iter()
                    .filter(|&&d| d as usize >= batch_len)
                    .filter_map(|&d| found.articles[d as usize - batch_len].story),
            )
            .map(|(story, _)| story)
        })
        .collect();
    let mut old: Vec<Option<u32>> = stories
        .stories
        .iter()
        .map(|st| {
            most_common(
                st.articles
                    .iter()
                    .filter_map(|&d| old_of_cluster[clusters.cluster_of[d as usize]? as usize]),
            )
            .filter(|&(_, articles)| articles * 2 >= st.articles.len())
            .map(|(story, _)| story)
        })
        .collect();
    // The others join the old story whose centroid is most like theirs, if any is enough so.
    if !stories.centroids.is_empty() {
        let spans: Vec<(Option<i64>, Option<i64>)> = stories
            .stories
            .iter()
            .map(|st| story_span(st, articles))
            .collect();
        let linked = index.link_stories(&stories.centroids, &spans, link_threshold);
        for (o, l) in old.iter_mut().zip(linked) {
            if o.is_none() {
                *o = l;
            }
        }
    }
    // Stories that join the same old story merge into the first of them.
    let mut first_with: BTreeMap<u32, usize> = BTreeMap::new();
    let mut merged: Vec<crate::story::Story> = Vec::new();
    let mut ids: Vec<u32> = Vec::new();
    let mut position: Vec<usize> = Vec::with_capacity(stories.stories.len());
    let mut next = index.next_story();
    let mut centroids = std::mem::take(&mut stories.centroids).into_iter();
    let mut merged_centroids: Vec<Vec<(u64, f32)>> = Vec::new();
    for (st, old) in std::mem::take(&mut stories.stories).into_iter().zip(old) {
        let centroid = centroids.next().unwrap_or_default();
        match old.and_then(|o| first_with.get(&o).map(|&p| (o, p))) {
            Some((_, p)) => {
                let (a, b) = (merged[p].articles.len() as f32, st.articles.len() as f32);
                if let Some(c) = merged_centroids.get_mut(p) {
                    *c = crate::story::weighted_sum(c, a, &centroid, b);
                }
                merged[p].articles.extend(st.articles);
                position.push(p);
            }
            None => {
                let id = old.unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
                if let Some(o) = old {
                    first_with.insert(o, merged.len());
                }
                position.push(merged.len());
                merged.push(st);
                merged_centroids.push(centroid);
                ids.push(id);
            }
        }
    }
    for st in &mut merged {
        st.articles.sort_unstable();
    }
    for s in &mut stories.story_of {
        *s = position[*s as usize] as u32;
    }
    stories.stats.multi_article_stories =
        merged.iter().filter(|s| s.articles.len() > 1).count() as u64;
    stories.stories = merged;
    if !merged_centroids.iter().all(Vec::is_empty) {
        stories.centroids = merged_centroids;
    }
    ids
}

/// The most frequent of `ids` (the smallest of those as frequent) and how often it occurs;
/// `None` if there are none.
fn most_common(ids: impl Iterator<Item = u32>) -> Option<(u32, usize)> {
    let mut ids: Vec<u32> = ids.collect();
    ids.sort_unstable();
    ids.chunk_by(|a, b| a == b)
        .fold(None, |best: Option<&[u32]>, run| match best {
            Some(b) if b.len() >= run.len() => Some(b),
            _ => Some(run),
        })
        .map(|run| (run[0], run.len()))
}

/// The first and last publication dates of a story's articles.
fn story_span(story: &crate::story::Story, articles: &[Article]) -> (Option<i64>, Option<i64>) {
    let dates = story
        .articles
        .iter()
        .filter_map(|&d| articles[d as usize].published());
    (dates.clone().min(), dates.max())
}

/// Whether document `doc`, the `i`-th indexed article matched (`found.articles[i]`), a member
/// of `cluster`, is a copy an earlier night kept that the cluster no longer keeps.
fn is_demoted(
    cluster: &crate::cluster::Cluster,
    doc: usize,
    i: usize,
    found: &HistoryMatch,
) -> bool {
    found.kept[i] && cluster.canonical as usize != doc
}

/// Tonight's accepted pairs with indexed articles `(doc, indexed doc, estimate)`, in the run's
/// document numbering (indexed articles after tonight's `batch_len`, `kept` telling which of
/// them an earlier night kept), less those that would bridge two clusters an earlier night
/// held apart on an estimate below `sure` (the threshold plus the margin in which `--verify
/// auto` checks tonight's own pairs on their texts); and how many were left out. `joined`
/// holds tonight's verified pairs and the links that hold each earlier cluster together.
///
/// A bridge demotes the younger cluster's kept copy, which its night already wrote to its
/// `deduped.jsonl`. On an estimate near the threshold, where the index holds no texts to check
/// it, the bridge may be wrong: three wire copies of one story, two of them held apart on
/// exact Jaccard one night and the third near both the next, demoted one of the two and so
/// lost its text from a corpus that drops demoted copies. So the components are first joined
/// by `joined` and the pairs at or above `sure`; the other pairs follow, the highest estimate
/// first, and each joins its two components unless both already hold a copy an earlier night
/// kept. An earlier cluster that no pair joins to tonight's articles then loses its links, and
/// its articles are in no cluster of tonight's: every cluster of a run holds one of tonight's
/// articles.
fn hold_uncertain_bridges_apart(
    batch_len: usize,
    kept: &[bool],
    tonight: &[(u32, u32)],
    links: &[(u32, u32)],
    cross: Vec<(u32, u32, f64)>,
    sure: f64,
) -> HeldApart {
    let n = batch_len + kept.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn root(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let up = parent[parent[x as usize] as usize];
            parent[x as usize] = up;
            x = up;
        }
        x
    }
    // Per root: whether its component holds a copy an earlier night kept.
    let mut holds_kept: Vec<bool> = (0..n)
        .map(|d| d >= batch_len && kept[d - batch_len])
        .collect();
    fn join(parent: &mut [u32], holds_kept: &mut [bool], a: u32, b: u32) {
        let (ra, rb) = (root(parent, a), root(parent, b));
        if ra != rb {
            parent[rb as usize] = ra;
            holds_kept[ra as usize] |= holds_kept[rb as usize];
        }
    }
    for &(a, b) in tonight.iter().chain(links) {
        join(&mut parent, &mut holds_kept, a, b);
    }
    let (sure_pairs, mut unsure): (Vec<_>, Vec<_>) =
        cross.into_iter().partition(|&(_, _, est)| est >= sure);
    for &(a, b, _) in &sure_pairs {
        join(&mut parent, &mut holds_kept, a, b);
    }
    unsure.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    let mut kept_edges: Vec<(u32, u32)> = sure_pairs.iter().map(|&(a, b, _)| (a, b)).collect();
    let mut held_apart = 0;
    for (a, b, _) in unsure {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb && holds_kept[ra as usize] && holds_kept[rb as usize] {
            held_apart += 1;
            continue;
        }
        join(&mut parent, &mut holds_kept, a, b);
        kept_edges.push((a, b));
    }
    kept_edges.sort_unstable();
    let mut has_tonight = vec![false; n];
    for d in 0..batch_len as u32 {
        let r = root(&mut parent, d);
        has_tonight[r as usize] = true;
    }
    let links = links
        .iter()
        .copied()
        .filter(|&(a, _)| has_tonight[root(&mut parent, a) as usize])
        .collect();
    HeldApart {
        cross: kept_edges,
        links,
        held_apart,
    }
}

/// What [`hold_uncertain_bridges_apart`] keeps.
#[derive(Debug, PartialEq)]
struct HeldApart {
    /// The pairs with indexed articles that stand, sorted.
    cross: Vec<(u32, u32)>,
    /// The links of the earlier clusters that tonight's articles joined.
    links: Vec<(u32, u32)>,
    /// How many pairs were left out.
    held_apart: u64,
}

/// The kept copy of a component that holds indexed articles: the one an earlier night kept
/// for the oldest (smallest-id) cluster among them, else the first indexed article.
fn kept_indexed(members: &[u32], batch_len: usize, found: &HistoryMatch) -> Option<u32> {
    members
        .iter()
        .filter(|&&d| d as usize >= batch_len)
        .min_by_key(|&&d| {
            let a = &found.articles[d as usize - batch_len];
            (
                a.cluster.unwrap_or(u32::MAX),
                !found.kept[d as usize - batch_len],
                a.g,
            )
        })
        .copied()
}

/// Gives the clusters of an index run their ids: the oldest indexed cluster among their
/// members, or new ids from `next` in order.
fn number_clusters(clusters: &mut Clusters, batch_len: usize, found: &HistoryMatch, next: u32) {
    let mut next = next;
    for c in &mut clusters.clusters {
        let old = c
            .members
            .iter()
            .filter(|&&d| d as usize >= batch_len)
            .filter_map(|&d| found.articles[d as usize - batch_len].cluster)
            .min();
        c.id = old.unwrap_or_else(|| {
            next += 1;
            next - 1
        });
    }
}

/// The short-line keys of every article, flat, for finding the articles a learned line touches.
#[derive(Default)]
struct LineKeys {
    keys: Vec<u64>,
    /// `keys[ends[d-1]..ends[d]]` belong to article `d`.
    ends: Vec<u32>,
}

impl LineKeys {
    fn push(&mut self, sample: Option<&LineSample>) {
        if let Some(sample) = sample {
            self.keys.extend(sample.keys());
        }
        self.ends.push(self.keys.len() as u32);
    }

    /// The keys of article `doc`'s short lines.
    fn of(&self, doc: usize) -> &[u64] {
        let start = if doc == 0 {
            0
        } else {
            self.ends[doc - 1] as usize
        };
        &self.keys[start..self.ends[doc] as usize]
    }

    fn any_in(&self, doc: usize, learned: &LearnedBoilerplate) -> bool {
        self.of(doc).iter().any(|&k| learned.contains_key(k))
    }
}

/// Unlearns the lines of `learned` that are not in `min_docs` different articles of one
/// outlet once copies of one article count once, and returns their keys, sorted; `docs` are
/// the articles that hold a line of `learned`, ascending. Two articles are copies when their
/// first-pass signatures agree on `same_article` of their slots: the run's threshold less the
/// estimate's margin (`verify::auto_margin`), so that the articles that are near-duplicates
/// at this run's threshold, or may be, keep the lines that make them so.
///
/// The learner tells articles apart by their other short lines only (`LineSample`): in an
/// article without a line over 200 bytes, one edited line (a re-scrape, "Staff contributed to
/// this report.") made a copy a new article, so the bodies of five re-scraped copies were
/// learned and removed, from those copies and from every other article that has them, and the
/// copies no longer matched. Here each learned line's articles are taken in order, per outlet
/// as the learner counts them, and one counts only when its signature (before any learned line
/// was removed) agrees with none of the outlet's articles counted before on `same_article` of
/// its slots. A footer reaches `min_docs` within its first few articles; only the lines that do
/// not are read to the end.
///
/// Re-scrapes that each edit a different line of ten short paragraphs agree on about 0.81 to
/// 0.87 of their slots, and short articles whose shared footer is five sixths of their text on
/// about as much: the two look alike, and such articles are near-duplicates either way, as
/// plain MinHash finds them. (At 0.9 the re-scrapes lost their shared lines again; at 0.5,
/// articles with a footer of half their text kept it.)
fn drop_lines_of_copies(
    learned: &mut LearnedBoilerplate,
    docs: &[u32],
    articles: &[Article],
    line_keys: &LineKeys,
    signatures: &Signatures,
    min_docs: usize,
    same_article: f64,
) -> std::io::Result<Vec<u64>> {
    if learned.is_empty() {
        return Ok(Vec::new());
    }
    let min_docs = min_docs.clamp(2, crate::normalize::MAX_LEARN_MIN_DOCS);
    // Per line, per outlet: the signatures of the articles counted so far. (By line first, so
    // that a confirmed line's entries go at once: sweeping every entry for each confirmed line
    // took 4.5 s of one core at 10M short articles.)
    let mut counted: AHashMap<u64, AHashMap<u64, Vec<Vec<Slot>>>> = AHashMap::new();
    // The lines that reached `min_docs` in some outlet.
    let mut confirmed: ahash::AHashSet<u64> = ahash::AHashSet::new();
    let mut row = Vec::new();
    for &d in docs {
        if confirmed.len() == learned.len() {
            break;
        }
        let outlet = crate::normalize::source_key(articles[d as usize].source());
        let mut have_row = false;
        for &k in line_keys.of(d as usize) {
            if !learned.contains_key(k) || confirmed.contains(&k) {
                continue;
            }
            if !have_row {
                signatures.read_row(d as usize, &mut row)?;
                have_row = true;
            }
            let seen = counted.entry(k).or_default().entry(outlet).or_default();
            if seen
                .iter()
                .all(|c| estimate_jaccard(c, &row) < same_article)
            {
                seen.push(row.clone());
                if seen.len() >= min_docs {
                    confirmed.insert(k);
                    counted.remove(&k);
                }
            }
        }
    }
    let mut dropped: Vec<u64> = learned
        .keys()
        .into_iter()
        .filter(|k| !confirmed.contains(k))
        .collect();
    dropped.sort_unstable();
    learned.retain(|k| confirmed.contains(&k));
    Ok(dropped)
}

enum Scanned {
    Blank,
    Bad { id: Option<String>, reason: String },
    Good(Article, Option<LineSample>, bool, Vec<(u64, f32)>),
}

/// A merged chunk's vectors (signatures, band keys, scanned lines), emptied for the next.
type Spare = (Vec<Slot>, Vec<u32>, Vec<(Scanned, u64)>);

/// One chunk's lines, parsed and signed, waiting for the serial merge.
struct Signed {
    input: u32,
    first_line: u64,
    scanned: Vec<(Scanned, u64)>,
    /// The chunk's signatures, folded, `k` per line.
    block: Vec<Slot>,
    /// Their band keys, `bands` per line.
    keys: Vec<u32>,
}

/// The error for a failed write or read of a spill file (signatures or band keys).
fn spill_error(config: &DedupConfig, e: std::io::Error) -> Error {
    let dir = config.spill_dir.clone().unwrap_or_default();
    Error::io(
        dir,
        std::io::Error::new(
            e.kind(),
            format!("temporary file of signatures or headlines: {e}"),
        ),
    )
}

struct ScanOutput {
    articles: Vec<Article>,
    headlines: Headlines,
    rejects: Vec<Reject>,
    signatures: Signatures,
    band_keys: BandKeys,
    has_shingles: Vec<bool>,
    learner: BoilerplateLearner,
    line_keys: LineKeys,
    /// Story terms per article (empty when the story stage is off).
    terms: Vec<Vec<(u64, f32)>>,
    stats: RunStats,
}

/// The first pass over the inputs: every line validated, accepted articles kept and signed,
/// their lines sampled for the learner. An article past line `last_line` of its input
/// ([`crate::ingest::MAX_LINES`]; lower in tests) is a bad record.
fn scan_and_sign(
    inputs: &[Input],
    config: &DedupConfig,
    (stage, hasher, lsh): (&ShingleStage<'_>, &MinHasher, &LshParams),
    indexed_ids: Option<&[u128]>,
    spill: Option<(std::fs::File, std::fs::File, std::fs::File)>,
    last_line: u64,
    progress: &dyn Progress,
) -> Result<ScanOutput> {
    let k = config.num_perm;
    let bands = lsh.bands;
    let mut signatures = Signatures::new(k);
    let mut band_keys = BandKeys::new(bands);
    let mut headlines = Headlines::in_memory();
    if let Some((for_signatures, for_keys, for_headlines)) = spill {
        signatures.spill_to(for_signatures);
        band_keys.spill_to(for_keys);
        headlines = Headlines::in_file(for_headlines);
    }
    let mut out = ScanOutput {
        articles: Vec::new(),
        headlines,
        rejects: Vec::new(),
        signatures,
        band_keys,
        has_shingles: Vec::new(),
        learner: BoilerplateLearner::default(),
        line_keys: LineKeys::default(),
        terms: Vec::new(),
        stats: RunStats {
            inputs: inputs
                .iter()
                .map(|i| InputStats {
                    path: i.display_name(),
                    bytes: i.file_len(),
                    ..InputStats::default()
                })
                .collect(),
            ..RunStats::default()
        },
    };
    // The documents by the hash of their id, compared by the ids themselves: a table of
    // document numbers alone (4 bytes a slot, where a map from hash to document took 16).
    let mut seen_ids: hashbrown::HashTable<u32> = hashbrown::HashTable::new();
    let id_hash_of = |a: &Article| xxhash_rust::xxh3::xxh3_64(a.id().as_str().as_bytes());
    // One shared string per outlet: outlets repeat across articles.
    let mut outlets: ahash::AHashSet<crate::ingest::Outlet> = ahash::AHashSet::new();
    let names = &config.fields;
    let learn = config.learn_boilerplate;
    let nothing_learned = LearnedBoilerplate::default();
    // The serial part (ids, learner, signatures appended) of one chunk runs while the next
    // chunk is signed in parallel: with few cores, a merge between parallel steps would leave
    // all but one idle.
    let mut merge = |signed: Signed| -> Result<Spare> {
        let Signed {
            input: input_idx,
            first_line,
            mut scanned,
            block,
            keys,
        } = signed;
        let input = &inputs[input_idx as usize];
        let file_stats = &mut out.stats.inputs[input_idx as usize];
        for (idx, (item, text_len)) in scanned.drain(..).enumerate() {
            let line_no = first_line + idx as u64;
            let (id, reason) = match item {
                Scanned::Blank => continue,
                Scanned::Bad { id, reason } => (id, reason),
                Scanned::Good(article, sample, nonempty, terms) => {
                    let hash = id_hash_of(&article);
                    let earlier = seen_ids
                        .find(hash, |&d| {
                            out.articles[d as usize].id().as_str() == article.id().as_str()
                        })
                        .map(|&d| &out.articles[d as usize]);
                    let indexed = earlier.is_none()
                        && indexed_ids
                            .is_some_and(|ids| ids.binary_search(&id_hash(article.id())).is_ok());
                    match earlier {
                        None if indexed => {
                            let stats = out.stats.index.get_or_insert_default();
                            stats.ids_already_indexed += 1;
                            (
                                Some(article.id().to_string()),
                                format!("id `{}` {ALREADY_INDEXED}", article.id()),
                            )
                        }
                        Some(first) => (
                            Some(article.id().to_string()),
                            format!(
                                "duplicate id `{}` (first seen at {}:{})",
                                article.id(),
                                inputs[first.location.input as usize].display_name(),
                                first.location.line
                            ),
                        ),
                        // Kept articles' line numbers are 32-bit (`LineLocation`): one further
                        // down is a bad record, rejected with `--skip-invalid`.
                        None if line_no > last_line => (
                            Some(article.id().to_string()),
                            "line number past 4,294,967,295, the last line an article may come \
                             from (split the input)"
                                .to_string(),
                        ),
                        None if out.articles.len() >= u32::MAX as usize => {
                            return Err(Error::Config(
                                "more than 4,294,967,295 articles in one run".into(),
                            ));
                        }
                        None => {
                            let doc = out.articles.len() as u32;
                            let articles = &out.articles;
                            seen_ids
                                .insert_unique(hash, doc, |&d| id_hash_of(&articles[d as usize]));
                            if let Some(sample) = &sample {
                                out.learner.add(sample);
                            }
                            out.line_keys.push(sample.as_ref());
                            out.signatures
                                .extend_from_folded(&block[idx * k..(idx + 1) * k]);
                            // A block is written out as soon as it is full, so that its
                            // memory serves the next one rather than a new allocation.
                            out.signatures
                                .spill_full_blocks()
                                .map_err(|e| spill_error(config, e))?;
                            out.band_keys.extend(&keys[idx * bands..(idx + 1) * bands]);
                            out.has_shingles.push(nonempty);
                            if config.stories.is_some() {
                                out.terms.push(terms);
                            }
                            file_stats.lines += 1;
                            file_stats.articles += 1;
                            out.stats.text_bytes += text_len;
                            let mut article = article;
                            article.share_outlet(&mut outlets);
                            out.headlines
                                .push(article.title(), article.url())
                                .map_err(|e| spill_error(config, e))?;
                            out.articles.push(article.without_headline());
                            continue;
                        }
                    }
                }
            };
            file_stats.lines += 1;
            file_stats.rejected += 1;
            if !config.skip_invalid {
                // A batch that repeats earlier articles (a feed carrying yesterday's on) is
                // added with --skip-invalid; the same batch run again is refused then too.
                let reason = if reason.ends_with(ALREADY_INDEXED) {
                    format!(
                        "{reason}; to add a batch's new articles and reject those indexed \
                         before, give --skip-invalid"
                    )
                } else {
                    reason
                };
                return Err(Error::BadRecord {
                    path: input.name.clone(),
                    line: line_no,
                    reason,
                });
            }
            out.rejects.push(Reject {
                file: input.display_name(),
                line: Some(line_no),
                id,
                reason,
            });
        }
        out.band_keys
            .spill_full_blocks()
            .map_err(|e| spill_error(config, e))?;
        Ok((block, keys, scanned))
    };
    let mut pending: Option<Signed> = None;
    // The merged chunk's vectors, emptied, for the next chunk: fresh ones were fresh pages
    // (faulted in and zeroed by the kernel) for every chunk.
    let mut spare: Spare = Default::default();
    // With an index, each input's bytes are hashed as they are read (beside the merge), for
    // the output directory's batch mark.
    let mut content: Option<Vec<(xxhash_rust::xxh3::Xxh3, u64)>> =
        config.index.as_ref().map(|_| {
            (0..inputs.len())
                .map(|_| (xxhash_rust::xxh3::Xxh3::new(), 0))
                .collect()
        });
    let read = for_each_chunk(inputs, |_, chunk| {
        progress.advance(chunk.raw_bytes);
        progress.advance_articles(chunk.lines.len() as u64);
        let (mut block, mut keys, mut scanned) = std::mem::take(&mut spare);
        block.clear();
        block.resize(chunk.lines.len() * k, 0);
        keys.clear();
        keys.resize(chunk.lines.len() * bands, 0);
        let content = &mut content;
        let (merged, ()) = rayon::join(
            || {
                if let Some(content) = content.as_mut() {
                    let (hasher, len) = &mut content[chunk.input as usize];
                    hasher.update(&chunk.data);
                    *len += chunk.data.len() as u64;
                }
                pending.take().map(&mut merge).transpose()
            },
            || {
                block
                    .par_chunks_mut(k)
                    .zip(keys.par_chunks_mut(bands))
                    .enumerate()
                    .map_init(
                        Default::default,
                        |(text_buf, scratch), (idx, (sig, key))| {
                            let line = chunk.line(idx);
                            if line.iter().all(u8::is_ascii_whitespace) {
                                return (Scanned::Blank, 0);
                            }
                            if u32::try_from(chunk.lines[idx].1 - chunk.lines[idx].0).is_err() {
                                let reason = "line longer than 4 GiB".to_string();
                                return (Scanned::Bad { id: None, reason }, 0);
                            }
                            let record = match parse_record_in(line, names, text_buf) {
                                Ok(r) => r,
                                Err(reason) => {
                                    let id = crate::ingest::id_of_rejected(line, names)
                                        .map(|i| i.to_string());
                                    return (Scanned::Bad { id, reason }, 0);
                                }
                            };
                            match accept(&record, names, chunk.location(idx)) {
                                Ok(article) => {
                                    let text = record.text.as_deref().unwrap_or("");
                                    let sample = stage.shingle_sampled(
                                        &record,
                                        learn,
                                        &nothing_learned,
                                        scratch,
                                    );
                                    scratch.signature.resize(k, 0);
                                    hasher.sign(&scratch.hashes, &mut scratch.signature);
                                    for (slot, &value) in sig.iter_mut().zip(&scratch.signature) {
                                        *slot = fold_slot(value);
                                    }
                                    for (key, new) in key.iter_mut().zip(band_keys_of(sig, lsh)) {
                                        *key = new;
                                    }
                                    let nonempty = !scratch.hashes.is_empty();
                                    let terms =
                                        config.stories.as_ref().map_or_else(Vec::new, |sc| {
                                            extract_terms(record.title.as_deref(), text, sc)
                                        });
                                    (
                                        Scanned::Good(article, sample, nonempty, terms),
                                        text.len() as u64,
                                    )
                                }
                                Err(reason) => (
                                    Scanned::Bad {
                                        id: record.id.map(|i| i.to_string()),
                                        reason,
                                    },
                                    0,
                                ),
                            }
                        },
                    )
                    .collect_into_vec(&mut scanned);
            },
        );
        if let Some(old) = merged? {
            spare = old;
        }
        pending = Some(Signed {
            input: chunk.input,
            first_line: chunk.first_line,
            scanned,
            block,
            keys,
        });
        Ok(())
    });
    // The chunk still waiting comes first: a bad line in it is reported before a read error
    // further on.
    if let Some(last) = pending.take() {
        merge(last)?;
    }
    read?;
    out.signatures.finish_appending();
    if let Some(content) = content {
        for (file_stats, (hasher, len)) in out.stats.inputs.iter_mut().zip(content) {
            file_stats.content = Some((hasher.digest(), len));
        }
    }
    for (input, file_stats) in inputs.iter().zip(&out.stats.inputs) {
        if file_stats.lines == 0 {
            if !config.skip_invalid {
                return Err(Error::EmptyInput {
                    path: input.name.clone(),
                });
            }
            out.rejects.push(Reject {
                file: input.display_name(),
                line: None,
                id: None,
                reason: "file holds no articles".into(),
            });
        }
    }
    Ok(out)
}

/// Calls `f` with each batch of the `docs` (ascending, distinct) read from the inputs, in order,
/// and their sorted, deduplicated shingle sets, each shingle as the high 32 bits of its hash.
///
/// 32 bits halve what the sets hold (at 1M articles they were the run's peak memory). Two
/// different shingles of a pair then share a value with probability about |A ∪ B|² / 2³³ (one
/// pair in a few thousand, for news-length texts), which moves that pair's Jaccard by
/// 1 / |A ∪ B|.
fn for_each_shingle_set(
    inputs: &[Input],
    articles: &[Article],
    (stage, learned): (&ShingleStage<'_>, &LearnedBoilerplate),
    docs: &[u32],
    progress: &dyn Progress,
    mut f: impl FnMut(&[u32], Vec<Vec<u32>>) -> Result<()> + Send,
) -> Result<()> {
    // `f` takes one chunk's sets while the next chunk's are made: with few cores, its serial
    // part (the caller's bookkeeping, dropping sets it is done with) would leave all but one
    // idle between chunks.
    let mut pending: Option<(Vec<u32>, Vec<Vec<u32>>)> = None;
    for_each_wanted_article(inputs, articles, docs, progress, |chunk, wanted| {
        let (taken, got) = rayon::join(
            || pending.take().map_or(Ok(()), |(docs, sets)| f(&docs, sets)),
            || {
                wanted
                    .par_iter()
                    .map_init(Default::default, |(text_buf, scratch), &doc| {
                        let line = article_line(chunk, &articles[doc as usize]);
                        stage
                            .shingle_line(line, learned, text_buf, scratch)
                            .then(|| {
                                scratch.hashes.sort_unstable();
                                let mut set: Vec<u32> =
                                    scratch.hashes.iter().map(|&h| (h >> 32) as u32).collect();
                                set.dedup();
                                set
                            })
                            .ok_or(doc)
                    })
                    .collect::<Vec<std::result::Result<Vec<u32>, u32>>>()
            },
        );
        taken?;
        let sets = got
            .into_iter()
            .collect::<std::result::Result<Vec<_>, u32>>()
            .map_err(|doc| input_changed(inputs, &articles[doc as usize]))?;
        pending = Some((wanted.to_vec(), sets));
        Ok(())
    })?;
    match pending {
        Some((docs, sets)) => f(&docs, sets),
        None => Ok(()),
    }
}

/// The `pairs` (sorted, `a < b`) whose exact Jaccard reaches `threshold`, sorted.
///
/// The documents are read in input order, and each pair is decided as soon as its later
/// document is read; a document's set is dropped once its last partner has been read, so memory
/// holds the sets still waiting for a partner rather than all of them.
fn exact_accepted(
    inputs: &[Input],
    articles: &[Article],
    shingling: (&ShingleStage<'_>, &LearnedBoilerplate),
    pairs: &[(u32, u32)],
    threshold: f64,
    progress: &dyn Progress,
) -> Result<Vec<(u32, u32)>> {
    // The last document each document must wait for (itself, if none comes later).
    let mut last: AHashMap<u32, u32> = AHashMap::new();
    for &(a, b) in pairs {
        for d in [a, b] {
            let l = last.entry(d).or_insert(b);
            *l = (*l).max(b);
        }
    }
    let mut docs: Vec<u32> = last.keys().copied().collect();
    docs.par_sort_unstable();
    // Pairs by their later document.
    let mut by_later = pairs.to_vec();
    by_later.par_sort_unstable_by_key(|&(a, b)| (b, a));
    let mut live: AHashMap<u32, Vec<u32>> = AHashMap::new();
    // The live sets by the last document they wait for, soonest first: each chunk drops those
    // it has read past. (Sweeping every live set after every chunk was quadratic: at 10M short
    // articles, with 0.2M sets waiting across thousands of chunks, half of the verify stage.)
    let mut expiry: std::collections::BinaryHeap<std::cmp::Reverse<(u32, u32)>> =
        std::collections::BinaryHeap::new();
    let mut accepted: Vec<(u32, u32)> = Vec::new();
    let mut decided = 0;
    for_each_shingle_set(
        inputs,
        articles,
        shingling,
        &docs,
        progress,
        |wanted, sets| {
            // Streamed inputs give every chunk, some without a wanted document.
            let Some(&read_up_to) = wanted.last() else {
                return Ok(());
            };
            expiry.extend(wanted.iter().map(|&d| std::cmp::Reverse((last[&d], d))));
            live.extend(wanted.iter().copied().zip(sets));
            let end = decided + by_later[decided..].partition_point(|&(_, b)| b <= read_up_to);
            let live_sets = &live;
            accepted.extend(verify_exact(&by_later[decided..end], threshold, |d| {
                &live_sets[&d]
            }));
            decided = end;
            while let Some(&std::cmp::Reverse((l, d))) = expiry.peek() {
                if l > read_up_to {
                    break;
                }
                expiry.pop();
                live.remove(&d);
            }
            Ok(())
        },
    )?;
    debug_assert_eq!(decided, by_later.len());
    accepted.par_sort_unstable();
    Ok(accepted)
}

/// Every set of the documents in `pairs` at once: the oracle of [`exact_accepted`] in tests.
#[cfg(test)]
struct ExactSets {
    docs: Vec<u32>,
    sets: Vec<Vec<u32>>,
}

#[cfg(test)]
impl ExactSets {
    fn get(&self, doc: u32) -> &[u32] {
        let idx = self
            .docs
            .binary_search(&doc)
            .expect("every document of an ambiguous pair was shingled");
        &self.sets[idx]
    }
}

#[cfg(test)]
fn exact_sets(
    inputs: &[Input],
    articles: &[Article],
    shingling: (&ShingleStage<'_>, &LearnedBoilerplate),
    pairs: &[(u32, u32)],
    progress: &dyn Progress,
) -> Result<ExactSets> {
    let mut docs: Vec<u32> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    docs.par_sort_unstable();
    docs.dedup();
    let mut all = Vec::new();
    for_each_shingle_set(inputs, articles, shingling, &docs, progress, |_, sets| {
        all.extend(sets);
        Ok(())
    })?;
    Ok(ExactSets { docs, sets: all })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    /// Bodies that differ from each other, with a footer their outlet repeats.
    fn corpus_with_outlet_footer() -> Vec<(String, String, &'static str)> {
        let words = [
            "harbor", "senate", "budget", "storm", "school", "rocket", "market", "vaccine",
            "river", "court", "bridge", "election",
        ];
        (0..12)
            .map(|i| {
                let body: Vec<String> = (0..40)
                    .map(|j| {
                        format!(
                            "{}{}",
                            words[(i * 7 + j * 3) % words.len()],
                            (i * 40 + j) % 97
                        )
                    })
                    .collect();
                let text = format!(
                    "{}\nGet the Daily Bugle delivered to your door every morning\n",
                    body.join(" ")
                );
                (
                    format!("doc{i}"),
                    text,
                    if i % 3 == 0 {
                        "other.example"
                    } else {
                        "bugle.example"
                    },
                )
            })
            .collect()
    }

    /// The headline and link [`run_on`] gives the article of id `id`: some absent.
    fn headline_of(id: &str) -> (Option<String>, Option<String>) {
        (
            id.len()
                .is_multiple_of(2)
                .then(|| format!("About {id} — “quoted”")),
            (!id.ends_with('7')).then(|| format!("https://news.example/{id}")),
        )
    }

    fn run_on(docs: &[(String, String, &str)], config: &DedupConfig) -> DedupRun {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.jsonl");
        let lines: Vec<String> = docs
            .iter()
            .map(|(id, text, source)| {
                let (title, url) = headline_of(id);
                serde_json::json!({
                    "id": id, "text": text, "source": source, "title": title, "url": url
                })
                .to_string()
            })
            .collect();
        std::fs::write(&path, lines.join("\n")).unwrap();
        let inputs = open_inputs(&[path], dir.path()).unwrap();
        dedup(inputs, config, &Silent).unwrap()
    }

    /// A caller that opens the index itself, as given no bands and rows, and then runs with
    /// others, is refused before anything is read: the index's band keys are cut its way.
    #[test]
    fn given_bands_that_differ_from_the_index_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.jsonl");
        std::fs::write(&path, r#"{"id":"a","text":"one two three four five six"}"#).unwrap();
        let idx = dir.path().join("idx");
        let chosen = DedupConfig {
            index: Some(IndexConfig {
                dir: idx.clone(),
                max_age_days: None,
            }),
            ..DedupConfig::default()
        };
        let lsh = chosen.validate().unwrap();
        let params = crate::index::IndexParams::of(&chosen, &lsh);
        let index = Index::open_for_update(&idx, params, false).unwrap();
        let given = DedupConfig {
            bands_rows: Some((16, 8)),
            ..chosen.clone()
        };
        let inputs = open_inputs(&[path], dir.path()).unwrap();
        let Err(err) = dedup_with_index(inputs, &given, Some(index), &Silent) else {
            panic!("bands that differ from the index's were not refused");
        };
        let err = err.to_string();
        assert!(
            err.contains(&format!(
                "--bands 16 (index: {}), --rows 8 (index: {})",
                lsh.bands, lsh.rows
            )),
            "{err}"
        );
    }

    /// A run calls `release_memory` twice: once its first pass and re-signing are done, once
    /// exact verification is.
    #[test]
    fn memory_is_released_after_the_first_pass_and_verification() {
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let config = DedupConfig {
            release_memory: Some(|| {
                CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }),
            ..DedupConfig::default()
        };
        run_on(&corpus_with_outlet_footer(), &config);
        assert_eq!(CALLS.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    /// An article past the last line an article may come from (`MAX_LINES`; line 4 here) is a
    /// bad record naming its line: rejected with `--skip-invalid`, where blank and invalid lines
    /// past it are rejected as usual; otherwise the run stops there.
    #[test]
    fn an_article_past_the_last_line_is_a_bad_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.jsonl");
        let text = "words enough to make a few shingles of five words each here";
        let lines = [
            format!(r#"{{"id":"a","text":"{text} one"}}"#),
            String::new(),
            format!(r#"{{"id":"b","text":"{text} two"}}"#),
            format!(r#"{{"id":"c","text":"{text} three"}}"#),
            format!(r#"{{"id":"d","text":"{text} four"}}"#),
            String::new(),
            "not json".to_string(),
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let scan = |skip_invalid: bool| {
            let config = DedupConfig {
                skip_invalid,
                ..DedupConfig::default()
            };
            let lsh = config.validate().unwrap();
            let stage = ShingleStage::of(&config);
            let hasher = MinHasher::new(config.sketch, config.num_perm, config.shingle.seed);
            let inputs = open_inputs(std::slice::from_ref(&path), dir.path()).unwrap();
            let shared = (&stage, &hasher, &lsh);
            scan_and_sign(&inputs, &config, shared, None, None, 4, &Silent)
        };
        let kept = scan(true).unwrap();
        let ids: Vec<&str> = kept.articles.iter().map(|a| a.id().as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let rejects: Vec<(Option<u64>, Option<&str>)> = kept
            .rejects
            .iter()
            .map(|r| (r.line, r.id.as_deref()))
            .collect();
        assert_eq!(rejects, [(Some(5), Some("d")), (Some(7), None)]);
        assert!(kept.rejects[0].reason.contains("past 4,294,967,295"));
        match scan(false) {
            Err(Error::BadRecord { line, reason, .. }) => {
                assert_eq!(line, 5);
                assert!(reason.contains("split the input"), "{reason}");
            }
            Err(e) => panic!("expected a bad record, got {e}"),
            Ok(_) => panic!("expected a bad record, got a run"),
        }
    }

    /// A run that spills signatures to disk gives the run that keeps them in memory (the
    /// oracle): the same edges, clusters and statistics, with re-signed articles in spilled
    /// blocks and near-copies across blocks, the same similarities, and the same headlines,
    /// whether it reads the signatures back in one part or a block at a time (chains split or
    /// not). Afterwards it holds no signature.
    #[test]
    fn a_spilled_run_equals_one_in_memory() {
        let n = 2 * crate::minhash::BLOCK_DOCS + 300;
        let mut state = 1u64;
        let mut word = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            format!("w{}", (state >> 40) % 5000)
        };
        let mut docs: Vec<(String, String, &str)> = Vec::with_capacity(n);
        for i in 0..n {
            let mut text: Vec<String> = (0..100).map(|_| word()).collect();
            // Every 40th article copies one 20,000 earlier, one word changed.
            if i % 40 == 0 && i >= 20_000 {
                text = docs[i - 20_000].1.split(' ').map(String::from).collect();
                text[3] = word();
            }
            let mut text = text.join(" ");
            let source = if i % 3 == 0 {
                "bugle.example"
            } else {
                "other.example"
            };
            if source == "bugle.example" && !(i % 40 == 0 && i >= 20_000) {
                text.push_str("\nThe Bugle is printed in Springfield");
            }
            docs.push((format!("d{i}"), text, source));
        }
        let in_memory = run_on(&docs, &DedupConfig::default());
        let spill_dir = tempfile::tempdir().unwrap();
        let spilled_with = |part_bytes: usize, split_chains: bool| {
            let mut config = DedupConfig {
                spill_dir: Some(spill_dir.path().to_path_buf()),
                part_bytes,
                ..DedupConfig::default()
            };
            config.cluster.split_chains = split_chains;
            run_on(&docs, &config)
        };
        let spilled = spilled_with(crate::minhash::PART_BYTES, false);
        let sims = |run: &DedupRun| -> Vec<Option<f64>> {
            (0..n).map(|d| run.clusters.similarity(d)).collect()
        };
        // A block at a time: every part one block, pairs across parts.
        let by_block = spilled_with(1, false);
        assert_eq!(by_block.edges, spilled.edges);
        assert_eq!(by_block.clusters.clusters, spilled.clusters.clusters);
        assert_eq!(sims(&by_block), sims(&spilled));
        assert_eq!(by_block.edge_similarity, spilled.edge_similarity);
        let split_in_memory = run_on(
            &docs,
            &DedupConfig {
                cluster: ClusterConfig {
                    split_chains: true,
                    ..DedupConfig::default().cluster
                },
                ..DedupConfig::default()
            },
        );
        let split_by_block = spilled_with(1, true);
        assert_eq!(
            split_by_block.clusters.clusters,
            split_in_memory.clusters.clusters
        );
        assert_eq!(sims(&split_by_block), sims(&split_in_memory));
        assert!(in_memory.stats.relearned_articles > 10_000);
        assert!(in_memory.clusters.clusters.len() > 200);
        assert_eq!(spilled.edges, in_memory.edges);
        assert_eq!(spilled.clusters.cluster_of, in_memory.clusters.cluster_of);
        // The statistics, but for the inputs' (temporary) paths.
        let stats = |run: &DedupRun| {
            let mut v = serde_json::to_value(&run.stats).unwrap();
            for input in v["inputs"].as_array_mut().unwrap() {
                input.as_object_mut().unwrap().remove("path");
            }
            v
        };
        assert_eq!(stats(&spilled), stats(&in_memory));
        assert_eq!(spilled.edge_similarity, in_memory.edge_similarity);
        assert!(spilled.edge_similarity.iter().all(|&s| s > 0.5));
        for (d, s) in (0..n).map(|d| (d, in_memory.clusters.similarity(d))) {
            assert_eq!(spilled.clusters.similarity(d), s, "doc {d}");
        }
        // Once clusters are formed, the spilled run holds no signature.
        assert_eq!(
            (spilled.signatures.len(), in_memory.signatures.len()),
            (0, n)
        );
        // Headlines and links come back as the input had them, from the file and from memory.
        for (d, (id, ..)) in docs.iter().enumerate() {
            let (title, url) = headline_of(id);
            let want = Headline { title, url };
            assert_eq!(spilled.headline(d).unwrap(), want, "{id}");
            assert_eq!(in_memory.headline(d).unwrap(), want, "{id}");
            assert_eq!(spilled.articles[d].id().as_str(), id);
        }
        // The spill files were unnamed: nothing is left in their directory.
        assert_eq!(std::fs::read_dir(spill_dir.path()).unwrap().count(), 0);
    }

    /// The one-pass signing plus re-signing of the articles a learned line touches gives the
    /// signatures that signing with the learned lines from the start gives (the naive oracle),
    /// and the fused tokenizer gives the shingles of the canonical text.
    #[test]
    fn signatures_equal_the_naive_computation() {
        let mut docs = corpus_with_outlet_footer();
        // Chinese and Japanese: words of one character, joined without spaces in the
        // canonical text; a voicing mark NFKC cannot compose stays with its character.
        for (i, text) in [
            "国家统计局周四公布的数据显示，今年前三个季度国内生产总值同比增长百分之五点二。",
            "日本銀行は木曜日、ＥＴＦの買い入れを続けると発表した。ドナルド・トランプ氏も。",
            "ア\u{ff9e}イ\u{3099}ウ 東京2024年 rock'東 々〆〇",
        ]
        .into_iter()
        .enumerate()
        {
            docs.push((format!("cjk{i}"), text.to_string(), "cjk.example"));
        }
        for sketch in [SketchKind::Classic, SketchKind::Oph] {
            let config = DedupConfig {
                sketch,
                ..DedupConfig::default()
            };
            let run = run_on(&docs, &config);
            assert_eq!(run.learned.len(), 1, "the bugle footer is learned");
            // Learned from the Bugle's eight, the footer leaves the other outlet's four too.
            assert!(run.stats.relearned_articles >= 12);
            let hasher = MinHasher::new(sketch, config.num_perm, config.shingle.seed);
            for (doc, (_, text, source)) in docs.iter().enumerate() {
                let mut canonical = String::new();
                canonical_text(text, &run.learned, &mut canonical);
                assert!(!canonical.contains("bugle"), "{source}");
                let mut hashes = Vec::new();
                shingles(
                    &canonical,
                    &config.shingle,
                    &mut ShingleScratch::default(),
                    &mut hashes,
                );
                let mut expected = vec![0; config.num_perm];
                hasher.sign(&hashes, &mut expected);
                let folded: Vec<crate::minhash::Slot> = expected
                    .iter()
                    .map(|&v| crate::minhash::fold_slot(v))
                    .collect();
                assert_eq!(run.signatures.get(doc), &folded[..], "{sketch:?} doc {doc}");
            }
        }
    }

    #[test]
    fn validation_rejects_bad_values() {
        let cases: Vec<(DedupConfig, &str)> = vec![
            (
                DedupConfig {
                    num_perm: 0,
                    ..DedupConfig::default()
                },
                "num-perm",
            ),
            (
                DedupConfig {
                    bands_rows: Some((20, 7)),
                    ..DedupConfig::default()
                },
                "bands",
            ),
            (
                DedupConfig {
                    boilerplate_min_docs: 1,
                    ..DedupConfig::default()
                },
                "boilerplate-min-docs",
            ),
        ];
        for (config, needle) in cases {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    /// Reading chosen lines by offset gives the lines that streaming the input gives (the
    /// oracle), whatever the choice: sparse or dense, across line endings, a byte-order mark,
    /// blank and rejected lines and a last line without newline; a changed input is an error.
    #[test]
    fn wanted_articles_by_offset_equal_the_streamed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.jsonl");
        let mut content = b"\xEF\xBB\xBF".to_vec();
        for i in 0..400u32 {
            // Lines of very different lengths, so that some gaps exceed READ_GAP.
            let text = format!("article {i} ").repeat(1 + (i as usize * 37) % 900);
            let line = serde_json::json!({"id": i, "text": text}).to_string();
            content.extend_from_slice(line.as_bytes());
            content.extend_from_slice(match i % 5 {
                0 => b"\r\n\n",
                1 => b"\n{bad\n",
                _ => b"\n",
            });
        }
        content.extend_from_slice(br#"{"id":"last","text":"the end"}"#);
        std::fs::write(&path, &content).unwrap();
        let config = DedupConfig {
            skip_invalid: true,
            ..DedupConfig::default()
        };
        let run = dedup(
            open_inputs(std::slice::from_ref(&path), dir.path()).unwrap(),
            &config,
            &Silent,
        )
        .unwrap();
        let articles = run.batch();
        assert_eq!(articles.len(), 401);
        let streamed = |wanted: &[u32]| {
            let mut lines: Vec<(u32, Vec<u8>)> = Vec::new();
            for_each_article_chunk(&run.inputs, articles, &Silent, |chunk, range| {
                for d in range.filter(|d| wanted.contains(&(*d as u32))) {
                    lines.push((d as u32, article_line(chunk, &articles[d]).to_vec()));
                }
                Ok(())
            })
            .unwrap();
            lines
        };
        let by_wanted = |wanted: &[u32]| {
            let mut lines: Vec<(u32, Vec<u8>)> = Vec::new();
            for_each_wanted_article(&run.inputs, articles, wanted, &Silent, |chunk, docs| {
                for &d in docs {
                    lines.push((d, article_line(chunk, &articles[d as usize]).to_vec()));
                }
                Ok(())
            })
            .map(|()| lines)
        };
        let n = articles.len() as u32;
        let subsets: Vec<(Vec<u32>, bool)> = vec![
            ((0..n).collect(), false),
            ((0..n).step_by(7).collect(), true),
            (vec![0, n - 1], true),
            ((0..n).filter(|d| d % 50 < 3).collect(), true),
            (vec![], true),
        ];
        for (wanted, sparse) in &subsets {
            assert_eq!(
                reads_by_offset(&run.inputs, articles, wanted),
                *sparse,
                "{} wanted",
                wanted.len()
            );
            let got = by_wanted(wanted).unwrap();
            assert_eq!(got.len(), wanted.len());
            assert_eq!(got, streamed(wanted), "{} wanted", wanted.len());
        }
        // The first line is read without its byte-order mark, the last one without a newline.
        let ends = by_wanted(&[0, n - 1]).unwrap();
        assert!(ends[0].1.starts_with(b"{\"id\":0"));
        assert_eq!(ends[1].1, br#"{"id":"last","text":"the end"}"#);

        // A byte more at the start moves every line: an error naming the input, not a panic.
        let mut changed = b" ".to_vec();
        changed.extend_from_slice(&content);
        std::fs::write(&path, &changed).unwrap();
        let err = by_wanted(&(0..n).step_by(7).collect::<Vec<_>>()).unwrap_err();
        assert!(err.to_string().contains("changed"), "{err}");
        // Shortened: the last lines are gone.
        std::fs::write(&path, &content[..content.len() / 2]).unwrap();
        let err = by_wanted(&[0, n - 1]).unwrap_err();
        assert!(err.to_string().contains("changed"), "{err}");
    }

    /// A line rewritten in place between the passes (same length, no longer a record) is an
    /// error naming the input and line when exact verification reads it again, not a panic.
    #[test]
    fn a_line_changed_between_the_passes_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.jsonl");
        let text = "one two three four five six seven eight nine ten eleven twelve";
        let lines: Vec<String> = (0..6)
            .map(|i| serde_json::json!({"id": i, "text": text}).to_string())
            .collect();
        let content = lines.join("\n") + "\n";
        std::fs::write(&path, &content).unwrap();
        let config = DedupConfig::default();
        let run = dedup(
            open_inputs(std::slice::from_ref(&path), dir.path()).unwrap(),
            &config,
            &Silent,
        )
        .unwrap();
        // Line 4 starts at the fourth line's offset: `{` becomes `[`.
        let mut bytes = content.into_bytes();
        bytes[run.articles[3].location.offset as usize] = b'[';
        std::fs::write(&path, &bytes).unwrap();
        let stage = ShingleStage::of(&config);
        let err = exact_accepted(
            &run.inputs,
            &run.articles,
            (&stage, &run.learned),
            &[(2, 3)],
            0.8,
            &Silent,
        )
        .expect_err("a changed line is an error");
        let message = err.to_string();
        assert!(
            message.contains("changed") && message.contains("line 4"),
            "{message}"
        );
    }

    /// Articles of one outlet share one string for it.
    #[test]
    fn most_common_breaks_ties_by_the_smallest() {
        assert_eq!(most_common([].into_iter()), None);
        assert_eq!(most_common([7].into_iter()), Some((7, 1)));
        assert_eq!(most_common([3, 9, 9, 3, 9].into_iter()), Some((9, 3)));
        assert_eq!(most_common([9, 3, 9, 3].into_iter()), Some((3, 2)));
        assert_eq!(most_common([5, 1, 2, 2, 1, 5].into_iter()), Some((1, 2)));
    }

    #[test]
    fn an_outlet_is_held_once() {
        let docs = corpus_with_outlet_footer();
        let run = run_on(&docs, &DedupConfig::default());
        let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
        for (doc, a) in run.articles.iter().enumerate() {
            let source = a.source().expect("every test article has an outlet");
            let first = *by_name.entry(source).or_insert(doc);
            // The same string: the same bytes in memory.
            let first_bytes = run.articles[first].source().unwrap().as_ptr();
            assert!(std::ptr::eq(first_bytes, source.as_ptr()), "{source}");
        }
        assert!(by_name.len() < run.articles.len());
    }

    /// The reads by offset go into the pool's buffers, and leave every one of them there.
    #[test]
    fn reads_by_offset_take_and_leave_pooled_buffers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.jsonl");
        let lines: Vec<String> = (0..4000)
            .map(|i| {
                let text = format!("article {i} {}", "with a few words ".repeat(60));
                serde_json::json!({"id": format!("d{i}"), "text": text}).to_string()
            })
            .collect();
        std::fs::write(&path, lines.join("\n")).unwrap();
        let inputs = open_inputs(std::slice::from_ref(&path), dir.path()).unwrap();
        let run = dedup(inputs, &DedupConfig::default(), &Silent).unwrap();
        let wanted: Vec<u32> = (0..4000).step_by(3).collect();
        assert!(reads_by_offset(&run.inputs, &run.articles, &wanted));
        for round in 0..3 {
            let (pool, seeded) = crate::ingest::tests::seeded_pool();
            let (mut seen, mut chunks) = (0, 0);
            for_each_wanted_article_pooled(
                &run.inputs,
                &run.articles,
                &wanted,
                &Silent,
                &pool,
                |chunk, docs| {
                    let at = chunk.data.as_ptr() as usize;
                    assert!(seeded.contains(&at), "round {round}: a new buffer");
                    for &d in docs {
                        let line = article_line(chunk, &run.articles[d as usize]);
                        assert!(line.starts_with(format!("{{\"id\":\"d{d}\"").as_bytes()));
                    }
                    seen += docs.len();
                    chunks += 1;
                    Ok(())
                },
            )
            .unwrap();
            assert!(chunks >= 3, "{chunks} chunks");
            assert_eq!(seen, wanted.len());
            let back = crate::ingest::tests::pooled_addresses(&pool);
            assert_eq!(back, seeded, "round {round}: every buffer is back");
        }
    }

    /// Exact verification over an input of several read chunks, each chunk's sets handed on
    /// while the next chunk's are made, decides every pair as deciding it over all the sets at
    /// once does: pairs within a chunk, across neighbouring chunks and across the whole file.
    #[test]
    fn exact_verification_across_chunks_equals_all_sets_at_once() {
        let mut state = 0x00c0_ffee_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            crate::shingle::fmix64(state)
        };
        let words: Vec<String> = (0..2000).map(|i| format!("w{i:x}")).collect();
        let n = 4000;
        let half = n / 2;
        let mut texts: Vec<Vec<usize>> = Vec::new();
        for i in 0..n {
            let text = if i >= half && i % 3 != 0 {
                // A copy of an article of the first half with a few words changed.
                let mut copy = texts[i - half].clone();
                for _ in 0..(next() % 40) {
                    let at = (next() % copy.len() as u64) as usize;
                    copy[at] = (next() % 2000) as usize;
                }
                copy
            } else {
                (0..400).map(|_| (next() % 2000) as usize).collect()
            };
            texts.push(text);
        }
        let lines: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let text: Vec<&str> = t.iter().map(|&w| words[w].as_str()).collect();
                serde_json::json!({"id": format!("d{i}"), "text": text.join(" ")}).to_string()
            })
            .collect();
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        assert!(bytes > 3 * crate::ingest::CHUNK_BYTES, "{bytes} bytes");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.jsonl");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let config = DedupConfig::default();
        let inputs = open_inputs(std::slice::from_ref(&path), dir.path()).unwrap();
        let run = dedup(inputs, &config, &Silent).unwrap();
        let n = n as u32;
        let half = half as u32;
        let mut pairs: Vec<(u32, u32)> = (0..half).map(|a| (a, a + half)).collect();
        pairs.extend((0..n - 1).map(|a| (a, a + 1)));
        pairs.extend(
            (0..n)
                .step_by(7)
                .map(|a| (a / 2, a))
                .filter(|&(a, b)| a < b),
        );
        pairs.extend((0..2000).map(|_| {
            let (a, b) = (
                (next() % u64::from(n)) as u32,
                (next() % u64::from(n)) as u32,
            );
            (a.min(b), a.max(b))
        }));
        pairs.retain(|&(a, b)| a < b);
        pairs.sort_unstable();
        pairs.dedup();
        let stage = ShingleStage::of(&config);
        // The oracle's sets: each document read and shingled on its own, not by chunks.
        let sets: Vec<Vec<u32>> = (0..n)
            .map(|doc| {
                let mut set: Vec<u32> = hashes_read_alone(&run, &stage, doc)
                    .iter()
                    .map(|&h| (h >> 32) as u32)
                    .collect();
                set.dedup();
                set
            })
            .collect();
        let accepted = assert_exact_accepted_is(&run, &stage, &pairs, &[0.5, 0.8, 0.9], |d| {
            &sets[d as usize]
        });
        assert!(accepted.iter().all(|&a| a > 0 && a < pairs.len()));
    }

    /// A document's 64-bit shingle hashes, sorted and deduplicated, read and shingled on its
    /// own.
    fn hashes_read_alone(run: &DedupRun, stage: &ShingleStage<'_>, doc: u32) -> Vec<u64> {
        let mut got = Vec::new();
        for_each_wanted_article(&run.inputs, &run.articles, &[doc], &Silent, |chunk, _| {
            let (mut text_buf, mut scratch) = (String::new(), Scratch::default());
            let line = article_line(chunk, &run.articles[doc as usize]);
            assert!(stage.shingle_line(line, &run.learned, &mut text_buf, &mut scratch));
            got = scratch.hashes.clone();
            Ok(())
        })
        .unwrap();
        got.sort_unstable();
        got.dedup();
        got
    }

    /// Asserts that deciding `pairs` as their later document is read, sets dropped after their
    /// last partner ([`exact_accepted`]), gives what deciding them over the oracle's `set`s at
    /// once gives, at each threshold. Returns how many pairs each threshold accepted.
    fn assert_exact_accepted_is<'a>(
        run: &DedupRun,
        stage: &ShingleStage<'_>,
        pairs: &[(u32, u32)],
        thresholds: &[f64],
        set: impl Fn(u32) -> &'a [u32] + Sync,
    ) -> Vec<usize> {
        thresholds
            .iter()
            .map(|&threshold| {
                let streamed = exact_accepted(
                    &run.inputs,
                    &run.articles,
                    (stage, &run.learned),
                    pairs,
                    threshold,
                    &Silent,
                )
                .unwrap();
                let oracle = verify_exact(pairs, threshold, &set);
                assert_eq!(streamed, oracle, "threshold {threshold}");
                oracle.len()
            })
            .collect()
    }

    /// The 32-bit sets of exact verification give the Jaccard of the full 64-bit shingle sets
    /// (the oracle: shingled again here, one document at a time) to within one shingle.
    #[test]
    fn exact_sets_give_the_jaccard_of_the_full_hashes() {
        use crate::minhash::exact_jaccard;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.jsonl");
        let lines: Vec<String> = corpus_with_outlet_footer()
            .iter()
            .map(|(id, text, source)| {
                let (title, url) = headline_of(id);
                serde_json::json!({
                    "id": id, "text": text, "source": source, "title": title, "url": url
                })
                .to_string()
            })
            .collect();
        std::fs::write(&path, lines.join("\n")).unwrap();
        let config = DedupConfig::default();
        let inputs = open_inputs(std::slice::from_ref(&path), dir.path()).unwrap();
        let run = dedup(inputs, &config, &Silent).unwrap();
        let n = run.articles.len() as u32;
        let pairs: Vec<(u32, u32)> = (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .collect();
        let stage = ShingleStage::of(&config);
        let sets = exact_sets(
            &run.inputs,
            &run.articles,
            (&stage, &run.learned),
            &pairs,
            &Silent,
        )
        .unwrap();
        assert_exact_accepted_is(&run, &stage, &pairs, &[0.1, 0.3, 0.5, 0.8], |d| sets.get(d));
        let full: Vec<Vec<u64>> = (0..n).map(|d| hashes_read_alone(&run, &stage, d)).collect();
        let mut compared = 0;
        for &(a, b) in &pairs {
            let (fa, fb) = (&full[a as usize], &full[b as usize]);
            if fa.is_empty() || fb.is_empty() {
                continue;
            }
            let exact = exact_jaccard(fa, fb);
            let union = (fa.len() + fb.len()) as f64 * (1.0 - exact / (1.0 + exact));
            let got = exact_jaccard(sets.get(a), sets.get(b));
            // A collision moves the intersection up and the union down by one shingle each.
            assert!(
                (got - exact).abs() <= 2.0 / union,
                "{a} {b}: {got} vs {exact}"
            );
            compared += 1;
        }
        assert!(compared > 10, "{compared}");
    }

    /// Documents of the components of `n` documents joined by `edges`, each component sorted.
    fn components_of(n: usize, edges: &[(u32, u32)]) -> Vec<Vec<u32>> {
        let mut seen = vec![false; n];
        let mut out = Vec::new();
        for start in 0..n {
            if seen[start] {
                continue;
            }
            seen[start] = true;
            let mut members = vec![start as u32];
            let mut i = 0;
            while i < members.len() {
                let d = members[i];
                for &(a, b) in edges {
                    let other = if a == d {
                        b
                    } else if b == d {
                        a
                    } else {
                        continue;
                    };
                    if !seen[other as usize] {
                        seen[other as usize] = true;
                        members.push(other);
                    }
                }
                i += 1;
            }
            members.sort_unstable();
            out.push(members);
        }
        out
    }

    #[test]
    fn an_uncertain_bridge_never_merges_two_earlier_kept_copies() {
        // Tonight's article 0; indexed A (1) and B (2), each kept by an earlier night, and X
        // (3), a member of B's cluster.
        let kept = [true, true, false];
        let links = [(2, 3)];
        let held = |cross: &[(u32, u32, f64)], sure: f64| {
            let h = hold_uncertain_bridges_apart(1, &kept, &[], &links, cross.to_vec(), sure);
            (h.cross, h.held_apart)
        };
        // B's cluster, joined to tonight's article or not, keeps its link or loses it.
        let links_of = |cross: &[(u32, u32, f64)]| {
            hold_uncertain_bridges_apart(1, &kept, &[], &links, cross.to_vec(), 0.9).links
        };
        assert_eq!(links_of(&[(0, 1, 0.95), (0, 3, 0.84)]), Vec::new());
        assert_eq!(links_of(&[(0, 2, 0.95), (0, 1, 0.84)]), vec![(2, 3)]);
        // Sure of A, unsure of B: joins A only.
        assert_eq!(held(&[(0, 1, 0.95), (0, 2, 0.82)], 0.9), (vec![(0, 1)], 1));
        // Unsure of both: joins the nearer, whichever it is.
        assert_eq!(held(&[(0, 1, 0.85), (0, 2, 0.82)], 0.9), (vec![(0, 1)], 1));
        assert_eq!(held(&[(0, 1, 0.81), (0, 2, 0.86)], 0.9), (vec![(0, 2)], 1));
        // A member of B's cluster bridges as B would.
        assert_eq!(held(&[(0, 1, 0.95), (0, 3, 0.84)], 0.9), (vec![(0, 1)], 1));
        // Sure of both: the bridge stands, and so does every pair with the threshold alone as
        // the bar (`--verify estimate`).
        assert_eq!(
            held(&[(0, 1, 0.95), (0, 2, 0.93)], 0.9),
            (vec![(0, 1), (0, 2)], 0)
        );
        assert_eq!(
            held(&[(0, 1, 0.85), (0, 2, 0.82)], 0.8),
            (vec![(0, 1), (0, 2)], 0)
        );
        // Two pairs into one earlier cluster merge nothing: both stand.
        assert_eq!(
            held(&[(0, 2, 0.82), (0, 3, 0.81)], 0.9),
            (vec![(0, 2), (0, 3)], 0)
        );
        // Tonight's verified pair carries the bridge too: 4 is tonight's as well.
        let kept = [true, true];
        assert_eq!(
            hold_uncertain_bridges_apart(
                2,
                &kept,
                &[(0, 1)],
                &[],
                vec![(0, 2, 0.83), (1, 3, 0.85)],
                0.9
            ),
            HeldApart {
                cross: vec![(1, 3)],
                links: vec![],
                held_apart: 1
            }
        );
    }

    #[test]
    fn uncertain_bridges_on_random_graphs_keep_one_earlier_kept_copy_per_component() {
        let mut state = 0x2026_1128_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let mut held_total = 0;
        for _ in 0..400 {
            let batch_len = 1 + next(6) as usize;
            let indexed = 1 + next(6) as usize;
            let n = batch_len + indexed;
            let kept: Vec<bool> = (0..indexed).map(|_| next(3) != 0).collect();
            let mut tonight = Vec::new();
            for _ in 0..next(4) {
                let (a, b) = (next(batch_len as u64) as u32, next(batch_len as u64) as u32);
                if a != b {
                    tonight.push((a.min(b), a.max(b)));
                }
            }
            let mut links = Vec::new();
            for _ in 0..next(3) {
                let (a, b) = (next(indexed as u64) as u32, next(indexed as u64) as u32);
                if a != b {
                    links.push((batch_len as u32 + a, batch_len as u32 + b));
                }
            }
            let mut cross: Vec<(u32, u32, f64)> = Vec::new();
            for d in 0..batch_len as u32 {
                for e in 0..indexed as u32 {
                    if next(3) == 0 {
                        cross.push((d, batch_len as u32 + e, 0.8 + next(20) as f64 / 100.0));
                    }
                }
            }
            let sure = 0.9;
            let HeldApart {
                cross: out,
                links: kept_links,
                held_apart: held,
            } = hold_uncertain_bridges_apart(
                batch_len,
                &kept,
                &tonight,
                &links,
                cross.clone(),
                sure,
            );
            let holds_kept = |d: u32| d as usize >= batch_len && kept[d as usize - batch_len];
            // Every sure pair stands; what stands is from `cross`, sorted; the rest is counted.
            let stands = |a: u32, b: u32| out.contains(&(a, b));
            assert!(
                cross
                    .iter()
                    .filter(|c| c.2 >= sure)
                    .all(|c| stands(c.0, c.1))
            );
            assert!(
                out.iter()
                    .all(|&(a, b)| cross.iter().any(|c| (c.0, c.1) == (a, b)))
            );
            assert!(out.is_sorted());
            assert_eq!(out.len() + held as usize, cross.len());
            held_total += held;
            // The components before the unsure pairs, and after those that stand.
            let mut base: Vec<(u32, u32)> = [tonight.as_slice(), &links].concat();
            base.extend(cross.iter().filter(|c| c.2 >= sure).map(|c| (c.0, c.1)));
            let base_of = {
                let mut of = vec![0usize; n];
                for (i, c) in components_of(n, &base).iter().enumerate() {
                    for &d in c {
                        of[d as usize] = i;
                    }
                }
                of
            };
            let after: Vec<(u32, u32)> = [tonight.as_slice(), &links, &out].concat();
            let after = components_of(n, &after);
            // The links that stand are those of components with one of tonight's articles,
            // and without the others no component of two or more lacks one.
            let has_tonight = |c: &Vec<u32>| c.iter().any(|&d| (d as usize) < batch_len);
            let expected_links: Vec<(u32, u32)> = links
                .iter()
                .copied()
                .filter(|&(a, _)| after.iter().any(|c| c.contains(&a) && has_tonight(c)))
                .collect();
            assert_eq!(kept_links, expected_links);
            let clustered = [tonight.as_slice(), &kept_links, &out].concat();
            assert!(
                components_of(n, &clustered)
                    .iter()
                    .all(|c| c.len() == 1 || has_tonight(c))
            );
            let after_of = {
                let mut of = vec![0usize; n];
                for (i, c) in after.iter().enumerate() {
                    for &d in c {
                        of[d as usize] = i;
                    }
                }
                of
            };
            // No unsure pair brought kept copies of two components together.
            for c in &after {
                let mut from: Vec<usize> = c
                    .iter()
                    .filter(|&&d| holds_kept(d))
                    .map(|&d| base_of[d as usize])
                    .collect();
                from.sort_unstable();
                from.dedup();
                assert!(from.len() <= 1, "{c:?} {cross:?} {out:?}");
            }
            // And each pair left out would have: its ends are apart, each with a kept copy.
            for &(a, b, est) in &cross {
                if stands(a, b) {
                    continue;
                }
                assert!(est < sure);
                let (ca, cb) = (after_of[a as usize], after_of[b as usize]);
                assert_ne!(ca, cb);
                assert!(after[ca].iter().any(|&d| holds_kept(d)));
                assert!(after[cb].iter().any(|&d| holds_kept(d)));
            }
        }
        assert!(held_total > 50, "{held_total} pairs held apart");
    }
}
