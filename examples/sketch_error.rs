//! Speed and estimation error of the three MinHash variants against exact Jaccard, on real text.
//!
//! ```text
//! cargo run --release --example sketch_error -- CORPUS.jsonl [TRUTH.json] [--seeds N]
//! ```
//!
//! `CORPUS.jsonl` holds one article per line with `id` (string or integer) and `text`.
//! Documents are reduced to storyhash canonical text and word 5-gram shingles (default
//! [`ShingleConfig`], no learned boilerplate). The pair set spans the whole similarity range:
//!
//! * **family** pairs: every pair inside a duplicate family. With `TRUTH.json` (the bench
//!   corpus ground truth) they are its `pairs` (or, without `pairs`, each of its `copies` with
//!   its `orig`) whose two ids are both in the corpus; without it, each `<id>-copyN` with `<id>`
//!   and with its sibling copies;
//! * **random** pairs of two different corpus documents (not of one family);
//! * **partial** pairs built from the corpus: a document `A` and either its first `X`% of
//!   tokens (**truncated**) or its first `X`% followed by the tail of another document `C` from
//!   the same relative position (**spliced**), `X` uniform in 10..90%. A third of them start from
//!   a short window of `A` (the first 12..300 tokens, `C` clipped alike) so that pairs whose
//!   smaller document has fewer shingles than `k` are well represented.
//!
//! There are as many random and as many partial pairs as family pairs, and at least
//! 2000 of each. Exact Jaccard is over sorted, deduplicated shingle sets.
//!
//! For each variant and `k` in {64, 128, 256} every document is signed; signing of the corpus
//! documents is timed on one thread from precomputed shingles (the raw shingle sequence, as the
//! pipeline passes it; best of three runs of at least 0.25 s each, whole passes). For each pair the error `estimate − exact` is
//! summarised per Jaccard band and per size class (the smaller document has `< k` or `≥ k`
//! distinct shingles): n, bias (mean error, with its standard error), RMSE and the theoretical
//! standard error of classic MinHash, `sqrt(mean J(1−J)/k)` over the pairs of the cell. The
//! output is a Markdown report on standard output; progress goes to standard error.
//!
//! With `--seeds N` the errors are measured under N hash seeds (the default one, then seeds
//! derived from it; each changes the shingle hash and the sketch parameters, not the sets) and
//! pooled, which tells a bias of the estimator from the luck of one seed. Speed is measured on
//! the default seed only.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

use rayon::prelude::*;
use storyhash::minhash::{MinHasher, SketchKind, estimate_jaccard, exact_jaccard};
use storyhash::normalize::{LearnedBoilerplate, canonical_text};
use storyhash::shingle::{DEFAULT_SEED, ShingleConfig, ShingleScratch, shingles};

const KS: [usize; 3] = [64, 128, 256];
const KINDS: [SketchKind; 3] = [SketchKind::Classic, SketchKind::Oph, SketchKind::Super];
const BANDS: [(f64, f64); 6] = [
    (0.0, 0.2),
    (0.2, 0.4),
    (0.4, 0.6),
    (0.6, 0.8),
    (0.8, 0.9),
    (0.9, 1.0),
];
/// Minimum number of random and of partial pairs (the sample corpus has few families).
const MIN_OTHER_PAIRS: usize = 2000;
const PAIR_SEED: u64 = 0x736b_6574_6368_0001;
const TIMING_REPS: usize = 3;
/// Distinct shingles below which a document counts as very short.
const TINY: usize = 32;
const MIN_TIMED_SECONDS: f64 = 0.25;

/// SplitMix64: a small, fixed-seed generator so that the pair set is the same on every run.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
}

/// A document: a corpus article or a synthetic text made from corpus articles.
struct Doc {
    canonical: String,
    /// Raw text bytes (0 for synthetic documents).
    text_bytes: usize,
    /// The shingle hashes in text order, as the pipeline signs them.
    hashes: Vec<u64>,
    /// Sorted, deduplicated shingle set.
    set: Vec<u64>,
}

