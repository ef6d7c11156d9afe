//! `storyhash params`: its numbers against an independent computation of the S-curve, its text
//! form, usage errors, and a closed standard output.

use std::collections::BTreeSet;
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::common::{run, storyhash};

/// Weights of the false positive and false negative areas in the choice (as documented).
const FP_WEIGHT: f64 = 0.002;
const FN_WEIGHT: f64 = 0.998;

fn stdout_of(args: &[&str]) -> String {
    let output = run(args, None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    assert_eq!(stderr, "", "{args:?}");
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// `1 - (1 - s^r)^b`.
fn s_curve(s: f64, bands: usize, rows: usize) -> f64 {
    1.0 - (1.0 - s.powi(rows as i32)).powi(bands as i32)
}

/// The trapezoid rule with `steps` steps.
fn trapezoid(f: impl Fn(f64) -> f64, lo: f64, hi: f64, steps: usize) -> f64 {
    let h = (hi - lo) / steps as f64;
    let inner: f64 = (1..steps).map(|i| f(lo + i as f64 * h)).sum();
    h * (inner + (f(lo) + f(hi)) / 2.0)
}

/// `(false positive area, false negative area)` of `bands × rows` at `t`.
fn areas(t: f64, bands: usize, rows: usize, steps: usize) -> (f64, f64) {
    (
        trapezoid(|s| s_curve(s, bands, rows), 0.0, t, steps),
        trapezoid(|s| 1.0 - s_curve(s, bands, rows), t, 1.0, steps),
    )
}

fn number(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is a number: {v}"))
}

fn count(v: &Value, key: &str) -> usize {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("`{key}` is a count: {v}")) as usize
}

/// Threshold, num-perm, and the bands × rows given (chosen when `None`).
type Case = (f64, usize, Option<(usize, usize)>);

#[test]
fn params_json_matches_an_independent_s_curve() {
    let cases: &[Case] = &[
        (0.8, 128, None),
        (0.5, 64, None),
        (0.9, 128, None),
        (0.7, 100, None),
        (1.0, 16, None),
        (0.05, 32, None),
        (0.85, 512, None),
        (0.7, 128, Some((16, 8))),
        (0.3, 32, Some((1, 1))),
        (0.8, 128, Some((128, 1))),
        (0.8, 128, Some((1, 128))),
        (0.66, 200, Some((20, 9))),
    ];
    for &(t, k, given) in cases {
        let (t_text, k_text) = (t.to_string(), k.to_string());
        let mut args = vec![
            "params",
            "--threshold",
            &t_text,
            "--num-perm",
            &k_text,
            "--json",
        ];
        let given_text = given.map(|(b, r)| (b.to_string(), r.to_string()));
        if let Some((b, r)) = &given_text {
            args.extend(["--bands", b, "--rows", r]);
        }
        let case = format!("{args:?}");
        let v: Value = serde_json::from_str(&stdout_of(&args)).expect("params --json is JSON");
        let keys: BTreeSet<&str> = v
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from([
                "bands",
                "chosen",
                "curve",
                "expected_false_negative",
                "expected_false_positive",
                "fn_weight",
                "fp_weight",
                "num_perm",
                "rows",
                "threshold",
            ]),
            "{case}"
        );
        assert_eq!(number(&v, "threshold"), t, "{case}");
        assert_eq!(count(&v, "num_perm"), k, "{case}");
        assert_eq!(number(&v, "fp_weight"), FP_WEIGHT, "{case}");
        assert_eq!(number(&v, "fn_weight"), FN_WEIGHT, "{case}");
        let (b, r) = (count(&v, "bands"), count(&v, "rows"));
        assert!(b >= 1 && r >= 1 && b * r <= k, "{case}: {b} × {r}");
        assert_eq!(v["chosen"], Value::Bool(given.is_none()), "{case}");
        if let Some(given) = given {
            assert_eq!((b, r), given, "{case}");
        }

        // The error areas.
        let (fp, fn_) = areas(t, b, r, 10_000);
        let (got_fp, got_fn) = (
            number(&v, "expected_false_positive"),
            number(&v, "expected_false_negative"),
        );
        assert!((got_fp - fp).abs() < 1e-4, "{case}: FP {got_fp} vs {fp}");
        assert!((got_fn - fn_).abs() < 1e-4, "{case}: FN {got_fn} vs {fn_}");

        // The curve: 0.1 … 1.0 and t ± 0.05 inside (0, 1], ascending, P(s) as computed here.
        let curve = v["curve"].as_array().expect("curve is an array");
        let sims: Vec<f64> = curve.iter().map(|p| number(p, "similarity")).collect();
        let mut want: Vec<f64> = (1..=10).map(|i| i as f64 / 10.0).collect();
        for s in [t - 0.05, t, t + 0.05] {
            if s > 1e-9 && s <= 1.0 + 1e-9 && want.iter().all(|w| (w - s).abs() > 1e-9) {
                want.push(s);
            }
        }
        want.sort_by(f64::total_cmp);
        assert_eq!(sims.len(), want.len(), "{case}: {sims:?}");
        for (got, want) in sims.iter().zip(&want) {
            assert!((got - want).abs() < 1e-6, "{case}: {sims:?} vs {want}");
        }
        for p in curve {
            let keys: BTreeSet<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                BTreeSet::from(["probability", "similarity"]),
                "{case}"
            );
            let s = number(p, "similarity");
            let got = number(p, "probability");
            let want = s_curve(s, b, r);
            assert!(
                (got - want).abs() < 1e-12,
                "{case}: P({s}) = {got}, want {want}"
            );
        }

        // A chosen pair minimizes the weighted areas over every b × r <= k (within the
        // integration error of both sides; 2,000 steps keep the search quick).
        if given.is_none() && k <= 128 {
            let cost = |b: usize, r: usize| {
                let (fp, fn_) = areas(t, b, r, 10_000);
                FP_WEIGHT * fp + FN_WEIGHT * fn_
            };
            let chosen = cost(b, r);
            let best = (1..=k)
                .flat_map(|b| (1..=k / b).map(move |r| (b, r)))
                .map(|(b, r)| cost(b, r))
                .fold(f64::INFINITY, f64::min);
            assert!(
                chosen <= best + 1e-6,
                "{case}: {b} × {r} costs {chosen}, best {best}"
            );
        }
    }
}

