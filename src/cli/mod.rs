//! Command-line parsing and the mapping from library results to exit codes. Each subcommand
//! lives in a file of its own with the same shape: an `Args` struct, its conversion into the
//! library's checked configuration, and a `run` function returning the exit code.
//!
//! Exit codes: 0 success, 1 bad usage or configuration, 2 bad input, 3 any other failure
//! (I/O errors included).

use std::io::{ErrorKind, IsTerminal, Write};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use storyhash::progress::{Progress, Silent};

mod dedup;
mod eval;
mod index;
mod params;
mod run;

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
    about = "Find near-duplicate articles and same-story coverage in large news corpora",
    after_help = "Example:\n  storyhash run data/sample.jsonl --out out/     # near-duplicates, stories, reports\n  storyhash dedup data/sample.jsonl --out out/   # near-duplicates only\n\nRun `storyhash <COMMAND> --help` for each command's flags and an example.\nExit codes: 0 ok, 1 bad usage, 2 bad input, 3 other failure (I/O)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find near-duplicate clusters and write a deduplicated corpus.
    #[command(allow_negative_numbers = true)]
    #[command(after_help = "\
Example:
  storyhash dedup data/sample.jsonl --out out/
  zstdcat crawl-*.jsonl.zst | storyhash dedup - --out out/ --threshold 0.7 --keep longest

Writes articles.jsonl, duplicates.jsonl, deduped.jsonl, rejects.jsonl, summary.json, report.md
and report.html into --out.
Exit codes: 0 ok, 1 bad usage, 2 bad input, 3 other failure (I/O).")]
    Dedup(dedup::DedupArgs),
    /// Score predicted clusters against labeled articles (B-cubed, pairwise, ARI, NMI).
    #[command(after_help = "\
