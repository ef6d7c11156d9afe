//! Shingling: canonical text to a multiset of stable 64-bit shingle hashes.
//!
//! # The hash, pinned
//!
//! Shingle hashes feed signatures that may be stored and compared across runs, machines and
//! versions, so they are defined here exactly and pinned by golden tests:
//!
//! * A **token** (a word of the canonical text, see [`crate::normalize`]) hashes by the run's
//!   [`TokenHash`]:
//!   - `mum16` (the default): a token of at most 16 bytes (nearly every word) is read as two
//!     little-endian 64-bit words `lo` and `hi`, its bytes zero-padded to 16, and hashes to
//!     `mum(P0 ^ len, mum(lo ^ s, hi ^ P1))`, where `mum(a, b)` folds the 128-bit product
//!     `a * b` by XOR of its halves (wyhash's mixing step), `P0 = 0xa0761d6478bd642f` and
//!     `P1 = 0xe7037ed1a0b428db` (wyhash's first two secrets), `len` is the token's length in
//!     bytes, and `s = seed ^ mum(seed ^ P0, P1)` is the seed mixed as wyhash mixes it, once
//!     per run. A longer token hashes to `XXH3-64(token bytes, seed)`.
//!
//!     Neither factor of a multiply can be 0 for a whole class of words: `hi ^ P1` never is
//!     (byte 1 of `P1` is `(`, which no word holds), and `lo ^ s` is 0 only for words whose
//!     first 8 bytes are `s`, which a seed would have to be solved for. (The first version put
//!     the seed where it was 0 for every word of up to 8 bytes at `--seed 0xa0761d6478bd642f`;
//!     it never reached an index.)
//!   - `xxh3`: every token hashes to `XXH3-64(token bytes, seed)`. Indexes built before
//!     format version 3 hold signatures of this hash, and runs against them use it.
//!
//!   `mum16` is there for speed: XXH3 takes one of three paths for words of 1–3, 4–8 and 9–16
//!   bytes, and word lengths in text do not predict one another, so most of its cost was
//!   mispredicted branches. The tokenizer hands each word over with the bytes that follow it in
//!   its line ([`crate::normalize::Token`]), so `mum16` reads 16 bytes at once and masks off the
//!   ones past the word, with no branch on the length.
//! * A **word n-gram** of tokens `t1..tn` hashes to `fmix64(fold)` where
//!   `fold = seed ^ n`, then for each token hash `h`: `fold = (fold.rotl(23) ^ h) * 0x9E3779B97F4A7C15`
//!   (wrapping), and `fmix64` is MurmurHash3's 64-bit finalizer. Each token is hashed once, each
//!   shingle costs `n` multiplies, and no string is built per shingle.
//! * A **character n-gram** hashes to `XXH3-64(its UTF-8 bytes, seed)`.
//!
//! A text with fewer than `n` tokens (or characters) yields one shingle of all of them, so short
//! texts still get a signature; a text with none yields no shingle.

use crate::normalize::Token;
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
    /// How a word is hashed (word shingles only).
    pub token_hash: TokenHash,
}

impl ShingleConfig {
    /// The word hash with its seed.
    pub fn word_hasher(&self) -> WordHasher {
        WordHasher::new(self.token_hash, self.seed)
    }
}

impl Default for ShingleConfig {
    fn default() -> Self {
        ShingleConfig {
            kind: ShingleKind::Word,
            ngram: 5,
            seed: DEFAULT_SEED,
            token_hash: TokenHash::Mum16,
        }
    }
}

/// How a word is hashed (see the module's documentation). Signatures made with one are not
/// comparable with signatures made with the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenHash {
    /// Words of at most 16 bytes by two folded multiplies of their zero-padded bytes, longer
    /// ones by XXH3-64.
    #[default]
    Mum16,
    /// XXH3-64 of every word: what indexes built before format version 3 hold.
    Xxh3,
}

/// wyhash's first two secrets.
const P0: u64 = 0xa076_1d64_78bd_642f;
const P1: u64 = 0xe703_7ed1_a0b4_28db;

