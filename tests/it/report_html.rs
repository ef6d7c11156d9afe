//! `report.html` tests: the real binary on small corpora, the page read back with a small tag
//! scanner. Hostile titles, outlets, ids, URLs and texts must come out as text; the page must
//! name no resource outside itself; its numbers must match `summary.json`; its size must stay
//! bounded on a large run. (`tests/browser/` loads the same pages in Chromium.)

use std::fmt::Write as _;
use std::path::Path;

use crate::common::{read_json, repo_dir, run, tempdir, write};

/// Runs `storyhash dedup INPUT --out OUT` and returns `report.html`.
fn report(input: &Path, out: &Path) -> String {
    report_of("dedup", input, out)
}

/// Runs `storyhash COMMAND INPUT --out OUT` (`dedup` or `run`) and returns `report.html`.
fn report_of(command: &str, input: &Path, out: &Path) -> String {
    let output = run(
        &[
            command,
            input.to_str().expect("UTF-8 path"),
            "--out",
            out.to_str().expect("UTF-8 path"),
        ],
        None,
    );
    assert!(
        output.status.success(),
        "storyhash failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(out.join("report.html")).expect("report.html is written")
}

/// One start tag: its lowercase name and attributes (values with entities decoded).
#[derive(Debug)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
    /// For `<script>` and `<style>`: the raw text up to the end tag.
    raw_text: Option<String>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn decode(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every start tag in the page, the way an HTML parser tokenizes them: text between tags
/// holds no `<` that starts a tag, so anything injected would show up here.
fn start_tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut tags = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        i += off + 1;
        if html[i..].starts_with("!--") {
            i += html[i..].find("-->").expect("comments are closed") + 3;
            continue;
        }
        if html[i..].starts_with('!') || html[i..].starts_with('/') {
            continue;
        }
        if !bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
            continue; // "<" not starting a tag is text (a parser would treat it so too)
        }
        let name_end = i + html[i..]
            .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
            .expect("tags are closed");
        let name = html[i..name_end].to_ascii_lowercase();
        i = name_end;
        let mut attrs = Vec::new();
        loop {
            while bytes[i].is_ascii_whitespace() || bytes[i] == b'/' {
                i += 1;
            }
            if bytes[i] == b'>' {
                i += 1;
                break;
            }
            let attr_end = i + html[i..]
                .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '>' || c == '/')
                .expect("tags are closed");
            let attr = html[i..attr_end].to_ascii_lowercase();
            i = attr_end;
            let mut value = String::new();
            if bytes[i] == b'=' {
                i += 1;
                let quote = bytes[i];
                if quote == b'"' || quote == b'\'' {
                    let end = i + 1 + html[i + 1..].find(quote as char).expect("quote closed");
                    value = decode(&html[i + 1..end]);
                    i = end + 1;
                } else {
                    let end = i + html[i..]
                        .find(|c: char| c.is_ascii_whitespace() || c == '>')
                        .expect("tags are closed");
                    value = decode(&html[i..end]);
                    i = end;
                }
            }
            attrs.push((attr, value));
        }
        let mut raw_text = None;
        if name == "script" || name == "style" {
            let close = format!("</{name}>");
            let end = i + html[i..]
                .find(&close)
                .expect("raw text elements are closed");
            raw_text = Some(html[i..end].to_string());
            i = end + close.len();
        }
        tags.push(Tag {
            name,
            attrs,
            raw_text,
        });
    }
    tags
}

/// The elements the page is made of; anything else was injected.
const ALLOWED_TAGS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "nav",
    "main",
    "section",
    "footer",
    "div",
    "span",
    "p",
    "h1",
    "h2",
    "h3",
    "ul",
    "li",
    "a",
    "code",
    "strong",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "article",
    "figure",
    "figcaption",
    "details",
    "summary",
    "ins",
    "del",
    "form",
    "input",
    "select",
    "option",
    "script",
    "svg",
    "g",
    "rect",
    "line",
    "text",
];

