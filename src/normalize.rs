//! Normalization: raw article text to canonical text.
//!
//! The canonical text is the article's words, lowercased, NFKC-normalized, with punctuation
//! removed (apostrophes inside words are dropped, so `don't` and `don’t` both become `dont`;
//! every other non-word character separates words), joined by single spaces. A clitic that a
//! scraper or a tokenized corpus split from its word (`Putin 's`, `they 're`, `do n't`) is
//! joined to it again first, so that it reads as `Putin's` does. Chinese and
//! Japanese are written without spaces: each Han, Hiragana and Katakana character is a word of
//! its own (so word n-grams over them are character n-grams), and those characters are joined
//! without spaces. What it leaves out:
//!
//! * **Known boilerplate lines**: share/like widgets ("Share this: Twitter", "Like Loading…"),
//!   "Also Read: …" and other related-link lines, cookie notices, newsletter pitches, bylines,
//!   "Continue reading" and photo credits. A trailing share widget on a line of text is cut
//!   too.
//! * **Editor's notes** that open a line: its first sentence and those right after it that
//!   read as the note's ("It has been corrected."), or up to the closing bracket of "[Editor's
//!   note: …]"; not the rest of the line, which scrapers often run on into the article's text.
//! * **Datelines** such as `SEOUL, South Korea —` at the start of the first line.
//! * **Learned boilerplate**: lines that repeat across many otherwise different articles of one
//!   outlet ([`LearnedBoilerplate`], built by [`BoilerplateLearner`] from the corpus itself).
//!
//! Lines are split on `\n`; shingles run across line boundaries, as if a removed line had never
//! been there.

use ahash::{AHashMap, AHashSet};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Lines longer than this (in bytes) are never learned as boilerplate: boilerplate is short,
/// and counting every paragraph would cost memory for nothing.
pub const MAX_LEARNED_LINE_BYTES: usize = 200;

/// How many distinct articles a learner tracks per line; `min_docs` cannot exceed it.
pub const MAX_LEARN_MIN_DOCS: usize = 8;

/// The key that groups articles for boilerplate learning: a hash of the outlet name
/// (0 when the article has none, or a blank one, so all such articles form one group).
pub fn source_key(source: Option<&str>) -> u64 {
    match source {
        Some(s) if !is_blank(s) => xxh3_64_with_seed(s.as_bytes(), 0x6f75_746c_6574) | 1,
        _ => 0,
    }
}

/// Whether a field's value says nothing: empty, or only spaces and control characters (which
/// the reports drop), as a headline or an outlet name.
pub fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || c.is_control())
}

/// The key a line is counted under while learning: the line within its outlet.
fn line_key(source_key: u64, line: &str) -> u64 {
    xxh3_64_with_seed(line.as_bytes(), source_key)
}

/// The key a learned line is known by: the line alone, whatever the outlet.
fn line_hash(line: &str) -> u64 {
    xxh3_64_with_seed(line.as_bytes(), 0)
}

/// The lines of `text`, trimmed, without the empty ones: what
/// `text.lines().map(str::trim).filter(|l| !l.is_empty())` yields, with the line ends found by
/// memchr's vector search instead of `str::lines`' word-at-a-time one. (`lines` also drops a `\r`
/// before the `\n`; `trim` drops it here.)
fn trimmed_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes())
        .chain(std::iter::once(text.len()))
        .filter_map(move |end| {
            let line = text[start..end].trim();
            start = end + 1;
            (!line.is_empty()).then_some(line)
        })
}

/// Lines learned to be boilerplate (each in at least `--boilerplate-min-docs` articles of one
/// outlet), removed from every article that has them.
#[derive(Debug, Default, Clone)]
pub struct LearnedBoilerplate {
    keys: AHashSet<u64>,
}

impl LearnedBoilerplate {
    /// True when `line` (trimmed) was learned as boilerplate.
    ///
    /// A line is learned from the articles of one outlet, and then removed from every
    /// article that has it, whatever its outlet: a copy another outlet carries must lose the
    /// same lines, or the two would no longer match.
    pub fn contains(&self, line: &str) -> bool {
        !self.keys.is_empty()
            && line.len() <= MAX_LEARNED_LINE_BYTES
            && self.keys.contains(&line_hash(line))
    }

    /// True when a line key from [`LineSample::keys`] was learned.
    pub fn contains_key(&self, key: u64) -> bool {
        self.keys.contains(&key)
    }

    /// The learned line keys, sorted (what an index keeps).
    pub fn keys(&self) -> Vec<u64> {
        let mut keys: Vec<u64> = self.keys.iter().copied().collect();
        keys.sort_unstable();
        keys
    }

    /// Keeps only the learned lines whose key `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(u64) -> bool) {
        self.keys.retain(|&k| keep(k));
    }

    /// Adds line keys learned elsewhere (an index's earlier batches).
    pub fn extend_keys(&mut self, keys: &[u64]) {
        self.keys.extend(keys.iter().copied());
    }

    /// Number of lines learned.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when nothing was learned.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Distinct article fingerprints seen with one line (saturating at [`MAX_LEARN_MIN_DOCS`]).
#[derive(Debug, Default, Clone, Copy)]
struct Sightings {
    fingerprints: [u32; MAX_LEARN_MIN_DOCS],
    n: u8,
}

impl Sightings {
    fn add(&mut self, fingerprint: u32) {
        let n = usize::from(self.n);
        if n < MAX_LEARN_MIN_DOCS && !self.fingerprints[..n].contains(&fingerprint) {
            self.fingerprints[n] = fingerprint;
            self.n += 1;
        }
    }
}

/// Counts, per outlet, in how many *different* articles each short line occurs.
///
/// Articles are told apart by a fingerprint of their *other* lines (the smallest hash among
/// them), so that an outlet that carries the same article five times (re-scrapes, updates) does
/// not teach the learner that the article's own lines are boilerplate.
///
/// Most short lines occur once in a corpus, so the table of those is most of the learner's
/// memory (at 1M articles, the largest part of the scan's peak after the articles themselves):
/// it is packed, 12 bytes a line.
#[derive(Debug, Default)]
pub struct BoilerplateLearner {
    /// Lines seen in one article so far (most lines), with the fingerprint of that article.
    once: OnceLines,
    /// Lines seen in two or more different articles (by outlet and line), with the key the
    /// line is known by once learned ([`line_hash`]).
    seen: AHashMap<u64, (Sightings, u64)>,
}

/// A map from line key to fingerprint, packed: an entry is the key's two halves and the
/// fingerprint, 12 bytes, where a map from `u64` to `u32` pads each to 16.
///
/// Line keys are XXH3 hashes already, so they are their own hash (rotated: hashbrown takes its
/// bucket from the low bits and its tag from the top ones).
///
/// Splitting it into shards by the key's top bits, so that a resize copies a sixteenth of the
/// lines instead of all, was tried: the heap's peak fell, the process's did not, as glibc keeps
/// the freed tables of a few MB in its heap where it returns one large table to the system.
#[derive(Debug, Default)]
struct OnceLines {
    table: hashbrown::HashTable<[u32; 3]>,
}

/// The hash [`OnceLines`]'s table takes for `key`.
fn once_hash(key: u64) -> u64 {
    key.rotate_left(32)
}

fn once_key(entry: &[u32; 3]) -> u64 {
    u64::from(entry[0]) | (u64::from(entry[1]) << 32)
}

impl OnceLines {
    /// The fingerprint `key` was first seen with, if it was.
    #[cfg(test)]
    fn get(&self, key: u64) -> Option<u32> {
        self.table
            .find(once_hash(key), |e| once_key(e) == key)
            .map(|e| e[2])
    }

    /// Records `key` with `fingerprint` if it is new; otherwise, returns the fingerprint it was
    /// first seen with, and forgets it if `fingerprint` differs from that one (the line has
    /// moved on to [`BoilerplateLearner::seen`]).
    fn see(&mut self, key: u64, fingerprint: u32) -> Option<u32> {
        let hash = once_hash(key);
        match self.table.find_entry(hash, |e| once_key(e) == key) {
            Ok(entry) => {
                let first = entry.get()[2];
                if first != fingerprint {
                    entry.remove();
                }
                Some(first)
            }
            Err(_) => {
                self.table.insert_unique(
                    hash,
                    [key as u32, (key >> 32) as u32, fingerprint],
                    |e| once_hash(once_key(e)),
                );
                None
            }
        }
    }
}

/// The short lines of one article: each line's key within its outlet (the line hashed with
/// the outlet's key as seed), the fingerprint of the rest of the article, and the line's own
/// key (the line hashed with seed 0, what [`LearnedBoilerplate`] holds).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LineSample {
    keys: Vec<(u64, u32, u64)>,
}

impl LineSample {
    /// The keys of the article's short lines (what [`LearnedBoilerplate::contains_key`] takes).
    pub fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.keys.iter().map(|&(_, _, h)| h)
    }

    /// Samples the lines of one article.
    ///
    /// The scan samples while it tokenizes ([`for_each_token_sampled`]); this is the plain
    /// version of that pass, for character shingles and as the tests' oracle.
    pub fn of(text: &str, source: Option<&str>) -> LineSample {
        let cookies = COOKIES.find(text.as_bytes()).is_some();
        let lines: Vec<SampledLine<'_>> = trimmed_lines(text)
            .map(|l| {
                // Only short lines can be learned, so only they are checked.
                let known = l.len() <= MAX_LEARNED_LINE_BYTES
                    && known_boilerplate_left(l, cookies).is_none();
                (line_hash(l), l, known)
            })
            .collect();
        LineSample::from_lines(source, lines)
    }

    /// The sample of an article's trimmed, non-empty lines, each with its hash and whether it
    /// is known boilerplate (needed for short lines only).
    fn from_lines(source: Option<&str>, mut lines: Vec<SampledLine<'_>>) -> LineSample {
        let skey = source_key(source);
        // A line's fingerprint stands for the rest of its article. With long lines (which are
        // never boilerplate), it is the smallest hash among them: robust to an edited short
        // line in a re-scraped copy. Without any, it is the sum of the hashes of the article's
        // other lines, so that a footer repeated together with the line being counted cannot
        // make every article look the same.
        let (mut long1, mut total) = (u64::MAX, 0u64);
        let mut short: Vec<(u64, &str)> = Vec::new();
        lines.sort_unstable_by_key(|l| l.0);
        lines.dedup_by_key(|l| l.0);
        for (h, line, known) in lines {
            total = total.wrapping_add(h);
            if line.len() > MAX_LEARNED_LINE_BYTES {
                long1 = long1.min(h);
            } else if !known {
                short.push((h, line));
            }
        }
        let fingerprint = |h: u64| {
            let rest = if long1 != u64::MAX {
                long1
            } else {
                total.wrapping_sub(h)
            };
            (rest ^ (rest >> 32)) as u32
        };
        // `h` is the line's hash with seed 0: its [`line_hash`].
        let mut keys: Vec<(u64, u32, u64)> = short
            .iter()
            .map(|&(h, l)| (line_key(skey, l), fingerprint(h), h))
            .collect();
        keys.sort_unstable();
        keys.dedup_by_key(|k| k.0);
        LineSample { keys }
    }
}

/// A trimmed line of an article: its hash, the line, and whether it is known boilerplate.
type SampledLine<'a> = (u64, &'a str, bool);

impl BoilerplateLearner {
    /// Adds one article's lines.
    pub fn add(&mut self, sample: &LineSample) {
        for &(key, fingerprint, hash) in &sample.keys {
            if let Some((s, _)) = self.seen.get_mut(&key) {
                s.add(fingerprint);
                continue;
            }
            match self.once.see(key, fingerprint) {
                None => {}
                Some(first) if first == fingerprint => {}
                Some(first) => {
                    let mut s = Sightings::default();
                    s.add(first);
                    s.add(fingerprint);
                    self.seen.insert(key, (s, hash));
                }
            }
        }
    }

    /// The lines seen in at least `min_docs` different articles of one outlet.
    pub fn finish(self, min_docs: usize) -> LearnedBoilerplate {
        let min_docs = min_docs.clamp(2, MAX_LEARN_MIN_DOCS);
        LearnedBoilerplate {
            keys: self
                .seen
                .into_values()
                .filter(|(s, _)| usize::from(s.n) >= min_docs)
                .map(|(_, hash)| hash)
                .collect(),
        }
    }
}

/// Words that make up share/like widgets.
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "is_lower_widget_word matches these; tests hold it to the list"
    )
)]
const WIDGET_WORDS: &[&str] = &[
    "share",
    "this",
    "twitter",
    "facebook",
    "whatsapp",
    "telegram",
    "linkedin",
    "reddit",
    "pinterest",
    "email",
    "e-mail",
    "print",
    "tumblr",
    "pocket",
    "skype",
    "messenger",
    "like",
    "loading",
    "tweet",
    "pin",
    "it",
    "mail",
    "copy",
    "link",
    "x",
    "threads",
    "mastodon",
    "flipboard",
    "on",
    "via",
    "sms",
    "more",
];