/// The 128-bit product of `a` and `b`, its halves folded by XOR.
#[inline(always)]
fn mum(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The low `8 * n` bits, for `n` from 0 to 8.
#[inline(always)]
fn low_bytes(n: usize) -> u64 {
    ((1u128 << (8 * n)) - 1) as u64
}

/// `mum16` of a word of `len` bytes (0 to 16) given as the two little-endian words of its
/// bytes zero-padded to 16, with the mixed seed `s`.
#[inline(always)]
fn mum16_of(lo: u64, hi: u64, len: usize, s: u64) -> u64 {
    mum(P0 ^ len as u64, mum(lo ^ s, hi ^ P1))
}

/// `mum16` of a word of `len` bytes (0 to 16), given its first 16 bytes and any after them:
/// the bytes past `len` are masked off here, with no branch.
#[inline(always)]
fn mum16(first_16: &[u8; 16], len: usize, s: u64) -> u64 {
    let (lo, hi) = first_16.split_at(8);
    let lo = u64::from_le_bytes(lo.try_into().expect("8 bytes"));
    let hi = u64::from_le_bytes(hi.try_into().expect("8 bytes"));
    let lo = lo & low_bytes(len.min(8));
    let hi = hi & low_bytes(len.saturating_sub(8).min(8));
    mum16_of(lo, hi, len, s)
}

/// The two little-endian words of `word` (0 to 16 bytes) zero-padded to 16, read without
/// going past it: two overlapping reads, as XXH3 reads short inputs (a word with nothing
/// after it: the canonical text's, or the last of a line read in place).
#[inline(always)]
fn padded_words(word: &[u8]) -> (u64, u64) {
    let len = word.len();
    let u32_at = |at: usize| u64::from(u32::from_le_bytes(word[at..at + 4].try_into().expect("4")));
    let u64_at = |at: usize| u64::from_le_bytes(word[at..at + 8].try_into().expect("8"));
    if len >= 8 {
        // Bytes 8..len are the top len - 8 bytes of the word ending at len.
        let hi = u64_at(len - 8)
            .checked_shr(8 * (16 - len) as u32)
            .unwrap_or(0);
        (u64_at(0), hi)
    } else if len >= 4 {
        // Overlapping bytes are the same bytes at the same places.
        (u32_at(0) | (u32_at(len - 4) << (8 * (len - 4))), 0)
    } else if len > 0 {
        let byte = |at: usize| u64::from(word[at]) << (8 * at);
        (byte(0) | byte(len / 2) | byte(len - 1), 0)
    } else {
        (0, 0)
    }
}

impl TokenHash {
    /// `xxh3`: what an index's parameters that name no word hash mean.
    pub fn xxh3() -> TokenHash {
        TokenHash::Xxh3
    }

    /// Whether this is `xxh3`.
    pub fn is_xxh3(&self) -> bool {
        *self == TokenHash::Xxh3
    }

    /// The name in parameters and index manifests.
    pub fn name(self) -> &'static str {
        match self {
            TokenHash::Mum16 => "mum16",
            TokenHash::Xxh3 => "xxh3",
        }
    }

    /// The stable hash of a word's bytes (for many words, a [`WordHasher`] mixes the seed
    /// once).
    pub fn hash(self, token: &[u8], seed: u64) -> u64 {
        WordHasher::new(self, seed).hash(token)
    }
}

/// A [`TokenHash`] with its seed: `mum16`'s seed mixed once, not for every word.
#[derive(Debug, Clone, Copy)]
pub struct WordHasher {
    kind: TokenHash,
    seed: u64,
    /// `mum16`'s `s`.
    mixed: u64,
}

impl WordHasher {
    /// `kind` with `seed`.
    pub fn new(kind: TokenHash, seed: u64) -> WordHasher {
        WordHasher {
            kind,
            seed,
            mixed: seed ^ mum(seed ^ P0, P1),
        }
    }

    /// The stable hash of a word's bytes.
    #[inline]
    pub fn hash(&self, token: &[u8]) -> u64 {
        match self.kind {
            TokenHash::Mum16 if token.len() <= 16 => {
                let (lo, hi) = padded_words(token);
                mum16_of(lo, hi, token.len(), self.mixed)
            }
            _ => xxh3_64_with_seed(token, self.seed),
        }
    }