Example: five labeled articles, and a prediction that puts c with the wrong story.
  $ cat truth.jsonl                   $ cat out/articles.jsonl
  {\"id\":\"a\",\"story\":\"s1\"}             {\"id\":\"a\",\"story\":1}
  {\"id\":\"b\",\"story\":\"s1\"}             {\"id\":\"b\",\"story\":1}
  {\"id\":\"c\",\"story\":\"s1\"}             {\"id\":\"c\",\"story\":2}
  {\"id\":\"d\",\"story\":\"s2\"}             {\"id\":\"d\",\"story\":2}
  {\"id\":\"e\",\"story\":\"s2\"}             {\"id\":\"e\",\"story\":2}
  $ storyhash eval --truth truth.jsonl --pred out/articles.jsonl
               precision   recall       F1
  B-cubed         0.7333   0.7333   0.7333
  pairwise        0.5000   0.5000   0.5000
  ARI             0.1667
  ...
B-cubed precision averages, over articles, the share of the article's predicted cluster that
is in its true story: (1 + 1 + 1/3 + 2/3 + 2/3) / 5 = 0.7333 here; recall, the share of its
true story found in its predicted cluster. Pairwise counts pairs of articles put together.
NMI divides by the arithmetic mean of the two entropies.

Labels are strings or integers (7 and \"7\" are one label). Null or absent labels, and truth ids
missing from the prediction, count as clusters of their own; the missing ids are listed.
Predicted ids not in the truth are ignored and counted. Every truth article is scored.

  storyhash eval --truth uci.jsonl.gz --pred out/articles.jsonl --key dup_cluster --json

Exit codes: 0 ok, 1 bad usage, 2 bad input (the message names file and line), 3 other failure.")]
    Eval(eval::EvalArgs),
    /// Everything dedup does, plus same-story clusters across outlets (stories.jsonl).
    #[command(allow_negative_numbers = true)]
    #[command(after_help = "\
Example:
  storyhash run data/sample.jsonl --out out/
  storyhash run headlines.jsonl.gz --out out/ --text-field title

Headline-only input: stories read the titles either way; --text-field title also makes
repeated headlines near-duplicates (on input spanning weeks it joins their days into one
story: see the README).

Writes what dedup writes, with a `story` for each article in articles.jsonl, and stories.jsonl.
Exit codes: 0 ok, 1 bad usage, 2 bad input, 3 other failure (I/O).")]
    Run(run::RunCmdArgs),
    /// Show the LSH bands × rows for a threshold, the expected error areas and the S-curve.
    #[command(allow_negative_numbers = true)]
    #[command(after_help = "\
Example:
  storyhash params --threshold 0.8 --num-perm 128
  storyhash params --threshold 0.7 --num-perm 256 --bands 32 --rows 8 --json

The first prints the bands × rows `dedup --threshold 0.8 --num-perm 128` would choose, the
expected false positive area (∫ P(s) ds over [0, t]) and false negative area (∫ 1 - P(s) ds
over [t, 1]), and P(s) = 1 - (1 - s^rows)^bands, the probability that a pair of Jaccard
similarity s becomes a candidate, at s = 0.1, 0.2, …, 1.0 and t ± 0.05, with a bar for each.
Exit codes: 0 ok, 1 bad usage.")]
    Params(params::ParamsArgs),
    /// Inspect a persistent index (`dedup`/`run --index IDX`).
    #[command(after_help = "\
Example:
  storyhash run tonight.jsonl.gz --out out/2026-11-26/ --index /var/lib/storyhash/news
  storyhash index stats /var/lib/storyhash/news

Exit codes: 0 ok, 1 bad usage, 3 the index is missing, damaged or unreadable (the message names the file).")]
    Index(index::IndexArgs),
}

#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    /// Worker threads, 1 to 256 (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar and no closing summary.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A progress bar on stderr.
struct Bar {
    bar: ProgressBar,
    stage: std::sync::Mutex<(&'static str, u64, std::time::Instant)>,
}

impl Progress for Bar {
    fn start(&self, stage: &'static str, total: Option<u64>) {
        self.bar.reset();
        self.bar.set_length(total.unwrap_or(0));
        self.bar.set_message(stage);
        if let Ok(mut s) = self.stage.lock() {
            *s = (stage, 0, std::time::Instant::now());
        }
    }
    fn advance(&self, amount: u64) {
        self.bar.inc(amount);
    }
    fn advance_articles(&self, count: u64) {
        if let Ok(mut s) = self.stage.lock() {
            s.1 += count;
            let rate = s.1 as f64 / s.2.elapsed().as_secs_f64().max(1e-3);
            self.bar
                .set_message(format!("{}: {} articles, {:.0}/s", s.0, s.1, rate));
        }
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
            if let Some(flag) = run_flag_given_to_dedup(&e) {
                // clap would offer the nearest flag of `dedup` ("--story-threshold": "a
                // similar argument exists: '--threshold'"), a different setting altogether.
                eprintln!(
                    "error: {flag} is a flag of `storyhash run` (same-story clusters), which takes every flag of `dedup` too; `dedup` finds near-duplicates only\n\nFor more information, try 'storyhash run --help'."
                );
                return EXIT_USAGE;
            }
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    match cli.command {
        Command::Dedup(args) => dedup::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Params(args) => params::run(&args),
        Command::Index(args) => index::run(&args),
    }
}

/// The flag of `run` that is not one of `dedup`'s, when `e` is `dedup` refusing it.
fn run_flag_given_to_dedup(e: &clap::Error) -> Option<String> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue, ErrorKind as ClapKind};
    if e.kind() != ClapKind::UnknownArgument
        || std::env::args_os().nth(1).as_deref() != Some("dedup".as_ref())
    {
        return None;
    }
    let Some(ContextValue::String(given)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let name = given.strip_prefix("--")?.split('=').next()?;
    let command = Cli::command();
    let long_flags = |sub: &str| -> Vec<String> {
        command
            .find_subcommand(sub)
            .map(|c| {
                c.get_arguments()
                    .filter_map(|a| a.get_long().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let is_runs_own = long_flags("run").iter().any(|f| f == name)
        && !long_flags("dedup").iter().any(|f| f == name);
    is_runs_own.then(|| format!("--{name}"))
}

/// Writes `text` to standard output and returns the exit code. A reader that closed the pipe
/// early (`storyhash params | head -1`) got what it wanted: that ends quietly with success.
pub(crate) fn print_stdout(text: &str) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("storyhash: standard output: {e}");
            EXIT_FAILURE
        }
    }
}

/// The most worker threads `--threads` takes.
const MAX_THREADS: usize = 256;

pub(crate) fn setup_threads(run: &RunArgs) -> Result<(), i32> {
    if let Some(n) = run.threads {
        // Far more workers than cores only cost: the work-stealing queues' memory reclamation
        // visits every worker, so its cost grows with their square (on 2 cores, a 1.6 MB
        // input took 0.08 s with 128 workers, 0.8 s with 512, minutes with 100,000).
        if !(1..=MAX_THREADS).contains(&n) {
            eprintln!("storyhash: --threads must be between 1 and {MAX_THREADS} (got {n})");
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
            "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}, eta {eta}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    Box::new(Bar {
        bar,
        stage: std::sync::Mutex::new(("", 0, std::time::Instant::now())),
    })
}

pub(crate) fn exit_code(e: &storyhash::Error) -> i32 {
    match e {
        storyhash::Error::Config(_) => EXIT_USAGE,
        e if e.is_bad_input() => EXIT_BAD_INPUT,
        _ => EXIT_FAILURE,
    }
}
