//! MinHash: a set of shingle hashes to a fixed-length signature.
//!
//! Three sketches, all true set sketches (every shingle counts, whatever its position, and a
//! repeated shingle changes nothing), selectable with [`SketchKind`]:
//!
//! * [`SketchKind::Classic`]: `k` hash functions, slot `i` keeps the minimum of `h_i` over the
//!   shingles. `h_i(x) = (a_i·x + b_i) mod 2^64 >> 32` is Dietzfelbinger's multiply-add-shift,
//!   with `a_i` odd and `(a_i, b_i)` drawn from SplitMix64 seeded with the hash seed. `O(k)` per
//!   shingle; the inner loop is compiled for AVX-512, AVX2 and baseline x86-64 and chosen at run
//!   time (integer arithmetic, so every version gives the same bits).
//! * [`SketchKind::Oph`]: one-permutation hashing with optimal densification (Shrivastava,
//!   ICML 2017). The high 32 bits of a shingle hash pick one of `k` bins, the low 32 bits are
//!   its value, and each bin keeps its minimum: `O(1)` per shingle. An empty bin borrows the
//!   value of the first non-empty bin along its own seeded probe sequence.
//! * [`SketchKind::Super`]: SuperMinHash (Ertl, 2017): per shingle, a seeded random permutation
//!   of the slots is drawn lazily, so each slot's value is `j + r` for the shingle's rank `j`
//!   of that slot; it stops early once no slot can improve, giving lower estimation variance than
//!   classic MinHash on small sets.
//!
//! In each, two signatures agree in a slot with probability equal to the Jaccard similarity of
//! the two sets, so the fraction of agreeing slots estimates it (standard error about
//! `sqrt(J(1-J)/k)`). Parameters derive from the seed alone, so signatures are stable across
//! runs, thread counts, machines and versions; golden tests pin them.

use multiversion::multiversion;
use rayon::prelude::*;

/// [`Signatures::set_many`] writes spilled rows at most this many documents apart as one span.
pub const ROW_GAP: usize = 8;

/// The largest signature length supported.
pub const MAX_NUM_PERM: usize = 4096;

/// Which MinHash variant computes signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SketchKind {
    /// `k` independent multiply-shift hash functions.
    Classic,
    /// One-permutation hashing with optimal densification.
    Oph,
    /// SuperMinHash.
    Super,
}

/// A configured sketcher: variant, slot count and seeded parameters.
#[derive(Debug, Clone)]
pub struct MinHasher {
    kind: SketchKind,
    num_perm: usize,
    seed: u64,
    a: Vec<u64>,
    b: Vec<u64>,
    /// OPH: the first [`OPH_PROBES`] bins of each bin's densification probe sequence, bin by
    /// bin. The sequences depend on the seed alone, so they are drawn once here rather than
    /// for every empty bin of every document (a third of the bins of a 130-word article).
    probes: Vec<u16>,
}

/// How many probes of each bin's densification sequence [`MinHasher`] keeps: with half the
/// bins empty, all of them miss one time in 256, and the sequence goes on from where the
/// table ends.
const OPH_PROBES: usize = 8;

/// SplitMix64's increment: its state after `n` draws is the seed plus `n` of them.
const SPLITMIX_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64, the stable generator behind every seeded parameter.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(SPLITMIX_GAMMA);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One-permutation hashing's first step: each shingle's high 32 bits pick one of the
/// `out.len()` bins, which keeps the least of its low 32 bits. Returns which bins got a
/// shingle, as a bitmask (on the stack: there are at most [`MAX_NUM_PERM`] bins).
#[inline]
fn oph_fill(shingles: &[u64], out: &mut [u32]) -> [u64; MAX_NUM_PERM / 64] {
    let k = out.len();
    let mut filled = [0u64; MAX_NUM_PERM / 64];
    for &x in shingles {
        let bin = fast_range(x >> 32, k);
        out[bin] = out[bin].min(x as u32);
        filled[bin / 64] |= 1 << (bin % 64);
    }
    filled
}

/// The SplitMix64 state an OPH bin's densification probe sequence starts from.
fn oph_probe_state(seed: u64, bin: usize) -> u64 {
    seed ^ (bin as u64).wrapping_mul(0xA076_1D64_78BD_642F)
}

/// A mask of the lowest `n` bits, all 64 for `n` of 64 or more.
fn low_bits_u64(n: usize) -> u64 {
    if n >= 64 { u64::MAX } else { (1 << n) - 1 }
}

/// Maps a 32-bit random value uniformly onto `0..n` (Lemire's multiply-shift range reduction).
#[inline]
fn fast_range(x32: u64, n: usize) -> usize {
    ((x32 * n as u64) >> 32) as usize
}

#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl", "x86_64+avx2"))]
fn classic_sign(a: &[u64], b: &[u64], shingles: &[u64], out: &mut [u32]) {
    let n = out.len();
    let (a, b) = (&a[..n], &b[..n]);
    for &x in shingles {
        for i in 0..n {
            let h = (a[i].wrapping_mul(x).wrapping_add(b[i]) >> 32) as u32;
            out[i] = out[i].min(h);
        }
    }
}

impl MinHasher {
    /// A sketcher of `num_perm` slots from `seed`.
    ///
    /// # Panics
    ///
    /// If `num_perm` is 0 or above [`MAX_NUM_PERM`] (configurations are validated before).
    pub fn new(kind: SketchKind, num_perm: usize, seed: u64) -> MinHasher {
        assert!(
            (1..=MAX_NUM_PERM).contains(&num_perm),
            "num_perm {num_perm} is out of range"
        );
        let mut state = seed;
        let mut a = Vec::new();
        let mut b = Vec::new();
        if kind == SketchKind::Classic {
            for _ in 0..num_perm {
                a.push(splitmix64(&mut state) | 1);
                b.push(splitmix64(&mut state));
            }
        }
        let mut probes = Vec::new();
        if kind == SketchKind::Oph {
            probes.reserve(num_perm * OPH_PROBES);
            for bin in 0..num_perm {
                let mut state = oph_probe_state(seed, bin);
                for _ in 0..OPH_PROBES {
                    let probe = fast_range(splitmix64(&mut state) >> 32, num_perm);
                    probes.push(u16::try_from(probe).expect("num_perm is at most MAX_NUM_PERM"));
                }
            }
        }
        MinHasher {
            kind,
            num_perm,
            seed,
            a,
            b,
            probes,
        }
    }

    /// Number of slots.
    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    /// The variant.
    pub fn kind(&self) -> SketchKind {
        self.kind
    }

    /// Writes the signature of `shingles` into `out` (`num_perm` slots).
    ///
    /// An empty set gives `u32::MAX` in every slot.
    pub fn sign(&self, shingles: &[u64], out: &mut [u32]) {
        assert_eq!(
            out.len(),
            self.num_perm,
            "signature buffer has the wrong length"
        );
        out.fill(u32::MAX);
        if shingles.is_empty() {
            return;
        }
        match self.kind {
            SketchKind::Classic => classic_sign(&self.a, &self.b, shingles, out),
            SketchKind::Oph => self.oph_sign(shingles, out),
            SketchKind::Super => self.super_sign(shingles, out),
        }
    }

