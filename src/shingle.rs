//! Shingling: canonical text to a multiset of stable 64-bit shingle hashes.
//!
//! # The hash, pinned
//!
//! Shingle hashes feed signatures that may be stored and compared across runs, machines and
//! versions, so they are defined here exactly and pinned by golden tests:
//!
//! * A **token** (a word of the canonical text, see [`crate::normalize`]) hashes to
//!   `XXH3-64(token bytes, seed)`.
//! * A **word n-gram** of tokens `t1..tn` hashes to `fmix64(fold)` where
//!   `fold = seed ^ n`, then for each token hash `h`: `fold = (fold.rotl(23) ^ h) * 0x9E3779B97F4A7C15`
//!   (wrapping), and `fmix64` is MurmurHash3's 64-bit finalizer. Each token is hashed once, each
//!   shingle costs `n` multiplies, and no string is built per shingle.
//! * A **character n-gram** hashes to `XXH3-64(its UTF-8 bytes, seed)`.
//!
//! A text with fewer than `n` tokens (or characters) yields one shingle of all of them, so short
//! texts still get a signature; a text with none yields no shingle.

use multiversion::multiversion;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The default hash seed (the bytes of "storyhash" folded into 64 bits, fixed forever).
pub const DEFAULT_SEED: u64 = 0x5354_4f52_5948_4153;

/// What a shingle is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShingleKind {
    /// Word n-grams over canonical tokens.
    Word,
    /// Character n-grams over the canonical text (tokens joined by single spaces).
    Char,
}

/// Validated shingling parameters.
#[derive(Debug, Clone, Copy)]
pub struct ShingleConfig {
    /// Words or characters.
    pub kind: ShingleKind,
    /// Shingle length in tokens or characters (at least 1).
    pub ngram: usize,
    /// Hash seed.
    pub seed: u64,
}

impl Default for ShingleConfig {
    fn default() -> Self {
        ShingleConfig {
            kind: ShingleKind::Word,
            ngram: 5,
            seed: DEFAULT_SEED,
        }
    }
}

/// MurmurHash3's 64-bit finalizer: a bijective avalanche mix.
#[inline]
pub fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// The stable hash of one token.
#[inline]
pub fn hash_token(token: &[u8], seed: u64) -> u64 {
    xxh3_64_with_seed(token, seed)
}

