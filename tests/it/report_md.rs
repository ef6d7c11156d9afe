//! `report.md`: golden files for a small fixed corpus (`dedup`, and `run` with its stories),
//! escaping of hostile titles, warnings.
//!
//! `STORYHASH_BLESS=1 cargo test --test it report_md` rewrites `tests/it/golden/report.md` and
//! `tests/it/golden/report-run.md` from the current output; review the diff before committing.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{repo_dir, storyhash, tempdir, write};

/// The golden file of `dedup` on [`golden_corpus`].
fn golden_path() -> PathBuf {
    repo_dir().join("tests/it/golden/report.md")
}

/// The golden file of `run` on [`story_corpus`].
fn golden_run_path() -> PathBuf {
    repo_dir().join("tests/it/golden/report-run.md")
}

/// Runs `storyhash dedup INPUT --out out -q EXTRA` inside `dir` (so file names in the report are
/// relative and the same on every machine) and returns `out/report.md`.
fn report_md(dir: &Path, input: &str, extra: &[&str]) -> String {
    report_md_of("dedup", dir, input, extra)
}

/// [`report_md`] for any subcommand that writes a report (`dedup` or `run`).
fn report_md_of(command: &str, dir: &Path, input: &str, extra: &[&str]) -> String {
    let output = storyhash()
        .current_dir(dir)
        .args([command, input, "--out", "out", "-q"])
        .args(extra)
        .output()
        .expect("the storyhash binary starts");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{extra:?}: {stderr}");
    std::fs::read_to_string(dir.join("out/report.md")).expect("report.md is written")
}

fn jline(value: Value) -> String {
    let mut line = value.to_string();
    line.push('\n');
    line
}

/// About 64 words of prose with word `at` replaced, for copies at a known exact Jaccard.
fn prose(words: &str, edits: &[(usize, &str)]) -> String {
    let mut words: Vec<&str> = words.split_whitespace().collect();
    for &(at, word) in edits {
        words[at] = word;
    }
    words.join(" ")
}

const HARBOR: &str = "Heavy rain pushed the river over its banks on Tuesday night and the port authority \
closed the harbor to all shipping until further notice while crews stacked sandbags along the \
waterfront and the mayor asked residents of the lowest streets to leave their homes before the \
second crest expected early on Thursday morning according to forecasters who warned that the \
old flood walls near the fish market had never been tested by water this high";

const BUDGET: &str = "The city council approved a budget on Monday that raises spending on schools and \
buses by four percent while freezing hiring in most other departments after a debate that ran past \
midnight and ended with a narrow vote in which two members who had opposed the plan for weeks \
changed their minds once the library closures were dropped from the final draft presented by the \
finance committee chair";

const VACCINE: &str = "A regional clinic network said it would open weekend vaccination sessions for \
children in six towns starting next month because demand has outgrown the weekday slots and \
parents told nurses that taking time off work was the main reason appointments were missed during \
the spring when a shortage of staff forced several small sites to close their doors early";

