//! `storyhash params`: the LSH bands × rows `dedup` would use for a threshold and signature
//! length, the expected error areas, and the S-curve as a table with a text plot.

use clap::Args;
use serde::Serialize;
use storyhash::cluster::ClusterConfig;
use storyhash::lsh::{FN_WEIGHT, FP_WEIGHT, LshParams, candidate_probability};
use storyhash::pipeline::DedupConfig;

use super::{exit_code, print_stdout};

/// Width of a full bar (probability 1) in the text plot.
const BAR_WIDTH: usize = 40;

#[derive(Args, Debug)]
pub(crate) struct ParamsArgs {
    /// Jaccard similarity of normalized shingle sets at which two articles are near-duplicates.
    #[arg(long, default_value_t = 0.8)]
    threshold: f64,
    /// MinHash signature length (slots).
    #[arg(long, default_value_t = 128)]
    num_perm: usize,
    /// LSH bands (with --rows); chosen from the threshold when absent.
    #[arg(long, requires = "rows")]
    bands: Option<usize>,
    /// LSH rows per band (with --bands).
    #[arg(long, requires = "bands")]
    rows: Option<usize>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

/// What `--json` prints.
#[derive(Serialize)]
struct Report {
    threshold: f64,
    num_perm: usize,
    bands: usize,
    rows: usize,
    /// Chosen by minimizing the weighted error areas (false when --bands and --rows were given).
    chosen: bool,
    fp_weight: f64,
    fn_weight: f64,
    expected_false_positive: f64,
    expected_false_negative: f64,
    curve: Vec<Point>,
}

#[derive(Serialize)]
struct Point {
    similarity: f64,
    probability: f64,
}

/// Runs `params` and returns the exit code.
pub(crate) fn run(args: &ParamsArgs) -> i32 {
    // The same checks, messages and choice as `dedup`, through its configuration.
    let defaults = DedupConfig::default();
    let config = DedupConfig {
        num_perm: args.num_perm,
        bands_rows: args.bands.zip(args.rows),
        cluster: ClusterConfig {
            threshold: args.threshold,
            ..defaults.cluster.clone()
        },
        ..defaults
    };
    let lsh = match config.validate() {
        Ok(lsh) => lsh,
        Err(e) => {
            eprintln!("storyhash: {e}");
            return exit_code(&e);
        }
    };
    let report = Report {
        threshold: args.threshold,
        num_perm: args.num_perm,
        bands: lsh.bands,
        rows: lsh.rows,
        chosen: config.bands_rows.is_none(),
        fp_weight: FP_WEIGHT,
        fn_weight: FN_WEIGHT,
        expected_false_positive: lsh.expected_false_positive,
        expected_false_negative: lsh.expected_false_negative,
        curve: similarities(args.threshold)
            .into_iter()
            .map(|s| Point {
                similarity: s,
                probability: candidate_probability(s, lsh.bands, lsh.rows),
            })
            .collect(),
    };
    let text = if args.json {
        let mut text = serde_json::to_string_pretty(&report)
            .expect("the report holds only finite numbers and plain fields");
        text.push('\n');
        text
    } else {
        table(&report, &lsh)
    };
    print_stdout(&text)
}

/// 0.1, 0.2, …, 1.0 and the threshold ± 0.05 (within (0, 1]), sorted, without repeats.
fn similarities(threshold: f64) -> Vec<f64> {
    // Rounded to 1e-6 so that 0.8 - 0.05 is 0.75, not 0.7500000000000001.
    let round = |s: f64| (s * 1e6).round() / 1e6;
    let mut points: Vec<f64> = (1..=10).map(|i| f64::from(i) / 10.0).collect();
    points.extend(
        [threshold - 0.05, threshold, threshold + 0.05]
            .into_iter()
            .map(round)
            .filter(|&s| s > 0.0 && s <= 1.0),
    );
    points.sort_by(f64::total_cmp);
    points.dedup();
    points
}

/// The human-readable form: the choice, the error areas, and the S-curve with bars.
fn table(report: &Report, lsh: &LshParams) -> String {
    let (b, r) = (lsh.bands, lsh.rows);
    let mut out = String::new();
    let how = if report.chosen {
        format!(
            "chosen: minimizes {}·false positive + {}·false negative area",
            report.fp_weight, report.fn_weight
        )
    } else {
        "as given".to_string()
    };
    let mut put = |line: String| {
        out.push_str(&line);
        out.push('\n');
    };
    put(format!(
        "threshold {}, {} slots: {} ({} used; {how})",
        report.threshold,
        report.num_perm,
        storyhash::lsh::bands_by_rows(b, r),
        if b * r == 1 {
            "1 slot".to_string()
        } else {
            format!("{} slots", b * r)
        }
    ));
    put(format!(
        "expected false positive area {:>9}   (∫ P(s) ds over [0, t]: pairs below the threshold that become candidates)",
        storyhash::lsh::area_text(lsh.expected_false_positive)
    ));
    put(format!(
        "expected false negative area {:>9}   (∫ 1 - P(s) ds over [t, 1]: pairs at or above the threshold that are missed)",
        storyhash::lsh::area_text(lsh.expected_false_negative)
    ));
    put(String::new());
    put(format!(
        "P(s) = 1 - (1 - s^{r})^{b}: the probability that a pair of Jaccard similarity s becomes a candidate"
    ));
    put(String::new());
    put(format!("{:>6}  {:>9}", "s", "P(s)"));
    for p in &report.curve {
        let bar = "#".repeat((p.probability * BAR_WIDTH as f64).round() as usize);
        let mut line = format!(
            "{:>6}  {:>9}  |{bar:<BAR_WIDTH$}|",
            similarity(p.similarity),
            storyhash::lsh::area_text(p.probability)
        );
        if (p.similarity - report.threshold).abs() < 1e-9 {
            line.push_str(" <- threshold");
        }
        put(line.trim_end().to_string());
    }
    out
}

/// A similarity with two decimals, or as many as it needs (up to six).
fn similarity(s: f64) -> String {
    let mut text = format!("{s:.6}");
    while text.ends_with('0') && text.len() > "0.00".len() {
        text.pop();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarities_cover_the_threshold_neighbourhood() {
        // (threshold, expected points besides 0.1 … 1.0)
        let tenths: Vec<f64> = (1..=10).map(|i| f64::from(i) / 10.0).collect();
        let cases: [(f64, &[f64]); 4] = [
            (0.8, &[0.75, 0.85]),
            (0.83, &[0.78, 0.83, 0.88]),
            (1.0, &[0.95]),
            (0.02, &[0.02, 0.07]),
        ];
        for (t, extra) in cases {
            let mut expected = tenths.clone();
            expected.extend_from_slice(extra);
            expected.sort_by(f64::total_cmp);
            assert_eq!(similarities(t), expected, "t = {t}");
        }
    }

    #[test]
    fn numbers_are_short() {
        let cases = [
            (similarity(0.8), "0.80"),
            (similarity(0.825), "0.825"),
            (similarity(1.0), "1.00"),
            (storyhash::lsh::area_text(0.0), "0.0000"),
            (storyhash::lsh::area_text(0.99851), "0.9985"),
            (storyhash::lsh::area_text(0.0000123), "1.2e-5"),
        ];
        for (got, expected) in cases {
            assert_eq!(got, expected);
        }
    }
}
