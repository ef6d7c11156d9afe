//! `report.md`: a short Markdown summary of a run for nightly job logs and chat.
//!
//! The page is a title line that says the most in one line (chat previews show only that),
//! then sections in a fixed order: counts, parameters, time per stage, the largest stories
//! (`storyhash run` only), the largest duplicate clusters and warnings. Each section is one
//! method of `Page`; a new section is one more method and one more call in [`render`].
//!
//! Everything that comes from the input (titles, outlets, ids, file names, reject reasons)
//! goes through [`escape`]: it stays on one line, in one table cell, and cannot open a link, a
//! code span or an HTML tag. Everything but the "Time per stage" section is identical between
//! runs and thread counts.

use std::fmt::Write as _;

use crate::cluster::KeepRule;
use crate::error::Result;
use crate::ingest::Article;
use crate::lsh::{HUGE_BUCKET_WINDOW, MAX_BUCKET};
use crate::minhash::SketchKind;
use crate::pipeline::{DedupConfig, DedupRun};
use crate::shingle::{DEFAULT_SEED, ShingleKind};
use crate::verify::VerifyMode;

use super::{ReportHeadlines, percent};

/// Texts shorter than this (in characters) are suspect in a cluster with different headlines.
const SHORT_TEXT_CHARS: u32 = 300;
/// The file's name in the output directory.
pub const FILE_NAME: &str = "report.md";
/// How many of the largest duplicate clusters are listed.
pub const LARGEST_CLUSTERS: usize = 10;
/// How many of the largest stories are listed (`storyhash run`).
pub const LARGEST_STORIES: usize = 10;
/// Distinct outlets named per story before "and N more".
const STORY_OUTLETS_NAMED: usize = 3;
/// How many rejected lines are quoted among the warnings.
const REJECTS_QUOTED: usize = 5;
/// How many of the members furthest below the threshold are listed among the warnings.
const CHAINS_QUOTED: usize = 5;
/// Distinct outlets named per cluster before "and N more".
const SOURCES_NAMED: usize = 5;
/// Titles longer than this (in characters) are cut, so a table row stays readable in a log.
const TITLE_CHARS: usize = 90;
/// Outlets, ids and file names longer than this are cut.
const NAME_CHARS: usize = 60;
/// Reject reasons longer than this are cut.
const REASON_CHARS: usize = 160;

/// The Markdown text of `report.md`; fails only if a headline cannot be read back.
pub fn render(run: &DedupRun, config: &DedupConfig) -> Result<String> {
    let headlines = ReportHeadlines::new(run);
    let mut page = Page::new(run, config, &headlines);
    page.title();
    page.counts();
    page.parameters();
    page.timings();
    page.largest_stories();
    page.largest_clusters();
    page.warnings();
    let md = page.md;
    headlines.finish()?;
    Ok(md)
}

/// Appends one formatted line to a `String`.
macro_rules! put {
    ($md:expr) => {
        $md.push('\n')
    };
    ($md:expr, $($arg:tt)*) => {
        writeln!($md, $($arg)*).expect("writing to a String cannot fail")
    };
}

/// The run's numbers every section draws on, and the text being built.
struct Page<'a> {
    run: &'a DedupRun,
    config: &'a DedupConfig,
    headlines: &'a ReportHeadlines<'a>,
    md: String,
    /// Non-blank input lines: accepted articles plus rejected lines.
    lines_in: u64,
    /// Articles not removed as duplicates: the kept copies and the articles in no cluster.
    kept: usize,
}

impl<'a> Page<'a> {
    /// Document `doc` as a table cell: its escaped title and id.
    fn article_cell(&self, doc: u32) -> String {
        article_cell(
            &self.run.articles[doc as usize],
            self.headlines.get(doc).title.as_deref(),
        )
    }