/// The stable hash of a word n-gram given its tokens' hashes.
#[inline]
pub fn hash_word_gram(token_hashes: &[u64], seed: u64) -> u64 {
    let mut fold = seed ^ token_hashes.len() as u64;
    for &h in token_hashes {
        fold = (fold.rotate_left(23) ^ h).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fmix64(fold)
}

/// Reusable buffers so that shingling allocates nothing per document once warm.
#[derive(Debug, Default)]
pub struct ShingleScratch {
    token_hashes: Vec<u64>,
    char_starts: Vec<usize>,
}

/// Appends the shingle hashes of `canonical` to `out` (cleared first).
///
/// `canonical` is the output of [`crate::normalize::canonical_text`]: lowercase words
/// separated by single spaces (Han and kana characters, each a word, joined without them).
pub fn shingles(
    canonical: &str,
    config: &ShingleConfig,
    scratch: &mut ShingleScratch,
    out: &mut Vec<u64>,
) {
    out.clear();
    match config.kind {
        ShingleKind::Word => hash_words(canonical, config, scratch, out),
        ShingleKind::Char => hash_chars(canonical, config, scratch, out),
    }
}

/// Word n-grams: every token hashed once, then each window folded.
pub fn hash_words(
    canonical: &str,
    config: &ShingleConfig,
    scratch: &mut ShingleScratch,
    out: &mut Vec<u64>,
) {
    let hashes = &mut scratch.token_hashes;
    hashes.clear();
    crate::normalize::for_each_canonical_word(canonical, |t| {
        hashes.push(hash_token(t.as_bytes(), config.seed));
    });
    grams_from_token_hashes(hashes, config, out);
}

/// Appends the word n-gram hashes over a document's token hashes to `out`.
pub fn grams_from_token_hashes(token_hashes: &[u64], config: &ShingleConfig, out: &mut Vec<u64>) {
    let n = config.ngram;
    if token_hashes.is_empty() {
        return;
    }
    if token_hashes.len() < n {
        out.push(hash_word_gram(token_hashes, config.seed));
        return;
    }
    // A window length known at compile time unrolls the fold and drops the bounds checks.
    match n {
        3 => fixed_grams::<3>(token_hashes, config.seed, out),
        4 => fixed_grams::<4>(token_hashes, config.seed, out),
        5 => fixed_grams::<5>(token_hashes, config.seed, out),
        _ => naive_grams(token_hashes, n, config.seed, out),
    }
}

/// [`grams_from_token_hashes`] for windows of `N` tokens (at least `N` of them).
fn fixed_grams<const N: usize>(token_hashes: &[u64], seed: u64, out: &mut Vec<u64>) {
    out.reserve(token_hashes.len() + 1 - N);
    fold_windows::<N>(token_hashes, seed, out);
}

/// Appends to `out`, for each window of `N` token hashes, its [`hash_word_gram`]: one window
/// per lane, the windows' folds side by side (64-bit multiplies and rotates vectorize with
/// AVX-512). Extending from the windows writes each value once, where filling a slice would
/// zero it first.
#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl", "x86_64+avx2"))]
fn fold_windows<const N: usize>(token_hashes: &[u64], seed: u64, out: &mut Vec<u64>) {
    let first = seed ^ N as u64;
    out.extend(token_hashes.windows(N).map(|w| {
        let w: &[u64; N] = w.try_into().expect("windows of N");
        let mut fold = first;
        for &h in w {
            fold = (fold.rotate_left(23) ^ h).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
        fmix64(fold)
    }));
}

/// Every window of `n` tokens (at least `n` of them), its length known only at run time: the
/// oracle of [`fixed_grams`], and the path for other lengths.
fn naive_grams(token_hashes: &[u64], n: usize, seed: u64, out: &mut Vec<u64>) {
    out.extend(token_hashes.windows(n).map(|w| hash_word_gram(w, seed)));
}

/// Character n-grams over the canonical text.
pub fn hash_chars(
    canonical: &str,
    config: &ShingleConfig,
    scratch: &mut ShingleScratch,
    out: &mut Vec<u64>,
) {
    if canonical.is_empty() {
        return;
    }
    let n = config.ngram;
    let bytes = canonical.as_bytes();
    if canonical.is_ascii() {
        if bytes.len() < n {
            out.push(xxh3_64_with_seed(bytes, config.seed));
        } else {
            out.extend(bytes.windows(n).map(|w| xxh3_64_with_seed(w, config.seed)));
        }
        return;
    }
    let starts = &mut scratch.char_starts;
    starts.clear();
    starts.extend(canonical.char_indices().map(|(i, _)| i));
    starts.push(bytes.len());
    let n_chars = starts.len() - 1;
    if n_chars < n {
        out.push(xxh3_64_with_seed(bytes, config.seed));
        return;
    }
    for i in 0..=n_chars - n {
        out.push(xxh3_64_with_seed(
            &bytes[starts[i]..starts[i + n]],
            config.seed,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word_config(n: usize) -> ShingleConfig {
        ShingleConfig {
            kind: ShingleKind::Word,
            ngram: n,
            seed: DEFAULT_SEED,
        }
    }

    fn run(text: &str, config: ShingleConfig) -> Vec<u64> {
        let mut out = Vec::new();
        shingles(text, &config, &mut ShingleScratch::default(), &mut out);
        out
    }

    #[test]
    fn counts_per_case() {
        // (text, kind, n, expected number of shingles)
        let cases = [
            ("a b c d e f g", ShingleKind::Word, 5, 3),
            ("a b c", ShingleKind::Word, 5, 1),
            ("", ShingleKind::Word, 5, 0),
            ("abcdef", ShingleKind::Char, 3, 4),
            ("ab", ShingleKind::Char, 3, 1),
            ("héllo", ShingleKind::Char, 4, 2),
            ("", ShingleKind::Char, 3, 0),
        ];
        for (text, kind, ngram, expected) in cases {
            let config = ShingleConfig {
                kind,
                ngram,
                seed: DEFAULT_SEED,
            };
            assert_eq!(
                run(text, config).len(),
                expected,
                "{text:?} {kind:?} {ngram}"
            );
        }
    }

    #[test]
    fn order_matters_within_a_gram_but_not_position() {
        let a = run("one two three", word_config(2));
        let b = run("two three one", word_config(2));
        // "two three" is shared; "one two" and "three one" are not.
        assert_eq!(a[1], b[0]);
        assert_ne!(a[0], b[1]);
    }

    #[test]
    fn seed_changes_every_hash() {
        let mut other = word_config(2);
        other.seed = 7;
        let a = run("one two three", word_config(2));
        let b = run("one two three", other);
        assert!(a.iter().zip(&b).all(|(x, y)| x != y));
    }

    #[test]
    fn fixed_windows_agree_with_the_naive_fold() {
        let hashes: Vec<u64> = (0..40u64).map(|i| fmix64(i + 1)).collect();
        for n in 1..=8 {
            for len in 0..hashes.len() {
                let config = word_config(n);
                let (mut fast, mut naive) = (Vec::new(), Vec::new());
                grams_from_token_hashes(&hashes[..len], &config, &mut fast);
                if len >= n {
                    naive_grams(&hashes[..len], n, config.seed, &mut naive);
                } else if len > 0 {
                    naive.push(hash_word_gram(&hashes[..len], config.seed));
                }
                assert_eq!(fast, naive, "n {n}, {len} tokens");
            }
        }
    }

    /// Golden values: if this test fails, the shingle hash changed and every stored signature
    /// with it. Change it only on purpose, with a new format version.
    #[test]
    fn golden_hashes() {
        assert_eq!(hash_token(b"storyhash", DEFAULT_SEED), 14326723701822368708);
        let words = run("north korean leader kim jong un", word_config(5));
        assert_eq!(words, vec![6709852498583754375, 251353270974884935]);
        let chars = run(
            "kim",
            ShingleConfig {
                kind: ShingleKind::Char,
                ngram: 2,
                seed: DEFAULT_SEED,
            },
        );
        assert_eq!(chars, vec![6975572201786959228, 2615368451325372851]);
    }
}
