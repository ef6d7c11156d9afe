//! Quality and oracle tests: the real binary on real article text (data/sample.jsonl) with
//! injected edits, judged against exact Jaccard similarity computed by brute force.
//!
//! * [`quality_on_real_text`] measures precision and recall against an oracle that shares no code
//!   with storyhash: its own tokenizer and string word 5-grams, applied to the copies' text
//!   *before* boilerplate was added, so that removing boilerplate is part of what is measured.
//! * [`lsh_clusters_match_brute_force`] checks the pipeline against all-pairs exact Jaccard on
//!   storyhash's own canonical shingles: LSH may miss almost nothing, clusters hold only
//!   near pairs, and `--verify estimate` similarities stay within a stated tolerance of exact.
//! * Both run with one thread and with the default pool and demand identical output.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use storyhash::minhash::exact_jaccard;
use storyhash::normalize::{LearnedBoilerplate, canonical_text};
use storyhash::shingle::{ShingleConfig, ShingleScratch, shingles};

use crate::common::{read_json, read_jsonl, repo_dir, run, tempdir, write};

/// The default `--threshold`.
const THRESHOLD: f64 = 0.8;
/// Width of the band just above the threshold where recall is reported but not asserted.
const NEAR_BAND: f64 = 0.05;
/// Signature length (`--num-perm` default).
const NUM_PERM: f64 = 128.0;

/// SplitMix64: a tiny fixed-seed generator, so that the corpora are identical on every run.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// A real article of data/sample.jsonl.
#[derive(Debug, Clone)]
struct Original {
    id: String,
    source: String,
    title: String,
    published: String,
    text: String,
}

/// The real (not injected) articles of data/sample.jsonl with a body of 300 characters or more.
fn sample_originals() -> Vec<Original> {
    let records = read_jsonl(&repo_dir().join("data/sample.jsonl"));
    let field = |r: &Map<String, Value>, k: &str| {
        r.get(k)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("sample record without string {k}: {r:?}"))
            .to_string()
    };
    records
        .iter()
        .filter(|r| !field(r, "id").contains("-copy"))
        .map(|r| Original {
            id: field(r, "id"),
            source: field(r, "source"),
            title: field(r, "title"),
            published: field(r, "published"),
            text: field(r, "text"),
        })
        .filter(|o| o.text.chars().count() >= 300)
        .collect()
}

/// An article as paragraphs of sentences: the unit the edits work on.
type Body = Vec<Vec<String>>;

/// Splits a paragraph after `.`, `!` or `?` followed by a space and a capital or a quote.
fn split_sentences(paragraph: &str) -> Vec<String> {
    let chars: Vec<(usize, char)> = paragraph.char_indices().collect();
    let mut sentences = Vec::new();
    let mut start = 0;
    for (w, &(i, c)) in chars.iter().enumerate() {
        let ends = matches!(c, '.' | '!' | '?')
            && chars.get(w + 1).is_some_and(|&(_, n)| n == ' ')
            && chars
                .get(w + 2)
                .is_some_and(|&(_, n)| n.is_uppercase() || n == '"' || n == '“');
        if ends {
            sentences.push(paragraph[start..=i].trim().to_string());
            start = i + 1;
        }
    }
    let rest = paragraph[start..].trim();
    if !rest.is_empty() {
        sentences.push(rest.to_string());
    }
    sentences
}

fn parse_body(text: &str) -> Body {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(split_sentences)
        .collect()
}

fn render(body: &Body, paragraph_sep: &str, sentence_sep: &str) -> String {
    body.iter()
        .map(|p| p.join(sentence_sep))
        .collect::<Vec<_>>()
        .join(paragraph_sep)
}

fn count_words(body: &Body) -> usize {
    body.iter()
        .flatten()
        .map(|s| s.split_whitespace().count())
        .sum()
}

/// Words a copy editor might put in.
const REPLACEMENTS: &[&str] = &[
    "reportedly",
    "officials",
    "recently",
    "major",
    "several",
    "local",
    "early",
    "later",
    "public",
    "formal",
    "critical",
    "regional",
];

