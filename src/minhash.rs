//! MinHash: a set of shingle hashes to a fixed-length signature.
//!
//! The classic scheme: `k` hash functions, slot `i` keeps the minimum of `h_i` over every shingle
//! of the document, whatever its position. `h_i(x) = (a_i·x + b_i) mod 2^64 >> 32` is
//! Dietzfelbinger's multiply-add-shift, with `a_i` odd and `(a_i, b_i)` drawn from SplitMix64
//! seeded with the hash seed, so the parameters (and every signature) are fixed by the seed alone.
//! The inner loop over slots is branch-free and vectorizes.
//!
//! Two signatures agree in slot `i` with probability equal to the Jaccard similarity of the two
//! shingle sets; the fraction of agreeing slots estimates it with standard error
//! `sqrt(J(1-J)/k)`.

/// The MinHash parameters: one `(a, b)` pair per slot.
#[derive(Debug, Clone)]
pub struct MinHasher {
    a: Vec<u64>,
    b: Vec<u64>,
}

/// SplitMix64, the stable generator behind the hash parameters.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl MinHasher {
    /// Parameters for `num_perm` slots from `seed`.
    pub fn new(num_perm: usize, seed: u64) -> MinHasher {
        let mut state = seed;
        let mut a = Vec::with_capacity(num_perm);
        let mut b = Vec::with_capacity(num_perm);
        for _ in 0..num_perm {
            a.push(splitmix64(&mut state) | 1);
            b.push(splitmix64(&mut state));
        }
        MinHasher { a, b }
    }

    /// Number of slots.
    pub fn num_perm(&self) -> usize {
        self.a.len()
    }

    /// Writes the signature of `shingles` into `out` (`num_perm` slots).
    ///
    /// An empty set gives `u32::MAX` in every slot.
    pub fn sign(&self, shingles: &[u64], out: &mut [u32]) {
        assert_eq!(
            out.len(),
            self.a.len(),
            "signature buffer has the wrong length"
        );
        out.fill(u32::MAX);
        for &x in shingles {
            for ((slot, &a), &b) in out.iter_mut().zip(&self.a).zip(&self.b) {
                let h = (a.wrapping_mul(x).wrapping_add(b) >> 32) as u32;
                *slot = (*slot).min(h);
            }
        }
    }
}

/// The fraction of slots in which two signatures agree: the estimated Jaccard similarity.
pub fn estimate_jaccard(a: &[u32], b: &[u32]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    if a.is_empty() {
        return 0.0;
    }
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / a.len() as f64
}

/// Exact Jaccard similarity of two sorted, deduplicated hash sets.
pub fn exact_jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

/// A flat row-major matrix of signatures: document `d` owns `slots[d*k..(d+1)*k]`.
#[derive(Debug, Clone, Default)]
pub struct Signatures {
    num_perm: usize,
    slots: Vec<u32>,
}

impl Signatures {
    /// An empty matrix of `num_perm`-slot signatures.
    pub fn new(num_perm: usize) -> Signatures {
        Signatures {
            num_perm,
            slots: Vec::new(),
        }
    }

    /// Slots per signature.
    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    /// Number of signatures.
    pub fn len(&self) -> usize {
        self.slots.len().checked_div(self.num_perm).unwrap_or(0)
    }

    /// True when the matrix holds no signature.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The signature of document `doc`.
    pub fn get(&self, doc: usize) -> &[u32] {
        &self.slots[doc * self.num_perm..(doc + 1) * self.num_perm]
    }

    /// Appends the rows of a block computed elsewhere (`block.len()` a multiple of `num_perm`).
    pub fn extend_from_block(&mut self, block: &[u32]) {
        debug_assert_eq!(block.len() % self.num_perm, 0);
        self.slots.extend_from_slice(block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::DEFAULT_SEED;

    fn set(range: std::ops::Range<u64>) -> Vec<u64> {
        range.map(crate::shingle::fmix64).collect()
    }

    #[test]
    fn estimate_tracks_exact_jaccard() {
        let hasher = MinHasher::new(256, DEFAULT_SEED);
        // (a, b, exact Jaccard)
        let cases = [
            (0..1000, 0..1000, 1.0),
            (0..1000, 100..1100, 900.0 / 1100.0),
            (0..1000, 500..1500, 500.0 / 1500.0),
            (0..1000, 1000..2000, 0.0),
        ];
        for (ra, rb, exact) in cases {
            let (a, b) = (set(ra), set(rb));
            let (mut sa, mut sb) = (vec![0; 256], vec![0; 256]);
            hasher.sign(&a, &mut sa);
            hasher.sign(&b, &mut sb);
            let est = estimate_jaccard(&sa, &sb);
            // Four standard errors at k = 256 is at most 0.125.
            assert!((est - exact).abs() < 0.125, "est {est} exact {exact}");
            let mut sorted_a = a.clone();
            let mut sorted_b = b.clone();
            sorted_a.sort_unstable();
            sorted_b.sort_unstable();
            assert!((exact_jaccard(&sorted_a, &sorted_b) - exact).abs() < 1e-12);
        }
    }

    #[test]
    fn position_does_not_matter() {
        let hasher = MinHasher::new(64, DEFAULT_SEED);
        let a = set(0..300);
        let mut b = a.clone();
        b.reverse();
        b.extend_from_slice(&a[..10]);
        let (mut sa, mut sb) = (vec![0; 64], vec![0; 64]);
        hasher.sign(&a, &mut sa);
        hasher.sign(&b, &mut sb);
        assert_eq!(sa, sb);
    }

    /// Golden values: if this fails, signatures changed and stored indexes with them.
    #[test]
    fn golden_signature() {
        let hasher = MinHasher::new(8, DEFAULT_SEED);
        let mut sig = vec![0; 8];
        hasher.sign(&set(0..100), &mut sig);
        assert_eq!(
            sig,
            vec![
                26027113, 121632534, 143047911, 2965738, 5384955, 76632281, 91147453, 103768356
            ]
        );
    }
}