    fn new(
        run: &'a DedupRun,
        config: &'a DedupConfig,
        headlines: &'a ReportHeadlines<'a>,
    ) -> Page<'a> {
        let clusters = &run.clusters;
        let kept = (0..run.batch_len)
            .filter(|&doc| {
                clusters.cluster_of[doc]
                    .is_none_or(|c| clusters.clusters[c as usize].canonical as usize == doc)
            })
            .count();
        Page {
            run,
            config,
            headlines,
            md: String::new(),
            lines_in: run.stats.inputs.iter().map(|i| i.lines).sum(),
            kept,
        }
    }

    fn removed(&self) -> usize {
        self.run.batch_len - self.kept
    }

    fn removed_share(&self) -> String {
        percent(self.removed(), self.run.batch_len)
    }

    /// One line that says it all, for chat previews and `head -1`.
    fn title(&mut self) {
        let (n, clusters) = (self.run.batch_len, self.run.clusters.clusters.len());
        let (removed, share) = (self.removed(), self.removed_share());
        let stories = self.run.stories.as_ref().map_or(String::new(), |s| {
            let n = s.stories.len();
            format!(", {n} {}", plural(n, "story", "stories"))
        });
        put!(
            self.md,
            "# storyhash: {n} {}, {clusters} duplicate {}, {removed} removed ({share}){stories}",
            plural(n, "article", "articles"),
            plural(clusters, "cluster", "clusters"),
        );
    }

    fn counts(&mut self) {
        let run = self.run;
        let stats = &run.stats;
        let files = super::rejected_files(run);
        let rows = [
            (
                "articles in (non-blank input lines)",
                self.lines_in.to_string(),
            ),
            (
                "rejected",
                match files {
                    0 => run.rejects.len().to_string(),
                    // Files holding no articles are no lines: said apart.
                    _ => format!(
                        "{} ({} {}, {} {} holding no articles)",
                        run.rejects.len(),
                        run.rejects.len() - files,
                        plural(run.rejects.len() - files, "line", "lines"),
                        files,
                        plural(files, "file", "files")
                    ),
                },
            ),
            ("accepted", run.batch_len.to_string()),
            ("LSH candidate pairs", stats.candidate_pairs.to_string()),
            (
                // With an index, pairs with earlier articles are counted below, apart.
                if run.index.is_some() {
                    "verified pairs within the batch"
                } else {
                    "verified pairs"
                },
                stats.verified_pairs.to_string(),
            ),
            (
                "duplicate clusters",
                run.clusters.clusters.len().to_string(),
            ),
            (
                "duplicates removed",
                format!("{} ({})", self.removed(), self.removed_share()),
            ),
            ("kept", self.kept.to_string()),
        ];
        let index_rows = stats.index.as_ref().map(|ix| {
            [
                (
                    "index: articles held before tonight",
                    format!(
                        "{} in {} batch{}",
                        ix.articles_before,
                        ix.batches_before,
                        if ix.batches_before == 1 { "" } else { "es" }
                    ),
                ),
                (
                    "index: candidate and accepted pairs with earlier articles",
                    format!("{} / {}", ix.candidate_pairs, ix.accepted_pairs),
                ),
                (
                    "index: duplicates of earlier articles",
                    ix.duplicates_of_earlier.to_string(),
                ),
                (
                    "index: earlier kept copies that are duplicates now (`demoted` in duplicates.jsonl)",
                    ix.earlier_kept_demoted.to_string(),
                ),
                (
                    "index: pairs with earlier articles held apart, near the threshold",
                    ix.bridges_held_apart.to_string(),
                ),
            ]
        });
        section(&mut self.md, "Counts");
        put!(self.md, "| | count |");
        put!(self.md, "|---|---:|");
        for (what, value) in rows.into_iter().chain(index_rows.into_iter().flatten()) {
            put!(self.md, "| {what} | {value} |");
        }
        if let Some(stories) = &run.stories {
            put!(self.md, "| stories | {} |", stories.stories.len());
            put!(
                self.md,
                "| stories of two or more articles | {} |",
                stories.stats.multi_article_stories
            );
        }
    }

    fn parameters(&mut self) {
        let (config, lsh) = (self.config, &self.run.lsh);
        let shingle = &config.shingle;
        let keep = match config.cluster.keep {
            KeepRule::Earliest => "earliest published",
            KeepRule::Longest => "longest text",
            KeepRule::First => "first seen",
        };
        let keep = if config.cluster.prefer_sources.is_empty() {
            keep.to_string()
        } else {
            let unseen = super::preferred_outlets_unseen(self.run, config);
            let preferred: Vec<String> = config
                .cluster
                .prefer_sources
                .iter()
                .map(|s| {
                    let name = escape(s, NAME_CHARS);
                    if unseen.contains(&s.as_str()) {
                        format!("{name} (no article)")
                    } else {
                        name
                    }
                })
                .collect();
            format!("outlets {} first, then {keep}", preferred.join(", "))
        };
        let seed = if shingle.seed == DEFAULT_SEED {
            "default".to_string()
        } else {
            format!("{:#018x}", shingle.seed)
        };
        let boilerplate = if config.learn_boilerplate {
            let n = self.run.stats.learned_boilerplate_lines;
            let copies = match self.run.stats.copy_lines_not_learned {
                0 => String::new(),
                c => format!(
                    "; {c} more {} kept, shared only by copies of fewer articles",
                    plural(c, "line", "lines")
                ),
            };
            format!(
                "{n} {} learned (lines in {} or more articles of one outlet{copies})",
                plural(n, "line", "lines"),
                config.boilerplate_min_docs
            )
        } else {
            "not learned".to_string()
        };
        let rows = [
            (
                "shingles",
                match shingle.kind {
                    ShingleKind::Word => format!(
                        "word {}-grams, words hashed by {}",
                        shingle.ngram,
                        self.run.token_hash.name()
                    ),
                    ShingleKind::Char => format!("character {}-grams", shingle.ngram),
                },
            ),
            (
                "sketch",
                format!(
                    "{}, {} slots, seed {seed}",
                    match config.sketch {
                        SketchKind::Oph => "one-permutation hashing (oph)",
                        SketchKind::Classic => "k hash functions (classic)",
                        SketchKind::Super => "SuperMinHash (super)",
                    },
                    config.num_perm
                ),
            ),
            ("LSH", crate::lsh::bands_by_rows(lsh.bands, lsh.rows)),
            ("threshold", format!("{}", config.cluster.threshold)),
            (
                "verify",
                match config.verify {
                    VerifyMode::Auto => "auto (exact Jaccard near the threshold)",
                    VerifyMode::Estimate => "estimate",
                    VerifyMode::Exact => "exact",
                }
                .to_string(),
            ),
            (
                "expected false positive area",
                crate::lsh::area_text(lsh.expected_false_positive),
            ),
            (
                "expected false negative area",
                crate::lsh::area_text(lsh.expected_false_negative),
            ),
            ("keep", keep),
            (
                "split chains",
                if config.cluster.split_chains {
                    "yes"
                } else {
                    "no"
                }
                .to_string(),
            ),
            ("boilerplate", boilerplate),
        ];
        let mut rows = rows.to_vec();
        if let (Some(sc), Some(stories)) = (&config.stories, &self.run.stories) {
            rows.extend(story_parameters(sc, &stories.stats));
        }
        section(&mut self.md, "Parameters");
        put!(self.md, "| parameter | value |");
        put!(self.md, "|---|---|");
        for (what, value) in rows {
            put!(self.md, "| {what} | {value} |");
        }
    }

    /// Seconds per pipeline stage (the only part of the page that changes between runs).
    fn timings(&mut self) {
        section(&mut self.md, "Time per stage");
        put!(self.md, "| stage | seconds |");
        put!(self.md, "|---|---:|");
        for &(stage, seconds) in &self.run.timings {
            put!(self.md, "| {stage} | {seconds:.3} |");
        }
        let total: f64 = self.run.timings.iter().map(|t| t.1).sum();
        put!(
            self.md,
            "| total, before writing the outputs | {total:.3} |"
        );
    }

    /// The largest same-story clusters (`storyhash run` only; nothing for `dedup`).
    fn largest_stories(&mut self) {
        let Some(stories) = &self.run.stories else {
            return;
        };
        let (articles, clusters) = (&self.run.articles, &self.run.clusters);
        section(&mut self.md, "Largest stories");
        if stories.stories.is_empty() {
            put!(self.md, "No stories.");
            return;
        }
        // Most articles first; among equals, the lower story id.
        let mut order: Vec<usize> = (0..stories.stories.len()).collect();
        order.sort_by_key(|&s| (std::cmp::Reverse(stories.stories[s].articles.len()), s));
        order.truncate(LARGEST_STORIES);
        if stories.stories.len() > order.len() {
            put!(
                self.md,
                "The {} largest of {} stories (all in `stories.jsonl`).",
                order.len(),
                stories.stories.len()
            );
            put!(self.md);
        }
        put!(
            self.md,
            "| story | articles | headline | outlets | published | near-duplicate clusters |"
        );
        put!(self.md, "|---:|---:|---|---|---|---:|");
        for s in order {
            let story = &stories.stories[s];
            let members = || story.articles.iter().map(|&d| &articles[d as usize]);
            let dates = members().filter_map(|a| a.published());
            let span = match (dates.clone().min(), dates.max()) {
                (Some(first), Some(last)) => {
                    let (first, last) = (day(first), day(last));
                    if first == last {
                        first
                    } else {
                        format!("{first} to {last}")
                    }
                }
                _ => "(no dates)".to_string(),
            };
            let mut dup_clusters: Vec<u32> = story
                .articles
                .iter()
                .filter_map(|&d| clusters.cluster_of[d as usize])
                .collect();
            dup_clusters.sort_unstable();
            dup_clusters.dedup();
            let id = self.run.story_id(s as u32);
            // With an index: a story an earlier night began (its dates here are tonight's).
            let continued = if self.run.story_continued(id) == Some(true) {
                " (continued from an earlier night)"
            } else {
                ""
            };
            put!(
                self.md,
                "| {id} | {} | {} | {} | {span}{continued} | {} |",
                story.articles.len(),
                self.article_cell(story.headline_article),
                outlets_cell(members()),
                dup_clusters.len(),
            );
        }
    }

    fn largest_clusters(&mut self) {
        let (articles, clusters) = (&self.run.articles, &self.run.clusters);
        let threshold = self.config.cluster.threshold;
        section(&mut self.md, "Largest duplicate clusters");
        if clusters.clusters.is_empty() {
            put!(self.md, "No near-duplicate clusters.");
            return;
        }
        // Largest first; among equals, the lower cluster id (stable for a given input).
        let mut order: Vec<usize> = (0..clusters.clusters.len()).collect();
        order.sort_by_key(|&c| (std::cmp::Reverse(clusters.clusters[c].members.len()), c));
        order.truncate(LARGEST_CLUSTERS);
        if clusters.clusters.len() > order.len() {
            put!(
                self.md,
                "The {} largest of {} clusters (all in `duplicates.jsonl`).",
                order.len(),
                clusters.clusters.len()
            );
            put!(self.md);
        }
        put!(
            self.md,
            "| cluster | size | kept article | kept from | other members from | min similarity to kept |"
        );
        put!(self.md, "|---:|---:|---|---|---|---:|");
        for c in order {
            let cluster = &clusters.clusters[c];
            let kept = &articles[cluster.canonical as usize];
            let others: Vec<u32> = cluster
                .members
                .iter()
                .copied()
                .filter(|&d| d != cluster.canonical)
                .collect();
            let min_similarity = others
                .iter()
                .filter_map(|&d| clusters.similarity(d as usize))
                .min_by(f64::total_cmp)
                .unwrap_or(1.0);
            // Below the threshold as the warnings count it: no verified pair (decided on exact
            // Jaccard, perhaps) joins the member to the kept copy.
            let chained = others.iter().any(|&d| {
                clusters
                    .similarity(d as usize)
                    .is_some_and(|s| s < threshold)
                    && !self.run.verified_pair(d, cluster.canonical)
            });
            let below = if chained {
                format!(" (below {threshold})")
            } else if min_similarity < threshold {
                format!(" (estimate; the pair verified at {threshold} or more)")
            } else {
                String::new()
            };
            put!(
                self.md,
                "| {} | {} | {} | {} | {} | {min_similarity:.3}{below} |",
                cluster.id,
                cluster.members.len(),
                self.article_cell(cluster.canonical),
                source_cell(kept),
                sources_cell(others.iter().map(|&d| &articles[d as usize])),
            );
        }
    }

    fn warnings(&mut self) {
        let run = self.run;
        let stats = &run.stats;
        let mut any = false;
        section(&mut self.md, "Warnings");
        if !run.rejects.is_empty() {
            any = true;
            let files = run.rejects.iter().filter(|r| r.line.is_none()).count();
            let lines = run.rejects.len() - files;
            let what = match (lines, files) {
                (_, 0) => format!("{lines} {}", plural(lines, "line", "lines")),
                (0, _) => format!("{files} {}", plural(files, "file", "files")),
                _ => format!(
                    "{lines} {} and {files} {}",
                    plural(lines, "line", "lines"),
                    plural(files, "file", "files")
                ),
            };
            let quoted = if run.rejects.len() > REJECTS_QUOTED {
                format!("; the first {REJECTS_QUOTED}:")
            } else {
                ":".to_string()
            };
            put!(
                self.md,
                "- {what} rejected (all in `rejects.jsonl`){quoted}"
            );
            for r in run.rejects.iter().take(REJECTS_QUOTED) {
                let place = match r.line {
                    Some(line) => format!("{}:{line}", escape(&r.file, REASON_CHARS)),
                    None => escape(&r.file, REASON_CHARS),
                };
                put!(self.md, "  - {place}: {}", escape(&r.reason, REASON_CHARS));
            }
        }
        if stats.huge_buckets > 0 {
            any = true;
            put!(
                self.md,
                "- {} LSH {} held more than {MAX_BUCKET} articles (the largest {}): their members \
                 were paired only with the next {HUGE_BUCKET_WINDOW} of them. Usually many copies \
                 of one page (boilerplate, error pages); look at the largest cluster.",
                stats.huge_buckets,
                plural(stats.huge_buckets as usize, "bucket", "buckets"),
                stats.largest_bucket
            );
        }
        if run.clusters.below_threshold > 0 {
            any = true;
            self.chains();
        }
        // Clusters of very short texts under different headlines: usually the same page
        // furniture scraped instead of the articles ("Chat with us in Facebook Messenger…").
        // Not when the headline is the text (headline input), and headlines that differ in case
        // only are the same.
        let headline_text = self.config.fields.text == self.config.fields.title;
        let short: Vec<&crate::cluster::Cluster> = run
            .clusters
            .clusters
            .iter()
            .filter(|c| {
                let a = &run.articles;
                // Headlines are read back only for clusters of short texts.
                !headline_text
                    && c.members
                        .iter()
                        .all(|&d| a[d as usize].text_chars < SHORT_TEXT_CHARS)
                    && c.members
                        .iter()
                        .map(|&d| {
                            self.headlines
                                .get(d)
                                .title
                                .as_deref()
                                .map(str::to_lowercase)
                        })
                        .collect::<std::collections::BTreeSet<Option<String>>>()
                        .len()
                        > 1
            })
            .collect();
        if !short.is_empty() {
            any = true;
            put!(
                self.md,
                "- {} {} of texts under {SHORT_TEXT_CHARS} characters with different headlines (the first kept copy: {}): often the same page furniture scraped instead of the articles, which then also join one story.",
                short.len(),
                plural(short.len(), "cluster", "clusters"),
                escape(
                    run.articles[short[0].canonical as usize].id().as_str(),
                    REASON_CHARS
                )
            );
        }
        if stats.no_shingles > 0 {
            any = true;
            let n = stats.no_shingles as usize;
            put!(
                self.md,
                "- {n} {} no words once normalized, so never clustered.{}",
                plural(n, "article has", "articles have"),
                crate::report::text_field_hint(run, self.config)
            );
        }
        if !any {
            put!(self.md, "None.");
        }
    }

    /// Members below the threshold to their kept copy: clusters that chain (A~B, B~C, A≁C).
    fn chains(&mut self) {
        let (articles, clusters) = (&self.run.articles, &self.run.clusters);
        let threshold = self.config.cluster.threshold;
        let n = clusters.below_threshold;
        // The members the count is of: below the threshold, with no verified pair (decided on
        // exact Jaccard, perhaps) joining them to the kept copy.
        let mut worst: Vec<(f64, usize, u32)> = Vec::new();
        for (c, cluster) in clusters.clusters.iter().enumerate() {
            for &doc in &cluster.members {
                if let Some(s) = clusters.similarity(doc as usize).filter(|&s| s < threshold)
                    && !self.run.verified_pair(doc, cluster.canonical)
                {
                    worst.push((s, c, doc));
                }
            }
        }
        worst.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
        worst.truncate(CHAINS_QUOTED);
        put!(
            self.md,
            "- {n} cluster {} below the threshold {threshold} to {} kept copy: the cluster \
             chains through other members (`--split-chains` moves such members out). The lowest:",
            plural(n, "member is", "members are"),
            plural(n, "its", "their")
        );
        for (s, c, doc) in worst {
            let member = &articles[doc as usize];
            put!(
                self.md,
                "  - cluster {}: {} from {} at {s:.3} to {}",
                clusters.clusters[c].id,
                self.article_cell(doc),
                source_cell(member),
                self.article_cell(clusters.clusters[c].canonical)
            );
        }
    }
}

