//! Locality-sensitive hashing: signatures to candidate pairs.
//!
//! A signature of `k` slots is cut into `b` bands of `r` rows (`b·r ≤ k`). Two documents become
//! a candidate pair when all `r` slots of at least one band agree, which happens with probability
//! `P(s) = 1 - (1 - s^r)^b` for Jaccard similarity `s`: an S-curve.
//!
//! [`LshParams::choose`] picks `(b, r)` for a threshold `t` by minimizing
//! `FP_WEIGHT·∫₀ᵗ P(s) ds + FN_WEIGHT·∫ₜ¹ (1-P(s)) ds`. A missed pair is lost for good while a
//! false candidate only costs a verification, so false negatives weigh far more; the curve then
//! sits well left of `t` and pairs just above the threshold are kept.
//!
//! Candidates come from sorting `(band key, doc)` per band and pairing the documents of each
//! run of equal keys. Only the top 32 bits of each band key take part ([`BandKeys`], 4 bytes
//! per band and document, computed while signing): two bands that differ but agree there are
//! a rare extra candidate (about `n²/2³³` per band for `n` documents), which verification
//! rejects on its estimate. A bucket larger than [`MAX_BUCKET`] (thousands of identical boilerplate
//! pages) does not produce all its pairs: each member is paired with the next [`HUGE_BUCKET_WINDOW`]
//! members only, which keeps the work linear and still links identical documents into one
//! cluster.

use rayon::prelude::*;

use crate::minhash::{Signatures, Slot};
use crate::shingle::fmix64;

/// Weight of the false-positive area in [`LshParams::choose`].
///
/// 0.01 until 2026-11-28, which chose 18 × 7 at threshold 0.8 and 128 slots: a pair right at
/// the threshold was missed 1.45% of the time, and on the peers' corpus 9 truth pairs of
/// Jaccard 0.8 or more never became candidates. 0.002 chooses 21 × 6 there (0.17% missed at
/// the threshold, none of the 9 lost): 2% more candidates and 1.5% more exact checks, no
/// measurable time, 12 more bytes of band keys per article. Where pairs of middling similarity
/// abound it costs more: on the 10M short articles of `bench/scale`, whose originals share
/// passages, 76% more candidates (most rejected on their estimate), 10% more time and 7% more
/// memory, for 1,666 more copies found.
pub const FP_WEIGHT: f64 = 0.002;
/// Weight of the false-negative area in [`LshParams::choose`].
pub const FN_WEIGHT: f64 = 0.998;
/// Buckets with more members than this are paired by a sliding window.
pub const MAX_BUCKET: usize = 256;
/// How many following members each member of a huge bucket is paired with.
pub const HUGE_BUCKET_WINDOW: usize = 32;

/// Bands and rows, with the expected error areas of the S-curve they give.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LshParams {
    /// Number of bands.
    pub bands: usize,
    /// Rows (slots) per band.
    pub rows: usize,
    /// `∫₀ᵗ P(s) ds`: the area of false candidates below the threshold.
    pub expected_false_positive: f64,
    /// `∫ₜ¹ (1-P(s)) ds`: the area of missed pairs above the threshold.
    pub expected_false_negative: f64,
}

/// "21 bands × 6 rows", "1 band × 1 row": the words for `bands` and `rows`.
pub fn bands_by_rows(bands: usize, rows: usize) -> String {
    let noun = |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    format!(
        "{bands} {} × {rows} {}",
        noun(bands, "band", "bands"),
        noun(rows, "row", "rows")
    )
}

/// An S-curve area or a probability as `params` and the reports show it: four decimals, or two
/// significant digits where four decimals would show zero (2.6e-5 at the defaults).
pub fn area_text(x: f64) -> String {
    if x == 0.0 || x >= 1e-4 {
        format!("{x:.4}")
    } else {
        format!("{x:.1e}")
    }
}

/// Probability that a pair of similarity `s` becomes a candidate with `bands × rows`.
pub fn candidate_probability(s: f64, bands: usize, rows: usize) -> f64 {
    1.0 - (1.0 - s.powi(rows as i32)).powi(bands as i32)
}

/// Intervals of Simpson's rule in [`integrate`] (even).
const SIMPSON_STEPS: usize = 200;

fn integrate(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    // Composite Simpson's rule; the integrands are smooth polynomials.
    let steps = SIMPSON_STEPS;
    let h = (hi - lo) / steps as f64;
    let mut sum = f(lo) + f(hi);
    for i in 1..steps {
        let x = lo + i as f64 * h;
        sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(x);
    }
    sum * h / 3.0
}