/// Line openings that mark boilerplate, with the most words such a line may have.
const BOILERPLATE_OPENINGS: &[(&str, usize)] = &[
    ("share this", 40),
    ("like this", 40),
    ("also read", 40),
    ("read also", 40),
    ("read more", 40),
    ("see also", 40),
    ("related:", 40),
    ("related articles", 40),
    ("related stories", 40),
    ("recommended:", 40),
    ("more:", 40),
    ("click here", 40),
    ("click to share", 40),
    ("continue reading", 40),
    ("sign up for", 40),
    ("subscribe to", 40),
    ("follow us", 40),
    ("by ", 8),
    ("written by ", 10),
    ("posted by ", 10),
    ("reporting by ", 20),
    ("photo:", 25),
    ("photo credit", 25),
    ("image:", 25),
    ("image source", 25),
    ("copyright ", 25),
    ("© ", 25),
    ("all rights reserved", 25),
    ("advertisement", 3),
    ("photo", 1),
    ("video", 1),
];

/// The longest entry of [`WIDGET_WORDS`].
const MAX_WIDGET_WORD: usize = 9;

fn is_widget_word(word: &str) -> bool {
    let not_kept = |c: char| !c.is_alphanumeric() && c != '-';
    // Widget words are ASCII; for ASCII, `char::is_alphanumeric` is the byte test.
    let word = if word.is_ascii() {
        let bytes = word.as_bytes();
        let not_kept = |b: &u8| !b.is_ascii_alphanumeric() && *b != b'-';
        let start = bytes
            .iter()
            .position(|b| !not_kept(b))
            .unwrap_or(bytes.len());
        let end = bytes
            .iter()
            .rposition(|b| !not_kept(b))
            .map_or(start, |i| i + 1);
        &word[start..end]
    } else {
        word.trim_matches(not_kept)
    };
    if word.len() > MAX_WIDGET_WORD {
        return false;
    }
    let mut lower = [0u8; MAX_WIDGET_WORD];
    for (l, b) in lower.iter_mut().zip(word.bytes()) {
        *l = b.to_ascii_lowercase();
    }
    word.is_empty() || is_lower_widget_word(&lower[..word.len()])
}

/// True when `lower` is one of [`WIDGET_WORDS`]: a `match`, which compiles to a test of the
/// length and then of a few bytes, where a scan of the list costs a comparison per entry. A test
/// checks it against the list.
fn is_lower_widget_word(lower: &[u8]) -> bool {
    matches!(
        lower,
        b"share"
            | b"this"
            | b"twitter"
            | b"facebook"
            | b"whatsapp"
            | b"telegram"
            | b"linkedin"
            | b"reddit"
            | b"pinterest"
            | b"email"
            | b"e-mail"
            | b"print"
            | b"tumblr"
            | b"pocket"
            | b"skype"
            | b"messenger"
            | b"like"
            | b"loading"
            | b"tweet"
            | b"pin"
            | b"it"
            | b"mail"
            | b"copy"
            | b"link"
            | b"x"
            | b"threads"
            | b"mastodon"
            | b"flipboard"
            | b"on"
            | b"via"
            | b"sms"
            | b"more"
    )
}

/// `line.split_ascii_whitespace().next()`, without the iterator's per-byte closure calls.
fn first_ascii_word(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let len = bytes[start..]
        .iter()
        .position(u8::is_ascii_whitespace)
        .unwrap_or(bytes.len() - start);
    Some(&line[start..start + len])
}

/// `line.split_ascii_whitespace().next_back()`, without the iterator's per-byte closure calls.
fn last_ascii_word(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace())? + 1;
    let start = bytes[..end]
        .iter()
        .rposition(u8::is_ascii_whitespace)
        .map_or(0, |i| i + 1);
    Some(&line[start..end])
}

/// `line.split_whitespace().count() <= max`, counting no further than it needs to.
fn at_most_words(line: &str, max: usize) -> bool {
    line.split_whitespace().nth(max).is_none()
}

/// Whether a short line opening with "By " is a byline ("By Jane Doe and John Roe, Associated
/// Press", "By Jane Doe on March 3, 2024", "By Jane Doe • 4 min read") rather than a sentence
/// ("By Friday, the storm had passed."): it is a sentence when it ends as one (`.`, `!` or `?`)
/// and holds a lowercase word of prose (letters only, once the punctuation around it is off)
/// other than the few that bylines hold. Names, agencies, numbers, addresses and scraped markup
/// (`<img src=x>`) are no prose.
fn reads_as_byline(line: &str) -> bool {
    const LOWER: &[&str] = &[
        "a",
        "al",
        "and",
        "at",
        "bin",
        "by",
        "contributing",
        "correspondent",
        "correspondents",
        "da",
        "de",
        "del",
        "der",
        "di",
        "editor",
        "editors",
        "for",
        "from",
        "in",
        "la",
        "le",
        "of",
        "on",
        "reporter",
        "reporters",
        "senior",
        "special",
        "staff",
        "the",
        "to",
        "van",
        "von",
        "with",
        "writer",
        "writers",
    ];
    let ends_as_sentence = line
        .trim_end_matches(['"', '\'', '”', '’', ')'])
        .ends_with(['.', '!', '?']);
    !ends_as_sentence
        || line.split_whitespace().skip(1).all(|word| {
            let word = word.trim_matches(|c: char| ",.;:!?'\"()“”‘’".contains(c));
            let prose = word.chars().next().is_some_and(char::is_lowercase)
                && word.chars().all(char::is_alphabetic);
            !prose || LOWER.contains(&word)
        })
}

/// Case-insensitive (ASCII) substring test without allocating.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    h.len() >= n.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// First bytes (lowercased) of the entries of [`BOILERPLATE_OPENINGS`], for a quick reject.
fn may_open_boilerplate(first: u8) -> bool {
    matches!(
        first.to_ascii_lowercase(),
        b's' | b'l' | b'a' | b'r' | b'm' | b'c' | b'f' | b'b' | b'w' | b'p' | b'i' | b'v'
    ) || first == 0xC2 // '©'
}

/// Finds "cookies" (and "Cookies") without building a searcher per line.
static COOKIES: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"ookies"));

/// True when a whole (trimmed) line is known boilerplate.
pub fn is_known_boilerplate(line: &str) -> bool {
    known_boilerplate_left(line, true).is_none()
}

/// What known boilerplate leaves of a (trimmed) line: `None` when the whole line is
/// boilerplate, else the line without an editor's note that opens it ([`cut_editors_note`]),
/// which is the line itself when none does.
fn known_boilerplate_left(line: &str, text_mentions_cookies: bool) -> Option<&str> {
    if is_known_boilerplate_in(line, text_mentions_cookies) {
        return None;
    }
    let rest = cut_editors_note(line)?;
    if rest.len() != line.len() && is_known_boilerplate_in(rest, text_mentions_cookies) {
        return None;
    }
    Some(rest)
}

/// The most words an editor's note may have.
const MAX_NOTE_WORDS: usize = 80;

/// The line without the editor's note that opens it: `None` when the note is the whole line.
///
/// The note is the line's first sentence ("Editor's note: an earlier version of this article
/// contained an error.") and the sentences right after it that read as part of it
/// ([`reads_as_note`]: "It has been corrected.", "The views expressed in this commentary are
/// her own."). What follows on the line is text: scrapers that lose paragraph breaks run the
/// note on into the article, and a copy that carries a note must still match one that does
/// not. (Until 2026-11-28 a line of up to 80 words that opened with a note went whole: on the
/// peers' corpus, 11 of the 63 pairs of Jaccard 0.8 or more that went unfound lost a
/// paragraph that way, one of them at 0.956.)
///
/// A note in brackets ("[Editor’s note: Spoilers follow for the episode.]", as Giveme5W1H
/// has one) ends with its closing bracket instead.
///
/// A line that opens otherwise, or whose note has more than [`MAX_NOTE_WORDS`] words (no
/// note is that long: the line's punctuation was lost), is returned as it is.
fn cut_editors_note(line: &str) -> Option<&str> {
    // "[Editor's note: …]" and "(Editor's note: …)" end with their bracket.
    let brackets = match line.as_bytes().first() {
        Some(b'e' | b'E') => None,
        Some(b'[') => Some(('[', ']')),
        Some(b'(') => Some(('(', ')')),
        // Most lines.
        _ => return Some(line),
    };
    let opening = if brackets.is_some() { &line[1..] } else { line };
    let Some(after) = after_note_opening(opening) else {
        return Some(line);
    };
    let after = after + (line.len() - opening.len());
    let mut end = match brackets.and_then(|(open, close)| closing_bracket(line, after, open, close))
    {
        Some(end) => end,
        None => {
            let mut end = sentence_end(line, after);
            while end < line.len() {
                let next = sentence_end(line, end);
                if !reads_as_note(&line[end..next]) {
                    break;
                }
                end = next;
            }
            end
        }
    };
    if !at_most_words(&line[..end], MAX_NOTE_WORDS) {
        // The first sentence alone, if the ones after it made the note too long.
        end = sentence_end(line, after);
        if brackets.is_some() || !at_most_words(&line[..end], MAX_NOTE_WORDS) {
            return Some(line);
        }
    }
    let rest = line[end..].trim_start();
    (!rest.is_empty()).then_some(rest)
}

/// Past the bracket that closes the one opening `line`, looking from `from`: brackets inside
/// the note ("(The poll (taken in May) was wrong.)") pair up first.
fn closing_bracket(line: &str, from: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 1usize;
    for (i, c) in line[from..].char_indices() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Some(from + i + 1);
            }
        }
    }
    None
}

/// Where an editor's note's opening ends, in bytes, when `line` opens with one: "Editor's
/// note", "Editors' notes", "EDITOR’S NOTE" (any apostrophe, any case, any white space
/// between the two words), but not "Editor's notebook".
fn after_note_opening(line: &str) -> Option<usize> {
    let head = line.get(..6)?;
    if !head.eq_ignore_ascii_case("editor") {
        return None;
    }
    let rest = &line[6..];
    let rest = match rest.strip_prefix(['s', 'S']) {
        // "Editors note", "Editors' note"
        Some(r) => r.strip_prefix(is_apostrophe).unwrap_or(r),
        // "Editor's note"
        None => rest.strip_prefix(is_apostrophe)?.strip_prefix(['s', 'S'])?,
    };
    let words = rest.trim_start();
    if words.len() == rest.len() {
        return None;
    }
    if !words.get(..4)?.eq_ignore_ascii_case("note") {
        return None;
    }
    let after = &words[4..];
    let after = after.strip_prefix(['s', 'S']).unwrap_or(after);
    if after.starts_with(is_word_char) {
        return None;
    }
    Some(line.len() - after.len())
}

/// Words that mark a sentence after an editor's note as part of it: the note speaks of the
/// article, its versions and its authors. A word counts when it begins with one of these.
const NOTE_WORD_STEMS: &[&str] = &[
    "correct",
    "updat",
    "clarif",
    "opinion",
    "commentar",
    "contributor",
    "editor",
    "spoiler",
    "excerpt",
    "reprint",
];

/// Words that mark a sentence after an editor's note as part of it, whole (as stems, "author"
/// would take "authorities" and "story" "storm").
const NOTE_WORDS: &[&str] = &[
    "article",
    "articles",
    "author",
    "authors",
    "column",
    "columnist",
    "columns",
    "note",
    "notes",
    "piece",
    "stories",
    "story",
    "version",
    "versions",
    "views",
];

/// Whether a sentence that follows an editor's note is part of it: it holds a word of
/// [`NOTE_WORDS`] or one that begins with a stem of [`NOTE_WORD_STEMS`].
fn reads_as_note(sentence: &str) -> bool {
    sentence
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| (3..=16).contains(&w.len()))
        .any(|w| {
            let mut lower = [0u8; 16];
            let lower = &mut lower[..w.len()];
            lower.copy_from_slice(w.as_bytes());
            lower.make_ascii_lowercase();
            NOTE_WORDS.iter().any(|n| n.as_bytes() == lower)
                || NOTE_WORD_STEMS
                    .iter()
                    .any(|s| lower.starts_with(s.as_bytes()))
        })
}

/// Abbreviations that a period follows inside a sentence ("Sen. Tim Kaine", "Jan. 5", "Dr.
/// Smith"), lowercase.
const ABBREVIATIONS: &[&str] = &[
    "apr", "aug", "capt", "co", "col", "corp", "dec", "dept", "dr", "feb", "fig", "fri", "gen",
    "gov", "inc", "jan", "jr", "jul", "jun", "lt", "ltd", "mar", "mon", "mr", "mrs", "ms", "mt",
    "no", "nov", "oct", "prof", "rep", "rev", "sat", "sen", "sep", "sept", "sgt", "sr", "st",
    "sun", "thu", "tue", "vol", "vs", "wed",
];

/// The end (in bytes) of the sentence that runs from `from` in `line`: past the first `.`,
/// `!`, `?` or `…` (and the quotes or brackets that close with it) that white space follows,
/// but for a period after an abbreviation ([`ABBREVIATIONS`], an initial such as the "F" of
/// "John F. Kennedy", or a word with periods inside such as "U.S." and "p.m."); the line's end
/// when none does.
fn sentence_end(line: &str, from: usize) -> usize {
    for (i, c) in line[from..].char_indices().map(|(i, c)| (from + i, c)) {
        if !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        let mut end = i + c.len_utf8();
        let rest = &line[end..];
        let closers = rest.trim_start_matches(['"', '\'', '”', '’', ')', ']', '»']);
        end += rest.len() - closers.len();
        if closers.is_empty() {
            return end;
        }
        if !closers.starts_with(char::is_whitespace) {
            // "3.5", "U.S.A", "…".
            continue;
        }
        if c == '.' && end == i + 1 && is_abbreviation(&line[from..i]) {
            continue;
        }
        return end;
    }
    line.len()
}