/// Starts a `##` section.
fn section(md: &mut String, name: &str) {
    put!(md);
    put!(md, "## {name}");
    put!(md);
}

fn plural<'s>(n: usize, one: &'s str, many: &'s str) -> &'s str {
    if n == 1 { one } else { many }
}

/// An article as a table cell: its escaped title and id.
fn article_cell(a: &Article, title: Option<&str>) -> String {
    let id = escape(a.id().as_str(), NAME_CHARS);
    match title.map(|t| escape(t, TITLE_CHARS)) {
        Some(title) if !title.is_empty() => format!("{title} (id {id})"),
        _ => format!("id {id}"),
    }
}

fn source_cell(a: &Article) -> String {
    match a.source().map(|s| escape(s, NAME_CHARS)) {
        Some(source) if !source.is_empty() => source,
        _ => "(no source)".to_string(),
    }
}

/// Distinct outlets, most frequent first (ties by name), with their counts.
fn sources_cell<'a>(members: impl Iterator<Item = &'a Article>) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for a in members {
        *counts.entry(source_cell(a)).or_default() += 1;
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut named: Vec<String> = counts
        .iter()
        .take(SOURCES_NAMED)
        .map(|(s, n)| {
            if *n > 1 {
                format!("{s} ×{n}")
            } else {
                s.clone()
            }
        })
        .collect();
    if counts.len() > SOURCES_NAMED {
        named.push(format!("and {} more", counts.len() - SOURCES_NAMED));
    }
    named.join(", ")
}

