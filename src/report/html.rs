//! `report.html`: one self-contained page for people.
//!
//! The page is a list of `Section`s (overview, charts, near-duplicate clusters), each built
//! by one function from a `View` of the run; a new section (the largest stories, say) is one
//! more function and one more entry in [`render`]. Charts are inline SVG drawn here by
//! `BarChart`, which stacks any number of series, so the articles-per-day chart can take one
//! series per large story beside its kept and duplicate counts (`timeline_chart`).
//!
//! What the page promises, and how:
//!
//! - **Self-contained.** Styles and the one script are inlined (`assets/`), charts are SVG
//!   markup, there are no fonts, images, frames or links to other files. A Content Security
//!   Policy (`default-src 'none'`, the style and script allowed by their SHA-256 only) makes the
//!   browser refuse any request the page might still try.
//! - **Inert article text.** Every piece of input text (titles, outlets, ids, URLs, file names,
//!   article texts in diffs, reject reasons) goes through `Esc`; only `http` and `https` URLs
//!   become links, with `rel="noopener noreferrer"`. The script reads and writes text only.
//! - **Readable without scripts.** Everything is in the markup; the script only hides what the
//!   search and outlet filter do not match, and its form stays hidden when scripts are off.
//! - **Bounded size.** The [`SHOWN_CLUSTERS`] largest clusters are shown with at most
//!   [`SHOWN_MEMBERS`] members each, the next [`COMPACT_CLUSTERS`] as one line each, and the rest
//!   as counts; diffs for the [`DIFF_CLUSTERS`] largest only, on texts cut at
//!   [`DIFF_TEXT_CHARS`]; every title, outlet, id and URL is cut too. The page stays within a few
//!   megabytes whatever the corpus size.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::HashMap;
use std::fmt::{self, Write as _};

use rayon::prelude::*;
use similar::{ChangeTag, TextDiff};

use crate::error::Result;

use crate::ingest::Article;
use crate::pipeline::{DedupConfig, DedupRun};

use super::{QuotedTexts, ReportHeadlines, percent};
use crate::headlines::Headline;

/// The page's style sheet, inlined.
const STYLE: &str = include_str!("assets/report.css");
/// The page's one script (search and outlet filter), inlined.
const SCRIPT: &str = include_str!("assets/report.js");
/// SHA-256 of [`STYLE`], base64, for the Content Security Policy. After editing the style sheet:
/// `openssl dgst -sha256 -binary src/report/assets/report.css | base64` (a unit test checks it).
const STYLE_SHA256: &str = "Hx6GBNcij10+Uaxz1O17hEipSnNcaKli7Jb4RMShacs=";
/// SHA-256 of [`SCRIPT`], base64, for the Content Security Policy (see [`STYLE_SHA256`]).
const SCRIPT_SHA256: &str = "wdCWis7X2d6kfnYVY7VJEz8g0hLkUoDIm9DXCDjqwZo=";

/// Stories shown (largest first; `storyhash run` only).
pub const SHOWN_STORIES: usize = 50;
/// Articles listed per shown story.
pub const SHOWN_STORY_MEMBERS: usize = 25;
/// Largest stories drawn as their own series in the articles-per-day chart.
pub const CHART_STORIES: usize = 5;
/// Characters of a story's headline in the chart legend.
const LEGEND_CHARS: usize = 48;
/// Outlets named in a story's heading.
const STORY_OUTLETS_NAMED: usize = 8;
/// Clusters shown in full (largest first).
pub const SHOWN_CLUSTERS: usize = 200;
/// Members listed per shown cluster (the kept copy, then the least similar).
pub const SHOWN_MEMBERS: usize = 20;
/// Clusters after the shown ones that get one line each.
pub const COMPACT_CLUSTERS: usize = 300;
/// Largest clusters that get a word diff.
pub const DIFF_CLUSTERS: usize = 50;
/// Characters of each text that a diff compares.
pub const DIFF_TEXT_CHARS: usize = 4000;
/// Characters shown of a title.
const TITLE_CHARS: usize = 240;
/// Characters shown of an outlet name.
const SOURCE_CHARS: usize = 80;
/// Characters shown of an id.
const ID_CHARS: usize = 80;
/// Longest URL made into a link.
const URL_CHARS: usize = 2048;
/// Outlets offered by the filter.
const OUTLET_OPTIONS: usize = 300;
/// Unchanged words kept around a change in a diff (whitespace counts as a token of its own).
const DIFF_CONTEXT_TOKENS: usize = 24;

/// The documents whose texts the page quotes, sorted (they are read on the report's pass over
/// the inputs): the kept copy and the least similar member of each of the [`DIFF_CLUSTERS`]
/// largest clusters.
pub fn texts_wanted(run: &DedupRun) -> Vec<u32> {
    let mut docs: Vec<u32> = clusters_by_size(run)
        .into_iter()
        .take(DIFF_CLUSTERS)
        .flat_map(|c| {
            let (kept, member) = diff_pair(run, c);
            [kept, member]
        })
        .collect();
    // Indexed articles from earlier batches have no text in tonight's inputs.
    docs.retain(|&d| (d as usize) < run.batch_len);
    docs.sort_unstable();
    docs.dedup();
    docs
}

/// The report's file name.
pub const FILE_NAME: &str = "report.html";

/// The whole page; fails only if a headline cannot be read back.
pub fn render(run: &DedupRun, config: &DedupConfig, texts: &QuotedTexts) -> Result<String> {
    let headlines = ReportHeadlines::new(run);
    let view = View::new(run, config, texts, &headlines);
    let mut sections = vec![overview(&view), charts(&view)];
    sections.extend(stories(&view));
    sections.push(clusters(&view));
    let page = page(&view, &sections);
    headlines.finish()?;
    Ok(page)
}

// ---------------------------------------------------------------------------------------------
// What the sections share
// ---------------------------------------------------------------------------------------------

/// The run and the values derived from it that several sections use.
struct View<'a> {
    run: &'a DedupRun,
    config: &'a DedupConfig,
    texts: &'a QuotedTexts,
    headlines: &'a ReportHeadlines<'a>,
    /// Cluster indices, largest first (ties in cluster order).
    by_size: Vec<u32>,
    /// Articles removed as duplicates (cluster members other than the kept copy).
    removed: usize,
    /// Distinct outlets.
    outlets: usize,
    /// Story indices, most articles first (ties in story order); empty without stories.
    stories_by_size: Vec<u32>,
}

impl<'a> View<'a> {
    fn new(
        run: &'a DedupRun,
        config: &'a DedupConfig,
        texts: &'a QuotedTexts,
        headlines: &'a ReportHeadlines<'a>,
    ) -> View<'a> {
        // Tonight's articles that are not their cluster's kept copy (with an index, the kept
        // copy may be an earlier night's).
        let removed = (0..run.batch_len)
            .filter(|&d| {
                run.clusters.cluster_of[d]
                    .is_some_and(|c| run.clusters.clusters[c as usize].canonical as usize != d)
            })
            .count();
        // Counted through a set: a list of every article's outlet took 16 bytes an article.
        let outlets: ahash::AHashSet<&str> =
            run.batch().iter().filter_map(|a| a.source()).collect();
        let mut stories_by_size: Vec<u32> = Vec::new();
        if let Some(stories) = &run.stories {
            stories_by_size = (0..stories.stories.len() as u32).collect();
            stories_by_size
                .sort_by_key(|&s| (Reverse(stories.stories[s as usize].articles.len()), s));
        }
        View {
            run,
            config,
            texts,
            headlines,
            by_size: clusters_by_size(run),
            removed,
            outlets: outlets.len(),
            stories_by_size,
        }
    }

    fn similarity(&self, doc: u32) -> f64 {
        self.run.clusters.similarity(doc as usize).unwrap_or(1.0)
    }
}

/// One titled part of the page, with its anchor in the navigation.
struct Section {
    anchor: &'static str,
    title: &'static str,
    body: String,
}

/// Cluster indices, largest first, ties in cluster order.
fn clusters_by_size(run: &DedupRun) -> Vec<u32> {
    let clusters = &run.clusters.clusters;
    let mut order: Vec<u32> = (0..clusters.len() as u32).collect();
    order.sort_by_key(|&c| (Reverse(clusters[c as usize].members.len()), c));
    order
}

/// The kept copy of a cluster and the member least similar to it (ties: first in input).
fn diff_pair(run: &DedupRun, cluster: u32) -> (u32, u32) {
    let c = &run.clusters.clusters[cluster as usize];
    let similarity = |d: u32| run.clusters.similarity(d as usize).unwrap_or(1.0);
    let member = c
        .members
        .iter()
        .copied()
        .filter(|&d| d != c.canonical)
        .min_by(|&a, &b| similarity(a).total_cmp(&similarity(b)).then(a.cmp(&b)))
        .expect("a cluster has at least two members");
    (c.canonical, member)
}

/// Text escaped for HTML content and double- or single-quoted attribute values.
struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    /// Escapes the five characters HTML gives meaning to, and drops bidirectional overrides,
    /// embeddings and isolates (as report.md does): one in a headline would reverse the text
    /// after it in the same line, a tooltip's or a legend's. Drops the control characters HTML
    /// does not allow in text either (C0 but tab, line feed, form feed and carriage return;
    /// DEL; C1), which a browser shows as boxes and which make `grep` call the page binary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let bytes = s.as_bytes();
        let mut last = 0;
        for (i, &byte) in bytes.iter().enumerate() {
            let (replacement, len) = match byte {
                b'&' => ("&amp;", 1),
                b'<' => ("&lt;", 1),
                b'>' => ("&gt;", 1),
                b'"' => ("&quot;", 1),
                b'\'' => ("&#39;", 1),
                0x00..=0x08 | 0x0B | 0x0E..=0x1F | 0x7F => ("", 1),
                // U+0080..=U+009F, two bytes each.
                0xC2 if matches!(bytes.get(i + 1), Some(0x80..=0x9F)) => ("", 2),
                // U+202A..=U+202E and U+2066..=U+2069, three bytes each.
                0xE2 if matches!(
                    bytes.get(i + 1..i + 3),
                    Some([0x80, 0xAA..=0xAE] | [0x81, 0xA6..=0xA9])
                ) =>
                {
                    ("", 3)
                }
                _ => continue,
            };
            f.write_str(&s[last..i])?;
            f.write_str(replacement)?;
            last = i + len;
        }
        f.write_str(&s[last..])
    }
}