    fn oph_sign(&self, shingles: &[u64], out: &mut [u32]) {
        let k = self.num_perm;
        let filled = oph_fill(shingles, out);
        let is_filled = |bin: usize| filled[bin / 64] & (1 << (bin % 64)) != 0;
        // Optimal densification: an empty bin probes bins along its own seeded sequence and
        // copies the first non-empty one. Filled bins are never written here, so every copy is
        // of an original value. The empty bins are the zero bits of `filled`, word by word.
        for (word, &bits) in filled[..k.div_ceil(64)].iter().enumerate() {
            let in_range = low_bits_u64(k - word * 64);
            let mut empty = !bits & in_range;
            while empty != 0 {
                let bin = word * 64 + empty.trailing_zeros() as usize;
                empty &= empty - 1;
                let cached = &self.probes[bin * OPH_PROBES..(bin + 1) * OPH_PROBES];
                let probe = match cached.iter().find(|&&p| is_filled(usize::from(p))) {
                    Some(&p) => usize::from(p),
                    None => {
                        // The sequence past the table: the state after its draws.
                        let mut state = oph_probe_state(self.seed, bin)
                            .wrapping_add(SPLITMIX_GAMMA.wrapping_mul(OPH_PROBES as u64));
                        loop {
                            let probe = fast_range(splitmix64(&mut state) >> 32, k);
                            if is_filled(probe) {
                                break probe;
                            }
                        }
                    }
                };
                out[bin] = out[probe];
            }
        }
    }

    /// [`MinHasher::oph_sign`] as first written, every probe drawn as it is needed: the oracle
    /// of the probe table.
    #[cfg(test)]
    fn oph_sign_naive(&self, shingles: &[u64], out: &mut [u32]) {
        let k = self.num_perm;
        let filled = oph_fill(shingles, out);
        let is_filled = |bin: usize| filled[bin / 64] & (1 << (bin % 64)) != 0;
        for bin in 0..k {
            if is_filled(bin) {
                continue;
            }
            let mut state = self.seed ^ (bin as u64).wrapping_mul(0xA076_1D64_78BD_642F);
            loop {
                let probe = fast_range(splitmix64(&mut state) >> 32, k);
                if is_filled(probe) {
                    out[bin] = out[probe];
                    break;
                }
            }
        }
    }

    fn super_sign(&self, shingles: &[u64], out: &mut [u32]) {
        let m = self.num_perm;
        // Slot values are `j·2^shift + r` with rank j < m and r uniform below 2^shift.
        let shift = 32 - (usize::BITS - (m - 1).leading_zeros());
        let r_mask = if shift == 32 {
            u32::MAX as u64
        } else {
            (1u64 << shift) - 1
        };
        let mut h = vec![u64::MAX; m];
        let mut p: Vec<u32> = (0..m as u32).collect();
        let mut q = vec![u32::MAX; m];
        let mut b = vec![0u32; m];
        b[m - 1] = m as u32;
        let mut a = m - 1;
        for (i, &x) in shingles.iter().enumerate() {
            let i = i as u32;
            let mut state = x ^ self.seed;
            let mut j = 0;
            while j <= a {
                let rand = splitmix64(&mut state);
                let r = (rand >> 32) & r_mask;
                let k = j + fast_range(rand & 0xFFFF_FFFF, m - j);
                if q[j] != i {
                    q[j] = i;
                    p[j] = j as u32;
                }
                if q[k] != i {
                    q[k] = i;
                    p[k] = k as u32;
                }
                p.swap(j, k);
                let value = ((j as u64) << shift) | r;
                let slot = p[j] as usize;
                if value < h[slot] {
                    let old_rank = if h[slot] == u64::MAX {
                        m - 1
                    } else {
                        ((h[slot] >> shift) as usize).min(m - 1)
                    };
                    h[slot] = value;
                    if j < old_rank {
                        b[old_rank] -= 1;
                        b[j] += 1;
                        while b[a] == 0 {
                            a -= 1;
                        }
                    }
                }
                j += 1;
            }
        }
        for (o, &v) in out.iter_mut().zip(&h) {
            *o = v as u32;
        }
    }
}

/// The fraction of slots in which two signatures agree: the estimated Jaccard similarity.
pub fn estimate_jaccard<T: PartialEq>(a: &[T], b: &[T]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    if a.is_empty() {
        return 0.0;
    }
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / a.len() as f64
}