/// A small corpus that exercises every part of the report: a cluster of three from three
/// outlets, a chain (A~B, B~C, A≁C), an article without words, rejected lines, singletons.
fn golden_corpus() -> String {
    let mut corpus = String::new();
    let article = |id: &str, source: &str, date: &str, title: &str, text: String| {
        jline(json!({"id": id, "source": source, "published": date, "title": title, "text": text}))
    };
    let storm = "Storm closes harbor as river rises";
    corpus += &article(
        "wire-1",
        "wire.example",
        "2024-03-05T08:00:00Z",
        storm,
        prose(HARBOR, &[]),
    );
    corpus += &article(
        "gazette-7",
        "gazette.example",
        "2024-03-05T09:30:00Z",
        "Harbor shut as river tops its banks",
        prose(HARBOR, &[(70, "Wednesday")]),
    );
    corpus += &article(
        "daily-3",
        "daily.example",
        "2024-03-05T11:00:00Z",
        storm,
        prose(HARBOR, &[]),
    );
    // The chain: each neighbour one edit apart (exact Jaccard about 0.85), the ends two.
    corpus += &article(
        "council-a",
        "city.example",
        "2024-03-04T18:00:00Z",
        "Council passes budget after late-night vote",
        prose(BUDGET, &[(8, "Sunday")]),
    );
    corpus += &article(
        "council-b",
        "herald.example",
        "2024-03-04T19:00:00Z",
        "Budget passes *narrowly*",
        prose(BUDGET, &[]),
    );
    corpus += &article(
        "council-c",
        "post.example",
        "2024-03-04T20:00:00Z",
        "Budget vote: schools win, hiring frozen",
        prose(BUDGET, &[(60, "treasurer")]),
    );
    corpus += &article(
        "clinic-1",
        "health.example",
        "2024-03-06T07:00:00Z",
        "Weekend vaccination for children",
        prose(VACCINE, &[]),
    );
    corpus += &jline(json!({"id": "empty-1", "source": "wire.example", "text": "— … !!! ???"}));
    corpus += "{\"id\": \"broken\", \"text\": \n";
    corpus += &jline(json!({"id": "wire-1", "text": "the same id again"}));
    corpus += &jline(
        json!({"id": 42, "title": "An integer id, no source", "text": "Short note about nothing in particular."}),
    );
    corpus
}

/// `text` with every run of digits in the "Time per stage" section replaced by `#`.
fn mask_timings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_timings = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("## ") {
            in_timings = line.trim_end() == "## Time per stage";
        }
        if !in_timings {
            out.push_str(line);
            continue;
        }
        let mut in_digits = false;
        for ch in line.chars() {
            if ch.is_ascii_digit() {
                if !in_digits {
                    out.push('#');
                }
                in_digits = true;
            } else {
                out.push(ch);
                in_digits = false;
            }
        }
    }
    out
}

/// [`golden_corpus`] and two more reports of the harbor flood from other outlets, in other
/// words: one story of three units (the wire cluster and the two reports) for `run`.
fn story_corpus() -> String {
    let mut corpus = golden_corpus();
    corpus += &jline(json!({
        "id": "coast-2", "source": "coast.example", "published": "2024-03-06T06:00:00Z",
        "title": "Harbor stays closed as river flood crest nears the fish market",
        "text": "The harbor remained closed to shipping on Wednesday as the river flood moved toward \
    its second crest. Port authority crews stacked more sandbags along the waterfront and the mayor \
    repeated her call for residents of the lowest streets to leave. Forecasters said the old flood \
    walls near the fish market face their first real test on Thursday morning."
    }));
    corpus += &jline(json!({
        "id": "radio-9", "source": "radio.example", "published": "2024-03-05T20:15:00Z",
        "title": "Mayor urges evacuation as river floods harbor",
        "text": "The mayor asked residents near the harbor to evacuate after the river flooded the \
    waterfront and the port authority closed the harbor to shipping. Sandbags were stacked near the \
    fish market, where the flood walls have never held back water this high, forecasters warned."
    }));
    corpus
}

#[test]
fn report_md_matches_the_golden_file() {
    let dir = tempdir();
    write(dir.path(), "corpus.jsonl", golden_corpus());
    let got = mask_timings(&report_md(dir.path(), "corpus.jsonl", &["--skip-invalid"]));
    check_golden(
        &got,
        &golden_path(),
        &[
            "# storyhash: 9 articles, 2 duplicate clusters, 4 removed (44.4%)",
            "| rejected | 2 |",
            "| LSH | ",
            "| shingles | word 5-grams, words hashed by mum16 |",
            "## Time per stage",
            "| scan_and_sign | #.# |",
            "wire.example",
            "chains through other members",
            "corpus.jsonl:9: invalid JSON",
            "1 article has no words",
        ],
    );
    // `dedup` finds no stories, so its report has none.
    assert!(!got.contains("stories"), "{got}");
}

