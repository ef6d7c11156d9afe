//! `storyhash eval`: scores predicted clusters (a run's `articles.jsonl`) against labeled
//! articles, with the metrics of [`storyhash::eval`].

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::json;
use storyhash::eval::{Labeling, Scores, evaluate};
use storyhash::ingest::{Input, for_each_chunk};

use super::{EXIT_FAILURE, EXIT_OK, exit_code};

/// Missing ids listed in the table (all are counted).
const MISSING_SHOWN_IN_TABLE: usize = 10;
/// Missing ids listed in the JSON (all are counted).
const MISSING_SHOWN_IN_JSON: usize = 100;

/// Which predicted clustering is scored.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum KeyArg {
    /// Same-story clusters.
    Story,
    /// Near-duplicate clusters.
    #[value(name = "dup_cluster")]
    DupCluster,
}

impl KeyArg {
    fn field(self) -> &'static str {
        match self {
            KeyArg::Story => "story",
            KeyArg::DupCluster => "dup_cluster",
        }
    }
}

#[derive(Args, Debug)]
pub(crate) struct EvalArgs {
    /// Labeled articles, JSON Lines (plain, .gz or .zst), one article per line.
    #[arg(long, value_name = "FILE")]
    truth: PathBuf,
    /// Predicted labels, JSON Lines (plain, .gz or .zst): a run's articles.jsonl, or any file
    /// with an id and a label per line; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pred: PathBuf,
    /// Prediction field to score: same-story clusters or near-duplicate clusters.
    #[arg(long, value_enum, default_value_t = KeyArg::Story)]
    key: KeyArg,
    /// Truth field holding the reference label.
    #[arg(long, default_value = "story", value_name = "NAME")]
    truth_key: String,
    /// Field holding the article id, in both files.
    #[arg(long, default_value = "id", value_name = "NAME")]
    id_field: String,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// What reading one labels file gave.
struct LabelsFile {
    labeling: Labeling,
    /// Records that carry the label field (null included).
    with_field: u64,
}

/// Runs `eval` and returns the exit code.
pub(crate) fn run(args: &EvalArgs) -> i32 {
    let truth_key = args.truth_key.as_str();
    let pred_key = args.key.field();
    let result = read_labels(&args.truth, &args.id_field, truth_key).and_then(|truth| {
        if truth.labeling.is_empty() {
            return Err(storyhash::Error::EmptyInput {
                path: args.truth.clone(),
            });
        }
        read_labels(&args.pred, &args.id_field, pred_key).map(|pred| (truth, pred))
    });
    let (truth, pred) = match result {
        Ok(both) => both,
        Err(e) => {
            eprintln!("storyhash: {e}");
            return exit_code(&e);
        }
    };
    for (path, file, key) in [
        (&args.truth, &truth, truth_key),
        (&args.pred, &pred, pred_key),
    ] {
        if file.with_field == 0 && !file.labeling.is_empty() {
            eprintln!(
                "storyhash: warning: no record of {} has field `{key}`; each of its articles counts as a cluster of its own",
                path.display()
            );
        }
    }
    let scores = evaluate(&truth.labeling, &pred.labeling);
    let text = if args.json {
        let mut text =
            serde_json::to_string_pretty(&to_json(args, &scores)).expect("a JSON value serializes");
        text.push('\n');
        text
    } else {
        table(args, &scores)
    };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("storyhash: standard output: {e}");
            EXIT_FAILURE
        }
    }
}

/// Reads `id_field` and `label_field` of every line of `path`; a bad line, or an id seen
/// before, is an error naming the file and line.
fn read_labels(path: &Path, id_field: &str, label_field: &str) -> storyhash::Result<LabelsFile> {
    let input = Input::open(path, &std::env::temp_dir())?;
    let mut file = LabelsFile {
        labeling: Labeling::new(),
        with_field: 0,
    };
    for_each_chunk(std::slice::from_ref(&input), |input, chunk| {
        for idx in 0..chunk.lines.len() {
            let line = chunk.line(idx);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let bad = |reason: String| storyhash::Error::BadRecord {
                path: input.name.clone(),
                line: chunk.line_number(idx),
                reason,
            };
            let record = parse_line(line, id_field, label_field).map_err(bad)?;
            let id = record.id.ok_or_else(|| {
                bad(if record.id_is_null {
                    // Named as null, not as missing, as `dedup` names it.
                    format!("field `{id_field}` is null (a line needs a string or integer id)")
                } else if [&b"\"articles\":["[..], b"\"members\":["]
                    .iter()
                    .any(|key| line.windows(key.len()).any(|w| w == *key))
                {
                    // stories.jsonl or duplicates.jsonl: one line per cluster, not per article.
                    format!(
                        "missing required field `{id_field}` (this looks like a run's stories.jsonl \
                         or duplicates.jsonl, one line per cluster: --pred takes its articles.jsonl)"
                    )
                } else {
                    format!("missing required field `{id_field}`")
                })
            })?;
            let label = match record.label {
                Some(label) => {
                    file.with_field += 1;
                    label
                }
                None => None,
            };
            if !file.labeling.insert(&id, label.as_deref()) {
                return Err(bad(format!("duplicate id `{id}`")));
            }
        }
        Ok(())
    })?;
    Ok(file)
}