/// At most `max_chars` characters of `s`, with an ellipsis when cut.
fn clip(s: &str, max_chars: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max_chars) {
        None => Cow::Borrowed(s),
        Some((end, _)) => Cow::Owned(format!("{}…", &s[..end])),
    }
}

/// The URL if it may become a link: `http` or `https`, no whitespace or control characters
/// (which browsers strip or reinterpret), not absurdly long.
fn safe_url(url: &str) -> Option<&str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let scheme_ok = lower.starts_with("http://") || lower.starts_with("https://");
    let clean = !url.chars().any(|c| c.is_whitespace() || c.is_control());
    (scheme_ok && clean && url.len() <= URL_CHARS).then_some(url)
}

/// `1234567` as `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A time in UTC to the minute, e.g. `2017-09-07 14:05`.
fn date_time(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// An article's date: to the minute, or the day alone when it was given without a time of day.
fn published(a: &Article) -> String {
    match a.published() {
        Some(t) if a.date_only() => date(t),
        Some(t) => date_time(t),
        None => String::new(),
    }
}

/// A time in UTC to the day.
fn date(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The lowercase name serde gives a configuration enum.
fn name_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

fn page(view: &View<'_>, sections: &[Section]) -> String {
    let run = view.run;
    let mut out = String::with_capacity(64 * 1024);
    let inputs: Vec<&str> = run
        .stats
        .inputs
        .iter()
        .map(|i| match i.path.as_str() {
            "-" => "standard input",
            path => path,
        })
        .collect();
    let inputs = clip(&inputs.join(", "), 200).into_owned();
    // The policy refuses every fetch: no default sources, the inline style and script allowed
    // only by their hashes, nothing else.
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{STYLE_SHA256}'; \
         script-src 'sha256-{SCRIPT_SHA256}'; img-src 'none'; font-src 'none'; \
         connect-src 'none'; base-uri 'none'; form-action 'none'"
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"storyhash {version}\">\n\
         <title>storyhash report: {title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header class=\"top\"><div class=\"wrap\"><h1>storyhash</h1>\
         <span class=\"meta\">{kind} · {title}</span><nav class=\"sections\">",
        version = env!("CARGO_PKG_VERSION"),
        title = Esc(&inputs),
        kind = if run.stories.is_some() {
            "near-duplicate and story report"
        } else {
            "near-duplicate report"
        },
    );
    for s in sections {
        let _ = write!(out, "<a href=\"#{}\">{}</a>", s.anchor, s.title);
    }
    out.push_str("</nav></div></header>\n<main class=\"wrap\">\n");
    let mut form = filter_form(view);
    for s in sections {
        // The search and outlet filter stand before the lists they filter, outside any one
        // section, so they stay in view over all of them.
        if matches!(s.anchor, "stories" | "clusters") && !form.is_empty() {
            out.push_str(&form);
            form.clear();
        }
        let _ = write!(
            out,
            "<section class=\"block\" id=\"{}\">\n<h2>{}</h2>\n{}</section>\n",
            s.anchor, s.title, s.body
        );
    }
    let _ = write!(
        out,
        "<footer>Made by storyhash {}. Every article and cluster is in \
         <code>articles.jsonl</code> and <code>duplicates.jsonl</code> beside this page; the \
         run's numbers are in <code>summary.json</code>. Times are UTC.</footer>\n</main>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Overview
// ---------------------------------------------------------------------------------------------

fn overview(view: &View<'_>) -> Section {
    let run = view.run;
    let config = view.config;
    let stats = &run.stats;
    let n_articles = run.batch_len;
    let lines_in: u64 = stats.inputs.iter().map(|i| i.lines).sum();
    let n_clusters = run.clusters.clusters.len();
    let largest = view
        .by_size
        .first()
        .map_or(0, |&c| run.clusters.clusters[c as usize].members.len());
    let mut body = String::new();

    let rejected_files = super::rejected_files(run);
    let mut cards: Vec<(&str, String, String)> = vec![
        (
            "Articles in",
            thousands(lines_in),
            format!("{} accepted", thousands(n_articles as u64)),
        ),
        (
            "Rejected",
            thousands(run.rejects.len() as u64),
            match (run.rejects.is_empty(), rejected_files) {
                (true, _) => "none".into(),
                (false, 0) => "see rejects.jsonl".into(),
                (false, files) => format!(
                    "{} and {} holding no articles; see rejects.jsonl",
                    counted(run.rejects.len() - files, "line", "lines"),
                    counted(files, "file", "files")
                ),
            },
        ),
        (
            "Duplicate clusters",
            thousands(n_clusters as u64),
            format!("largest: {}", thousands(largest as u64)),
        ),
        (
            "Removed",
            percent(view.removed, n_articles),
            format!("{} duplicates", thousands(view.removed as u64)),
        ),
        (
            "Kept",
            thousands((n_articles - view.removed) as u64),
            "in deduped.jsonl".into(),
        ),
        (
            "Outlets",
            thousands(view.outlets as u64),
            "distinct sources".into(),
        ),
    ];
    if let Some(stories) = &run.stories {
        let largest = view
            .stories_by_size
            .first()
            .map_or(0, |&s| stories.stories[s as usize].articles.len());
        cards.push((
            "Stories",
            thousands(stories.stories.len() as u64),
            "one event each, across outlets".into(),
        ));
        cards.push((
            "Multi-article stories",
            thousands(stories.stats.multi_article_stories),
            format!(
                "two or more articles; largest: {}",
                thousands(largest as u64)
            ),
        ));
    }
    let _ = writeln!(
        body,
        "<div class=\"stats{}\">",
        if cards.len() > 6 { " many" } else { "" }
    );
    for (label, value, sub) in &cards {
        let _ = writeln!(
            body,
            "<div class=\"card stat\"><div class=\"label\">{label}</div>\
             <div class=\"value\" data-stat=\"{}\">{value}</div><div class=\"sub\">{sub}</div></div>",
            label.to_lowercase().replace(' ', "-"),
        );
    }
    body.push_str("</div>\n");

    let notes = warnings(run, view.config);
    if !notes.is_empty() {
        body.push_str("<div class=\"notes\"><ul>");
        for note in notes {
            let _ = write!(body, "<li>{note}</li>");
        }
        body.push_str("</ul></div>\n");
    }

    // Parameters and timings side by side.
    let lsh = &run.lsh;
    let shingles = format!(
        "{} {}-grams",
        name_of(&config.shingle.kind),
        config.shingle.ngram
    );
    let params: [(&str, String); 10] = [
        ("Shingles", shingles),
        (
            "Sketch",
            format!("{}, {} slots", name_of(&config.sketch), config.num_perm),
        ),
        ("LSH", crate::lsh::bands_by_rows(lsh.bands, lsh.rows)),
        ("Threshold", format!("{:.2}", config.cluster.threshold)),
        (
            "Expected false positives (S-curve area)",
            crate::lsh::area_text(lsh.expected_false_positive),
        ),
        (
            "Expected false negatives (S-curve area)",
            crate::lsh::area_text(lsh.expected_false_negative),
        ),
        ("Verification", name_of(&config.verify)),
        ("Kept copy", name_of(&config.cluster.keep)),
        (
            "Chains split",
            if config.cluster.split_chains {
                "yes"
            } else {
                "no"
            }
            .into(),
        ),
        (
            "Boilerplate learned",
            if config.learn_boilerplate {
                format!("from {}+ articles per outlet", config.boilerplate_min_docs)
            } else {
                "no".into()
            },
        ),
    ];
    body.push_str(
        "<div class=\"grid2\">\n<div class=\"card\"><h3>Parameters</h3><table class=\"kv\">",
    );
    for (key, value) in &params {
        let _ = write!(
            body,
            "<tr><th>{key}</th><td class=\"num\">{}</td></tr>",
            Esc(value)
        );
    }
    body.push_str(
        "</table><h3 class=\"sub\">Inputs</h3><table><tr><th>File</th>\
         <th class=\"num\">Lines</th><th class=\"num\">Rejected</th></tr>",
    );
    const LISTED_INPUTS: usize = 10;
    for input in stats.inputs.iter().take(LISTED_INPUTS) {
        let _ = write!(
            body,
            "<tr><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            Esc(&clip(&input.path, 120)),
            thousands(input.lines),
            thousands(input.rejected),
        );
    }
    if stats.inputs.len() > LISTED_INPUTS {
        let _ = write!(
            body,
            "<tr><td colspan=\"3\" class=\"muted\">and {} more</td></tr>",
            thousands((stats.inputs.len() - LISTED_INPUTS) as u64)
        );
    }
    body.push_str(
        "</table></div>\n<div class=\"card\"><h3>Time per stage</h3><table>\
         <tr><th>Stage</th><th class=\"num\">Seconds</th><th class=\"bar-cell\"></th></tr>",
    );
    let total: f64 = run.timings.iter().map(|t| t.1).sum();
    for &(stage, seconds) in &run.timings {
        let width = if total > 0.0 {
            90.0 * seconds / total
        } else {
            0.0
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"num\">{seconds:.3}</td><td class=\"bar-cell\">\
             <svg width=\"90\" height=\"8\" aria-hidden=\"true\"><rect class=\"track\" \
             width=\"90\" height=\"8\" rx=\"2\"/><rect class=\"s1\" width=\"{width:.1}\" \
             height=\"8\" rx=\"2\"/></svg></td></tr>",
            Esc(stage)
        );
    }
    let mb_per_s = if total > 0.0 {
        stats.text_bytes as f64 / 1e6 / total
    } else {
        0.0
    };
    let _ = write!(
        body,
        "<tr><th>Total (before writing)</th><td class=\"num\"><strong>{total:.3}</strong></td>\
         <td class=\"muted\">{} MB/s</td></tr></table>",
        rate_text(mb_per_s)
    );
    let counts: [(&str, String); 6] = [
        (
            "Article text",
            format!("{:.1} MB", stats.text_bytes as f64 / 1e6),
        ),
        (
            "Boilerplate lines learned",
            thousands(stats.learned_boilerplate_lines as u64),
        ),
        ("Candidate pairs", thousands(stats.candidate_pairs)),
        ("Decided on exact Jaccard", thousands(stats.exact_checked)),
        (
            // With an index, pairs with earlier nights' articles are counted apart (the
            // chart of verified pairs shows both).
            if run.index.is_some() {
                "Verified pairs within the batch"
            } else {
                "Verified pairs"
            },
            thousands(stats.verified_pairs),
        ),
        ("Largest LSH bucket", thousands(stats.largest_bucket)),
    ];
    body.push_str("<h3 class=\"sub\">Counts</h3><table class=\"kv\">");
    for (key, value) in &counts {
        let _ = write!(
            body,
            "<tr><th>{key}</th><td class=\"num\">{}</td></tr>",
            Esc(value)
        );
    }
    body.push_str("</table></div>\n</div>\n");
    Section {
        anchor: "overview",
        title: "Overview",
        body,
    }
}

/// Things the reader should know about the run, as HTML list items.
fn warnings(run: &DedupRun, config: &DedupConfig) -> Vec<String> {
    let stats = &run.stats;
    let mut notes = Vec::new();
    if !run.rejects.is_empty() {
        let files = super::rejected_files(run);
        let lines = run.rejects.len() - files;
        let mut what = Vec::new();
        if lines > 0 {
            what.push(counted(lines, "input line", "input lines"));
        }
        if files > 0 {
            what.push(format!(
                "{} holding no articles",
                counted(files, "file", "files")
            ));
        }
        let mut note = format!(
            "{} {} rejected; each is in <code>rejects.jsonl</code> with its reason",
            what.join(" and "),
            if run.rejects.len() == 1 {
                "was"
            } else {
                "were"
            }
        );
        if let Some(first) = run.rejects.first() {
            let _ = write!(
                note,
                " (first: {}{}: {})",
                Esc(&clip(&first.file, 80)),
                first
                    .line
                    .map(|l| format!(", line {l}"))
                    .unwrap_or_default(),
                Esc(&clip(&first.reason, 160)),
            );
        }
        notes.push(note + ".");
    }
    if run.clusters.below_threshold > 0 {
        notes.push(format!(
            "{} cluster members are less similar to their kept copy than the threshold: they \
             joined through other members (a chain). <code>--split-chains</code> separates them.",
            thousands(run.clusters.below_threshold as u64)
        ));
    }
    if stats.huge_buckets > 0 {
        notes.push(format!(
            "{} LSH buckets had more than {} members (the largest {}): their members were paired \
             with their neighbours only. Such buckets are usually boilerplate pages.",
            thousands(stats.huge_buckets),
            crate::lsh::MAX_BUCKET,
            thousands(stats.largest_bucket),
        ));
    }
    if stats.no_shingles > 0 {
        notes.push(format!(
            "{} no words and {} not compared.{}",
            counted(stats.no_shingles as usize, "article has", "articles have"),
            if stats.no_shingles == 1 {
                "was"
            } else {
                "were"
            },
            super::text_field_hint(run, config)
        ));
    }
    notes
}

// ---------------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------------

fn charts(view: &View<'_>) -> Section {
    let mut body = String::from("<div class=\"charts\">\n");
    for chart in [
        size_chart(view),
        similarity_chart(view),
        timeline_chart(view, story_series(view)),
    ] {
        body.push_str(&chart);
    }
    body.push_str("</div>\n");
    Section {
        anchor: "charts",
        title: "Charts",
        body,
    }
}

/// One chart in a card, with its heading, optional legend and caption.
fn chart_card(title: &str, chart: &BarChart, caption: &str) -> String {
    let wide = if chart.width > BarChart::NARROW {
        " wide"
    } else {
        ""
    };
    let mut out = format!("<figure class=\"card chart{wide}\"><h3>{}</h3>", Esc(title));
    if chart.series.len() > 1 {
        out.push_str("<div class=\"legend\">");
        for s in &chart.series {
            let _ = write!(
                out,
                "<span><span class=\"swatch s{}\"></span>{}</span>",
                (s.color + 8) % 9 + 1,
                Esc(&s.name)
            );
        }
        out.push_str("</div>");
    }
    out.push_str(&chart.svg());
    let _ = writeln!(
        out,
        "<figcaption class=\"caption\">{caption}</figcaption></figure>"
    );
    out
}

fn size_chart(view: &View<'_>) -> String {
    const BINS: [(usize, usize, &str); 9] = [
        (2, 2, "2"),
        (3, 3, "3"),
        (4, 4, "4"),
        (5, 5, "5"),
        (6, 9, "6–9"),
        (10, 19, "10–19"),
        (20, 49, "20–49"),
        (50, 99, "50–99"),
        (100, usize::MAX, "100+"),
    ];
    let mut counts = [0u64; BINS.len()];
    for c in &view.run.clusters.clusters {
        let n = c.members.len();
        if let Some(bin) = BINS.iter().position(|&(lo, hi, _)| (lo..=hi).contains(&n)) {
            counts[bin] += 1;
        }
    }
    // Bins up to the largest size present, at least the first four.
    let used = counts
        .iter()
        .rposition(|&n| n > 0)
        .map_or(4, |i| (i + 1).max(4));
    let chart = BarChart {
        label: "Clusters by number of articles".into(),
        bins: BINS[..used].iter().map(|b| b.2.to_string()).collect(),
        series: vec![Series {
            name: "clusters".into(),
            values: counts[..used].to_vec(),
            color: 1,
        }],
        unit: "clusters",
        marker: None,
        value_labels: true,
        axis: Axis::Categories,
        width: BarChart::NARROW,
    };
    chart_card(
        "Cluster sizes",
        &chart,
        &format!(
            "Near-duplicate clusters by number of articles ({} clusters).",
            thousands(view.run.clusters.clusters.len() as u64)
        ),
    )
}

/// "The 10 largest of 1,234 clusters", or "All 7 clusters" when every one is shown.
fn shown_of(shown: usize, of: usize, what: &str) -> String {
    if shown >= of {
        format!("All {} {what}", thousands(of as u64))
    } else {
        format!(
            "The {} largest of {} {what}",
            thousands(shown as u64),
            thousands(of as u64)
        )
    }
}

fn similarity_chart(view: &View<'_>) -> String {
    let run = view.run;
    let threshold = view.config.cluster.threshold;
    let sims = &run.edge_similarity;
    let lowest = sims.iter().copied().fold(threshold, f64::min);
    // From a round value a little below the lowest similarity (and the threshold) up to 1.
    let lo = (((lowest - 0.05) * 10.0).floor() / 10.0).clamp(0.0, 0.9);
    let width = if 1.0 - lo > 0.35 { 0.05 } else { 0.02 };
    let n_bins = ((1.0 - lo) / width).round().max(1.0) as usize;
    let mut counts = vec![0u64; n_bins];
    for &s in sims {
        let bin = (((s - lo) / width).floor().max(0.0) as usize).min(n_bins - 1);
        counts[bin] += 1;
    }
    let chart = BarChart {
        label: "Verified pairs by estimated similarity".into(),
        bins: (0..n_bins)
            .map(|i| format!("{:.2}", lo + i as f64 * width))
            .collect(),
        series: vec![Series {
            name: "pairs".into(),
            values: counts,
            color: 1,
        }],
        unit: "pairs",
        marker: Some(Marker {
            at: (threshold - lo) / width,
            label: format!("threshold {threshold:.2}"),
        }),
        value_labels: false,
        axis: Axis::Edges {
            end: "1.00".into(),
            step: (0.1 / width).round() as usize,
        },
        width: BarChart::NARROW,
    };
    chart_card(
        "Similarity of verified pairs",
        &chart,
        &format!(
            "{} verified pairs{} by their MinHash estimate of Jaccard similarity.",
            thousands(sims.len() as u64),
            match run.stats.index {
                Some(_) => {
                    let batch = run.batch().len();
                    let earlier = run
                        .edges
                        .iter()
                        .filter(|&&(a, b)| (a as usize) < batch && (b as usize) >= batch)
                        .count();
                    format!(
                        " ({} within the batch, {} with articles of earlier nights)",
                        thousands((sims.len() - earlier) as u64),
                        thousands(earlier as u64)
                    )
                }
                None => String::new(),
            }
        ),
    )
}

/// The [`CHART_STORIES`] largest stories of two or more articles as timeline series (their
/// articles per bin of [`Timeline::of`] over all articles), with their members; none without
/// stories.
fn story_series(view: &View<'_>) -> (Vec<Series>, Vec<u32>) {
    let run = view.run;
    let Some(stories) = &run.stories else {
        return (Vec::new(), Vec::new());
    };
    let timeline = Timeline::of(run.batch().iter().map(|a| a.published()));
    let mut series = Vec::new();
    let mut members = Vec::new();
    for &story in view.stories_by_size.iter().take(CHART_STORIES) {
        let st = &stories.stories[story as usize];
        if st.articles.len() < 2 {
            break;
        }
        let mut values = vec![0u64; timeline.bins];
        for &d in &st.articles {
            if let Some(bin) = run.articles[d as usize]
                .published()
                .and_then(|t| timeline.bin(t))
            {
                values[bin] += 1;
            }
        }
        let head = &run.articles[st.headline_article as usize];
        let headline = view.headlines.get(st.headline_article);
        let name = headline
            .title
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(head.id().as_str());
        series.push(Series {
            name: format!("#{} {}", run.story_id(story), clip(name, LEGEND_CHARS)),
            values,
            color: series.len() + 1,
        });
        members.extend_from_slice(&st.articles);
    }
    members.sort_unstable();
    (series, members)
}

/// Articles per day (or week, month, year, whichever keeps the bars readable), stacked: kept
/// copies and duplicates, or, given `stories` (series per bin of [`Timeline::of`] over the
/// same articles, and their articles, sorted), those series and the other articles.
fn timeline_chart(view: &View<'_>, stories: (Vec<Series>, Vec<u32>)) -> String {
    let run = view.run;
    let (extra, in_extra) = stories;
    let n_stories = extra.len();
    let timeline = Timeline::of(run.batch().iter().map(|a| a.published()));
    let mut kept = vec![0u64; timeline.bins];
    let mut duplicates = vec![0u64; timeline.bins];
    for (doc, a) in run.batch().iter().enumerate() {
        let Some(bin) = a.published().and_then(|t| timeline.bin(t)) else {
            continue;
        };
        if !extra.is_empty() {
            if in_extra.binary_search(&(doc as u32)).is_err() {
                kept[bin] += 1;
            }
            continue;
        }
        let is_duplicate = run.clusters.cluster_of[doc]
            .is_some_and(|c| run.clusters.clusters[c as usize].canonical != doc as u32);
        if is_duplicate {
            duplicates[bin] += 1;
        } else {
            kept[bin] += 1;
        }
    }
    let series = if extra.is_empty() {
        vec![
            Series {
                name: "kept".into(),
                values: kept,
                color: 1,
            },
            Series {
                name: "duplicates".into(),
                values: duplicates,
                color: 2,
            },
        ]
    } else {
        let mut series = extra;
        series.push(Series {
            name: "other articles".into(),
            values: kept,
            color: 9,
        });
        series
    };
    let unit = timeline.unit.name();
    let chart = BarChart {
        label: format!("Articles per {unit}"),
        bins: (0..timeline.bins).map(|b| timeline.label(b)).collect(),
        series,
        unit: "articles",
        marker: None,
        value_labels: false,
        axis: Axis::Categories,
        width: BarChart::WIDE,
    };
    let mut caption = format!("Articles by publication {unit} (UTC)");
    if n_stories > 0 {
        let _ = write!(
            caption,
            ", the {n_stories} largest {} apart from the other articles",
            if n_stories == 1 { "story" } else { "stories" }
        );
    }
    if timeline.undated > 0 {
        let _ = write!(caption, "; {} without a date", thousands(timeline.undated));
    }
    if timeline.outside > 0 {
        let _ = write!(
            caption,
            "; {} outside the range shown",
            thousands(timeline.outside)
        );
    }
    caption.push('.');
    chart_card(&format!("Articles per {unit}"), &chart, &caption)
}

/// The width of a timeline bar.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeUnit {
    Day,
    Week,
    Month,
    Year,
}

impl TimeUnit {
    fn name(self) -> &'static str {
        match self {
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
            TimeUnit::Month => "month",
            TimeUnit::Year => "year",
        }
    }

    /// The bar a day (days since the epoch) falls in, as a key that counts bars.
    fn key(self, day: i64) -> i64 {
        match self {
            TimeUnit::Day => day,
            // Weeks start on Monday; 1970-01-01 was a Thursday.
            TimeUnit::Week => (day + 3).div_euclid(7),
            TimeUnit::Month | TimeUnit::Year => {
                let date = civil_date(day);
                let year = i64::from(date.year());
                if self == TimeUnit::Month {
                    year * 12 + i64::from(date.month()) - 1
                } else {
                    year
                }
            }
        }
    }

    fn label(self, key: i64) -> String {
        match self {
            TimeUnit::Day => civil_date(key).to_string(),
            TimeUnit::Week => civil_date(key * 7 - 3).to_string(),
            TimeUnit::Month => format!("{}-{:02}", key.div_euclid(12), key.rem_euclid(12) + 1),
            TimeUnit::Year => key.to_string(),
        }
    }
}

/// The civil date (UTC) of a day counted from the epoch.
fn civil_date(day: i64) -> jiff::civil::Date {
    let t = jiff::Timestamp::from_second(day.saturating_mul(86_400))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    jiff::tz::Offset::UTC.to_datetime(t).date()
}

/// Bars over time: the unit, the first bar and how many, chosen from the articles' dates.
#[derive(Debug)]
struct Timeline {
    unit: TimeUnit,
    /// Key of the first bar.
    first: i64,
    /// Number of bars (at least one).
    bins: usize,
    /// Articles without a date.
    undated: u64,
    /// Articles dated outside the bars (the earliest and latest tenth of a percent, when far).
    outside: u64,
}

impl Timeline {
    /// Most bars a timeline draws.
    const MAX_BINS: i64 = 150;

    fn of(published: impl Iterator<Item = Option<i64>>) -> Timeline {
        // Articles per day: a run spans far fewer days than it has articles.
        let mut days: std::collections::BTreeMap<i64, u64> = Default::default();
        let mut undated = 0;
        for p in published {
            match p {
                Some(t) => *days.entry(t.div_euclid(86_400)).or_default() += 1,
                None => undated += 1,
            }
        }
        let n: u64 = days.values().sum();
        // The day of the article at `rank` in date order.
        let day_at = |rank: u64| {
            let mut before = 0;
            for (&day, &count) in &days {
                before += count;
                if before > rank {
                    return day;
                }
            }
            unreachable!("rank {rank} is below the {n} dated articles")
        };
        if days.is_empty() {
            return Timeline {
                unit: TimeUnit::Day,
                first: 0,
                bins: 0,
                undated,
                outside: 0,
            };
        }
        // A stray date decades away would squeeze every other bar: the range leaves out the
        // earliest and latest 0.1% (nothing at all below 1,000 articles), when the whole range
        // would need coarser bars than the rest (a last day of the data is no stray).
        let unit_for = |lo: i64, hi: i64| {
            [TimeUnit::Day, TimeUnit::Week, TimeUnit::Month]
                .into_iter()
                .find(|u| u.key(hi) - u.key(lo) < Self::MAX_BINS)
                .unwrap_or(TimeUnit::Year)
        };
        let trim = n / 1000;
        let (trimmed_lo, trimmed_hi) = (day_at(trim), day_at(n - 1 - trim));
        let unit = unit_for(trimmed_lo, trimmed_hi);
        // Then each end widened to the furthest day of the data that needs no coarser bars:
        // only strays are left out, not real days beside them.
        let lo = days
            .keys()
            .copied()
            .find(|&d| unit_for(d, trimmed_hi) == unit)
            .unwrap_or(trimmed_lo);
        let hi = days
            .keys()
            .rev()
            .copied()
            .find(|&d| unit_for(lo, d) == unit)
            .unwrap_or(trimmed_hi);
        let last = unit.key(hi);
        let first = unit.key(lo).max(last - Self::MAX_BINS + 1);
        let mut timeline = Timeline {
            unit,
            first,
            bins: (last - first + 1) as usize,
            undated,
            outside: 0,
        };
        timeline.outside = days
            .iter()
            .filter(|&(&d, _)| timeline.bin(d * 86_400).is_none())
            .map(|(_, &count)| count)
            .sum();
        timeline
    }

    /// The bar of a publication time, if inside the timeline.
    fn bin(&self, seconds: i64) -> Option<usize> {
        let offset = self.unit.key(seconds.div_euclid(86_400)) - self.first;
        usize::try_from(offset).ok().filter(|&b| b < self.bins)
    }

    fn label(&self, bin: usize) -> String {
        self.unit.label(self.first + bin as i64)
    }
}

/// A named row of values, one per bar.
struct Series {
    name: String,
    values: Vec<u64>,
    /// Its color: style class `s1` to `s9`.
    color: usize,
}

/// A vertical line across a chart.
struct Marker {
    /// Position in bars from the left edge (1.5 is the middle of the second bar).
    at: f64,
    label: String,
}

/// How the bars of a [`BarChart`] are labelled.
enum Axis {
    /// Each label names its bar (written under its middle).
    Categories,
    /// Each label is where its bar starts on a numeric scale (written under its left edge).
    Edges {
        /// Where the last bar ends.
        end: String,
        /// Label every `step`-th edge (or a multiple of it when they do not fit).
        step: usize,
    },
}

/// A bar chart drawn as inline SVG: one bar per bin, series stacked bottom to top.
struct BarChart {
    /// What the chart shows, for screen readers.
    label: String,
    /// One label per bar.
    bins: Vec<String>,
    /// Stacked series, each with one value per bar.
    series: Vec<Series>,
    /// What the values count, for the tooltips.
    unit: &'static str,
    marker: Option<Marker>,
    /// Write each bar's total above it (for few bars).
    value_labels: bool,
    /// How the bars are labelled.
    axis: Axis,
    /// Width in SVG units ([`BarChart::NARROW`] for half the page, [`BarChart::WIDE`] for all
    /// of it); text keeps its size, so wider charts have room for more bars and labels.
    width: f64,
}

impl BarChart {
    const NARROW: f64 = 540.0;
    const WIDE: f64 = 1100.0;
    const HEIGHT: f64 = 230.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 10.0;
    const TOP: f64 = 18.0;
    const BOTTOM: f64 = 34.0;

    fn svg(&self) -> String {
        let n = self.bins.len();
        let plot_w = self.width - Self::LEFT - Self::RIGHT;
        let plot_h = Self::HEIGHT - Self::TOP - Self::BOTTOM;
        let base = Self::TOP + plot_h;
        let totals: Vec<u64> = (0..n)
            .map(|b| self.series.iter().map(|s| s.values[b]).sum())
            .collect();
        let max = totals.iter().copied().max().unwrap_or(0);
        let step = nice_step(max);
        let top = (max.div_ceil(step) * step).max(step);
        let y = |v: u64| base - v as f64 * plot_h / top as f64;

        let mut out = format!(
            "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{label}\" \
             xmlns=\"http://www.w3.org/2000/svg\">",
            w = self.width,
            h = Self::HEIGHT,
            label = Esc(&self.label),
        );
        // Grid lines and the value axis.
        let mut tick = 0;
        while tick <= top {
            let ty = y(tick);
            let _ = write!(
                out,
                "<line class=\"grid\" x1=\"{l}\" x2=\"{r}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\"/>\
                 <text x=\"{tx}\" y=\"{ly:.1}\" text-anchor=\"end\">{}</text>",
                thousands(tick),
                l = Self::LEFT,
                r = self.width - Self::RIGHT,
                tx = Self::LEFT - 6.0,
                ly = ty + 3.5,
            );
            tick += step;
        }
        if n == 0 {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no data</text></svg>",
                Self::LEFT + plot_w / 2.0,
                Self::TOP + plot_h / 2.0
            );
            return out;
        }
        let bar_w = plot_w / n as f64;
        // Bars a little narrower than their slot, and never fat.
        let gap = if bar_w > 6.0 {
            (bar_w * 0.18).max(bar_w - 56.0)
        } else {
            0.0
        };
        for (b, label) in self.bins.iter().enumerate() {
            let x = Self::LEFT + b as f64 * bar_w + gap / 2.0;
            let range = match &self.axis {
                Axis::Categories => label.clone(),
                Axis::Edges { end, .. } => {
                    format!("{label}–{}", self.bins.get(b + 1).unwrap_or(end))
                }
            };
            // The units are plural nouns ending in s: one of them drops it.
            let unit = if totals[b] == 1 {
                self.unit.strip_suffix('s').unwrap_or(self.unit)
            } else {
                self.unit
            };
            let mut tooltip = format!("{range}: {} {unit}", thousands(totals[b]));
            if self.series.len() > 1 {
                let parts: Vec<String> = self
                    .series
                    .iter()
                    .map(|s| format!("{} {}", thousands(s.values[b]), s.name))
                    .collect();
                let _ = write!(tooltip, " ({})", parts.join(", "));
            }
            let _ = write!(out, "<g><title>{}</title>", Esc(&tooltip));
            // A full-height transparent bar makes the tooltip easy to reach.
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{t}\" width=\"{bw:.1}\" height=\"{plot_h}\" \
                 fill=\"transparent\"/>",
                t = Self::TOP,
                bw = bar_w - gap,
            );
            let mut stacked = 0;
            for s in &self.series {
                let v = s.values[b];
                if v == 0 {
                    continue;
                }
                let (y0, y1) = (y(stacked), y(stacked + v));
                let _ = write!(
                    out,
                    "<rect class=\"s{}\" x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{bw:.1}\" \
                     height=\"{h:.1}\"/>",
                    (s.color + 8) % 9 + 1,
                    bw = bar_w - gap,
                    h = (y0 - y1).max(0.5),
                );
                stacked += v;
            }
            out.push_str("</g>");
            if self.value_labels && totals[b] > 0 {
                let _ = write!(
                    out,
                    "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    x + (bar_w - gap) / 2.0,
                    y(totals[b]) - 4.0,
                    thousands(totals[b])
                );
            }
        }
        // Axis labels: as many as fit, evenly spaced, none past the edges or over another.
        let widest = self
            .bins
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(1);
        let fit = ((plot_w / (widest as f64 * 6.2 + 12.0)).floor() as usize).max(1);
        let mut every = n.div_ceil(fit).max(1);
        if let Axis::Edges { step, .. } = self.axis {
            // Multiples of the chart's round step, so that scale labels are round numbers.
            every = every.div_ceil(step.max(1)) * step.max(1);
        }
        let mut labels: Vec<(f64, &str)> = match &self.axis {
            Axis::Categories => (0..n)
                .step_by(every)
                .map(|b| (Self::LEFT + (b as f64 + 0.5) * bar_w, self.bins[b].as_str()))
                .collect(),
            Axis::Edges { end, .. } => (0..n)
                .step_by(every)
                .map(|b| (Self::LEFT + b as f64 * bar_w, self.bins[b].as_str()))
                .chain(
                    n.is_multiple_of(every)
                        .then_some((Self::LEFT + n as f64 * bar_w, end.as_str())),
                )
                .collect(),
        };
        let mut right_of_last = f64::MIN;
        for (x, text) in labels.drain(..) {
            let half = text.chars().count() as f64 * 3.3;
            let x = x.clamp(half + 2.0, self.width - half - 2.0);
            if x - half < right_of_last + 6.0 {
                continue;
            }
            right_of_last = x + half;
            let _ = write!(
                out,
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                base + 16.0,
                Esc(text)
            );
        }
        let _ = write!(
            out,
            "<line class=\"axis\" x1=\"{l}\" x2=\"{r}\" y1=\"{base}\" y2=\"{base}\"/>",
            l = Self::LEFT,
            r = self.width - Self::RIGHT,
        );
        if let Some(marker) = &self.marker {
            let mx = Self::LEFT + marker.at.clamp(0.0, n as f64) * bar_w;
            let anchor = if marker.at > n as f64 / 2.0 {
                ("end", -4.0)
            } else {
                ("start", 4.0)
            };
            let _ = write!(
                out,
                "<line class=\"marker\" x1=\"{mx:.1}\" x2=\"{mx:.1}\" y1=\"{t}\" y2=\"{base}\"/>\
                 <text class=\"marker-label\" x=\"{lx:.1}\" y=\"{ly}\" text-anchor=\"{a}\">{}</text>",
                Esc(&marker.label),
                t = Self::TOP - 6.0,
                lx = mx + anchor.1,
                ly = Self::TOP + 4.0,
                a = anchor.0,
            );
        }
        out.push_str("</svg>");
        out
    }
}

