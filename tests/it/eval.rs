//! `storyhash eval` run as a real process on small hand-made label files: the scores it prints
//! as JSON (parsed back strictly), the rules for missing, unlabeled and extra ids, compressed
//! truth, and bad input (exit 2 naming file and line).

use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value};

use crate::common::{repo_dir, run, tempdir, write};

/// The keys of `--json` output, sorted.
const JSON_KEYS: [&str; 24] = [
    "ari",
    "articles",
    "bcubed_f1",
    "bcubed_precision",
    "bcubed_recall",
    "clusters_pred",
    "clusters_true",
    "extra",
    "key",
    "missing",
    "missing_ids",
    "nmi",
    "nmi_normalization",
    "pairs_common",
    "pairs_pred",
    "pairs_true",
    "pairwise_f1",
    "pairwise_precision",
    "pairwise_recall",
    "pred",
    "truth",
    "truth_key",
    "unlabeled_pred",
    "unlabeled_true",
];

/// Exit code and messages of one run.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `storyhash eval ARGS`; fails the test on a panic or a death by signal.
fn eval(args: &[&str]) -> Outcome {
    let mut all = vec!["eval"];
    all.extend_from_slice(args);
    let output = run(&all, None);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "eval {args:?} panicked:\n{stderr}"
    );
    Outcome {
        code: output
            .status
            .code()
            .unwrap_or_else(|| panic!("eval {args:?} was killed:\n{stderr}")),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    }
}