/// A story's outlets: how many, then the most frequent (ties by name), as `stories.jsonl`
/// orders them; articles without an outlet are not counted.
fn outlets_cell<'a>(members: impl Iterator<Item = &'a Article>) -> String {
    let counts = super::outlets_by_count(members);
    if counts.is_empty() {
        return "(no source)".to_string();
    }
    let mut named: Vec<String> = counts
        .iter()
        .take(STORY_OUTLETS_NAMED)
        .map(|&(s, n)| {
            let s = escape(s, NAME_CHARS);
            if n > 1 { format!("{s} ×{n}") } else { s }
        })
        .collect();
    if counts.len() > STORY_OUTLETS_NAMED {
        named.push(format!("and {} more", counts.len() - STORY_OUTLETS_NAMED));
    }
    format!("{}: {}", counts.len(), named.join(", "))
}

/// A publication time's date (UTC), e.g. `2024-03-05`.
fn day(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Makes text from the input safe for one line of Markdown: a table cell or a list item.
///
/// Line breaks, tabs and other control characters become single spaces (bidirectional
/// overrides are dropped), the text is cut after `max_chars` characters with `…`, and every
/// character that could start Markdown syntax is escaped: backslash, `|`, backtick, `*`, `_`,
/// `[`, `]` and `~` with a backslash, `<` and `>` as `&lt;` and `&gt;` (so no HTML tag or
/// autolink can form), and `&` as `&amp;` where it would otherwise start a character reference.
/// What a reader sees is the original text.
pub fn escape(text: &str, max_chars: usize) -> String {
    let mut flat = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        if is_bidi_control(ch) {
            continue;
        }
        if ch.is_whitespace() || ch.is_control() {
            pending_space = !flat.is_empty();
            continue;
        }
        if pending_space {
            flat.push(' ');
            pending_space = false;
        }
        flat.push(ch);
    }
    let chars: Vec<char> = flat.chars().collect();
    let cut = chars.len() > max_chars;
    let kept = if cut { &chars[..max_chars] } else { &chars[..] };
    let mut out = String::with_capacity(flat.len() + 8);
    for (idx, &ch) in kept.iter().enumerate() {
        match ch {
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' if starts_reference(&kept[idx + 1..]) => out.push_str("&amp;"),
            _ => out.push(ch),
        }
    }
    if cut {
        out.truncate(out.trim_end().len());
        out.push('…');
    }
    out
}

