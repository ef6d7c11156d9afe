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

/// [`triage`] on one thread: its oracle in the tests.
fn triage_serial(
    pairs: &[(u32, u32)],
    sigs: &Signatures,
    threshold: f64,
    mode: VerifyMode,
) -> Triage {
    let margin = match mode {
        VerifyMode::Estimate => 0.0,
        VerifyMode::Auto => auto_margin(threshold, sigs.num_perm()),
        VerifyMode::Exact => f64::INFINITY,
    };
    let mut out = Triage::default();
    for &(a, b) in pairs {
        let est = estimate_jaccard(sigs.get(a as usize), sigs.get(b as usize));
        if mode == VerifyMode::Exact {
            out.ambiguous.push((a, b));
        } else if est >= threshold + margin || (mode == VerifyMode::Estimate && est >= threshold) {
            out.accepted.push((a, b));
        } else if est < threshold - margin || mode == VerifyMode::Estimate {
            out.rejected += 1;
        } else {
            out.ambiguous.push((a, b));
        }
    }
    out
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

    #[test]
    fn exact_decides() {
        let sets: Vec<Vec<u64>> = vec![(0..10).collect(), (0..9).collect(), (0..5).collect()];
        let accepted = verify_exact(&[(0, 1), (0, 2)], 0.8, |d| &sets[d as usize]);
        assert_eq!(accepted, vec![(0, 1)]);
    }
}