/// Runs `storyhash eval --truth T --pred P --json EXTRA`, demands exit 0 and returns the
/// object, checked to hold exactly [`JSON_KEYS`].
fn scores(truth: &Path, pred: &Path, extra: &[&str]) -> Map<String, Value> {
    let mut args = vec![
        "--truth",
        path_str(truth),
        "--pred",
        path_str(pred),
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = eval(&args);
    assert_eq!(out.code, 0, "eval {args:?}: {}", out.stderr);
    let Value::Object(object) = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("--json output is JSON ({e}):\n{}", out.stdout))
    else {
        panic!("--json output is an object:\n{}", out.stdout);
    };
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(keys, JSON_KEYS, "keys of --json output");
    object
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn number(object: &Map<String, Value>, key: &str) -> f64 {
    object[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is a number: {:?}", object[key]))
}

/// JSON Lines of `{"id": ID, FIELD: LABEL}` from `(id, label)` pairs given as JSON text.
fn lines(field: &str, rows: &[(&str, &str)]) -> String {
    rows.iter()
        .map(|(id, label)| format!("{{\"id\":{id},\"{field}\":{label},\"title\":\"t\"}}\n"))
        .collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

/// Expected scores, compared to 1e-4 (the help prints four decimals).
const TOLERANCE: f64 = 1e-4;

fn assert_scores(name: &str, got: &Map<String, Value>, want: &[(&str, f64)]) {
    for &(key, value) in want {
        let g = number(got, key);
        assert!(
            (g - value).abs() < TOLERANCE,
            "{name}: {key} is {g}, want {value}"
        );
    }
}

#[test]
fn worked_example_of_the_help_holds() {
    let dir = tempdir();
    let truth = write(
        dir.path(),
        "truth.jsonl",
        lines(
            "story",
            &[
                ("\"a\"", "\"s1\""),
                ("\"b\"", "\"s1\""),
                ("\"c\"", "\"s1\""),
                ("\"d\"", "\"s2\""),
                ("\"e\"", "\"s2\""),
            ],
        ),
    );
    let pred = write(
        dir.path(),
        "articles.jsonl",
        lines(
            "story",
            &[
                ("\"a\"", "1"),
                ("\"b\"", "1"),
                ("\"c\"", "2"),
                ("\"d\"", "2"),
                ("\"e\"", "2"),
            ],
        ),
    );
    let got = scores(&truth, &pred, &[]);
    assert_scores(
        "help example",
        &got,
        &[
            ("bcubed_precision", 11.0 / 15.0),
            ("bcubed_recall", 11.0 / 15.0),
            ("bcubed_f1", 11.0 / 15.0),
            ("pairwise_precision", 0.5),
            ("pairwise_recall", 0.5),
            ("pairwise_f1", 0.5),
            ("ari", 1.0 / 6.0),
        ],
    );
    assert_eq!(got["nmi_normalization"], "arithmetic");

    // The table prints what the help says it prints.
    let table = eval(&["--truth", path_str(&truth), "--pred", path_str(&pred)]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let help = eval(&["--help"]);
    for row in [
        "B-cubed         0.7333   0.7333   0.7333",
        "pairwise        0.5000   0.5000   0.5000",
        "ARI             0.1667",
    ] {
        assert!(
            table.stdout.contains(row),
            "table lacks {row:?}:\n{}",
            table.stdout
        );
        assert!(
            help.stdout.contains(row),
            "help lacks {row:?}:\n{}",
            help.stdout
        );
    }
}

#[test]
fn scores_by_case() {
    // Truth: stories {1,2} {3,4}, integer ids, string labels.
    let truth_rows = [
        ("1", "\"s\""),
        ("2", "\"s\""),
        ("3", "\"t\""),
        ("4", "\"t\""),
    ];
    // (name, prediction rows, expected scores); hand-computed in src/eval.rs's unit tests.
    type Case = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        Vec<(&'static str, f64)>,
    );
    let cases: &[Case] = &[
        (
            "identical, integer labels and string ids",
            vec![
                ("\"1\"", "9"),
                ("\"2\"", "9"),
                ("\"3\"", "-2"),
                ("\"4\"", "-2"),
            ],
            vec![
                ("bcubed_f1", 1.0),
                ("pairwise_f1", 1.0),
                ("ari", 1.0),
                ("nmi", 1.0),
            ],
        ),
        (
            "all in one",
            vec![("1", "0"), ("2", "0"), ("3", "0"), ("4", "0")],
            vec![
                ("bcubed_precision", 0.5),
                ("bcubed_recall", 1.0),
                ("pairwise_precision", 1.0 / 3.0),
                ("pairwise_f1", 0.5),
                ("ari", 0.0),
                ("nmi", 0.0),
                ("clusters_pred", 1.0),
                ("clusters_true", 2.0),
            ],
        ),
        (
            "all singletons (null labels)",
            vec![("1", "null"), ("2", "null"), ("3", "null"), ("4", "null")],
            vec![
                ("bcubed_precision", 1.0),
                ("bcubed_recall", 0.5),
                ("pairwise_precision", 1.0),
                ("pairwise_recall", 0.0),
                ("ari", 0.0),
                ("nmi", 2.0 / 3.0),
                ("clusters_pred", 4.0),
                ("unlabeled_pred", 4.0),
            ],
        ),
    ];
    let dir = tempdir();
    let truth = write(dir.path(), "truth.jsonl", lines("story", &truth_rows));
    for (name, rows, want) in cases {
        let pred = write(dir.path(), "articles.jsonl", lines("story", rows));
        let got = scores(&truth, &pred, &[]);
        assert_scores(name, &got, want);
        assert_eq!(got["articles"], 4, "{name}");
        assert_eq!(
            (got["missing"].clone(), got["extra"].clone()),
            (0.into(), 0.into())
        );
    }
}

#[test]
fn gzip_truth_missing_and_extra_ids() {
    let dir = tempdir();
    let truth_rows = [
        ("\"a\"", "\"s\""),
        ("\"b\"", "\"s\""),
        ("\"c\"", "\"t\""),
        ("\"d\"", "\"t\""),
    ];
    let truth = write(
        dir.path(),
        "truth.jsonl.gz",
        gzip(lines("story", &truth_rows).as_bytes()),
    );
    // b and d missing (scored as singletons), x and y extra (ignored); a and c alone anyway,
    // so the prediction is all singletons.
    let pred = write(
        dir.path(),
        "articles.jsonl",
        lines(
            "story",
            &[
                ("\"x\"", "1"),
                ("\"a\"", "1"),
                ("\"c\"", "2"),
                ("\"y\"", "2"),
            ],
        ),
    );
    let got = scores(&truth, &pred, &[]);
    assert_eq!(got["missing"], 2);
    assert_eq!(got["missing_ids"], serde_json::json!(["b", "d"]));
    assert_eq!(got["extra"], 2);
    assert_eq!(got["articles"], 4);
    assert_scores(
        "missing as singletons",
        &got,
        &[
            ("bcubed_precision", 1.0),
            ("bcubed_recall", 0.5),
            ("clusters_pred", 4.0),
        ],
    );

    let table = eval(&["--truth", path_str(&truth), "--pred", path_str(&pred)]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table
            .stdout
            .contains("missing      2 truth ids absent from the prediction")
    );
    assert!(table.stdout.contains(": b, d\n"), "{}", table.stdout);
    assert!(
        table.stdout.contains("extra        2 predicted ids"),
        "{}",
        table.stdout
    );
}

#[test]
fn fields_and_keys_are_chosen_on_the_command_line() {
    let dir = tempdir();
    let truth = write(
        dir.path(),
        "truth.jsonl",
        "{\"doc\":\"a\",\"event\":1}\n{\"doc\":\"b\",\"event\":1}\n\n{\"doc\":\"c\",\"event\":2}\n",
    );
    // dup_cluster is scored, not story (which would be perfect); null is a singleton.
    let pred = write(
        dir.path(),
        "articles.jsonl",
        "{\"doc\":\"a\",\"story\":5,\"dup_cluster\":0}\n\
         {\"doc\":\"b\",\"story\":5,\"dup_cluster\":null}\n\
         {\"doc\":\"c\",\"story\":6,\"dup_cluster\":null}\n",
    );
    let common = ["--id-field", "doc", "--truth-key", "event"];
    let story = scores(&truth, &pred, &common);
    assert_scores("story", &story, &[("bcubed_f1", 1.0)]);
    let dup = scores(
        &truth,
        &pred,
        &[&common[..], &["--key", "dup_cluster"]].concat(),
    );
    assert_eq!(dup["key"], "dup_cluster");
    assert_scores(
        "dup_cluster",
        &dup,
        &[("bcubed_recall", 4.0 / 6.0), ("bcubed_precision", 1.0)],
    );

    // A label field no record has: a warning, every article a singleton.
    let out = eval(&[
        "--truth",
        path_str(&truth),
        "--pred",
        path_str(&pred),
        "--id-field",
        "doc",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("has field `story`"), "{}", out.stderr);
}

#[test]
fn bad_input_exits_2_naming_file_and_line() {
    let good = "{\"id\":\"a\",\"story\":\"s\"}\n{\"id\":\"b\",\"story\":\"s\"}\n";
    // (name, which side is bad, content, expected message part after "FILE")
    let cases: &[(&str, &str, &[u8], &str)] = &[
        (
            "invalid JSON",
            "pred",
            b"{\"id\":\"a\",\"story\":1}\n\n{\"id\":\"b\",\n",
            ":3: invalid JSON",
        ),
        (
            "float label",
            "truth",
            b"{\"id\":\"a\",\"story\":\"s\"}\n{\"id\":\"b\",\"story\":1.5}\n",
            ":2: invalid JSON: field `story`",
        ),
        (
            "missing id",
            "pred",
            b"{\"story\":1}\n",
            ":1: missing required field `id`",
        ),
        (
            "a line of stories.jsonl",
            "pred",
            b"{\"story\":0,\"headline\":\"h\",\"size\":1,\"articles\":[\"a\"]}\n",
            ":1: missing required field `id` (this looks like a run's stories.jsonl",
        ),
        (
            "an integer id beyond 64 bits",
            "pred",
            b"{\"id\":99999999999999999999999,\"story\":1}\n",
            ":1: invalid JSON: field `id`: an integer beyond 64 bits (give such a value as a string)",
        ),
        (
            "null id",
            "truth",
            b"{\"id\":\"a\",\"story\":\"s\"}\n{\"id\":null,\"story\":\"s\"}\n",
            ":2: field `id` is null",
        ),
        (
            "duplicate id",
            "truth",
            b"{\"id\":\"a\",\"story\":\"s\"}\n{\"id\":\"a\",\"story\":\"t\"}\n",
            ":2: duplicate id `a`",
        ),
        (
            "duplicate id, once as an integer",
            "pred",
            b"{\"id\":\"7\",\"story\":1}\n{\"id\":7,\"story\":1}\n",
            ":2: duplicate id `7`",
        ),
        (
            "invalid UTF-8",
            "truth",
            b"{\"id\":\"a\",\"story\":\"s\"}\n{\"id\":\"b\xff\"}\n",
            ":2: invalid UTF-8",
        ),
    ];
    let dir = tempdir();
    for &(name, side, content, part) in cases {
        let bad = write(dir.path(), "bad.jsonl", content);
        let good = write(dir.path(), "good.jsonl", good);
        let (truth, pred) = if side == "truth" {
            (&bad, &good)
        } else {
            (&good, &bad)
        };
        let out = eval(&["--truth", path_str(truth), "--pred", path_str(pred)]);
        assert_eq!(out.code, 2, "{name}: exit code; stderr: {}", out.stderr);
        let want = format!("{}{part}", bad.display());
        assert!(
            out.stderr.contains(&want),
            "{name}: stderr lacks {want:?}:\n{}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
    }

    // An empty truth is bad input too; a missing file is an I/O failure (3).
    let empty = write(dir.path(), "empty.jsonl", "\n");
    let good = write(dir.path(), "good.jsonl", good);
    let out = eval(&["--truth", path_str(&empty), "--pred", path_str(&good)]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("holds no articles"), "{}", out.stderr);
    let absent = dir.path().join("absent.jsonl");
    let out = eval(&["--truth", path_str(&good), "--pred", path_str(&absent)]);
    assert_eq!(out.code, 3, "{}", out.stderr);
}

#[test]
fn scores_a_dedup_run_on_the_sample() {
    // The real output of `dedup` is read back: every sample article is scored, none missing,
    // and near-duplicate clusters lie inside stories (B-cubed precision against the stories).
    let dir = tempdir();
    let sample = repo_dir().join("data/sample.jsonl");
    let out_dir = dir.path().join("out");
    let dedup = run(
        &[
            "dedup",
            path_str(&sample),
            "--out",
            path_str(&out_dir),
            "--quiet",
        ],
        None,
    );
    assert!(
        dedup.status.success(),
        "{}",
        String::from_utf8_lossy(&dedup.stderr)
    );
    let pred = out_dir.join("articles.jsonl");
    let got = scores(&sample, &pred, &["--key", "dup_cluster"]);
    assert_eq!(got["articles"], 161);
    assert_eq!(
        (got["missing"].clone(), got["extra"].clone()),
        (0.into(), 0.into())
    );
    assert!(number(&got, "bcubed_precision") > 0.99, "{got:?}");
    // The truth against itself is perfect.
    let itself = scores(&sample, &sample, &[]);
    assert_scores(
        "sample against itself",
        &itself,
        &[("bcubed_f1", 1.0), ("ari", 1.0)],
    );
}