impl Doc {
    fn synthetic(canonical: String) -> Doc {
        Doc {
            canonical,
            text_bytes: 0,
            hashes: Vec::new(),
            set: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PairKind {
    Family,
    Random,
    Truncated,
    Spliced,
}

const PAIR_KINDS: [PairKind; 4] = [
    PairKind::Family,
    PairKind::Random,
    PairKind::Truncated,
    PairKind::Spliced,
];

struct Pair {
    a: usize,
    b: usize,
    kind: PairKind,
    exact: f64,
    /// Distinct shingles of the smaller document.
    min_set: usize,
}

/// Running sums of the errors of one cell (variant, k, band, size class).
#[derive(Debug, Default, Clone, Copy)]
struct Cell {
    n: usize,
    sum_j: f64,
    sum_err: f64,
    sum_err2: f64,
    /// Sum of the theoretical variances `J(1−J)/k`.
    sum_var: f64,
    /// Pairs with `J = 0` whose estimate is above 0.
    disjoint_hits: usize,
}

impl Cell {
    fn add(&mut self, exact: f64, estimate: f64, k: usize) {
        let err = estimate - exact;
        self.n += 1;
        self.sum_j += exact;
        self.sum_err += err;
        self.sum_err2 += err * err;
        self.sum_var += exact * (1.0 - exact) / k as f64;
        if exact == 0.0 && estimate > 0.0 {
            self.disjoint_hits += 1;
        }
    }

    fn merge(&mut self, other: &Cell) {
        self.n += other.n;
        self.sum_j += other.sum_j;
        self.sum_err += other.sum_err;
        self.sum_err2 += other.sum_err2;
        self.sum_var += other.sum_var;
        self.disjoint_hits += other.disjoint_hits;
    }

    fn bias(&self) -> f64 {
        self.sum_err / self.n as f64
    }

    fn rmse(&self) -> f64 {
        (self.sum_err2 / self.n as f64).sqrt()
    }

    /// Standard error of the bias.
    fn bias_se(&self) -> f64 {
        let n = self.n as f64;
        let var = (self.sum_err2 / n - self.bias().powi(2)).max(0.0);
        (var / n).sqrt()
    }

    fn theory(&self) -> f64 {
        (self.sum_var / self.n as f64).sqrt()
    }

    fn mean_j(&self) -> f64 {
        self.sum_j / self.n as f64
    }
}

/// Index of the band of `j`: `[lo, hi)`, the last band closed.
fn band_of(j: f64) -> usize {
    BANDS
        .iter()
        .position(|&(_, hi)| j < hi)
        .unwrap_or(BANDS.len() - 1)
}

/// Errors of one variant at one k: per band, `[small, large]` (smaller document `< k` or `≥ k`
/// distinct shingles), plus the cell of `0 < J < 0.2`.
#[derive(Debug, Default, Clone)]
struct ErrorTable {
    cells: [[Cell; 2]; BANDS.len()],
    low_nonzero: Cell,
    /// Pairs whose smaller document has fewer than [`TINY`] distinct shingles.
    tiny: Cell,
}

impl ErrorTable {
    fn band(&self, band: usize) -> Cell {
        let mut c = self.cells[band][0];
        c.merge(&self.cells[band][1]);
        c
    }

    fn size_class(&self, class: usize) -> Cell {
        let mut c = Cell::default();
        for band in &self.cells {
            c.merge(&band[class]);
        }
        c
    }

    fn all(&self) -> Cell {
        let mut c = self.size_class(0);
        c.merge(&self.size_class(1));
        c
    }
}

/// Signing speed of one variant at one k.
#[derive(Debug, Clone, Copy)]
struct Speed {
    seconds: f64,
}

fn kind_name(kind: SketchKind) -> &'static str {
    match kind {
        SketchKind::Classic => "classic",
        SketchKind::Oph => "oph",
        SketchKind::Super => "super",
    }
}

fn pair_kind_name(kind: PairKind) -> &'static str {
    match kind {
        PairKind::Family => "family",
        PairKind::Random => "random",
        PairKind::Truncated => "truncated",
        PairKind::Spliced => "spliced",
    }
}

fn band_name(band: usize) -> String {
    let (lo, hi) = BANDS[band];
    let close = if band + 1 == BANDS.len() { "]" } else { ")" };
    format!("[{lo:.1}, {hi:.1}{close}")
}

fn load_corpus(path: &str) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let data = std::fs::read_to_string(path)?;
    let mut docs = Vec::new();
    for (i, line) in data.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{path}:{}: {e}", i + 1))?;
        let id = match &v["id"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(format!("{path}:{}: no id", i + 1).into()),
        };
        let text = v["text"].as_str().unwrap_or("").to_string();
        docs.push((id, text));
    }
    Ok(docs)
}

