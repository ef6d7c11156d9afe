//! Verification: candidate pairs to edges whose similarity reaches the threshold.
//!
//! The estimate from `k`-slot signatures has standard error `sqrt(J(1-J)/k)`: about 0.035 at
//! `J = 0.8, k = 128`, so a pair at 0.85 falls below 0.8 on its estimate one time in seventeen.
//! To keep those pairs without letting pairs below the threshold in, [`VerifyMode::Auto`] (the
//! default) accepts or rejects on the estimate only when it is clearly on one side (more than
//! [`AUTO_MARGIN_SIGMAS`] standard errors away), and decides the rest on the exact Jaccard of the
//! two shingle sets, which a further streaming pass computes for just the documents involved.

use crate::minhash::{Signatures, estimate_jaccard, exact_jaccard};
use rayon::prelude::*;

/// How many standard errors an estimate must lie from the threshold to be trusted in
/// [`VerifyMode::Auto`].
pub const AUTO_MARGIN_SIGMAS: f64 = 3.0;

/// How candidate pairs are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifyMode {
    /// Estimated Jaccard from the signatures must reach the threshold.
    Estimate,
    /// Exact Jaccard of the shingle sets must reach the threshold (every candidate re-shingled).
    Exact,
    /// The estimate where it is clear, exact Jaccard near the threshold.
    Auto,
}

/// Candidates sorted by what verification made of them.
#[derive(Debug, Clone, Default)]
pub struct Triage {
    /// Pairs accepted on their estimate.
    pub accepted: Vec<(u32, u32)>,
    /// Pairs to decide on exact Jaccard.
    pub ambiguous: Vec<(u32, u32)>,
    /// Number rejected on their estimate.
    pub rejected: usize,
}

/// The half-width of the band around the threshold in which estimates are not trusted.
pub fn auto_margin(threshold: f64, num_perm: usize) -> f64 {
    AUTO_MARGIN_SIGMAS * (threshold * (1.0 - threshold) / num_perm as f64).sqrt()
}

/// Candidates per parallel piece of [`triage`].
const TRIAGE_PIECE: usize = 1 << 16;

/// Sorts candidates into accepted, ambiguous and rejected by their estimates, each list in the
/// order of `pairs`.
///
/// In pieces on the thread pool, put back together in order: at 10M short articles, 14M
/// candidates took 8 s of one core.
pub fn triage(pairs: &[(u32, u32)], sigs: &Signatures, threshold: f64, mode: VerifyMode) -> Triage {
    let pieces: Vec<Triage> = pairs
        .par_chunks(TRIAGE_PIECE)
        .map(|piece| triage_serial(piece, sigs, threshold, mode))
        .collect();
    let mut out = Triage {
        accepted: Vec::with_capacity(pieces.iter().map(|t| t.accepted.len()).sum()),
        ambiguous: Vec::with_capacity(pieces.iter().map(|t| t.ambiguous.len()).sum()),
        rejected: 0,
    };
    for piece in pieces {
        out.accepted.extend(piece.accepted);
        out.ambiguous.extend(piece.ambiguous);
        out.rejected += piece.rejected;
    }
    out
}

/// What triage makes of one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Accepted,
    Ambiguous,
    Rejected,
}

/// Decides candidates on their estimates, for a threshold and a mode.
#[derive(Debug, Clone, Copy)]
struct Judge {
    threshold: f64,
    margin: f64,
    mode: VerifyMode,
}

impl Judge {
    fn new(threshold: f64, num_perm: usize, mode: VerifyMode) -> Judge {
        let margin = match mode {
            VerifyMode::Estimate => 0.0,
            VerifyMode::Auto => auto_margin(threshold, num_perm),
            VerifyMode::Exact => f64::INFINITY,
        };
        Judge {
            threshold,
            margin,
            mode,
        }
    }

    fn verdict(&self, sigs: &Signatures, (a, b): (u32, u32)) -> Verdict {
        if self.mode == VerifyMode::Exact {
            return Verdict::Ambiguous;
        }
        self.verdict_of(estimate_jaccard(sigs.get(a as usize), sigs.get(b as usize)))
    }

    fn verdict_of(&self, est: f64) -> Verdict {
        let Judge {
            threshold,
            margin,
            mode,
        } = *self;
        if mode == VerifyMode::Exact {
            Verdict::Ambiguous
        } else if est >= threshold + margin || (mode == VerifyMode::Estimate && est >= threshold) {
            Verdict::Accepted
        } else if est < threshold - margin || mode == VerifyMode::Estimate {
            Verdict::Rejected
        } else {
            Verdict::Ambiguous
        }
    }
}