/// A round step (1, 2 or 5 times a power of ten) that cuts `0..=max` into about four.
fn nice_step(max: u64) -> u64 {
    let rough = (max as f64 / 4.0).max(1.0);
    let power = 10f64.powi(rough.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| s >= rough)
        .unwrap_or(10.0 * power);
    (step as u64).max(1)
}

// ---------------------------------------------------------------------------------------------
// Search and outlet filter
// ---------------------------------------------------------------------------------------------

/// The search and outlet filter over the listed stories and clusters (hidden until the script
/// shows it), or nothing when there is nothing to filter.
fn filter_form(view: &View<'_>) -> String {
    let run = view.run;
    let shown = &view.by_size[..view.by_size.len().min(SHOWN_CLUSTERS)];
    let compact =
        &view.by_size[shown.len()..view.by_size.len().min(SHOWN_CLUSTERS + COMPACT_CLUSTERS)];
    let stories = &view.stories_by_size[..view.stories_by_size.len().min(SHOWN_STORIES)];
    if shown.is_empty() && stories.is_empty() {
        return String::new();
    }
    // The outlets in the listed rows, most frequent first, each with the number of rows it has
    // on the page (not its articles in the corpus: "12 listed").
    let mut outlet_counts: HashMap<Cow<'_, str>, u64> = HashMap::new();
    let mut count = |doc: u32| {
        if let Some(s) = run.articles[doc as usize].source() {
            *outlet_counts.entry(clip(s, SOURCE_CHARS)).or_default() += 1;
        }
    };
    for &story in stories {
        story_rows(view, story).iter().for_each(|r| count(r.doc));
    }
    for &c in shown {
        listed_members(view, c).into_iter().for_each(&mut count);
    }
    for &c in compact {
        count(run.clusters.clusters[c as usize].canonical);
    }
    let mut outlets: Vec<(Cow<'_, str>, u64)> = outlet_counts.into_iter().collect();
    outlets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    outlets.truncate(OUTLET_OPTIONS);
    let what = if stories.is_empty() {
        "clusters"
    } else {
        "stories and clusters"
    };
    let mut out = format!(
        "<form class=\"filters\" id=\"filters\" hidden role=\"search\">\
         <input id=\"filter-word\" type=\"search\" placeholder=\"Search titles, outlets, ids…\" \
         aria-label=\"Search {what}\" autocomplete=\"off\">\
         <select id=\"filter-outlet\" aria-label=\"Filter by outlet\">\
         <option value=\"\">All outlets</option>"
    );
    for (outlet, count) in &outlets {
        let _ = write!(
            out,
            "<option value=\"{}\">{} ({} listed)</option>",
            Esc(outlet),
            Esc(outlet),
            thousands(*count)
        );
    }
    out.push_str(
        "</select><span class=\"status\" id=\"filter-status\" aria-live=\"polite\"></span>\
         </form>\n",
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Stories
// ---------------------------------------------------------------------------------------------

/// One listed article of a story: its document and its near-duplicate role.
struct StoryRow {
    doc: u32,
    /// The cluster the article is in, if any.
    cluster: Option<u32>,
    /// Whether it is a copy (a cluster member other than the kept one).
    copy: bool,
}

/// The articles a story's card lists, at most [`SHOWN_STORY_MEMBERS`]: the headline article's
/// unit first, then each unit (a near-duplicate cluster or a single article) in input order,
/// a cluster as its kept copy followed by its copies.
fn story_rows(view: &View<'_>, story: u32) -> Vec<StoryRow> {
    let run = view.run;
    let Some(stories) = &run.stories else {
        return Vec::new();
    };
    let st = &stories.stories[story as usize];
    let clusters = &run.clusters;
    let unit_of = |d: u32| {
        clusters.cluster_of[d as usize].map_or(d, |c| clusters.clusters[c as usize].canonical)
    };
    let head_unit = unit_of(st.headline_article);
    let mut units: Vec<u32> = st.articles.iter().map(|&d| unit_of(d)).collect();
    units.dedup();
    let mut seen = std::collections::HashSet::new();
    units.retain(|&u| seen.insert(u));
    units.sort_by_key(|&u| u != head_unit);
    let mut rows = Vec::new();
    for unit in units {
        if rows.len() >= SHOWN_STORY_MEMBERS {
            break;
        }
        let cluster = clusters.cluster_of[unit as usize];
        rows.push(StoryRow {
            doc: unit,
            cluster,
            copy: false,
        });
        if let Some(c) = cluster {
            for &d in &clusters.clusters[c as usize].members {
                if d != unit && rows.len() < SHOWN_STORY_MEMBERS {
                    rows.push(StoryRow {
                        doc: d,
                        cluster,
                        copy: true,
                    });
                }
            }
        }
    }
    rows
}

/// The largest stories, for `storyhash run` (no section for `dedup`).
fn stories(view: &View<'_>) -> Option<Section> {
    let stories = view.run.stories.as_ref()?;
    let n = stories.stories.len();
    let shown = &view.stories_by_size[..n.min(SHOWN_STORIES)];
    let mut body = String::new();
    if n == 0 {
        body.push_str("<p class=\"muted\">No stories.</p>\n");
    } else {
        let _ = writeln!(
            body,
            "<p class=\"muted\">{}: articles about one event across \
             outlets. Near-duplicate copies are listed under the article kept from their \
             cluster. Every story is in <code>stories.jsonl</code>.</p>",
            shown_of(shown.len(), n, "stories"),
        );
    }
    for &story in shown {
        story_card(view, story, &mut body);
    }
    if n > shown.len() {
        let _ = writeln!(
            body,
            "<p class=\"muted\">{} more stories are not listed here (the largest with {} \
             articles).</p>",
            thousands((n - shown.len()) as u64),
            thousands(
                stories.stories[view.stories_by_size[shown.len()] as usize]
                    .articles
                    .len() as u64
            ),
        );
    }
    Some(Section {
        anchor: "stories",
        title: "Largest stories",
        body,
    })
}

fn story_card(view: &View<'_>, story: u32, out: &mut String) {
    let run = view.run;
    let Some(stories) = &run.stories else {
        return;
    };
    let st = &stories.stories[story as usize];
    let articles = &run.articles;
    let head = &articles[st.headline_article as usize];
    let heading = match view.headlines.get(st.headline_article).title.as_deref() {
        Some(t) if !t.trim().is_empty() => Esc(&clip(t, TITLE_CHARS)).to_string(),
        _ => Esc(&clip(head.id().as_str(), ID_CHARS)).to_string(),
    };
    // Outlets by number of articles, then by name (as in stories.jsonl).
    let outlets = super::outlets_by_count(st.articles.iter().map(|&d| &articles[d as usize]));
    let members = || st.articles.iter().map(|&d| &articles[d as usize]);
    let dates = members().filter_map(Article::published);
    // Each end to the minute when an article there gave a time of day, else to the day.
    let end = |t: i64| {
        if members().any(|a| a.published() == Some(t) && !a.date_only()) {
            date_time(t)
        } else {
            date(t)
        }
    };
    let span = match (dates.clone().min(), dates.max()) {
        (Some(a), Some(b)) if date(a) == date(b) => format!(" · {}", date(a)),
        (Some(a), Some(b)) => format!(" · {} to {}", end(a), end(b)),
        _ => String::new(),
    };
    let mut dup_clusters: Vec<u32> = st
        .articles
        .iter()
        .filter_map(|&d| run.clusters.cluster_of[d as usize])
        .collect();
    dup_clusters.sort_unstable();
    dup_clusters.dedup();
    let copies = st
        .articles
        .iter()
        .filter(|&&d| {
            run.clusters.cluster_of[d as usize]
                .is_some_and(|c| run.clusters.clusters[c as usize].canonical != d)
        })
        .count();
    let dup_note = match dup_clusters.len() {
        0 => String::new(),
        k => format!(
            " · {} near-duplicate {} ({} {})",
            thousands(k as u64),
            if k == 1 { "cluster" } else { "clusters" },
            thousands(copies as u64),
            if copies == 1 { "copy" } else { "copies" },
        ),
    };
    let id = view.run.story_id(story);
    let continued = if run.story_continued(id) == Some(true) {
        " · continued from an earlier night"
    } else {
        ""
    };
    let _ = write!(
        out,
        "<article class=\"card story\" id=\"s{story}\" data-item=\"story\"><header>\
         <h3>{heading}</h3><div class=\"meta\">Story #{id} · {} · {}{span}\
         {dup_note}{continued}</div>",
        // With an index, the table below also lists earlier nights' copies: the counts are
        // tonight's.
        match run.stats.index {
            Some(_) => counted(st.articles.len(), "article tonight", "articles tonight"),
            None => counted(st.articles.len(), "article", "articles"),
        },
        counted(outlets.len(), "outlet", "outlets"),
    );
    if !outlets.is_empty() {
        out.push_str("<div class=\"outlets\">");
        for (i, (name, count)) in outlets.iter().take(STORY_OUTLETS_NAMED).enumerate() {
            let sep = if i > 0 { ", " } else { "" };
            let times = if *count > 1 {
                format!(" ×{count}")
            } else {
                String::new()
            };
            let _ = write!(out, "{sep}{}{times}", Esc(&clip(name, SOURCE_CHARS)));
        }
        if outlets.len() > STORY_OUTLETS_NAMED {
            let _ = write!(
                out,
                " and {} more",
                thousands((outlets.len() - STORY_OUTLETS_NAMED) as u64)
            );
        }
        out.push_str("</div>");
    }
    out.push_str(
        "</header><table><thead><tr><th></th><th>Outlet</th><th>Title</th><th>Published</th>\
         <th>Near-duplicates</th></tr></thead><tbody>",
    );
    let rows = story_rows(view, story);
    for row in &rows {
        let a = &articles[row.doc as usize];
        let source = clip(a.source().unwrap_or(""), SOURCE_CHARS);
        let is_head = row.doc == st.headline_article;
        let badge = if is_head {
            "<span class=\"badge head\">headline</span>"
        } else if row.copy {
            "<span class=\"badge copy\">copy</span>"
        } else {
            ""
        };
        // Clusters listed on this page get a link to their card or row.
        let cluster_ref = |c: u32| {
            let listed = view.by_size.len() <= SHOWN_CLUSTERS + COMPACT_CLUSTERS
                || view.by_size[..SHOWN_CLUSTERS + COMPACT_CLUSTERS].contains(&c);
            if listed {
                format!(
                    "<a href=\"#c{c}\">cluster #{}</a>",
                    view.run.clusters.clusters[c as usize].id
                )
            } else {
                format!("cluster #{}", view.run.clusters.clusters[c as usize].id)
            }
        };
        let dup = match row.cluster {
            None => String::new(),
            Some(c) if row.copy => {
                let kept = run.clusters.clusters[c as usize].canonical;
                let kept_source = articles[kept as usize].source().unwrap_or("");
                format!(
                    "{}copy of the {} article · similarity {:.2} · {}",
                    if from_earlier_night(run, row.doc) {
                        "an earlier night's "
                    } else {
                        ""
                    },
                    Esc(&clip(kept_source, SOURCE_CHARS)),
                    view.similarity(row.doc),
                    cluster_ref(c)
                )
            }
            Some(c) => {
                let n = run.clusters.clusters[c as usize].members.len() - 1;
                format!(
                    "kept{}; {} {} in {}",
                    if from_earlier_night(run, row.doc) {
                        " by an earlier night"
                    } else {
                        ""
                    },
                    thousands(n as u64),
                    if n == 1 { "copy" } else { "copies" },
                    cluster_ref(c)
                )
            }
        };
        let _ = write!(
            out,
            "<tr data-row data-source=\"{src}\"{attrs}><td>{badge}</td>\
             <td class=\"src\" title=\"{src}\">{src}</td><td class=\"title\">{title}</td>\
             <td class=\"date\">{published}</td><td class=\"dup\">{dup}</td></tr>",
            src = Esc(&source),
            attrs = match (is_head, row.copy) {
                (true, _) => " data-kept",
                (false, true) => " class=\"copy\"",
                _ => "",
            },
            title = title_cell(&view.headlines.get(row.doc)),
            published = published(a),
        );
    }
    out.push_str("</tbody></table>");
    if st.articles.len() > rows.len() {
        let _ = write!(
            out,
            "<div class=\"more\">{} more articles; all are in <code>stories.jsonl</code>.</div>",
            thousands((st.articles.len() - rows.len()) as u64)
        );
    }
    out.push_str("</article>\n");
}

// ---------------------------------------------------------------------------------------------
// Near-duplicate clusters
// ---------------------------------------------------------------------------------------------

fn clusters(view: &View<'_>) -> Section {
    let run = view.run;
    let n_clusters = view.by_size.len();
    let shown = &view.by_size[..n_clusters.min(SHOWN_CLUSTERS)];
    let compact = &view.by_size[shown.len()..n_clusters.min(SHOWN_CLUSTERS + COMPACT_CLUSTERS)];
    let rest = &view.by_size[shown.len() + compact.len()..];
    let mut body = String::new();
    if n_clusters == 0 {
        body.push_str("<p class=\"muted\">No near-duplicates were found.</p>\n");
        return Section {
            anchor: "clusters",
            title: "Near-duplicate clusters",
            body,
        };
    }

    let _ = writeln!(
        body,
        "<p class=\"muted\">{}, each with its kept copy first and \
         then its members, least similar first. Similarity is the MinHash estimate of Jaccard \
         similarity to the kept copy.</p>",
        shown_of(shown.len(), n_clusters, "clusters"),
    );

    // Cards are rendered in parallel: the word diffs of the first ones take most of the page's
    // time.
    let cards: Vec<String> = shown
        .par_iter()
        .enumerate()
        .map(|(rank, &c)| {
            let mut card = String::new();
            cluster_card(view, c, rank < DIFF_CLUSTERS, &mut card);
            card
        })
        .collect();
    body.extend(cards);

    if !compact.is_empty() {
        let _ = write!(
            body,
            "<div class=\"card compact\"><h3>The next {} clusters</h3>\
             <p class=\"muted\">One line each: the kept copy's outlet and title (the outlet \
             filter looks at the kept copy only).</p><table><thead><tr>\
             <th class=\"num\">Cluster</th><th class=\"num\">Articles</th>\
             <th class=\"num\">Outlets</th><th>Kept outlet</th><th>Kept title</th></tr></thead>\
             <tbody>",
            thousands(compact.len() as u64)
        );
        for &c in compact {
            let cluster = &run.clusters.clusters[c as usize];
            let kept = &run.articles[cluster.canonical as usize];
            let source = clip(kept.source().unwrap_or(""), SOURCE_CHARS);
            let _ = write!(
                body,
                "<tr data-item data-row data-source=\"{}\" id=\"c{c}\"><td class=\"num\">#{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"src\">{}</td>\
                 <td class=\"title\">{}</td></tr>",
                Esc(&source),
                cluster.id,
                thousands(cluster.members.len() as u64),
                count_outlets(view, &cluster.members),
                Esc(&source),
                title_cell(&view.headlines.get(cluster.canonical)),
            );
        }
        body.push_str("</tbody></table></div>\n");
    }
    if !rest.is_empty() {
        let articles: usize = rest
            .iter()
            .map(|&c| run.clusters.clusters[c as usize].members.len())
            .sum();
        let largest = rest
            .first()
            .map_or(0, |&c| run.clusters.clusters[c as usize].members.len());
        let _ = writeln!(
            body,
            "<p class=\"muted\">{} more clusters with {} articles (at most {} each) are not \
             listed here; every cluster is in <code>duplicates.jsonl</code>.</p>",
            thousands(rest.len() as u64),
            thousands(articles as u64),
            thousands(largest as u64),
        );
    }
    Section {
        anchor: "clusters",
        title: "Near-duplicate clusters",
        body,
    }
}

/// The members of a cluster that its card lists: the kept copy, then the least similar first,
/// [`SHOWN_MEMBERS`] at most.
fn listed_members(view: &View<'_>, cluster: u32) -> Vec<u32> {
    let c = &view.run.clusters.clusters[cluster as usize];
    let mut others: Vec<u32> = c
        .members
        .iter()
        .copied()
        .filter(|&d| d != c.canonical)
        .collect();
    others.sort_by(|&a, &b| {
        view.similarity(a)
            .total_cmp(&view.similarity(b))
            .then(a.cmp(&b))
    });
    others.truncate(SHOWN_MEMBERS - 1);
    let mut listed = Vec::with_capacity(others.len() + 1);
    listed.push(c.canonical);
    listed.extend(others);
    listed
}

/// Whether a document is an indexed article an earlier night added (with `--index`, those
/// follow tonight's).
fn from_earlier_night(run: &DedupRun, doc: u32) -> bool {
    doc as usize >= run.batch().len()
}

/// `n` and the noun for it, singular for one.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(n as u64),
        if n == 1 { one } else { many }
    )
}

fn count_outlets(view: &View<'_>, members: &[u32]) -> usize {
    let mut sources: Vec<Option<&str>> = members
        .iter()
        .map(|&d| view.run.articles[d as usize].source())
        .collect();
    sources.sort_unstable();
    sources.dedup();
    sources.iter().filter(|s| s.is_some()).count()
}

/// An article's title (or id), linked to its URL when that is an http(s) URL.
fn title_cell(headline: &Headline) -> String {
    let title = match headline.title.as_deref() {
        Some(t) if !t.trim().is_empty() => format!("{}", Esc(&clip(t, TITLE_CHARS))),
        _ => "<span class=\"muted\">(no title)</span>".into(),
    };
    match headline.url.as_deref().and_then(safe_url) {
        Some(url) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{title}</a>",
            Esc(url)
        ),
        None => title,
    }
}

