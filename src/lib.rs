//! storyhash finds near-duplicate articles in large corpora.
//!
//! The pipeline reads JSON Lines articles ([`ingest`]), reduces each text to canonical words
//! without scraped boilerplate ([`normalize`]), hashes its word n-grams with a stable seeded hash
//! ([`shingle`]), sketches the shingle set with MinHash ([`minhash`]), groups signatures into
//! candidate pairs by LSH banding ([`lsh`]), checks candidates against the Jaccard threshold
//! ([`verify`]), joins verified pairs into clusters with a kept article each ([`cluster`]), and
//! writes the results ([`report`]). [`pipeline::dedup`] runs the stages in order; stages are
//! plain functions, parallel inside with rayon, and give byte-identical results for any
//! thread count.
//!
//! The library holds no `unsafe` code. The binary sets one glibc tunable at start (it keeps the
//! allocator's mmap threshold fixed, which holds a 1M-article run's peak ~50 MB lower); a
//! program that calls the library on a large corpus gets the same with
//! `MALLOC_MMAP_THRESHOLD_=131072` in its environment.
//!
//! # Example
//!
//! ```
//! use storyhash::pipeline::{DedupConfig, dedup, open_inputs};
//! use storyhash::progress::Silent;
//!
//! let dir = tempfile::tempdir()?;
//! let text = "the quick brown fox jumps over the lazy dog while the cat sleeps in the sun";
//! let corpus = dir.path().join("corpus.jsonl");
//! std::fs::write(&corpus, format!(
//!     "{{\"id\":\"a\",\"text\":\"{text}\"}}\n\
//!      {{\"id\":\"b\",\"text\":\"{text}. Share this: Twitter Facebook\"}}\n\
//!      {{\"id\":\"c\",\"text\":\"an entirely different article about something else\"}}\n"
//! ))?;
//!
//! let config = DedupConfig::default();
//! let inputs = open_inputs(&[corpus], dir.path())?;
//! let run = dedup(inputs, &config, &Silent)?;
//! assert_eq!(run.clusters.clusters.len(), 1);
//! assert_eq!(run.clusters.clusters[0].members, vec![0, 1]);
//!
//! storyhash::report::write_dedup(&run, &config, &dir.path().join("out"), &Silent)?;
//! let deduped = std::fs::read_to_string(dir.path().join("out/deduped.jsonl"))?;
//! assert_eq!(deduped.lines().count(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod cluster;
pub mod error;
pub mod eval;
pub mod headlines;
pub mod index;
pub mod ingest;
pub mod lsh;
pub mod minhash;
pub mod normalize;
pub mod outdir;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod shingle;
pub mod story;
pub mod verify;

pub use error::{Error, Result};
