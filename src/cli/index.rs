//! `storyhash index`: what a persistent index holds.

use clap::{Args, Subcommand};
use storyhash::index::Index;

use super::{exit_code, print_stdout};

#[derive(Args, Debug)]
pub(crate) struct IndexArgs {
    #[command(subcommand)]
    command: IndexCommand,
}

#[derive(Subcommand, Debug)]
enum IndexCommand {
    /// Print what the index holds, after reading every file and checking its checksum.
    Stats {
        /// The index directory.
        #[arg(value_name = "IDX")]
        dir: std::path::PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write every indexed article as JSON Lines to standard output, with its current
    /// near-duplicate cluster (after merges), whether it is that cluster's kept copy now, story
    /// and batch (every file is checked first).
    Export {
        /// The index directory.
        #[arg(value_name = "IDX")]
        dir: std::path::PathBuf,
    },
}

#[derive(serde::Serialize)]
struct ExportLine<'a> {
    id: storyhash::ingest::IdRef<'a>,
    source: Option<&'a str>,
    title: Option<&'a str>,
    url: Option<&'a str>,
    published: Option<String>,
    batch: u32,
    dup_cluster: Option<u32>,
    /// Whether it is its cluster's kept copy now (true outside clusters): after two clusters
    /// merged, the younger one's copy, which went out in its night's deduped.jsonl, no longer is.
    canonical: bool,
    /// Its cluster's kept copy, when that is another article.
    duplicate_of: Option<storyhash::ingest::IdRef<'a>>,
    story: Option<u32>,
}

fn export(dir: &std::path::Path) -> i32 {
    use std::io::Write;
    let index = match Index::open_read(dir) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("storyhash: {e}");
            return exit_code(&e);
        }
    };
    // Every file is checked first, so that nothing from a damaged index is printed.
    if let Err(e) = index.stats() {
        eprintln!("storyhash: {e}");
        return exit_code(&e);
    }
    let kept = match index.kept_copies() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("storyhash: {e}");
            return exit_code(&e);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut broken = false;
    let result = index.for_each_article(|a| {
        if broken {
            return Ok(());
        }
        let copy = a
            .cluster
            .and_then(|c| kept.get(&c))
            .filter(|(g, _)| *g != a.g);
        let line = ExportLine {
            id: a.article.id(),
            source: a.article.source(),
            title: a.article.title(),
            url: a.article.url(),
            published: a
                .article
                .published()
                .map(storyhash::ingest::format_published),
            batch: a.batch,
            dup_cluster: a.cluster,
            canonical: copy.is_none(),
            duplicate_of: copy.map(|(_, id)| id.as_ref()),
            story: a.story,
        };
        let mut text = serde_json::to_string(&line).expect("lines serialize");
        text.push('\n');
        if let Err(e) = out.write_all(text.as_bytes()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                broken = true;
            } else {
                return Err(storyhash::Error::io("standard output", e));
            }
        }
        Ok(())
    });
    let result = result.and_then(|()| match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe && !broken => {
            Err(storyhash::Error::io("standard output", e))
        }
        _ => Ok(()),
    });
    match result {
        Ok(()) => super::EXIT_OK,
        Err(e) => {
            eprintln!("storyhash: {e}");
            exit_code(&e)
        }
    }
}

/// `n` and the noun, plural unless `n` is 1.
fn counted(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Runs `index` and returns the exit code.
pub(crate) fn run(args: &IndexArgs) -> i32 {
    match &args.command {
        IndexCommand::Export { dir } => export(dir),
        IndexCommand::Stats { dir, json } => {
            let stats = Index::open_read(dir).and_then(|index| index.stats());
            let stats = match stats {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("storyhash: {e}");
                    return exit_code(&e);
                }
            };
            if *json {
                let mut text = serde_json::to_string_pretty(&stats).expect("stats serialize");
                text.push('\n');
                return print_stdout(&text);
            }
            let p = &stats.params;
            let text = format!(
                "index            {}\n\
                 format version   {} (written by storyhash {})\n\
                 parameters       {} {}-grams{}, {} {} slots, seed {}, bands × rows {} × {}, threshold {}\n\
                 batches          {} ({})\n\
                 articles         {}\n\
                 clusters         {} of two or more, holding {} articles; {} merged into older ones\n\
                 dates            {} … {}\n\
                 boilerplate      {}\n\
                 stories          {} remembered by their terms for `run` to link to (active in the last {} batches; linking is off by default for headlines)\n\
                 on disk          {} bytes in {}\n\
                 checked          {}, every checksum matches\n",
                stats.path,
                stats.format_version,
                stats.written_by,
                p.shingle,
                p.ngram,
                if p.shingle == "word" {
                    format!(" (words hashed by {})", p.token_hash.name())
                } else {
                    String::new()
                },
                p.sketch,
                p.num_perm,
                p.seed,
                p.bands,
                p.rows,
                p.threshold,
                stats.batches,
                counted(stats.generation, "update"),
                stats.articles,
                stats.clusters,
                stats.clustered_articles,
                stats.merged_clusters,
                stats.oldest.as_deref().unwrap_or("-"),
                stats.newest.as_deref().unwrap_or("-"),
                counted(stats.learned_boilerplate_lines as u64, "learned line"),
                stats.stories_remembered,
                storyhash::index::STORY_MEMORY_BATCHES,
                stats.bytes,
                counted(stats.segments as u64, "segment"),
                counted(stats.files_verified as u64, "file"),
            );
            print_stdout(&text)
        }
    }
}