/// Content edits: they change what the article says, and the oracle sees them.
#[derive(Debug, Clone, Copy)]
enum Edit {
    /// Drop this many sentences (never the last two).
    DropSentences(usize),
    /// Swap two paragraphs (or two sentences of a one-paragraph article).
    Reorder,
    /// Replace this many words.
    ChangeWords(usize),
    /// Keep this share of the words, cutting mid-sentence.
    Truncate(f64),
}

fn apply(body: &mut Body, edit: Edit, rng: &mut SplitMix64) {
    match edit {
        Edit::DropSentences(n) => {
            for _ in 0..n {
                let places: Vec<(usize, usize)> = body
                    .iter()
                    .enumerate()
                    .flat_map(|(p, s)| (0..s.len()).map(move |i| (p, i)))
                    .collect();
                if places.len() <= 2 {
                    break;
                }
                let (p, i) = *rng.pick(&places);
                body[p].remove(i);
                body.retain(|p| !p.is_empty());
            }
        }
        Edit::Reorder => {
            if body.len() >= 2 {
                let a = rng.below(body.len());
                let b = (a + 1 + rng.below(body.len() - 1)) % body.len();
                body.swap(a, b);
            } else if body[0].len() >= 2 {
                let a = rng.below(body[0].len());
                let b = (a + 1 + rng.below(body[0].len() - 1)) % body[0].len();
                body[0].swap(a, b);
            }
        }
        Edit::ChangeWords(n) => {
            for _ in 0..n {
                let p = rng.below(body.len());
                let i = rng.below(body[p].len());
                let mut words: Vec<String> = body[p][i].split(' ').map(str::to_string).collect();
                let changeable: Vec<usize> = (0..words.len())
                    .filter(|&w| {
                        words[w].len() >= 3 && words[w].chars().all(|c| c.is_ascii_alphabetic())
                    })
                    .collect();
                if changeable.is_empty() {
                    continue;
                }
                let w = *rng.pick(&changeable);
                let new = rng.pick(REPLACEMENTS);
                words[w] = if words[w].eq_ignore_ascii_case(new) {
                    "also".to_string()
                } else {
                    new.to_string()
                };
                body[p][i] = words.join(" ");
            }
        }
        Edit::Truncate(share) => {
            let mut budget = (count_words(body) as f64 * share).ceil() as usize;
            let mut cut: Body = Vec::new();
            'outer: for paragraph in body.iter() {
                let mut kept = Vec::new();
                for sentence in paragraph {
                    let words: Vec<&str> = sentence.split_whitespace().collect();
                    if words.len() <= budget {
                        budget -= words.len();
                        kept.push(sentence.clone());
                    } else {
                        if budget > 0 {
                            kept.push(format!("{}…", words[..budget].join(" ")));
                        }
                        if !kept.is_empty() {
                            cut.push(kept);
                        }
                        break 'outer;
                    }
                }
                cut.push(kept);
            }
            if !cut.is_empty() {
                *body = cut;
            }
        }
    }
}

/// Presentation edits: boilerplate and typography that the normalizer should see through.
/// The quality oracle never sees them.
#[derive(Debug, Clone, Default)]
struct Dressing {
    byline: Option<&'static str>,
    footer: Option<&'static str>,
    /// An "Also Read" line with this headline, inserted between paragraphs.
    also_read: Option<String>,
    flip_quotes: bool,
    loose_whitespace: bool,
    /// An editor's note run on into a paragraph's first sentence, on its line.
    editors_note: Option<&'static str>,
}

const EDITORS_NOTES: &[&str] = &[
    "Editor's note: An earlier version of this article misstated a date.",
    "EDITOR’S NOTE: This story has been updated with new figures.",
    "Editor's Note — This report was corrected at 3 p.m. on Jan. 5.",
];

const BYLINES: &[&str] = &[
    "By Staff Reporter",
    "By JANE DOE, Associated Press",
    "Written by Aggregator Staff",
    "Posted by admin on January 5, 2018",
];

const FOOTERS: &[&str] = &[
    "Share this:\nTwitter\n\nFacebook\n\nLike this: Like Loading...",
    "Share this:\nTwitter\n\nFacebook\n\nWhatsApp\n\nTelegram\n\nLinkedIn\n\n\n\nLike this: Like Loading...",
    "Share on Facebook Share on Twitter Share via Email",
    "Copyright 2018 Aggregator Example. All rights reserved.",
];

