//! Scores for a clustering against reference labels: B-cubed, pairwise, adjusted Rand index and
//! normalized mutual information.
//!
//! Both sides are [`Labeling`]s: article ids, each with a cluster label or none. [`evaluate`]
//! scores the prediction over the articles of the truth:
//!
//! - An article without a label (null or absent), on either side, is a cluster of its own.
//! - A truth id missing from the prediction is scored as a singleton in the prediction (so a
//!   prediction that drops articles loses recall, never gains precision) and listed in
//!   [`Scores::missing`].
//! - A predicted id that is not in the truth is ignored and counted in [`Scores::extra`].
//!
//! Everything is computed from the contingency table of (true cluster, predicted cluster)
//! counts, built by sorting one `u64` key per article: no pair of articles is ever enumerated,
//! so 400 k articles take a fraction of a second. With `n_ij` the articles in true cluster `i`
//! and predicted cluster `j`, `a_i` and `b_j` the cluster sizes and `N` the articles:
//!
//! - **B-cubed** (Bagga & Baldwin 1998), averaged over articles: precision
//!   `Σ n_ij² / b_j / N`, recall `Σ n_ij² / a_i / N`, F1 the harmonic mean of the two averages.
//! - **Pairwise**: the pairs put together by both sides `Σ C(n_ij, 2)`, over the pairs the
//!   prediction puts together `Σ C(b_j, 2)` (precision) and over the pairs the truth puts
//!   together `Σ C(a_i, 2)` (recall). With no pair on the divisor's side the value is 1 (nothing
//!   was claimed that could be wrong, or nothing was there to find).
//! - **ARI**: the adjusted Rand index of Hubert & Arabie (1985), 1 when both sides agree on
//!   every pair, 0 at the agreement expected by chance; computed exactly in integers up to the
//!   final division.
//! - **NMI**: mutual information over the *arithmetic mean* of the two entropies (as in
//!   scikit-learn's default and Manning et al.'s IR book), 1 when both sides are one cluster.
//!
//! # Example
//!
//! ```
//! use storyhash::eval::{Labeling, evaluate};
//!
//! let mut truth = Labeling::new();
//! for (id, story) in [("a", "s1"), ("b", "s1"), ("c", "s2")] {
//!     assert!(truth.insert(id, Some(story)));
//! }
//! let mut pred = Labeling::new();
//! pred.insert("a", Some("7"));
//! pred.insert("b", Some("7"));
//! pred.insert("z", Some("7")); // not in the truth: ignored, counted
//! // "c" is missing: scored as a singleton, which is right here.
//!
//! let scores = evaluate(&truth, &pred);
//! assert_eq!(scores.bcubed.f1, 1.0);
//! assert_eq!(scores.missing, vec!["c".to_string()]);
//! assert_eq!(scores.extra, 1);
//! ```

use std::collections::HashMap;

/// Article ids with a cluster label each (or none), in insertion order.
///
/// Labels are compared as text: an integer label 7 and a string label "7" are the same label.
#[derive(Debug, Default, Clone)]
pub struct Labeling {
    /// Row of each id.
    rows: HashMap<Box<str>, u32>,
    /// Id of each row.
    ids: Vec<Box<str>>,
    /// Dense label of each row; `None` for an unlabeled article.
    labels: Vec<Option<u32>>,
    /// Dense number of each distinct label.
    label_numbers: HashMap<Box<str>, u32>,
}

impl Labeling {
    /// An empty labeling.
    pub fn new() -> Labeling {
        Labeling::default()
    }

    /// Adds article `id` with `label` (`None`: a cluster of its own). Returns false, and changes
    /// nothing, when `id` is already present.
    pub fn insert(&mut self, id: &str, label: Option<&str>) -> bool {
        if self.rows.contains_key(id) {
            return false;
        }
        let row = u32::try_from(self.ids.len()).expect("fewer than 2^32 articles are scored");
        let label = label.map(|l| match self.label_numbers.get(l) {
            Some(&n) => n,
            None => {
                let n = u32::try_from(self.label_numbers.len())
                    .expect("fewer than 2^32 labels are scored");
                self.label_numbers.insert(l.into(), n);
                n
            }
        });
        self.rows.insert(id.into(), row);
        self.ids.push(id.into());
        self.labels.push(label);
        true
    }

    /// Number of articles.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the labeling holds no article.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Number of articles without a label.
    pub fn unlabeled(&self) -> usize {
        self.labels.iter().filter(|l| l.is_none()).count()
    }

