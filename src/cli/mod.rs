//! Command-line parsing and the mapping from library results to exit codes. Each subcommand
//! lives in a file of its own with the same shape: an `Args` struct, its conversion into the
//! library's checked configuration, and a `run` function returning the exit code.
//!
//! Exit codes: 0 success, 1 bad usage or configuration, 2 bad input, 3 any other failure
//! (I/O errors included).

use std::io::IsTerminal;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use storyhash::progress::{Progress, Silent};

mod dedup;

/// Exit code for success.
pub(crate) const EXIT_OK: i32 = 0;
/// Exit code for bad usage or configuration.
pub(crate) const EXIT_USAGE: i32 = 1;
/// Exit code for bad input data.
pub(crate) const EXIT_BAD_INPUT: i32 = 2;
/// Exit code for other failures.
pub(crate) const EXIT_FAILURE: i32 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "storyhash",
    version,
    about = "Find near-duplicate articles in large corpora",
    after_help = "Example:\n  storyhash dedup data/sample.jsonl --out out/\n\nRun `storyhash <COMMAND> --help` for each command's flags and an example.\nExit codes: 0 ok, 1 bad usage, 2 bad input, 3 other failure (I/O)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find near-duplicate clusters and write a deduplicated corpus.
    #[command(after_help = "\
Example:
  storyhash dedup data/sample.jsonl --out out/
  zstdcat crawl-*.jsonl.zst | storyhash dedup - --out out/ --threshold 0.7 --keep longest

Writes articles.jsonl, duplicates.jsonl, deduped.jsonl, rejects.jsonl and summary.json into --out.
Exit codes: 0 ok, 1 bad usage, 2 bad input, 3 other failure (I/O).")]
    Dedup(dedup::DedupArgs),
}

#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar and no closing summary.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A progress bar on stderr.
struct Bar {
    bar: ProgressBar,
}

impl Progress for Bar {
    fn start(&self, stage: &'static str, total: Option<u64>) {
        self.bar.reset();
        self.bar.set_length(total.unwrap_or(0));
        self.bar.set_message(stage);
    }
    fn advance(&self, amount: u64) {
        self.bar.inc(amount);
    }
    fn finish(&self) {
        self.bar.set_position(self.bar.length().unwrap_or(0));
    }
}

/// Parses the arguments, runs the command and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    match cli.command {
        Command::Dedup(args) => dedup::run(&args),
    }
}

pub(crate) fn setup_threads(run: &RunArgs) -> Result<(), i32> {
    if let Some(n) = run.threads {
        if n == 0 {
            eprintln!("storyhash: --threads must be at least 1");
            return Err(EXIT_USAGE);
        }
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
        {
            eprintln!("storyhash: cannot start {n} threads: {e}");
            return Err(EXIT_FAILURE);
        }
    }
    Ok(())
}

pub(crate) fn progress_for(run: &RunArgs) -> Box<dyn Progress> {
    if run.quiet || !std::io::stderr().is_terminal() {
        return Box::new(Silent);
    }
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    Box::new(Bar { bar })
}

pub(crate) fn exit_code(e: &storyhash::Error) -> i32 {
    match e {
        storyhash::Error::Config(_) => EXIT_USAGE,
        e if e.is_bad_input() => EXIT_BAD_INPUT,
        _ => EXIT_FAILURE,
    }
}