/// Exact Jaccard similarity of two sorted, deduplicated hash sets.
pub fn exact_jaccard<T: Ord>(a: &[T], b: &[T]) -> f64 {
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

/// One stored slot: a 16-bit fingerprint of the slot's 32-bit minimum ([`fold_slot`]).
pub type Slot = u16;

/// Folds a 32-bit slot value to the 16 bits kept in memory (b-bit MinHash with b = 16).
///
/// Multiplying by an odd constant permutes the 32-bit values and the high half of the product
/// depends on every bit, so equal minima stay equal and unequal ones collide with probability
/// about 2^-16: the agreement rate of two signatures is `J + (1 - J)·2^-16`, a bias below
/// 0.00002, for half the memory.
#[inline]
pub fn fold_slot(value: u32) -> Slot {
    (value.wrapping_mul(0x9E37_79B1) >> 16) as Slot
}

/// Signatures by document, each slot folded to 16 bits by [`fold_slot`]: document `d` owns
/// one contiguous row of `num_perm` slots. Rows live in blocks of [`BLOCK_DOCS`] documents,
/// each allocated at its final size, so a growing matrix never holds more than one partly
/// filled block beyond what it stores (a single `Vec` would double, and copy, as it grows).
///
/// A large run need not hold every row. After [`Signatures::spill_to`], each full block can be
/// written to a file and dropped ([`Signatures::spill_full_blocks`]); its memory then holds the
/// next block (until [`Signatures::finish_appending`]), so that a run spilling as it goes
/// reuses one block's pages instead of faulting in new ones for every block. Once the documents that
/// still need their signatures are known (those in candidate pairs), [`Signatures::read_back`]
/// reads back just their rows, a block at a time if need be, and [`Signatures::release`]
/// drops them again. [`Signatures::get`] of a spilled document not read back panics.
#[derive(Debug, Clone)]
pub struct Signatures {
    num_perm: usize,
    len: usize,
    block_docs: usize,
    blocks: Vec<Block>,
    /// Where full blocks go, and how many blocks are already there.
    spill: Option<(std::sync::Arc<std::fs::File>, usize)>,
    /// The last spilled block's memory, emptied, for the next block (fresh memory costs a page
    /// fault and a zeroed page per 4 KiB: 62k faults for the blocks of 1M articles).
    spare: Vec<Slot>,
    /// The most rows read back ever held at once (the tests' measure of the bound).
    #[cfg(test)]
    pub(crate) most_rows_read_back: usize,
}

#[derive(Debug, Clone)]
enum Block {
    /// Every row of the block.
    Rows(Vec<Slot>),
    /// Written to the spill file; no row in memory.
    Spilled,
    /// The rows of some documents, read back: their places in the block (ascending) and rows.
    Kept { docs: Vec<u16>, rows: Vec<Slot> },
}

impl Default for Signatures {
    fn default() -> Self {
        Signatures::new(0)
    }
}

/// The largest write to, or read from, a spill file in one piece.
pub const SPILL_PIECE_BYTES: usize = 64 << 10;

/// Documents per block of [`Signatures`] (a power of two, at most 2^16).
pub const BLOCK_DOCS: usize = 1 << 14;

impl Signatures {
    /// An empty matrix of `num_perm`-slot signatures.
    pub fn new(num_perm: usize) -> Signatures {
        Signatures::with_block_docs(num_perm, BLOCK_DOCS)
    }

    /// An empty matrix whose blocks hold `block_docs` rows (tests use small blocks).
    pub(crate) fn with_block_docs(num_perm: usize, block_docs: usize) -> Signatures {
        assert!((1..=1 << 16).contains(&block_docs));
        Signatures {
            num_perm,
            len: 0,
            block_docs,
            blocks: Vec::new(),
            spill: None,
            spare: Vec::new(),
            #[cfg(test)]
            most_rows_read_back: 0,
        }
    }

    /// Slots per signature.
    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    /// Number of signatures.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the matrix holds no signature.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The (folded) signature of document `doc`.
    ///
    /// # Panics
    ///
    /// If `doc` is out of range, or its row is spilled and not read back by
    /// [`Signatures::read_back`].
    pub fn get(&self, doc: usize) -> &[Slot] {
        assert!(doc < self.len, "signature {doc} of {}", self.len);
        let k = self.num_perm;
        let local = doc % self.block_docs;
        match &self.blocks[doc / self.block_docs] {
            Block::Rows(rows) => &rows[local * k..(local + 1) * k],
            Block::Kept { docs, rows } => match docs.binary_search(&(local as u16)) {
                Ok(i) => &rows[i * k..(i + 1) * k],
                Err(_) => panic!("the signature of document {doc} was not kept"),
            },
            Block::Spilled => panic!("the signature of document {doc} is spilled"),
        }
    }

    /// Copies the signature of document `doc` into `out` (cleared first), from memory or from
    /// the spill file.
    ///
    /// # Panics
    ///
    /// If `doc` is out of range.
    pub fn read_row(&self, doc: usize, out: &mut Vec<Slot>) -> std::io::Result<()> {
        out.clear();
        let local = (doc % self.block_docs) as u16;
        let in_memory = match self.blocks.get(doc / self.block_docs) {
            Some(Block::Spilled) => false,
            Some(Block::Kept { docs, .. }) => docs.binary_search(&local).is_ok(),
            _ => true,
        };
        if in_memory {
            out.extend_from_slice(self.get(doc));
            return Ok(());
        }
        let (file, _) = self.spill.as_ref().expect("spilled blocks have a file");
        let row_bytes = self.num_perm * std::mem::size_of::<Slot>();
        // On the stack: a run reads rows one at a time for every article a learned line touches.
        let mut buffer = [0u8; MAX_NUM_PERM * std::mem::size_of::<Slot>()];
        let bytes = &mut buffer[..row_bytes];
        std::os::unix::fs::FileExt::read_exact_at(&**file, bytes, (doc * row_bytes) as u64)?;
        out.extend(
            bytes
                .chunks_exact(2)
                .map(|p| Slot::from_le_bytes([p[0], p[1]])),
        );
        Ok(())
    }

    /// Replaces the signature of document `doc` with a freshly computed one (in the spill file
    /// if its block is there).
    ///
    /// # Panics
    ///
    /// If `doc` is out of range, or its block holds rows read back ([`Signatures::read_back`]).
    pub fn set(&mut self, doc: usize, signature: &[u32]) -> std::io::Result<()> {
        self.set_many(&[doc as u32], signature)
    }

    /// [`Signatures::set`] for the documents `docs` (ascending, distinct), `num_perm` values
    /// each in `signatures`: rows in the spill file are written a span at a time (up to
    /// [`SPILL_PIECE_BYTES`] each), not one row at a time; documents of a span lie at most
    /// [`ROW_GAP`] apart, and the rows between them are read first and written back unchanged.
    ///
    /// # Panics
    ///
    /// As [`Signatures::set`], or if `signatures` does not hold `docs.len()` rows.
    pub fn set_many(&mut self, docs: &[u32], signatures: &[u32]) -> std::io::Result<()> {
        let k = self.num_perm;
        assert_eq!(signatures.len(), docs.len() * k);
        let row_bytes = k * std::mem::size_of::<Slot>();
        let max_run = (SPILL_PIECE_BYTES / row_bytes.max(1)).max(1);
        let mut bytes = Vec::new();
        let mut i = 0;
        while i < docs.len() {
            let doc = docs[i] as usize;
            assert!(doc < self.len, "signature {doc} of {}", self.len);
            let b = doc / self.block_docs;
            match &mut self.blocks[b] {
                Block::Rows(rows) => {
                    let local = doc % self.block_docs;
                    let row = &mut rows[local * k..(local + 1) * k];
                    for (slot, &value) in row.iter_mut().zip(&signatures[i * k..(i + 1) * k]) {
                        *slot = fold_slot(value);
                    }
                    i += 1;
                }
                Block::Spilled => {
                    // A span of rows at most ROW_GAP apart, within `max_run` rows.
                    let mut end = i + 1;
                    while end < docs.len()
                        && (docs[end] as usize) - doc < max_run
                        && (docs[end] - docs[end - 1]) as usize <= ROW_GAP
                        && docs[end] as usize / self.block_docs == b
                    {
                        end += 1;
                    }
                    let span = docs[end - 1] as usize - doc + 1;
                    let (file, _) = self.spill.as_ref().expect("spilled blocks have a file");
                    let at = (doc * row_bytes) as u64;
                    bytes.clear();
                    if span == end - i {
                        bytes.extend(
                            signatures[i * k..end * k]
                                .iter()
                                .flat_map(|&v| fold_slot(v).to_le_bytes()),
                        );
                    } else {
                        // The rows between are read and written back unchanged.
                        bytes.resize(span * row_bytes, 0);
                        std::os::unix::fs::FileExt::read_exact_at(&**file, &mut bytes, at)?;
                        for (n, &d) in docs[i..end].iter().enumerate() {
                            let row = &mut bytes[(d as usize - doc) * row_bytes..][..row_bytes];
                            let new = &signatures[(i + n) * k..(i + n + 1) * k];
                            for (out, &v) in row.chunks_exact_mut(2).zip(new) {
                                out.copy_from_slice(&fold_slot(v).to_le_bytes());
                            }
                        }
                    }
                    std::os::unix::fs::FileExt::write_all_at(&**file, &bytes, at)?;
                    i = end;
                }
                Block::Kept { .. } => panic!("signature {doc} set while its block is read back"),
            }
        }
        Ok(())
    }

    /// The row of the next document, in a block with room for it.
    fn next_row(&mut self) -> &mut Vec<Slot> {
        if self.len.is_multiple_of(self.block_docs) {
            let size = self.block_docs * self.num_perm;
            let rows = match std::mem::take(&mut self.spare) {
                spare if spare.capacity() >= size => spare,
                _ => Vec::with_capacity(size),
            };
            self.blocks.push(Block::Rows(rows));
        }
        self.len += 1;
        match self.blocks.last_mut() {
            Some(Block::Rows(rows)) => rows,
            _ => unreachable!("the last block is never spilled"),
        }
    }

    /// Appends one signature that is already folded (read from an index).
    pub fn push_folded(&mut self, slots: &[Slot]) {
        assert_eq!(slots.len(), self.num_perm);
        self.next_row().extend_from_slice(slots);
    }

    /// Appends the rows of a block of folded signatures (`block.len()` a multiple of
    /// `num_perm`).
    pub fn extend_from_folded(&mut self, block: &[Slot]) {
        assert_eq!(block.len() % self.num_perm.max(1), 0);
        for row in block.chunks_exact(self.num_perm.max(1)) {
            self.next_row().extend_from_slice(row);
        }
    }

    /// Appends the rows of a block computed elsewhere (`block.len()` a multiple of `num_perm`).
    pub fn extend_from_block(&mut self, block: &[u32]) {
        assert_eq!(block.len() % self.num_perm.max(1), 0);
        for row in block.chunks_exact(self.num_perm) {
            self.next_row().extend(row.iter().map(|&v| fold_slot(v)));
        }
    }

    /// From now on, [`Signatures::spill_full_blocks`] writes full blocks to `file` (empty, and
    /// private to this matrix: an unnamed temporary file) and takes their rows out of memory
    /// (the last one's memory waits, emptied, for the next block).
    pub fn spill_to(&mut self, file: std::fs::File) {
        self.spill = Some((std::sync::Arc::new(file), 0));
    }

    /// Writes every full block not yet written to the spill file and takes its rows out of
    /// memory, keeping the last one's allocation, emptied, for the next block (called after each
    /// row, at most one block's memory is held; [`Signatures::finish_appending`] gives it up);
    /// nothing without [`Signatures::spill_to`]. Block `b` lies at byte `b · block_docs · num_perm · 2`,
    /// its slots little-endian.
    pub fn spill_full_blocks(&mut self) -> std::io::Result<()> {
        let Some((file, spilled)) = &mut self.spill else {
            return Ok(());
        };
        let full = self.len / self.block_docs;
        let block_bytes = self.block_docs * self.num_perm * std::mem::size_of::<Slot>();
        let mut bytes = Vec::new();
        while *spilled < full {
            let Block::Rows(rows) = &self.blocks[*spilled] else {
                unreachable!("blocks are spilled in order, once");
            };
            // In pieces, so that no block-sized copy is made.
            let piece_slots = SPILL_PIECE_BYTES / std::mem::size_of::<Slot>();
            for (p, piece) in rows.chunks(piece_slots).enumerate() {
                bytes.clear();
                bytes.extend(piece.iter().flat_map(|s| s.to_le_bytes()));
                std::os::unix::fs::FileExt::write_all_at(
                    &**file,
                    &bytes,
                    (*spilled * block_bytes + p * SPILL_PIECE_BYTES) as u64,
                )?;
            }
            // Given up only once written; its memory serves the next block.
            if let Block::Rows(mut rows) =
                std::mem::replace(&mut self.blocks[*spilled], Block::Spilled)
            {
                rows.clear();
                self.spare = rows;
            }
            *spilled += 1;
        }
        Ok(())
    }

    /// No more rows will be appended: frees the spare block's memory and, in a matrix that
    /// spills, the unused room of the last block (which holds a spilled block's memory, every
    /// page of it in use: a partly filled new block had only its rows' pages).
    pub fn finish_appending(&mut self) {
        self.spare = Vec::new();
        if self.spill.is_some()
            && let Some(Block::Rows(rows)) = self.blocks.last_mut()
        {
            rows.shrink_to_fit();
        }
    }

    /// True when some rows are in the spill file rather than in memory.
    pub fn is_spilled(&self) -> bool {
        self.spill.as_ref().is_some_and(|(_, spilled)| *spilled > 0)
    }

    /// Reads back, from the spill file, the rows of the documents in `docs` (ascending,
    /// distinct). A spilled block that holds one of them then holds the rows of exactly those of
    /// its documents that `docs` names (rows it held before are dropped); other blocks are left
    /// as they are. [`Signatures::get`] of a spilled document whose row is not read back
    /// panics. The file stays, so that rows can be read back again after
    /// [`Signatures::release`]. Nothing without [`Signatures::spill_to`].
    pub fn read_back(&mut self, docs: &[u32]) -> std::io::Result<()> {
        self.spare = Vec::new();
        let Some((file, _)) = &self.spill else {
            return Ok(());
        };
        let (k, block_docs) = (self.num_perm, self.block_docs);
        // The documents asked for in each block that is not in memory.
        let mut asked: Vec<(usize, &[u32])> = Vec::new();
        let mut rest = docs;
        while let Some(&first) = rest.first() {
            let b = first as usize / block_docs;
            let end = rest.partition_point(|&d| (d as usize) < (b + 1) * block_docs);
            if !matches!(self.blocks[b], Block::Rows(_)) {
                asked.push((b, &rest[..end]));
            }
            rest = &rest[end..];
        }
        // A block per task on the thread pool: its reads and the copy into rows.
        let read: Vec<Block> = asked
            .par_iter()
            .map(|&(b, in_block)| read_block(file, b, in_block, k, block_docs))
            .collect::<std::io::Result<_>>()?;
        for (&(b, _), block) in asked.iter().zip(read) {
            self.blocks[b] = block;
        }
        #[cfg(test)]
        {
            let held = self.blocks.iter().map(|b| match b {
                Block::Kept { docs, .. } => docs.len(),
                _ => 0,
            });
            self.most_rows_read_back = self.most_rows_read_back.max(held.sum());
        }
        Ok(())
    }

    /// Drops the rows [`Signatures::read_back`] read into the blocks that hold a document of
    /// `docs` (ascending), and the memory they held; rows of blocks never spilled stay.
    pub fn release(&mut self, docs: &[u32]) {
        let mut rest = docs;
        while let Some(&first_doc) = rest.first() {
            let b = first_doc as usize / self.block_docs;
            rest = &rest[rest.partition_point(|&d| (d as usize) < (b + 1) * self.block_docs)..];
            if let block @ Block::Kept { .. } = &mut self.blocks[b] {
                *block = Block::Spilled;
            }
        }
    }

    /// [`Signatures::release`] of every block: no row read back stays in memory.
    pub fn release_all(&mut self) {
        for block in &mut self.blocks {
            if let Block::Kept { .. } = block {
                *block = Block::Spilled;
            }
        }
    }

    /// For each pair of `pairs` (sorted, distinct, `a < b` in each), the number of slots its
    /// two signatures agree on: [`estimate_jaccard`] is that over `num_perm`. Rows in the spill
    /// file are read back for it ([`Signatures::read_back`]) at most two parts of `part_bytes`
    /// at a time, and released after; rows in memory are used where they are.
    ///
    /// The documents of the pairs are cut, at block boundaries, into parts of at most
    /// `part_bytes` of rows (a block holds few enough documents to fit). Each part is read back
    /// in turn and, while it is held, the documents of each later part that pair with it (those
    /// alone, so that many small parts do not read every later part again for each): the pairs
    /// between the two are counted then. At 10M short articles, 14M candidates hold 4M
    /// documents: 1 GB of rows if read back at once.
    ///
    /// # Panics
    ///
    /// If `pairs` is not sorted and distinct, or a pair's `a` is not below its `b`.
    pub fn agreements_in_parts(
        &mut self,
        pairs: &[(u32, u32)],
        part_bytes: usize,
    ) -> std::io::Result<Vec<u16>> {
        assert!(
            pairs.windows(2).all(|w| w[0] < w[1]) && pairs.iter().all(|&(a, b)| a < b),
            "pairs sorted, distinct, a < b"
        );
        let mut docs: Vec<u32> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
        docs.par_sort_unstable();
        docs.dedup();
        docs.shrink_to_fit();
        // Parts: `docs[parts[p]..parts[p + 1]]`, each whole blocks of documents.
        let row_bytes = self.num_perm * std::mem::size_of::<Slot>();
        let part_rows = (part_bytes / row_bytes.max(1)).max(1);
        let block_docs = self.block_docs;
        let block_of = |d: u32| d as usize / block_docs;
        let mut parts = vec![0usize];
        let mut i = 0;
        while i < docs.len() {
            let block_end = i + docs[i..].partition_point(|&d| block_of(d) == block_of(docs[i]));
            let part_start = *parts.last().expect("parts start at 0");
            if block_end - part_start > part_rows && i > part_start {
                parts.push(i);
            }
            i = block_end;
        }
        parts.push(docs.len());
        let n_parts = parts.len() - 1;
        let part_docs = |p: usize| &docs[parts[p]..parts[p + 1]];
        // The first document of each part after the first: where a document's part is found.
        let starts: Vec<u32> = (1..n_parts).map(|p| docs[parts[p]]).collect();
        let part_of = |d: u32| starts.partition_point(|&s| s <= d);

        let mut agree = vec![0u16; pairs.len()];
        for p in 0..n_parts {
            let Some(&first) = part_docs(p).first() else {
                continue;
            };
            let lo = pairs.partition_point(|&(a, _)| a < first);
            let hi = pairs.partition_point(|&(a, _)| part_of(a) <= p);
            let (these, counts) = (&pairs[lo..hi], &mut agree[lo..hi]);
            // These pairs by the part of their second document, then by that document.
            let mut order: Vec<(u32, u32, u32)> = these
                .par_iter()
                .enumerate()
                .map(|(i, &(_, b))| (part_of(b) as u32, b, i as u32))
                .collect();
            order.par_sort_unstable();
            self.read_back(part_docs(p))?;
            let mut rest = &order[..];
            while let Some(&(q, _, _)) = rest.first() {
                let (with_q, after) = rest.split_at(rest.partition_point(|&(r, _, _)| r == q));
                rest = after;
                // Of a later part, only the documents that pair with this one.
                let mut docs_q: Vec<u32> = Vec::new();
                if q as usize != p {
                    docs_q = with_q.iter().map(|&(_, b, _)| b).collect();
                    docs_q.dedup();
                    self.read_back(&docs_q)?;
                }
                let held: &Signatures = self;
                let counted: Vec<u16> = with_q
                    .par_chunks(AGREEMENT_PIECE)
                    .flat_map_iter(|piece| {
                        piece.iter().map(|&(_, b, i)| {
                            let a = these[i as usize].0;
                            let (x, y) = (held.get(a as usize), held.get(b as usize));
                            x.iter().zip(y).filter(|(s, t)| s == t).count() as u16
                        })
                    })
                    .collect();
                for (&(_, _, i), count) in with_q.iter().zip(counted) {
                    counts[i as usize] = count;
                }
                self.release(&docs_q);
            }
            self.release(part_docs(p));
        }
        Ok(agree)
    }

    /// Documents per block: [`Signatures::read_back`] and [`Signatures::release`] work on
    /// whole blocks.
    pub fn block_docs(&self) -> usize {
        self.block_docs
    }
}

/// The rows of the documents `in_block` (ascending, all in block `b`) read from a spill file
/// of `k`-slot rows in blocks of `block_docs`: in pieces of whole rows, read only where one of
/// them is.
fn read_block(
    file: &std::fs::File,
    b: usize,
    in_block: &[u32],
    k: usize,
    block_docs: usize,
) -> std::io::Result<Block> {
    let row_bytes = k * std::mem::size_of::<Slot>();
    let block_bytes = block_docs * row_bytes;
    let piece_rows = (SPILL_PIECE_BYTES / row_bytes.max(1)).clamp(1, block_docs);
    let mut bytes = vec![0u8; piece_rows * row_bytes];
    let mut docs = Vec::with_capacity(in_block.len());
    let mut rows = Vec::with_capacity(in_block.len() * k);
    let mut i = 0;
    while i < in_block.len() {
        let first = in_block[i] as usize % block_docs / piece_rows * piece_rows;
        let n_rows = piece_rows.min(block_docs - first);
        let piece = &mut bytes[..n_rows * row_bytes];
        std::os::unix::fs::FileExt::read_exact_at(
            file,
            piece,
            (b * block_bytes + first * row_bytes) as u64,
        )?;
        while let Some(&d) = in_block.get(i) {
            let local = d as usize % block_docs;
            if local >= first + n_rows {
                break;
            }
            docs.push(local as u16);
            let row = &piece[(local - first) * row_bytes..(local - first + 1) * row_bytes];
            rows.extend(
                row.chunks_exact(2)
                    .map(|p| Slot::from_le_bytes([p[0], p[1]])),
            );
            i += 1;
        }
    }
    Ok(Block::Kept { docs, rows })
}

/// Pairs per parallel piece of [`Signatures::agreements_in_parts`].
const AGREEMENT_PIECE: usize = 1 << 16;

/// Signature rows that [`ReadBack`] (and verification's triage) read back for one part of the
/// documents: they hold at most two parts at a time, 256 MiB together.
pub const PART_BYTES: usize = 128 << 20;

/// Estimated Jaccard similarities of pairs of documents, a batch at a time: from rows in memory
/// (`&Signatures`), or read back from the spill file part by part ([`ReadBack`]).
pub trait PairEstimates {
    /// The [`estimate_jaccard`] of each pair of `pairs`, in their order (any order, either
    /// document first; a document paired with itself is 1).
    fn estimates(&mut self, pairs: &[(u32, u32)]) -> std::io::Result<Vec<f64>>;
}

impl PairEstimates for &Signatures {
    fn estimates(&mut self, pairs: &[(u32, u32)]) -> std::io::Result<Vec<f64>> {
        Ok(pairs
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    1.0
                } else {
                    estimate_jaccard(self.get(a as usize), self.get(b as usize))
                }
            })
            .collect())
    }
}