impl LshParams {
    /// Computes the error areas of a given `bands × rows` at `threshold`.
    pub fn with(bands: usize, rows: usize, threshold: f64) -> LshParams {
        LshParams {
            bands,
            rows,
            expected_false_positive: integrate(
                |s| candidate_probability(s, bands, rows),
                0.0,
                threshold,
            ),
            expected_false_negative: integrate(
                |s| 1.0 - candidate_probability(s, bands, rows),
                threshold,
                1.0,
            ),
        }
    }

    /// The `bands × rows ≤ num_perm` that minimizes the weighted error areas at `threshold`
    /// (the first in `(bands, rows)` order among equals).
    ///
    /// Every choice is scored on Simpson's grid of [`LshParams::with`], but `s^rows` is taken
    /// once per grid point and row count and `(1 - s^rows)^bands` grows by one multiplication
    /// per band, instead of two `powi` per point of every choice: a few hundred thousand
    /// multiplications instead of as many `powi` calls (it ran three times per run, 20 ms).
    /// `LshParams::choose_naive` is its oracle in tests.
    pub fn choose(threshold: f64, num_perm: usize) -> LshParams {
        let below = simpson_grid(0.0, threshold);
        let above = simpson_grid(threshold, 1.0);
        let mut best: Option<(f64, (usize, usize))> = None;
        let (mut miss_below, mut miss_above) = (Vec::new(), Vec::new());
        for rows in 1..=num_perm {
            // (1 - s^rows) at each point, then its powers, one band at a time.
            let miss_one = |grid: &[(f64, f64)]| -> Vec<f64> {
                grid.iter()
                    .map(|&(s, _)| 1.0 - s.powi(rows as i32))
                    .collect()
            };
            let (one_below, one_above) = (miss_one(&below), miss_one(&above));
            miss_below.clone_from(&one_below);
            miss_above.clone_from(&one_above);
            for bands in 1..=num_perm / rows {
                if bands > 1 {
                    for (m, &o) in miss_below.iter_mut().zip(&one_below) {
                        *m *= o;
                    }
                    for (m, &o) in miss_above.iter_mut().zip(&one_above) {
                        *m *= o;
                    }
                }
                let fp: f64 = below
                    .iter()
                    .zip(&miss_below)
                    .map(|(&(_, w), &m)| w * (1.0 - m))
                    .sum();
                let fn_: f64 = above
                    .iter()
                    .zip(&miss_above)
                    .map(|(&(_, w), &m)| w * m)
                    .sum();
                let cost = FP_WEIGHT * fp + FN_WEIGHT * fn_;
                let better = best
                    .is_none_or(|(c, choice)| cost < c || (cost == c && (bands, rows) < choice));
                if better {
                    best = Some((cost, (bands, rows)));
                }
            }
        }
        let (bands, rows) = best.expect("num_perm >= 1 gives at least one choice").1;
        LshParams::with(bands, rows, threshold)
    }

    /// [`LshParams::choose`] by scoring every choice with [`LshParams::with`]: its oracle.
    #[cfg(test)]
    fn choose_naive(threshold: f64, num_perm: usize) -> LshParams {
        let mut best: Option<(f64, LshParams)> = None;
        for bands in 1..=num_perm {
            for rows in 1..=num_perm / bands {
                let p = LshParams::with(bands, rows, threshold);
                let cost =
                    FP_WEIGHT * p.expected_false_positive + FN_WEIGHT * p.expected_false_negative;
                if best.is_none_or(|(c, _)| cost < c) {
                    best = Some((cost, p));
                }
            }
        }
        best.expect("num_perm >= 1 gives at least one choice").1
    }
}