/// The two fields of a line that matter here.
#[derive(Default)]
struct LabelRecord<'a> {
    /// The id, when present and not null.
    id: Option<Cow<'a, str>>,
    /// Whether the id field is there but null (the last one, when the field is repeated).
    id_is_null: bool,
    /// `None`: the label field is absent; `Some(None)`: it is null.
    label: Option<Option<Cow<'a, str>>>,
}

/// Parses a line into its id and label, or says why it cannot be read.
fn parse_line<'a>(
    line: &'a [u8],
    id_field: &str,
    label_field: &str,
) -> Result<LabelRecord<'a>, String> {
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1))?;
    let mut de = serde_json::Deserializer::from_str(text);
    RecordSeed {
        id_field,
        label_field,
    }
    .deserialize(&mut de)
    .and_then(|r| de.end().map(|()| r))
    .map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        format!("invalid JSON: {msg} (column {})", e.column())
    })
}

struct RecordSeed<'f> {
    id_field: &'f str,
    label_field: &'f str,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = LabelRecord<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = LabelRecord<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut record = LabelRecord::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let (is_id, is_label) = (key == self.id_field, key == self.label_field);
            if !is_id && !is_label {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = map
                .next_value::<Scalar>()
                .map_err(|e| de::Error::custom(format_args!("field `{key}`: {e}")))?
                .0;
            if is_id {
                record.id.clone_from(&value);
                record.id_is_null = value.is_none();
            }
            if is_label {
                record.label = Some(value);
            }
        }
        Ok(record)
    }
}

/// A string, an integer (as its decimal text) or null.
struct Scalar<'a>(Option<Cow<'a, str>>);

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, an integer or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar(None))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
                // JSON reads an integer past 64 bits as a float, as `dedup` says too.
                if v.fract() == 0.0
                    && !(-9_223_372_036_854_775_808.0..18_446_744_073_709_551_616.0).contains(&v)
                {
                    return Err(E::custom(
                        "an integer beyond 64 bits (give such a value as a string)",
                    ));
                }
                Err(E::invalid_type(de::Unexpected::Float(v), &self))
            }
        }
        d.deserialize_any(ScalarVisitor)
    }
}

/// Fields of both sides, for the output's header.
fn sides(args: &EvalArgs) -> (String, String) {
    (
        format!("{} ({})", args.truth.display(), args.truth_key),
        format!("{} ({})", args.pred.display(), args.key.field()),
    )
}

