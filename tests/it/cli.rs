//! CLI tests: `storyhash dedup` run as a real process on small corpora in fresh temporary
//! directories; exit codes, messages and every output file are checked strictly.
//!
//! Most tests are tables of cases run through one `check` closure or helper. Every run goes
//! through [`exec`], which fails the test if the process panicked or died by a signal.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::common::{read_json, read_jsonl, repo_dir, run, storyhash, tempdir, write};

type Object = Map<String, Value>;

/// The files every successful run leaves in its output directory, sorted.
const OUTPUTS: [&str; 7] = [
    "articles.jsonl",
    "deduped.jsonl",
    "duplicates.jsonl",
    "rejects.jsonl",
    "report.html",
    "report.md",
    "summary.json",
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Exit code and messages of one run.
#[derive(Debug)]
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `storyhash ARGS`; fails the test on a panic or a death by signal.
fn exec(args: &[&str], stdin: Option<&[u8]>) -> Outcome {
    let output = run(args, stdin);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "storyhash {args:?} panicked:\n{stderr}"
    );
    let code = output.status.code().unwrap_or_else(|| {
        panic!(
            "storyhash {args:?} was killed ({:?}):\n{stderr}",
            output.status
        )
    });
    Outcome {
        code,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    }
}

/// Runs `storyhash dedup INPUTS --out OUT EXTRA`.
fn dedup(inputs: &[&str], out: &Path, extra: &[&str], stdin: Option<&[u8]>) -> Outcome {
    let mut args = vec!["dedup"];
    args.extend_from_slice(inputs);
    args.extend(["--out", path_str(out)]);
    args.extend_from_slice(extra);
    exec(&args, stdin)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// `DIR/in.jsonl` holding two articles that are no near-duplicates, `a` and `b`.
fn two_articles(dir: &Path) -> std::path::PathBuf {
    let texts = distinct_texts(2);
    write(
        dir,
        "in.jsonl",
        lines(&[
            &jline(json!({"id": "a", "text": texts[0]})),
            &jline(json!({"id": "b", "text": texts[1]})),
        ]),
    )
}

/// `DIR/in.jsonl` holding one small article: for runs whose input does not matter.
fn one_article(dir: &Path) -> std::path::PathBuf {
    write(dir, "in.jsonl", r#"{"id":"a","text":"one two three"}"#)
}

/// Names in `dir` (hidden ones included); empty when `dir` does not exist.
fn file_names(dir: &Path) -> BTreeSet<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| {
                e.expect("a directory entry")
                    .file_name()
                    .into_string()
                    .unwrap()
            })
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

/// The outputs, and the lock a run holds on its directory.
fn outputs_set() -> BTreeSet<String> {
    OUTPUTS
        .iter()
        .chain([&".storyhash.lock"])
        .map(|s| s.to_string())
        .collect()
}

/// Non-blank lines of an input, the way the contract counts them.
fn non_blank_lines(content: &[u8]) -> usize {
    content
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).expect("zstd in memory")
}

/// One JSON line (keys sorted) from a `json!` object.
fn jline(value: Value) -> String {
    assert!(value.is_object());
    value.to_string()
}