/// The points of Simpson's rule on `[lo, hi]` as [`integrate`] takes them, each with its
/// weight (`h/3` included).
fn simpson_grid(lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let h = (hi - lo) / SIMPSON_STEPS as f64;
    (0..=SIMPSON_STEPS)
        .map(|i| {
            let x = if i == SIMPSON_STEPS {
                hi
            } else {
                lo + i as f64 * h
            };
            let w = if i == 0 || i == SIMPSON_STEPS {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            (x, w * h / 3.0)
        })
        .collect()
}

/// The stable key of one band: the band's slots folded and mixed (fixed forever, like the
/// shingle hash, since indexes store band keys).
pub fn band_key(slots: &[crate::minhash::Slot]) -> u64 {
    let mut fold = slots.len() as u64;
    for &s in slots {
        fold = (fold.rotate_left(29) ^ u64::from(s)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fmix64(fold)
}

/// Candidate pairs and what it took to find them.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// Distinct pairs `(a, b)` with `a < b`, sorted.
    pub pairs: Vec<(u32, u32)>,
    /// Buckets that exceeded [`MAX_BUCKET`] and were paired by a window.
    pub huge_buckets: usize,
    /// Size of the largest bucket seen.
    pub largest_bucket: usize,
}

/// The top 32 bits of [`band_key`]: what [`candidates`] sorts on.
#[inline]
pub fn short_band_key(slots: &[Slot]) -> u32 {
    (band_key(slots) >> 32) as u32
}

/// Each document's [`short_band_key`] per band, in document order: `4 · bands` bytes per
/// document, all that finding candidates needs of the signatures.
///
/// After [`BandKeys::spill_to`], full blocks of [`crate::minhash::BLOCK_DOCS`] documents can
/// go to a file ([`BandKeys::spill_full_blocks`]), each block band by band, so that
/// [`candidates`] reads one band at a time ([`BandKeys::band`]) and memory holds one band's
/// keys instead of all of them.
#[derive(Debug, Clone, Default)]
pub struct BandKeys {
    bands: usize,
    block_docs: usize,
    /// Number of documents.
    len: usize,
    /// The keys of the documents from `tail_start` on, `bands` per document.
    tail: Vec<u32>,
    tail_start: usize,
    spill: Option<std::sync::Arc<std::fs::File>>,
}

/// [`BandKeys::set_many`] writes documents at most this many apart in a spilled block as one
/// span per band.
pub const SPAN_GAP: usize = 64;

impl BandKeys {
    /// No document yet, `bands` keys each.
    pub fn new(bands: usize) -> BandKeys {
        BandKeys::with_block_docs(bands, crate::minhash::BLOCK_DOCS)
    }

    fn with_block_docs(bands: usize, block_docs: usize) -> BandKeys {
        BandKeys {
            bands,
            block_docs,
            ..BandKeys::default()
        }
    }

    /// The keys of every signature in `sigs`.
    pub fn of(sigs: &Signatures, params: &LshParams) -> BandKeys {
        let mut keys = BandKeys::new(params.bands);
        keys.tail.par_extend(
            (0..sigs.len())
                .into_par_iter()
                .flat_map_iter(|d| band_keys_of(sigs.get(d), params)),
        );
        keys.len = sigs.len();
        keys
    }

    /// Appends the keys of documents computed elsewhere ([`band_keys_of`], `bands` per document).
    pub fn extend(&mut self, keys: &[u32]) {
        debug_assert_eq!(keys.len() % self.bands.max(1), 0);
        self.tail.extend_from_slice(keys);
        self.len += keys.len() / self.bands.max(1);
    }

    /// Replaces the keys of document `doc` with those of its (new) signature `row`.
    pub fn set(&mut self, doc: usize, row: &[Slot], params: &LshParams) -> std::io::Result<()> {
        let keys: Vec<u32> = band_keys_of(row, params).collect();
        self.set_many(&[doc as u32], &keys)
    }

    /// Replaces the keys of the documents `docs` (ascending, distinct) with `keys` (`bands`
    /// each): in memory, or in the spill file, one write per band for each span of a block
    /// whose documents lie at most [`SPAN_GAP`] apart (the keys between them read first and
    /// written back unchanged): a document's keys lie in `bands` places, so scattered documents
    /// written one by one took that many system calls each.
    pub fn set_many(&mut self, docs: &[u32], keys: &[u32]) -> std::io::Result<()> {
        let bands = self.bands;
        assert_eq!(keys.len(), docs.len() * bands);
        let mut bytes = Vec::new();
        let mut i = 0;
        while i < docs.len() {
            let doc = docs[i] as usize;
            assert!(doc < self.len, "band keys {doc} of {}", self.len);
            if doc >= self.tail_start {
                let at = (doc - self.tail_start) * bands;
                self.tail[at..at + bands].copy_from_slice(&keys[i * bands..(i + 1) * bands]);
                i += 1;
                continue;
            }
            let file = self
                .spill
                .as_ref()
                .expect("keys before the tail are spilled");
            let (b, local) = (doc / self.block_docs, doc % self.block_docs);
            let mut end = i + 1;
            while end < docs.len()
                && (docs[end] - docs[end - 1]) as usize <= SPAN_GAP
                && docs[end] as usize / self.block_docs == b
            {
                end += 1;
            }
            let span = docs[end - 1] as usize - doc + 1;
            for j in 0..bands {
                let at = (b * self.block_bytes() + (j * self.block_docs + local) * 4) as u64;
                let band_keys = keys[i * bands..end * bands].iter().skip(j).step_by(bands);
                bytes.clear();
                if span == end - i {
                    bytes.extend(band_keys.flat_map(|k| k.to_le_bytes()));
                } else {
                    bytes.resize(span * 4, 0);
                    std::os::unix::fs::FileExt::read_exact_at(&**file, &mut bytes, at)?;
                    for (&d, k) in docs[i..end].iter().zip(band_keys) {
                        let off = (d as usize - doc) * 4;
                        bytes[off..off + 4].copy_from_slice(&k.to_le_bytes());
                    }
                }
                std::os::unix::fs::FileExt::write_all_at(&**file, &bytes, at)?;
            }
            i = end;
        }
        Ok(())
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there is no document.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// From now on, [`BandKeys::spill_full_blocks`] writes full blocks to `file` (empty, and
    /// private to these keys: an unnamed temporary file).
    pub fn spill_to(&mut self, file: std::fs::File) {
        self.spill = Some(std::sync::Arc::new(file));
    }

    fn block_bytes(&self) -> usize {
        self.block_docs * self.bands * 4
    }

    /// Writes every full block of documents still in memory to the spill file, band by band
    /// (block `b`, band `j` at byte `(b · bands + j) · block_docs · 4`, little-endian), and
    /// drops it; nothing without [`BandKeys::spill_to`].
    pub fn spill_full_blocks(&mut self) -> std::io::Result<()> {
        let Some(file) = &self.spill else {
            return Ok(());
        };
        let (bands, block_docs) = (self.bands, self.block_docs);
        let mut bytes = Vec::with_capacity(block_docs * 4);
        let mut written = 0;
        while self.tail.len() - written >= block_docs * bands {
            let block = &self.tail[written..written + block_docs * bands];
            let b = self.tail_start / block_docs;
            // One band at a time: 64 KiB writes.
            for j in 0..bands {
                bytes.clear();
                bytes.extend(
                    block
                        .iter()
                        .skip(j)
                        .step_by(bands)
                        .flat_map(|k| k.to_le_bytes()),
                );
                let at = b * self.block_bytes() + j * block_docs * 4;
                std::os::unix::fs::FileExt::write_all_at(&**file, &bytes, at as u64)?;
            }
            written += block_docs * bands;
            self.tail_start += block_docs;
        }
        self.tail.drain(..written);
        Ok(())
    }

    /// The keys of band `band` of every document, in document order, into `out` (cleared
    /// first).
    pub fn band(&self, band: usize, out: &mut Vec<u32>) -> std::io::Result<()> {
        out.clear();
        out.reserve(self.len);
        if let Some(file) = &self.spill {
            let mut bytes = vec![0u8; self.block_docs * 4];
            for b in 0..self.tail_start / self.block_docs {
                let at = b * self.block_bytes() + band * self.block_docs * 4;
                std::os::unix::fs::FileExt::read_exact_at(&**file, &mut bytes, at as u64)?;
                out.extend(
                    bytes
                        .chunks_exact(4)
                        .map(|k| u32::from_le_bytes([k[0], k[1], k[2], k[3]])),
                );
            }
        }
        out.extend(self.tail.iter().skip(band).step_by(self.bands.max(1)));
        Ok(())
    }
}

/// The [`short_band_key`] of each band of one signature.
pub fn band_keys_of<'a>(row: &'a [Slot], params: &LshParams) -> impl Iterator<Item = u32> + 'a {
    let rows = params.rows;
    (0..params.bands).map(move |b| short_band_key(&row[b * rows..(b + 1) * rows]))
}

/// Finds candidate pairs among the documents whose `eligible` flag is set (fails only if
/// spilled keys cannot be read back).
pub fn candidates(
    keys: &BandKeys,
    eligible: &[bool],
    params: &LshParams,
) -> std::io::Result<Candidates> {
    debug_assert_eq!(keys.bands, params.bands);
    let docs: Vec<u32> = (0..keys.len() as u32)
        .filter(|&d| eligible[d as usize])
        .collect();
    let mut packed: Vec<u64> = Vec::new();
    // Each band key above its document, sorted as one u64: half the bytes of a (key, doc) pair
    // to move.
    const DOC_MASK: u64 = u32::MAX as u64;
    let mut band_keys: Vec<u32> = Vec::new();
    let mut sorted: Vec<u64> = Vec::with_capacity(docs.len());
    let mut huge_buckets = 0;
    let mut largest_bucket = 0;
    let mut deduped_len = 0;
    for band_idx in 0..params.bands {
        keys.band(band_idx, &mut band_keys)?;
        sorted.clear();
        sorted.par_extend(
            docs.par_iter()
                .map(|&d| (u64::from(band_keys[d as usize]) << 32) | u64::from(d)),
        );
        sorted.par_sort_unstable();
        let mut start = 0;
        while start < sorted.len() {
            let key = sorted[start] & !DOC_MASK;
            let mut end = start + 1;
            while end < sorted.len() && sorted[end] & !DOC_MASK == key {
                end += 1;
            }
            let bucket = &sorted[start..end];
            largest_bucket = largest_bucket.max(bucket.len());
            let window = if bucket.len() > MAX_BUCKET {
                huge_buckets += 1;
                HUGE_BUCKET_WINDOW
            } else {
                bucket.len()
            };
            for (i, &a) in bucket.iter().enumerate() {
                let a = a & DOC_MASK;
                for &b in bucket.iter().skip(i + 1).take(window) {
                    let b = b & DOC_MASK;
                    // Members are sorted by doc within a bucket, so a < b.
                    packed.push((a << 32) | b);
                }
            }
            start = end;
        }
        // Identical documents share every band: deduplicate as the pairs pile up, so memory
        // stays proportional to the distinct pairs, not to bands times pairs.
        if packed.len() > 2 * deduped_len + (1 << 20) {
            packed.par_sort_unstable();
            packed.dedup();
            deduped_len = packed.len();
        }
    }
    packed.par_sort_unstable();
    packed.dedup();
    Ok(Candidates {
        pairs: packed
            .into_iter()
            .map(|p| ((p >> 32) as u32, p as u32))
            .collect(),
        huge_buckets,
        largest_bucket,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_show_small_values() {
        let cases = [
            (0.0, "0.0000"),
            (0.01234, "0.0123"),
            (0.0001, "0.0001"),
            (0.0000234, "2.3e-5"),
        ];
        for (x, expected) in cases {
            assert_eq!(area_text(x), expected, "{x}");
        }
    }

    #[test]
    fn one_band_or_row_is_singular() {
        assert_eq!(bands_by_rows(21, 6), "21 bands × 6 rows");
        assert_eq!(bands_by_rows(11, 1), "11 bands × 1 row");
        assert_eq!(bands_by_rows(1, 128), "1 band × 128 rows");
    }

    #[test]
    fn s_curve_values() {
        // (s, bands, rows, expected probability), computed by hand.
        let cases = [
            (0.0, 4, 4, 0.0),
            (1.0, 4, 4, 1.0),
            (0.5, 1, 1, 0.5),
            (0.5, 2, 1, 0.75),
            (0.5, 1, 2, 0.25),
        ];
        for (s, b, r, expected) in cases {
            assert!((candidate_probability(s, b, r) - expected).abs() < 1e-12);
        }
    }

    #[test]
    fn integration_matches_closed_form() {
        // With one band of one row, P(s) = s: FP area t²/2, FN area (1-t)²/2.
        let p = LshParams::with(1, 1, 0.6);
        assert!((p.expected_false_positive - 0.18).abs() < 1e-9);
        assert!((p.expected_false_negative - 0.08).abs() < 1e-9);
    }

    #[test]
    fn chosen_curve_keeps_pairs_above_threshold() {
        for (threshold, num_perm) in [(0.8, 128), (0.7, 128), (0.9, 128), (0.5, 256), (0.8, 64)] {
            let p = LshParams::choose(threshold, num_perm);
            assert!(p.bands * p.rows <= num_perm);
            let above = candidate_probability(threshold + 0.05, p.bands, p.rows);
            assert!(
                above >= 0.995,
                "t={threshold} k={num_perm}: {p:?} P={above}"
            );
        }
    }

    #[test]
    fn huge_bucket_stays_linear_and_connected() {
        let n = 5000;
        let mut sigs = Signatures::new(4);
        for _ in 0..n {
            sigs.extend_from_block(&[1, 2, 3, 4]);
        }
        let params = LshParams::with(1, 4, 0.8);
        let c = candidates(&BandKeys::of(&sigs, &params), &vec![true; n], &params).unwrap();
        assert_eq!(c.huge_buckets, 1);
        assert_eq!(c.largest_bucket, n);
        assert!(c.pairs.len() <= n * HUGE_BUCKET_WINDOW);
        // Every document is paired with its successor, so union-find links them all.
        assert!((0..n as u32 - 1).all(|d| c.pairs.binary_search(&(d, d + 1)).is_ok()));
    }

    #[test]
    fn ineligible_documents_are_never_paired() {
        let mut sigs = Signatures::new(2);
        for _ in 0..3 {
            sigs.extend_from_block(&[9, 9]);
        }
        let params = LshParams::with(1, 2, 0.5);
        let c = candidates(&BandKeys::of(&sigs, &params), &[true, false, true], &params).unwrap();
        assert_eq!(c.pairs, vec![(0, 2)]);
    }

    #[test]
    fn candidates_are_the_pairs_that_share_a_band() {
        // Oracle: every pair of documents, compared band by band on the slots themselves.
        // Slots from a small alphabet make many bands agree.
        let (n, params) = (300, LshParams::with(6, 3, 0.5));
        let mut sigs = Signatures::new(params.bands * params.rows);
        let mut state = 7u64;
        for _ in 0..n {
            let row: Vec<u32> = (0..params.bands * params.rows)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 33) % 3) as u32
                })
                .collect();
            sigs.extend_from_block(&row);
        }
        let eligible: Vec<bool> = (0..n).map(|d| d % 7 != 3).collect();
        let mut expected = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                let (sa, sb) = (sigs.get(a), sigs.get(b));
                let share = (0..params.bands).any(|band| {
                    let r = band * params.rows..(band + 1) * params.rows;
                    sa[r.clone()] == sb[r]
                });
                if share && eligible[a] && eligible[b] {
                    expected.push((a as u32, b as u32));
                }
            }
        }
        assert!(expected.len() > 1000, "{} pairs", expected.len());
        let c = candidates(&BandKeys::of(&sigs, &params), &eligible, &params).unwrap();
        assert_eq!(c.pairs, expected);
        // The same keys spilled in blocks of 16, some set again after their block was
        // written, give the same candidates.
        let mut keys = BandKeys::with_block_docs(params.bands, 16);
        keys.spill_to(tempfile::tempfile().unwrap());
        for d in 0..n {
            keys.extend(&band_keys_of(sigs.get((d * 7) % n), &params).collect::<Vec<_>>());
            if d % 13 == 0 {
                keys.spill_full_blocks().unwrap();
            }
        }
        keys.spill_full_blocks().unwrap();
        assert_eq!(keys.tail_start, n / 16 * 16);
        for d in 0..n {
            if (d * 7) % n != d && d % 3 != 0 {
                keys.set(d, sigs.get(d), &params).unwrap();
            }
        }
        // The rest as runs of consecutive documents, across block boundaries.
        let rest: Vec<u32> = (0..n as u32).filter(|d| d % 3 == 0).collect();
        let rest_keys: Vec<u32> = rest
            .iter()
            .flat_map(|&d| band_keys_of(sigs.get(d as usize), &params))
            .collect();
        let runs: Vec<u32> = (0..n as u32).collect();
        let run_keys: Vec<u32> = (0..n)
            .flat_map(|d| band_keys_of(sigs.get(d), &params))
            .collect();
        keys.set_many(&rest, &rest_keys).unwrap();
        assert_eq!(
            candidates(&keys, &eligible, &params).unwrap().pairs,
            expected
        );
        keys.set_many(&runs, &run_keys).unwrap();
        let c = candidates(&keys, &eligible, &params).unwrap();
        assert_eq!(c.pairs, expected);
    }

    #[test]
    fn choose_equals_scoring_every_choice() {
        for num_perm in [1, 7, 16, 64, 128, 200, 256] {
            for t in 1..20 {
                let threshold = t as f64 * 0.05;
                assert_eq!(
                    LshParams::choose(threshold, num_perm),
                    LshParams::choose_naive(threshold, num_perm),
                    "t={threshold} k={num_perm}"
                );
            }
        }
    }
}