fn cluster_card(view: &View<'_>, cluster: u32, with_diff: bool, out: &mut String) {
    let run = view.run;
    let c = &run.clusters.clusters[cluster as usize];
    let kept = &run.articles[c.canonical as usize];
    let threshold = view.config.cluster.threshold;
    let dates: Vec<i64> = c
        .members
        .iter()
        .filter_map(|&d| run.articles[d as usize].published())
        .collect();
    let span = match (dates.iter().min(), dates.iter().max()) {
        (Some(&a), Some(&b)) if date(a) == date(b) => format!(" · {}", date(a)),
        (Some(&a), Some(&b)) => format!(" · {} to {}", date(a), date(b)),
        _ => String::new(),
    };
    let lowest = c
        .members
        .iter()
        .map(|&d| view.similarity(d))
        .fold(1.0, f64::min);
    let heading = match view.headlines.get(c.canonical).title.as_deref() {
        Some(t) if !t.trim().is_empty() => Esc(&clip(t, TITLE_CHARS)).to_string(),
        _ => Esc(&clip(kept.id().as_str(), ID_CHARS)).to_string(),
    };
    let _ = write!(
        out,
        "<article class=\"card cluster\" id=\"c{cluster}\" data-item><header><h3>{heading}</h3>\
         <div class=\"meta\">Cluster #{} · {} · {}{span} · lowest \
         similarity {lowest:.2}</div></header>\
         <table><thead><tr><th></th><th class=\"num\">Similarity</th><th>Outlet</th>\
         <th>Title</th><th>Published</th><th>Id</th></tr></thead><tbody>",
        c.id,
        counted(c.members.len(), "article", "articles"),
        counted(count_outlets(view, &c.members), "outlet", "outlets"),
    );
    let listed = listed_members(view, cluster);
    for &doc in &listed {
        let a = &run.articles[doc as usize];
        let is_kept = doc == c.canonical;
        let similarity = view.similarity(doc);
        let source = clip(a.source().unwrap_or(""), SOURCE_CHARS);
        // With an index, members read from it were kept or seen by an earlier night.
        let earlier = from_earlier_night(run, doc);
        let badge = if is_kept && earlier {
            "<span class=\"badge kept\" title=\"kept by an earlier night's run\">kept earlier</span>"
        } else if is_kept {
            "<span class=\"badge kept\">kept</span>"
        } else if earlier && run.demoted(doc as usize) {
            "<span class=\"badge low\" title=\"kept by an earlier night's run (it is in that night's deduped.jsonl), a duplicate since tonight\">kept earlier, now a copy</span>"
        } else if earlier {
            "<span class=\"badge copy\" title=\"read by an earlier night's run\">earlier</span>"
        } else if similarity < threshold && !run.verified_pair(doc, c.canonical) {
            "<span class=\"badge low\" title=\"below the threshold to the kept copy\">chain</span>"
        } else {
            ""
        };
        let id = a.id().as_str();
        let _ = write!(
            out,
            "<tr data-row data-source=\"{src}\"{kept_attr}><td>{badge}</td>\
             <td class=\"num\">{similarity:.2}</td><td class=\"src\" title=\"{src}\">{src}</td>\
             <td class=\"title\">{title}</td><td class=\"date\">{published}</td>\
             <td class=\"id mono\" title=\"{id_full}\">{id}</td></tr>",
            src = Esc(&source),
            kept_attr = if is_kept { " data-kept" } else { "" },
            title = title_cell(&view.headlines.get(doc)),
            published = published(a),
            id_full = Esc(&clip(id, 4 * ID_CHARS)),
            id = Esc(&clip(id, ID_CHARS)),
        );
    }
    out.push_str("</tbody></table>");
    if c.members.len() > listed.len() {
        let _ = write!(
            out,
            "<div class=\"more\">{} more members, each at least as similar to the kept copy as \
             those listed; all are in <code>duplicates.jsonl</code>.</div>",
            thousands((c.members.len() - listed.len()) as u64)
        );
    }
    if with_diff {
        let (kept_doc, member) = diff_pair(run, cluster);
        if let (Some(old), Some(new)) = (view.texts.get(&kept_doc), view.texts.get(&member)) {
            let m = &run.articles[member as usize];
            let (old, old_cut) = cut_text(old);
            let (new, new_cut) = cut_text(new);
            let _ = write!(
                out,
                "<details class=\"diff\"><summary>What changed: the kept copy against the least \
                 similar member ({}, similarity {:.2})</summary><p class=\"difflegend\">\
                 <del>only in the kept copy</del> <ins>only in the member</ins>{}</p>\
                 <div class=\"difftext\">{}</div></details>",
                Esc(&clip(m.source().unwrap_or(m.id().as_str()), SOURCE_CHARS)),
                view.similarity(member),
                if old_cut || new_cut {
                    format!(
                        " · texts cut at {} characters",
                        thousands(DIFF_TEXT_CHARS as u64)
                    )
                } else {
                    String::new()
                },
                word_diff(old, new),
            );
        }
    }
    out.push_str("</article>\n");
}