    /// Number of distinct labels.
    fn n_labels(&self) -> u32 {
        self.label_numbers.len() as u32
    }
}

/// Precision, recall and their harmonic mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prf {
    /// Precision, in [0, 1].
    pub precision: f64,
    /// Recall, in [0, 1].
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
}

impl Prf {
    fn new(precision: f64, recall: f64) -> Prf {
        let sum = precision + recall;
        Prf {
            precision,
            recall,
            f1: if sum > 0.0 {
                2.0 * precision * recall / sum
            } else {
                0.0
            },
        }
    }
}

/// The scores of a prediction against the truth, over the truth's articles.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// Articles scored: every id of the truth.
    pub articles: u64,
    /// B-cubed precision, recall and F1.
    pub bcubed: Prf,
    /// Pairwise precision, recall and F1.
    pub pairwise: Prf,
    /// Pairs of articles the truth puts in one cluster.
    pub pairs_true: u64,
    /// Pairs of articles the prediction puts in one cluster.
    pub pairs_pred: u64,
    /// Pairs of articles both put in one cluster.
    pub pairs_common: u64,
    /// Adjusted Rand index, in [-1, 1] (1: identical, 0: chance).
    pub ari: f64,
    /// Normalized mutual information, arithmetic-mean normalization, in [0, 1].
    pub nmi: f64,
    /// Clusters in the truth, singletons included.
    pub clusters_true: u64,
    /// Clusters in the prediction restricted to the truth's articles, singletons (unlabeled and
    /// missing articles) included.
    pub clusters_pred: u64,
    /// Truth articles without a label (each a cluster of its own).
    pub unlabeled_true: u64,
    /// Truth articles present in the prediction without a label (each a cluster of its own).
    pub unlabeled_pred: u64,
    /// Truth ids absent from the prediction, in truth order (each scored as a predicted
    /// singleton).
    pub missing: Vec<String>,
    /// Predicted ids absent from the truth (ignored).
    pub extra: u64,
}