/// Checks the page's structure: only its own elements, one inline script and one inline style,
/// no event handlers, no resource URLs, links only to http(s) with `rel=noopener noreferrer`.
/// Returns the links' targets.
fn check_structure(html: &str) -> Vec<String> {
    let tags = start_tags(html);
    let mut links = Vec::new();
    let mut scripts = 0;
    let mut styles = 0;
    for tag in &tags {
        assert!(
            ALLOWED_TAGS.contains(&tag.name.as_str()),
            "unexpected element <{}> {:?}",
            tag.name,
            tag.attrs
        );
        for (name, value) in &tag.attrs {
            assert!(
                !name.starts_with("on"),
                "event handler on <{}>: {name}",
                tag.name
            );
            assert!(
                ![
                    "src",
                    "srcset",
                    "srcdoc",
                    "action",
                    "formaction",
                    "background",
                    "poster",
                    "data"
                ]
                .contains(&name.as_str()),
                "resource attribute on <{}>: {name}={value}",
                tag.name
            );
            assert!(
                !value.to_ascii_lowercase().contains("javascript:"),
                "javascript: in <{}> {name}={value}",
                tag.name
            );
            if name == "style" {
                panic!("inline style attribute on <{}>: {value}", tag.name);
            }
        }
        if let Some(href) = tag.attr("href") {
            if let Some(anchor) = href.strip_prefix('#') {
                assert!(
                    anchor
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-'),
                    "{href}"
                );
            } else {
                assert_eq!(tag.name, "a", "href on <{}>", tag.name);
                let lower = href.to_ascii_lowercase();
                assert!(
                    lower.starts_with("http://") || lower.starts_with("https://"),
                    "only article links leave the page: {href}"
                );
                assert_eq!(tag.attr("rel"), Some("noopener noreferrer"), "{href}");
                links.push(href.to_string());
            }
        }
        match tag.name.as_str() {
            "script" => {
                scripts += 1;
                assert!(tag.attrs.is_empty(), "script attributes: {:?}", tag.attrs);
                let code = tag.raw_text.as_deref().unwrap_or("");
                assert!(!code.contains("http"), "the script names no URL");
                assert!(!code.contains("innerHTML"), "the script writes text only");
            }
            "style" => {
                styles += 1;
                let css = tag.raw_text.as_deref().unwrap_or("").to_ascii_lowercase();
                for bad in ["@import", "url(", "http", "@font-face"] {
                    assert!(!css.contains(bad), "the style sheet has {bad}");
                }
            }
            "meta" if tag.attr("http-equiv") == Some("Content-Security-Policy") => {
                let csp = tag.attr("content").unwrap_or("");
                assert!(csp.starts_with("default-src 'none';"), "{csp}");
                assert!(!csp.contains("unsafe"), "{csp}");
            }
            _ => {}
        }
    }
    assert_eq!(
        (scripts, styles),
        (1, 1),
        "one inline script, one inline style"
    );
    assert!(
        tags.iter()
            .any(|t| t.attr("http-equiv") == Some("Content-Security-Policy")),
        "a Content Security Policy"
    );
    links
}

/// The `<section>` with the given id, start tag to end tag.
fn section<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let start = html.find(&format!("<section class=\"block\" id=\"{id}\">"))?;
    let len = html[start..]
        .find("</section>")
        .expect("the section is closed");
    Some(&html[start..start + len])
}