/// Whether the last word of `before` is an abbreviation that a period closes.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '(' | '[' | '"' | '“' | '‘'))
        .next()
        .unwrap_or("");
    let mut chars = word.chars();
    let initial = chars.next().is_some_and(char::is_uppercase) && chars.next().is_none();
    if initial || word.contains('.') {
        return true;
    }
    word.len() <= 4 && ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
}

/// [`is_known_boilerplate`], told whether the text around the line mentions cookies at all (one
/// search per text instead of one per line).
fn is_known_boilerplate_in(line: &str, text_mentions_cookies: bool) -> bool {
    let Some(&first) = line.as_bytes().first() else {
        return false;
    };
    if may_open_boilerplate(first) && matches_opening(line) {
        return true;
    }
    // Widget lines are a dozen short words at most; cookie notices a few sentences.
    if line.len() <= 160
        && first_ascii_word(line).is_some_and(is_widget_word)
        && at_most_words(line, 12)
        && line.split_whitespace().all(is_widget_word)
    {
        return true;
    }
    text_mentions_cookies
        && line.len() <= 600
        && COOKIES.find(line.as_bytes()).is_some()
        && (contains_ignore_case(line, "we use") || contains_ignore_case(line, "this site uses"))
        && at_most_words(line, 60)
}

/// For each first byte, the [`BOILERPLATE_OPENINGS`] that begin with it, as a bitmask of their
/// indices: a line looks only at the openings that can match.
static OPENINGS_BY_FIRST_BYTE: [u64; 256] = {
    assert!(BOILERPLATE_OPENINGS.len() <= 64);
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < BOILERPLATE_OPENINGS.len() {
        table[BOILERPLATE_OPENINGS[i].0.as_bytes()[0] as usize] |= 1 << i;
        i += 1;
    }
    table
};

fn matches_opening(line: &str) -> bool {
    matches_opening_as_is(line) || {
        // "Also\u{a0}Read:": scraped pages often put a no-break space (or a tab, a narrow or
        // an ideographic space) inside the opening, which then matches with spaces there. The
        // longest opening, 19 bytes, holds two spaces: 24 bytes cover it with 3-byte ones.
        may_hold_other_space(&line.as_bytes()[..line.len().min(24)])
            && line.contains(is_other_space)
            && matches_opening_as_is(&line.replace(is_other_space, " "))
    }
}

/// Whether `head` (at most 24 bytes) may hold a whitespace character other than the space: a
/// byte under 0x20 or over 0x7F, found eight bytes at a time (a byte after one under 0x20 can
/// be flagged too, which only costs the exact look that follows).
fn may_hold_other_space(head: &[u8]) -> bool {
    let mut padded = [b' '; 24];
    padded[..head.len()].copy_from_slice(head);
    padded.chunks_exact(8).any(|c| {
        let x = u64::from_le_bytes(c.try_into().expect("chunks of eight"));
        (x | x.wrapping_sub(0x2020_2020_2020_2020)) & 0x8080_8080_8080_8080 != 0
    })
}

/// A whitespace character other than the space.
fn is_other_space(c: char) -> bool {
    c.is_whitespace() && c != ' '
}

fn matches_opening_as_is(line: &str) -> bool {
    let bytes = line.as_bytes();
    let mut candidates = OPENINGS_BY_FIRST_BYTE[usize::from(bytes[0].to_ascii_lowercase())];
    while candidates != 0 {
        let (prefix, max_words) = BOILERPLATE_OPENINGS[candidates.trailing_zeros() as usize];
        candidates &= candidates - 1;
        let prefix = prefix.as_bytes();
        if bytes.len() >= prefix.len()
            && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
            && at_most_words(line, max_words)
            && (prefix != b"by " || reads_as_byline(line))
        {
            return true;
        }
    }
    false
}

/// Cuts a trailing share widget ("… Share this: Twitter Facebook") off a line of text.
fn strip_trailing_widget(line: &str) -> &str {
    // Most lines end in a word of text, not of a widget.
    if !last_ascii_word(line).is_some_and(is_widget_word) {
        return line;
    }
    // A widget tail is a dozen short words: look only at the end of the line.
    let mut tail_start = line.len().saturating_sub(160);
    while !line.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    // Many lines end in "it", "on" or "more": search a lowercased copy of the tail with memmem
    // rather than compare every window case-insensitively.
    let mut lower = [0u8; 160];
    let tail = &mut lower[..line.len() - tail_start];
    tail.copy_from_slice(&line.as_bytes()[tail_start..]);
    tail.make_ascii_lowercase();
    for marker in [&b"share this"[..], &b"like this:"[..]] {
        if let Some(pos) = memchr::memmem::find(tail, marker) {
            let pos = tail_start + pos;
            if line[pos..].split_whitespace().all(is_widget_word) {
                return line[..pos].trim_end();
            }
        }
    }
    line
}

/// Strips a dateline such as `SEOUL, South Korea —` or `WASHINGTON (Reuters) -`.
fn strip_dateline(line: &str) -> &str {
    // The dateline's first word is in capitals. It is the text before the first space or comma
    // whether or not a dash follows (every dash opens with a space), so it is checked first:
    // most lines fail here, before the four dash searches.
    let first_word = line.split([' ', ',']).next().unwrap_or("");
    let all_caps = first_word.len() >= 3
        && first_word
            .chars()
            .all(|c| c.is_uppercase() || c == '.' || c == '\'');
    if !all_caps {
        return line;
    }
    let mut head_len = line.len().min(80);
    while !line.is_char_boundary(head_len) {
        head_len -= 1;
    }
    let head = &line[..head_len];
    let dash = [" — ", " – ", " -- ", " - "]
        .iter()
        .filter_map(|d| head.find(d).map(|i| (i, d.len())))
        .min();
    match dash {
        Some((pos, dash_len)) if line.is_char_boundary(pos + dash_len) => &line[pos + dash_len..],
        _ => line,
    }
}

/// The dateline rule as first written, dashes searched first: the oracle of [`strip_dateline`].
#[cfg(test)]
fn naive_strip_dateline(line: &str) -> &str {
    let mut head_len = line.len().min(80);
    while !line.is_char_boundary(head_len) {
        head_len -= 1;
    }
    let head = &line[..head_len];
    let dash = [" — ", " – ", " -- ", " - "]
        .iter()
        .filter_map(|d| head.find(d).map(|i| (i, d.len())))
        .min();
    let Some((pos, dash_len)) = dash else {
        return line;
    };
    let first_word = line[..pos].split([' ', ',']).next().unwrap_or("");
    let all_caps = first_word.len() >= 3
        && first_word
            .chars()
            .all(|c| c.is_uppercase() || c == '.' || c == '\'');
    if all_caps && line.is_char_boundary(pos + dash_len) {
        &line[pos + dash_len..]
    } else {
        line
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '‘')
}

/// Whether `c` is part of a word: a letter or digit, but not U+02BC (ʼ), which Unicode calls a
/// letter and news text uses as an apostrophe, so that "Angolaʼs" reads as "Angola's" does.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && c != 'ʼ'
}

/// A word as the tokenizer hands it over: its bytes, at the start of a run of bytes that may go
/// on past them (the rest of its line), so that a hash can read the word's first 16 bytes at
/// once and mask off what is not the word's ([`crate::shingle::TokenHash`]). It derefs to the
/// word's bytes.
#[derive(Debug, Clone, Copy)]
pub struct Token<'a> {
    run: &'a [u8],
    len: usize,
}

impl<'a> Token<'a> {
    /// A word with nothing after it.
    pub fn new(word: &'a [u8]) -> Token<'a> {
        Token {
            run: word,
            len: word.len(),
        }
    }

    /// The word of the first `len` bytes of `run`.
    pub(crate) fn in_run(run: &'a [u8], len: usize) -> Token<'a> {
        assert!(len <= run.len(), "a word lies inside its run");
        Token { run, len }
    }

    /// The word's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        &self.run[..self.len]
    }

    /// The word's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the word is empty (the tokenizer hands over no empty word).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first 16 bytes from the word's start, past its end if it is shorter, when the run
    /// has them.
    #[inline]
    pub fn first_16(&self) -> Option<&'a [u8; 16]> {
        self.run.first_chunk()
    }
}

impl std::ops::Deref for Token<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.bytes()
    }
}