/// Pairs among `n` articles.
fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// `numerator / denominator`, or 1 when there is nothing to divide by.
fn ratio_or_one(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        1.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Scores `pred` against `truth` over the articles of `truth` (see the module docs for the
/// rules on unlabeled, missing and extra articles). An empty truth scores 1 everywhere.
pub fn evaluate(truth: &Labeling, pred: &Labeling) -> Scores {
    let n = truth.len();
    // Unlabeled articles get fresh cluster numbers after the labels, one each.
    let mut next_true = truth.n_labels() as u64;
    let mut next_pred = pred.n_labels() as u64;
    let mut missing = Vec::new();
    let mut unlabeled_pred = 0u64;
    let mut matched = 0u64;
    let mut keys: Vec<u64> = Vec::with_capacity(n);
    for (row, id) in truth.ids.iter().enumerate() {
        let t = truth.labels[row].map(u64::from).unwrap_or_else(|| {
            next_true += 1;
            next_true - 1
        });
        let p = match pred.rows.get(id) {
            Some(&pred_row) => {
                matched += 1;
                match pred.labels[pred_row as usize] {
                    Some(label) => u64::from(label),
                    None => {
                        unlabeled_pred += 1;
                        next_pred += 1;
                        next_pred - 1
                    }
                }
            }
            None => {
                missing.push(id.to_string());
                next_pred += 1;
                next_pred - 1
            }
        };
        keys.push(t << 32 | p);
    }
    keys.sort_unstable();

    // Cells of the contingency table, and the cluster sizes on each side.
    let mut cells: Vec<(u32, u32, u64)> = Vec::new();
    for &key in &keys {
        let (t, p) = ((key >> 32) as u32, key as u32);
        match cells.last_mut() {
            Some(cell) if cell.0 == t && cell.1 == p => cell.2 += 1,
            _ => cells.push((t, p, 1)),
        }
    }
    drop(keys);
    let mut true_sizes = vec![0u64; next_true as usize];
    let mut pred_sizes = vec![0u64; next_pred as usize];
    for &(t, p, count) in &cells {
        true_sizes[t as usize] += count;
        pred_sizes[p as usize] += count;
    }

    let n_articles = n as u64;
    let pairs_true: u64 = true_sizes.iter().map(|&a| pairs(a)).sum();
    let pairs_pred: u64 = pred_sizes.iter().map(|&b| pairs(b)).sum();
    let pairs_common: u64 = cells.iter().map(|&(_, _, c)| pairs(c)).sum();

    let (bcubed_p, bcubed_r) = if n == 0 {
        (1.0, 1.0)
    } else {
        let (mut p, mut r) = (0.0, 0.0);
        for &(t, pr, count) in &cells {
            let sq = (count * count) as f64;
            p += sq / pred_sizes[pr as usize] as f64;
            r += sq / true_sizes[t as usize] as f64;
        }
        (p / n as f64, r / n as f64)
    };

    Scores {
        articles: n_articles,
        bcubed: Prf::new(bcubed_p, bcubed_r),
        pairwise: Prf::new(
            ratio_or_one(pairs_common, pairs_pred),
            ratio_or_one(pairs_common, pairs_true),
        ),
        pairs_true,
        pairs_pred,
        pairs_common,
        ari: adjusted_rand(n_articles, pairs_true, pairs_pred, pairs_common),
        nmi: normalized_mutual_information(n_articles, &cells, &true_sizes, &pred_sizes),
        clusters_true: true_sizes.iter().filter(|&&a| a > 0).count() as u64,
        clusters_pred: pred_sizes.iter().filter(|&&b| b > 0).count() as u64,
        unlabeled_true: truth.unlabeled() as u64,
        unlabeled_pred,
        missing,
        extra: pred.len() as u64 - matched,
    }
}

/// The adjusted Rand index from pair counts, in the pair-confusion form
/// `2 (tp·tn − fn·fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn))`, which equals Hubert and
/// Arabie's `(index − expected) / (max − expected)`. Exact in `i128` up to the division.
fn adjusted_rand(n: u64, pairs_true: u64, pairs_pred: u64, pairs_common: u64) -> f64 {
    let total = i128::from(pairs(n));
    let tp = i128::from(pairs_common);
    let fp = i128::from(pairs_pred) - tp;
    let fn_ = i128::from(pairs_true) - tp;
    let tn = total - tp - fp - fn_;
    if fp == 0 && fn_ == 0 {
        // Every pair agrees (this covers both sides all singletons, or both one cluster).
        return 1.0;
    }
    // Non-zero here: with fn > 0, (tp + fn)(fn + tn) > 0, and likewise for fp.
    let denominator = (tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn);
    (2 * (tp * tn - fn_ * fp)) as f64 / denominator as f64
}

/// Mutual information over the arithmetic mean of the entropies (natural logarithms; the base
/// cancels). 1 when both sides are a single cluster (or there are no articles), where the ratio
/// is 0/0.
fn normalized_mutual_information(
    n: u64,
    cells: &[(u32, u32, u64)],
    true_sizes: &[u64],
    pred_sizes: &[u64],
) -> f64 {
    let n = n as f64;
    let entropy = |sizes: &[u64]| -> f64 {
        sizes
            .iter()
            .filter(|&&s| s > 0)
            .map(|&s| {
                let share = s as f64 / n;
                -share * share.ln()
            })
            .sum()
    };
    let (h_true, h_pred) = (entropy(true_sizes), entropy(pred_sizes));
    let normalizer = (h_true + h_pred) / 2.0;
    if normalizer <= 0.0 {
        return 1.0;
    }
    let ln_n = n.ln();
    let mutual: f64 = cells
        .iter()
        .map(|&(t, p, count)| {
            let c = count as f64;
            c / n
                * (c.ln() + ln_n
                    - (true_sizes[t as usize] as f64).ln()
                    - (pred_sizes[p as usize] as f64).ln())
        })
        .sum();
    // Rounding can push the ratio a hair outside [0, 1].
    (mutual / normalizer).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A labeling of ids "0", "1", ... with the given labels (`None`: unlabeled).
    fn labeling(labels: &[Option<&str>]) -> Labeling {
        let mut l = Labeling::new();
        for (i, label) in labels.iter().enumerate() {
            assert!(l.insert(&i.to_string(), *label));
        }
        l
    }

    fn some(labels: &[&'static str]) -> Vec<Option<&'static str>> {
        labels.iter().map(|&l| Some(l)).collect()
    }

    /// Expected values of one case; `f64` fields compared to 1e-9.
    struct Want {
        bcubed: (f64, f64, f64),
        pairwise: (f64, f64, f64),
        ari: f64,
        nmi: f64,
        clusters: (u64, u64),
    }

    fn check(name: &str, truth: &[Option<&str>], pred: &[Option<&str>], want: Want) {
        let scores = evaluate(&labeling(truth), &labeling(pred));
        let close = |what: &str, got: f64, want: f64| {
            assert!(
                (got - want).abs() < 1e-9,
                "{name}: {what} is {got}, want {want}"
            );
        };
        close("B-cubed precision", scores.bcubed.precision, want.bcubed.0);
        close("B-cubed recall", scores.bcubed.recall, want.bcubed.1);
        close("B-cubed F1", scores.bcubed.f1, want.bcubed.2);
        close(
            "pairwise precision",
            scores.pairwise.precision,
            want.pairwise.0,
        );
        close("pairwise recall", scores.pairwise.recall, want.pairwise.1);
        close("pairwise F1", scores.pairwise.f1, want.pairwise.2);
        close("ARI", scores.ari, want.ari);
        close("NMI", scores.nmi, want.nmi);
        assert_eq!(
            (scores.clusters_pred, scores.clusters_true),
            want.clusters,
            "{name}: clusters (pred, true)"
        );
        assert_eq!(scores.articles, truth.len() as u64, "{name}: articles");
    }

    #[test]
    fn hand_computed_cases() {
        let two_pairs = some(&["s", "s", "t", "t"]);
        let perfect = |clusters: u64| Want {
            bcubed: (1.0, 1.0, 1.0),
            pairwise: (1.0, 1.0, 1.0),
            ari: 1.0,
            nmi: 1.0,
            clusters: (clusters, clusters),
        };

        // Identical partitions, whatever the label names.
        check(
            "identical",
            &two_pairs,
            &some(&["7", "7", "x", "x"]),
            perfect(2),
        );
        // Both all singletons (no pairs on either side: pairwise 1 by convention; ARI 1 as
        // every pair agrees; NMI: MI = H = ln 4 on both sides).
        check("both singletons", &[None; 4], &[None; 4], perfect(4));
        // Both one cluster (entropies 0: NMI 1 by convention).
        check(
            "both one cluster",
            &some(&["s"; 3]),
            &some(&["p"; 3]),
            perfect(1),
        );
        // One article.
        check("one article", &[Some("s")], &[None], perfect(1));

        // Truth {0,1} {2,3}; prediction all in one cluster.
        // B-cubed P: each article's cluster of 4 holds 2 of its story: 1/2. R: 1.
        // F1 = 2·½·1/(½+1) = 2/3.
        // Pairs: true 2, pred C(4,2) = 6, common 2: P = 1/3, R = 1, F1 = ½.
        // ARI: tp 2, fp 4, fn 0, tn 0: 2(2·0 − 0·4)/((2+0)(0+0) + (2+4)(4+0)) = 0.
        // NMI: H(pred) = 0, so MI = 0: NMI = 0.
        check(
            "all in one",
            &two_pairs,
            &some(&["p"; 4]),
            Want {
                bcubed: (0.5, 1.0, 2.0 / 3.0),
                pairwise: (1.0 / 3.0, 1.0, 0.5),
                ari: 0.0,
                nmi: 0.0,
                clusters: (1, 2),
            },
        );

        // Same truth; prediction all singletons.
        // B-cubed P 1; R: each article finds 1 of its 2: ½; F1 2/3.
        // Pairs: pred 0 (P = 1 by convention), common 0 (R = 0), F1 0.
        // ARI: tp 0, fp 0, fn 2, tn 4: 2(0·4 − 2·0)/((0+2)(2+4) + 0) = 0.
        // NMI: H(true) = ln 2, H(pred) = ln 4, MI = 4 · ¼ ln(4·1/(2·1)) = ln 2:
        // ln 2 / ((ln 2 + 2 ln 2)/2) = 2/3.
        let singletons = Want {
            bcubed: (1.0, 0.5, 2.0 / 3.0),
            pairwise: (1.0, 0.0, 0.0),
            ari: 0.0,
            nmi: 2.0 / 3.0,
            clusters: (4, 2),
        };
        check("all singletons", &two_pairs, &[None; 4], singletons);

        // The textbook example of Manning, Raghavan & Schütze, Introduction to Information
        // Retrieval, §16.3 (fig. 16.4): 17 items, classes x (8), o (5), d (4); clusters
        //   1: x x x x x o      2: x o o o o d      3: x x d d d
        // Contingency (rows x, o, d; columns 1, 2, 3): [5 1 2; 1 4 0; 0 1 3],
        // class sizes a = 8, 5, 4; cluster sizes b = 6, 6, 5.
        // B-cubed P = (26/6 + 18/6 + 13/5)/17 = 149/255 = 0.584313725…
        // B-cubed R = (30/8 + 17/5 + 10/4)/17 = 193/340 = 0.567647058…
        // B-cubed F1 = 2PR/(P+R) = 57514/99875 = 0.575859824…
        // Pairs (the book's numbers): TP 20, FP 20, FN 24, TN 72 of C(17,2) = 136:
        //   pairwise P = 20/40 = ½, R = 20/44 = 5/11, F1 = 2·½·5/11/(½+5/11) = 10/21.
        // ARI = 2(20·72 − 24·20)/((20+24)(24+72) + (20+20)(20+72)) = 1920/7904 = 60/247
        //     = 0.242914979…
        // NMI: the book gives 0.36; in full, MI = 0.391936620…, H(classes) = 1.055101618…,
        //   H(clusters) = 1.095077862…, MI / ((Hc + Hk)/2) = 0.364561771…
        let book_truth = some(&[
            "x", "x", "x", "x", "x", "o", //
            "x", "o", "o", "o", "o", "d", //
            "x", "x", "d", "d", "d",
        ]);
        let book_pred = some(&[
            "1", "1", "1", "1", "1", "1", //
            "2", "2", "2", "2", "2", "2", //
            "3", "3", "3", "3", "3",
        ]);
        check(
            "IR book example",
            &book_truth,
            &book_pred,
            Want {
                bcubed: (149.0 / 255.0, 193.0 / 340.0, 57514.0 / 99875.0),
                pairwise: (0.5, 5.0 / 11.0, 10.0 / 21.0),
                ari: 60.0 / 247.0,
                nmi: 0.364_561_771_857_189_85,
                clusters: (3, 3),
            },
        );
        // Swapping the sides swaps precision and recall and keeps ARI and NMI.
        check(
            "IR book example, sides swapped",
            &book_pred,
            &book_truth,
            Want {
                bcubed: (193.0 / 340.0, 149.0 / 255.0, 57514.0 / 99875.0),
                pairwise: (5.0 / 11.0, 0.5, 10.0 / 21.0),
                ari: 60.0 / 247.0,
                nmi: 0.364_561_771_857_189_85,
                clusters: (3, 3),
            },
        );
    }

    #[test]
    fn missing_unlabeled_and_extra_ids() {
        let truth = labeling(&some(&["s", "s", "t", "t"]));
        // Ids 1 and 3 missing, 2 unlabeled, "x" and "y" not in the truth: only "0" keeps its
        // label, so the prediction is all singletons (see the case above).
        let mut pred = Labeling::new();
        pred.insert("x", Some("p"));
        pred.insert("0", Some("p"));
        pred.insert("2", None);
        pred.insert("y", Some("p"));
        let scores = evaluate(&truth, &pred);
        assert_eq!(scores.missing, vec!["1".to_string(), "3".to_string()]);
        assert_eq!(scores.extra, 2);
        assert_eq!(scores.unlabeled_pred, 1);
        assert_eq!(scores.unlabeled_true, 0);
        assert_eq!(scores.clusters_pred, 4);
        assert_eq!(scores.bcubed, Prf::new(1.0, 0.5));
        assert_eq!(scores.pairs_pred, 0);

        // An empty prediction: every truth id missing, scored as singletons.
        let scores = evaluate(&truth, &Labeling::new());
        assert_eq!(scores.missing.len(), 4);
        assert_eq!(scores.bcubed, Prf::new(1.0, 0.5));

        // Duplicate ids are refused and change nothing.
        let mut l = Labeling::new();
        assert!(l.insert("a", Some("s")));
        assert!(!l.insert("a", Some("t")));
        assert_eq!((l.len(), l.unlabeled()), (1, 0));

        // An empty truth scores 1.
        let scores = evaluate(&Labeling::new(), &pred);
        assert_eq!((scores.articles, scores.extra), (0, 4));
        assert_eq!((scores.bcubed.f1, scores.ari, scores.nmi), (1.0, 1.0, 1.0));
    }

    /// The naive oracle: every pair of articles, and every article's clusters, enumerated.
    #[allow(clippy::type_complexity, reason = "a test oracle's tuple of results")]
    fn naive(truth: &[u32], pred: &[u32]) -> (f64, f64, u64, u64, u64, f64, f64) {
        let n = truth.len();
        let (mut p, mut r) = (0.0, 0.0);
        for i in 0..n {
            let both = (0..n)
                .filter(|&j| truth[j] == truth[i] && pred[j] == pred[i])
                .count() as f64;
            p += both / (0..n).filter(|&j| pred[j] == pred[i]).count() as f64;
            r += both / (0..n).filter(|&j| truth[j] == truth[i]).count() as f64;
        }
        let (mut tp, mut same_true, mut same_pred) = (0u64, 0u64, 0u64);
        for i in 0..n {
            for j in i + 1..n {
                let (st, sp) = (truth[i] == truth[j], pred[i] == pred[j]);
                same_true += u64::from(st);
                same_pred += u64::from(sp);
                tp += u64::from(st && sp);
            }
        }
        // ARI from Hubert & Arabie's form (a different formula from the one under test).
        let total = (n * (n - 1) / 2) as f64;
        let expected = same_true as f64 * same_pred as f64 / total;
        let max = (same_true + same_pred) as f64 / 2.0;
        let ari = if max == expected {
            1.0
        } else {
            (tp as f64 - expected) / (max - expected)
        };
        // NMI from probabilities of (true, pred) label pairs, counted in maps.
        let mut joint: HashMap<(u32, u32), f64> = HashMap::new();
        let (mut pt, mut pp): (HashMap<u32, f64>, HashMap<u32, f64>) = Default::default();
        for i in 0..n {
            *joint.entry((truth[i], pred[i])).or_default() += 1.0 / n as f64;
            *pt.entry(truth[i]).or_default() += 1.0 / n as f64;
            *pp.entry(pred[i]).or_default() += 1.0 / n as f64;
        }
        let h = |m: &HashMap<u32, f64>| -m.values().map(|q| q * q.ln()).sum::<f64>();
        let mi: f64 = joint
            .iter()
            .map(|(&(t, p), &q)| q * (q / (pt[&t] * pp[&p])).ln())
            .sum();
        let (ht, hp) = (h(&pt), h(&pp));
        let nmi = if ht + hp == 0.0 {
            1.0
        } else {
            mi / ((ht + hp) / 2.0)
        };
        (
            p / n as f64,
            r / n as f64,
            tp,
            same_true,
            same_pred,
            ari,
            nmi,
        )
    }

    #[test]
    fn contingency_counts_equal_pair_enumeration() {
        // A small deterministic generator (64-bit LCG) for random labelings.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |bound: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % bound
        };
        for case in 0..200 {
            let n = 2 + next(60) as usize;
            let (k_true, k_pred) = (1 + next(12), 1 + next(12));
            let truth: Vec<u32> = (0..n).map(|_| next(k_true) as u32).collect();
            let pred: Vec<u32> = (0..n).map(|_| next(k_pred) as u32).collect();
            let texts = |v: &[u32]| v.iter().map(|l| l.to_string()).collect::<Vec<_>>();
            let (t_text, p_text) = (texts(&truth), texts(&pred));
            let scores = evaluate(
                &labeling(&t_text.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>()),
                &labeling(&p_text.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>()),
            );
            let (p, r, tp, same_true, same_pred, ari, nmi) = naive(&truth, &pred);
            assert!((scores.bcubed.precision - p).abs() < 1e-12, "case {case}");
            assert!((scores.bcubed.recall - r).abs() < 1e-12, "case {case}");
            assert_eq!(
                (scores.pairs_common, scores.pairs_true, scores.pairs_pred),
                (tp, same_true, same_pred),
                "case {case}"
            );
            assert!(
                (scores.ari - ari).abs() < 1e-9,
                "case {case}: {} vs {ari}",
                scores.ari
            );
            assert!(
                (scores.nmi - nmi.clamp(0.0, 1.0)).abs() < 1e-9,
                "case {case}: {} vs {nmi}",
                scores.nmi
            );
        }
    }

    #[test]
    fn scales_to_400k_articles() {
        // 400 k articles in stories of 4, predicted as pairs: exact pair counts, no overflow.
        let n = 400_000u32;
        let mut truth = Labeling::new();
        let mut pred = Labeling::new();
        for i in 0..n {
            let id = i.to_string();
            truth.insert(&id, Some(&(i / 4).to_string()));
            pred.insert(&id, Some(&(i / 2).to_string()));
        }
        let scores = evaluate(&truth, &pred);
        assert_eq!(scores.pairs_true, 100_000 * 6);
        assert_eq!(scores.pairs_pred, 200_000);
        assert_eq!(scores.pairs_common, 200_000);
        assert_eq!(scores.bcubed, Prf::new(1.0, 0.5));
        assert_eq!(
            (scores.clusters_true, scores.clusters_pred),
            (100_000, 200_000)
        );
        assert!(scores.ari > 0.0 && scores.ari < 1.0);
    }
}