#[test]
fn hostile_article_text_is_escaped() {
    let dir = tempdir();
    let input = repo_dir().join("tests/browser/injection.jsonl");
    let html = report(&input, &dir.path().join("out"));
    check_escaped(&html, &[]);
    assert!(section(&html, "stories").is_none(), "dedup has no stories");

    // `run` lists the same articles again under their stories: escaped there too.
    let html = report_of("run", &input, &dir.path().join("run"));
    check_escaped(&html, &["https://plain.example/7"]);
    let stories = section(&html, "stories").expect("a stories section for run");
    for escaped in [
        // The headline of the first story, its outlets, and member titles linked to their URLs.
        "<h3>&lt;script&gt;alert(1)&lt;/script&gt;</h3>",
        "&lt;b&gt;evil.example&lt;/b&gt;",
        "&quot; onmouseover=&quot;alert(3)",
        "evil.example&#39;&gt;&lt;iframe src=//evil.example&gt;",
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
        "&lt;/title&gt;&lt;style&gt;@import url(http://evil.example/x.css)&lt;/style&gt;",
        "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;",
        "Flooding in the harbour &lt;iframe srcdoc=&#39;&lt;script&gt;alert(12)&lt;/script&gt;&#39;&gt;</a>",
        "A plain article &lt;!-- comment --&gt; ]]&gt;</a>",
        "href=\"http://ok.example/story?a=1&amp;b=&lt;2&gt;\" rel=\"noopener noreferrer\"",
        "href=\"https://example.com/a&quot;onmouseover=&quot;alert(7)\" rel=\"noopener noreferrer\"",
        // A copy names its kept copy's outlet, escaped.
        "copy of the &lt;b&gt;evil.example&lt;/b&gt; article",
    ] {
        assert!(
            stories.contains(escaped),
            "stories section lacks {escaped}:\n{stories}"
        );
    }
    // The chart legend names the largest stories by their headlines, escaped.
    assert!(html.contains("</span>#0 &lt;script&gt;alert(1)&lt;/script&gt;</span>"));
}

/// Checks a page made from `tests/browser/injection.jsonl`: the structure, every hostile text
/// escaped and none raw, and the links (those of clustered articles, and `more_links`).
fn check_escaped(html: &str, more_links: &[&str]) {
    let links = check_structure(html);

    // Titles, outlets, ids and texts appear escaped, whole.
    for escaped in [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
        "&lt;b&gt;evil.example&lt;/b&gt;",
        "&quot; onmouseover=&quot;alert(3)",
        "evil.example&#39;&gt;&lt;iframe src=//evil.example&gt;",
        "&lt;/title&gt;&lt;style&gt;@import url(http://evil.example/x.css)&lt;/style&gt;",
        "&quot;&gt;&lt;svg onload=alert(1)&gt;",
        "&lt;/script&gt;&lt;script&gt;alert(6)&lt;/script&gt;",
        "Ordinary &amp;amp; title with &lt;em&gt;markup&lt;/em&gt;",
        "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;",
        "&lt;iframe srcdoc=&#39;&lt;script&gt;alert(12)&lt;/script&gt;&#39;&gt;",
        // In the word diff of the first cluster.
        "&lt;script&gt;alert(8)&lt;/script&gt;</ins>",
    ] {
        assert!(html.contains(escaped), "missing escaped text: {escaped}");
    }
    // None of it raw.
    for raw in [
        "<script>alert",
        "<img",
        "<svg onload",
        "<iframe",
        "<b>",
        "<em>",
        "</title><style>",
        "onerror=alert(1)>",
        "document.title='pwned'",
    ] {
        assert!(!html.contains(raw), "raw markup in the page: {raw}");
    }
    // Only the http(s) URLs of clustered articles became links, attribute-escaped;
    // javascript:, data: and a URL with a leading space did not.
    let mut links = links;
    links.sort();
    links.dedup();
    let mut want = vec![
        "http://ok.example/story?a=1&b=<2>",
        "https://example.com/a\"onmouseover=\"alert(7)",
    ];
    want.extend_from_slice(more_links);
    want.sort();
    assert_eq!(links, want);
    assert!(html.contains("href=\"http://ok.example/story?a=1&amp;b=&lt;2&gt;\""));
    assert!(html.contains("href=\"https://example.com/a&quot;onmouseover=&quot;alert(7)\""));
}