/// Calls `emit` with each word of one line: lowercase, NFKC, apostrophes inside words dropped,
/// split clitics joined first ([`join_split_clitics`]).
fn line_tokens(line: &str, buf: &mut Vec<u8>, emit: &mut impl FnMut(Token<'_>)) {
    if line.is_ascii() {
        // Most lines: one search for an apostrophe serves the clitics and the tokenizer.
        let bytes = line.as_bytes();
        let Some(first) = memchr::memchr(b'\'', bytes) else {
            return ascii_tokens_known(bytes, false, buf, emit);
        };
        let rest = memchr::memchr_iter(b'\'', &bytes[first + 1..]).map(|at| first + 1 + at);
        return match joined_at(line, std::iter::once(first).chain(rest)) {
            Some(joined) => ascii_tokens_known(joined.as_bytes(), true, buf, emit),
            None => ascii_tokens_known(bytes, true, buf, emit),
        };
    }
    let joined = join_split_clitics(line);
    words_of_line(joined.as_deref().unwrap_or(line), buf, emit);
}

/// The clitics [`join_split_clitics`] joins to the word before: after an apostrophe.
const CLITICS: [&str; 6] = ["s", "re", "ll", "ve", "d", "m"];

/// `line` without the spaces that split a clitic from its word, as some scrapers and tokenized
/// corpora write them: `Angola 's` (`'s`, `'re`, `'ll`, `'ve`, `'d`, `'m`, any apostrophe) and
/// `do n't`, where a word character comes before the spaces and none right after the clitic.
/// `None` when there are none (most lines: those without an apostrophe are passed by at
/// `memchr` speed).
///
/// Without it, `Putin 's` was the two words `putin s` where a copy's `Putin's` is `putins`, and
/// five of them in an 800-character wire story cut its similarity to its copy from 1.0 to 0.67.
fn join_split_clitics(line: &str) -> Option<String> {
    // Every apostrophe of `is_apostrophe` is `'` or starts with one of these bytes.
    joined_at(
        line,
        memchr::memchr3_iter(b'\'', 0xE2, 0xCA, line.as_bytes()),
    )
}

/// [`join_split_clitics`], given (at least) the byte offsets of the line's apostrophes, in order.
fn joined_at(line: &str, candidates: impl Iterator<Item = usize>) -> Option<String> {
    let bytes = line.as_bytes();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    // Whether a byte may end a space (`char::is_whitespace`): an ASCII one (the vertical tab
    // too, which `is_ascii_whitespace` leaves out), or the last byte of a wider one.
    let may_end_space = |b: Option<&u8>| {
        b.is_some_and(|&b| matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') || b >= 0x80)
    };
    for at in candidates {
        // Most apostrophes are inside words (`Angola's`, `don't`): passed by on the byte before.
        let spaced = may_end_space(bytes[..at].last());
        let spaced_n = at >= 2
            && bytes[at - 1].eq_ignore_ascii_case(&b'n')
            && may_end_space(bytes[..at - 1].last());
        if !spaced && !spaced_n {
            continue;
        }
        let Some(apostrophe) = line[at..].chars().next().filter(|&c| joins_clitic(c)) else {
            continue;
        };
        let after = &line[at + apostrophe.len_utf8()..];
        let ends_word = |rest: &str| rest.chars().next().is_none_or(ends_clitic);
        let before = &line[..at];
        // `'s` and the like: the spaces right before the apostrophe.
        let clitic = CLITICS.iter().any(|c| {
            after.len() >= c.len()
                && after.is_char_boundary(c.len())
                && after[..c.len()].eq_ignore_ascii_case(c)
                && ends_word(&after[c.len()..])
        });
        // `n't`: the spaces before the `n`.
        let negation = !clitic
            && after
                .as_bytes()
                .first()
                .is_some_and(|b| b.eq_ignore_ascii_case(&b't'))
            && ends_word(&after[1..])
            && before
                .as_bytes()
                .last()
                .is_some_and(|b| b.eq_ignore_ascii_case(&b'n'));
        let spaces_end = match (clitic, negation) {
            (true, _) => before.len(),
            (_, true) => before.len() - 1,
            _ => continue,
        };
        let word_end = before[..spaces_end]
            .trim_end_matches(char::is_whitespace)
            .len();
        if word_end < spaces_end
            && before[..word_end]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
        {
            cuts.push((word_end, spaces_end));
        }
    }
    if cuts.is_empty() {
        return None;
    }
    let mut joined = String::with_capacity(line.len());
    let mut from = 0;
    for (start, end) in cuts {
        joined.push_str(&line[from..start]);
        from = end;
    }
    joined.push_str(&line[from..]);
    Some(joined)
}

/// Whether `c` is an apostrophe that may open a clitic: not `‘`, which opens quotes.
fn joins_clitic(c: char) -> bool {
    is_apostrophe(c) && c != '‘'
}

/// Whether `c`, right after a clitic, ends it: not a letter or digit, and not what follows a
/// quoted word or letter rather than a clitic (`'S-400'`, `'D'`, `'s-Hertogenbosch`).
fn ends_clitic(c: char) -> bool {
    !c.is_alphanumeric() && !is_apostrophe(c) && !matches!(c, '-' | '‐' | '‑')
}

/// [`line_tokens`] of a line that is not ASCII, once split clitics are joined.
fn words_of_line(line: &str, buf: &mut Vec<u8>, emit: &mut impl FnMut(Token<'_>)) {
    if line.is_ascii() {
        // Joining took out characters that were not ASCII: spaces.
        ascii_tokens_known(line.as_bytes(), true, buf, emit);
    } else if ascii_stand_in(line, buf) {
        // Curly quotes and dashes in an otherwise ASCII line: the ASCII path on a copy.
        buf.make_ascii_lowercase();
        let len = buf.len();
        buf.extend_from_slice(&[0; 16]);
        lowered_ascii_tokens(&buf[..len], buf, emit);
    } else if is_nfkc_quick(line.chars()) == IsNormalized::Yes {
        // Most non-ASCII news text (curly quotes, dashes, accented letters) is already NFKC.
        unicode_tokens(line.chars(), buf, emit);
    } else {
        unicode_tokens(line.nfkc(), buf, emit);
    }
}

/// Writes into `out` (cleared first) a copy of `line` with each non-ASCII character replaced by
/// an ASCII character that cuts words the same way, and returns true, if every one has such a
/// stand-in.
///
/// The stand-ins are `'` for the curly apostrophes and ʼ, and a space for the punctuation below: characters
/// that are neither alphanumeric nor combining marks, that NFKC leaves alone and that cannot
/// make a line fail the NFKC quick check (a test checks all of this). Letters, digits and marks
/// outside ASCII have none: their lines take the Unicode path.
fn ascii_stand_in(line: &str, out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut rest = line;
    loop {
        let ascii_len = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        out.extend_from_slice(&rest.as_bytes()[..ascii_len]);
        rest = &rest[ascii_len..];
        let Some(c) = rest.chars().next() else {
            return true;
        };
        out.push(match c {
            '’' | '‘' | 'ʼ' => b'\'',
            c if STAND_IN_SPACES.contains(&c) => b' ',
            _ => return false,
        });
        rest = &rest[c.len_utf8()..];
    }
}

/// Punctuation common in news text that separates words as a space does.
const STAND_IN_SPACES: &[char] = &[
    '“', '”', '„', '‚', '«', '»', '‹', '›', '—', '–', '•', '·', '£', '€', '©', '®', '°', '§', '¶',
    '†', '‡', '¡', '¿',
];

/// Bitmaps of one block of 64 ASCII bytes: bit `j` stands for byte `j`.
struct BlockBits {
    /// Letters and digits.
    word: u64,
    /// Apostrophes (left empty when the line has none).
    apostrophe: u64,
}

/// The bitmaps of a block, sixteen bytes compared at once (SSE2 on x86-64, NEON on AArch64,
/// through `wide`) and the results gathered by a byte mask: about a third of the operations of
/// `block_bits_swar`, its oracle in the tests.
#[inline(always)]
fn block_bits<const APOSTROPHES: bool>(block: &[u8; 64]) -> BlockBits {
    use wide::u8x16;
    // A byte lies in lo..=lo + span when, less lo (wrapping), it is at most span unsigned.
    let in_range = |v: u8x16, lo: u8, span: u8| {
        let shifted = v - u8x16::splat(lo);
        shifted.min(u8x16::splat(span)).simd_eq(shifted)
    };
    let mut bits = BlockBits {
        word: 0,
        apostrophe: 0,
    };
    for (k, part) in block.chunks_exact(16).enumerate() {
        let v = u8x16::new(part.try_into().expect("chunks are sixteen bytes"));
        let letters = in_range(v | u8x16::splat(0x20), b'a', b'z' - b'a');
        let digits = in_range(v, b'0', 9);
        bits.word |= u64::from((letters | digits).to_bitmask()) << (16 * k);
        if APOSTROPHES {
            let apostrophes = v.simd_eq(u8x16::splat(b'\''));
            bits.apostrophe |= u64::from(apostrophes.to_bitmask()) << (16 * k);
        }
    }
    bits
}

/// A mask of the lowest `n` bits (`n` at most 64).
#[inline(always)]
fn low_bits(n: u32) -> u64 {
    u64::MAX.checked_shr(64 - n).unwrap_or(0)
}

/// [`ascii_tokens_known`], finding out whether the line has an apostrophe: what the tests
/// compare with `naive_tokens`.
#[cfg(test)]
fn ascii_tokens(bytes: &[u8], buf: &mut Vec<u8>, emit: &mut impl FnMut(Token<'_>)) {
    ascii_tokens_known(bytes, memchr::memchr(b'\'', bytes).is_some(), buf, emit);
}

/// The ASCII fast path, 64 bytes at a time, told whether the line has an apostrophe: each
/// block becomes a bitmap of its word bytes, and the words are the runs of ones, found in the
/// bitmap of their edges (`word ^ (word << 1)`), two `trailing_zeros` a word. A line with
/// capitals is lowered whole into `buf` first (one vectorized pass), so that every word is
/// passed on as it lies in the line, with no copy; only words joined across an apostrophe are
/// copied, to drop it. `naive_tokens` (in the tests) is its oracle.
fn ascii_tokens_known(
    bytes: &[u8],
    apostrophes: bool,
    buf: &mut Vec<u8>,
    emit: &mut impl FnMut(Token<'_>),
) {
    if bytes.iter().any(u8::is_ascii_uppercase) {
        buf.clear();
        buf.extend_from_slice(bytes);
        buf.make_ascii_lowercase();
        // 16 bytes to spare after the line's last word, so that it too is hashed from 16
        // bytes read at once (`Token::first_16`).
        buf.extend_from_slice(&[0; 16]);
        lowered_tokens_known(&buf[..bytes.len()], buf, apostrophes, emit);
    } else {
        lowered_tokens_known(bytes, bytes, apostrophes, emit);
    }
}

/// [`ascii_tokens_known`] on an ASCII line without capitals.
fn lowered_ascii_tokens(line: &[u8], room: &[u8], emit: &mut impl FnMut(Token<'_>)) {
    lowered_tokens_known(line, room, memchr::memchr(b'\'', line).is_some(), emit);
}

/// [`lowered_ascii_tokens`], told whether the line has an apostrophe.
fn lowered_tokens_known(
    line: &[u8],
    room: &[u8],
    apostrophes: bool,
    emit: &mut impl FnMut(Token<'_>),
) {
    if apostrophes {
        ascii_tokens_in::<true>(line, room, emit);
    } else {
        ascii_tokens_in::<false>(line, room, emit);
    }
}

/// [`ascii_tokens_known`] on a line without capitals.
///
/// `room` is `bytes` and maybe bytes after it: each word is handed over with what follows it
/// there.
fn ascii_tokens_in<const APOSTROPHES: bool>(
    bytes: &[u8],
    room: &[u8],
    emit: &mut impl FnMut(Token<'_>),
) {
    debug_assert!(room.starts_with(bytes));
    // Words joined across apostrophes are copied without them: on the stack when short (with
    // 16 bytes to spare, so that each token has 16 bytes to hash).
    let mut joined = [0u8; 64 + 16];
    let mut long_joined = Vec::new();
    let mut emit_word = |start: usize, end: usize, has_joins: bool| {
        let token = &bytes[start..end];
        if APOSTROPHES && has_joins {
            if token.len() <= 64 {
                let mut n = 0;
                for &b in token {
                    joined[n] = b;
                    n += usize::from(b != b'\'');
                }
                emit(Token::in_run(&joined, n));
            } else {
                long_joined.clear();
                long_joined.extend(token.iter().copied().filter(|&b| b != b'\''));
                emit(Token::new(&long_joined));
            }
        } else {
            // The word with the rest of its line after it.
            emit(Token::in_run(&room[start..], token.len()));
        }
    };
    // A word that runs on past the end of its block: where it starts, and whether it has
    // apostrophes so far.
    let mut open: Option<(usize, bool)> = None;
    let mut after_word = false;
    let mut padded = [0u8; 64];
    for base in (0..bytes.len()).step_by(64) {
        let block: &[u8; 64] = match bytes.get(base..base + 64) {
            Some(block) => block.try_into().expect("the range is 64 bytes"),
            None => {
                // The last block, padded with NULs (separators).
                let tail = &bytes[base..];
                padded[..tail.len()].copy_from_slice(tail);
                &padded
            }
        };
        let bits = block_bits::<APOSTROPHES>(block);
        // An apostrophe between two word bytes joins them.
        let joins = if APOSTROPHES {
            let before = (bits.word << 1) | u64::from(after_word);
            let next_is_word = bytes.get(base + 64).is_some_and(u8::is_ascii_alphanumeric);
            let after = (bits.word >> 1) | (u64::from(next_is_word) << 63);
            bits.apostrophe & before & after
        } else {
            0
        };
        after_word = bits.word >> 63 != 0;
        let in_word = bits.word | joins;
        // Bit j is set where byte j differs from the one before in being in a word: the words'
        // starts and the first bytes after their ends, alternately (an end first when a word is
        // open from the block before).
        let mut edges = in_word ^ ((in_word << 1) | u64::from(open.is_some()));
        if let Some((start, copy)) = open {
            if edges == 0 {
                // The whole block is inside the word.
                open = Some((start, copy || joins != 0));
                continue;
            }
            let end = edges.trailing_zeros();
            edges &= edges - 1;
            emit_word(
                start,
                base + end as usize,
                copy || joins & low_bits(end) != 0,
            );
            open = None;
        }
        while edges != 0 {
            let first = edges.trailing_zeros();
            edges &= edges - 1;
            let copy = APOSTROPHES && joins >> first != 0;
            if edges == 0 {
                // The word runs on into the next block.
                open = Some((base + first as usize, copy));
                break;
            }
            let end = edges.trailing_zeros();
            edges &= edges - 1;
            let copy = copy && (joins >> first) & low_bits(end - first) != 0;
            emit_word(base + first as usize, base + end as usize, copy);
        }
    }
    if let Some((start, copy)) = open {
        emit_word(start, bytes.len(), copy);
    }
}

/// The Unicode path: [`naive_tokens`] with a shortcut for ASCII letters and digits.
fn unicode_tokens(
    chars: impl Iterator<Item = char>,
    buf: &mut Vec<u8>,
    emit: &mut impl FnMut(Token<'_>),
) {
    buf.clear();
    let mut chars = chars.peekable();
    while let Some(c) = chars.next() {
        // ASCII letters and digits, most of any text, skip the Unicode tables.
        if c.is_ascii_alphanumeric() {
            buf.push((c as u8).to_ascii_lowercase());
            continue;
        }
        let in_word = !buf.is_empty();
        if is_unspaced(c) {
            if in_word {
                emit(Token::new(buf));
                buf.clear();
            }
            unspaced_word(c, &mut chars, buf);
            emit(Token::new(buf));
            buf.clear();
        } else if is_word_char(c) || (in_word && is_combining_mark(c)) {
            push_folded(c, buf);
        } else if is_apostrophe(c)
            && in_word
            && chars
                .peek()
                .is_some_and(|&n| is_word_char(n) && !is_unspaced(n))
        {
            // An apostrophe inside a word joins its halves.
        } else if in_word {
            emit(Token::new(buf));
            buf.clear();
        }
    }
    if !buf.is_empty() {
        emit(Token::new(buf));
        buf.clear();
    }
}

/// Appends `c` lowercased, with the two case folds lowercasing misses that news text needs:
/// the final sigma is a sigma (so that "ΤΟΥΣ" and "τους" are one word; Greek in capitals
/// drops its accents, which NFKC keeps, so longer words still differ), and ß (ẞ) is ss (so
/// that "STRASSE", "Strasse" and "Straße" are one word). After NFKC, full case folding would
/// make other words one only in polytonic Greek (a letter with iota subscript, "ᾳ", against
/// "αι") and in nine archaic Cyrillic letter forms (U+1C80 to U+1C88): checked over every code
/// point with Python's `str.casefold` on 2026-11-28. (Cherokee folds to capitals where this
/// lowers to small letters: the same words are one either way.)
#[inline]
fn push_folded(c: char, buf: &mut Vec<u8>) {
    for lower in c.to_lowercase() {
        match lower {
            'ς' => buf.extend_from_slice("σ".as_bytes()),
            'ß' => buf.extend_from_slice(b"ss"),
            _ => buf.extend_from_slice(lower.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
}

/// Into `buf` (empty): the character `c` ([`is_unspaced`]) and the combining marks that follow
/// it (a voicing mark that NFKC could not compose), taken from `chars`.
fn unspaced_word(
    c: char,
    chars: &mut std::iter::Peekable<impl Iterator<Item = char>>,
    buf: &mut Vec<u8>,
) {
    buf.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    while let Some(&mark) = chars.peek().filter(|&&m| is_combining_mark(m)) {
        buf.extend_from_slice(mark.encode_utf8(&mut [0; 4]).as_bytes());
        chars.next();
    }
}

/// Whether `c` is a letter or digit of a script written without spaces between words (Han,
/// Hiragana, Katakana): each such character is a word of its own. Without this, a Chinese or
/// Japanese sentence was one word, and two texts that differ in one character shared no word
/// n-gram around it. Punctuation of those blocks (`・`) and voicing marks are no letters.
pub(crate) fn is_unspaced(c: char) -> bool {
    c.is_alphanumeric()
        && matches!(c,
            '\u{3005}'..='\u{3007}'       // 々 〆 〇
            | '\u{3041}'..='\u{309F}'     // Hiragana
            | '\u{30A1}'..='\u{30FF}'     // Katakana
            | '\u{31F0}'..='\u{31FF}'     // Katakana phonetic extensions
            | '\u{3400}'..='\u{4DBF}'     // CJK extension A
            | '\u{4E00}'..='\u{9FFF}'     // CJK unified ideographs
            | '\u{F900}'..='\u{FAFF}'     // CJK compatibility ideographs
            | '\u{20000}'..='\u{323AF}'   // CJK extensions B to H
        )
}

/// The definition of a line's words, one character at a time: the oracle of the fast paths
/// ([`ascii_tokens_known`], [`unicode_tokens`]) in tests, given the line's NFKC characters.
#[cfg(test)]
fn naive_tokens(
    chars: impl Iterator<Item = char>,
    buf: &mut Vec<u8>,
    emit: &mut impl FnMut(Token<'_>),
) {
    buf.clear();
    let mut chars = chars.peekable();
    while let Some(c) = chars.next() {
        let in_word = !buf.is_empty();
        if is_unspaced(c) {
            if in_word {
                emit(Token::new(buf));
                buf.clear();
            }
            buf.extend_from_slice(c.to_string().as_bytes());
            while let Some(&mark) = chars.peek().filter(|&&m| is_combining_mark(m)) {
                buf.extend_from_slice(mark.to_string().as_bytes());
                chars.next();
            }
            emit(Token::new(buf));
            buf.clear();
        } else if is_word_char(c) || (in_word && is_combining_mark(c)) {
            let folded = c
                .to_lowercase()
                .to_string()
                .replace('ς', "σ")
                .replace('ß', "ss");
            buf.extend_from_slice(folded.as_bytes());
        } else if is_apostrophe(c)
            && in_word
            && chars
                .peek()
                .is_some_and(|&n| is_word_char(n) && !is_unspaced(n))
        {
            // An apostrophe inside a word joins its halves.
        } else if in_word {
            emit(Token::new(buf));
            buf.clear();
        }
    }
    if !buf.is_empty() {
        emit(Token::new(buf));
        buf.clear();
    }
}

/// Calls `emit` with each word of the canonical text of `text`, in order, without building the
/// canonical text: the words that [`canonical_text`] joins (and [`for_each_canonical_word`]
/// splits again).
///
/// `buf` is scratch space, reused between calls.
pub fn for_each_token(
    text: &str,
    learned: &LearnedBoilerplate,
    buf: &mut Vec<u8>,
    mut emit: impl FnMut(Token<'_>),
) {
    let mut any = false;
    for_each_token_with(text, Some(learned), buf, &mut |t| {
        any = true;
        emit(t)
    });
    if !any && !learned.is_empty() {
        for_each_token_with(text, None, buf, &mut emit);
    }
}

/// Calls `emit` with the words of every line of `text`, none left out as boilerplate: what a
/// headline that reads as boilerplate stands for ("PHOTO: First look at …", "Copyright row over
/// a song"). The pipeline falls back to it for headlines (`--text-field title`) that
/// [`for_each_token`] leaves without a word; an article body without a word is a scrape that
/// failed (a cookie wall, a share widget), never compared.
pub fn for_each_word(text: &str, buf: &mut Vec<u8>, mut emit: impl FnMut(Token<'_>)) {
    for line in trimmed_lines(text) {
        line_tokens(line, buf, &mut emit);
    }
}

fn for_each_token_with(
    text: &str,
    learned: Option<&LearnedBoilerplate>,
    buf: &mut Vec<u8>,
    emit: &mut impl FnMut(Token<'_>),
) {
    let mut first = true;
    let cookies = COOKIES.find(text.as_bytes()).is_some();
    for line in trimmed_lines(text) {
        let Some(mut left) = known_boilerplate_left(line, cookies) else {
            continue;
        };
        // A learned line is a whole line, note and all.
        if learned.is_some_and(|l| l.contains(line)) {
            continue;
        }
        if first {
            left = strip_dateline(left);
            first = false;
        }
        line_tokens(strip_trailing_widget(left), buf, emit);
    }
}

/// [`for_each_token`] without learned boilerplate (the scan's, before any is learned), which
/// also returns the article's [`LineSample`] for the learner, from the same pass over its
/// lines: each line is found, and checked against the known boilerplate, once.
///
/// Gives the tokens of `for_each_token(text, &LearnedBoilerplate::default(), ..)` and the
/// sample of [`LineSample::of`]`(text, source)`.
pub fn for_each_token_sampled(
    text: &str,
    source: Option<&str>,
    buf: &mut Vec<u8>,
    mut emit: impl FnMut(Token<'_>),
) -> LineSample {
    let cookies = COOKIES.find(text.as_bytes()).is_some();
    let mut lines: Vec<SampledLine<'_>> = Vec::new();
    let mut first = true;
    for line in trimmed_lines(text) {
        let left = known_boilerplate_left(line, cookies);
        lines.push((line_hash(line), line, left.is_none()));
        let Some(mut line) = left else {
            continue;
        };
        if first {
            line = strip_dateline(line);
            first = false;
        }
        line_tokens(strip_trailing_widget(line), buf, &mut emit);
    }
    LineSample::from_lines(source, lines)
}

/// Writes the canonical text of `text` into `out` (cleared first): its words joined by single
/// spaces, save that the one-character words of Chinese and Japanese (Han and kana) that
/// follow each other are joined as written, without spaces.
///
/// When removing learned boilerplate would leave nothing, the learned lines are kept: an
/// article made only of lines its outlet repeats is still an article.
pub fn canonical_text(text: &str, learned: &LearnedBoilerplate, out: &mut String) {
    canonical_of(out, |buf, emit| for_each_token(text, learned, buf, emit));
}

/// [`canonical_text`] of the words of every line ([`for_each_word`]).
pub fn canonical_words(text: &str, out: &mut String) {
    canonical_of(out, |buf, emit| for_each_word(text, buf, emit));
}

/// Joins the words `tokens` gives into `out` (cleared first), as [`canonical_text`] says.
fn canonical_of(out: &mut String, tokens: impl FnOnce(&mut Vec<u8>, &mut dyn FnMut(Token<'_>))) {
    out.clear();
    let mut buf = Vec::new();
    let mut after_unspaced = false;
    tokens(&mut buf, &mut |token: Token<'_>| {
        let token =
            std::str::from_utf8(token.bytes()).expect("tokens are cut at character boundaries");
        // Characters of scripts without spaces stay together, as they were written.
        let unspaced = token.chars().next().is_some_and(is_unspaced);
        let joined = unspaced && after_unspaced;
        if !out.is_empty() && !joined {
            out.push(' ');
        }
        after_unspaced = unspaced;
        out.push_str(token);
    });
}

/// Calls `f` with each word of a canonical text ([`canonical_text`]): the words
/// [`for_each_token`] gives, since a run of Han and kana characters is split into its
/// characters (each with the combining marks that follow it).
pub fn for_each_canonical_word(canonical: &str, mut f: impl FnMut(&str)) {
    for piece in canonical.split(' ').filter(|p| !p.is_empty()) {
        // An ASCII first byte (most words) is no Han or kana character.
        if piece.as_bytes()[0].is_ascii() || !piece.chars().next().is_some_and(is_unspaced) {
            f(piece);
            continue;
        }
        let mut start = 0;
        for (at, c) in piece.char_indices().skip(1) {
            if !is_combining_mark(c) {
                f(&piece[start..at]);
                start = at;
            }
        }
        f(&piece[start..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        let mut out = String::new();
        canonical_text(text, &LearnedBoilerplate::default(), &mut out);
        out
    }

    /// The lowercase ASCII words of `text`: an oracle for plain English text.
    fn naive_lower_words(text: &str) -> String {
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn canonical_text_cases() {
        let cases = [
            ("Hello, World!", "hello world"),
            ("Don't stop — it’s “fine”.", "dont stop its fine"),
            ("  spaced\t\tout  \n\n words ", "spaced out words"),
            ("Ｆｕｌｌｗｉｄｔｈ ﬁne", "fullwidth fine"),
            ("Straße ÉCOLE", "strasse école"),
            ("STRASSE Maßnahmen ẞ", "strasse massnahmen ss"),
            ("ΤΟΥΣ τους Σ", "τουσ τουσ σ"),
            ("1,000 people", "1 000 people"),
            // Han and kana characters are words of their own, joined without spaces.
            ("国家统计局周四公布", "国家统计局周四公布"),
            ("GDP增长5.2%，高于预期。", "gdp 增长 5 2 高于预期"),
            ("日本銀行は木曜日、ＥＴＦを", "日本銀行は木曜日 etf を"),
            ("서울 시청", "서울 시청"),
            (
                "SEOUL, South Korea — South Korea succeeded",
                "south korea succeeded",
            ),
            (
                "WASHINGTON (Reuters) - The Senate voted",
                "the senate voted",
            ),
            ("US officials - said", "us officials said"),
            (
                "Body text.\nShare this: Twitter\n\nFacebook\nLike this: Like Loading...",
                "body text",
            ),
            (
                "Body text.\nAlso Read: US Warns North Korea Against Selling",
                "body text",
            ),
            ("By Jane Doe\nBody text.", "body text"),
            (
                "Body text. Share this: Twitter Facebook WhatsApp",
                "body text",
            ),
            ("We use cookies to improve your experience.\nBody", "body"),
            ("Editor’s note: this story was updated.\nBody", "body"),
            ("हिन्दी भाषा", "हिन्दी भाषा"),
            ("ÉCOLE, Paris — Élèves", "élèves"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(canon(input), expected, "input: {input:?}");
        }
        // Multi-byte characters around the 80-byte dateline window must not split.
        let long = format!("{}é — x", "a".repeat(79));
        assert_eq!(canon(&long), format!("{}é x", "a".repeat(79)));
    }

    /// An editor's note is its line's first sentence, with the sentences after it that read
    /// as part of it: the rest of the line is text.
    #[test]
    fn an_editors_note_leaves_the_text_it_runs_on_into() {
        let paragraph = "The algorithm supports sample weights, which can be given by a \
                         parameter. For example, a weight of 2 is a duplicate of that sample.";
        let want = canon(paragraph);
        for note in [
            "Editor's note: an earlier version of this article contained an error.",
            "Editor’s Note — This story was updated at 3 p.m. on Jan. 5 with new figures.",
            "EDITORS' NOTES: \"Updated.\"",
            "Editor's\u{a0}note: the mayor's office did not comment!",
            "Editor\u{2bc}s note: Was the U.S. figure right?",
        ] {
            assert_eq!(canon(&format!("{note} {paragraph}")), want, "{note}");
            assert_eq!(canon(&format!("{note}\n{paragraph}")), want, "{note}");
            assert_eq!(canon(&format!("{paragraph}\n{note}")), want, "{note}");
            assert!(is_known_boilerplate(note), "{note}");
            assert_eq!(canon(note), "", "{note}");
        }
        // Sentences after the first go with the note when they read as part of it.
        for note in [
            "Editor's note: A previous version erred. It has been corrected.",
            "Editor's note: This column was written by U.S. Sen. Tim Kaine.",
            "Editor's Note: This is an opinion piece by Dr. Jane Smith, a cardiologist.",
            "Editor's note: This story was updated at 3 p.m. Monday with comment from the mayor.",
            "Editor’s Note: Jane Doe is a CNN contributor. The views expressed in this \
             commentary are her own. Read more opinion at CNN.",
            "Editor's note: John F. Kennedy spoke here in 1962. This story first ran then.",
        ] {
            assert_eq!(canon(note), "", "{note}");
            assert_eq!(canon(&format!("{note}\n{paragraph}")), want, "{note}");
            assert_eq!(canon(&format!("{note} {paragraph}")), want, "{note}");
            assert_eq!(
                canon(&format!("{note}\nWASHINGTON — The House voted.")),
                "the house voted",
                "{note}"
            );
        }
        // A sentence that does not is text.
        assert_eq!(
            canon("Editorʼs note: Was the U.S. figure right? It was."),
            "it was"
        );
        // Only an opening note; and a dateline after it is the first line's.
        for (text, canonical) in [
            ("The editor's note: kept.", "the editors note kept"),
            (
                "Editor's notebook: a column. Kept.",
                "editors notebook a column kept",
            ),
            ("Editorial note. Kept.", "editorial note kept"),
            (
                "Editor's note: updated. SEOUL, South Korea — The talks resumed.",
                "the talks resumed",
            ),
            ("Editor's note: updated. Share this: Twitter Facebook", ""),
            (
                "Editor's note: updated.  ’Quoted,’ he said.",
                "quoted he said",
            ),
            ("Editor's note: updated at 3 p.m. on Jan. 5. Text.", "text"),
            (
                "[Editor’s note: Spoilers follow for “USS Callister.”] The first episode.",
                "the first episode",
            ),
            ("(Editor's note: one. Two.) Text.", "text"),
            (
                "(Editor's note: The poll (taken in May) was wrong.) The senate voted.",
                "the senate voted",
            ),
            (
                "Editor's note: updated. iPhone sales rose 5% in the quarter.",
                "iphone sales rose 5 in the quarter",
            ),
            (
                "Editor's note: updated. 2024 was a record year.",
                "2024 was a record year",
            ),
            (
                "Editor's note: Updated. The company said it would cut 500 jobs.",
                "the company said it would cut 500 jobs",
            ),
            ("(Editor's note: no bracket. Text.", "text"),
            ("[Editor's note: a note.]", ""),
            ("[Editorial] Text.", "editorial text"),
        ] {
            assert_eq!(canon(text), canonical, "{text}");
        }
        // A first sentence of more than 80 words is no note: the line stays whole.
        let long = format!("Editor's note: {} end.", "word ".repeat(80));
        assert_eq!(
            canon(&long),
            format!("editors note {}end", "word ".repeat(80))
        );
        let long = format!("Editor's note: {} end. More text.", "word ".repeat(70));
        assert_eq!(canon(&long), "more text");
        // Sentences that read as the note's go with it up to 80 words in all (78 + 6 here).
        let long = format!(
            "Editor's note: {}end. This story was corrected again today. More text.",
            "word ".repeat(75)
        );
        assert_eq!(
            canon(&long),
            "this story was corrected again today more text"
        );
    }

    /// The word-at-a-time test flags every head with a byte under 0x20 or over 0x7F.
    #[test]
    fn other_space_bytes_are_found() {
        for len in 0..=24 {
            for at in 0..len {
                for b in [0u8, 0x09, 0x0b, 0x1f, 0x80, 0xa0, 0xc2, 0xe3, 0xff] {
                    let mut head = vec![b'a'; len];
                    head[at] = b;
                    assert!(may_hold_other_space(&head), "{head:?}");
                }
            }
            assert!(!may_hold_other_space(&vec![b'~'; len]));
            assert!(!may_hold_other_space(&vec![b' '; len]));
        }
    }

    /// A line opening with "By " is a byline when it names people or agencies, not when it is
    /// a sentence.
    #[test]
    fn bylines_name_authors() {
        for byline in [
            "By Jane Doe",
            "BY JANE DOE",
            "By Jane Doe and John Roe, Associated Press",
            "By The Associated Press",
            "By Jane Doe, staff writer",
            "By Jean-Luc de la Tour | Reuters",
            "By jane.doe@example.com",
            "by Jane Doe in London",
            "By AFP",
            "By News Desk <img src=x onerror=alert(4)>",
            "By Jane Doe on March 3, 2024",
            "By Jane Doe, senior correspondent",
            "By Jane Doe | Updated 2 hours ago",
            "By Jane Doe and John Roe, contributing writers",
            "By Jane Doe • 4 min read",
            "By Jane Doe, news editor",
            "By Jane Doe, Associated Press.",
        ] {
            assert!(is_known_boilerplate(byline), "{byline}");
        }
        for sentence in [
            "By Friday, the storm had passed.",
            "By then it was too late.",
            "By a narrow margin, the bill passed.",
            "By 2030 emissions must halve.",
        ] {
            assert!(!is_known_boilerplate(sentence), "{sentence}");
            assert_eq!(canon(sentence), naive_lower_words(sentence), "{sentence}");
        }
        // A no-break space inside the opening, as scraped pages have it.
        for line in [
            "Also\u{a0}Read: Ten things to know",
            "Read\u{a0}more\u{a0}about it",
            "By\u{a0}Jane Doe",
            "Also\u{202f}Read: Ten things to know",
            "Read\tmore",
            "All\u{3000}rights\u{3000}reserved",
        ] {
            assert!(is_known_boilerplate(line), "{line}");
        }
    }

    /// U+02BC (ʼ) is an apostrophe, not a letter, on both paths and in the story terms.
    #[test]
    fn modifier_letter_apostrophe_is_an_apostrophe() {
        let words = |text: &str| {
            let mut out = Vec::new();
            for_each_token(text, &LearnedBoilerplate::default(), &mut Vec::new(), |w| {
                out.push(String::from_utf8(w.to_vec()).unwrap())
            });
            out
        };
        for (apostrophe, plain) in [
            ("Angolaʼs oil, donʼt", "Angola's oil, don't"),
            ("Angola ʼs oil", "Angola's oil"),
            ("ʼquotedʼ word", "quoted word"),
            // The Unicode path: a letter outside ASCII on the line.
            ("Angolaʼs café", "Angola's café"),
            ("ʼcaféʼ", "café"),
        ] {
            assert_eq!(words(apostrophe), words(plain), "{apostrophe}");
        }
        assert_eq!(words("Angolaʼs café"), ["angolas", "café"]);
    }

    /// The stand-ins cut words as the characters they replace do, on any NFKC line.
    #[test]
    fn stand_in_punctuation_is_inert() {
        use unicode_normalization::char::canonical_combining_class;
        for &c in STAND_IN_SPACES {
            assert!(
                !c.is_alphanumeric() && !is_combining_mark(c) && !is_apostrophe(c),
                "{c}"
            );
            assert_eq!(canonical_combining_class(c), 0, "{c}");
            assert_eq!(is_nfkc_quick(std::iter::once(c)), IsNormalized::Yes, "{c}");
            assert_eq!(
                c.to_string().nfkc().collect::<String>(),
                c.to_string(),
                "{c}"
            );
        }
        for c in ['’', '‘', 'ʼ'] {
            assert!(is_apostrophe(c) && !is_word_char(c) && !is_combining_mark(c));
            assert_eq!(canonical_combining_class(c), 0, "{c}");
            assert_eq!(is_nfkc_quick(std::iter::once(c)), IsNormalized::Yes, "{c}");
        }
    }

    #[test]
    fn trimmed_lines_are_the_nonempty_trimmed_str_lines() {
        let mut texts = real_lines();
        texts.extend(
            random_lines(5_000, 4)
                .into_iter()
                .map(|l| l.replace('q', "\n")),
        );
        let breaks = [
            "\n", "\r\n", "\n\n", " \n ", "\r", "\u{2028}", "\u{85}", "\u{a0}\n",
        ];
        for (i, b) in breaks.iter().enumerate() {
            texts.extend(
                random_lines(1_000, 30 + i as u64)
                    .into_iter()
                    .map(|l| l.replace('a', b)),
            );
        }
        texts.extend(["", "\n", "\n\n", "x\n", "\nx", "x\r\n"].map(String::from));
        for text in &texts {
            let naive: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            assert_eq!(trimmed_lines(text).collect::<Vec<_>>(), naive, "{text:?}");
        }
    }

    /// The line checks as first written (at 45b2856): the oracles of the fast ones.
    mod naive {
        use super::super::*;

        pub fn is_widget_word(word: &str) -> bool {
            let word = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
            if word.len() > MAX_WIDGET_WORD {
                return false;
            }
            let mut lower = [0u8; MAX_WIDGET_WORD];
            for (l, b) in lower.iter_mut().zip(word.bytes()) {
                *l = b.to_ascii_lowercase();
            }
            let lower = &lower[..word.len()];
            word.is_empty() || WIDGET_WORDS.iter().any(|w| w.as_bytes() == lower)
        }

        pub fn is_known_boilerplate_in(line: &str, text_mentions_cookies: bool) -> bool {
            let Some(&first) = line.as_bytes().first() else {
                return false;
            };
            if may_open_boilerplate(first) && matches_opening(line) {
                return true;
            }
            if line.len() <= 160
                && line
                    .split_ascii_whitespace()
                    .next()
                    .is_some_and(is_widget_word)
                && line.split_whitespace().count() <= 12
                && line.split_whitespace().all(is_widget_word)
            {
                return true;
            }
            text_mentions_cookies
                && line.len() <= 600
                && COOKIES.find(line.as_bytes()).is_some()
                && (contains_ignore_case(line, "we use")
                    || contains_ignore_case(line, "this site uses"))
                && line.split_whitespace().count() <= 60
        }

        fn matches_opening(line: &str) -> bool {
            let line = &line.replace(is_other_space, " ");
            let bytes = line.as_bytes();
            let first = bytes[0].to_ascii_lowercase();
            BOILERPLATE_OPENINGS.iter().any(|&(prefix, max_words)| {
                let prefix = prefix.as_bytes();
                prefix[0] == first
                    && bytes.len() >= prefix.len()
                    && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
                    && line.split_whitespace().count() <= max_words
                    && (prefix != b"by " || reads_as_byline(line))
            })
        }

        pub fn strip_trailing_widget(line: &str) -> &str {
            if !line
                .split_ascii_whitespace()
                .next_back()
                .is_some_and(is_widget_word)
            {
                return line;
            }
            let mut tail_start = line.len().saturating_sub(160);
            while !line.is_char_boundary(tail_start) {
                tail_start += 1;
            }
            let tail = &line.as_bytes()[tail_start..];
            for marker in [&b"share this"[..], &b"like this:"[..]] {
                if let Some(pos) = tail
                    .windows(marker.len())
                    .position(|w| w.eq_ignore_ascii_case(marker))
                {
                    let pos = tail_start + pos;
                    if line[pos..].split_whitespace().all(is_widget_word) {
                        return line[..pos].trim_end();
                    }
                }
            }
            line
        }
    }

    /// Lines that the boilerplate checks have something to say about: openings in any case,
    /// widget lines and tails, cookie notices, each with random text around.
    fn boilerplate_lines() -> Vec<String> {
        let mut lines = real_lines();
        lines.extend(random_lines(20_000, 5));
        let mut seeds = 100;
        let mut with_random = |lines: &mut Vec<String>, piece: String| {
            seeds += 1;
            for tail in random_lines(50, seeds) {
                lines.push(format!("{piece}{tail}"));
                lines.push(format!("{tail}{piece}"));
                lines.push(format!("{tail} {piece}"));
            }
            lines.push(piece);
        };
        for (opening, _) in BOILERPLATE_OPENINGS {
            with_random(&mut lines, opening.to_string());
            with_random(&mut lines, opening.to_uppercase());
        }
        for word in WIDGET_WORDS {
            with_random(&mut lines, format!("{word} "));
            with_random(
                &mut lines,
                format!(" Share this: {}, ", word.to_uppercase()),
            );
            with_random(&mut lines, format!("\"{word}\" Like this: Like Loading..."));
        }
        with_random(&mut lines, "We use cookies.".to_string());
        with_random(&mut lines, "\u{b}Twitter\u{c}Facebook\u{a0}x ".to_string());
        lines
    }

    #[test]
    fn boilerplate_checks_agree_with_the_naive_ones() {
        for line in &boilerplate_lines() {
            for cookies in [false, true] {
                assert_eq!(
                    is_known_boilerplate_in(line, cookies),
                    naive::is_known_boilerplate_in(line, cookies),
                    "{line:?}"
                );
            }
            assert_eq!(
                strip_trailing_widget(line),
                naive::strip_trailing_widget(line),
                "{line:?}"
            );
            for word in line.split(' ') {
                assert_eq!(
                    is_widget_word(word),
                    naive::is_widget_word(word),
                    "{word:?}"
                );
            }
            assert_eq!(first_ascii_word(line), line.split_ascii_whitespace().next());
            assert_eq!(
                last_ascii_word(line),
                line.split_ascii_whitespace().next_back()
            );
        }
    }

    #[test]
    fn dateline_fast_path_agrees_with_the_naive_one() {
        let mut lines = real_lines();
        lines.extend(random_lines(20_000, 3));
        let datelines = [
            "SEOUL, South Korea — x",
            "WASHINGTON (Reuters) - y",
            "U.S. -- z",
            "AB - c",
        ];
        for (i, d) in datelines.iter().enumerate() {
            lines.push(d.to_string());
            lines.extend(
                random_lines(2_000, 10 + i as u64)
                    .into_iter()
                    .map(|l| format!("{d}{l}")),
            );
            lines.extend(
                random_lines(2_000, 20 + i as u64)
                    .into_iter()
                    .map(|l| format!("{l}{d}")),
            );
        }
        for line in &lines {
            assert_eq!(strip_dateline(line), naive_strip_dateline(line), "{line:?}");
        }
    }

    #[test]
    fn widget_word_match_is_the_list() {
        let mut candidates: Vec<String> = WIDGET_WORDS.iter().map(|w| w.to_string()).collect();
        for w in WIDGET_WORDS {
            candidates.push(format!("{w}s"));
            candidates.push(w[1..].to_string());
            candidates.push(w[..w.len() - 1].to_string());
        }
        candidates.extend(["", "shar", "x-", "face book"].map(String::from));
        for word in &candidates {
            assert_eq!(
                is_lower_widget_word(word.as_bytes()),
                WIDGET_WORDS.contains(&word.as_str()),
                "{word:?}"
            );
        }
    }

    #[test]
    fn widget_words_fit_the_buffer() {
        assert!(WIDGET_WORDS.iter().all(|w| w.len() <= MAX_WIDGET_WORD));
        assert!(
            WIDGET_WORDS
                .iter()
                .all(|w| w.bytes().all(|b| !b.is_ascii_uppercase()))
        );
        assert!(
            is_widget_word("Facebook,") && is_widget_word("WhatsApp") && !is_widget_word("Face")
        );
    }

    #[test]
    fn quick_reject_admits_every_opening() {
        for (prefix, _) in BOILERPLATE_OPENINGS {
            assert!(may_open_boilerplate(prefix.as_bytes()[0]), "{prefix}");
            let mut chars = prefix.chars();
            let first = chars.next().expect("openings are not empty");
            let capitalized = first.to_uppercase().collect::<String>() + chars.as_str();
            assert!(
                may_open_boilerplate(capitalized.as_bytes()[0]),
                "{capitalized}"
            );
        }
    }

    /// Lines of random pieces: ASCII words, capitals, digits, apostrophes of every kind, hyphens,
    /// control characters, accented and decomposed letters, combining marks, CJK, fullwidth forms
    /// and ligatures (which NFKC changes).
    fn random_lines(count: usize, seed: u64) -> Vec<String> {
        const PIECES: &[&str] = &[
            "a",
            "Z",
            "q",
            "9",
            "0",
            "word",
            "WORD",
            "Word",
            "don't",
            "O'Neil",
            "rock'n'roll",
            " ",
            " ",
            "  ",
            "\t",
            "'",
            "’",
            "ʼ",
            "‘",
            "-",
            "—",
            "–",
            ".",
            ",",
            "\"",
            "“",
            "”",
            "\u{0}",
            "\u{7}",
            "\u{1f}",
            "\u{7f}",
            "é",
            "É",
            "e\u{301}",
            "\u{301}",
            "\u{308}",
            "ß",
            "İ",
            "Σ",
            "ς",
            "東京",
            "日本語",
            "ひらがなカタカナ",
            "ｶﾞｷﾞ",
            "人々",
            "\u{20000}",
            "한국",
            "ｆｕｌｌ",
            "ﬁ",
            "①",
            "½",
            "\u{a0}",
            "\u{200b}",
            "\u{feff}",
            "हिन्दी",
            "ا",
            "٣",
            "🙂",
            "x'",
            "'x",
            " 's",
            " 'S",
            "\u{b}",
            " 'S-400'",
            " ‘s",
            "'D'",
            " ’re",
            " ʼll",
            " n't",
            "'d",
            "m",
            "12,000",
            "3.5",
            "abcdefghijklmnop",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "e-mail",
            "@",
            "`",
            "[",
            "{",
            "_",
            "~",
        ];
        let mut state = seed;
        let mut next = move || {
            state = crate::shingle::fmix64(state.wrapping_add(0x9E37_79B9_7F4A_7C15));
            state
        };
        (0..count)
            .map(|_| {
                let len = (next() % 24) as usize;
                (0..len)
                    .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    /// Real lines: every line of the sample corpora's texts and titles.
    fn real_lines() -> Vec<String> {
        let mut lines = Vec::new();
        for corpus in [
            include_str!("../data/sample.jsonl"),
            include_str!("../data/headlines-sample.jsonl"),
        ] {
            for record in corpus.lines() {
                let v: serde_json::Value =
                    serde_json::from_str(record).expect("sample lines are JSON");
                for field in ["text", "title"] {
                    if let Some(text) = v[field].as_str() {
                        lines.extend(text.lines().map(str::to_string));
                    }
                }
            }
        }
        lines.extend(
            include_str!("../data/seed-article.txt")
                .lines()
                .map(str::to_string),
        );
        lines
    }

    fn tokens_of(
        line: &str,
        cut: impl Fn(&str, &mut Vec<u8>, &mut dyn FnMut(Token<'_>)),
    ) -> Vec<String> {
        let mut tokens = Vec::new();
        cut(line, &mut Vec::new(), &mut |t: Token<'_>| {
            tokens.push(String::from_utf8(t.to_vec()).expect("tokens are UTF-8"))
        });
        tokens
    }

    /// The fast paths ([`ascii_tokens`] 64 bytes at a time, [`unicode_tokens`] with its ASCII
    /// shortcut, and the NFKC quick check that skips normalizing) cut every line as the
    /// definition does.
    #[test]
    fn fast_tokenizers_agree_with_the_naive_one() {
        let mut lines = real_lines();
        assert!(lines.len() > 1000);
        lines.extend(random_lines(50_000, 1));
        // Pure-ASCII lines exercise the block-at-a-time path at every alignment.
        lines.extend(
            random_lines(20_000, 2)
                .into_iter()
                .map(|l| l.chars().filter(char::is_ascii).collect()),
        );
        // Words and apostrophes across the 64-byte block boundaries of the ASCII path.
        let ascii: Vec<String> = lines
            .iter()
            .filter(|l| l.is_ascii())
            .take(3000)
            .cloned()
            .collect();
        for (i, line) in ascii.iter().enumerate() {
            let pad = ["x", " ", "'", "Q"][i % 4].repeat(50 + i % 30);
            lines.push(format!("{pad}{line}"));
        }
        // Capitalized words joined across apostrophes, shorter and longer than the 64-byte copy
        // kept on the stack, at every offset in a block.
        for n in 1..150 {
            let word = format!("{}'{}", "aB".repeat(n / 2 + 1), "C'd".repeat(n % 5 + 1));
            lines.push(format!("{} {word} O'Neil'S {word}", "x".repeat(n % 64)));
        }
        for line in &lines {
            let fast = tokens_of(line, |l, buf, emit| line_tokens(l, buf, &mut |t| emit(t)));
            let naive = tokens_of(line, |l, buf, emit| {
                naive_tokens(naive_join_clitics(l).nfkc(), buf, &mut |t| emit(t))
            });
            assert_eq!(fast, naive, "line {line:?}");
            if line.is_ascii() {
                let ascii = tokens_of(line, |l, buf, emit| {
                    ascii_tokens(l.as_bytes(), buf, &mut |t| emit(t))
                });
                let unjoined = tokens_of(line, |l, buf, emit| {
                    naive_tokens(l.chars(), buf, &mut |t| emit(t))
                });
                assert_eq!(ascii, unjoined, "line {line:?}");
            }
        }
    }

    /// The definition of [`join_split_clitics`], one character at a time.
    fn naive_join_clitics(line: &str) -> String {
        let chars: Vec<char> = line.chars().collect();
        let mut dropped = vec![false; chars.len()];
        let ends_word = |k: usize| {
            chars
                .get(k)
                .is_none_or(|&c| !c.is_alphanumeric() && !is_apostrophe(c) && !"-‐‑".contains(c))
        };
        let spelled = |at: usize, word: &str| {
            word.chars().enumerate().all(|(i, w)| {
                chars
                    .get(at + i)
                    .is_some_and(|c| c.to_ascii_lowercase() == w)
            })
        };
        for (i, &c) in chars.iter().enumerate() {
            if !is_apostrophe(c) || c == '‘' {
                continue;
            }
            let clitic = ["s", "re", "ll", "ve", "d", "m"]
                .iter()
                .any(|w| spelled(i + 1, w) && ends_word(i + 1 + w.len()));
            let negation = i > 0 && spelled(i - 1, "n") && spelled(i + 1, "t") && ends_word(i + 2);
            let spaces_end = if clitic {
                i
            } else if negation {
                i - 1
            } else {
                continue;
            };
            let mut word_end = spaces_end;
            while word_end > 0 && chars[word_end - 1].is_whitespace() {
                word_end -= 1;
            }
            if word_end < spaces_end && word_end > 0 && chars[word_end - 1].is_alphanumeric() {
                dropped[word_end..spaces_end].fill(true);
            }
        }
        chars
            .iter()
            .zip(dropped)
            .filter(|&(_, d)| !d)
            .map(|(&c, _)| c)
            .collect()
    }

    /// A clitic split from its word reads as the word with the clitic: `Angola 's` as
    /// `Angola's`, whatever the apostrophe and the spaces; a quote or a word that only starts
    /// like a clitic is left alone.
    #[test]
    fn split_clitics_are_joined_to_their_words() {
        let words =
            |line: &str| tokens_of(line, |l, buf, emit| line_tokens(l, buf, &mut |t| emit(t)));
        for (split, whole) in [
            ("Angola 's first satellite", "Angola's first satellite"),
            ("Putin\u{a0}’s aide", "Putin’s aide"),
            ("they  'RE here, we 'll see", "they're here, we'll see"),
            ("I 'm sure you 'd know it 've", "I'm sure you'd know it've"),
            ("we do n't know, ca n't say", "we don't know, can't say"),
            ("the state 's.", "the state's."),
            ("Angola\u{b}'s first", "Angola's first"),
            ("the firm 's \"plan\"", "the firm's \"plan\""),
        ] {
            assert_eq!(words(split), words(whole), "{split:?}");
            assert_eq!(join_split_clitics(whole), None, "{whole:?}");
        }
        for alone in [
            "he said 'so' and left",
            "the 'stars' are out",
            "a 'n' b",
            "' s",
            "'s at the start",
            "rock 'n' roll",
            "x n 't",
            // Quoted words and letters that only start like clitics.
            "India buys 'S-400' missiles",
            "the ‘D-Day’ landings",
            "gave him a 'D' rating",
            "size 'M' shirts",
            "the letter 's' is",
            "born in 's-Hertogenbosch",
            "a ‘s’ and a ‘m’",
        ] {
            assert_eq!(join_split_clitics(alone), None, "{alone:?}");
        }
        assert_eq!(
            words("he said 'so' and left"),
            ["he", "said", "so", "and", "left"]
        );
        // A copy that quotes with double quotes reads the same.
        for (single, double) in [
            (
                "India buys 'S-400' missiles",
                "India buys \"S-400\" missiles",
            ),
            ("gave him a 'D' rating", "gave him a \"D\" rating"),
            ("the ‘D-Day’ landings", "the “D-Day” landings"),
        ] {
            assert_eq!(words(single), words(double), "{single:?}");
        }
    }

    /// The fast [`join_split_clitics`] joins what its definition joins, on real and random
    /// lines.
    #[test]
    fn join_split_clitics_agrees_with_its_definition() {
        let mut lines = real_lines();
        lines.extend(random_lines(50_000, 7));
        let mut joined = 0;
        for line in &lines {
            let fast = join_split_clitics(line);
            assert_eq!(
                fast.clone().unwrap_or_else(|| line.clone()),
                naive_join_clitics(line),
                "line {line:?}"
            );
            joined += usize::from(fast.is_some());
        }
        assert!(
            joined > 1000,
            "the random lines have split clitics: {joined}"
        );
    }

    #[test]
    fn han_and_kana_characters_are_words_of_their_own() {
        let words =
            |line: &str| tokens_of(line, |l, buf, emit| line_tokens(l, buf, &mut |t| emit(t)));
        assert_eq!(words("周四下午"), ["周", "四", "下", "午"]);
        assert_eq!(
            words("ETF基金's 人々，ｶﾞ"),
            ["etf", "基", "金", "s", "人", "々", "ガ"]
        );
        // An apostrophe joins the halves of a word, not a word and a character.
        assert_eq!(
            words("don't 東京 rock'東"),
            ["dont", "東", "京", "rock", "東"]
        );
        // Hangul is written with spaces: its words stay whole.
        assert_eq!(words("서울 시청"), ["서울", "시청"]);
        // The middle dot is punctuation; a voicing mark NFKC cannot compose stays with its
        // character (halfwidth ﾞ is one: NFKC makes it U+3099).
        assert_eq!(words("ドナ・トラ"), ["ド", "ナ", "ト", "ラ"]);
        assert_eq!(words("ア\u{ff9e}a\u{3099}"), ["ア\u{3099}", "a\u{3099}"]);
    }

    /// The words of a canonical text, split again, are the tokens it was made of.
    #[test]
    fn canonical_words_are_the_tokens() {
        let mut lines = real_lines();
        lines.extend(random_lines(20_000, 3));
        for line in &lines {
            let mut tokens = Vec::new();
            for_each_token(line, &LearnedBoilerplate::default(), &mut Vec::new(), |t| {
                tokens.push(String::from_utf8(t.to_vec()).expect("tokens are UTF-8"))
            });
            let mut words = Vec::new();
            for_each_canonical_word(&canon(line), |w| words.push(w.to_string()));
            assert_eq!(words, tokens, "line {line:?}");
        }
    }

    #[test]
    fn seed_article_boilerplate_is_removed() {
        let seed = include_str!("../data/seed-article.txt");
        let text = canon(seed);
        assert!(
            text.ends_with("between kim and then us president donald trump"),
            "{text}"
        );
        assert!(!text.contains("also read"));
        assert!(!text.contains("loading"));
    }

    #[test]
    fn lines_are_learned_per_outlet_and_removed_from_every_copy() {
        let footer = "Subscribe now and get the Daily Bugle delivered to your door";
        let mut learner = BoilerplateLearner::default();
        for i in 0..4 {
            let text = format!("Story number {i} is about something else entirely.\n{footer}");
            learner.add(&LineSample::of(&text, Some("bugle.example")));
        }
        // A fifth article with the line, from another outlet: still four of one outlet.
        let text = "Another outlet's story, quoting the footer.\n".to_string() + footer;
        learner.add(&LineSample::of(&text, Some("other.example")));
        assert!(learner.finish(5).is_empty());

        let mut learner = BoilerplateLearner::default();
        for i in 0..5 {
            let text = format!("Story number {i} is about something else entirely.\n{footer}");
            learner.add(&LineSample::of(&text, Some("bugle.example")));
        }
        let learned = learner.finish(5);
        assert_eq!(learned.len(), 1);
        // Learned from one outlet, the line leaves every article that has it: a copy of a
        // Bugle story another outlet carries must shed the same line to stay a copy.
        let text = format!("A new story.\n{footer}");
        let mut out = String::new();
        canonical_text(&text, &learned, &mut out);
        assert_eq!(out, "a new story");
        let mut buf = Vec::new();
        let mut words = 0;
        for_each_token(&text, &learned, &mut buf, |_| words += 1);
        assert_eq!(words, 3);
    }

    #[test]
    fn every_word_of_a_text_that_reads_as_boilerplate() {
        // Headlines that open as a copyright notice or a photo credit do, and nothing else:
        // the body path leaves them without a word, for_each_word keeps them whole.
        for text in [
            "Copyright row over Led Zeppelin classic Stairway to Heaven",
            "PHOTO: Johnny Depp has his own diamond engagement ring!",
        ] {
            assert!(is_known_boilerplate(text), "{text}");
            assert_eq!(canon(text), "", "{text}");
            let mut words = String::new();
            canonical_words(text, &mut words);
            assert_eq!(words, naive_lower_words(text), "{text}");
        }
        // Beside other lines, such a line goes.
        assert_eq!(
            canon("Photo: Reuters\nThe body of the story."),
            "the body of the story"
        );
    }

    #[test]
    fn copies_of_one_article_teach_nothing() {
        let mut learner = BoilerplateLearner::default();
        let text = "A short line.\nThe same long line of the same article, copied again and again.";
        for _ in 0..10 {
            learner.add(&LineSample::of(text, Some("mirror.example")));
        }
        assert!(learner.finish(5).is_empty());
    }

    /// Short articles whose footer has several repeated lines: each footer line is learned,
    /// whatever the hash values of the other footer lines.
    #[test]
    fn repeated_footers_of_short_articles_are_learned() {
        let footer = "Subscribe to the Bugle\nFollow the Bugle elsewhere\nBugle Media Group 2024\nTips: tips@bugle.example";
        let mut learner = BoilerplateLearner::default();
        for i in 0..40 {
            let text = format!("Short story number {i} about item {}.\n{footer}", i * 7);
            learner.add(&LineSample::of(&text, Some("bugle.example")));
        }
        // "Subscribe to ..." is known boilerplate already; the other three are learned.
        assert_eq!(learner.finish(5).len(), 3);
    }

    /// Eight copies of a byte, for word-at-a-time (SWAR) byte tests.
    const fn splat(b: u8) -> u64 {
        0x0101_0101_0101_0101 * b as u64
    }

    /// The high bit of every byte.
    const HIGH_BITS: u64 = splat(0x80);

    /// Sets the high bit of each byte of `w` that lies in `lo..=hi`; every byte of `w` must be ASCII
    /// and `lo` at least 1, so that no sum carries into the next byte.
    #[inline(always)]
    fn bytes_in_range(w: u64, lo: u8, hi: u8) -> u64 {
        let at_least_lo = w.wrapping_add(splat(0x80 - lo));
        let above_hi = w.wrapping_add(splat(0x7f - hi));
        at_least_lo & !above_hi & HIGH_BITS
    }

    /// Gathers the high bits of the eight bytes of `m` into one byte (first byte in the lowest bit).
    #[inline(always)]
    fn gather_high_bits(m: u64) -> u64 {
        // Each high bit, moved down to the bottom of its byte, is multiplied into its own place in
        // the top byte; no two partial products meet, so nothing carries.
        ((m >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
    }

    /// The block's bitmaps eight bytes at a time in plain integers (the version before the SIMD
    /// one): its oracle.
    fn block_bits_swar<const APOSTROPHES: bool>(block: &[u8; 64]) -> BlockBits {
        let mut bits = BlockBits {
            word: 0,
            apostrophe: 0,
        };
        for (k, chunk) in block.chunks_exact(8).enumerate() {
            let w = u64::from_le_bytes(chunk.try_into().expect("chunks are eight bytes"));
            let word = bytes_in_range(w | splat(0x20), b'a', b'z') | bytes_in_range(w, b'0', b'9');
            bits.word |= gather_high_bits(word) << (8 * k);
            if APOSTROPHES {
                let apostrophes = bytes_in_range(w, b'\'', b'\'');
                bits.apostrophe |= gather_high_bits(apostrophes) << (8 * k);
            }
        }
        bits
    }

    #[test]
    fn block_bits_agree_with_the_word_at_a_time_ones() {
        let mut next = xorshift(7);
        for round in 0..20_000 {
            let mut block = [0u8; 64];
            for b in &mut block {
                // Mostly the bytes around the ranges' edges, sometimes any ASCII byte.
                let edges = b"/09:@AZ[`az{'&(\0\x7f";
                let r = next();
                *b = if round % 2 == 0 {
                    edges[(r % edges.len() as u64) as usize]
                } else {
                    (r % 128) as u8
                };
            }
            let simd = block_bits::<true>(&block);
            let swar = block_bits_swar::<true>(&block);
            assert_eq!(
                (simd.word, simd.apostrophe),
                (swar.word, swar.apostrophe),
                "{block:?}"
            );
            assert_eq!(block_bits::<false>(&block).word, swar.word);
        }
    }

    #[test]
    fn words_as_long_as_blocks_are_whole() {
        // Words without apostrophes that fill or cross whole 64-byte blocks, at every offset.
        for len in [63, 64, 65, 127, 128, 129, 200] {
            for offset in 0..70 {
                let word = "ab9".repeat(len).chars().take(len).collect::<String>();
                let line = format!(
                    "{}{word} {word}x {}",
                    " ".repeat(offset),
                    "q".repeat(offset)
                );
                let fast = tokens_of(&line, |l, buf, emit| {
                    ascii_tokens(l.as_bytes(), buf, &mut |t| emit(t))
                });
                let naive = tokens_of(&line, |l, buf, emit| {
                    naive_tokens(l.chars(), buf, &mut |t| emit(t))
                });
                assert_eq!(fast, naive, "line {line:?}");
            }
        }
    }

    /// Pseudo-random numbers (xorshift64 from `state`, not zero).
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// The scan's one pass gives the tokens and the line sample of the two separate passes, on
    /// the sample corpus's texts and on texts made of boilerplate, datelines, widgets, cookie
    /// notices, repeated and long lines.
    #[test]
    fn sampling_while_tokenizing_agrees_with_the_two_passes() {
        let corpus = include_str!("../data/sample.jsonl");
        let mut texts: Vec<(String, Option<String>)> = corpus
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let field = |k: &str| v[k].as_str().map(str::to_string);
                (field("text").unwrap_or_default(), field("source"))
            })
            .collect();
        let long = "A long line of the article that goes on and on. ".repeat(8);
        let pieces = [
            "WASHINGTON (Reuters) - The first line carries a dateline.",
            "Share this: Twitter Facebook",
            "Like this: Like Loading...",
            "We use cookies to improve your experience on this site.",
            "Subscribe to our newsletter",
            "A short line.",
            "A short line.",
            long.as_str(),
            "  indented line with trailing spaces  ",
            "Ünïcödé line — with “quotes” and an apostrophe's word.",
            "",
            "\r",
            "Read more: the closing line Share this",
            "Editor's note: this story was updated.",
            "Editor’s Note: An earlier version erred. WASHINGTON — The text goes on.",
            "EDITORS NOTE: the note. Read more: a related story",
        ];
        let mut next = xorshift(0x1234_5678_9ABC_DEF1);
        for n in 0..400 {
            let mut text = String::new();
            for _ in 0..(n % 12) {
                let state = next();
                text.push_str(pieces[(state % pieces.len() as u64) as usize]);
                text.push(if state & 64 == 0 { '\n' } else { ' ' });
            }
            let source = (n % 3 != 0).then(|| format!("outlet{}.example", n % 5));
            texts.push((text, source));
        }
        let none = LearnedBoilerplate::default();
        let (mut buf, mut buf2) = (Vec::new(), Vec::new());
        let mut samples_with_keys = 0;
        for (text, source) in &texts {
            let mut want = Vec::new();
            for_each_token(text, &none, &mut buf, |t| want.push(t.to_vec()));
            let mut got = Vec::new();
            let sample = for_each_token_sampled(text, source.as_deref(), &mut buf2, |t| {
                got.push(t.to_vec())
            });
            assert_eq!(got, want, "{text:?}");
            assert_eq!(sample, LineSample::of(text, source.as_deref()), "{text:?}");
            samples_with_keys += usize::from(!sample.keys.is_empty());
        }
        assert!(samples_with_keys > 100);
    }

    /// The packed table of lines seen once against a plain map, on keys made to share a half
    /// with an earlier key.
    #[test]
    fn once_lines_agree_with_a_plain_map() {
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15u64);
        let mut once = OnceLines::default();
        let mut oracle: std::collections::HashMap<u64, u32> = Default::default();
        let mut keys: Vec<u64> = Vec::new();
        for step in 0..200_000u32 {
            let key = match next() % 4 {
                // A key seen before, so that entries move on or stay.
                0 if !keys.is_empty() => keys[(next() % keys.len() as u64) as usize],
                // The same low half, or the same high half, as an earlier key.
                1 if !keys.is_empty() => {
                    let k = keys[(next() % keys.len() as u64) as usize];
                    (k & 0xFFFF_FFFF) | (next() << 32)
                }
                2 if !keys.is_empty() => {
                    let k = keys[(next() % keys.len() as u64) as usize];
                    (k & !0xFFFF_FFFF) | (next() & 0xFFFF_FFFF)
                }
                _ => next(),
            };
            keys.push(key);
            let fingerprint = (next() % 3) as u32;
            let want = oracle.get(&key).copied();
            if want.is_some_and(|f| f != fingerprint) {
                oracle.remove(&key);
            } else if want.is_none() {
                oracle.insert(key, fingerprint);
            }
            assert_eq!(once.see(key, fingerprint), want, "step {step}");
        }
        for &key in &keys {
            assert_eq!(once.get(key), oracle.get(&key).copied());
        }
        assert_eq!(once.table.len(), oracle.len());
    }

    /// The learner against a plain count of each line's distinct fingerprints.
    #[test]
    fn learner_counts_distinct_fingerprints_per_line() {
        let mut next = xorshift(0x2545_F491_4F6C_DD1Du64);
        let lines: Vec<u64> = (0..3_000).map(|_| next()).collect();
        let mut samples: Vec<LineSample> = Vec::new();
        let mut distinct: std::collections::HashMap<u64, Vec<u32>> = Default::default();
        for _ in 0..20_000 {
            let mut keys: Vec<(u64, u32, u64)> = (0..(next() % 6))
                .map(|_| {
                    // Skewed: a few lines are common, most rare.
                    let i = (next() % lines.len() as u64) as usize;
                    let i = if next().is_multiple_of(2) { i % 40 } else { i };
                    // The line's own key, told apart from its key within the outlet.
                    (lines[i], (next() % 9) as u32, lines[i].rotate_left(17))
                })
                .collect();
            keys.sort_unstable();
            keys.dedup_by_key(|k| k.0);
            for &(k, f, _) in &keys {
                let seen = distinct.entry(k).or_default();
                if !seen.contains(&f) {
                    seen.push(f);
                }
            }
            samples.push(LineSample { keys });
        }
        for min_docs in [2, 5, 8] {
            let want: Vec<u64> = distinct
                .iter()
                .filter(|(_, f)| f.len() >= min_docs)
                .map(|(&k, _)| k.rotate_left(17))
                .collect();
            assert!(!want.is_empty() && want.len() < distinct.len());
            let mut learner = BoilerplateLearner::default();
            samples.iter().for_each(|s| learner.add(s));
            let learned = learner.finish(min_docs);
            assert!(
                want.iter().all(|&k| learned.contains_key(k)),
                "min_docs {min_docs}"
            );
            assert_eq!(learned.len(), want.len(), "min_docs {min_docs}");
        }
    }

    #[test]
    fn all_boilerplate_falls_back_to_the_text() {
        let mut learner = BoilerplateLearner::default();
        for i in 0..5 {
            learner.add(&LineSample::of(&format!("Footer line\nbody {i}"), None));
        }
        let learned = learner.finish(5);
        let mut out = String::new();
        canonical_text("Footer line", &learned, &mut out);
        assert_eq!(out, "footer line");
    }
}