/// The people's view.
fn table(args: &EvalArgs, s: &Scores) -> String {
    let (truth, pred) = sides(args);
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "truth      {truth}");
    let _ = writeln!(out, "pred       {pred}");
    let _ = writeln!(out, "articles   {} (every truth id)", s.articles);
    let _ = writeln!(out);
    let _ = writeln!(out, "             precision   recall       F1");
    for (name, prf) in [("B-cubed", s.bcubed), ("pairwise", s.pairwise)] {
        let _ = writeln!(
            out,
            "{name:<12} {:>9.4} {:>8.4} {:>8.4}",
            prf.precision, prf.recall, prf.f1
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "ARI          {:>9.4}", s.ari);
    let _ = writeln!(
        out,
        "NMI          {:>9.4}   (arithmetic mean of the entropies)",
        s.nmi
    );
    let _ = writeln!(
        out,
        "clusters     pred {}, true {}",
        s.clusters_pred, s.clusters_true
    );
    let _ = writeln!(
        out,
        "pairs        pred {}, true {}, both {}",
        s.pairs_pred, s.pairs_true, s.pairs_common
    );
    if s.unlabeled_true + s.unlabeled_pred > 0 {
        let _ = writeln!(
            out,
            "unlabeled    truth {}, pred {} (each a cluster of its own)",
            s.unlabeled_true, s.unlabeled_pred
        );
    }
    let _ = write!(
        out,
        "missing      {} truth ids absent from the prediction (scored as predicted singletons)",
        s.missing.len()
    );
    if !s.missing.is_empty() {
        let shown: Vec<&str> = s
            .missing
            .iter()
            .take(MISSING_SHOWN_IN_TABLE)
            .map(String::as_str)
            .collect();
        let more = s.missing.len() - shown.len();
        let _ = write!(out, ": {}", shown.join(", "));
        if more > 0 {
            let _ = write!(out, " and {more} more");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "extra        {} predicted ids not in the truth (ignored)",
        s.extra
    );
    out
}

/// The machines' view: one flat object.
fn to_json(args: &EvalArgs, s: &Scores) -> serde_json::Value {
    json!({
        "truth": args.truth.display().to_string(),
        "truth_key": args.truth_key,
        "pred": args.pred.display().to_string(),
        "key": args.key.field(),
        "articles": s.articles,
        "bcubed_precision": s.bcubed.precision,
        "bcubed_recall": s.bcubed.recall,
        "bcubed_f1": s.bcubed.f1,
        "pairwise_precision": s.pairwise.precision,
        "pairwise_recall": s.pairwise.recall,
        "pairwise_f1": s.pairwise.f1,
        "pairs_pred": s.pairs_pred,
        "pairs_true": s.pairs_true,
        "pairs_common": s.pairs_common,
        "ari": s.ari,
        "nmi": s.nmi,
        "nmi_normalization": "arithmetic",
        "clusters_pred": s.clusters_pred,
        "clusters_true": s.clusters_true,
        "unlabeled_true": s.unlabeled_true,
        "unlabeled_pred": s.unlabeled_pred,
        "missing": s.missing.len(),
        "missing_ids": s.missing.iter().take(MISSING_SHOWN_IN_JSON).collect::<Vec<_>>(),
        "extra": s.extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parsed_or_rejected() {
        // (line, Ok((id, label))) with label None = absent, Some(None) = null; or Err(part).
        type Want = Result<(Option<&'static str>, Option<Option<&'static str>>), &'static str>;
        let cases: &[(&str, Want)] = &[
            (
                r#"{"id":"a","story":"s"}"#,
                Ok((Some("a"), Some(Some("s")))),
            ),
            (
                r#"{"id":7,"story":-3,"x":[1]}"#,
                Ok((Some("7"), Some(Some("-3")))),
            ),
            (r#"{"id":"a","story":null}"#, Ok((Some("a"), Some(None)))),
            (r#"{"id":"a"}"#, Ok((Some("a"), None))),
            (r#"{"story":"s"}"#, Ok((None, Some(Some("s"))))),
            (
                r#"{"id":"a\u00e9","story":"s"}"#,
                Ok((Some("aé"), Some(Some("s")))),
            ),
            (r#"{"id":"a","story":1.5}"#, Err("field `story`")),
            (r#"{"id":true,"story":"s"}"#, Err("field `id`")),
            (r#"{"id":"a","story":"s""#, Err("invalid JSON")),
            (r#"[1,2]"#, Err("invalid JSON")),
            (r#"{"id":"a"} x"#, Err("invalid JSON")),
        ];
        for (line, want) in cases {
            let got = parse_line(line.as_bytes(), "id", "story").map(|r| {
                (
                    r.id.map(|s| s.into_owned()),
                    r.label.map(|l| l.map(|s| s.into_owned())),
                )
            });
            match (got, want) {
                (Ok((id, label)), Ok((want_id, want_label))) => {
                    assert_eq!(id.as_deref(), *want_id, "{line}");
                    assert_eq!(label.as_ref().map(|l| l.as_deref()), *want_label, "{line}");
                }
                (Err(reason), Err(part)) => assert!(reason.contains(part), "{line}: {reason}"),
                (got, want) => panic!("{line}: got {got:?}, want {want:?}"),
            }
        }
        assert!(
            parse_line(b"{\"id\":\"\xff\"}", "id", "story")
                .is_err_and(|e| e.contains("invalid UTF-8"))
        );
    }
}