#[test]
fn sample_report_shows_the_run() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let html = report(&repo_dir().join("data/sample.jsonl"), &out);
    let summary = read_json(&out.join("summary.json"));
    check_structure(&html);

    let stat = |name: &str| {
        let marker = format!("data-stat=\"{name}\">");
        let start = html.find(&marker).unwrap_or_else(|| panic!("stat {name}")) + marker.len();
        html[start..start + html[start..].find('<').expect("closed")].to_string()
    };
    let count = |key: &str| summary[key].as_u64().unwrap_or_else(|| panic!("{key}"));
    assert_eq!(stat("articles-in"), count("articles_in").to_string());
    assert_eq!(stat("rejected"), count("rejected").to_string());
    assert_eq!(
        stat("duplicate-clusters"),
        count("duplicate_clusters").to_string()
    );
    assert_eq!(stat("kept"), count("kept").to_string());
    assert_eq!(
        stat("removed"),
        format!("{:.1}%", summary["removed_share"].as_f64().unwrap() * 100.0)
    );
    let params = &summary["parameters"];
    assert!(html.contains(&format!(
        "{} bands × {} rows",
        params["bands"], params["rows"]
    )));
    assert!(html.contains("word 5-grams"));

    // Three charts, one with the threshold marked; one card per cluster; diffs with changes.
    assert_eq!(html.matches("<svg viewBox=").count(), 3);
    assert!(html.contains("class=\"marker\""));
    assert!(html.contains("threshold 0.80"));
    assert_eq!(
        html.matches("<article class=\"card cluster\"").count() as u64,
        count("duplicate_clusters")
    );
    assert!(html.contains("<details class=\"diff\">"));
    assert!(html.contains("<ins>") && html.contains("<del>"));
    // The search form exists but stays hidden until the script shows it; each outlet says how
    // many rows it has on the page, which is not its number of articles.
    assert!(html.contains("<form class=\"filters\" id=\"filters\" hidden"));
    let select = html
        .find("<select id=\"filter-outlet\"")
        .expect("the outlet filter");
    let options = &html[select..select + html[select..].find("</select>").unwrap()];
    assert!(options.contains(" listed)</option>"), "{options}");
    assert!(
        html.len() < 400_000,
        "{} bytes for 161 articles",
        html.len()
    );
    assert!(section(&html, "stories").is_none(), "dedup has no stories");
    assert!(!html.contains("data-stat=\"stories\""));
}

#[test]
fn sample_run_report_shows_the_stories() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let html = report_of("run", &repo_dir().join("data/sample.jsonl"), &out);
    let summary = read_json(&out.join("summary.json"));
    check_structure(&html);
    let count = |key: &str| summary[key].as_u64().unwrap_or_else(|| panic!("{key}"));
    assert!(html.contains(&format!(
        "data-stat=\"stories\">{}<",
        thousands(count("stories"))
    )));
    assert!(html.contains(&format!(
        "data-stat=\"multi-article-stories\">{}<",
        thousands(count("multi_article_stories"))
    )));
    let stories = section(&html, "stories").expect("a stories section");
    assert_eq!(
        stories.matches("<article class=\"card story\"").count() as u64,
        count("stories").min(50)
    );
    // Members link to their URLs; copies point at their cluster's card.
    assert!(stories.contains("rel=\"noopener noreferrer\""));
    assert!(stories.contains("<span class=\"badge copy\">copy</span>"));
    assert!(stories.contains("<a href=\"#c"));
    // The timeline stacks the five largest stories and the rest.
    assert!(html.contains("other articles"));
    assert!(html.contains("the 5 largest stories apart from the other articles"));
    // Still the near-duplicate clusters, and one filter form before the stories.
    assert_eq!(
        html.matches("<article class=\"card cluster\"").count() as u64,
        count("duplicate_clusters")
    );
    assert_eq!(html.matches("id=\"filters\"").count(), 1);
    assert!(html.find("id=\"filters\"") < html.find("id=\"stories\""));
    assert!(
        html.len() < 400_000,
        "{} bytes for 161 articles",
        html.len()
    );
}

/// A synthetic corpus, one JSON line per article.
struct Synthetic {
    lines: String,
    n_docs: usize,
    rng: u64,
}

