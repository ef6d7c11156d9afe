//! The near-duplicate pipeline, stage after stage: the library's `dedup` entry point.
//!
//! ```text
//! scan inputs ─ validate, learn boilerplate ─┐
//! stream again ─ normalize → shingle → MinHash (parallel) ─→ signatures
//! signatures → LSH candidates → triage on estimates ─→ [stream again: exact Jaccard for the
//! ambiguous] → verified edges → clusters
//! ```
//!
//! Only the articles' metadata and their signatures stay in memory; the texts are streamed.

use std::ops::Range;
use std::path::PathBuf;
use std::time::Instant;

use ahash::AHashMap;
use rayon::prelude::*;

use crate::cluster::{ClusterConfig, Clusters, cluster};
use crate::error::{Error, Result};
use crate::ingest::{
    Article, Chunk, FieldNames, Input, Record, Reject, accept, for_each_chunk, parse_record_in,
};
use crate::lsh::{LshParams, candidates};
use crate::minhash::{MAX_NUM_PERM, MinHasher, Signatures, SketchKind};
use crate::normalize::{
    BoilerplateLearner, LearnedBoilerplate, LineSample, canonical_text, for_each_token, source_key,
};
use crate::progress::Progress;
use crate::shingle::{
    ShingleConfig, ShingleKind, ShingleScratch, grams_from_token_hashes, hash_token, shingles,
};
use crate::story::{Stories, StoryConfig, cluster_stories, extract_terms};
use crate::verify::{VerifyMode, triage, verify_exact};

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
    /// (Outlet, line) pairs learned as boilerplate.
    pub learned_boilerplate_lines: usize,
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
}

/// Everything a `dedup` run found, ready for the report stage.
#[derive(Debug)]
pub struct DedupRun {
    /// The inputs, kept open for the report's second pass (the deduplicated corpus).
    pub inputs: Vec<Input>,
    /// Accepted articles in input order; a document's index is its `DocId`.
    pub articles: Vec<Article>,
    /// Rejected lines and files, in input order.
    pub rejects: Vec<Reject>,
    /// One signature per article.
    pub signatures: Signatures,
    /// The LSH parameters used.
    pub lsh: LshParams,
    /// Boilerplate lines learned from the corpus.
    pub learned: LearnedBoilerplate,
    /// Verified pairs `(a, b)`, `a < b`, sorted.
    pub edges: Vec<(u32, u32)>,
    /// Near-duplicate clusters.
    pub clusters: Clusters,
    /// Same-story clusters, when the story stage ran.
    pub stories: Option<Stories>,
    /// Counts.
    pub stats: RunStats,
    /// Seconds per stage, in order.
    pub timings: Vec<(&'static str, f64)>,
}

/// Opens the inputs (spooling standard input into `spool_dir`).
pub fn open_inputs(paths: &[PathBuf], spool_dir: &std::path::Path) -> Result<Vec<Input>> {
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Error::Config(
            "standard input (-) can be read only once".into(),
        ));
    }
    paths.iter().map(|p| Input::open(p, spool_dir)).collect()
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
        f(&chunk, start..cursor)
    })?;
    match articles.get(cursor) {
        None => Ok(()),
        Some(missing) => Err(changed(
            &inputs[missing.location.input as usize],
            missing.location.line,
        )),
    }
}