impl Dressing {
    fn random(rng: &mut SplitMix64, headlines: &[String]) -> Dressing {
        Dressing {
            byline: rng.chance(0.5).then(|| *rng.pick(BYLINES)),
            footer: rng.chance(0.6).then(|| *rng.pick(FOOTERS)),
            also_read: rng.chance(0.3).then(|| rng.pick(headlines).clone()),
            flip_quotes: rng.chance(0.4),
            loose_whitespace: rng.chance(0.4),
            editors_note: rng.chance(0.3).then(|| *rng.pick(EDITORS_NOTES)),
        }
    }

    /// The text as the copy's outlet publishes it.
    fn apply(&self, body: &Body, rng: &mut SplitMix64) -> String {
        let (paragraph_sep, sentence_sep) = if self.loose_whitespace {
            ("\n\n  ", "  ")
        } else {
            ("\n", " ")
        };
        let mut paragraphs: Vec<String> = body.iter().map(|p| p.join(sentence_sep)).collect();
        if self.flip_quotes {
            for p in &mut paragraphs {
                *p = flip_quotes(p);
            }
        }
        if let Some(note) = self.editors_note {
            let at = rng.below(paragraphs.len());
            paragraphs[at] = format!("{note}{sentence_sep}{}", paragraphs[at]);
        }
        if let Some(headline) = &self.also_read
            && paragraphs.len() >= 2
        {
            let at = 1 + rng.below(paragraphs.len() - 1);
            paragraphs.insert(at, format!("Also Read: {headline}"));
        }
        if let Some(byline) = self.byline {
            paragraphs.insert(0, byline.to_string());
        }
        if let Some(footer) = self.footer {
            paragraphs.push(footer.to_string());
        }
        let text = paragraphs.join(paragraph_sep);
        if self.loose_whitespace {
            format!("\t{text}  \n\n")
        } else {
            text
        }
    }
}

/// Straightens curly quotes, or curls straight ones when there are none.
fn flip_quotes(text: &str) -> String {
    if text.contains(['‘', '’', '“', '”']) {
        return text
            .chars()
            .map(|c| match c {
                '‘' | '’' => '\'',
                '“' | '”' => '"',
                c => c,
            })
            .collect();
    }
    let mut open = true;
    text.chars()
        .map(|c| match c {
            '\'' => '’',
            '"' => {
                open = !open;
                if open { '”' } else { '“' }
            }
            c => c,
        })
        .collect()
}

/// How hard a copy is edited.
#[derive(Debug, Clone, Copy)]
enum Strength {
    /// A word or two changed, maybe paragraphs swapped: clearly a duplicate.
    Light,
    /// About 1% of the words changed and a sentence dropped: around the threshold.
    Medium,
    /// Several sentences dropped or the text cut short: mostly below the threshold.
    Heavy,
    /// Anything from a light touch to a cut at 30% (for the oracle test's wide spread).
    Wide,
}

fn content_edits(n_words: usize, strength: Strength, rng: &mut SplitMix64) -> Vec<Edit> {
    let share = |rng: &mut SplitMix64, lo: f64, hi: f64| {
        ((n_words as f64 * rng.between(lo, hi)).round() as usize).max(1)
    };
    let mut edits = Vec::new();
    match strength {
        Strength::Light => {
            edits.push(Edit::ChangeWords(1 + rng.below(2)));
            if rng.chance(0.3) {
                edits.push(Edit::Reorder);
            }
        }
        Strength::Medium => {
            edits.push(Edit::ChangeWords(share(rng, 0.004, 0.014)));
            if rng.chance(0.6) {
                edits.push(Edit::DropSentences(1));
            }
        }
        Strength::Heavy => {
            if rng.chance(0.5) {
                edits.push(Edit::Truncate(rng.between(0.5, 0.85)));
            } else {
                edits.push(Edit::DropSentences(2 + rng.below(3)));
            }
            edits.push(Edit::ChangeWords(share(rng, 0.005, 0.02)));
        }
        Strength::Wide => match rng.below(4) {
            0 => return content_edits(n_words, Strength::Light, rng),
            1 => return content_edits(n_words, Strength::Medium, rng),
            2 => return content_edits(n_words, Strength::Heavy, rng),
            _ => {
                edits.push(Edit::Truncate(rng.between(0.3, 1.0)));
                edits.push(Edit::ChangeWords(share(rng, 0.0, 0.01)));
            }
        },
    }
    rng.shuffle(&mut edits);
    edits
}