/// Joins lines with `\n`, with a final newline.
fn lines(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn assert_keys(object: &Object, expected: &[&str], what: &str) {
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = expected.iter().copied().collect();
    assert_eq!(keys, expected, "{what}: {object:?}");
}

/// What a successful run wrote, parsed strictly and checked for internal consistency.
struct Outputs {
    articles: Vec<Object>,
    duplicates: Vec<Object>,
    deduped: Vec<u8>,
    rejects: Vec<Object>,
    summary: Value,
}

impl Outputs {
    fn read(out: &Path) -> Outputs {
        assert_eq!(file_names(out), outputs_set(), "files in {}", out.display());
        let o = Outputs {
            articles: read_jsonl(&out.join("articles.jsonl")),
            duplicates: read_jsonl(&out.join("duplicates.jsonl")),
            deduped: std::fs::read(out.join("deduped.jsonl")).expect("deduped.jsonl"),
            rejects: read_jsonl(&out.join("rejects.jsonl")),
            summary: read_json(&out.join("summary.json")),
        };
        o.check_consistent();
        o
    }

    /// Invariants that hold for every run, whatever the corpus.
    fn check_consistent(&self) {
        for a in &self.articles {
            assert_keys(
                a,
                &[
                    "canonical",
                    "dup_cluster",
                    "duplicate_of",
                    "id",
                    "similarity",
                    "source",
                    "title",
                ],
                "articles.jsonl line",
            );
            assert!(a["id"].is_string() || a["id"].is_i64() || a["id"].is_u64());
        }
        for r in &self.rejects {
            let keys: BTreeSet<&str> = r.keys().map(String::as_str).collect();
            assert!(
                keys == BTreeSet::from(["file", "line", "reason"])
                    || keys == BTreeSet::from(["file", "id", "line", "reason"]),
                "rejects.jsonl line: {r:?}"
            );
            assert!(r["file"].is_string() && r["reason"].is_string(), "{r:?}");
            assert!(r["line"].is_u64() || r["line"].is_null(), "{r:?}");
        }
        for (idx, d) in self.duplicates.iter().enumerate() {
            assert_keys(
                d,
                &["canonical", "cluster", "members", "size"],
                "duplicates.jsonl line",
            );
            assert_eq!(d["cluster"], json!(idx), "clusters are numbered in order");
            let members = d["members"].as_array().expect("members is an array");
            assert!(members.len() >= 2, "{d:?}");
            assert_eq!(d["size"], json!(members.len()), "{d:?}");
            for m in members {
                let m = m.as_object().expect("a member is an object");
                assert_keys(m, &["id", "similarity", "source", "title"], "member");
            }
            assert_eq!(members[0]["id"], d["canonical"], "kept member first: {d:?}");
            assert_eq!(members[0]["similarity"], json!(1.0), "{d:?}");
            // Every member's article line points back at this cluster.
            for m in members {
                let a = self.article(&m["id"]);
                assert_eq!(a["dup_cluster"], json!(idx), "{a:?}");
                let is_kept = m["id"] == d["canonical"];
                assert_eq!(a["canonical"], json!(is_kept), "{a:?}");
                let dup_of = if is_kept {
                    Value::Null
                } else {
                    d["canonical"].clone()
                };
                assert_eq!(a["duplicate_of"], dup_of, "{a:?}");
                assert_eq!(a["similarity"], m["similarity"], "{a:?}");
            }
        }
        let clustered: usize = self
            .articles
            .iter()
            .filter(|a| !a["dup_cluster"].is_null())
            .count();
        let in_duplicates: usize = self
            .duplicates
            .iter()
            .map(|d| d["members"].as_array().unwrap().len())
            .sum();
        assert_eq!(clustered, in_duplicates);
        let kept = self
            .articles
            .iter()
            .filter(|a| a["canonical"] == json!(true));
        assert_eq!(
            kept.count(),
            self.deduped_lines().len(),
            "one deduped line per kept article"
        );

        let s = &self.summary;
        assert_eq!(s["articles"], json!(self.articles.len()), "{s}");
        assert_eq!(s["rejected"], json!(self.rejects.len()), "{s}");
        assert_eq!(s["duplicate_clusters"], json!(self.duplicates.len()), "{s}");
        assert_eq!(s["kept"], json!(self.deduped_lines().len()), "{s}");
        assert_eq!(
            s["kept"].as_u64().unwrap() + s["duplicates_removed"].as_u64().unwrap(),
            self.articles.len() as u64,
            "{s}"
        );
        // Every non-blank line is an article or a reject with a line number.
        let line_rejects = self.rejects.iter().filter(|r| r["line"].is_u64()).count();
        assert_eq!(
            s["articles_in"],
            json!(self.articles.len() + line_rejects),
            "{s}"
        );
        for key in ["parameters", "stats", "timings"] {
            assert!(s[key].is_object(), "summary.json {key}: {s}");
        }
        assert!(s["throughput_mb_per_s"].is_number(), "{s}");
    }

    fn article(&self, id: &Value) -> &Object {
        self.articles
            .iter()
            .find(|a| &a["id"] == id)
            .unwrap_or_else(|| panic!("no article {id} in articles.jsonl"))
    }

    fn ids(&self) -> Vec<Value> {
        self.articles.iter().map(|a| a["id"].clone()).collect()
    }

    fn deduped_lines(&self) -> Vec<&[u8]> {
        let mut lines: Vec<&[u8]> = self.deduped.split(|&b| b == b'\n').collect();
        assert_eq!(
            lines.pop(),
            Some(&b""[..]),
            "deduped.jsonl ends with a newline (or is empty)"
        );
        if self.deduped.is_empty() {
            lines.clear();
        }
        lines
    }

    /// `(file, line, reason)` of each reject.
    fn reject_places(&self) -> Vec<(String, Option<u64>, String)> {
        self.rejects
            .iter()
            .map(|r| {
                (
                    r["file"].as_str().unwrap().to_string(),
                    r["line"].as_u64(),
                    r["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// A deterministic PRNG (SplitMix64), so generated corpora are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The words of the repository's seed article.
fn seed_words() -> Vec<String> {
    let text = std::fs::read_to_string(repo_dir().join("data/seed-article.txt"))
        .expect("data/seed-article.txt");
    text.split_whitespace().map(str::to_string).collect()
}

/// `n` words drawn from the seed article.
fn random_words(rng: &mut Rng, vocab: &[String], n: usize) -> Vec<String> {
    (0..n)
        .map(|_| vocab[rng.below(vocab.len())].clone())
        .collect()
}

/// Texts that are not near-duplicates of one another (random word sequences).
fn distinct_texts(n: usize) -> Vec<String> {
    let vocab = seed_words();
    let mut rng = Rng(7);
    (0..n)
        .map(|_| random_words(&mut rng, &vocab, 60).join(" "))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Bad input, with and without --skip-invalid
// ---------------------------------------------------------------------------------------------

/// Where the bad input goes.
enum Bad {
    /// This line goes at line 3 of a file: good line, blank line, bad line, good line.
    Line(&'static [u8]),
    /// This is the whole file.
    File(&'static [u8]),
}

#[test]
fn bad_input_is_rejected_with_file_line_and_reason() {
    // (case, bad input, reason substring ({path} = the input file), id in the reject)
    let cases: &[(&str, Bad, &str, Option<&str>)] = &[
        (
            "invalid JSON",
            Bad::Line(br#"{"id":"b","text":"unterminated}"#),
            "invalid JSON",
            None,
        ),
        ("not an object", Bad::Line(b"[1,2,3]"), "invalid JSON", None),
        (
            "garbage after the object",
            Bad::Line(br#"{"id":"b","text":"t"} x"#),
            "invalid JSON",
            None,
        ),
        (
            "id neither string nor integer",
            Bad::Line(br#"{"id":1.5,"text":"t"}"#),
            "field `id`: invalid type: floating point `1.5`, expected a string or an integer",
            None,
        ),
        (
            "text not a string",
            Bad::Line(br#"{"id":"b","text":["t"]}"#),
            "field `text`: invalid type: sequence, expected a string",
            Some("b"),
        ),
        (
            "text given twice, the first not a string",
            Bad::Line(br#"{"id":"b","text":7,"text":"the second is"}"#),
            "field `text`: invalid type: integer `7`, expected a string",
            Some("b"),
        ),
        (
            "text given twice, the first with a lone surrogate",
            Bad::Line(br#"{"id":"b","text":"\ud800 alone","text":"fine"}"#),
            "invalid JSON: unexpected end of hex escape",
            Some("b"),
        ),
        (
            "invalid UTF-8",
            Bad::Line(b"{\"id\":\"b\",\"text\":\"caf\xe9\"}"),
            "invalid UTF-8 at byte 22",
            None,
        ),
        (
            "missing id",
            Bad::Line(br#"{"text":"an article without id"}"#),
            "missing required field `id`",
            None,
        ),
        (
            "null id",
            Bad::Line(br#"{"id":null,"text":"t"}"#),
            "field `id` is null (an article needs a string or integer id)",
            None,
        ),
        (
            "empty id",
            Bad::Line(br#"{"id":"","text":"t"}"#),
            "field `id` is empty (an article needs a non-empty id)",
            Some(""),
        ),
        (
            "missing text",
            Bad::Line(br#"{"id":"b","title":"no text"}"#),
            "missing required field `text`",
            Some("b"),
        ),
        (
            "null text",
            Bad::Line(br#"{"id":"b","text":null}"#),
            "field `text` is null (an article needs a string text, which may be empty)",
            Some("b"),
        ),
        (
            "duplicate integer id",
            Bad::Line(br#"{"id":7,"text":"the same id again"}"#),
            "duplicate id `7` (first seen at {path}:1)",
            Some("7"),
        ),
        (
            "duplicate id, string after integer",
            Bad::Line(br#"{"id":"7","text":"the same id again"}"#),
            "duplicate id `7` (first seen at {path}:1)",
            Some("7"),
        ),
        (
            "published not a date",
            Bad::Line(br#"{"id":"b","text":"t","published":"yesterday"}"#),
            "field `published`: `yesterday` is not an RFC 3339 or RFC 2822 date",
            Some("b"),
        ),
        (
            "published in a local format",
            Bad::Line(br#"{"id":"b","text":"t","published":"06/05/2014"}"#),
            "not an RFC 3339 or RFC 2822 date",
            Some("b"),
        ),
        (
            "published past the dates a timestamp holds",
            Bad::Line(br#"{"id":"b","text":"t","published":"9999-12-31"}"#),
            "field `published`: `9999-12-31` is outside the dates storyhash handles",
            Some("b"),
        ),
        (
            "published past the dates a timestamp holds, in UTC",
            Bad::Line(br#"{"id":"b","text":"t","published":"9999-12-31T10:00:00Z"}"#),
            "`9999-12-31T10:00:00Z` is outside the dates storyhash handles (-009999-01-02 to 9999-12-30 UTC)",
            Some("b"),
        ),
        (
            "published past the dates a timestamp holds, RFC 2822",
            Bad::Line(br#"{"id":"b","text":"t","published":"Fri, 31 Dec 9999 12:00:00 +0000"}"#),
            "is outside the dates storyhash handles",
            Some("b"),
        ),
        (
            "published on a day the month does not have",
            Bad::Line(br#"{"id":"b","text":"t","published":"2014-02-30T00:00:00Z"}"#),
            "`2014-02-30T00:00:00Z` is not an RFC 3339 or RFC 2822 date (parsed date is not valid",
            Some("b"),
        ),
        (
            "RFC 2822 without a weekday, on a day no month has",
            Bad::Line(br#"{"id":"b","text":"t","published":"32 May 2014 10:00:00 +0000"}"#),
            "(failed to parse RFC 2822 datetime",
            Some("b"),
        ),
        (
            "RFC 3339 with a comma fraction, past the range",
            Bad::Line(br#"{"id":"b","text":"t","published":"9999-12-31T23:59:59,5Z"}"#),
            "is outside the dates storyhash handles",
            Some("b"),
        ),
        ("empty file", Bad::File(b""), "file holds no articles", None),
        (
            "only blank lines",
            Bad::File(b"\n   \n\t\r\n"),
            "file holds no articles",
            None,
        ),
    ];
    let good_first = r#"{"id":7,"text":"the first good article of the file"}"#;
    let good_last = r#"{"id":"z","text":"the last good article of the file"}"#;
    for (case, bad, reason, id) in cases {
        let dir = tempdir();
        let content: Vec<u8> = match bad {
            Bad::Line(line) => [
                format!("{good_first}\n\n").as_bytes(),
                line,
                format!("\n{good_last}\n").as_bytes(),
            ]
            .concat(),
            Bad::File(bytes) => bytes.to_vec(),
        };
        let input = write(dir.path(), "input.jsonl", &content);
        let path = path_str(&input);
        let reason = reason.replace("{path}", path);
        let bad_line = matches!(bad, Bad::Line(_)).then_some(3u64);

        // Without --skip-invalid: exit 2, the first bad place named, nothing written.
        let out = dir.path().join("out");
        let run = dedup(&[path], &out, &["-q"], None);
        assert_eq!(run.code, 2, "{case}: {run:?}");
        let prefix = match bad_line {
            Some(line) => format!("storyhash: {path}:{line}: "),
            None => format!("storyhash: {path}: "),
        };
        assert!(
            run.stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(&reason)),
            "{case}: stderr should hold `{prefix}...{reason}`:\n{}",
            run.stderr
        );
        assert_eq!(file_names(&out), BTreeSet::new(), "{case}: nothing written");

        // With --skip-invalid: exit 0, the line in rejects.jsonl, every line accounted for.
        let out = dir.path().join("out-skip");
        let run = dedup(&[path], &out, &["-q", "--skip-invalid"], None);
        assert_eq!(run.code, 0, "{case}: {run:?}");
        let o = Outputs::read(&out);
        assert_eq!(o.rejects.len(), 1, "{case}: {:?}", o.rejects);
        let reject = &o.rejects[0];
        assert_eq!(reject["file"], json!(path), "{case}");
        assert_eq!(reject["line"], json!(bad_line), "{case}");
        let got = reject["reason"].as_str().unwrap();
        assert!(
            got.contains(&reason),
            "{case}: reason `{got}`, want `{reason}`"
        );
        // The id as text: an integer id may come back as a number or a string.
        let id_text = reject.get("id").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        assert_eq!(id_text.as_deref(), *id, "{case}");
        let expected_ids = match bad {
            Bad::Line(_) => vec![json!(7), json!("z")],
            Bad::File(_) => vec![],
        };
        assert_eq!(o.ids(), expected_ids, "{case}");
        let line_rejects = o.rejects.iter().filter(|r| r["line"].is_u64()).count();
        assert_eq!(
            o.articles.len() + line_rejects,
            non_blank_lines(&content),
            "{case}: every non-blank line is an article or a reject"
        );
        assert_eq!(o.summary["rejected"], json!(1), "{case}");
        assert_eq!(
            o.summary["articles_in"],
            json!(non_blank_lines(&content)),
            "{case}"
        );
        let expected_deduped = match bad {
            Bad::Line(_) => lines(&[good_first, good_last]),
            Bad::File(_) => String::new(),
        };
        assert_eq!(
            String::from_utf8_lossy(&o.deduped),
            expected_deduped,
            "{case}"
        );
    }
}

#[test]
fn many_bad_lines_are_all_rejected_in_order_or_the_first_stops_the_run() {
    let texts = distinct_texts(4);
    let content = [
        jline(json!({"id": "a", "text": texts[0]})).into_bytes(),
        b"{\"id\":\"b\",\"text\":\"\xff\"}".to_vec(),
        b"".to_vec(),
        br#"{"id":"c"}"#.to_vec(),
        jline(json!({"id": "d", "text": texts[1]})).into_bytes(),
        br#"{"id":"a","text":"again"}"#.to_vec(),
        b"   ".to_vec(),
        br#"{"id":"e","text":"t","published":"never"}"#.to_vec(),
        b"{oops".to_vec(),
        jline(json!({"id": "f", "text": texts[2]})).into_bytes(),
    ]
    .join(&b'\n');
    let dir = tempdir();
    let input = write(dir.path(), "mixed.jsonl", &content);
    let path = path_str(&input);

    let run = dedup(&[path], &dir.path().join("stop"), &["-q"], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .starts_with(&format!("storyhash: {path}:2: invalid UTF-8")),
        "{}",
        run.stderr
    );

    let out = dir.path().join("skip");
    let run = dedup(&[path], &out, &["-q", "--skip-invalid"], None);
    assert_eq!(run.code, 0, "{run:?}");
    let o = Outputs::read(&out);
    let places: Vec<(Option<u64>, &str)> = o
        .rejects
        .iter()
        .map(|r| (r["line"].as_u64(), r["reason"].as_str().unwrap()))
        .collect();
    let expected = [
        (2, "invalid UTF-8"),
        (4, "missing required field `text`"),
        (6, "duplicate id `a`"),
        (8, "not an RFC 3339"),
        (9, "invalid JSON"),
    ];
    assert_eq!(places.len(), expected.len(), "{places:?}");
    for ((line, reason), (want_line, want_reason)) in places.iter().zip(expected) {
        assert_eq!(*line, Some(want_line));
        assert!(reason.contains(want_reason), "line {want_line}: {reason}");
    }
    assert!(o.rejects.iter().all(|r| r["file"] == json!(path)));
    assert_eq!(o.ids(), [json!("a"), json!("d"), json!("f")]);
    assert_eq!(
        o.articles.len() + o.rejects.len(),
        non_blank_lines(&content)
    );
}

/// Pieces of article text a scrape brings: words of the seed article, capitals, apostrophes of
/// every kind, split clitics, accents composed and not, CJK, emoji, control characters, line
/// breaks of every kind, and share widgets.
const TEXT_PIECES: &[&str] = &[
    "’s",
    " 's",
    "n't",
    "O'Neil",
    "'",
    "‘quoted’",
    "É",
    "e\u{301}",
    "ß",
    "İ",
    "ﬁ",
    "日本語",
    "ひらがな",
    "한국어",
    "مرحبا",
    "🙂",
    "\u{0}",
    "\u{7}",
    "\u{a0}",
    "\u{200b}",
    "\u{feff}",
    "\t",
    "\r\n",
    "\n",
    "\n\n",
    "\u{2028}",
    "—",
    "“",
    "”",
    "Share this:\nTwitter Facebook\nLike Loading…",
    "WASHINGTON (Reuters) - ",
    "By Jane Doe\n",
    "Also Read: more",
    "©",
    "\\",
    "\"",
];

/// One article line: its text of seed words and scraped pieces, now and then in capitals, with
/// a date, a source and a title or not.
fn random_article(rng: &mut Rng, vocab: &[String], id: usize) -> String {
    let mut text = String::new();
    for _ in 0..rng.below(120) {
        if rng.below(6) == 0 {
            text.push_str(TEXT_PIECES[rng.below(TEXT_PIECES.len())]);
        } else {
            text.push_str(&vocab[rng.below(vocab.len())]);
        }
        text.push(' ');
    }
    if rng.below(8) == 0 {
        text = text.to_uppercase();
    }
    let mut article = json!({"id": format!("a{id}"), "text": text});
    if rng.below(2) == 0 {
        article["published"] = json!(format!("2024-05-{:02}T10:00:00Z", 1 + rng.below(28)));
    }
    if rng.below(2) == 0 {
        article["source"] = json!(["wire", "daily", "herald"][rng.below(3)]);
    }
    if rng.below(2) == 0 {
        article["title"] = json!(random_words(rng, vocab, 6).join(" "));
    }
    jline(article)
}

/// A line that may be bad: an article cut short, a byte overwritten, a field of the wrong type,
/// an id seen before, invalid UTF-8, a line that is no object, or a blank one.
fn random_damaged_line(rng: &mut Rng, good: &str, earlier_id: &str) -> Vec<u8> {
    let mut bytes = good.as_bytes().to_vec();
    match rng.below(9) {
        0 => bytes.truncate(rng.below(bytes.len())),
        1 => {
            let at = rng.below(bytes.len());
            bytes[at] = rng.below(256) as u8;
        }
        2 => bytes = br#"{"id":5.5,"text":"a text"}"#.to_vec(),
        3 => bytes = format!(r#"{{"id":"{earlier_id}","text":"again"}}"#).into_bytes(),
        4 => bytes = br#"{"id":"t","text":7}"#.to_vec(),
        5 => bytes = b"{\"id\":\"u\",\"text\":\"\xc3\x28\"}".to_vec(),
        6 => bytes = format!("[{good}]").into_bytes(),
        7 => bytes = br#"{"id":"p","text":"a text","published":"someday"}"#.to_vec(),
        _ => bytes = b" \t ".to_vec(),
    }
    bytes
}

/// Random corpora of scraped articles, near-copies and damaged lines: every non-blank line is
/// an article or a reject, in input order, at any thread count, and without `--skip-invalid`
/// the run stops at the first reject's line. The cases above check each kind of bad line; this
/// checks that no mix of them loses or double-counts a line, panics, or depends on the threads.
#[test]
fn random_corpora_with_damaged_lines_account_for_every_line() {
    let vocab = seed_words();
    let dir = tempdir();
    let mut rng = Rng(20_261_128);
    let mut saw = (0, 0, 0); // (rejects, clusters, runs stopped)
    for case in 0..16 {
        let mut content: Vec<Vec<u8>> = Vec::new();
        let mut good: Vec<String> = Vec::new();
        for i in 0..2 + rng.below(40) {
            let line = match (rng.below(5), good.len()) {
                // A near-copy of an earlier article: its text with one word changed.
                (0, n) if n > 0 => {
                    let mut copy: Value = serde_json::from_str(&good[rng.below(n)]).unwrap();
                    copy["id"] = json!(format!("c{i}"));
                    let text = copy["text"].as_str().unwrap().replacen(' ', " edited ", 1);
                    copy["text"] = json!(text);
                    jline(copy)
                }
                _ => random_article(&mut rng, &vocab, i),
            };
            if rng.below(6) == 0 {
                let earlier = format!("a{}", rng.below(i + 1));
                content.push(random_damaged_line(&mut rng, &line, &earlier));
            } else {
                content.push(line.clone().into_bytes());
                good.push(line);
            }
        }
        let content = content.join(&b'\n');
        let input = write(dir.path(), &format!("case{case}.jsonl"), &content);
        let path = path_str(&input);

        let mut runs = Vec::new();
        for threads in ["1", "2"] {
            let out = dir.path().join(format!("out{case}-{threads}"));
            let run = dedup(
                &[path],
                &out,
                &["-q", "--skip-invalid", "--threads", threads],
                None,
            );
            assert_eq!(run.code, 0, "case {case}: {run:?}");
            runs.push((
                Outputs::read(&out),
                std::fs::read(out.join("rejects.jsonl")).unwrap(),
            ));
        }
        let (o, rejects) = &runs[0];
        assert_eq!(
            o.articles, runs[1].0.articles,
            "case {case}: thread counts differ"
        );
        assert_eq!(o.duplicates, runs[1].0.duplicates, "case {case}");
        assert_eq!(o.deduped, runs[1].0.deduped, "case {case}");
        assert_eq!(*rejects, runs[1].1, "case {case}");

        // Every non-blank line is a reject (by its number) or the next article, in order.
        let rejected: Vec<u64> = o
            .rejects
            .iter()
            .map(|r| r["line"].as_u64().unwrap())
            .collect();
        assert!(
            rejected.windows(2).all(|w| w[0] < w[1]),
            "case {case}: {rejected:?}"
        );
        let line_count = content.split(|&b| b == b'\n').count() as u64;
        assert!(
            rejected.iter().all(|&l| (1..=line_count).contains(&l)),
            "case {case}: {rejected:?} of {line_count} lines"
        );
        let mut articles = o.articles.iter();
        for (n, line) in content.split(|&b| b == b'\n').enumerate() {
            let n = n as u64 + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                assert!(
                    !rejected.contains(&n),
                    "case {case}: blank line {n} rejected"
                );
            } else if !rejected.contains(&n) {
                let record: Value = serde_json::from_slice(line)
                    .unwrap_or_else(|e| panic!("case {case}: line {n} accepted: {e}"));
                let article = articles.next().expect("an article for each accepted line");
                assert_eq!(article["id"], record["id"], "case {case}: line {n}");
            }
        }
        assert!(
            articles.next().is_none(),
            "case {case}: articles without a line"
        );

        // Without --skip-invalid, the first bad line stops the run and is named.
        let out = dir.path().join(format!("stop{case}"));
        let run = dedup(&[path], &out, &["-q"], None);
        match rejected.first() {
            Some(line) => {
                assert_eq!(run.code, 2, "case {case}: {run:?}");
                let place = format!("storyhash: {path}:{line}: ");
                assert!(
                    run.stderr.starts_with(&place),
                    "case {case}: {}",
                    run.stderr
                );
                assert!(
                    !out.exists(),
                    "case {case}: a stopped run leaves no outputs"
                );
                saw.2 += 1;
            }
            None => assert_eq!(run.code, 0, "case {case}: {run:?}"),
        }
        saw.0 += rejected.len();
        saw.1 += o.duplicates.len();
    }
    // The corpora held every kind of line.
    assert!(saw.0 > 20 && saw.1 > 5 && saw.2 > 5, "{saw:?}");
}

// ---------------------------------------------------------------------------------------------
// 2. Compression, standard input, several inputs, line endings
// ---------------------------------------------------------------------------------------------

/// How an input reaches storyhash.
enum Feed {
    /// A file with this name.
    File(&'static str),
    /// Standard input, as `-`.
    Stdin,
}

#[test]
fn compression_storyhash_does_not_read_is_named() {
    let dir = tempdir();
    let cases: &[(&str, &[u8], &str)] = &[
        ("a.bz2", b"BZh91AY&SY\x00\x01", "is bzip2-compressed"),
        ("a.xz", b"\xfd7zXZ\x00\x00\x04", "is xz-compressed"),
        ("a.lz4", b"\x04\x22\x4d\x18\x64\x40", "is lz4-compressed"),
        ("a.zip", b"PK\x03\x04\x14\x00", "is zip-compressed"),
    ];
    for (name, bytes, message) in cases {
        let input = write(dir.path(), name, bytes);
        let out = dir.path().join(format!("out-{name}"));
        let run = dedup(&[path_str(&input)], &out, &["-q", "--skip-invalid"], None);
        assert_eq!(run.code, 3, "{name}: {run:?}");
        assert!(
            run.stderr.contains(&format!("{name}: {message}")),
            "{name}: {}",
            run.stderr
        );
        // The same bytes on standard input.
        let run = dedup(&["-"], &out, &["-q"], Some(bytes));
        assert_eq!(run.code, 3, "stdin {name}: {run:?}");
        assert!(run.stderr.contains(message), "stdin {name}: {}", run.stderr);
    }
}

/// A compressed input cut short stops the run (exit 3, with `--skip-invalid` too: its lines
/// cannot be accounted for), and the message says how far it was read: the lines the decoder
/// gave whole before the break, as flate2 gives them when read alone.
#[test]
fn a_cut_gzip_stream_says_how_many_lines_were_read_whole() {
    use std::io::Read;
    let vocab = seed_words();
    let mut rng = Rng(99);
    let content: String = (0..4000)
        .map(|i| {
            let text = random_words(&mut rng, &vocab, 200).join(" ");
            jline(json!({"id": format!("g{i}"), "text": text})) + "\n"
        })
        .collect();
    // More than a read chunk of lines comes before the break.
    assert!(content.len() > 2 * storyhash::ingest::CHUNK_BYTES);
    let full = gzip(content.as_bytes());
    let cut = &full[..full.len() * 3 / 5];
    let mut decoded = Vec::new();
    let broken = flate2::read::MultiGzDecoder::new(cut).read_to_end(&mut decoded);
    assert!(broken.is_err());
    let whole = decoded.iter().filter(|&&b| b == b'\n').count();
    assert!((1000..4000).contains(&whole), "{whole}");
    let dir = tempdir();
    let input = write(dir.path(), "cut.jsonl.gz", cut);
    let path = path_str(&input);
    let out = dir.path().join("out");
    for extra in [&["-q"][..], &["-q", "--skip-invalid"]] {
        let run = dedup(&[path], &out, extra, None);
        assert_eq!(run.code, 3, "{extra:?}: {run:?}");
        let opening = format!("storyhash: {path}: gzip stream: ");
        assert!(run.stderr.starts_with(&opening), "{}", run.stderr);
        let read = format!("; lines 1 to {whole} were read whole");
        assert!(run.stderr.contains(&read), "{read} in {}", run.stderr);
        assert!(!out.exists(), "{extra:?}: no outputs");
    }
}

#[test]
fn compressed_inputs_and_stdin_read_the_same() {
    let texts = distinct_texts(3);
    // c is a with one word changed: report.html quotes the change, read from the input.
    let mut words: Vec<&str> = texts[0].split(' ').collect();
    words[30] = "zebraword";
    let changed = words.join(" ");
    let good = [
        jline(json!({"id": "a", "text": texts[0]})),
        jline(json!({"id": "b", "text": texts[1]})),
        jline(json!({"id": "c", "text": changed})),
    ];
    let plain = format!("{}\n\n{}\n{{bad\n{}\n", good[0], good[1], good[2]).into_bytes();
    let half = plain.len() / 2;
    let cut = plain[..half].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let (front, back) = plain.split_at(cut);
    let cases: &[(&str, Feed, Vec<u8>)] = &[
        ("plain", Feed::File("in.jsonl"), plain.clone()),
        ("gzip", Feed::File("in.jsonl.gz"), gzip(&plain)),
        ("zstd", Feed::File("in.jsonl.zst"), zstd(&plain)),
        ("gzip named .jsonl", Feed::File("gz.jsonl"), gzip(&plain)),
        ("zstd with no extension", Feed::File("zst"), zstd(&plain)),
        ("plain named .gz", Feed::File("plain.gz"), plain.clone()),
        (
            "gzip of two members",
            Feed::File("two.gz"),
            [gzip(front), gzip(back)].concat(),
        ),
        (
            "zstd of two frames",
            Feed::File("two.zst"),
            [zstd(front), zstd(back)].concat(),
        ),
        ("plain on stdin", Feed::Stdin, plain.clone()),
        ("gzip on stdin", Feed::Stdin, gzip(&plain)),
        ("zstd on stdin", Feed::Stdin, zstd(&plain)),
    ];
    for (case, feed, bytes) in cases {
        let dir = tempdir();
        let out = dir.path().join("out");
        let (name, run) = match feed {
            Feed::File(name) => {
                let input = write(dir.path(), name, bytes);
                let name = path_str(&input).to_string();
                let run = dedup(&[&name], &out, &["-q", "--skip-invalid"], None);
                (name, run)
            }
            Feed::Stdin => {
                let run = dedup(&["-"], &out, &["-q", "--skip-invalid"], Some(bytes));
                ("-".to_string(), run)
            }
        };
        assert_eq!(run.code, 0, "{case}: {run:?}");
        let o = Outputs::read(&out);
        assert_eq!(o.ids(), [json!("a"), json!("b"), json!("c")], "{case}");
        assert_eq!(
            o.reject_places()
                .into_iter()
                .map(|(f, l, _)| (f, l))
                .collect::<Vec<_>>(),
            [(name.clone(), Some(4))],
            "{case}"
        );
        assert_eq!(o.duplicates.len(), 1, "{case}");
        assert_eq!(o.article(&json!("c"))["duplicate_of"], json!("a"), "{case}");
        assert_eq!(
            String::from_utf8_lossy(&o.deduped),
            lines(&[&good[0], &good[1]]),
            "{case}"
        );
        assert_eq!(
            o.summary["stats"]["inputs"][0]["path"],
            json!(name),
            "{case}"
        );
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        assert!(html.contains("<ins>zebraword</ins>"), "{case}");
    }
}

/// deduped.jsonl from several inputs is the same whether the kept lines are copied (every input
/// uncompressed: long runs by the kernel, short ones from a window read ahead) or streamed (one
/// input compressed): runs of kept lines stop
/// at removed, blank and bad lines and at file ends, a file's last line without newline gets
/// one, carriage returns stay, byte-order marks that open files go (inside deduped.jsonl one
/// would make its line unreadable).
#[test]
fn kept_lines_of_several_inputs_are_copied_byte_for_byte() {
    let texts = distinct_texts(8);
    // Line "f" is long: its run (f, g) is copied by the kernel, the short ones from a window.
    let pad = "p".repeat(40_000);
    let l = |id: &str, t: usize| {
        if id == "f" {
            jline(json!({"id": id, "text": texts[t], "pad": pad}))
        } else {
            jline(json!({"id": id, "text": texts[t]}))
        }
    };
    let first = format!(
        "\u{feff}{}\n{}\r\n{}\n\n{}\n{{bad\n{}",
        l("a", 0),
        l("b", 1),
        l("a2", 0),
        l("c", 2),
        l("d", 3)
    );
    let second = format!(
        "\u{feff}{}\n{}\n{}\r\n{}\n",
        l("e", 4),
        l("d2", 3),
        l("f", 5),
        l("g", 6)
    );
    let third = format!("{}\n{}", l("g2", 6), l("h", 7));
    let expected = format!(
        "{}\n{}\r\n{}\n{}\n{}\n{}\r\n{}\n{}\n",
        l("a", 0),
        l("b", 1),
        l("c", 2),
        l("d", 3),
        l("e", 4),
        l("f", 5),
        l("g", 6),
        l("h", 7)
    );
    for compress_second in [false, true] {
        let dir = tempdir();
        let a = write(dir.path(), "1.jsonl", first.as_bytes());
        let b = if compress_second {
            write(dir.path(), "2.jsonl.zst", zstd(second.as_bytes()))
        } else {
            write(dir.path(), "2.jsonl", second.as_bytes())
        };
        let c = write(dir.path(), "3.jsonl", third.as_bytes());
        let out = dir.path().join("out");
        let run = dedup(
            &[path_str(&a), path_str(&b), path_str(&c)],
            &out,
            &["-q", "--skip-invalid"],
            None,
        );
        assert_eq!(run.code, 0, "{run:?}");
        let o = Outputs::read(&out);
        assert_eq!(o.duplicates.len(), 3, "compressed: {compress_second}");
        assert_eq!(
            String::from_utf8_lossy(&o.deduped),
            expected,
            "compressed: {compress_second}"
        );
    }
}

/// More input files than the process may hold open: the passes that read by offset or copy
/// kept lines hold one input open at a time, as streaming does.
#[test]
fn more_inputs_than_open_files_allowed() {
    let texts = distinct_texts(700);
    let dir = tempdir();
    let mut names = Vec::new();
    for f in 0..100 {
        let content: Vec<String> = (0..8)
            .map(|i| {
                // Lines 1 and 8 of each file are near-duplicates (one word added).
                let text = if i == 7 {
                    format!("{} extra", texts[f * 7])
                } else {
                    texts[f * 7 + i].clone()
                };
                jline(json!({"id": format!("{f}-{i}"), "text": text}))
            })
            .collect();
        let path = write(
            dir.path(),
            &format!("in{f:03}.jsonl"),
            lines(&content.iter().map(String::as_str).collect::<Vec<_>>()),
        );
        names.push(path_str(&path).to_string());
    }
    for verify in ["auto", "exact"] {
        let out = dir.path().join(format!("out-{verify}"));
        let script = format!(
            "ulimit -n 64 && exec \"$0\" dedup \"$@\" --out {} -q --verify {verify}",
            path_str(&out)
        );
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .arg(env!("CARGO_BIN_EXE_storyhash"))
            .args(&names)
            .output()
            .expect("sh runs");
        assert!(
            output.status.success(),
            "--verify {verify}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let o = Outputs::read(&out);
        assert_eq!(o.articles.len(), 800, "--verify {verify}");
        assert_eq!(o.deduped_lines().len(), 700, "--verify {verify}");
    }
}

/// Exact verification streams compressed inputs whole, chunk by chunk, and a chunk (here a
/// whole input) may hold no article of an ambiguous pair: it is passed over (it used to stop
/// the run with a panic). Plain inputs are streamed too when the wanted lines are most of them.
#[test]
fn exact_verification_passes_over_inputs_without_a_wanted_article() {
    let dir = tempdir();
    let seed = seed_words();
    let text = |from: usize| seed[from..from + 60].join(" ");
    let unrelated: String = (0..5)
        .map(|i| jline(json!({"id": format!("u{i}"), "text": text(i * 70)})) + "\n")
        .collect();
    let pair = [
        jline(json!({"id": "d0", "text": text(400)})),
        jline(json!({"id": "d1", "text": format!("{} and one more", text(400))})),
    ]
    .join("\n");
    for (name, first, second) in [
        ("gz", gzip(unrelated.as_bytes()), gzip(pair.as_bytes())),
        ("plain", unrelated.into_bytes(), pair.clone().into_bytes()),
    ] {
        let a = write(dir.path(), &format!("unrelated-{name}"), &first);
        let b = write(dir.path(), &format!("pair-{name}"), &second);
        for verify in ["auto", "exact"] {
            let out = dir.path().join(format!("out-{name}-{verify}"));
            let run = dedup(
                &[path_str(&a), path_str(&b)],
                &out,
                &["-q", "--verify", verify],
                None,
            );
            assert_eq!(run.code, 0, "{name} --verify {verify}: {run:?}");
            let o = Outputs::read(&out);
            assert_eq!(o.duplicates.len(), 1, "{name} --verify {verify}");
            assert_eq!(o.deduped_lines().len(), 6, "{name} --verify {verify}");
        }
    }
}

/// A bad line in the chunk read just before a read error further on is what the run reports
/// (exit 2, file and line), as it was before the scan merged chunks behind the signing.
#[test]
fn a_bad_line_before_a_broken_input_is_reported_first() {
    let dir = tempdir();
    let first = write(
        dir.path(),
        "dupid.jsonl",
        "{\"id\":\"1\",\"text\":\"a b c d e f\"}\n{\"id\":\"1\",\"text\":\"a b c d e f g\"}\n",
    );
    let whole = gzip(b"{\"id\":\"2\",\"text\":\"x y z\"}\n");
    let broken = write(dir.path(), "broken.jsonl.gz", &whole[..20]);
    let out = dir.path().join("out");
    let run = dedup(&[path_str(&first), path_str(&broken)], &out, &[], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("dupid.jsonl:2"), "{}", run.stderr);
}

/// When one output cannot be written, deduped.jsonl (written on its own thread) is not put in
/// place either: a failed run does not leave a new corpus beside other runs' outputs.
#[test]
fn a_failed_output_keeps_deduped_jsonl_out() {
    let texts = distinct_texts(2);
    let dir = tempdir();
    let input = write(
        dir.path(),
        "in.jsonl",
        lines(&[
            &jline(json!({"id": "a", "text": texts[0]})),
            &jline(json!({"id": "b", "text": texts[0]})),
            &jline(json!({"id": "c", "text": texts[1]})),
        ]),
    );
    let out = dir.path().join("out");
    // A directory where articles.jsonl goes: its rename fails.
    std::fs::create_dir_all(out.join("articles.jsonl")).unwrap();
    std::fs::write(out.join("articles.jsonl").join("x"), "").unwrap();
    let run = dedup(&[path_str(&input)], &out, &["-q"], None);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("articles.jsonl"), "{}", run.stderr);
    assert_eq!(
        file_names(&out),
        BTreeSet::from(["articles.jsonl".into(), ".storyhash.lock".into()]),
        "only the blocking directory is left, and the directory's lock"
    );
}

/// A `dedup` into a `run`'s directory removes the `stories.jsonl` it does not write; a
/// directory at that name is refused before any output is replaced, not after all of them.
#[test]
fn a_directory_at_a_stale_output_name_is_refused_before_any_rename() {
    let dir = tempdir();
    let input = two_articles(dir.path());
    let out = dir.path().join("out");
    let run = exec(
        &["run", path_str(&input), "--out", path_str(&out), "-q"],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let before = std::fs::read(out.join("summary.json")).unwrap();
    std::fs::remove_file(out.join("stories.jsonl")).unwrap();
    std::fs::create_dir(out.join("stories.jsonl")).unwrap();
    let run = dedup(&[path_str(&input)], &out, &["-q"], None);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr
            .contains("stories.jsonl: is a directory, where this run removes"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(out.join("summary.json")).unwrap(),
        before,
        "the earlier run's outputs are left as they were"
    );
}

#[test]
fn empty_stdin_and_empty_compressed_files_hold_no_articles() {
    let cases: &[(&str, Feed, Vec<u8>)] = &[
        ("empty stdin", Feed::Stdin, vec![]),
        ("empty gzip", Feed::File("e.gz"), gzip(b"")),
        ("empty zstd", Feed::File("e.zst"), zstd(b"")),
        ("blank zstd", Feed::File("b.zst"), zstd(b"\n\n")),
    ];
    for (case, feed, bytes) in cases {
        let dir = tempdir();
        let out = dir.path().join("out");
        let name = match feed {
            Feed::File(name) => path_str(&write(dir.path(), name, bytes)).to_string(),
            Feed::Stdin => "-".to_string(),
        };
        let stdin = matches!(feed, Feed::Stdin).then_some(&bytes[..]);
        let run = dedup(&[&name], &out, &["-q"], stdin);
        assert_eq!(run.code, 2, "{case}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("storyhash: {name}: file holds no articles")),
            "{case}: {}",
            run.stderr
        );
        assert_eq!(file_names(&out), BTreeSet::new(), "{case}");
    }
}

/// Under --skip-invalid, inputs holding no articles are rejects of their own: every report
/// counts them with the lines, as summary.json's `rejected` does, and says how many are files.
/// (An input whose only line is bad is a rejected line.)
#[test]
fn files_holding_no_articles_are_counted_apart_from_lines() {
    let dir = tempdir();
    let empty = write(dir.path(), "empty.jsonl", "");
    let blanks = write(dir.path(), "blanks.jsonl", "\n\n");
    let one = write(
        dir.path(),
        "one.jsonl",
        r#"{"id":"a","text":"one two three four five"}"#,
    );
    let bad = write(dir.path(), "bad.jsonl", "{\n");
    let out = dir.path().join("out");
    let inputs = [&empty, &blanks, &one, &bad].map(|p| path_str(p).to_string());
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let run = dedup(&inputs, &out, &["-q", "--skip-invalid"], None);
    assert_eq!(run.code, 0, "{run:?}");
    let o = Outputs::read(&out);
    assert_eq!(
        (&o.summary["articles_in"], &o.summary["articles"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(
        (&o.summary["rejected"], &o.summary["rejected_files"]),
        (&json!(3), &json!(2))
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("| rejected | 3 (1 line, 2 files holding no articles) |"),
        "{md}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("data-stat=\"rejected\">3<"), "{html}");
    assert!(html.contains("1 line and 2 files holding no articles; see rejects.jsonl"));
    assert!(
        html.contains("1 input line and 2 files holding no articles were rejected"),
        "{html}"
    );
}

#[test]
fn several_inputs_number_lines_per_file_and_reject_ids_seen_before() {
    let texts = distinct_texts(5);
    let dir = tempdir();
    let a = write(
        dir.path(),
        "a.jsonl",
        lines(&[
            &jline(json!({"id": "a1", "text": texts[0]})),
            &jline(json!({"id": "a2", "text": texts[1]})),
        ]),
    );
    let b = write(
        dir.path(),
        "b.jsonl.gz",
        gzip(
            lines(&[
                &jline(json!({"id": "b1", "text": texts[0]})),
                &jline(json!({"id": "a1", "text": texts[2]})),
            ])
            .as_bytes(),
        ),
    );
    let c = write(
        dir.path(),
        "c.jsonl.zst",
        zstd(
            lines(&[
                &jline(json!({"id": "c1", "text": texts[3]})),
                "",
                r#"{"id":"c2","text":"#,
            ])
            .as_bytes(),
        ),
    );
    let stdin = lines(&[
        &jline(json!({"id": "a2", "text": texts[4]})),
        &jline(json!({"id": "s1", "text": texts[4]})),
    ]);
    let (a, b, c) = (path_str(&a), path_str(&b), path_str(&c));

    let out = dir.path().join("out");
    let run = dedup(
        &[a, b, c, "-"],
        &out,
        &["-q", "--skip-invalid"],
        Some(stdin.as_bytes()),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let o = Outputs::read(&out);
    assert_eq!(
        o.ids(),
        [
            json!("a1"),
            json!("a2"),
            json!("b1"),
            json!("c1"),
            json!("s1")
        ]
    );
    assert_eq!(
        o.reject_places(),
        [
            (
                b.to_string(),
                Some(2),
                format!("duplicate id `a1` (first seen at {a}:1)")
            ),
            (
                c.to_string(),
                Some(3),
                o.rejects[1]["reason"].as_str().unwrap().into()
            ),
            (
                "-".to_string(),
                Some(1),
                format!("duplicate id `a2` (first seen at {a}:2)")
            ),
        ]
    );
    assert!(
        o.rejects[1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON")
    );
    assert_eq!(o.article(&json!("b1"))["duplicate_of"], json!("a1"));
    // Per-input counts.
    let per_input: Vec<(Value, Value, Value, Value)> = o.summary["stats"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].clone(),
                i["lines"].clone(),
                i["articles"].clone(),
                i["rejected"].clone(),
            )
        })
        .collect();
    assert_eq!(
        per_input,
        [
            (json!(a), json!(2), json!(2), json!(0)),
            (json!(b), json!(2), json!(1), json!(1)),
            (json!(c), json!(2), json!(1), json!(1)),
            (json!("-"), json!(2), json!(1), json!(1)),
        ]
    );

    // Without --skip-invalid the duplicate id in the second file stops the run.
    let out = dir.path().join("stop");
    let run = dedup(&[a, b, c, "-"], &out, &["-q"], Some(stdin.as_bytes()));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.starts_with(&format!(
            "storyhash: {b}:2: duplicate id `a1` (first seen at {a}:1)"
        )),
        "{}",
        run.stderr
    );

    // Standard input first: the file's line is the duplicate, and `-` is named as first seen.
    let out = dir.path().join("stdin-first");
    let run = dedup(
        &["-", a],
        &out,
        &["-q", "--skip-invalid"],
        Some(stdin.as_bytes()),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let o = Outputs::read(&out);
    assert_eq!(
        o.reject_places(),
        [(
            a.to_string(),
            Some(2),
            "duplicate id `a2` (first seen at -:1)".to_string()
        )]
    );
}

#[test]
fn line_endings_and_a_last_line_without_newline() {
    let texts = distinct_texts(3);
    let [x, y, z] = [0, 1, 2].map(|i| jline(json!({"id": format!("id{i}"), "text": texts[i]})));
    let dup = jline(json!({"id": "dup", "text": texts[0]}));
    // (case, input, rejected line numbers, expected deduped.jsonl)
    let cases: Vec<(&str, String, Vec<u64>, String)> = vec![
        (
            "LF, last line without newline",
            format!("{x}\n{y}\n{z}"),
            vec![],
            lines(&[&x, &y, &z]),
        ),
        (
            "CRLF with a blank CRLF line",
            format!("{x}\r\n\r\n{y}\r\n{z}\r\n"),
            vec![],
            // deduped.jsonl keeps each input line byte for byte, its carriage return included.
            format!("{x}\r\n{y}\r\n{z}\r\n"),
        ),
        (
            "CRLF, bad line, last line without newline",
            format!("{x}\r\n{{bad\r\n{y}\r\n{z}"),
            vec![2],
            format!("{x}\r\n{y}\r\n{z}\n"),
        ),
        (
            "a bad last line without newline",
            format!("{x}\n{y}\n\n{{\"id\":\"q\"}}"),
            vec![4],
            lines(&[&x, &y]),
        ),
        (
            "a duplicate as the last line, without newline",
            format!("{x}\r\n{y}\r\n{dup}"),
            vec![],
            format!("{x}\r\n{y}\r\n"),
        ),
        (
            "mixed endings",
            format!("{x}\n{y}\r\n\n{z}\r\n"),
            vec![],
            format!("{x}\n{y}\r\n{z}\r\n"),
        ),
    ];
    for (case, content, rejected, deduped) in &cases {
        let dir = tempdir();
        let input = write(dir.path(), "in.jsonl", content);
        let out = dir.path().join("out");
        let run = dedup(&[path_str(&input)], &out, &["-q", "--skip-invalid"], None);
        assert_eq!(run.code, 0, "{case}: {run:?}");
        let o = Outputs::read(&out);
        let got: Vec<u64> = o
            .rejects
            .iter()
            .map(|r| r["line"].as_u64().unwrap())
            .collect();
        assert_eq!(&got, rejected, "{case}");
        assert_eq!(&String::from_utf8_lossy(&o.deduped), deduped, "{case}");
        assert_eq!(
            o.articles.len() + o.rejects.len(),
            non_blank_lines(content.as_bytes()),
            "{case}"
        );
    }
}

/// Inputs over four read chunks (`CHUNK_BYTES`, 2 MiB): line numbers, clusters and deduped lines
/// across the cuts.
///
/// Most of each line is an unknown field, so the run stays quick: only the texts are shingled.
#[test]
fn inputs_larger_than_a_chunk() {
    let vocab = seed_words();
    let mut rng = Rng(11);
    let n_lines = 4400; // about 2 kB each: over 8 MiB in all
    let bad_line = 4390;
    let pad = "p".repeat(1900);
    let mut all = Vec::with_capacity(n_lines);
    let mut first_text = String::new();
    for i in 1..=n_lines {
        let line = if i == bad_line {
            r#"{"id":"bad","text":"#.to_string()
        } else if i == n_lines {
            jline(json!({"id": i, "text": first_text, "pad": pad}))
        } else {
            let text = random_words(&mut rng, &vocab, 20).join(" ");
            if i == 1 {
                first_text = text.clone();
            }
            jline(json!({"id": i, "text": text, "pad": pad}))
        };
        all.push(line);
    }
    let content = lines(&all.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        content.len() > 4 * storyhash::ingest::CHUNK_BYTES,
        "{} bytes",
        content.len()
    );
    let cases = [
        ("plain", content.as_bytes().to_vec()),
        ("zstd", zstd(content.as_bytes())),
    ];
    for (case, bytes) in cases {
        let dir = tempdir();
        let input = write(dir.path(), "big.jsonl", &bytes);
        let out = dir.path().join("out");
        let run = dedup(&[path_str(&input)], &out, &["-q", "--skip-invalid"], None);
        assert_eq!(run.code, 0, "{case}: {run:?}");
        let o = Outputs::read(&out);
        assert_eq!(o.articles.len(), n_lines - 1, "{case}");
        assert_eq!(o.rejects.len(), 1, "{case}");
        assert_eq!(o.rejects[0]["line"], json!(bad_line), "{case}");
        assert_eq!(o.duplicates.len(), 1, "{case}");
        assert_eq!(
            o.article(&json!(n_lines))["duplicate_of"],
            json!(1),
            "{case}"
        );
        let expected: Vec<&str> = all
            .iter()
            .enumerate()
            .filter(|&(idx, _)| idx + 1 != bad_line && idx + 1 != n_lines)
            .map(|(_, l)| l.as_str())
            .collect();
        assert!(
            o.deduped == lines(&expected).as_bytes(),
            "{case}: deduped.jsonl differs"
        );
    }
}

/// Runs with a time limit; `None` when it had to be killed.
fn run_with_timeout(args: &[&str], limit: Duration) -> Option<std::process::Output> {
    let mut child = storyhash()
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the storyhash binary starts");
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().expect("the child can be polled").is_some() {
            return Some(child.wait_with_output().expect("the output can be read"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().expect("the child can be killed");
    child.wait().expect("the child is reaped");
    None
}

#[test]
fn a_line_longer_than_a_chunk_is_read() {
    let dir = tempdir();
    let text = "word ".repeat((9 << 20) / 5);
    let content = lines(&[
        &jline(json!({"id": "long", "text": text})),
        r#"{"id":"short","text":"a short one"}"#,
    ]);
    let input = write(dir.path(), "long.jsonl", content);
    let out = dir.path().join("out");
    let output = run_with_timeout(
        &["dedup", path_str(&input), "--out", path_str(&out), "-q"],
        Duration::from_secs(120),
    )
    .expect("storyhash finishes within two minutes");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let o = Outputs::read(&out);
    assert_eq!(o.ids(), [json!("long"), json!("short")]);
}

// ---------------------------------------------------------------------------------------------
// 3. Field names, pass-through of unknown fields, integer ids
// ---------------------------------------------------------------------------------------------

#[test]
fn remapped_field_names() {
    let texts = distinct_texts(4);
    let [t0, t1, t2, t3] = [&texts[0], &texts[1], &texts[2], &texts[3]];
    let input_lines = [
        // Fields with the default names are ordinary unknown fields here, whatever their type.
        jline(
            json!({"doc_id": 5, "body": t0, "headline": "H1", "outlet": "o1",
            "date": "2020-01-02", "link": "https://example.com/1",
            "id": {"nested": [1, 2]}, "text": 123, "title": false, "url": 5}),
        ),
        // Earlier `date`: kept under --keep earliest, so the date field is read.
        jline(
            json!({"doc_id": "six", "body": t0, "headline": "H2", "outlet": "o2",
            "date": "Wed, 01 Jan 2020 00:00:00 +0000"}),
        ),
        jline(json!({"doc_id": 7, "body": t1, "published": "not read", "date": ""})),
        jline(json!({"id": "x", "body": t2})),
        jline(json!({"doc_id": 8, "text": t2})),
        jline(json!({"doc_id": 9, "body": t2, "date": "nope"})),
        jline(json!({"doc_id": 10, "body": t3, "link": 5})),
    ];
    let dir = tempdir();
    let input = write(
        dir.path(),
        "remapped.jsonl",
        lines(&input_lines.iter().map(String::as_str).collect::<Vec<_>>()),
    );
    let out = dir.path().join("out");
    let flags = [
        "-q",
        "--skip-invalid",
        "--id-field",
        "doc_id",
        "--text-field",
        "body",
        "--title-field",
        "headline",
        "--source-field",
        "outlet",
        "--published-field",
        "date",
        "--url-field",
        "link",
    ];
    let run = dedup(&[path_str(&input)], &out, &flags, None);
    assert_eq!(run.code, 0, "{run:?}");
    let o = Outputs::read(&out);
    let summary: Vec<(Value, Value, Value)> = o
        .articles
        .iter()
        .map(|a| (a["id"].clone(), a["source"].clone(), a["title"].clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (json!(5), json!("o1"), json!("H1")),
            (json!("six"), json!("o2"), json!("H2")),
            (json!(7), Value::Null, Value::Null),
        ]
    );
    assert_eq!(o.article(&json!(5))["duplicate_of"], json!("six"));
    let rejects: Vec<(u64, String)> = o
        .rejects
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        (4, "missing required field `doc_id`"),
        (5, "missing required field `body`"),
        (
            6,
            "field `date`: `nope` is not an RFC 3339 or RFC 2822 date",
        ),
        (7, "field `link`: invalid type: integer `5`"),
    ];
    assert_eq!(rejects.len(), expected.len(), "{rejects:?}");
    for ((line, reason), (want_line, want)) in rejects.iter().zip(expected) {
        assert_eq!(*line, want_line);
        assert!(reason.contains(want), "line {line}: {reason}");
    }
    assert_eq!(
        String::from_utf8_lossy(&o.deduped),
        lines(&[&input_lines[1], &input_lines[2]])
    );
}

#[test]
fn unknown_fields_pass_through_byte_for_byte_and_integer_ids_stay_integers() {
    let texts = distinct_texts(6);
    let t = |i: usize| &texts[i];
    let input_lines = [
        format!(
            r#"{{"id":"p1","text":"{} Café ☕ naïve façade — 東京 😀","extra":{{"nested":{{"deep":[1,2,{{"k":null}}]}},"empty":{{}},"list":[]}},"n":-1.5e+300,"m":2E-7,"z":-0,"big":123456789012345678901234567890}}"#,
            t(0)
        ),
        format!(
            r#"{{ "id" : 42 , "text" : "{} escaped \"quotes\" \\ back\/slash \u00e9 \ud83d\ude00 \n newline \t tab" , "title":"Caf\u00e9 \"quoted\"", "unicode_key_ß": "✓" }}"#,
            t(1)
        ),
        format!(
            r#"{{"id":18446744073709551615,"text":"{}","flag":true,"nothing":null,"source":"outlet ☕"}}"#,
            t(2)
        ),
        format!(r#"{{"id":-9223372036854775808,"text":"{}"}}"#, t(3)),
        format!(r#"{{"text":"{}","id":0,"zero":0.0e0}}"#, t(4)),
        format!(
            r#"{{"id":43,"text":"{}","other":"a different copy"}}"#,
            t(1)
        ),
        format!(r#"{{"id":"42x","text":"{}"}}"#, t(5)),
    ];
    let dir = tempdir();
    let content = lines(&input_lines.iter().map(String::as_str).collect::<Vec<_>>());
    let input = write(dir.path(), "passthrough.jsonl", &content);
    let out = dir.path().join("out");
    let run = dedup(&[path_str(&input)], &out, &["-q", "--keep", "first"], None);
    assert_eq!(run.code, 0, "{run:?}");
    let o = Outputs::read(&out);
    assert_eq!(
        o.ids(),
        [
            json!("p1"),
            json!(42),
            json!(18_446_744_073_709_551_615_u64),
            json!(i64::MIN),
            json!(0),
            json!(43),
            json!("42x"),
        ]
    );
    // The integer-id duplicate points at its kept article by integer.
    assert_eq!(o.article(&json!(43))["duplicate_of"], json!(42));
    assert_eq!(o.duplicates.len(), 1);
    assert_eq!(o.duplicates[0]["canonical"], json!(42));
    assert_eq!(o.duplicates[0]["members"][1]["id"], json!(43));
    assert_eq!(o.article(&json!(42))["title"], json!("Café \"quoted\""));
    assert_eq!(
        o.article(&json!(18_446_744_073_709_551_615_u64))["source"],
        json!("outlet ☕")
    );
    // Every kept line, byte for byte.
    let kept: Vec<&str> = input_lines
        .iter()
        .enumerate()
        .filter(|&(idx, _)| idx != 5)
        .map(|(_, l)| l.as_str())
        .collect();
    assert_eq!(String::from_utf8(o.deduped.clone()).unwrap(), lines(&kept));
}

// ---------------------------------------------------------------------------------------------
// 4. Determinism across thread counts
// ---------------------------------------------------------------------------------------------

/// A corpus of about 200 articles, a quarter of them edited copies of an earlier one.
///
/// Returns the bytes and the `(copy, original)` id pairs of copies with a single word changed,
/// which must end up in the original's cluster.
fn near_duplicate_corpus() -> (String, Vec<(Value, Value)>) {
    let vocab = seed_words();
    let sources = [
        "alpha.example",
        "beta.example",
        "gamma.example",
        "delta.example",
    ];
    let mut rng = Rng(2024);
    let mut out = String::new();
    let mut originals: Vec<(Value, Vec<String>)> = Vec::new();
    let mut one_edit = Vec::new();
    for i in 0..200 {
        let id = if i % 3 == 0 {
            json!(1000 + i)
        } else {
            json!(format!("art-{i}"))
        };
        let words = if i >= 10 && rng.below(4) == 0 {
            let (original_id, original) = &originals[rng.below(originals.len())];
            let mut words = original.clone();
            let edits = 1 + rng.below(3);
            for _ in 0..edits {
                let at = rng.below(words.len());
                words[at] = vocab[rng.below(vocab.len())].clone();
            }
            if edits == 1 {
                one_edit.push((id.clone(), original_id.clone()));
            }
            words
        } else {
            let n = 70 + rng.below(60);
            let words = random_words(&mut rng, &vocab, n);
            originals.push((id.clone(), words.clone()));
            words
        };
        let source = sources[rng.below(sources.len())];
        let mut text = words
            .chunks(25)
            .map(|p| p.join(" "))
            .collect::<Vec<_>>()
            .join("\n\n");
        // Outlet boilerplate, for the learner to find.
        if rng.below(2) == 0 {
            text.push_str(&format!("\n\nSubscribe to {source} for more stories."));
        }
        if rng.below(3) == 0 {
            text.push_str("\n\nShare this: Twitter\n\nFacebook");
        }
        let mut record = json!({
            "id": id,
            "text": text,
            "source": source,
            "published": format!("2023-09-{:02}T{:02}:00:00Z", 1 + rng.below(28), rng.below(24)),
        });
        if rng.below(2) == 0 {
            record["title"] = json!(words[..6].join(" "));
        }
        out.push_str(&jline(record));
        out.push('\n');
        if i % 50 == 25 {
            out.push_str("\n{\"id\":\"broken\",\n");
            out.push_str(r#"{"id":1000,"text":"a duplicate id"}"#);
            out.push('\n');
        }
    }
    (out, one_edit)
}

#[test]
fn outputs_do_not_depend_on_the_thread_count() {
    let (corpus, one_edit) = near_duplicate_corpus();
    let dir = tempdir();
    let input = write(dir.path(), "corpus.jsonl", &corpus);
    let mut results = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = dir.path().join(format!("out-{threads}"));
        let run = dedup(
            &[path_str(&input)],
            &out,
            &["-q", "--skip-invalid", "--threads", threads],
            None,
        );
        assert_eq!(run.code, 0, "--threads {threads}: {run:?}");
        let o = Outputs::read(&out);
        assert!(o.duplicates.len() >= 15, "{} clusters", o.duplicates.len());
        assert_eq!(o.rejects.len(), 8, "{:?}", o.rejects);
        for (copy, original) in &one_edit {
            assert_eq!(
                o.article(copy)["dup_cluster"],
                o.article(original)["dup_cluster"],
                "--threads {threads}: {copy} is a one-word edit of {original}"
            );
        }
        let mut summary = o.summary.as_object().unwrap().clone();
        for key in ["timings", "throughput_mb_per_s"] {
            assert!(summary.remove(key).is_some(), "summary.json has {key}");
        }
        let files: Vec<Vec<u8>> = [
            "articles.jsonl",
            "duplicates.jsonl",
            "deduped.jsonl",
            "rejects.jsonl",
        ]
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
        results.push((threads, files, summary));
    }
    let (_, first_files, first_summary) = &results[0];
    for (threads, files, summary) in &results[1..] {
        for (name, (a, b)) in ["articles", "duplicates", "deduped", "rejects"]
            .iter()
            .zip(first_files.iter().zip(files))
        {
            assert!(
                a == b,
                "{name}.jsonl differs between --threads 1 and {threads}"
            );
        }
        assert_eq!(
            first_summary, summary,
            "summary.json, --threads 1 and {threads}"
        );
    }
}

/// A corpus larger than two blocks of signatures (16,384 articles each) is signed with its
/// signatures and band keys spilled to the output directory: the outputs still do not depend
/// on the thread count, copies in different blocks are found, and the spill files leave
/// nothing behind.
#[test]
fn a_corpus_that_spills_signatures_gives_the_same_outputs_at_any_thread_count() {
    let mut rng = Rng(11);
    let vocabulary: Vec<String> = (0..3000).map(|i| format!("w{i}")).collect();
    let mut texts: Vec<String> = Vec::new();
    let mut corpus = String::new();
    let n = 2 * 16_384 + 1_000;
    for i in 0..n {
        let text = if i >= 20_000 && i % 100 == 0 {
            // A copy of an article 20,000 earlier, in another block, one word changed.
            let mut words: Vec<&str> = texts[i - 20_000].split(' ').collect();
            words[7] = "changed";
            words.join(" ")
        } else {
            (0..80)
                .map(|_| vocabulary[rng.below(vocabulary.len())].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        corpus.push_str(&jline(json!({"id": format!("a{i}"), "text": text})));
        corpus.push('\n');
        texts.push(text);
    }
    let dir = tempdir();
    let input = write(dir.path(), "corpus.jsonl", &corpus);
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("out-{threads}"));
        let run = dedup(
            &[path_str(&input)],
            &out,
            &["-q", "--threads", threads],
            None,
        );
        assert_eq!(run.code, 0, "--threads {threads}: {run:?}");
        let o = Outputs::read(&out);
        for i in (20_000..n).step_by(100) {
            let (copy, original) = (json!(format!("a{i}")), json!(format!("a{}", i - 20_000)));
            assert!(
                !o.article(&copy)["dup_cluster"].is_null()
                    && o.article(&copy)["dup_cluster"] == o.article(&original)["dup_cluster"],
                "--threads {threads}: {copy} copies {original}"
            );
        }
        assert_eq!(file_names(&out), outputs_set());
        outputs.push(
            ["articles.jsonl", "duplicates.jsonl", "deduped.jsonl"]
                .map(|f| std::fs::read(out.join(f)).unwrap()),
        );
    }
    assert!(
        outputs[0] == outputs[1],
        "outputs differ between --threads 1 and 2"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Atomic outputs
// ---------------------------------------------------------------------------------------------

#[test]
fn a_run_leaves_exactly_its_outputs_or_nothing() {
    let texts = distinct_texts(2);
    let good = lines(&[
        &jline(json!({"id": "a", "text": texts[0]})),
        &jline(json!({"id": "b", "text": texts[0]})),
        &jline(json!({"id": "c", "text": texts[1]})),
    ]);
    let bad = format!("{good}{{\"id\":\"d\"}}\n");
    let truncated = {
        let full = gzip(good.as_bytes());
        full[..full.len() / 2].to_vec()
    };
    // (case, file content or None for a missing file, on stdin, exit code); a run that exits 0
    // leaves exactly its seven outputs, any other leaves nothing.
    let cases: &[(&str, Option<&[u8]>, bool, i32)] = &[
        ("success", Some(good.as_bytes()), false, 0),
        ("success on stdin", Some(good.as_bytes()), true, 0),
        ("bad record", Some(bad.as_bytes()), false, 2),
        ("bad record on stdin", Some(bad.as_bytes()), true, 2),
        ("empty file", Some(b""), false, 2),
        ("truncated gzip", Some(&truncated), false, 3),
        ("missing input", None, false, 3),
    ];
    for (case, content, on_stdin, code) in cases {
        let dir = tempdir();
        let out = dir.path().join("out");
        let input = dir.path().join("in.jsonl");
        if let (Some(content), false) = (content, on_stdin) {
            std::fs::write(&input, content).unwrap();
        }
        let name = if *on_stdin { "-" } else { path_str(&input) };
        let run = dedup(&[name], &out, &["-q"], content.filter(|_| *on_stdin));
        assert_eq!(run.code, *code, "{case}: {run:?}");
        let files = if *code == 0 {
            outputs_set()
        } else {
            BTreeSet::new()
        };
        assert_eq!(
            file_names(&out),
            files,
            "{case}: files in the output directory"
        );
        if *code != 0 {
            assert!(run.stderr.contains(name), "{case}: {}", run.stderr);
        }
        if *case == "truncated gzip" {
            assert!(
                run.stderr.contains("gzip stream: ") && run.stderr.contains("cut short"),
                "{case}: {}",
                run.stderr
            );
        }
    }
}

/// A killed run leaves its temporary files (as large as the corpus); the next run into the
/// directory removes them and says so, and leaves every other file alone.
#[test]
fn the_next_run_removes_what_a_killed_run_left() {
    let dir = tempdir();
    let input = two_articles(dir.path());
    let out = dir.path().join("out");
    let left = [
        ".deduped.jsonl.Ab12Cd",
        ".storyhash-input-zz99ZZ",
        ".report.html.000000",
    ];
    let kept = [".deduped.jsonl.keep", "notes.txt", ".storyhash-input-mine"];
    for quiet in [false, true] {
        std::fs::create_dir_all(&out).unwrap();
        for name in left {
            std::fs::write(out.join(name), vec![b'x'; 250_000]).unwrap();
        }
        for name in kept {
            std::fs::write(out.join(name), "the user's").unwrap();
        }
        let flags: &[&str] = if quiet { &["-q"] } else { &[] };
        let run = dedup(&[path_str(&input)], &out, flags, None);
        assert_eq!(run.code, 0, "{run:?}");
        let mut expected = outputs_set();
        expected.extend(kept.map(String::from));
        assert_eq!(file_names(&out), expected, "quiet {quiet}");
        let note = "removed 3 temporary files an interrupted run left in";
        assert_eq!(run.stderr.contains(note), !quiet, "{}", run.stderr);
        if !quiet {
            assert!(
                run.stderr.contains(
                    "(750.0 kB): .deduped.jsonl.Ab12Cd, .report.html.000000, .storyhash-input-zz99ZZ"
                ),
                "{}",
                run.stderr
            );
        }
    }
}

/// A file named like a leftover that the run is given as its input (a killed run's spooled
/// standard input, fed to the next) is read, not removed.
#[test]
fn an_input_named_like_a_leftover_is_kept() {
    let dir = tempdir();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let spooled = write(
        &out,
        ".storyhash-input-AbC123",
        r#"{"id":"a","text":"one two three"}"#,
    );
    let other = write(&out, ".storyhash-input-XyZ789", "left by a killed run");
    let run = dedup(&[path_str(&spooled)], &out, &[], None);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(spooled.exists());
    assert!(!other.exists());
    assert!(
        run.stderr
            .contains("removed 1 temporary file an interrupted run left in")
            && run.stderr.contains("(20 bytes): .storyhash-input-XyZ789\n"),
        "{}",
        run.stderr
    );
}

/// A killed run's spooled input fed back on standard input, redirected or through a pipe that
/// opens it late, is read whole before the sweep removes it (the run spools it again).
#[test]
#[cfg(unix)]
fn a_spooled_input_fed_back_on_standard_input_is_read_before_it_goes() {
    let texts = distinct_texts(2);
    let corpus = lines(&[
        &jline(json!({"id": "a", "text": texts[0]})),
        &jline(json!({"id": "b", "text": texts[1]})),
    ]);
    let dir = tempdir();
    for (case, shell) in [
        ("redirect", "\"$BIN\" dedup - --out \"$OUT\" < \"$SPOOL\""),
        (
            "late pipe",
            "(sleep 0.3; cat \"$SPOOL\") | \"$BIN\" dedup - --out \"$OUT\"",
        ),
    ] {
        let out = dir.path().join(case.replace(' ', "-"));
        std::fs::create_dir_all(&out).unwrap();
        let spool = write(&out, ".storyhash-input-AbC123", &corpus);
        let output = std::process::Command::new("sh")
            .args(["-c", shell])
            .env("BIN", env!("CARGO_BIN_EXE_storyhash"))
            .env("OUT", &out)
            .env("SPOOL", &spool)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{case}: {stderr}");
        assert!(
            stderr.contains("2 articles accepted") && stderr.contains(".storyhash-input-AbC123"),
            "{case}: {stderr}"
        );
        assert_eq!(file_names(&out), outputs_set(), "{case}");
    }
}

/// A symbolic or hard link where the lock file goes (planted in a shared directory) is refused,
/// and the file it names is left as it was: for --out and for --index.
#[test]
#[cfg(unix)]
fn a_lock_file_that_is_a_symbolic_link_is_refused() {
    let dir = tempdir();
    let input = one_article(dir.path());
    let victim = write(dir.path(), "victim.txt", "precious");
    let out = dir.path().join("out");
    let index = dir.path().join("index");
    for (lock, flags) in [
        (out.join(".storyhash.lock"), vec![]),
        (index.join("LOCK"), vec!["--index", path_str(&index)]),
    ] {
        std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&victim, &lock).unwrap();
        let run = dedup(&[path_str(&input)], &out, &flags, None);
        assert_eq!(run.code, 3, "{flags:?}: {run:?}");
        assert!(
            run.stderr.contains("is a symbolic link, not a lock file"),
            "{flags:?}: {}",
            run.stderr
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        std::fs::remove_file(&lock).unwrap();
        // A hard link is another name for the file: refused as well.
        std::fs::hard_link(&victim, &lock).unwrap();
        let run = dedup(&[path_str(&input)], &out, &flags, None);
        assert_eq!(run.code, 3, "{flags:?}: {run:?}");
        assert!(
            run.stderr
                .contains("is a hard link to another file, not a lock file"),
            "{flags:?}: {}",
            run.stderr
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        std::fs::remove_file(&lock).unwrap();
    }
}

/// Two runs into one directory: the second is refused before it reads anything, naming the
/// holder, and the directory is left as it was.
#[test]
fn a_second_run_into_a_busy_directory_is_refused() {
    let dir = tempdir();
    let input = one_article(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(".deduped.jsonl.Ab12Cd"), "the other run's").unwrap();
    // This test process stands in for the other storyhash.
    let lock = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(out.join(".storyhash.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    std::fs::write(
        out.join(".storyhash.lock"),
        "pid 4242 since 2026-11-27T00:00:00Z\n",
    )
    .unwrap();
    for command in ["dedup", "run"] {
        let run = exec(&[command, path_str(&input), "--out", path_str(&out)], None);
        assert_eq!(run.code, 3, "{command}: {run:?}");
        assert!(
            run.stderr
                .contains("another storyhash is writing into this directory (pid 4242 since"),
            "{command}: {}",
            run.stderr
        );
        assert_eq!(
            file_names(&out),
            BTreeSet::from([".deduped.jsonl.Ab12Cd".into(), ".storyhash.lock".into()]),
            "{command}"
        );
    }
    drop(lock);
    let run = dedup(&[path_str(&input)], &out, &["-q"], None);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
#[cfg(unix)]
fn outputs_get_ordinary_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let input = one_article(dir.path());
    let out = dir.path().join("out");
    let run = dedup(&[path_str(&input)], &out, &["-q"], None);
    assert_eq!(run.code, 0, "{run:?}");
    // The mode any program gets for a new file under the umask this test runs with.
    let ordinary = std::fs::metadata(&input).unwrap().permissions().mode() & 0o777;
    for name in OUTPUTS {
        let mode = std::fs::metadata(out.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, ordinary, "{name}: mode {mode:o}, want {ordinary:o}");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Keep rules
// ---------------------------------------------------------------------------------------------

#[test]
fn keep_rules_and_preferred_sources_choose_the_kept_article() {
    let base = distinct_texts(2);
    let t = &base[0];
    // Same canonical text (punctuation is dropped); different dates, lengths and outlets.
    // d is earliest only once its offset is applied; b is longest in bytes, c in characters.
    let corpus = lines(&[
        &jline(json!({"id": "a", "source": "s1", "published": "2020-01-03", "text": t})),
        &jline(
            json!({"id": "b", "source": "s2", "published": "Wed, 01 Jan 2020 00:00:00 +0000",
            "text": format!("{t} ———")}),
        ),
        &jline(json!({"id": "c", "source": "s3", "text": format!("{t} !!!!!!")})),
        &jline(
            json!({"id": "d", "source": "s4", "published": "2020-01-01T03:00:00+05:00",
            "text": format!("{t}!")}),
        ),
        &jline(json!({"id": "e", "source": "s1", "published": "2019-01-01", "text": base[1]})),
    ]);
    let cases: &[(&[&str], &str)] = &[
        (&[], "d"),
        (&["--keep", "earliest"], "d"),
        (&["--keep", "longest"], "c"),
        (&["--keep", "first"], "a"),
        (&["--keep", "earliest", "--prefer-source", "s3"], "c"),
        (&["--keep", "longest", "--prefer-source", "s2,s1"], "b"),
        (&["--keep", "first", "--prefer-source", "s9,s4"], "d"),
        // Spaces around a name, another case and an empty name do not matter.
        (&["--keep", "first", "--prefer-source", "S9, S4 ,"], "d"),
        (
            &[
                "--keep",
                "earliest",
                "--prefer-source",
                "s1",
                "--prefer-source",
                "s3",
            ],
            "a",
        ),
        (&["--keep", "first", "--split-chains"], "a"),
        (&["--split-chains"], "d"),
    ];
    let dir = tempdir();
    let input = write(dir.path(), "same.jsonl", &corpus);
    for (idx, (flags, kept)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("out-{idx}"));
        let mut args = vec!["-q"];
        args.extend_from_slice(flags);
        let run = dedup(&[path_str(&input)], &out, &args, None);
        assert_eq!(run.code, 0, "{flags:?}: {run:?}");
        let o = Outputs::read(&out);
        assert_eq!(o.duplicates.len(), 1, "{flags:?}");
        let cluster = &o.duplicates[0];
        assert_eq!(cluster["canonical"], json!(kept), "{flags:?}");
        let members: Vec<&Value> = cluster["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["id"])
            .collect();
        let mut expected = vec![json!(kept)];
        expected.extend(
            ["a", "b", "c", "d"]
                .iter()
                .filter(|&id| id != kept)
                .map(|id| json!(id)),
        );
        assert_eq!(members, expected.iter().collect::<Vec<_>>(), "{flags:?}");
        assert_eq!(
            o.article(&json!("e"))["dup_cluster"],
            Value::Null,
            "{flags:?}"
        );
        let deduped_ids: Vec<Value> = o
            .deduped_lines()
            .iter()
            .map(|l| serde_json::from_slice::<Value>(l).unwrap()["id"].clone())
            .collect();
        let mut want: Vec<Value> = vec![json!(kept), json!("e")];
        want.sort_by_key(|v| v.as_str().unwrap().to_string());
        assert_eq!(deduped_ids, want, "{flags:?}: kept lines in input order");
        let params = &o.summary["parameters"];
        assert_eq!(
            params["split_chains"],
            json!(flags.contains(&"--split-chains")),
            "{flags:?}"
        );
        // A preferred outlet no article is from is named, in the warnings and in report.md.
        let unseen = flags.iter().any(|f| f.to_lowercase().contains("s9"));
        assert_eq!(
            run.stderr
                .contains("no article of this run is from that outlet"),
            unseen,
            "{flags:?}: {}",
            run.stderr
        );
        if flags.contains(&"S9, S4 ,") {
            assert_eq!(params["prefer_sources"], json!(["S9", "S4"]));
            assert!(run.stderr.contains("--prefer-source S9: no article"));
            let md = std::fs::read_to_string(out.join("report.md")).unwrap();
            assert!(md.contains("outlets S9 (no article), S4 first"), "{md}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Usage errors, help, missing inputs, --quiet
// ---------------------------------------------------------------------------------------------

/// An input that is one of the outputs (under any name) is refused before anything is written:
/// the run would rename its output over it, and the corpus would be gone.
#[test]
fn an_input_that_is_an_output_is_refused_and_kept() {
    let dir = tempdir();
    let corpus = std::fs::read(repo_dir().join("data/sample.jsonl")).unwrap();
    for (command, output) in [
        ("dedup", "articles.jsonl"),
        ("dedup", "deduped.jsonl"),
        ("run", "stories.jsonl"),
    ] {
        let out = dir.path().join(format!("{command}-{output}"));
        std::fs::create_dir(&out).unwrap();
        let input = write(&out, output, &corpus);
        // Through another name of the same file too.
        let link = out.join("corpus.jsonl");
        std::fs::hard_link(&input, &link).unwrap();
        for given in [&input, &link] {
            let run = exec(&[command, path_str(given), "--out", path_str(&out)], None);
            assert_eq!(run.code, 1, "{command} {output}: {run:?}");
            assert!(
                run.stderr.contains("an output this run replaces"),
                "{}",
                run.stderr
            );
            assert_eq!(
                std::fs::read(&input).unwrap(),
                corpus,
                "{output} was replaced"
            );
            let expected: BTreeSet<String> = [".storyhash.lock", "corpus.jsonl", output]
                .iter()
                .map(|s| s.to_string())
                .collect();
            assert_eq!(file_names(&out), expected);
        }
        // Standard input redirected from it.
        let done = storyhash()
            .args([command, "-", "--out", path_str(&out), "-q"])
            .stdin(std::fs::File::open(&input).unwrap())
            .output()
            .unwrap();
        assert_eq!(done.status.code(), Some(1), "{command} {output} on stdin");
        assert!(String::from_utf8_lossy(&done.stderr).contains("input standard input is"));
        assert_eq!(
            std::fs::read(&input).unwrap(),
            corpus,
            "{output} was replaced"
        );
    }
    // A symbolic link at an output's name is replaced, not the file it points to: no refusal.
    let out = dir.path().join("linked");
    std::fs::create_dir(&out).unwrap();
    let corpus_file = write(dir.path(), "corpus.jsonl", &corpus);
    std::os::unix::fs::symlink(&corpus_file, out.join("deduped.jsonl")).unwrap();
    let run = exec(
        &[
            "dedup",
            path_str(&corpus_file),
            "--out",
            path_str(&out),
            "-q",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read(&corpus_file).unwrap(), corpus);
}

/// Flags that need another, or that clash, are usage errors; standard input is named in words.
#[test]
fn index_flags_need_an_index_of_their_own_and_stdin_is_named() {
    let dir = tempdir();
    let input = one_article(dir.path());
    let out = dir.path().join("out");
    let run = exec(
        &[
            "run",
            path_str(&input),
            "--out",
            path_str(&out),
            "--story-link-threshold",
            "0.2",
        ],
        None,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("--index"), "{}", run.stderr);
    let run = dedup(
        &[path_str(&input)],
        &out,
        &["--index", path_str(&out)],
        None,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("are one directory"), "{}", run.stderr);
    assert!(!out.exists());
    let corpus = std::fs::read(&input).unwrap();
    let run = dedup(&["-"], &out, &["-q"], Some(&corpus));
    assert_eq!(run.code, 0, "{run:?}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<title>storyhash report: standard input</title>"));
}

/// One file given twice, by one name or two, is refused (each of its ids would be a duplicate
/// of itself).
#[test]
fn one_file_given_twice_is_refused() {
    let dir = tempdir();
    let input = one_article(dir.path());
    let link = dir.path().join("link.jsonl");
    std::fs::hard_link(&input, &link).unwrap();
    for second in [&input, &link] {
        let out = dir.path().join("out");
        let run = dedup(&[path_str(&input), path_str(second)], &out, &[], None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains("is the same file as input"),
            "{}",
            run.stderr
        );
        assert!(!out.exists());
    }
    // Standard input redirected from it.
    let out = dir.path().join("out");
    let done = storyhash()
        .args([
            "dedup",
            path_str(&input),
            "-",
            "--out",
            path_str(&out),
            "--skip-invalid",
        ])
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&done.stderr).contains("input standard input is the same file")
    );
}

/// The story weights are checked as typed: a value a 32-bit float cannot hold is refused with
/// the text given (it was refused as `inf` or `0`, after the conversion).
#[test]
fn story_weights_are_checked_as_typed() {
    let dir = tempdir();
    let input = one_article(dir.path());
    for (flag, value, ok) in [
        ("--title-weight", "1e308", false),
        ("--entity-weight", "1e-300", false),
        ("--entity-weight", "0", false),
        ("--title-weight", "-2", false),
        ("--title-weight", "NaN", false),
        ("--title-weight", "heavy", false),
        ("--title-weight", "3e38", false),
        ("--entity-weight", "1e-7", false),
        ("--title-weight", "1000000", true),
        ("--title-weight", "3", true),
        ("--entity-weight", "1e-3", true),
    ] {
        let out = dir.path().join(format!("out{flag}{value}"));
        let arg = format!("{flag}={value}");
        let run = exec(
            &["run", path_str(&input), "--out", path_str(&out), "-q", &arg],
            None,
        );
        if ok {
            assert_eq!(run.code, 0, "{arg}: {run:?}");
        } else {
            assert_eq!(run.code, 1, "{arg}: {run:?}");
            assert!(
                run.stderr
                    .contains(&format!("invalid value '{value}' for '{flag}"))
                    && run.stderr.contains("must be a positive number"),
                "{arg}: {}",
                run.stderr
            );
            assert!(!out.exists(), "{arg}");
        }
    }
}

#[test]
fn usage_errors_exit_1_before_anything_is_written() {
    // (flags after the input, stderr substring); {out} is added unless the case drops it.
    let cases: &[(&[&str], &str)] = &[
        (&["--threshold", "0"], "threshold"),
        (&["--threshold", "1.5"], "threshold"),
        (&["--threshold=-0.5"], "threshold"),
        // A negative number after a space is the flag's value, checked as such (clap took it
        // for a flag of its own: "unexpected argument '-0' found").
        (
            &["--threshold", "-0.5"],
            "threshold must be in (0, 1], got -0.5",
        ),
        (
            &["--ngram", "-3"],
            "invalid value '-3' for '--ngram <NGRAM>'",
        ),
        (&["--threshold", "NaN"], "threshold"),
        (&["--num-perm", "0"], "num-perm"),
        (&["--num-perm", "5000"], "num-perm"),
        (&["--ngram", "0"], "ngram"),
        (&["--bands", "4"], "--rows"),
        (&["--rows", "4"], "--bands"),
        (&["--bands", "100", "--rows", "100"], "bands × rows"),
        (&["--bands", "0", "--rows", "4"], "bands × rows"),
        (&["--threads", "0"], "threads"),
        (&["--threads", "100000"], "between 1 and 256"),
        (&["--keep", "latest"], "latest"),
        (&["--boilerplate-min-docs", "1"], "boilerplate-min-docs"),
        (&["--boilerplate-min-docs", "9"], "boilerplate-min-docs"),
        (&["--no-such-flag"], "--no-such-flag"),
        (
            &["--id-field", "text"],
            "--id-field and --text-field both name the field `text`",
        ),
        (
            &["--source-field", "url"],
            "--source-field and --url-field both name the field `url`",
        ),
        (
            &["--id-field", ""],
            "--id-field is empty: it must name a field",
        ),
        (
            &["--url-field="],
            "--url-field is empty: it must name a field",
        ),
        (
            &["--prefer-source", " , "],
            "--prefer-source names no outlet",
        ),
        (&["--prefer-source="], "--prefer-source names no outlet"),
        // A flag of `run` is said to be one, not matched to the nearest flag of `dedup`.
        (
            &["--story-threshold", "0.2"],
            "--story-threshold is a flag of `storyhash run`",
        ),
        (
            &["--window-days=3"],
            "--window-days is a flag of `storyhash run`",
        ),
    ];
    let dir = tempdir();
    let input = one_article(dir.path());
    let input = path_str(&input);
    for (idx, (flags, message)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("out-{idx}"));
        let run = dedup(&[input], &out, flags, None);
        assert_eq!(run.code, 1, "{flags:?}: {run:?}");
        assert!(run.stderr.contains(message), "{flags:?}: {}", run.stderr);
        assert!(!out.exists(), "{flags:?}: the output directory was made");
    }
    // --out naming a file: said in words, the file left as it was, and a new index not made.
    let file_out = write(dir.path(), "not-a-dir", "keep me");
    let index = dir.path().join("new-index");
    for command in ["dedup", "run"] {
        let run = exec(
            &[
                command,
                input,
                "--out",
                path_str(&file_out),
                "--index",
                path_str(&index),
            ],
            None,
        );
        assert_eq!(run.code, 1, "{command}: {run:?}");
        assert!(
            run.stderr.contains("not-a-dir: is not a directory"),
            "{command}: {}",
            run.stderr
        );
        assert_eq!(std::fs::read_to_string(&file_out).unwrap(), "keep me");
        assert!(!index.exists(), "{command}: the index was made");
        // --index naming a file: the same usage error, the file left as it was.
        let out = dir.path().join(format!("out-{command}"));
        let run = exec(
            &[
                command,
                input,
                "--out",
                path_str(&out),
                "--index",
                path_str(&file_out),
            ],
            None,
        );
        assert_eq!(run.code, 1, "{command} --index FILE: {run:?}");
        assert!(!out.exists(), "{command}: the output directory was made");
        assert!(
            run.stderr.contains("--index") && run.stderr.contains("not-a-dir: is not a directory"),
            "{command}: {}",
            run.stderr
        );
        assert_eq!(std::fs::read_to_string(&file_out).unwrap(), "keep me");
    }
    let out = dir.path().join("out-stdin");
    let run = dedup(&["-", input, "-"], &out, &[], Some(b""));
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("standard input"), "{}", run.stderr);
    // Usage errors without the usual shape.
    let other: &[(&[&str], &str)] = &[
        (&["dedup", input], "--out"),
        (&["dedup", "--out", "somewhere"], "INPUT"),
        (&[], "Usage"),
        (&["frobnicate"], "frobnicate"),
    ];
    for (args, message) in other {
        let run = exec(args, None);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn help_and_version_exit_0() {
    let run = exec(&["dedup", "--help"], None);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Example"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("storyhash dedup data/sample.jsonl --out out/"),
        "{}",
        run.stdout
    );
    for args in [&["--help"][..], &["help", "dedup"], &["--version"]] {
        let run = exec(args, None);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        assert!(run.stdout.contains("storyhash"), "{args:?}: {}", run.stdout);
    }
}

/// The subcommands `storyhash --help` lists (without `help`).
fn subcommands() -> Vec<String> {
    let run = exec(&["--help"], None);
    assert_eq!(run.code, 0, "{run:?}");
    run.stdout
        .lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|&name| name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let commands = subcommands();
    for expected in ["dedup", "params"] {
        assert!(commands.iter().any(|c| c == expected), "{commands:?}");
    }
    for command in &commands {
        for args in [&[command.as_str(), "--help"][..], &["help", command]] {
            let run = exec(args, None);
            assert_eq!(run.code, 0, "{args:?}: {run:?}");
            assert_eq!(run.stderr, "", "{args:?}");
            assert!(run.stdout.contains("Example"), "{args:?}:\n{}", run.stdout);
            assert!(
                run.stdout.contains(&format!("storyhash {command} ")),
                "{args:?}: the example runs the command:\n{}",
                run.stdout
            );
        }
    }
}

/// One `--flag` as a subcommand's help shows it.
#[derive(Debug, Clone, PartialEq)]
struct FlagHelp {
    short: Option<char>,
    value_name: Option<String>,
    default: Option<String>,
}

/// The long flags of `storyhash COMMAND --help`, by name.
fn flags_of(command: &str) -> std::collections::BTreeMap<String, FlagHelp> {
    let run = exec(&[command, "--help"], None);
    assert_eq!(run.code, 0, "{run:?}");
    let mut flags = std::collections::BTreeMap::new();
    let mut current: Option<(String, FlagHelp)> = None;
    let mut block = String::new();
    let mut finish = |current: &mut Option<(String, FlagHelp)>, block: &mut String| {
        if let Some((name, mut flag)) = current.take() {
            flag.default = block
                .split_once("[default: ")
                .and_then(|(_, rest)| rest.split_once(']'))
                .map(|(value, _)| value.to_string());
            flags.insert(name, flag);
        }
        block.clear();
    };
    for line in run.stdout.lines() {
        let trimmed = line.trim_start();
        // `-q, --quiet`, `--out <DIR>`; not the `- value:` lines of possible values.
        let (short, rest) = match trimmed.as_bytes() {
            [b'-', c, b',', b' ', ..] if c.is_ascii_alphabetic() => {
                (Some(*c as char), &trimmed[4..])
            }
            _ => (None, trimmed),
        };
        if line.starts_with(' ') && rest.starts_with("--") {
            finish(&mut current, &mut block);
            let mut words = rest.split_whitespace();
            let name = words.next().unwrap().to_string();
            let value_name = words
                .next()
                .filter(|w| w.starts_with('<'))
                .map(str::to_string);
            current = Some((
                name,
                FlagHelp {
                    short,
                    value_name,
                    default: None,
                },
            ));
            block.push_str(rest);
        } else if !line.is_empty() && !line.starts_with(' ') {
            finish(&mut current, &mut block);
        } else {
            block.push(' ');
            block.push_str(trimmed);
        }
    }
    finish(&mut current, &mut block);
    flags
}

#[test]
fn flags_are_named_the_same_way_everywhere() {
    // Names other tools use for what storyhash calls --out, --num-perm, --threshold, ...
    let synonyms = [
        "--output",
        "--output-dir",
        "--out-dir",
        "--outdir",
        "--num-perms",
        "--num-permutations",
        "--permutations",
        "--perms",
        "--nperm",
        "--thresh",
        "--jaccard",
        "--band",
        "--row",
        "--n-bands",
        "--num-bands",
        "--thread",
        "--jobs",
        "--silent",
        "--ngrams",
        "--n-gram",
        "--id-key",
        "--idfield",
        "--format",
    ];
    // The help parser reads what clap prints.
    let dedup = flags_of("dedup");
    assert_eq!(
        dedup["--threshold"],
        FlagHelp {
            short: None,
            value_name: Some("<THRESHOLD>".into()),
            default: Some("0.8".into())
        }
    );
    assert_eq!(dedup["--quiet"].short, Some('q'));
    assert_eq!(dedup["--out"].value_name.as_deref(), Some("<DIR>"));
    let mut seen: std::collections::BTreeMap<String, (String, FlagHelp)> = Default::default();
    for command in subcommands() {
        let flags = flags_of(&command);
        assert!(flags.contains_key("--help"), "{command}: {flags:?}");
        for (name, flag) in flags {
            let word = name.trim_start_matches("--");
            assert!(
                !word.is_empty()
                    && word.split('-').all(|part| !part.is_empty()
                        && part
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
                "{command} {name}: flags are lowercase kebab-case"
            );
            assert!(
                !synonyms.contains(&name.as_str()),
                "{command} {name}: use the name the other commands use"
            );
            // A flag shared by two commands means the same there: same value name, default
            // and short form.
            match seen.get(&name) {
                Some((first, earlier)) => assert_eq!(
                    &flag, earlier,
                    "{name} differs between `{first}` and `{command}`"
                ),
                None => {
                    seen.insert(name, (command.clone(), flag));
                }
            }
        }
    }
    for shared in [
        "--threshold",
        "--num-perm",
        "--bands",
        "--rows",
        "--out",
        "--quiet",
    ] {
        assert!(
            seen.contains_key(shared),
            "{shared} in no command: {seen:?}"
        );
    }
}

#[test]
fn a_missing_input_exits_3_naming_it() {
    let dir = tempdir();
    let good = write(
        dir.path(),
        "good.jsonl",
        r#"{"id":"a","text":"one two three"}"#,
    );
    let missing = dir.path().join("no-such-file.jsonl");
    for inputs in [
        vec![path_str(&missing)],
        vec![path_str(&good), path_str(&missing)],
    ] {
        let out = dir.path().join("out");
        let run = dedup(&inputs, &out, &["-q"], None);
        assert_eq!(run.code, 3, "{inputs:?}: {run:?}");
        assert!(
            run.stderr
                .starts_with(&format!("storyhash: {}: ", path_str(&missing))),
            "{}",
            run.stderr
        );
        assert_eq!(file_names(&out), BTreeSet::new());
    }
}

#[test]
fn quiet_silences_the_closing_summary() {
    let dir = tempdir();
    let input = one_article(dir.path());
    for (flags, silent) in [(&["-q"][..], true), (&["--quiet"], true), (&[], false)] {
        let out = dir.path().join("out");
        let run = dedup(&[path_str(&input)], &out, flags, None);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.stdout, "", "{flags:?}");
        if silent {
            assert_eq!(run.stderr, "", "{flags:?}");
        } else {
            assert!(
                run.stderr.contains(
                    "1 article accepted, 0 lines or files rejected; 0 near-duplicate clusters, \
                     0 duplicates removed (0.0%)"
                ),
                "{}",
                run.stderr
            );
        }
    }
}

/// A pipe given by name (here /dev/stdin, as `<(zcat x.gz)` would be) cannot be read twice:
/// it is spooled like `-`, and the outputs equal those of the file itself.
#[test]
#[cfg(unix)]
fn a_named_pipe_reads_like_a_file() {
    let sample = crate::common::repo_dir().join("data/sample.jsonl");
    let bytes = std::fs::read(&sample).unwrap();
    let (from_pipe, from_file) = (tempdir(), tempdir());
    let piped = crate::common::run(
        &[
            "dedup",
            "/dev/stdin",
            "--out",
            from_pipe.path().to_str().unwrap(),
            "-q",
        ],
        Some(&bytes),
    );
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let direct = crate::common::run(
        &[
            "dedup",
            sample.to_str().unwrap(),
            "--out",
            from_file.path().to_str().unwrap(),
            "-q",
        ],
        None,
    );
    assert!(direct.status.success());
    for file in [
        "articles.jsonl",
        "duplicates.jsonl",
        "deduped.jsonl",
        "rejects.jsonl",
    ] {
        let a = std::fs::read(from_pipe.path().join(file)).unwrap();
        let b = std::fs::read(from_file.path().join(file)).unwrap();
        assert!(a == b, "{file} differs between the pipe and the file");
    }
}

/// A failed run leaves no empty --out directory it made itself, and never removes one that
/// was there before.
#[test]
fn a_failed_run_removes_the_empty_out_directory_it_made() {
    let dir = tempdir();
    let fresh = dir.path().join("fresh-out");
    let out = run(
        &[
            "dedup",
            dir.path().join("missing.jsonl").to_str().unwrap(),
            "--out",
            fresh.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(!fresh.exists(), "the empty directory the run made is gone");
    let kept = dir.path().join("kept-out");
    std::fs::create_dir(&kept).unwrap();
    let out = run(
        &[
            "dedup",
            dir.path().join("missing.jsonl").to_str().unwrap(),
            "--out",
            kept.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(kept.exists(), "a directory that was there stays");
}

/// Chinese and Japanese, written without spaces, are near-duplicates when one character changes
/// here and there: each Han and kana character is a word. (A whole sentence was one word, and
/// such pairs shared almost no shingle.)
#[test]
fn chinese_and_japanese_near_duplicates_are_found() {
    let zh = "国家统计局周四公布的数据显示，今年前三个季度国内生产总值同比增长百分之五点二，\
              高于市场预期。分析人士表示，消费和投资的回升推动了经济增长，但房地产市场仍然低迷，\
              出口面临外部需求放缓的压力。央行官员在周四的新闻发布会上表示，将继续实施稳健的\
              货币政策，保持流动性合理充裕。";
    let ja = "日本銀行は木曜日、金融政策決定会合で短期金利を据え置くことを決めた。植田総裁は\
              記者会見で、物価の見通しには不確実性が高いと述べ、賃金の動向を注視する考えを\
              示した。市場では年内の追加利上げを予想する声が多い。";
    let other =
        "欧洲中央银行周四宣布维持利率不变，行长在记者会上表示通胀压力有所缓解，但仍需保持谨慎。";
    let input = [
        jline(json!({"id": "zh", "text": zh})),
        jline(json!({"id": "zh-edited", "text": zh.replace("周四", "周五")})),
        jline(json!({"id": "ja", "text": ja})),
        jline(json!({"id": "ja-edited", "text": ja.replace("木曜日", "金曜日")})),
        jline(json!({"id": "other", "text": other})),
    ]
    .join("\n");
    let dir = tempdir();
    let path = write(dir.path(), "in.jsonl", input.as_bytes());
    let out = dir.path().join("out");
    let run = dedup(&[path_str(&path)], &out, &["-q"], None);
    assert_eq!(run.code, 0, "{run:?}");
    let o = Outputs::read(&out);
    assert_eq!(o.duplicates.len(), 2);
    assert_eq!(o.article(&json!("zh-edited"))["duplicate_of"], json!("zh"));
    assert_eq!(o.article(&json!("ja-edited"))["duplicate_of"], json!("ja"));
    assert_eq!(o.article(&json!("other"))["dup_cluster"], Value::Null);
}

// ---------------------------------------------------------------------------------------------
// Boilerplate: what is removed must be removed from every copy alike
// ---------------------------------------------------------------------------------------------

/// Six articles of one outlet with the same footer, and a copy of the first under another
/// outlet: the footer is learned from the first outlet's articles.
fn outlet_footer_corpus() -> (Vec<String>, String) {
    let footer = "This newsletter is sponsored by Example Corp and you can unsubscribe at any time by writing to us today.";
    let texts = distinct_texts(6);
    let lines: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            jline(json!({"id": format!("a{i}"), "source": "outlet-a", "text": format!("{t}.\n\n{footer}")}))
        })
        .collect();
    let copy = jline(
        json!({"id": "copy", "source": "outlet-b", "text": format!("{}.\n\n{footer}", texts[0])}),
    );
    (lines, copy)
}

#[test]
fn a_line_learned_from_one_outlet_leaves_every_copy() {
    let dir = tempdir();
    let (mut lines, copy) = outlet_footer_corpus();
    lines.push(copy);
    let input = write(dir.path(), "in.jsonl", lines.join("\n"));
    let out = dir.path().join("out");
    let o = dedup(&[path_str(&input)], &out, &["-q"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(
        summary["stats"]["learned_boilerplate_lines"], 1,
        "{summary}"
    );
    // The two texts are byte-identical: they must be one cluster at similarity 1.
    let articles = read_jsonl(&out.join("articles.jsonl"));
    let copy = articles.iter().find(|a| a["id"] == "copy").unwrap();
    assert_eq!(copy["duplicate_of"], "a0", "{copy:?}");
    assert_eq!(copy["similarity"], 1.0);
    assert_eq!(summary["duplicates_removed"], 1);
}

/// An article of short paragraphs (every line under 200 bytes, so none is too long to be
/// learned) drawn with `seed`, and `copies` copies of it, each made by `edit(copy, lines)`.
fn short_paragraph_copies(
    seed: u64,
    copies: usize,
    mut edit: impl FnMut(usize, &mut Vec<String>),
) -> Vec<String> {
    let vocab = seed_words();
    let mut rng = Rng(seed);
    let article: Vec<String> = (0..10)
        .map(|_| random_words(&mut rng, &vocab, 14).join(" ") + ".")
        .collect();
    assert!(article.iter().all(|l| l.len() < 200));
    (0..copies)
        .map(|c| {
            let mut lines = article.clone();
            edit(c, &mut lines);
            lines.join("\n")
        })
        .collect()
}

/// Re-scrapes of one article by its outlet, each with a different line edited, and copies
/// without an outlet that each add their own line: the shared lines are the article, not
/// boilerplate, and the copies are found (the learner alone took them for five or more
/// different articles, learned every shared line and left the copies nothing in common).
#[test]
fn the_lines_of_copies_of_one_article_are_not_learned() {
    let dir = tempdir();
    let others = distinct_texts(6);
    // Three articles: the copies of each agree on about 0.81 to 0.87 of their slots.
    for seed in [41, 42, 43] {
        let rescrapes = short_paragraph_copies(seed, 7, |c, lines| lines[c].push_str(" (updated)"));
        let syndicated = short_paragraph_copies(seed, 6, |c, lines| {
            lines.push(format!(
                "Paper number {c} staff contributed to this report."
            ))
        });
        for (name, texts, source) in [
            (
                format!("rescrapes-{seed}"),
                &rescrapes,
                Some("paper.example"),
            ),
            (format!("syndicated-{seed}"), &syndicated, None),
        ] {
            let mut lines: Vec<String> = others
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    jline(json!({"id": format!("other{i}"), "source": source, "text": t}))
                })
                .collect();
            for (i, t) in texts.iter().enumerate() {
                lines.push(jline(
                    json!({"id": format!("copy{i}"), "source": source, "text": t}),
                ));
            }
            let input = write(dir.path(), &format!("{name}.jsonl"), lines.join("\n"));
            let out = dir.path().join(&name);
            let o = dedup(&[path_str(&input)], &out, &["-q"], None);
            assert_eq!(o.code, 0, "{}", o.stderr);
            let summary = read_json(&out.join("summary.json"));
            assert_eq!(
                summary["stats"]["learned_boilerplate_lines"], 0,
                "{name}: {summary}"
            );
            assert!(
                summary["stats"]["copy_lines_not_learned"].as_u64().unwrap() >= 9,
                "{name}: {summary}"
            );
            assert_eq!(
                summary["duplicates_removed"],
                texts.len() - 1,
                "{name}: {summary}"
            );
            let report = std::fs::read_to_string(out.join("report.md")).unwrap();
            assert!(
                report.contains("0 lines learned (lines in 5 or more articles of one outlet; 1"),
                "{report}"
            );
            let articles = read_jsonl(&out.join("articles.jsonl"));
            for a in articles.iter().filter(|a| a["id"] != "copy0") {
                let is_copy = a["id"].as_str().unwrap().starts_with("copy");
                assert_eq!(a["duplicate_of"] == "copy0", is_copy, "{name}: {a:?}");
            }
        }
    }
}

/// The other side of the copies check: short articles of one outlet whose shared footer is
/// two thirds of their text are different articles, and the footer is learned (a check that
/// took articles agreeing on half their slots for copies kept it). Articles whose shared lines
/// make them near-duplicates at the run's threshold keep those lines, as re-scrapes do. And a line of
/// re-scraped copies that other outlets' articles also quote is not learned: copies count per
/// outlet, as the learner counts.
#[test]
fn footers_of_short_articles_are_learned_and_copies_count_per_outlet() {
    let dir = tempdir();
    let vocab = seed_words();
    let mut rng = Rng(77);
    let mut sentence = |n: usize| random_words(&mut rng, &vocab, n).join(" ") + ".";
    // The footer is two thirds of each text: 60 words to the body's 30.
    let footer: Vec<String> = (0..5).map(|_| sentence(12)).collect();
    let lines: Vec<String> = (0..6)
        .map(|i| {
            let text = format!("{}\n{}", sentence(30), footer.join("\n"));
            jline(json!({"id": format!("f{i}"), "source": "ledger.example", "text": text}))
        })
        .collect();
    let input = write(dir.path(), "footers.jsonl", lines.join("\n"));
    let out = dir.path().join("footers");
    let o = dedup(&[path_str(&input)], &out, &["-q"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(
        summary["stats"]["learned_boilerplate_lines"], 5,
        "{summary}"
    );
    assert_eq!(summary["stats"]["copy_lines_not_learned"], 0, "{summary}");
    assert_eq!(summary["duplicates_removed"], 0, "{summary}");

    // Five re-scrapes at one outlet, each with its own staff line; their quote line is also in
    // four articles of four other outlets.
    let quote = "\"We will rebuild the harbour before winter,\" the mayor told reporters.";
    let rescrapes = short_paragraph_copies(41, 5, |c, lines| {
        lines[3] = quote.to_string();
        lines.push(format!(
            "Staff writer number {c} contributed to this report."
        ));
    });
    let mut lines: Vec<String> = rescrapes
        .iter()
        .enumerate()
        .map(|(i, t)| jline(json!({"id": format!("r{i}"), "source": "a.example", "text": t})))
        .collect();
    for (i, t) in distinct_texts(4).iter().enumerate() {
        let text = format!("{t}\n{quote}");
        let source = format!("outlet{i}.example");
        lines.push(jline(
            json!({"id": format!("q{i}"), "source": source, "text": text}),
        ));
    }
    let input = write(dir.path(), "quoted.jsonl", lines.join("\n"));
    let out = dir.path().join("quoted");
    let o = dedup(&[path_str(&input)], &out, &["-q"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(
        summary["stats"]["learned_boilerplate_lines"], 0,
        "{summary}"
    );
    assert_eq!(summary["duplicates_removed"], 4, "{summary}");
}

#[test]
fn a_headline_that_reads_as_boilerplate_is_still_deduplicated() {
    let dir = tempdir();
    // Headlines that open as a photo credit or a copyright notice do.
    let texts = [
        "PHOTO: First Full Look At CW's 'The",
        "Copyright row over Led Zeppelin classic Stairway to Heaven",
    ];
    let mut lines = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        for copy in 0..2 {
            lines.push(jline(
                json!({"id": format!("t{i}-{copy}"), "title": t, "text": t}),
            ));
        }
    }
    let input = write(dir.path(), "in.jsonl", lines.join("\n"));
    // Read as headlines (--text-field title), every word counts when the rules leave none.
    let out = dir.path().join("title");
    let o = dedup(
        &[path_str(&input)],
        &out,
        &["-q", "--text-field", "title"],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let articles = read_jsonl(&out.join("articles.jsonl"));
    for i in 0..texts.len() {
        let second = articles
            .iter()
            .find(|a| a["id"] == format!("t{i}-1").as_str())
            .unwrap();
        assert_eq!(
            second["duplicate_of"],
            format!("t{i}-0").as_str(),
            "{second:?}"
        );
    }
    assert_eq!(
        read_json(&out.join("summary.json"))["stats"]["no_shingles"],
        0
    );
    // Read as bodies, a text that is all boilerplate is a scrape that failed: never compared,
    // and said so, since such texts of different articles are alike.
    let out = dir.path().join("text");
    let o = dedup(&[path_str(&input)], &out, &[], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains("4 of 4 articles have no words"),
        "{}",
        o.stderr
    );
    // Before the closing summary, which is the last line, where it cannot be missed.
    let last = o.stderr.lines().last().unwrap_or("");
    assert!(
        last.contains(" accepted, ") && last.contains(" wrote "),
        "{}",
        o.stderr
    );
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["duplicates_removed"], 0, "{summary}");
}

/// The link can be the id (`--id-field url`): both roles read the one field.
#[test]
fn the_link_can_be_the_id() {
    let dir = tempdir();
    let texts = distinct_texts(2);
    let input = write(
        dir.path(),
        "in.jsonl",
        lines(&[
            &jline(json!({"url": "https://a.example/1", "text": texts[0]})),
            &jline(json!({"url": "https://b.example/1", "text": texts[0]})),
            &jline(json!({"url": "https://c.example/1", "text": texts[1]})),
        ]),
    );
    let out = dir.path().join("out");
    let o = dedup(
        &[path_str(&input)],
        &out,
        &["-q", "--id-field", "url"],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let articles = read_jsonl(&out.join("articles.jsonl"));
    assert_eq!(articles[1]["id"], "https://b.example/1");
    assert_eq!(articles[1]["duplicate_of"], "https://a.example/1");
    // report.html links the articles by that field.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("href=\"https://a.example/1\""),
        "no link in report.html"
    );
}

/// Articles whose scraped text is only a cookie wall or a share widget are different articles
/// whose scrapes failed alike: all are kept, none is taken for a copy of another.
#[test]
fn texts_that_are_all_furniture_are_never_taken_for_copies() {
    let dir = tempdir();
    let cookie = "We use cookies to personalise content and ads. By continuing to use this site you agree to our use of cookies.";
    let widget = "Share this:\nFacebook\nTwitter\nEmail";
    let lines: Vec<String> = (0..6)
        .map(|i| {
            let text = if i < 4 { cookie } else { widget };
            jline(json!({"id": format!("a{i}"), "title": format!("Story number {i}"), "source": format!("s{i}"), "text": text}))
        })
        .collect();
    let input = write(dir.path(), "in.jsonl", lines.join("\n"));
    let out = dir.path().join("out");
    let o = dedup(&[path_str(&input)], &out, &[], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["duplicates_removed"], 0, "{summary}");
    assert_eq!(summary["stats"]["no_shingles"], 6, "{summary}");
    assert!(
        o.stderr.contains("6 of 6 articles have no words"),
        "{}",
        o.stderr
    );
    // They have text: no hint to read the headlines instead.
    assert!(!o.stderr.contains("--text-field title"), "{}", o.stderr);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.contains("--text-field title"), "{md}");
    let deduped = std::fs::read_to_string(out.join("deduped.jsonl")).unwrap();
    assert_eq!(deduped.lines().count(), 6);
}

/// A run that fails while writing leaves the outputs of the run before it, all of them: never
/// some files from each run side by side.
#[test]
fn a_failed_run_leaves_the_previous_outputs_whole() {
    let texts = distinct_texts(3);
    let dir = tempdir();
    let first = write(
        dir.path(),
        "first.jsonl",
        lines(&[
            &jline(json!({"id": "a", "text": texts[0]})),
            &jline(json!({"id": "b", "text": texts[0]})),
        ]),
    );
    let second = write(
        dir.path(),
        "second.jsonl",
        lines(&[
            &jline(json!({"id": "c", "text": texts[1]})),
            &jline(json!({"id": "d", "text": texts[2]})),
            &jline(json!({"id": "e", "text": texts[2]})),
        ]),
    );
    let out = dir.path().join("out");
    let o = dedup(&[path_str(&first)], &out, &["-q"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let before: Vec<(String, Vec<u8>)> = file_names(&out)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .map(|n| {
            let bytes = std::fs::read(out.join(&n)).unwrap();
            (n, bytes)
        })
        .collect();
    assert_eq!(before.len(), 7, "{:?}", file_names(&out));
    // report.html, written last, cannot take its place: the run fails after writing the rest.
    std::fs::remove_file(out.join("report.html")).unwrap();
    std::fs::create_dir(out.join("report.html")).unwrap();
    std::fs::write(out.join("report.html").join("x"), "").unwrap();
    let o = dedup(&[path_str(&second)], &out, &["-q"], None);
    assert_eq!(o.code, 3, "{o:?}");
    assert!(o.stderr.contains("report.html"), "{}", o.stderr);
    for (name, bytes) in &before {
        if name != "report.html" {
            assert_eq!(
                &std::fs::read(out.join(name)).unwrap(),
                bytes,
                "{name} is the first run's"
            );
        }
    }
    assert!(
        file_names(&out).iter().all(|n| !n.starts_with(".report")
            && !n.starts_with(".articles")
            && !n.starts_with(".deduped")),
        "no temporary file is left: {:?}",
        file_names(&out)
    );
}

/// A copy in capitals matches its original where lowercasing alone would not: German ß
/// (capitals write SS) and the Greek final sigma (capitals write Σ).
#[test]
fn copies_in_capitals_match_through_case_folding() {
    let de = "Die Bundesregierung hat am Dienstag neue Maßnahmen gegen die steigenden Energiepreise beschlossen. Auf der Straße vor dem Kanzleramt protestierten Hunderte Menschen gegen die Pläne, die nach Ansicht der Opposition zu spät kommen und zu wenig bewirken. Der Finanzminister verteidigte das Paket als größte Entlastung seit Jahrzehnten.";
    let el = "Η κυβέρνηση ανακοίνωσε την Τρίτη νέα μέτρα για τους πολίτες που πλήττονται από την ακρίβεια. Οι αγρότες και οι συνταξιούχοι θα λάβουν έκτακτη ενίσχυση έως το τέλος του μήνα, ενώ οι φόροι στα καύσιμα μειώνονται προσωρινά.";
    // What capitals make of them (str::to_uppercase writes ß as SS).
    let rows = [
        ("de", de.to_string()),
        ("de-upper", de.to_uppercase()),
        ("el", el.to_string()),
        ("el-upper", el.to_uppercase()),
    ];
    assert!(rows[1].1.contains("MASSNAHMEN") && rows[3].1.contains("ΤΟΥΣ"));
    let dir = tempdir();
    let input = write(
        dir.path(),
        "in.jsonl",
        rows.iter()
            .map(|(id, text)| jline(json!({"id": id, "text": text})))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let out = dir.path().join("out");
    let o = dedup(&[path_str(&input)], &out, &["-q"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let articles = read_jsonl(&out.join("articles.jsonl"));
    for (copy, original) in [(1, "de"), (3, "el")] {
        assert_eq!(
            articles[copy]["duplicate_of"], original,
            "{:?}",
            articles[copy]
        );
        assert_eq!(articles[copy]["similarity"], 1.0);
    }
}