#[test]
fn params_text_shows_the_choice_and_the_curve() {
    let json: Value = serde_json::from_str(&stdout_of(&["params", "--json"])).unwrap();
    let text = stdout_of(&["params"]);
    let (b, r) = (count(&json, "bands"), count(&json, "rows"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with(&format!("threshold 0.8, 128 slots: {b} bands × {r} rows")),
        "{text}"
    );
    assert!(
        lines[1].starts_with("expected false positive area"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("expected false negative area"),
        "{text}"
    );
    // One row per point of the JSON curve, with a bar of round(40·P) '#'.
    let rows: Vec<&str> = lines.iter().copied().filter(|l| l.contains('|')).collect();
    let curve = json["curve"].as_array().unwrap();
    assert_eq!(rows.len(), curve.len(), "{text}");
    for (row, point) in rows.iter().zip(curve) {
        let s: f64 = row.split_whitespace().next().unwrap().parse().unwrap();
        assert!((s - number(point, "similarity")).abs() < 1e-9, "{row}");
        let bar = row.split('|').nth(1).unwrap();
        let want = (number(point, "probability") * 40.0).round() as usize;
        assert_eq!(bar.trim_end().len(), want, "{row}");
        assert!(bar.trim_end().chars().all(|c| c == '#'), "{row}");
        assert_eq!(
            row.ends_with("<- threshold"),
            (s - 0.8).abs() < 1e-9,
            "{row}"
        );
    }
    // Given bands and rows are said to be given.
    let text = stdout_of(&["params", "--bands", "16", "--rows", "8"]);
    assert!(
        text.starts_with("threshold 0.8, 128 slots: 16 bands × 8 rows (128 slots used; as given)"),
        "{text}"
    );
    // One band of one row, in the singular.
    let text = stdout_of(&["params", "--bands", "1", "--rows", "1"]);
    assert!(
        text.starts_with("threshold 0.8, 128 slots: 1 band × 1 row (1 slot used; as given)"),
        "{text}"
    );
}

#[test]
fn params_usage_errors_exit_1() {
    // (flags, stderr substring)
    let cases: &[(&[&str], &str)] = &[
        (&["--threshold", "0"], "threshold"),
        (&["--threshold", "1.01"], "threshold"),
        (&["--threshold", "NaN"], "threshold"),
        (&["--threshold", "high"], "--threshold"),
        (&["--num-perm", "0"], "num-perm"),
        (&["--num-perm", "5000"], "num-perm"),
        (&["--bands", "4"], "--rows"),
        (&["--rows", "4"], "--bands"),
        (&["--bands", "200", "--rows", "1"], "bands × rows"),
        (&["--bands", "0", "--rows", "4"], "bands × rows"),
        (
            &["--num-perm", "16", "--bands", "4", "--rows", "5"],
            "bands × rows",
        ),
        (&["--out", "x"], "--out"),
        (&["extra"], "extra"),
    ];
    for (flags, message) in cases {
        let mut args = vec!["params"];
        args.extend_from_slice(flags);
        let output = run(&args, None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{flags:?}: {stderr}");
        assert!(stderr.contains(message), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{flags:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{flags:?}");
    }
}

/// Runs `storyhash ARGS` with a standard output whose reading end is already closed.
fn with_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    storyhash()
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("the storyhash binary starts")
}

#[test]
fn a_closed_stdout_ends_quietly() {
    for args in [
        &["params"][..],
        &["params", "--json", "--num-perm", "256"],
        &["params", "--help"],
        &["--help"],
    ] {
        let output = with_closed_stdout(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

/// The way people meet a closed pipe: `storyhash params | head -1`, through a shell.
#[test]
#[cfg(unix)]
fn params_piped_into_head_prints_one_line_and_nothing_else() {
    let bin = env!("CARGO_BIN_EXE_storyhash");
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{bin}' params --num-perm 512 | head -1"))
        .output()
        .expect("sh runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr, "");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("threshold 0.8, 512 slots: "), "{stdout}");
}