/// [`triage`] on one thread: its oracle in the tests.
fn triage_serial(
    pairs: &[(u32, u32)],
    sigs: &Signatures,
    threshold: f64,
    mode: VerifyMode,
) -> Triage {
    let judge = Judge::new(threshold, sigs.num_perm(), mode);
    let mut out = Triage::default();
    for &pair in pairs {
        match judge.verdict(sigs, pair) {
            Verdict::Accepted => out.accepted.push(pair),
            Verdict::Ambiguous => out.ambiguous.push(pair),
            Verdict::Rejected => out.rejected += 1,
        }
    }
    out
}

/// [`triage`] of candidates whose signatures may be in the spill file (`sigs` after
/// [`Signatures::spill_to`]): it reads back only the rows it needs, at most two parts of
/// `part_bytes` at a time ([`Signatures::agreements_in_parts`]), and nothing it read back
/// stays. In [`VerifyMode::Exact`] it reads nothing: every candidate is ambiguous.
///
/// `pairs` must be sorted and distinct, with `a < b` in every pair (as
/// [`crate::lsh::candidates`] gives them).
pub fn triage_read_back(
    pairs: &[(u32, u32)],
    sigs: &mut Signatures,
    part_bytes: usize,
    threshold: f64,
    mode: VerifyMode,
) -> std::io::Result<Triage> {
    if mode == VerifyMode::Exact {
        return Ok(Triage {
            ambiguous: pairs.to_vec(),
            ..Triage::default()
        });
    }
    let k = sigs.num_perm();
    let judge = Judge::new(threshold, k, mode);
    let agree = sigs.agreements_in_parts(pairs, part_bytes)?;
    let verdict = |a: u16| judge.verdict_of(f64::from(a) / k as f64);
    let count = |v: Verdict| agree.iter().filter(|&&a| verdict(a) == v).count();
    let mut out = Triage {
        accepted: Vec::with_capacity(count(Verdict::Accepted)),
        ambiguous: Vec::with_capacity(count(Verdict::Ambiguous)),
        rejected: count(Verdict::Rejected),
    };
    for (&pair, &a) in pairs.iter().zip(&agree) {
        match verdict(a) {
            Verdict::Accepted => out.accepted.push(pair),
            Verdict::Ambiguous => out.ambiguous.push(pair),
            Verdict::Rejected => {}
        }
    }
    Ok(out)
}