#[test]
fn report_md_of_run_matches_its_golden_file() {
    let dir = tempdir();
    write(dir.path(), "corpus.jsonl", story_corpus());
    let got = mask_timings(&report_md_of(
        "run",
        dir.path(),
        "corpus.jsonl",
        &["--skip-invalid"],
    ));
    check_golden(
        &got,
        &golden_run_path(),
        &[
            "# storyhash: 11 articles, 2 duplicate clusters, 4 removed (36.4%), ",
            "| story time window | none (auto: none below 5,000 articles, so a story may span any time) |",
            "| stories | ",
            "| stories of two or more articles | ",
            "## Largest stories",
            "| story | articles | headline | outlets | published | near-duplicate clusters |",
            // The wire cluster (3 articles) and both other reports: the whole harbor story,
            // under the headline of the report most similar to the rest.
            "| 0 | 5 | Harbor stays closed as river flood crest nears the fish market (id coast-2) | 5: coast.example, ",
            "2024-03-05 to 2024-03-06 | 1 |",
            "## Largest duplicate clusters",
        ],
    );
    // The stories come before the duplicate clusters.
    let stories = got.find("## Largest stories").unwrap();
    assert!(stories < got.find("## Largest duplicate clusters").unwrap());
}

/// Compares `got` with the golden file at `path` (or rewrites it under `STORYHASH_BLESS=1`),
/// then checks that the golden file shows each of `needles`.
fn check_golden(got: &str, path: &Path, needles: &[&str]) {
    if std::env::var_os("STORYHASH_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, got).unwrap();
        eprintln!("blessed {}", path.display());
        return;
    }
    let want = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (STORYHASH_BLESS=1 cargo test --test it report_md writes it)",
            path.display()
        )
    });
    if got != want {
        let first = got
            .lines()
            .zip(want.lines())
            .position(|(g, w)| g != w)
            .unwrap_or(got.lines().count().min(want.lines().count()));
        panic!(
            "report.md differs from {} from line {} on (STORYHASH_BLESS=1 regenerates it):\n\
             --- got\n{got}\n--- want\n{want}",
            path.display(),
            first + 1
        );
    }
    // What the golden file must show, so a bless cannot quietly drop it.
    for needle in needles {
        assert!(
            want.contains(needle),
            "golden {} lacks {needle:?}",
            path.display()
        );
    }
}

#[test]
fn report_md_is_the_same_for_any_thread_count() {
    let dir = tempdir();
    write(dir.path(), "corpus.jsonl", golden_corpus());
    let reports: Vec<String> = ["1", "3"]
        .iter()
        .map(|threads| {
            mask_timings(&report_md(
                dir.path(),
                "corpus.jsonl",
                &["--skip-invalid", "--threads", threads],
            ))
        })
        .collect();
    assert_eq!(reports[0], reports[1]);
}