/// Estimates from signatures that may be in the spill file: each batch's rows are read back
/// part by part ([`Signatures::agreements_in_parts`], parts of `part_bytes`) and released.
#[derive(Debug)]
pub struct ReadBack<'a> {
    /// The signatures.
    pub sigs: &'a mut Signatures,
    /// Bytes of rows in one part.
    pub part_bytes: usize,
}

impl PairEstimates for ReadBack<'_> {
    fn estimates(&mut self, pairs: &[(u32, u32)]) -> std::io::Result<Vec<f64>> {
        // The distinct pairs, the smaller document first, sorted; and which one each pair is.
        let key = |i: u32| {
            let (a, b) = pairs[i as usize];
            (a.min(b), a.max(b))
        };
        let mut order: Vec<u32> = (0..pairs.len() as u32).collect();
        order.par_sort_unstable_by_key(|&i| key(i));
        let mut distinct: Vec<(u32, u32)> = Vec::new();
        let mut which = vec![u32::MAX; pairs.len()];
        for &i in &order {
            let pair = key(i);
            if pair.0 == pair.1 {
                continue;
            }
            if distinct.last() != Some(&pair) {
                distinct.push(pair);
            }
            which[i as usize] = distinct.len() as u32 - 1;
        }
        drop(order);
        let agree = self.sigs.agreements_in_parts(&distinct, self.part_bytes)?;
        let k = self.sigs.num_perm() as f64;
        Ok(which
            .iter()
            .map(|&w| match w {
                u32::MAX => 1.0,
                w => f64::from(agree[w as usize]) / k,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::DEFAULT_SEED;

    /// `read_back` reads the rows asked for into the blocks that hold one, leaves other blocks
    /// as they are, and reads a block again in place of what it held; `release` drops the rows
    /// of the blocks asked for; rows of a block never spilled stay throughout.
    #[test]
    fn rows_read_back_by_block_and_released() {
        let k = 3;
        let mut sigs = Signatures::with_block_docs(k, 8);
        sigs.spill_to(tempfile::tempfile().unwrap());
        let row = |d: usize| [d as u32 * 11, u32::MAX - d as u32, 5];
        let n = 8 * 3 + 5; // three spilled blocks and a partial one in memory
        for d in 0..n {
            sigs.extend_from_block(&row(d));
            sigs.spill_full_blocks().unwrap();
        }
        sigs.finish_appending();
        let folded = |d: usize| -> Vec<Slot> { row(d).iter().map(|&v| fold_slot(v)).collect() };
        let gone = |sigs: &Signatures, d: usize| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sigs.get(d).to_vec())).is_err()
        };
        sigs.read_back(&[0, 2, 3, 7, 17, 20, 25]).unwrap();
        for d in [0, 2, 3, 7, 17, 20] {
            assert_eq!(sigs.get(d), &folded(d)[..], "row {d}");
        }
        for d in [1, 8, 9, 15, 16, 18] {
            assert!(gone(&sigs, d), "row {d} was not asked for");
        }
        assert!(matches!(sigs.blocks[1], Block::Spilled));
        // Block 1 read back, block 2 read again with other rows; block 0 is left as it was.
        sigs.read_back(&[9, 15, 16, 23]).unwrap();
        for d in [0, 2, 3, 7, 9, 15, 16, 23] {
            assert_eq!(sigs.get(d), &folded(d)[..], "row {d}");
        }
        for d in [17, 20] {
            assert!(gone(&sigs, d), "row {d} was replaced");
        }
        match &sigs.blocks[2] {
            Block::Kept { docs, rows } => assert_eq!((docs.len(), rows.len()), (2, 2 * k)),
            other => panic!("block 2 is {other:?}"),
        }
        // Released: block 1 (asked for through one of its rows, not read back) and block 2.
        sigs.release(&[10, 23, 26]);
        assert!(matches!(sigs.blocks[1], Block::Spilled));
        assert!(matches!(sigs.blocks[2], Block::Spilled));
        assert_eq!(sigs.get(2), &folded(2)[..]);
        for d in [9, 15, 16, 23] {
            assert!(gone(&sigs, d), "row {d} was released");
        }
        // read_row still finds every row, in memory or not.
        let mut out = Vec::new();
        for d in 0..n {
            sigs.read_row(d, &mut out).unwrap();
            assert_eq!(out, folded(d), "row {d}");
        }
        sigs.release_all();
        assert!(matches!(sigs.blocks[0], Block::Spilled));
        assert!(gone(&sigs, 2));
        for d in 24..n {
            assert_eq!(sigs.get(d), &folded(d)[..], "row {d} in memory");
        }
        assert!(sigs.is_spilled());
    }

    /// Estimates read back part by part equal those of rows in memory, for pairs in any
    /// order, either document first, repeated, and of a document with itself; parts of one
    /// block, of several, and of everything.
    #[test]
    fn estimates_read_back_equal_estimates_in_memory() {
        let (k, n) = (16, 50u32);
        let row =
            |d: u32| -> Vec<u32> { (0..k as u32).map(|i| (d % 7 + i * (d % 3)) % 9).collect() };
        let mut in_memory = Signatures::new(k);
        let mut spilled = Signatures::with_block_docs(k, 4);
        spilled.spill_to(tempfile::tempfile().unwrap());
        for d in 0..n {
            in_memory.extend_from_block(&row(d));
            spilled.extend_from_block(&row(d));
            spilled.spill_full_blocks().unwrap();
        }
        spilled.finish_appending();
        let mut state = 5u64;
        let mut pairs: Vec<(u32, u32)> = (0..400)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as u32 % n, (state >> 20) as u32 % n)
            })
            .collect();
        pairs.extend([(3, 3), (9, 2), (2, 9), (9, 2), (49, 0)]);
        let want = (&in_memory).estimates(&pairs).unwrap();
        assert!(want.iter().any(|&e| e > 0.0 && e < 1.0));
        assert_eq!(want[400], 1.0);
        for part_rows in [1, 4, 9, n as usize] {
            let got = ReadBack {
                sigs: &mut spilled,
                part_bytes: part_rows * k * 2,
            }
            .estimates(&pairs)
            .unwrap();
            assert_eq!(got, want, "parts of {part_rows} rows");
            assert!(matches!(spilled.blocks[0], Block::Spilled), "rows stayed");
        }
    }

    #[test]
    fn read_row_reads_rows_in_memory_and_spilled() {
        let k = 4;
        let mut sigs = Signatures::with_block_docs(k, 8);
        sigs.spill_to(tempfile::tempfile().unwrap());
        let row = |d: usize| [d as u32, (d * 7) as u32, u32::MAX - d as u32, 3];
        let n = 8 * 3 + 5;
        for d in 0..n {
            sigs.extend_from_block(&row(d));
            sigs.spill_full_blocks().unwrap();
        }
        assert!(sigs.is_spilled());
        sigs.set(9, &row(2)).unwrap();
        let mut out = Vec::new();
        for d in 0..n {
            sigs.read_row(d, &mut out).unwrap();
            let want: Vec<Slot> = row(if d == 9 { 2 } else { d })
                .iter()
                .map(|&v| fold_slot(v))
                .collect();
            assert_eq!(out, want, "row {d}");
        }
    }

    #[test]
    fn signatures_span_blocks() {
        let k = 3;
        let mut sigs = Signatures::new(k);
        let n = 2 * BLOCK_DOCS + 7;
        let row = |d: usize| [d as u32, (d * 7) as u32, u32::MAX - d as u32];
        for d in 0..n {
            if d % 2 == 0 {
                sigs.extend_from_block(&row(d));
            } else {
                let folded: Vec<Slot> = row(d).iter().map(|&v| fold_slot(v)).collect();
                sigs.push_folded(&folded);
            }
        }
        sigs.set(BLOCK_DOCS, &row(5)).unwrap();
        assert_eq!(sigs.len(), n);
        for d in [0, 1, BLOCK_DOCS - 1, BLOCK_DOCS, BLOCK_DOCS + 1, n - 1] {
            let src = if d == BLOCK_DOCS { 5 } else { d };
            let expected: Vec<Slot> = row(src).iter().map(|&v| fold_slot(v)).collect();
            assert_eq!(sigs.get(d), &expected[..], "doc {d}");
        }
    }

    #[test]
    fn spilled_rows_come_back_for_the_documents_kept() {
        let (k, block_docs, n) = (3, 4, 19);
        let row = |d: usize| [d as u32, (d * 7) as u32, u32::MAX - d as u32];
        let folded = |d: usize| -> Vec<Slot> { row(d).iter().map(|&v| fold_slot(v)).collect() };
        let mut sigs = Signatures::with_block_docs(k, block_docs);
        sigs.spill_to(tempfile::tempfile().unwrap());
        for d in 0..n {
            sigs.extend_from_folded(&folded(d));
            if d % 5 == 0 {
                sigs.spill_full_blocks().unwrap();
            }
        }
        sigs.spill_full_blocks().unwrap();
        assert!(sigs.is_spilled());
        // Blocks 0..4 are in the file; the partial last block (16..19) stays in memory.
        assert!(matches!(sigs.blocks[3], Block::Spilled));
        assert!(matches!(sigs.blocks[4], Block::Rows(_)));
        // A set reaches a spilled row and a row in memory alike.
        sigs.set(5, &row(100)).unwrap();
        sigs.set(17, &row(200)).unwrap();
        let keep = [0, 3, 5, 6, 13, 17];
        sigs.read_back(&keep).unwrap();
        assert!(sigs.is_spilled());
        for d in keep.into_iter().chain([16, 18]) {
            let d = d as usize;
            let expected = match d {
                5 => folded(100),
                17 => folded(200),
                d => folded(d),
            };
            assert_eq!(sigs.get(d), &expected[..], "doc {d}");
        }
        for d in [1, 4, 8, 15] {
            let got = std::panic::catch_unwind(|| sigs.get(d).to_vec());
            assert!(got.is_err(), "doc {d} was not kept");
        }
    }

    /// A block spilled as soon as it is full lends its memory to the next block, so that a
    /// spilling run holds one block's pages throughout; the rows stay right, and
    /// `finish_appending` lets the memory go.
    #[test]
    fn a_spilled_block_s_memory_holds_the_next_block() {
        let (k, block_docs) = (3, 4);
        let folded = |d: usize| -> Vec<Slot> { vec![d as Slot, (d * 7) as Slot, 9] };
        let rows_ptr = |sigs: &Signatures, b: usize| match &sigs.blocks[b] {
            Block::Rows(rows) => rows.as_ptr(),
            _ => panic!("block {b} is not in memory"),
        };
        let mut sigs = Signatures::with_block_docs(k, block_docs);
        sigs.spill_to(tempfile::tempfile().unwrap());
        let n = 3 * block_docs + 1;
        for d in 0..n {
            sigs.extend_from_folded(&folded(d));
            let full_block = d / block_docs;
            let memory = rows_ptr(&sigs, full_block);
            sigs.spill_full_blocks().unwrap();
            if (d + 1) % block_docs == 0 {
                // Spilled, its memory waits, emptied, for the next block.
                assert!(matches!(sigs.blocks[full_block], Block::Spilled));
                assert_eq!(sigs.spare.as_ptr(), memory, "doc {d}");
                assert_eq!(sigs.spare.capacity(), k * block_docs);
                assert!(sigs.spare.is_empty());
            } else {
                assert_eq!(
                    sigs.spare.capacity(),
                    0,
                    "doc {d}: the spare went to a block"
                );
            }
        }
        // The last block, one row in a spilled block's memory, keeps only its row's room.
        assert!(matches!(&sigs.blocks[3], Block::Rows(rows) if rows.capacity() == k * block_docs));
        sigs.finish_appending();
        assert_eq!(sigs.spare.capacity(), 0);
        assert!(matches!(&sigs.blocks[3], Block::Rows(rows) if rows.capacity() < k * block_docs));
        let keep: Vec<u32> = (0..n as u32).collect();
        sigs.read_back(&keep).unwrap();
        for d in 0..n {
            assert_eq!(sigs.get(d), &folded(d)[..], "doc {d}");
        }
    }

    /// Rows set in spans with gaps (the rows between read and written back), in runs, and one
    /// by one, across spilled blocks and the rows in memory, come back with the rows between
    /// them unchanged.
    #[test]
    fn rows_set_in_spans_keep_the_rows_between() {
        let (k, block_docs, n) = (3, 64, 300);
        let row = |d: usize| [d as u32, (d * 7) as u32, u32::MAX - d as u32];
        let mut sigs = Signatures::with_block_docs(k, block_docs);
        sigs.spill_to(tempfile::tempfile().unwrap());
        for d in 0..n {
            sigs.extend_from_block(&row(d));
        }
        sigs.spill_full_blocks().unwrap();
        // Gaps of 1 to ROW_GAP + 2 documents, so some spans join and some do not.
        let mut docs: Vec<u32> = Vec::new();
        let mut d = 1;
        for gap in (1..=ROW_GAP + 2).cycle() {
            if d >= n {
                break;
            }
            docs.push(d as u32);
            d += gap;
        }
        let new = |d: usize| row(d + 1000);
        let values: Vec<u32> = docs.iter().flat_map(|&d| new(d as usize)).collect();
        sigs.set_many(&docs, &values).unwrap();
        let all: Vec<u32> = (0..n as u32).collect();
        sigs.read_back(&all).unwrap();
        for d in 0..n {
            let want = if docs.contains(&(d as u32)) {
                new(d)
            } else {
                row(d)
            };
            let want: Vec<Slot> = want.iter().map(|&v| fold_slot(v)).collect();
            assert_eq!(sigs.get(d), &want[..], "doc {d}");
        }
    }

    #[test]
    fn without_a_spill_file_nothing_is_spilled() {
        let mut sigs = Signatures::with_block_docs(2, 2);
        for d in 0..5u32 {
            sigs.extend_from_block(&[d, d + 1]);
        }
        sigs.spill_full_blocks().unwrap();
        sigs.read_back(&[1]).unwrap();
        assert!(!sigs.is_spilled());
        assert_eq!(sigs.get(4), &[fold_slot(4), fold_slot(5)]);
    }

    fn set(range: std::ops::Range<u64>) -> Vec<u64> {
        range.map(crate::shingle::fmix64).collect()
    }

    #[test]
    fn exact_jaccard_agrees_with_hash_sets() {
        let mut state = 0x5eed_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            crate::shingle::fmix64(state)
        };
        for round in 0..500 {
            // Small universes make overlaps; empty and one-sided sets come up too.
            let universe = 1 + next() % 64;
            let mut a: Vec<u32> = (0..next() % 80)
                .map(|_| (next() % universe) as u32)
                .collect();
            let mut b: Vec<u32> = (0..next() % 80)
                .map(|_| (next() % universe) as u32)
                .collect();
            for s in [&mut a, &mut b] {
                s.sort_unstable();
                s.dedup();
            }
            let (sa, sb): (
                std::collections::HashSet<u32>,
                std::collections::HashSet<u32>,
            ) = (a.iter().copied().collect(), b.iter().copied().collect());
            let union = sa.union(&sb).count();
            let naive = if union == 0 {
                0.0
            } else {
                sa.intersection(&sb).count() as f64 / union as f64
            };
            assert_eq!(exact_jaccard(&a, &b), naive, "round {round}: {a:?} {b:?}");
        }
    }

    #[test]
    fn estimate_tracks_exact_jaccard() {
        for kind in [SketchKind::Classic, SketchKind::Oph, SketchKind::Super] {
            check_estimates(MinHasher::new(kind, 256, DEFAULT_SEED));
        }
    }

    fn check_estimates(hasher: MinHasher) {
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
            assert!(
                (est - exact).abs() < 0.125,
                "{:?}: est {est} exact {exact}",
                hasher.kind()
            );
            let mut sorted_a = a.clone();
            let mut sorted_b = b.clone();
            sorted_a.sort_unstable();
            sorted_b.sort_unstable();
            assert!((exact_jaccard(&sorted_a, &sorted_b) - exact).abs() < 1e-12);
        }
    }

    #[test]
    fn position_and_repetition_do_not_matter() {
        for kind in [SketchKind::Classic, SketchKind::Oph, SketchKind::Super] {
            for n in [1, 5, 300] {
                let hasher = MinHasher::new(kind, 64, DEFAULT_SEED);
                let a = set(0..n);
                let mut b = a.clone();
                b.reverse();
                b.extend_from_slice(&a[..a.len().min(10)]);
                let (mut sa, mut sb) = (vec![0; 64], vec![0; 64]);
                hasher.sign(&a, &mut sa);
                hasher.sign(&b, &mut sb);
                assert_eq!(sa, sb, "{kind:?} n={n}");
                assert!(
                    sa.iter().all(|&v| v != u32::MAX),
                    "{kind:?} n={n}: no empty slot"
                );
            }
        }
    }

    /// The multiversioned classic loop gives the bits of the plain scalar formula.
    #[test]
    fn classic_matches_scalar_formula() {
        let hasher = MinHasher::new(SketchKind::Classic, 32, DEFAULT_SEED);
        let shingles = set(0..500);
        let mut fast = vec![0; 32];
        hasher.sign(&shingles, &mut fast);
        let naive: Vec<u32> = (0..32)
            .map(|i| {
                shingles
                    .iter()
                    .map(|&x| (hasher.a[i].wrapping_mul(x).wrapping_add(hasher.b[i]) >> 32) as u32)
                    .min()
                    .unwrap()
            })
            .collect();
        assert_eq!(fast, naive);
    }

    #[test]
    fn folding_keeps_equal_values_equal_and_separates_the_rest() {
        let values: Vec<u32> = (0..100_000u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        let mut folded: Vec<Slot> = values.iter().map(|&v| fold_slot(v)).collect();
        assert!(values.iter().all(|&v| fold_slot(v) == fold_slot(v)));
        folded.sort_unstable();
        folded.dedup();
        // 100,000 random values into 65,536 buckets fill about 1 - e^-1.53 = 78 % of them.
        assert!(folded.len() > 48_000, "{}", folded.len());
        // Small minima (OPH keeps the smallest values) spread too.
        let mut small: Vec<Slot> = (0..1000u32).map(fold_slot).collect();
        small.sort_unstable();
        small.dedup();
        assert!(small.len() >= 990, "{}", small.len());
    }

    /// The probe table densifies as drawing every probe did: for tiny sets, where most bins
    /// are empty and many run past the table, and for sets that fill every bin.
    #[test]
    fn oph_probe_table_signs_as_drawing_each_probe() {
        let mut past_table = 0;
        for k in [1, 2, 3, 63, 64, 65, 127, 128, 200, 1000, MAX_NUM_PERM] {
            for seed in [DEFAULT_SEED, 0, 0xdead_beef] {
                let hasher = MinHasher::new(SketchKind::Oph, k, seed);
                for (i, n) in [1u64, 2, 3, 5, 17, 64, 130, 500, 5000]
                    .into_iter()
                    .enumerate()
                {
                    let start = n * 1000 + i as u64;
                    let shingles = set(start..start + n);
                    let mut fast = vec![0; k];
                    hasher.sign(&shingles, &mut fast);
                    let mut naive = vec![u32::MAX; k];
                    hasher.oph_sign_naive(&shingles, &mut naive);
                    let count = shingles.len();
                    assert_eq!(fast, naive, "k {k}, seed {seed:#x}, {count} shingles");
                    // How often the table ran out, so that the test is seen to reach there.
                    let mut filled = vec![false; k];
                    for &x in &shingles {
                        filled[fast_range(x >> 32, k)] = true;
                    }
                    past_table += (0..k)
                        .filter(|&bin| !filled[bin])
                        .filter(|&bin| {
                            hasher.probes[bin * OPH_PROBES..(bin + 1) * OPH_PROBES]
                                .iter()
                                .all(|&p| !filled[usize::from(p)])
                        })
                        .count();
                }
            }
        }
        assert!(
            past_table > 1000,
            "only {past_table} bins went past the table"
        );
    }

    /// Golden values: if this fails, signatures changed and stored indexes with them.
    #[test]
    fn golden_signatures() {
        let cases = [
            (
                SketchKind::Classic,
                vec![
                    26027113, 121632534, 143047911, 2965738, 5384955, 76632281, 91147453, 103768356,
                ],
            ),
            (
                SketchKind::Oph,
                vec![
                    0, 77256213, 326815342, 625529613, 226420535, 125330902, 138101552, 536083254,
                ],
            ),
            (
                SketchKind::Super,
                vec![
                    43654176, 95842776, 33535941, 6587503, 10797860, 33006955, 19581992, 37674259,
                ],
            ),
        ];
        for (kind, expected) in cases {
            let hasher = MinHasher::new(kind, 8, DEFAULT_SEED);
            let mut sig = vec![0; 8];
            hasher.sign(&set(0..100), &mut sig);
            assert_eq!(sig, expected, "{kind:?}");
        }
    }
}