/// Family pairs (document indices) from the ground truth file, or from `-copyN` ids.
fn family_pairs(
    ids: &HashMap<&str, usize>,
    truth: Option<&str>,
) -> Result<Vec<(usize, usize)>, Box<dyn std::error::Error>> {
    let mut pairs = Vec::new();
    match truth {
        Some(path) => {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
            let named: Vec<(String, String)> = if let Some(list) = v["pairs"].as_array() {
                list.iter()
                    .filter_map(|p| Some((p[0].as_str()?.into(), p[1].as_str()?.into())))
                    .collect()
            } else if let Some(list) = v["copies"].as_array() {
                list.iter()
                    .filter_map(|c| Some((c["orig"].as_str()?.into(), c["id"].as_str()?.into())))
                    .collect()
            } else {
                return Err(format!("{path}: neither `pairs` nor `copies`").into());
            };
            for (a, b) in named {
                if let (Some(&a), Some(&b)) = (ids.get(a.as_str()), ids.get(b.as_str())) {
                    pairs.push((a.min(b), a.max(b)));
                }
            }
        }
        None => {
            let mut families: HashMap<usize, Vec<usize>> = HashMap::new();
            for (&id, &doc) in ids {
                if let Some(pos) = id.find("-copy")
                    && let Some(&orig) = ids.get(&id[..pos])
                {
                    families.entry(orig).or_default().push(doc);
                }
            }
            for (orig, mut members) in families {
                members.push(orig);
                members.sort_unstable();
                for (i, &a) in members.iter().enumerate() {
                    for &b in &members[i + 1..] {
                        pairs.push((a, b));
                    }
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    Ok(pairs)
}

fn shingle_doc(doc: &mut Doc, config: &ShingleConfig, scratch: &mut ShingleScratch) {
    shingles(&doc.canonical, config, scratch, &mut doc.hashes);
    doc.set = doc.hashes.clone();
    doc.set.sort_unstable();
    doc.set.dedup();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut positional = Vec::new();
    let mut seeds = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--seeds" {
            seeds = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        } else {
            positional.push(arg);
        }
    }
    if positional.is_empty() || positional.len() > 2 || seeds == 0 {
        eprintln!("usage: sketch_error CORPUS.jsonl [TRUTH.json] [--seeds N]");
        std::process::exit(2);
    }
    let corpus_path = &positional[0];
    let truth_path = positional.get(1).map(String::as_str);

    // Corpus, canonical text and shingles; normalize + shingle timed on one thread.
    let raw = load_corpus(corpus_path)?;
    let config = ShingleConfig::default();
    let learned = LearnedBoilerplate::default();
    let clock = Instant::now();
    let mut scratch = ShingleScratch::default();
    let mut docs: Vec<Doc> = raw
        .iter()
        .map(|(_, text)| {
            let mut doc = Doc::synthetic(String::new());
            canonical_text(text, &learned, &mut doc.canonical);
            shingles(&doc.canonical, &config, &mut scratch, &mut doc.hashes);
            doc.text_bytes = text.len();
            doc
        })
        .collect();
    let prep_seconds = clock.elapsed().as_secs_f64();
    docs.par_iter_mut().for_each(|d| {
        d.set = d.hashes.clone();
        d.set.sort_unstable();
        d.set.dedup();
    });
    let n_real = docs.len();
    let text_bytes: usize = docs.iter().map(|d| d.text_bytes).sum();
    let raw_shingles: usize = docs.iter().map(|d| d.hashes.len()).sum();
    let distinct_shingles: usize = docs.iter().map(|d| d.set.len()).sum();
    let empty_docs = docs.iter().filter(|d| d.set.is_empty()).count();
    eprintln!(
        "{n_real} documents, {:.1} MB, {raw_shingles} shingles",
        text_bytes as f64 / 1e6
    );

    // Pairs.
    let ids: HashMap<&str, usize> = raw
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.as_str(), i))
        .collect();
    let family = family_pairs(&ids, truth_path)?;
    drop(raw);
    // Families as connected components, so that no random pair joins two relatives.
    let mut parent: Vec<usize> = (0..n_real).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for &(a, b) in &family {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent[ra] = rb;
    }
    let n_other = family.len().max(MIN_OTHER_PAIRS);
    let mut rng = Rng(PAIR_SEED);
    let mut pair_list: Vec<(usize, usize, PairKind)> = family
        .iter()
        .map(|&(a, b)| (a, b, PairKind::Family))
        .collect();

    let usable: Vec<usize> = (0..n_real).filter(|&d| !docs[d].set.is_empty()).collect();
    let mut seen = HashSet::new();
    let mut random = 0;
    while random < n_other {
        let (a, b) = (
            usable[rng.below(usable.len())],
            usable[rng.below(usable.len())],
        );
        let (a, b) = (a.min(b), a.max(b));
        if a == b || root(&mut parent, a) == root(&mut parent, b) || !seen.insert((a, b)) {
            continue;
        }
        pair_list.push((a, b, PairKind::Random));
        random += 1;
    }

    let tokens_of = |d: &Doc| -> Vec<String> { d.canonical.split(' ').map(String::from).collect() };
    let long_enough: Vec<usize> = usable
        .iter()
        .copied()
        .filter(|&d| docs[d].canonical.split(' ').count() >= 30)
        .collect();
    for i in 0..n_other {
        let a = long_enough[rng.below(long_enough.len())];
        let mut a_tokens = tokens_of(&docs[a]);
        let short = rng.below(3) == 0;
        let base = if short {
            let len = rng.range(12, 300).min(a_tokens.len());
            a_tokens.truncate(len);
            docs.push(Doc::synthetic(a_tokens.join(" ")));
            docs.len() - 1
        } else {
            a
        };
        let x = 0.1 + 0.8 * rng.unit();
        let cut_a = ((x * a_tokens.len() as f64).round() as usize).max(1);
        let spliced = i % 2 == 1;
        let mut b_tokens = a_tokens[..cut_a].to_vec();
        if spliced {
            let mut c = long_enough[rng.below(long_enough.len())];
            while c == a {
                c = long_enough[rng.below(long_enough.len())];
            }
            let mut c_tokens = tokens_of(&docs[c]);
            if short {
                c_tokens.truncate(a_tokens.len());
            }
            let cut_c = (x * c_tokens.len() as f64).round() as usize;
            b_tokens.extend_from_slice(&c_tokens[cut_c.min(c_tokens.len())..]);
        }
        docs.push(Doc::synthetic(b_tokens.join(" ")));
        let kind = if spliced {
            PairKind::Spliced
        } else {
            PairKind::Truncated
        };
        pair_list.push((base, docs.len() - 1, kind));
    }
    docs[n_real..]
        .par_iter_mut()
        .for_each_init(ShingleScratch::default, |scratch, d| {
            shingle_doc(d, &config, scratch)
        });

    let mut excluded = 0;
    let pairs: Vec<Pair> = pair_list
        .par_iter()
        .map(|&(a, b, kind)| Pair {
            a,
            b,
            kind,
            exact: exact_jaccard(&docs[a].set, &docs[b].set),
            min_set: docs[a].set.len().min(docs[b].set.len()),
        })
        .collect::<Vec<_>>()
        .into_iter()
        .filter(|p| {
            let keep = p.min_set > 0;
            excluded += usize::from(!keep);
            keep
        })
        .collect();
    eprintln!(
        "{} pairs ({} family, {n_other} random, {n_other} partial), {excluded} with an empty \
         document excluded",
        pairs.len(),
        family.len()
    );

    // Sign and measure: seed 0 is the default seed (and the one timed); further seeds change
    // both the shingle hash seed and the sketch seed, so that every variant sees new hash
    // functions over the same sets (exact Jaccard does not change).
    let mut errors: HashMap<(usize, usize), ErrorTable> = HashMap::new();
    let mut speeds: HashMap<(usize, usize), Speed> = HashMap::new();
    for s in 0..seeds {
        let seed = if s == 0 {
            DEFAULT_SEED
        } else {
            Rng(DEFAULT_SEED ^ s as u64).next_u64()
        };
        if s > 0 {
            let config = ShingleConfig { seed, ..config };
            docs.par_iter_mut()
                .for_each_init(ShingleScratch::default, |scratch, d| {
                    shingle_doc(d, &config, scratch)
                });
        }
        for (ki, &k) in KS.iter().enumerate() {
            for (vi, &kind) in KINDS.iter().enumerate() {
                let hasher = MinHasher::new(kind, k, seed);
                let mut sigs = vec![0u32; docs.len() * k];
                let first_unsigned = if s == 0 {
                    let real_sigs = &mut sigs[..n_real * k];
                    let mut best = f64::INFINITY;
                    for _ in 0..TIMING_REPS {
                        // Whole passes over the corpus until MIN_TIMED_SECONDS, so that a small
                        // corpus is timed over many passes.
                        let clock = Instant::now();
                        let mut passes = 0;
                        while passes == 0 || clock.elapsed().as_secs_f64() < MIN_TIMED_SECONDS {
                            for (doc, sig) in
                                docs[..n_real].iter().zip(real_sigs.chunks_exact_mut(k))
                            {
                                hasher.sign(black_box(&doc.hashes), sig);
                            }
                            black_box(&real_sigs);
                            passes += 1;
                        }
                        best = best.min(clock.elapsed().as_secs_f64() / f64::from(passes));
                    }
                    speeds.insert((vi, ki), Speed { seconds: best });
                    eprintln!("{} k={k}: signed in {best:.3} s", kind_name(kind));
                    n_real
                } else {
                    0
                };
                docs[first_unsigned..]
                    .par_iter()
                    .zip(sigs[first_unsigned * k..].par_chunks_exact_mut(k))
                    .for_each(|(doc, sig)| hasher.sign(&doc.hashes, sig));

                let table = errors.entry((vi, ki)).or_default();
                for p in &pairs {
                    let est = estimate_jaccard(&sigs[p.a * k..][..k], &sigs[p.b * k..][..k]);
                    let band = band_of(p.exact);
                    table.cells[band][usize::from(p.min_set >= k)].add(p.exact, est, k);
                    if p.exact > 0.0 && p.exact < 0.2 {
                        table.low_nonzero.add(p.exact, est, k);
                    }
                    if p.min_set < TINY {
                        table.tiny.add(p.exact, est, k);
                    }
                }
            }
        }
        if seeds > 1 {
            eprintln!("seed {} of {seeds} done", s + 1);
        }
    }

    // Report.
    let mut out = String::new();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    #[cfg(target_arch = "x86_64")]
    let simd = if std::arch::is_x86_feature_detected!("avx512f") {
        "AVX-512"
    } else if std::arch::is_x86_feature_detected!("avx2") {
        "AVX2"
    } else {
        "baseline"
    };
    #[cfg(not(target_arch = "x86_64"))]
    let simd = "n/a";
    writeln!(out, "# MinHash sketch error and speed\n")?;
    writeln!(
        out,
        "Corpus `{corpus_path}`{}: {n_real} documents ({empty_docs} without shingles), \
         {:.2} MB of text, {raw_shingles} shingles ({distinct_shingles} distinct within documents, \
         mean {:.0} per document). CPU: {cpu}, {} threads, classic MinHash kernel: {simd}. \
         Hash seeds: {seeds} (the default{}).\n",
        truth_path
            .map(|t| format!(" with truth `{t}`"))
            .unwrap_or_default(),
        text_bytes as f64 / 1e6,
        distinct_shingles as f64 / n_real as f64,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if seeds > 1 {
            " and derived ones; error statistics pool pairs × seeds, speed is of the default seed"
        } else {
            ""
        },
    )?;

    writeln!(out, "## Pairs\n")?;
    write!(out, "| J band |")?;
    for kind in PAIR_KINDS {
        write!(out, " {} |", pair_kind_name(kind))?;
    }
    writeln!(
        out,
        " all | smaller doc < 64 | < 128 | < 256 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for band in 0..BANDS.len() {
        let in_band: Vec<&Pair> = pairs.iter().filter(|p| band_of(p.exact) == band).collect();
        write!(out, "| {} |", band_name(band))?;
        for kind in PAIR_KINDS {
            write!(
                out,
                " {} |",
                in_band.iter().filter(|p| p.kind == kind).count()
            )?;
        }
        write!(out, " {} |", in_band.len())?;
        for k in KS {
            write!(
                out,
                " {} |",
                in_band.iter().filter(|p| p.min_set < k).count()
            )?;
        }
        writeln!(out)?;
    }
    let disjoint = pairs.iter().filter(|p| p.exact == 0.0).count();
    writeln!(
        out,
        "\n{} pairs; {disjoint} of them disjoint (J = 0). {excluded} pairs with an empty document \
         left out.\n",
        pairs.len()
    )?;

    writeln!(
        out,
        "## Speed (one thread, signing only, from precomputed shingles)\n\n\
         Normalize + shingle (for scale): {:.1} MB/s.\n\n\
         | variant | k | MB/s | ns / shingle | µs / doc | seconds per pass (best of {TIMING_REPS}) |\n\
         |---|---:|---:|---:|---:|---:|",
        text_bytes as f64 / 1e6 / prep_seconds
    )?;
    for (ki, k) in KS.iter().enumerate() {
        for (vi, &kind) in KINDS.iter().enumerate() {
            let s = speeds[&(vi, ki)].seconds;
            writeln!(
                out,
                "| {} | {k} | {:.1} | {:.2} | {:.2} | {s:.4} |",
                kind_name(kind),
                text_bytes as f64 / 1e6 / s,
                s * 1e9 / raw_shingles as f64,
                s * 1e6 / n_real as f64,
            )?;
        }
    }
    writeln!(out)?;

    writeln!(
        out,
        "## Summary\n\n\
         ratio = RMSE / theory, theory = sqrt(mean J(1−J)/k) over the same pairs. \
         \"disjoint > 0\": disjoint pairs with a non-zero estimate.\n\n\
         | variant | k | RMSE | ratio | ratio, smaller < k | ratio, smaller ≥ k | bias, smaller < k | \
         bias, smaller ≥ k | worst band bias (z) | disjoint > 0 |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for (ki, k) in KS.iter().enumerate() {
        for (vi, &kind) in KINDS.iter().enumerate() {
            let t = &errors[&(vi, ki)];
            let all = t.all();
            let ratio = |c: &Cell| {
                if c.n == 0 {
                    "–".to_string()
                } else {
                    format!("{:.3}", c.rmse() / c.theory())
                }
            };
            let bias = |c: &Cell| {
                if c.n == 0 {
                    "–".to_string()
                } else {
                    format!("{:+.4} ±{:.4}", c.bias(), c.bias_se())
                }
            };
            let (small, large) = (t.size_class(0), t.size_class(1));
            let worst = (0..BANDS.len())
                .map(|b| t.band(b))
                .filter(|c| c.n > 1)
                .max_by(|x, y| x.bias().abs().total_cmp(&y.bias().abs()))
                .map(|c| {
                    format!(
                        "{:+.4} ({:.1})",
                        c.bias(),
                        c.bias() / c.bias_se().max(f64::MIN_POSITIVE)
                    )
                })
                .unwrap_or_default();
            let hits: usize = t.cells[0].iter().map(|c| c.disjoint_hits).sum();
            writeln!(
                out,
                "| {} | {k} | {:.4} | {} | {} | {} | {} | {} | {worst} | {hits} / {} |",
                kind_name(kind),
                all.rmse(),
                ratio(&all),
                ratio(&small),
                ratio(&large),
                bias(&small),
                bias(&large),
                disjoint * seeds,
            )?;
        }
    }
    writeln!(out)?;

    writeln!(
        out,
        "### Very short documents (smaller document < {TINY} distinct shingles)\n\n\
         | variant | k | n | mean J | theory | bias | RMSE | ratio |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for (ki, k) in KS.iter().enumerate() {
        for (vi, &kind) in KINDS.iter().enumerate() {
            let c = errors[&(vi, ki)].tiny;
            if c.n == 0 {
                continue;
            }
            writeln!(
                out,
                "| {} | {k} | {} | {:.3} | {:.4} | {:+.4} ±{:.4} | {:.4} | {:.3} |",
                kind_name(kind),
                c.n,
                c.mean_j(),
                c.theory(),
                c.bias(),
                c.bias_se(),
                c.rmse(),
                c.rmse() / c.theory(),
            )?;
        }
    }
    writeln!(out)?;

    let header = |out: &mut String, extra: &str| -> std::fmt::Result {
        write!(out, "| J band |{extra} n | mean J | theory |")?;
        for kind in KINDS {
            write!(out, " {0} bias | {0} RMSE |", kind_name(kind))?;
        }
        write!(
            out,
            "\n|---|{}---:|---:|---:|",
            if extra.is_empty() { "" } else { "---|" }
        )?;
        writeln!(out, "{}", "---:|".repeat(2 * KINDS.len()))
    };
    let row = |out: &mut String, label: &str, cells: &[Cell]| -> std::fmt::Result {
        let c = cells[0];
        if c.n == 0 {
            write!(out, "{label} 0 | | |")?;
            return writeln!(out, "{}", " |".repeat(2 * KINDS.len()));
        }
        write!(
            out,
            "{label} {} | {:.3} | {:.4} |",
            c.n,
            c.mean_j(),
            c.theory()
        )?;
        for c in cells {
            write!(
                out,
                " {:+.4} ±{:.4} | {:.4} |",
                c.bias(),
                c.bias_se(),
                c.rmse()
            )?;
        }
        writeln!(out)
    };
    for (ki, k) in KS.iter().enumerate() {
        let tables: Vec<&ErrorTable> = (0..KINDS.len()).map(|vi| &errors[&(vi, ki)]).collect();
        writeln!(
            out,
            "## Error at k = {k}\n\nerror = estimate − exact; bias = mean error ± its standard \
             error; theory = sqrt(mean J(1−J)/k).\n"
        )?;
        header(&mut out, "")?;
        for band in 0..BANDS.len() {
            let cells: Vec<Cell> = tables.iter().map(|t| t.band(band)).collect();
            row(&mut out, &format!("| {} |", band_name(band)), &cells)?;
            if band == 0 {
                let cells: Vec<Cell> = tables.iter().map(|t| t.low_nonzero).collect();
                row(&mut out, "| of which 0 < J < 0.2 |", &cells)?;
            }
        }
        let cells: Vec<Cell> = tables.iter().map(|t| t.all()).collect();
        row(&mut out, "| all |", &cells)?;
        writeln!(
            out,
            "\n### By size at k = {k} (smaller document's distinct shingles)\n"
        )?;
        header(&mut out, " size |")?;
        for band in 0..BANDS.len() {
            for (class, name) in [(0, format!("< {k}")), (1, format!("≥ {k}"))] {
                let cells: Vec<Cell> = tables.iter().map(|t| t.cells[band][class]).collect();
                row(
                    &mut out,
                    &format!("| {} | {name} |", band_name(band)),
                    &cells,
                )?;
            }
        }
        writeln!(out)?;
    }
    print!("{out}");
    Ok(())
}