    /// [`WordHasher::hash`] of a word as the tokenizer hands it over: `mum16` reads the word's
    /// first 16 bytes at once when its line has that many from the word on (all but the last
    /// few words of a line).
    #[inline]
    pub fn hash_word(&self, token: Token<'_>) -> u64 {
        match (self.kind, token.first_16()) {
            (TokenHash::Mum16, Some(first_16)) if token.len() <= 16 => {
                mum16(first_16, token.len(), self.mixed)
            }
            _ => self.hash(token.bytes()),
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

/// The stable hash of one token, by `config`'s [`TokenHash`]. For many words, a
/// [`ShingleConfig::word_hasher`] mixes the seed once rather than for each.
#[inline]
pub fn hash_token(token: &[u8], config: &ShingleConfig) -> u64 {
    config.word_hasher().hash(token)
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
    let hasher = config.word_hasher();
    crate::normalize::for_each_canonical_word(canonical, |t| {
        hashes.push(hasher.hash(t.as_bytes()));
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
            ngram: n,
            ..ShingleConfig::default()
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
                ..ShingleConfig::default()
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
        let xxh3 = ShingleConfig {
            token_hash: TokenHash::Xxh3,
            ..word_config(5)
        };
        assert_eq!(hash_token(b"storyhash", &xxh3), 14326723701822368708);
        let words = run("north korean leader kim jong un", xxh3);
        assert_eq!(words, vec![6709852498583754375, 251353270974884935]);
        // mum16, the default: short words by their 16 padded bytes, longer ones by XXH3.
        let mum16 = word_config(5);
        assert_eq!(hash_token(b"storyhash", &mum16), MUM16_STORYHASH);
        assert_eq!(
            hash_token(b"internationalization", &mum16),
            hash_token(b"internationalization", &xxh3)
        );
        let words = run("north korean leader kim jong un", mum16);
        assert_eq!(words, MUM16_WORDS);
        let chars = run(
            "kim",
            ShingleConfig {
                kind: ShingleKind::Char,
                ngram: 2,
                ..ShingleConfig::default()
            },
        );
        assert_eq!(chars, vec![6975572201786959228, 2615368451325372851]);
    }

    const MUM16_STORYHASH: u64 = 13404689877284432926;
    const MUM16_WORDS: [u64; 2] = [17047150638732557518, 2070892624047770034];

    /// `mum16` as its definition in the module's documentation says, spelled out with `u128`
    /// arithmetic on a copy of the word: the oracle of the masked 16-byte read.
    fn mum16_by_definition(word: &[u8], seed: u64) -> u64 {
        assert!(word.len() <= 16);
        let mut padded = [0u8; 16];
        padded[..word.len()].copy_from_slice(word);
        let lo = u64::from_le_bytes(padded[..8].try_into().unwrap());
        let hi = u64::from_le_bytes(padded[8..].try_into().unwrap());
        let mum = |a: u64, b: u64| {
            let p = a as u128 * b as u128;
            (p as u64) ^ ((p >> 64) as u64)
        };
        let (p0, p1) = (0xa0761d6478bd642f_u64, 0xe7037ed1a0b428db_u64);
        let s = seed ^ mum(seed ^ p0, p1);
        mum(p0 ^ word.len() as u64, mum(lo ^ s, hi ^ p1))
    }

    /// A word handed over with the bytes after it in its line hashes as the word alone does,
    /// whatever those bytes are and however many there are, for every length and both hashes.
    #[test]
    fn a_word_hashes_the_same_whatever_follows_it() {
        let mut state = 0x1234_5678_u64;
        let mut next = move || {
            state = fmix64(state.wrapping_add(0x9E37_79B9_7F4A_7C15));
            state
        };
        for hash in [TokenHash::Mum16, TokenHash::Xxh3] {
            for len in 0..=40 {
                for trial in 0..50 {
                    let run: Vec<u8> = (0..len + trial % 24).map(|_| next() as u8).collect();
                    let word = &run[..len];
                    let seed = if trial % 2 == 0 { DEFAULT_SEED } else { next() };
                    let hasher = WordHasher::new(hash, seed);
                    let alone = hasher.hash(word);
                    let in_run = hasher.hash_word(crate::normalize::Token::in_run(&run, len));
                    assert_eq!(in_run, alone, "{hash:?}, {len} bytes, trial {trial}");
                    assert_eq!(hash.hash(word, seed), alone);
                    let want = match hash {
                        TokenHash::Mum16 if len <= 16 => mum16_by_definition(word, seed),
                        _ => xxh3_64_with_seed(word, seed),
                    };
                    assert_eq!(alone, want, "{hash:?}, {len} bytes, trial {trial}");
                }
            }
        }
    }

    /// Every word of up to three letters or digits hashes to its own value, each output bit
    /// set in about half of them: a check that the few instructions of `mum16` mix every byte
    /// and the length in; for the default seed and for seeds that once broke it (wyhash's
    /// constants, where the seed entered a multiply as `seed ^ P0`) or might (0, all ones).
    #[test]
    fn short_words_spread_over_the_bits() {
        for seed in [DEFAULT_SEED, 0, 1, u64::MAX, P0, P1, P0 ^ 1, P1 ^ P0] {
            short_words_spread_with(seed);
        }
    }

    fn short_words_spread_with(seed: u64) {
        let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut words: Vec<Vec<u8>> = alphabet.iter().map(|&a| vec![a]).collect();
        for len in 2..=3 {
            let longer: Vec<Vec<u8>> = words
                .iter()
                .filter(|w| w.len() == len - 1)
                .flat_map(|w| {
                    alphabet.iter().map(move |&c| {
                        let mut w = w.clone();
                        w.push(c);
                        w
                    })
                })
                .collect();
            words.extend(longer);
        }
        // And the same words with a NUL after them, which the padding must not confuse.
        let with_nul: Vec<Vec<u8>> = words
            .iter()
            .map(|w| [w.as_slice(), &[0]].concat())
            .collect();
        words.extend(with_nul);
        let hasher = WordHasher::new(TokenHash::Mum16, seed);
        let hashes: Vec<u64> = words.iter().map(|w| hasher.hash(w)).collect();
        let distinct: std::collections::HashSet<u64> = hashes.iter().copied().collect();
        assert_eq!(distinct.len(), words.len(), "seed {seed:#x}");
        for bit in 0..64 {
            let set = hashes.iter().filter(|&&h| h >> bit & 1 == 1).count();
            let share = set as f64 / hashes.len() as f64;
            assert!(
                (0.49..0.51).contains(&share),
                "seed {seed:#x}, bit {bit}: {share}"
            );
        }
    }
}