/// The first [`DIFF_TEXT_CHARS`] characters of a text (cut after a word when one ends near the
/// limit), and whether it was cut.
fn cut_text(text: &str) -> (&str, bool) {
    match text.char_indices().nth(DIFF_TEXT_CHARS) {
        None => (text, false),
        Some((end, _)) => {
            let head = &text[..end];
            let at_word = head
                .rfind(char::is_whitespace)
                .filter(|&i| i + 200 > end)
                .unwrap_or(end);
            (&head[..at_word], true)
        }
    }
}

/// A word-level diff as HTML: removed words in `<del>`, added ones in `<ins>`, long unchanged
/// stretches shortened to their ends.
fn word_diff(old: &str, new: &str) -> String {
    let diff = TextDiff::from_words(old, new);
    // Runs of tokens with one tag, in order.
    let mut runs: Vec<(ChangeTag, Vec<&str>)> = Vec::new();
    for change in diff.iter_all_changes() {
        match runs.last_mut() {
            Some((tag, tokens)) if *tag == change.tag() => tokens.push(change.value()),
            _ => runs.push((change.tag(), vec![change.value()])),
        }
    }
    if runs.iter().all(|(tag, _)| *tag == ChangeTag::Equal) {
        return "<span class=\"skip\">The two texts are identical.</span>".into();
    }
    let mut out = String::new();
    let n_runs = runs.len();
    for (i, (tag, tokens)) in runs.iter().enumerate() {
        let text = |range: &[&str]| Esc(&range.concat()).to_string();
        match tag {
            ChangeTag::Equal => {
                // Keep context after the previous change and before the next one.
                let head = if i > 0 { DIFF_CONTEXT_TOKENS } else { 0 };
                let tail = if i + 1 < n_runs {
                    DIFF_CONTEXT_TOKENS
                } else {
                    0
                };
                if tokens.len() > head + tail + 8 {
                    let skipped = &tokens[head..tokens.len() - tail];
                    let words = skipped.iter().filter(|t| !t.trim().is_empty()).count();
                    out.push_str(&text(&tokens[..head]));
                    let _ = write!(
                        out,
                        "<span class=\"skip\">… {} unchanged words …</span>",
                        thousands(words as u64)
                    );
                    out.push_str(&text(&tokens[tokens.len() - tail..]));
                } else {
                    out.push_str(&text(tokens));
                }
            }
            // A change of whitespace alone is not worth a mark.
            ChangeTag::Delete if tokens.iter().all(|t| t.trim().is_empty()) => {}
            ChangeTag::Insert if tokens.iter().all(|t| t.trim().is_empty()) => {
                out.push_str(&text(tokens));
            }
            ChangeTag::Delete => {
                let _ = write!(out, "<del>{}</del>", text(tokens));
            }
            ChangeTag::Insert => {
                let _ = write!(out, "<ins>{}</ins>", text(tokens));
            }
        }
    }
    out
}