/// Cells of a Markdown table row: split on `|` not escaped by a backslash.
fn cells(row: &str) -> Vec<String> {
    let row = row.trim();
    assert!(
        row.starts_with('|') && row.ends_with('|'),
        "not a row: {row}"
    );
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut escaped = false;
    for ch in row[1..].chars() {
        match ch {
            '|' if !escaped => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(ch),
        }
        escaped = ch == '\\' && !escaped;
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
}

#[test]
fn hostile_titles_stay_in_one_table_cell_and_inject_nothing() {
    let hostile = "Pipes | and `ticks` <script>alert(1)</script>\nsecond line [click](javascript:x) &lt;b&gt;";
    let source = "evil|outlet <b>";
    let text = prose(HARBOR, &[]);
    let corpus = [
        jline(json!({"id": "x1", "title": hostile, "source": source, "text": text})),
        jline(json!({"id": "x2", "title": hostile, "source": "<img src=x onerror=alert(1)>", "text": text})),
        jline(json!({"id": "<img src=x onerror=alert(1)>", "text": prose(BUDGET, &[])})),
        jline(json!({"id": "<img src=x onerror=alert(1)>", "text": "again"})),
    ]
    .concat();
    let dir = tempdir();
    write(dir.path(), "hostile.jsonl", corpus);
    let md = report_md(dir.path(), "hostile.jsonl", &["--skip-invalid"]);
    assert!(!md.contains('<'), "a raw `<` in report.md:\n{md}");
    assert!(!md.contains("<script"), "{md}");
    assert!(
        !md.replace(r"\]", "").contains("]("),
        "a link formed:\n{md}"
    );
    let lines: Vec<&str> = md.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("| cluster | size | kept article"))
        .expect("the clusters table");
    let n_columns = cells(lines[header]).len();
    let row = lines[header + 2];
    let row_cells = cells(row);
    assert_eq!(row_cells.len(), n_columns, "{row}");
    assert_eq!(row_cells[0], "0");
    assert_eq!(row_cells[1], "2");
    // The whole title, newline and all, is in the kept-article cell.
    let kept = &row_cells[2];
    for piece in [
        r"Pipes \| and \`ticks\` &lt;script&gt;alert(1)&lt;/script&gt; second line",
        r"\[click\](javascript:x) &amp;lt;b&amp;gt;",
        "(id x1)",
    ] {
        assert!(kept.contains(piece), "{piece:?} not in {kept:?}");
    }
    assert_eq!(row_cells[3], r"evil\|outlet &lt;b&gt;");
    assert_eq!(row_cells[4], "&lt;img src=x onerror=alert(1)&gt;");
    // The next line is not a continuation of the title.
    assert!(!lines[header + 3].contains("second line"), "{md}");
    // The hostile id in a reject reason is escaped too.
    assert!(
        md.contains("duplicate id \\`&lt;img src=x onerror=alert(1)&gt;\\`"),
        "{md}"
    );

    // `run` heads a story with the same title: escaped, in one cell, in the stories table.
    let md = report_md_of("run", dir.path(), "hostile.jsonl", &["--skip-invalid"]);
    assert!(!md.contains('<'), "a raw `<` in report.md:\n{md}");
    let lines: Vec<&str> = md.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("| story | articles | headline"))
        .expect("the stories table");
    let row_cells = cells(lines[header + 2]);
    assert_eq!(row_cells.len(), cells(lines[header]).len(), "{md}");
    assert_eq!(row_cells[1], "2");
    assert!(
        row_cells[2].starts_with(r"Pipes \| and \`ticks\` &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{md}"
    );
    assert_eq!(
        row_cells[3],
        r"2: &lt;img src=x onerror=alert(1)&gt;, evil\|outlet &lt;b&gt;"
    );
}

#[test]
fn huge_buckets_and_no_clusters_show_as_such() {
    // 300 copies of one page from 12 outlets: one bucket of 300 per band, over the window.
    let corpus: String = (0..300)
        .map(|i| {
            jline(
                json!({"id": i, "source": format!("outlet-{:02}.example", i % 12),
                "text": "Page not found. The page you asked for does not exist on this server."}),
            )
        })
        .collect();
    let dir = tempdir();
    write(dir.path(), "same.jsonl", corpus);
    let md = report_md(dir.path(), "same.jsonl", &["--no-learn-boilerplate"]);
    assert!(
        md.contains("LSH buckets held more than 256 articles (the largest 300)"),
        "{md}"
    );
    assert!(
        md.starts_with("# storyhash: 300 articles, 1 duplicate cluster, 299 removed (99.7%)\n")
    );
    let row = md
        .lines()
        .find(|l| l.starts_with("| 0 | 300 |"))
        .expect("the cluster's row");
    assert!(row.contains("outlet-01.example ×25"), "{row}");
    assert!(row.contains("and 7 more"), "{row}");

    let dir = tempdir();
    write(
        dir.path(),
        "two.jsonl",
        [
            jline(json!({"id": "a", "text": prose(HARBOR, &[])})),
            jline(json!({"id": "b", "text": prose(BUDGET, &[])})),
        ]
        .concat(),
    );
    let md = report_md(dir.path(), "two.jsonl", &[]);
    assert!(md.contains("No near-duplicate clusters."), "{md}");
    assert!(md.trim_end().ends_with("## Warnings\n\nNone."), "{md}");
}

