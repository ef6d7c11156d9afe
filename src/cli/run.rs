//! `storyhash run`: everything `dedup` does, plus same-story clusters across outlets.

use clap::Args;
use storyhash::story::{StoryConfig, Window};

use super::dedup::{DedupArgs, run_with};

#[derive(Args, Debug)]
pub(crate) struct RunCmdArgs {
    #[command(flatten)]
    dedup: DedupArgs,
    #[command(flatten)]
    story: StoryArgs,
}

#[derive(Args, Debug)]
pub(crate) struct StoryArgs {
    /// Average cosine similarity (TF-IDF of title and lead) at which two stories merge
    /// [default: 0.035 when most texts are empty (headlines), else 0.1]
    #[arg(long)]
    story_threshold: Option<f64>,
    /// Articles published further apart than this many days are never compared: a number
    /// (0: off), `off`, or `auto` (above 5,000 articles 0.5, i.e. half a day either way, so date-only
    /// inputs compare within one calendar day; off below). Articles without a date are
    /// compared with every other.
    #[arg(long, default_value = "auto", value_parser = parse_window)]
    window_days: Window,
    /// Characters of the text read as the lead (0: headlines only).
    #[arg(long, default_value_t = StoryConfig::default().lead_chars)]
    lead_chars: usize,
    /// Weight of title words against lead words (0.000001 to 1000000).
    #[arg(long, default_value_t = StoryConfig::default().title_weight, value_parser = parse_weight)]
    title_weight: f32,
    /// Extra weight of names, acronyms and numbers (0.000001 to 1000000).
    #[arg(long, default_value_t = StoryConfig::default().entity_weight, value_parser = parse_weight)]
    entity_weight: f32,
    /// With --index: the cosine between story centroids at which tonight's story joins one the
    /// index remembers (active in the last 7 batches, dates at most 30 days apart): a number,
    /// `off`, or `auto` (0.15 when most articles have a text; off for headline-only input and
    /// with --text-field title, whose stories then join earlier ones only when at least half
    /// of their articles are near-duplicates of indexed ones)
    #[arg(long, default_value = "auto", value_parser = parse_link, requires = "index")]
    story_link_threshold: LinkThreshold,
}

/// Runs `run` and returns the exit code.
pub(crate) fn run(args: &RunCmdArgs) -> i32 {
    let mut config = args.dedup.config();
    let s = &args.story;
    config.stories = Some(StoryConfig {
        threshold: s.story_threshold,
        window_days: s.window_days,
        lead_chars: s.lead_chars,
        title_weight: s.title_weight,
        entity_weight: s.entity_weight,
        link_threshold: s.story_link_threshold.0,
        ..StoryConfig::default()
    });
    run_with(&args.dedup, config)
}

/// `--story-link-threshold`: `None` for `auto`.
#[derive(Debug, Clone, Copy)]
struct LinkThreshold(Option<f64>);

fn parse_link(s: &str) -> Result<LinkThreshold, String> {
    match s {
        "auto" => Ok(LinkThreshold(None)),
        "off" => Ok(LinkThreshold(Some(f64::INFINITY))),
        _ => match s.parse::<f64>() {
            Ok(t) if (0.0..=1.0).contains(&t) => Ok(LinkThreshold(Some(t))),
            _ => Err(format!(
                "expected a cosine in [0, 1], `off` or `auto`, got `{s}`"
            )),
        },
    }
}

fn parse_window(s: &str) -> Result<Window, String> {
    match s {
        "auto" => Ok(Window::Auto),
        "off" => Ok(Window::Off),
        // Zero however written (`0`, `0.0`) means no window, as the help says.
        _ => match s.parse::<f64>() {
            Ok(0.0) => Ok(Window::Off),
            Ok(d) => Ok(Window::Days(d)),
            Err(_) => Err(format!(
                "expected a number of days (0: off), `off` or `auto`, got `{s}`"
            )),
        },
    }
}

/// A weight as typed, from a millionth to a million: the story stage multiplies the two
/// weights and sums them over a word's occurrences in 32-bit floats, where `--title-weight 3e38`
/// made the sum infinite (3,652 stories of the UCI day file, where the defaults make 132). clap's message
/// quotes the text, where a check after the conversion quoted `inf` for 1e308 and `0` for
/// 1e-300.
fn parse_weight(text: &str) -> Result<f32, String> {
    const RANGE: std::ops::RangeInclusive<f64> = 1e-6..=1e6;
    match text.trim().parse::<f64>() {
        Ok(value) if RANGE.contains(&value) => Ok(value as f32),
        _ => Err("must be a positive number from 0.000001 to 1000000".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_days_however_written_is_no_window() {
        for s in ["off", "0", "0.0", "00", "-0", "0e3"] {
            assert_eq!(parse_window(s), Ok(Window::Off), "{s}");
        }
        assert_eq!(parse_window("auto"), Ok(Window::Auto));
        assert_eq!(parse_window("1.5"), Ok(Window::Days(1.5)));
        // Negative windows parse; the configuration check refuses them with their value.
        assert_eq!(parse_window("-1"), Ok(Window::Days(-1.0)));
        assert!(parse_window("a week").unwrap_err().contains("`a week`"));
    }
}