impl Synthetic {
    /// SplitMix64.
    fn next(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn words(&mut self, n: usize) -> String {
        let mut text = String::new();
        for _ in 0..n {
            let _ = write!(text, "w{} ", self.next() % 5000);
        }
        text
    }

    fn push(&mut self, body: &str) {
        let n = self.n_docs;
        let line = serde_json::json!({
            "id": format!("doc-{n:06}"),
            "source": format!("outlet{}.example", self.next() % 400),
            "url": format!("https://outlet.example/{n}"),
            "title": format!("A long headline <{n}> about {}", "the matter at hand ".repeat(12)),
            "published": format!("2024-{:02}-{:02}", 1 + self.next() % 3, 1 + self.next() % 28),
            "text": body,
        });
        self.lines.push_str(&line.to_string());
        self.lines.push('\n');
        self.n_docs += 1;
    }
}

/// Dates given without a time of day show as days: in the story's span and in its rows. A
/// story whose articles give times shows them; a span shows each end as its article gave it.
#[test]
fn dates_without_a_time_show_the_day_alone() {
    let dir = tempdir();
    let mut corpus = Synthetic {
        lines: String::new(),
        n_docs: 0,
        rng: 0xda7e,
    };
    let mut lines = String::new();
    for (story, dates) in [
        ("day", ["2014-05-06", "2014-05-07", "2014-05-07"]),
        (
            "timed",
            [
                "2014-05-06T09:30:00Z",
                "2014-05-08T17:45:00+00:00",
                "Thu, 08 May 2014 18:00:00 +0000",
            ],
        ),
        (
            "mixed",
            ["2014-05-06", "2014-05-08T10:30:00Z", "2014-05-07"],
        ),
    ] {
        let body = corpus.words(120);
        for (i, published) in dates.iter().enumerate() {
            let line = serde_json::json!({
                "id": format!("{story}-{i}"),
                "source": format!("outlet{i}.example"),
                "title": format!("The {story} story"),
                "published": published,
                "text": body,
            });
            let _ = writeln!(lines, "{line}");
        }
    }
    let input = write(dir.path(), "dates.jsonl", &lines);
    let html = report_of("run", &input, &dir.path().join("out"));
    check_structure(&html);
    let stories = section(&html, "stories").expect("a stories section");
    assert!(stories.contains(" · 2014-05-06 to 2014-05-07"), "{stories}");
    assert!(stories.contains("<td class=\"date\">2014-05-07</td>"));
    assert!(stories.contains(" · 2014-05-06 09:30 to 2014-05-08 18:00"));
    assert!(stories.contains("<td class=\"date\">2014-05-08 17:45</td>"));
    // Each end of a span as its article gave it.
    assert!(
        stories.contains(" · 2014-05-06 to 2014-05-08 10:30"),
        "{stories}"
    );
    assert!(!stories.contains("00:00"), "no made-up midnight: {stories}");
}

/// A large synthetic run: one huge cluster of identical pages, thousands of small clusters and
/// many singletons, long titles. The page shows 200 clusters in full, one line for the next
/// ones and counts for the rest, and stays small.
#[test]
fn page_stays_small_on_a_large_run() {
    let dir = tempdir();
    let mut corpus = Synthetic {
        lines: String::new(),
        n_docs: 0,
        rng: 0x5eed,
    };
    let boilerplate = corpus.words(60);
    for _ in 0..1500 {
        corpus.push(&boilerplate);
    }
    for _ in 0..3000 {
        let body = corpus.words(80);
        for copy in 0..2 + corpus.next() % 3 {
            corpus.push(&format!("{body} copy{copy}"));
        }
    }
    while corpus.n_docs < 20_000 {
        let body = corpus.words(80);
        corpus.push(&body);
    }
    let input = write(dir.path(), "large.jsonl", &corpus.lines);
    let out = dir.path().join("out");
    let html = report(&input, &out);
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["articles"], 20_000);
    let clusters = summary["duplicate_clusters"].as_u64().unwrap();
    assert!(clusters > 3000, "{clusters} clusters");

    check_structure(&html);
    assert_eq!(html.matches("<article class=\"card cluster\"").count(), 200);
    assert!(html.contains("The next 300 clusters"));
    assert!(html.contains(&format!("{} more clusters with", thousands(clusters - 500))));
    // The huge cluster lists 20 of its 1,500 members.
    assert!(html.contains("1,480 more members"), "huge cluster cut");
    eprintln!("report.html: {} bytes for 20,000 articles", html.len());
    assert!(
        html.len() < 2_000_000,
        "{} bytes for 20,000 articles",
        html.len()
    );
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