/// Page furniture scraped instead of two different articles clusters them (the texts are the
/// same); the report says so. The same short text under one headline is an ordinary copy.
#[test]
fn short_texts_under_different_headlines_are_flagged() {
    let dir = tempdir();
    let furniture =
        "Chat with us in Facebook Messenger. Find out what's happening in the world as it unfolds.";
    let corpus = [
        jline(json!({"id": "a<b>_1", "title": "The first shots fired in Las Vegas", "text": furniture})),
        jline(json!({"id": "b", "title": "China accused of letting oil into North Korea", "text": furniture})),
    ]
    .join("\n");
    write(dir.path(), "furniture.jsonl", &corpus);
    let md = report_md(dir.path(), "furniture.jsonl", &[]);
    assert!(
        md.contains("1 cluster of texts under 300 characters with different headlines"),
        "{md}"
    );
    // The kept copy's id, escaped, outside a code span (where escapes would show as written).
    assert!(
        md.contains("(the first kept copy: a&lt;b&gt;\\_1):"),
        "{md}"
    );
    let same = [
        jline(json!({"id": "a", "title": "Same headline", "text": furniture})),
        jline(json!({"id": "b", "title": "Same headline", "text": furniture})),
    ]
    .join("\n");
    write(dir.path(), "copies.jsonl", &same);
    let md = report_md(dir.path(), "copies.jsonl", &[]);
    assert!(!md.contains("page furniture"), "{md}");
    // Headlines that differ in case only are one headline.
    let case = [
        jline(json!({"id": "a", "title": "News in 2 minutes", "text": furniture})),
        jline(json!({"id": "b", "title": "News in 2 Minutes", "text": furniture})),
    ]
    .join("\n");
    write(dir.path(), "case.jsonl", &case);
    let md = report_md(dir.path(), "case.jsonl", &[]);
    assert!(!md.contains("page furniture"), "{md}");
    // With the headline as the text, short texts are what the input is: no warning.
    let headlines = [
        jline(json!({"id": "a", "title": "Stocks rise on strong earnings at big banks"})),
        jline(json!({"id": "b", "title": "Stocks rise on strong earnings at big banks!"})),
    ]
    .join("\n");
    write(dir.path(), "headlines.jsonl", &headlines);
    let md = report_md(dir.path(), "headlines.jsonl", &["--text-field", "title"]);
    assert!(md.contains("1 duplicate cluster"), "{md}");
    assert!(!md.contains("page furniture"), "{md}");
}