/// Decides ambiguous pairs on exact Jaccard; `shingle_set(doc)` gives a document's sorted,
/// deduplicated shingle hashes. Returns the accepted pairs.
pub fn verify_exact<'a, T: Ord + 'a>(
    pairs: &[(u32, u32)],
    threshold: f64,
    shingle_set: impl Fn(u32) -> &'a [T] + Sync,
) -> Vec<(u32, u32)> {
    pairs
        .par_iter()
        .copied()
        .filter(|&(a, b)| exact_jaccard(shingle_set(a), shingle_set(b)) >= threshold)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sigs_with_agreement(k: usize, equal: &[usize]) -> Signatures {
        // Doc i agrees with doc 0 in its first equal[i] slots.
        let mut sigs = Signatures::new(k);
        for &e in equal {
            let row: Vec<u32> = (0..k as u32)
                .map(|i| if (i as usize) < e { i } else { 1000 + i })
                .collect();
            sigs.extend_from_block(&row);
        }
        sigs
    }

    #[test]
    fn triage_by_mode() {
        // Estimates against doc 0: 1.0, 0.80, 0.90, 0.50 (k = 100, threshold 0.8).
        let sigs = sigs_with_agreement(100, &[100, 80, 90, 50]);
        let pairs = [(0, 1), (0, 2), (0, 3)];
        let t = triage(&pairs, &sigs, 0.8, VerifyMode::Estimate);
        assert_eq!((t.accepted.len(), t.ambiguous.len(), t.rejected), (2, 0, 1));
        // Margin at k = 100: 3·sqrt(0.16/100) = 0.12; 0.80 and 0.90 are ambiguous, 0.50 is not.
        let t = triage(&pairs, &sigs, 0.8, VerifyMode::Auto);
        assert_eq!((t.accepted.len(), t.ambiguous.len(), t.rejected), (0, 2, 1));
        let t = triage(&pairs, &sigs, 0.8, VerifyMode::Exact);
        assert_eq!((t.accepted.len(), t.ambiguous.len(), t.rejected), (0, 3, 0));
    }

    /// Triage in pieces gives the lists (in order) and count of triage on one thread, over
    /// more candidates than one piece holds.
    #[test]
    fn triage_in_pieces_is_triage_in_one() {
        let sigs = sigs_with_agreement(100, &[100, 80, 90, 50, 95, 70, 85, 60]);
        let mut pairs = Vec::new();
        let mut state = 7u64;
        while pairs.len() < 3 * TRIAGE_PIECE + 123 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let (a, b) = ((state >> 33) % 8, (state >> 13) % 8);
            if a < b {
                pairs.push((a as u32, b as u32));
            }
        }
        for mode in [VerifyMode::Estimate, VerifyMode::Auto, VerifyMode::Exact] {
            let (one, many) = (
                triage_serial(&pairs, &sigs, 0.8, mode),
                triage(&pairs, &sigs, 0.8, mode),
            );
            assert_eq!(
                (one.accepted, one.ambiguous, one.rejected),
                (many.accepted, many.ambiguous, many.rejected),
                "{mode:?}"
            );
        }
    }

    /// Triage reading back a spilled matrix part by part gives the lists and count of triage
    /// with every row in memory: parts of one block and of several, pairs within a part and
    /// across parts, documents in no pair, rows in the last block that never spills; and it
    /// leaves no row read back, having held at most two parts at once.
    #[test]
    fn triage_part_by_part_is_triage_in_memory() {
        let (k, block_docs, n) = (64, 8, 100);
        // Rows that agree with one of five templates on a random share of their slots.
        let mut state = 11u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        let mut rows: Vec<u32> = Vec::new();
        for d in 0..n {
            let agree = [k, k, 7 * k / 8, k / 2, 0][next() as usize % 5] as u64;
            let template = next() % 5;
            rows.extend((0..k as u64).map(|i| {
                if i < agree {
                    (template * 100 + i) as u32
                } else {
                    (1_000_000 + d * 100 + i) as u32
                }
            }));
        }
        let mut in_memory = Signatures::with_block_docs(k, block_docs);
        let mut spilled = Signatures::with_block_docs(k, block_docs);
        spilled.spill_to(tempfile::tempfile().unwrap());
        for row in rows.chunks(k) {
            in_memory.extend_from_block(row);
            spilled.extend_from_block(row);
            spilled.spill_full_blocks().unwrap();
        }
        spilled.finish_appending();
        // Documents 40..48 are in no pair; pairs reach across blocks, near and far.
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        while pairs.len() < 600 {
            let (a, b) = ((next() % n) as u32, (next() % n) as u32);
            if a < b && !(40..48).contains(&a) && !(40..48).contains(&b) {
                pairs.push((a, b));
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let row_bytes = k * 2;
        for mode in [VerifyMode::Estimate, VerifyMode::Auto, VerifyMode::Exact] {
            let want = triage_serial(&pairs, &in_memory, 0.5, mode);
            assert!(
                mode == VerifyMode::Exact || want.accepted.len() > 10,
                "{mode:?}"
            );
            assert!(mode == VerifyMode::Exact || want.rejected > 10, "{mode:?}");
            assert!(
                mode == VerifyMode::Estimate || want.ambiguous.len() > 10,
                "{mode:?}"
            );
            // One row per part (a block each), a block, two and a half blocks, everything.
            for part_rows in [1, block_docs, 5 * block_docs / 2, n as usize] {
                spilled.most_rows_read_back = 0;
                let got = triage_read_back(&pairs, &mut spilled, part_rows * row_bytes, 0.5, mode)
                    .unwrap();
                assert_eq!(
                    (&got.accepted, &got.ambiguous, got.rejected),
                    (&want.accepted, &want.ambiguous, want.rejected),
                    "{mode:?}, parts of {part_rows} rows"
                );
                let held = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    spilled.get(pairs[0].0 as usize).to_vec()
                }));
                assert!(held.is_err(), "a row read back stayed");
                // At most two parts held, each of `part_rows` rows or a single block.
                if mode != VerifyMode::Exact {
                    let bound = 2 * part_rows.max(block_docs);
                    assert!(
                        spilled.most_rows_read_back <= bound,
                        "{part_rows} rows a part"
                    );
                    assert!(spilled.most_rows_read_back > 0);
                }
            }
        }
    }

    #[test]
    fn exact_decides() {
        let sets: Vec<Vec<u64>> = vec![(0..10).collect(), (0..9).collect(), (0..5).collect()];
        let accepted = verify_exact(&[(0, 1), (0, 2)], 0.8, |d| &sets[d as usize]);
        assert_eq!(accepted, vec![(0, 1)]);
    }
}