/// One article of a generated corpus.
#[derive(Debug, Clone)]
struct Doc {
    id: String,
    source: String,
    title: String,
    published: String,
    /// The text as written to the corpus.
    text: String,
    /// The text without injected boilerplate and typography (the original's text for originals).
    clean: String,
    /// Index of the original this is (or is a copy of) in the originals list.
    family_of: usize,
    is_copy: bool,
}

const COPY_SOURCES: &[&str] = &[
    "aggregator.example",
    "newswire-mirror.example",
    "dailyfeed.example",
];

/// Every original plus, for each original in `copied`, copies of the given strengths; shuffled.
fn build_corpus(
    originals: &[Original],
    copied: &[(usize, Vec<Strength>)],
    rng: &mut SplitMix64,
) -> Vec<Doc> {
    let headlines: Vec<String> = originals.iter().map(|o| o.title.clone()).collect();
    let mut docs: Vec<Doc> = originals
        .iter()
        .enumerate()
        .map(|(i, o)| Doc {
            id: o.id.clone(),
            source: o.source.clone(),
            title: o.title.clone(),
            published: o.published.clone(),
            text: o.text.clone(),
            clean: o.text.clone(),
            family_of: i,
            is_copy: false,
        })
        .collect();
    for (orig_idx, strengths) in copied {
        let original = &originals[*orig_idx];
        for (n, &strength) in strengths.iter().enumerate() {
            let mut body = parse_body(&original.text);
            for edit in content_edits(count_words(&body), strength, rng) {
                apply(&mut body, edit, rng);
            }
            let dressing = Dressing::random(rng, &headlines);
            docs.push(Doc {
                id: format!("{}-q{}", original.id, n + 1),
                source: rng.pick(COPY_SOURCES).to_string(),
                title: original.title.clone(),
                published: original.published.clone(),
                text: dressing.apply(&body, rng),
                clean: render(&body, "\n", " "),
                family_of: *orig_idx,
                is_copy: true,
            });
        }
    }
    rng.shuffle(&mut docs);
    docs
}

fn write_corpus(dir: &Path, docs: &[Doc]) -> PathBuf {
    let mut jsonl = String::new();
    for d in docs {
        let record = json!({
            "id": d.id,
            "source": d.source,
            "url": format!("https://{}/{}", d.source, d.id),
            "title": d.title,
            "text": d.text,
            "published": d.published,
        });
        jsonl.push_str(&record.to_string());
        jsonl.push('\n');
    }
    write(dir, "corpus.jsonl", jsonl)
}

/// What one `storyhash dedup` run wrote.
struct Outcome {
    /// Per article id, its cluster (input order).
    cluster_of: HashMap<String, Option<u64>>,
    /// duplicates.jsonl, parsed.
    duplicates: Vec<Map<String, Value>>,
    /// articles.jsonl and duplicates.jsonl, byte for byte.
    raw: (String, String),
    /// The LSH bands and rows the run used (from summary.json).
    bands_rows: (i32, i32),
}