/// Headlines with empty texts: the warning about articles without words points to
/// `--text-field`; with texts it does not.
#[test]
fn empty_texts_under_headlines_point_to_the_text_field() {
    let dir = tempdir();
    let headlines: String = [
        "Stocks rise on earnings",
        "Stocks rise on strong earnings",
        "Rain expected",
    ]
    .iter()
    .enumerate()
    .map(|(i, t)| jline(json!({"id": i, "title": t, "text": ""})))
    .collect();
    write(dir.path(), "headlines.jsonl", headlines);
    write(dir.path(), "texts.jsonl", golden_corpus());
    let md = report_md(dir.path(), "headlines.jsonl", &[]);
    assert!(md.contains("3 articles have no words"), "{md}");
    assert!(md.contains("--text-field title"), "{md}");
    let with_text = report_md(dir.path(), "texts.jsonl", &["--skip-invalid"]);
    assert!(!with_text.contains("--text-field"), "{with_text}");
    // The terminal says it too (even with -q), for `dedup` and `run`; the hint only then.
    let stderr = |command: &str, input: &str, extra: &[&str]| {
        let output = storyhash()
            .current_dir(dir.path())
            .args([command, input, "--out", "out2", "-q"])
            .args(extra)
            .output()
            .expect("the storyhash binary starts");
        assert_eq!(output.status.code(), Some(0));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    for command in ["dedup", "run"] {
        let warned = stderr(command, "headlines.jsonl", &[]);
        assert!(
            warned.contains("warning: 3 of 3 articles have no words")
                && warned.contains("--text-field title"),
            "{command}: {warned}"
        );
        assert_eq!(
            warned.contains("Stories read the titles either way"),
            command == "run",
            "{command}: {warned}"
        );
        let quiet = stderr(command, "headlines.jsonl", &["--text-field", "title"]);
        assert!(!quiet.contains("warning"), "{command}: {quiet}");
        // Texts, one of them without a word: the warning counts it, with no hint.
        let warned = stderr(command, "texts.jsonl", &["--skip-invalid"]);
        assert!(
            warned.contains("warning: 1 of 9 articles have no words")
                && !warned.contains("--text-field"),
            "{command}: {warned}"
        );
        // Headlines that are page furniture have no words either: with --text-field title
        // already given, there is nothing to point to.
        let furniture: String = [
            "Advertisement",
            "Advertisement",
            "Advertisement",
            "Rain due",
        ]
        .iter()
        .enumerate()
        .map(|(i, t)| jline(json!({"id": i, "title": t, "text": ""})))
        .collect();
        write(dir.path(), "furniture.jsonl", furniture);
        let quiet = stderr(command, "furniture.jsonl", &["--text-field", "title"]);
        assert!(!quiet.contains("--text-field"), "{command}: {quiet}");
    }
}

/// The rows of the table that follows `heading` in `md`, header and rule left out.
fn table_after(md: &str, heading: &str) -> Vec<Vec<String>> {
    let rest = &md[md
        .find(heading)
        .unwrap_or_else(|| panic!("{heading} in\n{md}"))..];
    rest.lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(cells)
        .collect()
}

/// With an index, cluster and story ids are not positions in tonight's lists: report.md names
/// clusters and stories by the ids the other outputs give them, largest first.
#[test]
fn report_md_names_clusters_and_stories_by_their_ids_with_an_index() {
    let dir = tempdir();
    let sample = std::fs::read_to_string(repo_dir().join("data/sample.jsonl")).unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    let first = write(dir.path(), "night1.jsonl", lines[..100].join("\n"));
    let second = write(dir.path(), "night2.jsonl", lines[100..].join("\n"));
    let (index, out) = (dir.path().join("idx"), dir.path().join("out"));
    for night in [&first, &second] {
        let output = storyhash()
            .args([
                "run",
                night.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "-q",
            ])
            .args(["--index", index.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let read = |name: &str| -> Vec<Value> {
        std::fs::read_to_string(out.join(name))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    // Largest first; among equals, in file order (the order ids were given in).
    let largest = |rows: Vec<Value>, id: &str, size: &str| -> Vec<Vec<String>> {
        let mut rows: Vec<(usize, Value)> = rows.into_iter().enumerate().collect();
        rows.sort_by_key(|(i, r)| (std::cmp::Reverse(r[size].as_u64().unwrap()), *i));
        rows.iter()
            .take(10)
            .map(|(_, r)| vec![r[id].to_string(), r[size].to_string()])
            .collect()
    };
    let shown = |table: Vec<Vec<String>>| -> Vec<Vec<String>> {
        table.into_iter().map(|row| row[..2].to_vec()).collect()
    };
    let clusters = largest(read("duplicates.jsonl"), "cluster", "size");
    let stories = largest(read("stories.jsonl"), "story", "size");
    assert_eq!(
        shown(table_after(&md, "## Largest duplicate clusters")),
        clusters
    );
    assert_eq!(shown(table_after(&md, "## Largest stories")), stories);
    // Tonight's ids are not their positions here, or this test would show nothing.
    let positions: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    assert!(
        clusters.iter().any(|c| !positions.contains(&c[0]))
            && stories.iter().any(|s| !positions.contains(&s[0])),
        "{clusters:?} {stories:?}"
    );
}