/// A throughput in MB/s: whole numbers from 10 up, one decimal below (0.4 MB/s of headlines
/// showed as 0).
fn rate_text(mb_per_s: f64) -> String {
    // 9.96 shows as 10, not 10.0.
    if mb_per_s >= 9.95 {
        format!("{mb_per_s:.0}")
    } else {
        format!("{mb_per_s:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::shown_of;

    #[test]
    fn a_slow_rate_keeps_a_decimal() {
        assert_eq!(rate_text(0.43), "0.4");
        assert_eq!(rate_text(9.94), "9.9");
        assert_eq!(rate_text(9.96), "10");
        assert_eq!(rate_text(10.0), "10");
        assert_eq!(rate_text(138.6), "139");
    }

    #[test]
    fn headings_say_all_when_every_item_is_shown() {
        assert_eq!(shown_of(7, 7, "clusters"), "All 7 clusters");
        assert_eq!(
            shown_of(20, 1234, "stories"),
            "The 20 largest of 1,234 stories"
        );
    }

    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        for (input, expected) in [
            ("plain", "plain"),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            (
                "\"><img src=x onerror=alert(1)>",
                "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
            ),
            ("a & b 'c'", "a &amp; b &#39;c&#39;"),
            ("é ü 漢字", "é ü 漢字"),
            // Bidirectional controls go; marks (U+200F) and other U+20xx punctuation stay.
            ("Rates \u{202e}OUTLET 99 ×", "Rates OUTLET 99 ×"),
            ("a\u{2066}b\u{2069}<\u{202a}", "ab&lt;"),
            (
                "\u{200f}x \u{2014} y \u{2026}",
                "\u{200f}x \u{2014} y \u{2026}",
            ),
            // Control characters go, but the whitespace ones; U+00A0 and Latin-1 letters stay.
            (
                "a\u{0}b\u{7}c\u{1b}[31md\u{7f}e\u{85}f\u{9f}g",
                "abc[31mdefg",
            ),
            ("t\tn\nf\u{c}r\r", "t\tn\nf\u{c}r\r"),
            ("\u{a0}\u{a9} \u{c2}\u{e9}", "\u{a0}\u{a9} \u{c2}\u{e9}"),
        ] {
            assert_eq!(Esc(input).to_string(), expected, "{input}");
        }
    }

    #[test]
    fn chart_tooltips_take_the_singular_for_one() {
        let chart = BarChart {
            label: "test".into(),
            bins: vec!["a".into(), "b".into()],
            series: vec![Series {
                name: "x".into(),
                values: vec![1, 2],
                color: 1,
            }],
            unit: "articles",
            marker: None,
            value_labels: false,
            axis: Axis::Categories,
            width: BarChart::NARROW,
        };
        let svg = chart.svg();
        assert!(svg.contains("<title>a: 1 article</title>"), "{svg}");
        assert!(svg.contains("<title>b: 2 articles</title>"), "{svg}");
    }

    #[test]
    fn counts_take_the_singular_for_one() {
        assert_eq!(counted(1, "outlet", "outlets"), "1 outlet");
        assert_eq!(counted(0, "outlet", "outlets"), "0 outlets");
        assert_eq!(counted(1234, "article", "articles"), "1,234 articles");
    }

    #[test]
    fn only_http_urls_become_links() {
        for (url, ok) in [
            ("https://example.com/a", true),
            ("HTTP://EXAMPLE.COM/", true),
            ("javascript:alert(1)", false),
            ("JaVaScRiPt:alert(1)", false),
            (" https://example.com/", false),
            ("https://exa mple.com/", false),
            ("https://example.com/\u{0}", false),
            ("data:text/html,<script>alert(1)</script>", false),
            ("//example.com/", false),
            ("ftp://example.com/", false),
            ("", false),
        ] {
            assert_eq!(safe_url(url).is_some(), ok, "{url:?}");
        }
    }

    #[test]
    fn clips_on_char_boundaries() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc…");
        assert_eq!(clip("ééé", 2), "éé…");
    }

    #[test]
    fn formats_numbers() {
        for (n, s) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1234567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), s);
        }
        for (max, step) in [(0, 1), (3, 1), (10, 5), (41, 20), (100, 50), (12345, 5000)] {
            assert_eq!(nice_step(max), step, "{max}");
        }
    }

    /// The timeline from the sorted list of every article's day (the code before the counts
    /// per day): unit, first bar, bars and articles outside them.
    fn timeline_naive(published: &[Option<i64>]) -> (TimeUnit, i64, usize, u64) {
        let mut days: Vec<i64> = published
            .iter()
            .flatten()
            .map(|t| t.div_euclid(86_400))
            .collect();
        days.sort_unstable();
        let trim = days.len() / 1000;
        let unit_for = |lo: i64, hi: i64| {
            [TimeUnit::Day, TimeUnit::Week, TimeUnit::Month]
                .into_iter()
                .find(|u| u.key(hi) - u.key(lo) < Timeline::MAX_BINS)
                .unwrap_or(TimeUnit::Year)
        };
        let (trimmed_lo, trimmed_hi) = (days[trim], days[days.len() - 1 - trim]);
        let unit = unit_for(trimmed_lo, trimmed_hi);
        // Each end widened to the furthest day that needs no coarser bars.
        let lo = *days
            .iter()
            .find(|&&d| unit_for(d, trimmed_hi) == unit)
            .unwrap();
        let hi = *days
            .iter()
            .rev()
            .find(|&&d| unit_for(lo, d) == unit)
            .unwrap();
        let last = unit.key(hi);
        let first = unit.key(lo).max(last - Timeline::MAX_BINS + 1);
        let bins = (last - first + 1) as usize;
        let outside = days
            .iter()
            .filter(|&&d| {
                let off = unit.key(d) - first;
                off < 0 || off as usize >= bins
            })
            .count() as u64;
        (unit, first, bins, outside)
    }

    /// Counting articles per day gives the timeline of the sorted list of days, stray dates
    /// trimmed, on runs from one article to several thousand.
    #[test]
    fn timeline_counts_equal_the_sorted_days() {
        let mut state = 7u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let start = 1_500_000_000i64;
        for n in [1u64, 2, 999, 1000, 2500, 7000] {
            for span_days in [0i64, 30, 400, 5000] {
                let published: Vec<Option<i64>> = (0..n)
                    .map(|i| match next(100) {
                        0 => None,
                        // A few stray dates decades away.
                        1 if i % 7 == 0 => Some(start + 20_000 * 86_400 + next(1000) as i64),
                        _ => Some(start + next(span_days as u64 * 86_400 + 1) as i64),
                    })
                    .collect();
                if published.iter().all(Option::is_none) {
                    continue;
                }
                let t = Timeline::of(published.iter().copied());
                assert_eq!(
                    (t.unit, t.first, t.bins, t.outside),
                    timeline_naive(&published),
                    "{n} articles over {span_days} days"
                );
                assert_eq!(
                    t.undated,
                    published.iter().filter(|p| p.is_none()).count() as u64
                );
            }
        }
    }

    /// A few articles on the data's first and last days are no strays: they are shown when the
    /// bars stay days (before, the earliest and latest 0.1% were always left out).
    #[test]
    fn timeline_keeps_the_edge_days_of_the_data() {
        let day = 86_400;
        let start = 1_500_000_000;
        let mut published: Vec<Option<i64>> = (0..10_000)
            .map(|i| Some(start + (1 + i % 79) * day))
            .collect();
        published.extend([Some(start), Some(start + 80 * day), Some(start + 80 * day)]);
        let t = Timeline::of(published.iter().copied());
        assert_eq!((t.unit, t.bins, t.outside), (TimeUnit::Day, 81, 0));
        // A stray decades away still leaves the range; the real edge days stay.
        published.push(Some(start + 20_000 * day));
        let t = Timeline::of(published.iter().copied());
        assert_eq!((t.unit, t.bins, t.outside), (TimeUnit::Day, 81, 1));
        // Strays at both ends.
        published.push(Some(start - 20_000 * day));
        let t = Timeline::of(published.iter().copied());
        assert_eq!((t.unit, t.bins, t.outside), (TimeUnit::Day, 81, 2));
    }

    #[test]
    fn timeline_picks_a_readable_unit() {
        let day = 86_400;
        let start = 1_500_000_000; // 2017-07-14
        for (span_days, unit) in [
            (0, TimeUnit::Day),
            (100, TimeUnit::Day),
            (400, TimeUnit::Week),
            (3000, TimeUnit::Month),
            (20_000, TimeUnit::Year),
        ] {
            let t = Timeline::of([Some(start), Some(start + span_days * day), None].into_iter());
            assert_eq!(t.unit, unit, "{span_days} days");
            assert!(t.bins >= 1 && t.bins as i64 <= Timeline::MAX_BINS);
            assert_eq!(t.undated, 1);
            assert_eq!(t.outside, 0);
            assert_eq!(t.bin(start), Some(0));
            assert_eq!(t.bin(start + span_days * day), Some(t.bins - 1));
        }
        assert_eq!(
            TimeUnit::Week.label(TimeUnit::Week.key(17_438)),
            "2017-09-25"
        );
        assert_eq!(
            TimeUnit::Month.label(TimeUnit::Month.key(17_436)),
            "2017-09"
        );
    }

    #[test]
    fn word_diff_marks_changes_and_escapes() {
        let old = "The mayor said the <b>bridge</b> will reopen on Monday.";
        let new = "By News Desk. The mayor said the <b>bridge</b> will reopen on Tuesday.";
        let html = word_diff(old, new);
        assert!(html.contains("<ins>By News Desk. </ins>"), "{html}");
        assert!(
            html.contains("<del>Monday.</del><ins>Tuesday.</ins>"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;bridge&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert_eq!(
            word_diff("same words", "same words"),
            "<span class=\"skip\">The two texts are identical.</span>"
        );
    }

    #[test]
    fn word_diff_shortens_long_unchanged_stretches() {
        let common: Vec<String> = (0..500).map(|i| format!("w{i}")).collect();
        let old = format!("start {} end", common.join(" "));
        let new = format!("begin {} finish", common.join(" "));
        let html = word_diff(&old, &new);
        assert!(html.contains("unchanged words"), "{html}");
        assert!(html.len() < 1000, "{}", html.len());
    }

    #[test]
    fn cut_text_prefers_word_ends() {
        let text = "word ".repeat(2000);
        let (cut, was_cut) = cut_text(&text);
        assert!(was_cut);
        assert!(cut.ends_with("word"), "{:?}", &cut[cut.len() - 10..]);
        assert!(cut.chars().count() <= DIFF_TEXT_CHARS);
        assert_eq!(cut_text("short"), ("short", false));
    }

    /// The Content Security Policy allows the inline style and script by hash: a hash that
    /// does not match its file would silently disable it in the browser.
    #[test]
    fn csp_hashes_match_the_assets() {
        use sha2::Digest as _;
        let hash = |s: &str| base64(&sha2::Sha256::digest(s.as_bytes()));
        assert_eq!(hash(STYLE), STYLE_SHA256, "update STYLE_SHA256");
        assert_eq!(hash(SCRIPT), SCRIPT_SHA256, "update SCRIPT_SHA256");
    }

    /// Standard base64 with padding (only the test needs it).
    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