/// Runs `storyhash dedup corpus --out DIR --quiet ARGS` in a fresh directory under `dir`.
fn dedup(corpus: &Path, dir: &Path, name: &str, args: &[&str]) -> Outcome {
    let out = dir.join(name);
    let mut argv = vec![
        "dedup",
        corpus.to_str().expect("temp paths are UTF-8"),
        "--out",
        out.to_str().expect("temp paths are UTF-8"),
        "--quiet",
    ];
    argv.extend_from_slice(args);
    let output = run(&argv, None);
    assert!(
        output.status.success(),
        "storyhash {argv:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let articles = read_jsonl(&out.join("articles.jsonl"));
    let cluster_of = articles
        .iter()
        .map(|a| {
            let id = a["id"].as_str().expect("string ids in, string ids out");
            (id.to_string(), a["dup_cluster"].as_u64())
        })
        .collect();
    let read = |f: &str| std::fs::read_to_string(out.join(f)).expect("output file exists");
    let summary = read_json(&out.join("summary.json"));
    let param = |name: &str| {
        summary["parameters"][name]
            .as_i64()
            .and_then(|v| i32::try_from(v).ok())
            .unwrap_or_else(|| panic!("summary.json has no parameters.{name}"))
    };
    Outcome {
        cluster_of,
        duplicates: read_jsonl(&out.join("duplicates.jsonl")),
        raw: (read("articles.jsonl"), read("duplicates.jsonl")),
        bands_rows: (param("bands"), param("rows")),
    }
}

/// Runs once with the default thread pool and once with `--threads 1`; the outputs must match.
fn dedup_any_threads(corpus: &Path, dir: &Path, name: &str, args: &[&str]) -> Outcome {
    let pooled = dedup(corpus, dir, name, args);
    let mut one_thread_args = args.to_vec();
    one_thread_args.extend_from_slice(&["--threads", "1"]);
    let single = dedup(corpus, dir, &format!("{name}-1t"), &one_thread_args);
    assert!(
        pooled.raw.0 == single.raw.0,
        "articles.jsonl differs between the default pool and --threads 1 ({args:?})"
    );
    assert!(
        pooled.raw.1 == single.raw.1,
        "duplicates.jsonl differs between the default pool and --threads 1 ({args:?})"
    );
    pooled
}

/// The quality oracle's shingles, independent of storyhash: lowercase, split on anything not
/// alphanumeric, word 5-grams as strings (interned to numbers for speed), sorted and unique.
fn oracle_shingles(text: &str, interner: &mut HashMap<String, u32>) -> Vec<u32> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let grams: Vec<String> = if words.len() < 5 {
        vec![words.join(" ")]
    } else {
        words.windows(5).map(|w| w.join(" ")).collect()
    };
    let mut ids: Vec<u32> = grams
        .into_iter()
        .map(|g| {
            let next = interner.len() as u32;
            *interner.entry(g).or_insert(next)
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn jaccard<T: Ord>(a: &[T], b: &[T]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// The members of each reported cluster, as indices into `docs`.
fn clusters_of(outcome: &Outcome, docs: &[Doc]) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, d) in docs.iter().enumerate() {
        if let Some(c) = outcome.cluster_of[&d.id] {
            groups.entry(c).or_default().push(i);
        }
    }
    groups.into_values().collect()
}

fn ratio(hits: usize, total: usize) -> f64 {
    if total == 0 {
        1.0
    } else {
        hits as f64 / total as f64
    }
}

#[test]
fn quality_on_real_text() {
    let originals = sample_originals();
    assert!(originals.len() >= 100, "{} originals", originals.len());
    let mut rng = SplitMix64(0x5155_414c_4954_5901);
    let mut order: Vec<usize> = (0..originals.len()).collect();
    rng.shuffle(&mut order);
    let copied: Vec<(usize, Vec<Strength>)> = order[..60]
        .iter()
        .map(|&o| {
            let n = 1 + rng.below(3);
            let strengths = (0..n)
                .map(|_| match rng.unit() {
                    u if u < 0.45 => Strength::Light,
                    u if u < 0.8 => Strength::Medium,
                    _ => Strength::Heavy,
                })
                .collect();
            (o, strengths)
        })
        .collect();
    let docs = build_corpus(&originals, &copied, &mut rng);
    let dir = tempdir();
    let corpus = write_corpus(dir.path(), &docs);
    let outcome = dedup_any_threads(&corpus, dir.path(), "out", &[]);

    // Ground truth on the clean texts.
    let mut interner = HashMap::new();
    let sets: Vec<Vec<u32>> = docs
        .iter()
        .map(|d| oracle_shingles(&d.clean, &mut interner))
        .collect();
    // Distinct originals are different articles, except wire copies the data already holds:
    // originals at oracle Jaccard 0.5 or more form one family.
    let mut family: Vec<usize> = (0..originals.len()).collect();
    let original_docs: Vec<usize> = (0..docs.len()).filter(|&i| !docs[i].is_copy).collect();
    let mut wire_pairs = 0;
    for (x, &a) in original_docs.iter().enumerate() {
        for &b in &original_docs[x + 1..] {
            if jaccard(&sets[a], &sets[b]) >= 0.5 {
                wire_pairs += 1;
                let (ra, rb) = (
                    find(&mut family, docs[a].family_of),
                    find(&mut family, docs[b].family_of),
                );
                family[ra] = rb;
            }
        }
    }
    let family_of = |family: &mut Vec<usize>, d: &Doc| find(family, d.family_of);

    // Precision over every pair that shares a reported cluster.
    let clusters = clusters_of(&outcome, &docs);
    let (mut pairs, mut correct) = (0, 0);
    let mut wrong = Vec::new();
    for members in &clusters {
        for (x, &a) in members.iter().enumerate() {
            for &b in &members[x + 1..] {
                pairs += 1;
                if family_of(&mut family, &docs[a]) == family_of(&mut family, &docs[b]) {
                    correct += 1;
                } else if wrong.len() < 5 {
                    wrong.push((docs[a].id.clone(), docs[b].id.clone()));
                }
            }
        }
    }
    let precision = ratio(correct, pairs);

    // Recall of (copy, original) pairs by band of oracle Jaccard.
    let index_of: HashMap<&str, usize> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let mut bands = [(0, 0); 3]; // (pairs, found) for [t+0.05, 1], [t, t+0.05), [0, t)
    let mut missed = Vec::new();
    for d in docs.iter().filter(|d| d.is_copy) {
        let original = index_of[originals[d.family_of].id.as_str()];
        let j = jaccard(&sets[index_of[d.id.as_str()]], &sets[original]);
        let together = outcome.cluster_of[&d.id].is_some()
            && outcome.cluster_of[&d.id] == outcome.cluster_of[&docs[original].id];
        let band = if j >= THRESHOLD + NEAR_BAND {
            0
        } else if j >= THRESHOLD {
            1
        } else {
            2
        };
        bands[band].0 += 1;
        bands[band].1 += usize::from(together);
        if band == 0 && !together {
            missed.push((d.id.clone(), j));
        }
    }
    let recall_high = ratio(bands[0].1, bands[0].0);
    eprintln!(
        "quality: {} docs ({} originals, {} copies), {} wire pairs among originals, {} clusters",
        docs.len(),
        original_docs.len(),
        docs.len() - original_docs.len(),
        wire_pairs,
        clusters.len()
    );
    eprintln!("quality: precision {precision:.4} ({correct}/{pairs} clustered pairs)");
    eprintln!(
        "quality: recall J >= {:.2}: {recall_high:.4} ({}/{}); J in [{THRESHOLD:.2}, {:.2}): {:.4} ({}/{}); J < {THRESHOLD:.2} clustered anyway: {:.4} ({}/{})",
        THRESHOLD + NEAR_BAND,
        bands[0].1,
        bands[0].0,
        THRESHOLD + NEAR_BAND,
        ratio(bands[1].1, bands[1].0),
        bands[1].1,
        bands[1].0,
        ratio(bands[2].1, bands[2].0),
        bands[2].1,
        bands[2].0,
    );
    // The bands must be populated, or the recall figures say nothing.
    assert!(bands[0].0 >= 50, "only {} pairs at J >= 0.85", bands[0].0);
    assert!(
        bands[1].0 >= 5,
        "only {} pairs in the near band",
        bands[1].0
    );
    assert!(
        bands[2].0 >= 5,
        "only {} pairs below the threshold",
        bands[2].0
    );
    assert!(pairs >= 50, "only {pairs} clustered pairs");
    assert!(precision >= 0.99, "precision {precision}: e.g. {wrong:?}");
    assert!(
        recall_high >= 0.99,
        "recall {recall_high} above {}: missed {missed:?}",
        THRESHOLD + NEAR_BAND
    );
}

/// storyhash's own canonical shingle set of a text, sorted and unique (no learned boilerplate).
fn storyhash_shingles(text: &str) -> Vec<u64> {
    let mut canonical = String::new();
    canonical_text(text, &LearnedBoilerplate::default(), &mut canonical);
    let mut set = Vec::new();
    shingles(
        &canonical,
        &ShingleConfig::default(),
        &mut ShingleScratch::default(),
        &mut set,
    );
    set.sort_unstable();
    set.dedup();
    set
}

/// The share of brute-force pairs at or above the threshold that may end up in different
/// clusters (rounded up, so one miss is always allowed). With `--verify auto` a pair is lost
/// only if LSH never makes it a candidate or its estimate falls more than 3 standard errors below
/// the threshold (0.13% at J = t). LSH misses a pair with probability `(1 − J^r)^b`: with the
/// bands chosen for k = 128 (21 × 6 at t = 0.8, 28 × 3 at t = 0.6) that is 0.17% (0.11%) at
/// J = t, 0.01% at J = t + 0.05 and nothing above; pairs spread over [t, 1] miss well under 1% on
/// average, and a pair missed directly is often still joined through a third article. The test
/// prints the expected number of direct misses for the corpus's own pairs beside the count.
const MAX_MISSED_SHARE: f64 = 0.01;

/// Slack below the threshold for the edges that justify cluster membership: a pair accepted on
/// its estimate alone has an estimate at least 3σ (0.106 at t = 0.8, k = 128) above t, so its
/// exact Jaccard is below t − 0.02 only if the estimate is off by more than about 3.6σ.
const MEMBER_SLACK: f64 = 0.02;

/// Tolerance of a MinHash estimate for a pair of exact Jaccard `j`: the estimate is a binomial
/// proportion over k = 128 slots with standard error σ = sqrt(J(1−J)/k) (0.044 at J = 0.5, 0.035
/// at J = 0.8, 0.019 at J = 0.95). Four σ plus one slot of granularity: 0.185 at J = 0.5, 0.149
/// at J = 0.8, 0.085 at J = 0.95. With about a hundred members checked, the chance that any
/// strays beyond 4σ is under 1%, and the corpus is fixed, so the test does not flicker.
fn estimate_tolerance(j: f64) -> f64 {
    4.0 * (j * (1.0 - j) / NUM_PERM).sqrt() + 1.0 / NUM_PERM
}

/// Mean absolute error allowed over all members: E|est − J| = σ·sqrt(2/π) ≈ 0.8σ ≤ 0.035 even if
/// every member sat at J = 0.5; 0.04 leaves room for the sampling noise of the mean itself.
const MAX_MEAN_ABS_ERROR: f64 = 0.04;

#[test]
fn lsh_clusters_match_brute_force() {
    let originals = sample_originals();
    let mut rng = SplitMix64(0x4f52_4143_4c45_0002);
    let mut order: Vec<usize> = (0..originals.len()).collect();
    rng.shuffle(&mut order);
    // 50 originals, two widely edited copies each: a spread of similarities from ~0.3 to 1.
    let chosen: Vec<Original> = order[..50].iter().map(|&i| originals[i].clone()).collect();
    let copied: Vec<(usize, Vec<Strength>)> = (0..chosen.len())
        .map(|i| (i, vec![Strength::Wide; 2]))
        .collect();
    let docs = build_corpus(&chosen, &copied, &mut rng);
    let dir = tempdir();
    let corpus = write_corpus(dir.path(), &docs);

    let sets: Vec<Vec<u64>> = docs.iter().map(|d| storyhash_shingles(&d.text)).collect();
    let mut all_pairs: Vec<(usize, usize, f64)> = Vec::new();
    for a in 0..docs.len() {
        for b in a + 1..docs.len() {
            all_pairs.push((a, b, exact_jaccard(&sets[a], &sets[b])));
        }
    }
    let mut spread = [0usize; 8]; // pairs with J in [0.3, 0.4), ..., [0.9, 1.0), and J = 1
    for &(_, _, j) in &all_pairs {
        if j >= 0.3 {
            spread[((j - 0.3) * 10.0).floor().min(7.0) as usize] += 1;
        }
    }
    eprintln!(
        "oracle: {} docs, {} pairs; pairs by J from 0.3 in steps of 0.1: {spread:?}",
        docs.len(),
        all_pairs.len()
    );

    for threshold in [THRESHOLD, 0.6] {
        let t = threshold.to_string();
        let outcome = dedup_any_threads(
            &corpus,
            dir.path(),
            &format!("auto-{t}"),
            &["--no-learn-boilerplate", "--threshold", &t],
        );
        let cluster = |i: usize| outcome.cluster_of[&docs[i].id];

        // Every pair at or above the threshold shares a cluster, up to the allowance.
        let above: Vec<&(usize, usize, f64)> =
            all_pairs.iter().filter(|p| p.2 >= threshold).collect();
        let missed: Vec<_> = above
            .iter()
            .filter(|&&&(a, b, _)| cluster(a).is_none() || cluster(a) != cluster(b))
            .map(|&&(a, b, j)| (docs[a].id.clone(), docs[b].id.clone(), j))
            .collect();

        // Every cluster is connected by brute-force edges at J ≥ t − slack.
        let clusters = clusters_of(&outcome, &docs);
        let mut loose = Vec::new();
        for members in &clusters {
            let mut parent: Vec<usize> = (0..members.len()).collect();
            for x in 0..members.len() {
                for y in x + 1..members.len() {
                    let (a, b) = (members[x].min(members[y]), members[x].max(members[y]));
                    let j = exact_jaccard(&sets[a], &sets[b]);
                    if j >= threshold - MEMBER_SLACK {
                        let (rx, ry) = (find(&mut parent, x), find(&mut parent, y));
                        parent[rx] = ry;
                    }
                }
            }
            let root = find(&mut parent, 0);
            if (0..members.len()).any(|x| find(&mut parent, x) != root) {
                loose.push(
                    members
                        .iter()
                        .map(|&m| docs[m].id.clone())
                        .collect::<Vec<_>>(),
                );
            }
        }
        // What the S-curve predicts for these very pairs (before triage and transitivity).
        let (bands, rows) = outcome.bands_rows;
        let expected_misses: f64 = above
            .iter()
            .map(|p| (1.0 - p.2.powi(rows)).powi(bands))
            .sum();
        eprintln!(
            "oracle t={t}: {} brute-force pairs at J >= t, {} not clustered together ({:.4}; LSH {bands} x {rows} predicts {expected_misses:.3} direct misses); {} clusters, {} not connected at J >= t - {MEMBER_SLACK}",
            above.len(),
            missed.len(),
            ratio(missed.len(), above.len()),
            clusters.len(),
            loose.len()
        );
        assert!(above.len() >= 50, "only {} pairs at J >= {t}", above.len());
        assert!(
            missed.len() as f64 <= (MAX_MISSED_SHARE * above.len() as f64).ceil(),
            "t={t}: {} of {} pairs missed: {missed:?}",
            missed.len(),
            above.len()
        );
        assert!(
            loose.is_empty(),
            "t={t}: clusters not held together: {loose:?}"
        );
    }

    // Estimated similarity to the kept article against exact Jaccard.
    let outcome = dedup_any_threads(
        &corpus,
        dir.path(),
        "estimate",
        &["--no-learn-boilerplate", "--verify", "estimate"],
    );
    let index_of: HashMap<&str, usize> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let mut errors = Vec::new();
    let mut too_far = Vec::new();
    for line in &outcome.duplicates {
        let kept = index_of[line["canonical"].as_str().expect("canonical id")];
        for member in line["members"].as_array().expect("members array") {
            let doc = index_of[member["id"].as_str().expect("member id")];
            if doc == kept {
                continue;
            }
            let est = member["similarity"].as_f64().expect("numeric similarity");
            let exact = exact_jaccard(&sets[doc], &sets[kept]);
            let error = (est - exact).abs();
            errors.push(error);
            if error > estimate_tolerance(exact) {
                too_far.push((docs[doc].id.clone(), est, exact));
            }
        }
    }
    let mean = errors.iter().sum::<f64>() / errors.len().max(1) as f64;
    let max = errors.iter().copied().fold(0.0, f64::max);
    eprintln!(
        "oracle estimate: {} members, mean |est - exact| {mean:.4}, max {max:.4}, beyond 4σ: {}",
        errors.len(),
        too_far.len()
    );
    assert!(errors.len() >= 30, "only {} members compared", errors.len());
    assert!(too_far.is_empty(), "estimates beyond 4σ: {too_far:?}");
    assert!(mean <= MAX_MEAN_ABS_ERROR, "mean absolute error {mean}");
}