fn changed(input: &Input, line: u64) -> Error {
    Error::io(
        &input.name,
        std::io::Error::other(format!(
            "the input changed while storyhash was reading it (line {line} is no longer where it was)"
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
    let start = (article.location.offset - chunk.offset) as usize;
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
}

/// What normalizing and shingling needs besides the text.
struct ShingleStage<'a> {
    fields: &'a FieldNames,
    shingle: ShingleConfig,
}

impl ShingleStage<'_> {
    /// The shingle hashes of one parsed record, in `scratch.hashes`.
    fn shingle(&self, record: &Record<'_>, learned: &LearnedBoilerplate, scratch: &mut Scratch) {
        let text = record.text.as_deref().unwrap_or("");
        let skey = source_key(record.source.as_deref());
        scratch.hashes.clear();
        match self.shingle.kind {
            // Words: each token hashed as it is cut, no canonical text built.
            ShingleKind::Word => {
                let seed = self.shingle.seed;
                let token_hashes = &mut scratch.token_hashes;
                token_hashes.clear();
                for_each_token(text, learned, skey, &mut scratch.token, |t| {
                    token_hashes.push(hash_token(t, seed))
                });
                grams_from_token_hashes(token_hashes, &self.shingle, &mut scratch.hashes);
            }
            ShingleKind::Char => {
                canonical_text(text, learned, skey, &mut scratch.canonical);
                shingles(
                    &scratch.canonical,
                    &self.shingle,
                    &mut scratch.shingle,
                    &mut scratch.hashes,
                );
            }
        }
    }

    /// The shingle hashes of an accepted article's line, in `scratch.hashes`.
    ///
    /// `text_buf` holds the text when it has escapes, reused from line to line.
    fn shingle_line(
        &self,
        line: &[u8],
        learned: &LearnedBoilerplate,
        text_buf: &mut String,
        scratch: &mut Scratch,
    ) {
        let record = parse_record_in(line, self.fields, text_buf)
            .expect("lines were validated in the scan pass and the input has not changed");
        self.shingle(&record, learned, scratch);
    }
}

/// Runs the near-duplicate pipeline over `inputs`.
pub fn dedup(
    inputs: Vec<Input>,
    config: &DedupConfig,
    progress: &dyn Progress,
) -> Result<DedupRun> {
    let lsh = config.validate()?;
    let mut timings = Vec::new();
    let total_bytes: u64 = inputs.iter().map(Input::file_len).sum();
    let stage = ShingleStage {
        fields: &config.fields,
        shingle: config.shingle,
    };
    let hasher = MinHasher::new(config.sketch, config.num_perm, config.shingle.seed);

    // One pass: validate every line, keep metadata, sign, gather lines for learning.
    let clock = Instant::now();
    progress.start("signatures", Some(total_bytes));
    let mut scanned = scan_and_sign(&inputs, config, &stage, &hasher, progress)?;
    progress.finish();
    timings.push(("scan_and_sign", clock.elapsed().as_secs_f64()));

    // Learned boilerplate: re-sign only the articles that hold a learned line.
    let clock = Instant::now();
    let learned = scanned.learner.finish(config.boilerplate_min_docs);
    scanned.stats.learned_boilerplate_lines = learned.len();
    if !learned.is_empty() {
        let affected: Vec<u32> = (0..scanned.articles.len() as u32)
            .into_par_iter()
            .filter(|&d| scanned.line_keys.any_in(d as usize, &learned))
            .collect();
        scanned.stats.relearned_articles = affected.len() as u64;
        if !affected.is_empty() {
            progress.start("boilerplate", Some(total_bytes));
            let k = config.num_perm;
            let (articles, signatures) = (&scanned.articles, &mut scanned.signatures);
            let has_shingles = &mut scanned.has_shingles;
            let mut next = 0;
            let mut block: Vec<u32> = Vec::new();
            let mut nonempty: Vec<bool> = Vec::new();
            for_each_article_chunk(&inputs, articles, progress, |chunk, range| {
                let first = next;
                while next < affected.len() && (affected[next] as usize) < range.end {
                    next += 1;
                }
                let wanted = &affected[first..next];
                block.clear();
                block.resize(wanted.len() * k, 0);
                nonempty.clear();
                nonempty.resize(wanted.len(), false);
                block
                    .par_chunks_mut(k)
                    .zip(nonempty.par_iter_mut())
                    .zip(wanted)
                    .for_each_init(
                        Default::default,
                        |(text_buf, scratch), ((sig, has), &doc)| {
                            let line = article_line(chunk, &articles[doc as usize]);
                            stage.shingle_line(line, &learned, text_buf, scratch);
                            *has = !scratch.hashes.is_empty();
                            hasher.sign(&scratch.hashes, sig);
                        },
                    );
                for (i, &doc) in wanted.iter().enumerate() {
                    signatures.set(doc as usize, &block[i * k..(i + 1) * k]);
                    has_shingles[doc as usize] = nonempty[i];
                }
                Ok(())
            })?;
            progress.finish();
        }
    }
    drop(scanned.line_keys);
    timings.push(("boilerplate", clock.elapsed().as_secs_f64()));
    let ScanOutput {
        articles,
        rejects,
        signatures,
        has_shingles,
        terms,
        mut stats,
        ..
    } = scanned;
    stats.no_shingles = has_shingles.iter().filter(|&&h| !h).count() as u64;

    // Candidates.
    let clock = Instant::now();
    let found = candidates(&signatures, &has_shingles, &lsh);
    stats.candidate_pairs = found.pairs.len() as u64;
    stats.huge_buckets = found.huge_buckets as u64;
    stats.largest_bucket = found.largest_bucket as u64;
    timings.push(("candidates", clock.elapsed().as_secs_f64()));

    // Verification.
    let clock = Instant::now();
    let threshold = config.cluster.threshold;
    let sorted = triage(&found.pairs, &signatures, threshold, config.verify);
    drop(found);
    stats.accepted_on_estimate = sorted.accepted.len() as u64;
    stats.rejected_on_estimate = sorted.rejected as u64;
    stats.exact_checked = sorted.ambiguous.len() as u64;
    let mut edges = sorted.accepted;
    if !sorted.ambiguous.is_empty() {
        progress.start("exact check", Some(total_bytes));
        let exact = exact_sets(
            &inputs,
            &articles,
            &stage,
            &learned,
            &sorted.ambiguous,
            progress,
        )?;
        progress.finish();
        let accepted = verify_exact(&sorted.ambiguous, threshold, |d| exact.get(d));
        stats.exact_accepted = accepted.len() as u64;
        edges.extend(accepted);
    }
    edges.sort_unstable();
    stats.verified_pairs = edges.len() as u64;
    timings.push(("verify", clock.elapsed().as_secs_f64()));

    // Clusters.
    let clock = Instant::now();
    let clusters = cluster(&articles, &signatures, &edges, &config.cluster);
    timings.push(("cluster", clock.elapsed().as_secs_f64()));

    // Stories.
    let stories = config.stories.as_ref().map(|story_config| {
        let clock = Instant::now();
        let stories = cluster_stories(&articles, &terms, &clusters, story_config);
        timings.push(("stories", clock.elapsed().as_secs_f64()));
        stories
    });
    drop(terms);

    Ok(DedupRun {
        inputs,
        articles,
        rejects,
        signatures,
        lsh,
        learned,
        edges,
        clusters,
        stories,
        stats,
        timings,
    })
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

    fn any_in(&self, doc: usize, learned: &LearnedBoilerplate) -> bool {
        let start = if doc == 0 {
            0
        } else {
            self.ends[doc - 1] as usize
        };
        self.keys[start..self.ends[doc] as usize]
            .iter()
            .any(|&k| learned.contains_key(k))
    }
}

enum Scanned {
    Blank,
    Bad { id: Option<String>, reason: String },
    Good(Article, Option<LineSample>, bool, Vec<(u64, f32)>),
}

struct ScanOutput {
    articles: Vec<Article>,
    rejects: Vec<Reject>,
    signatures: Signatures,
    has_shingles: Vec<bool>,
    learner: BoilerplateLearner,
    line_keys: LineKeys,
    /// Story terms per article (empty when the story stage is off).
    terms: Vec<Vec<(u64, f32)>>,
    stats: RunStats,
}

fn scan_and_sign(
    inputs: &[Input],
    config: &DedupConfig,
    stage: &ShingleStage<'_>,
    hasher: &MinHasher,
    progress: &dyn Progress,
) -> Result<ScanOutput> {
    let k = config.num_perm;
    let mut out = ScanOutput {
        articles: Vec::new(),
        rejects: Vec::new(),
        signatures: Signatures::new(k),
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
    // Doc indices per id hash; collisions are resolved by comparing the ids themselves.
    let mut seen_ids: AHashMap<u64, Vec<u32>> = AHashMap::new();
    let names = &config.fields;
    let learn = config.learn_boilerplate;
    let nothing_learned = LearnedBoilerplate::default();
    let mut block: Vec<u32> = Vec::new();
    for_each_chunk(inputs, |input, chunk| {
        progress.advance(chunk.raw_bytes);
        progress.advance_articles(chunk.lines.len() as u64);
        block.clear();
        block.resize(chunk.lines.len() * k, 0);
        let scanned: Vec<(Scanned, u64)> = block
            .par_chunks_mut(k)
            .enumerate()
            .map_init(Default::default, |(text_buf, scratch), (idx, sig)| {
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
                    Err(reason) => return (Scanned::Bad { id: None, reason }, 0),
                };
                match accept(&record, names, chunk.location(idx)) {
                    Ok(article) => {
                        let text = record.text.as_deref().unwrap_or("");
                        let sample = learn.then(|| LineSample::of(text, record.source.as_deref()));
                        stage.shingle(&record, &nothing_learned, scratch);
                        hasher.sign(&scratch.hashes, sig);
                        let nonempty = !scratch.hashes.is_empty();
                        let terms = config.stories.as_ref().map_or_else(Vec::new, |sc| {
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
            })
            .collect();
        let file_stats = &mut out.stats.inputs[chunk.input as usize];
        for (idx, (item, text_len)) in scanned.into_iter().enumerate() {
            let line_no = chunk.first_line + idx as u64;
            let (id, reason) = match item {
                Scanned::Blank => continue,
                Scanned::Bad { id, reason } => (id, reason),
                Scanned::Good(article, sample, nonempty, terms) => {
                    let hash = xxhash_rust::xxh3::xxh3_64(article.id.as_str().as_bytes());
                    let earlier = seen_ids.get(&hash).and_then(|docs| {
                        docs.iter()
                            .map(|&d| &out.articles[d as usize])
                            .find(|a| a.id.as_str() == article.id.as_str())
                    });
                    match earlier {
                        Some(first) => (
                            Some(article.id.to_string()),
                            format!(
                                "duplicate id `{}` (first seen at {}:{})",
                                article.id,
                                inputs[first.location.input as usize].display_name(),
                                first.location.line
                            ),
                        ),
                        None if out.articles.len() >= u32::MAX as usize => {
                            return Err(Error::Config(
                                "more than 4,294,967,295 articles in one run".into(),
                            ));
                        }
                        None => {
                            seen_ids
                                .entry(hash)
                                .or_default()
                                .push(out.articles.len() as u32);
                            if let Some(sample) = &sample {
                                out.learner.add(sample);
                            }
                            out.line_keys.push(sample.as_ref());
                            out.signatures
                                .extend_from_block(&block[idx * k..(idx + 1) * k]);
                            out.has_shingles.push(nonempty);
                            if config.stories.is_some() {
                                out.terms.push(terms);
                            }
                            file_stats.lines += 1;
                            file_stats.articles += 1;
                            out.stats.text_bytes += text_len;
                            out.articles.push(article);
                            continue;
                        }
                    }
                }
            };
            file_stats.lines += 1;
            file_stats.rejected += 1;
            if !config.skip_invalid {
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
        Ok(())
    })?;
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

/// Sorted, deduplicated shingle sets of the documents named in `pairs`.
struct ExactSets {
    docs: Vec<u32>,
    sets: Vec<Vec<u64>>,
}

impl ExactSets {
    fn get(&self, doc: u32) -> &[u64] {
        let idx = self
            .docs
            .binary_search(&doc)
            .expect("every document of an ambiguous pair was shingled");
        &self.sets[idx]
    }
}

fn exact_sets(
    inputs: &[Input],
    articles: &[Article],
    stage: &ShingleStage<'_>,
    learned: &LearnedBoilerplate,
    pairs: &[(u32, u32)],
    progress: &dyn Progress,
) -> Result<ExactSets> {
    let mut docs: Vec<u32> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    docs.par_sort_unstable();
    docs.dedup();
    let mut sets: Vec<Vec<u64>> = Vec::with_capacity(docs.len());
    let mut next = 0;
    for_each_article_chunk(inputs, articles, progress, |chunk, range| {
        let first = next;
        while next < docs.len() && (docs[next] as usize) < range.end {
            next += 1;
        }
        let wanted = &docs[first..next];
        sets.par_extend(wanted.par_iter().map_init(
            Default::default,
            |(text_buf, scratch), &doc| {
                stage.shingle_line(
                    article_line(chunk, &articles[doc as usize]),
                    learned,
                    text_buf,
                    scratch,
                );
                let mut set = scratch.hashes.clone();
                set.sort_unstable();
                set.dedup();
                set
            },
        ));
        Ok(())
    })?;
    Ok(ExactSets { docs, sets })
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

    fn run_on(docs: &[(String, String, &str)], config: &DedupConfig) -> DedupRun {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.jsonl");
        let lines: Vec<String> = docs
            .iter()
            .map(|(id, text, source)| {
                serde_json::json!({"id": id, "text": text, "source": source}).to_string()
            })
            .collect();
        std::fs::write(&path, lines.join("\n")).unwrap();
        let inputs = open_inputs(&[path], dir.path()).unwrap();
        dedup(inputs, config, &Silent).unwrap()
    }

    /// The one-pass signing plus re-signing of the articles a learned line touches gives the
    /// signatures that signing with the learned lines from the start gives (the naive oracle),
    /// and the fused tokenizer gives the shingles of the canonical text.
    #[test]
    fn signatures_equal_the_naive_computation() {
        let docs = corpus_with_outlet_footer();
        for sketch in [SketchKind::Classic, SketchKind::Oph] {
            let config = DedupConfig {
                sketch,
                ..DedupConfig::default()
            };
            let run = run_on(&docs, &config);
            assert_eq!(run.learned.len(), 1, "the bugle footer is learned");
            assert!(run.stats.relearned_articles >= 8);
            let hasher = MinHasher::new(sketch, config.num_perm, config.shingle.seed);
            for (doc, (_, text, source)) in docs.iter().enumerate() {
                let mut canonical = String::new();
                canonical_text(text, &run.learned, source_key(Some(source)), &mut canonical);
                assert_eq!(canonical.contains("bugle"), *source == "other.example");
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
}