/// Whether the characters after a `&` make a character reference (`&name;`, `&#123;`, `&#x1F;`).
fn starts_reference(rest: &[char]) -> bool {
    let body = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '#');
    let len = body.count();
    len > 0 && rest.get(len) == Some(&';')
}

/// Characters that reorder the text around them when displayed.
fn is_bidi_control(ch: char) -> bool {
    matches!(ch, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The story stage's parameters as it used them: the threshold, and the time window, which
/// `auto` leaves off below [`crate::story::AUTO_WINDOW_MIN_ARTICLES`] articles (so that a
/// small corpus's stories may span years: a user reading dates that far apart learns why).
fn story_parameters(
    config: &crate::story::StoryConfig,
    stats: &crate::story::StoryStats,
) -> [(&'static str, String); 2] {
    use crate::story::Window;
    let chosen = if config.threshold.is_none() {
        " (chosen by the kind of text)"
    } else {
        ""
    };
    let window = match (stats.window_days, config.window_days) {
        (Some(days), Window::Auto) => format!("{days} days either way (auto)"),
        (Some(days), _) => format!("{days} days either way"),
        (None, Window::Auto) => format!(
            "none (auto: none below {} articles, so a story may span any time)",
            super::html::thousands(crate::story::AUTO_WINDOW_MIN_ARTICLES as u64)
        ),
        (None, _) => "none".to_string(),
    };
    [
        (
            "story threshold",
            format!("{} average cosine similarity{chosen}", stats.threshold),
        ),
        ("story time window", window),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_cases() {
        // (input, max chars, expected)
        let cases = [
            ("plain title", 90, "plain title"),
            ("a | b", 90, r"a \| b"),
            (
                "`code` and *bold* _it_",
                90,
                r"\`code\` and \*bold\* \_it\_",
            ),
            ("[link](http://x)", 90, r"\[link\](http://x)"),
            (
                "<script>alert(1)</script>",
                90,
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            ("line\none\r\ntwo\u{2028}three", 90, "line one two three"),
            ("  tabs\tand   spaces  ", 90, "tabs and spaces"),
            ("AT&T & co", 90, "AT&T & co"),
            ("&lt; &#60; &#x3c;", 90, "&amp;lt; &amp;#60; &amp;#x3c;"),
            (r"back\slash ~strike~", 90, r"back\\slash \~strike\~"),
            ("evil\u{202e}txt.exe", 90, "eviltxt.exe"),
            ("bell\u{7}here", 90, "bell here"),
            ("abcdef", 3, "abc…"),
            ("ab cdef", 3, "ab…"),
            ("é😀ü", 2, "é😀…"),
            ("", 10, ""),
        ];
        for (input, max, expected) in cases {
            assert_eq!(escape(input, max), expected, "{input:?}");
        }
    }
}
