//! Criterion benchmarks of the hashing hot path: normalize, shingle and MinHash, on real text.
//!
//! Throughput is in bytes of article text. Inputs are built outside the timed loop; each
//! iteration checks a count so that a broken fast path cannot look fast.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use storyhash::ingest::{FieldNames, parse_record_in};
use storyhash::minhash::{MinHasher, SketchKind};
use storyhash::normalize::{
    LearnedBoilerplate, canonical_text, for_each_token, for_each_token_sampled,
};
use storyhash::shingle::{
    DEFAULT_SEED, ShingleConfig, ShingleScratch, TokenHash, grams_from_token_hashes, shingles,
};

/// The sample corpus's lines, as the input holds them.
fn records() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.jsonl");
    let corpus = std::fs::read_to_string(path).expect("data/sample.jsonl is in the repository");
    corpus.lines().map(str::to_string).collect()
}

/// Real article texts from the sample corpus.
fn texts() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample.jsonl");
    let corpus = std::fs::read_to_string(path).expect("data/sample.jsonl is in the repository");
    corpus
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("sample lines are JSON");
            v["text"].as_str().unwrap_or("").to_string()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

fn bench_signature_stage(c: &mut Criterion) {
    let texts = texts();
    let bytes: usize = texts.iter().map(String::len).sum();
    let learned = LearnedBoilerplate::default();
    let config = ShingleConfig::default();
    let words = config.word_hasher();
    let mut group = c.benchmark_group("signature_stage");
    group.throughput(Throughput::Bytes(bytes as u64));

    group.bench_function("normalize", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            let mut words = 0;
            for t in &texts {
                for_each_token(black_box(t), &learned, &mut buf, |_| words += 1);
            }
            assert!(words > 0);
        })
    });

    let canonicals: Vec<String> = texts
        .iter()
        .map(|t| {
            let mut s = String::new();
            canonical_text(t, &learned, &mut s);
            s
        })
        .collect();
    group.bench_function("shingle", |b| {
        let mut scratch = ShingleScratch::default();
        let mut hashes = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for canon in &canonicals {
                shingles(black_box(canon), &config, &mut scratch, &mut hashes);
                n += hashes.len();
            }
            assert!(n > 0);
        })
    });

    // Word 5-grams folded from ready token hashes (the step after the tokenizer).
    let token_hash_lists: Vec<Vec<u64>> = canonicals
        .iter()
        .map(|canon| {
            canon
                .split(' ')
                .filter(|t| !t.is_empty())
                .map(|t| words.hash(t.as_bytes()))
                .collect()
        })
        .collect();
    group.bench_function("grams_from_token_hashes", |b| {
        let mut hashes = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for list in &token_hash_lists {
                hashes.clear();
                grams_from_token_hashes(black_box(list), &config, &mut hashes);
                n += hashes.len();
            }
            assert!(n > 0);
        })
    });

    let shingle_sets: Vec<Vec<u64>> = canonicals
        .iter()
        .map(|canon| {
            let mut hashes = Vec::new();
            shingles(canon, &config, &mut ShingleScratch::default(), &mut hashes);
            hashes
        })
        .collect();
    for kind in [SketchKind::Classic, SketchKind::Oph, SketchKind::Super] {
        let hasher = MinHasher::new(kind, 128, DEFAULT_SEED);
        let name = format!("minhash_128_{kind:?}").to_lowercase();
        group.bench_function(name, |b| {
            let mut sig = vec![0u32; 128];
            b.iter(|| {
                let mut nonzero = 0;
                for set in &shingle_sets {
                    hasher.sign(black_box(set), &mut sig);
                    nonzero += usize::from(sig[0] != u32::MAX);
                }
                assert_eq!(
                    nonzero,
                    shingle_sets.iter().filter(|s| !s.is_empty()).count()
                );
            })
        });
    }

    // The pipeline's own path: words cut and hashed in one pass, n-grams folded, then signed;
    // with the default word hash (mum16) and, for the ratio, with xxh3.
    for (kind, token_hash, name) in [
        (SketchKind::Oph, TokenHash::Mum16, "all_three_oph"),
        (SketchKind::Oph, TokenHash::Xxh3, "all_three_oph_xxh3"),
        (SketchKind::Classic, TokenHash::Mum16, "all_three_classic"),
    ] {
        let hasher = MinHasher::new(kind, 128, DEFAULT_SEED);
        let config = ShingleConfig {
            token_hash,
            ..config
        };
        let words = config.word_hasher();
        group.bench_function(name, |b| {
            let mut buf = Vec::new();
            let mut token_hashes = Vec::new();
            let mut hashes = Vec::new();
            let mut sig = vec![0u32; 128];
            b.iter(|| {
                let mut signed = 0;
                for t in &texts {
                    token_hashes.clear();
                    for_each_token(black_box(t), &learned, &mut buf, |w| {
                        token_hashes.push(words.hash_word(w))
                    });
                    hashes.clear();
                    grams_from_token_hashes(&token_hashes, &config, &mut hashes);
                    hasher.sign(&hashes, &mut sig);
                    signed += usize::from(!hashes.is_empty());
                }
                assert_eq!(signed, texts.len());
            })
        });
    }

    // The whole signature stage from the input line: JSON parsed, text cut and hashed, signed.
    let records = records();
    let names = FieldNames::default();
    let hasher = MinHasher::new(SketchKind::Oph, 128, DEFAULT_SEED);
    group.bench_function("parse_and_sign_oph", |b| {
        let mut buf = Vec::new();
        let mut text_buf = String::new();
        let mut token_hashes = Vec::new();
        let mut hashes = Vec::new();
        let mut sig = vec![0u32; 128];
        b.iter(|| {
            let mut signed = 0;
            for line in &records {
                let record = parse_record_in(black_box(line.as_bytes()), &names, &mut text_buf)
                    .expect("sample lines are valid records");
                let text = record.text.as_deref().unwrap_or("");
                token_hashes.clear();
                for_each_token(text, &learned, &mut buf, |w| {
                    token_hashes.push(words.hash_word(w))
                });
                hashes.clear();
                grams_from_token_hashes(&token_hashes, &config, &mut hashes);
                hasher.sign(&hashes, &mut sig);
                signed += usize::from(!hashes.is_empty());
            }
            assert_eq!(signed, texts.len());
        })
    });

    // The scan's own path: as above, with the line sample the boilerplate learner takes
    // gathered in the same pass (what `storyhash dedup` does per article by default).
    group.bench_function("parse_sample_and_sign_oph", |b| {
        let mut buf = Vec::new();
        let mut text_buf = String::new();
        let mut token_hashes = Vec::new();
        let mut hashes = Vec::new();
        let mut sig = vec![0u32; 128];
        b.iter(|| {
            let (mut signed, mut sampled) = (0, 0);
            for line in &records {
                let record = parse_record_in(black_box(line.as_bytes()), &names, &mut text_buf)
                    .expect("sample lines are valid records");
                let text = record.text.as_deref().unwrap_or("");
                token_hashes.clear();
                let sample =
                    for_each_token_sampled(text, record.source.as_deref(), &mut buf, |w| {
                        token_hashes.push(words.hash_word(w))
                    });
                hashes.clear();
                grams_from_token_hashes(&token_hashes, &config, &mut hashes);
                hasher.sign(&hashes, &mut sig);
                signed += usize::from(!hashes.is_empty());
                sampled += sample.keys().count();
            }
            assert_eq!(signed, texts.len());
            assert!(sampled > 0);
        })
    });
    group.finish();
}

criterion_group!(benches, bench_signature_stage);
criterion_main!(benches);
