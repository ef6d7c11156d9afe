//! `storyhash dedup`: near-duplicate clusters and a deduplicated corpus.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use storyhash::cluster::{ClusterConfig, KeepRule};
use storyhash::ingest::FieldNames;
use storyhash::minhash::SketchKind;
use storyhash::outdir::OutDir;
use storyhash::pipeline::{DedupConfig, IndexConfig, dedup_with_index, open_index, open_inputs};
use storyhash::shingle::{DEFAULT_SEED, ShingleConfig, ShingleKind, TokenHash};
use storyhash::verify::VerifyMode;

use super::{EXIT_OK, RunArgs, exit_code, progress_for, setup_threads};

#[derive(Copy, Clone, Debug, ValueEnum)]
enum KeepArg {
    /// The earliest published (an article without a date counts as the latest)
    Earliest,
    /// The most characters of text, counted as the input gives it (boilerplate included)
    Longest,
    /// The first in input order
    First,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum ShingleArg {
    Word,
    Char,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum SketchArg {
    Classic,
    Oph,
    Super,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum VerifyArg {
    Auto,
    Estimate,
    Exact,
}

#[derive(Args, Debug)]
pub(crate) struct DedupArgs {
    /// JSON Lines inputs (plain, .gz or .zst); `-` reads standard input.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output directory (created if absent). During a run without `--index` it also holds the
    /// signatures and the headlines, in unnamed temporary files: 2 bytes per slot and 4 per
    /// band for each article (about 340 with the defaults), plus its headline and link. A run
    /// locks it (`.storyhash.lock`): a second run into it is refused, and the temporary files
    /// a killed run left there are removed.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Jaccard similarity of normalized shingle sets at which two articles are near-duplicates.
    #[arg(long, default_value_t = 0.8)]
    threshold: f64,
    /// Shingle length, in words (or characters with --shingle char).
    #[arg(long, default_value_t = 5)]
    ngram: usize,
    /// What a shingle is made of.
    #[arg(long, value_enum, default_value_t = ShingleArg::Word)]
    shingle: ShingleArg,
    /// MinHash signature length (slots).
    #[arg(long, default_value_t = 128)]
    num_perm: usize,
    /// MinHash variant: one-permutation hashing with optimal densification (oph), k hash
    /// functions (classic), or SuperMinHash (super). See docs/SKETCHES.md.
    #[arg(long, value_enum, default_value_t = SketchArg::Oph)]
    sketch: SketchArg,
    /// LSH bands (with --rows); chosen from the threshold when absent (with --index: the index's).
    #[arg(long, requires = "rows")]
    bands: Option<usize>,
    /// LSH rows per band (with --bands).
    #[arg(long, requires = "bands")]
    rows: Option<usize>,
    /// How candidates are checked: exact Jaccard near the threshold (auto), estimate only, or exact always.
    #[arg(long, value_enum, default_value_t = VerifyArg::Auto)]
    verify: VerifyArg,
    /// Which article of a cluster is kept (ties go to the first seen).
    #[arg(long, value_enum, default_value_t = KeepArg::Earliest)]
    keep: KeepArg,
    /// Outlets preferred as the kept copy, best first (repeat or separate by commas).
    #[arg(long, value_delimiter = ',', value_name = "SOURCE")]
    prefer_source: Vec<String>,
    /// Move members below the threshold to the kept article into clusters of their own.
    #[arg(long)]
    split_chains: bool,
    /// Hash seed, decimal or 0x-prefixed hex as summary.json shows it (changes every signature).
    #[arg(long, default_value_t = DEFAULT_SEED, value_parser = parse_seed)]
    seed: u64,
    /// Do not learn boilerplate lines from the corpus, nor remove those an index learned on
    /// earlier nights (the index keeps them).
    #[arg(long)]
    no_learn_boilerplate: bool,
    /// Different articles of one outlet a line must appear in to count as boilerplate (2-8).
    #[arg(long, default_value_t = 5)]
    boilerplate_min_docs: usize,
    /// Record bad lines in rejects.jsonl and go on, instead of stopping at the first.
    #[arg(long)]
    skip_invalid: bool,
    /// A persistent index (directory, created if absent; what this run made in it, the
    /// directory included, goes again if it fails before adding anything): deduplicate
    /// against every article indexed by earlier runs, then add tonight's. Old ids keep their clusters.
    #[arg(long, value_name = "DIR")]
    index: Option<std::path::PathBuf>,
    /// With --index: drop indexed articles dated more than DAYS before the median date of
    /// tonight's batch (a rolling window; undated articles age with their batch's newest date).
    #[arg(long, value_name = "DAYS", requires = "index")]
    index_max_age: Option<f64>,
    #[command(flatten)]
    fields: FieldArgs,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args, Debug)]
pub(crate) struct FieldArgs {
    /// Input field holding the unique id.
    #[arg(long, default_value = "id", value_name = "NAME")]
    id_field: String,
    /// Input field holding the text.
    #[arg(long, default_value = "text", value_name = "NAME")]
    text_field: String,
    /// Input field holding the headline.
    #[arg(long, default_value = "title", value_name = "NAME")]
    title_field: String,
    /// Input field holding the outlet.
    #[arg(long, default_value = "source", value_name = "NAME")]
    source_field: String,
    /// Input field holding the publication date.
    #[arg(long, default_value = "published", value_name = "NAME")]
    published_field: String,
    /// Input field holding the URL.
    #[arg(long, default_value = "url", value_name = "NAME")]
    url_field: String,
}

impl DedupArgs {
    /// The checked configuration (validated again by the library before it runs).
    pub(crate) fn config(&self) -> DedupConfig {
        DedupConfig {
            fields: FieldNames {
                id: self.fields.id_field.clone(),
                text: self.fields.text_field.clone(),
                title: self.fields.title_field.clone(),
                source: self.fields.source_field.clone(),
                published: self.fields.published_field.clone(),
                url: self.fields.url_field.clone(),
            },
            skip_invalid: self.skip_invalid,
            shingle: ShingleConfig {
                kind: match self.shingle {
                    ShingleArg::Word => ShingleKind::Word,
                    ShingleArg::Char => ShingleKind::Char,
                },
                ngram: self.ngram,
                seed: self.seed,
                // An index built with the other hash has the run use its own.
                token_hash: TokenHash::default(),
            },
            sketch: match self.sketch {
                SketchArg::Classic => SketchKind::Classic,
                SketchArg::Oph => SketchKind::Oph,
                SketchArg::Super => SketchKind::Super,
            },
            num_perm: self.num_perm,
            bands_rows: self.bands.zip(self.rows),
            verify: match self.verify {
                VerifyArg::Auto => VerifyMode::Auto,
                VerifyArg::Estimate => VerifyMode::Estimate,
                VerifyArg::Exact => VerifyMode::Exact,
            },
            cluster: ClusterConfig {
                threshold: self.threshold,
                keep: match self.keep {
                    KeepArg::Earliest => KeepRule::Earliest,
                    KeepArg::Longest => KeepRule::Longest,
                    KeepArg::First => KeepRule::First,
                },
                // `--prefer-source 'a.com, b.com'`: the names without the spaces around them.
                prefer_sources: self
                    .prefer_source
                    .iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
                split_chains: self.split_chains,
            },
            learn_boilerplate: !self.no_learn_boilerplate,
            boilerplate_min_docs: self.boilerplate_min_docs,
            stories: None,
            index: self.index.as_ref().map(|dir| IndexConfig {
                dir: dir.clone(),
                max_age_days: self.index_max_age,
            }),
            // Beside the outputs: a disk with room for them has room for 2 bytes per slot.
            spill_dir: Some(self.out.clone()),
            part_bytes: storyhash::minhash::PART_BYTES,
            release_memory: crate::release_memory(),
        }
    }
}

/// Runs `dedup` and returns the exit code.
pub(crate) fn run(args: &DedupArgs) -> i32 {
    run_with(args, args.config())
}

/// Runs the pipeline with `config` (built from `args`, perhaps with the story stage on) and
/// returns the exit code.
pub(crate) fn run_with(args: &DedupArgs, config: DedupConfig) -> i32 {
    if let Err(code) = setup_threads(&args.run) {
        return code;
    }
    let clock = Instant::now();
    if let Err(e) = config.validate() {
        eprintln!("storyhash: {e}");
        return exit_code(&e);
    }
    if !args.prefer_source.is_empty() && config.cluster.prefer_sources.is_empty() {
        eprintln!("storyhash: --prefer-source names no outlet: give one or more names");
        return super::EXIT_USAGE;
    }
    if let Some(ic) = &config.index {
        let same = ic.dir == args.out
            || std::fs::canonicalize(&ic.dir)
                .is_ok_and(|d| std::fs::canonicalize(&args.out).is_ok_and(|o| o == d));
        if same {
            eprintln!(
                "storyhash: --out and --index are one directory ({}): give each its own",
                args.out.display()
            );
            return super::EXIT_USAGE;
        }
    }
    let progress = progress_for(&args.run);
    let mut out_dir = None;
    // What a failed run made in the index directory goes again while it holds nothing: the
    // directory, its lock, an empty MANIFEST.
    let index_before = config
        .index
        .as_ref()
        .map(|ic| (ic.dir.clone(), storyhash::index::Index::dir_before(&ic.dir)));
    // The output directory and the index locked first: a second writer is refused before any
    // input is read, and a bad --out before the index is touched.
    let result = OutDir::open(&args.out)
        .and_then(|dir| {
            let dir = out_dir.insert(dir);
            let index = open_index(&config)?;
            let inputs = open_inputs(&args.inputs, &args.out)?;
            // Once the inputs are open (standard input spooled): their files are kept.
            let keep: Vec<&std::path::Path> = inputs.iter().map(|i| i.path()).collect();
            let identities: Vec<std::path::PathBuf> = args
                .inputs
                .iter()
                .zip(&inputs)
                .map(|(given, input)| storyhash::pipeline::identity_path(given, input))
                .collect();
            dir.check_inputs(&identities.iter().map(|p| p.as_path()).collect::<Vec<_>>())?;
            let leftovers = dir.sweep(&keep)?;
            if !leftovers.is_empty() && !args.run.quiet {
                let bytes: u64 = leftovers.iter().map(|l| l.bytes).sum();
                let names: Vec<String> = leftovers
                    .iter()
                    .map(|l| {
                        l.path
                            .file_name()
                            .unwrap_or_default()
                            .to_string_lossy()
                            .into()
                    })
                    .collect();
                eprintln!(
                    "storyhash: removed {} temporary file{} an interrupted run left in {} ({}): {}",
                    leftovers.len(),
                    if leftovers.len() == 1 { "" } else { "s" },
                    args.out.display(),
                    size(bytes),
                    names.join(", ")
                );
            }
            Ok((index, inputs))
        })
        .and_then(|(index, inputs)| dedup_with_index(inputs, &config, index, progress.as_ref()))
        .and_then(|mut run| {
            let dir = out_dir.as_ref().expect("opened above");
            if let Some(ic) = &config.index {
                dir.check_not_replacing_added_batch(
                    &run.rejects,
                    run.batch_len,
                    &run.stats.inputs,
                    &ic.dir,
                )?;
            }
            // The outputs are published with the batch mark that guards them (see
            // `outdir::BATCH_MARK`).
            storyhash::report::write_dedup(&run, &config, &args.out, progress.as_ref())?;
            // The outputs first: if they cannot be written the index stays as it was.
            let committed = run.commit_index()?;
            Ok((run, committed))
        });
    drop(progress);
    match result {
        Ok((run, committed)) => {
            // The warnings come before the closing summary, which ends what the run prints.
            for name in storyhash::report::preferred_outlets_unseen(&run, &config) {
                eprintln!(
                    "storyhash: warning: --prefer-source {name}: no article of this run is from that outlet"
                );
            }
            // Articles without a word (empty texts, or all boilerplate: scrapes that failed)
            // are never compared: say so here too, not only in the reports, with a hint when
            // it is headline data read without --text-field title.
            if run.stats.no_shingles > 0 {
                let hint = storyhash::report::text_field_hint(&run, &config);
                let stories = if run.stories.is_some() && !hint.is_empty() {
                    " (Stories read the titles either way.)"
                } else {
                    ""
                };
                eprintln!(
                    "storyhash: warning: {} of {} {} no words once normalized (empty, or all boilerplate), so near-duplicate detection never compared {}.{hint}{stories}",
                    run.stats.no_shingles,
                    run.batch_len,
                    if run.batch_len == 1 {
                        "article has"
                    } else {
                        "articles have"
                    },
                    if run.stats.no_shingles == 1 {
                        "it"
                    } else {
                        "them"
                    },
                );
            }
            if !args.run.quiet {
                let n = run.batch_len;
                let removed = n - run
                    .clusters
                    .cluster_of
                    .iter()
                    .take(n)
                    .enumerate()
                    .filter(|&(d, c)| {
                        c.is_none_or(|c| run.clusters.clusters[c as usize].canonical as usize == d)
                    })
                    .count();
                let stories = run.stories.as_ref().map_or(String::new(), |s| {
                    format!(
                        "; {} ({} of two or more articles)",
                        counted(s.stories.len() as u64, "story", "stories"),
                        s.stats.multi_article_stories
                    )
                });
                let index = match (&committed, &run.stats.index) {
                    (Some(c), Some(_)) if c.articles_added == 0 => {
                        "; nothing to add, the index is unchanged".to_string()
                    }
                    (Some(c), Some(s)) => format!(
                        "; duplicates of earlier articles: {}{}; index holds {} after batch {}{}",
                        s.duplicates_of_earlier,
                        if s.earlier_kept_demoted > 0 {
                            format!(
                                " ({} earlier kept {} demoted, see duplicates.jsonl)",
                                s.earlier_kept_demoted,
                                if s.earlier_kept_demoted == 1 {
                                    "copy"
                                } else {
                                    "copies"
                                }
                            )
                        } else {
                            String::new()
                        },
                        counted(c.articles_held, "article", "articles"),
                        c.batch,
                        if c.expired > 0 {
                            format!(" ({} expired)", c.expired)
                        } else {
                            String::new()
                        }
                    ),
                    _ => String::new(),
                };
                eprintln!(
                    "storyhash: {} accepted, {} rejected; {}, {} removed ({}){stories}{index}; bands × rows {} × {}; wrote {} in {:.2} s",
                    counted(n as u64, "article", "articles"),
                    counted(run.rejects.len() as u64, "line or file", "lines or files"),
                    counted(
                        run.clusters.clusters.len() as u64,
                        "near-duplicate cluster",
                        "near-duplicate clusters"
                    ),
                    counted(removed as u64, "duplicate", "duplicates"),
                    storyhash::report::percent(removed, n),
                    run.lsh.bands,
                    run.lsh.rows,
                    args.out.display(),
                    clock.elapsed().as_secs_f64()
                );
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("storyhash: {e}");
            // An --out directory this run made and left empty goes again, and so does a new
            // index that holds nothing yet.
            if let Some(dir) = out_dir {
                dir.discard();
            }
            if let Some((dir, before)) = index_before {
                storyhash::index::Index::discard_new(&dir, before);
            }
            exit_code(&e)
        }
    }
}

/// A size for people: `5 bytes`, `12.3 kB`, `2861.3 MB`.
/// `n` and the noun that goes with it: "1 article", "2 articles".
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

/// Parses a seed given in decimal or as `0x`-prefixed hexadecimal.
fn parse_seed(s: &str) -> Result<u64, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|e| format!("`{s}` is not a 64-bit seed: {e}"))
}
