//! Clustering: verified edges to near-duplicate clusters, each with a kept article.
//!
//! Union-find over the edges gives connected components. In each component of two or more the
//! kept (canonical) article is chosen by a [`KeepRule`], ties going to the article seen first,
//! and every member's estimated similarity to it is reported, so a chain (A~B, B~C, A≁C) is
//! visible. With `split_chains`, members below the threshold to the kept article leave its
//! cluster and are clustered again among themselves.
//!
//! Clusters are numbered in the order of their first member in the input, so ids are stable
//! for a given input and parameters, whatever the thread count.

use crate::ingest::Article;
use crate::minhash::{PairEstimates, Signatures};

/// Which article of a cluster is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeepRule {
    /// The earliest published (articles without a date come last).
    Earliest,
    /// The one with the longest text.
    Longest,
    /// The one seen first in the input.
    First,
}

/// Validated clustering parameters.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Jaccard threshold.
    pub threshold: f64,
    /// Which article is kept.
    pub keep: KeepRule,
    /// Outlets preferred as the kept copy, best first (before the keep rule applies); a name
    /// matches an article's outlet whatever the case ([`same_outlet`]).
    pub prefer_sources: Vec<String>,
    /// Split members below the threshold to the kept article into clusters of their own.
    pub split_chains: bool,
}

/// One near-duplicate cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// The cluster's id in outputs: its position, or with an index its id there.
    pub id: u32,
    /// The kept article.
    pub canonical: u32,
    /// All members in input order, the kept one included.
    pub members: Vec<u32>,
}

/// The clusters of a run and each document's place in them.
#[derive(Debug, Clone, Default)]
pub struct Clusters {
    /// Clusters of two or more, in order of their first member.
    pub clusters: Vec<Cluster>,
    /// Per document: the index of its cluster, if in one.
    pub cluster_of: Vec<Option<u32>>,
    /// (member, estimated similarity to its cluster's kept article), by member: only the
    /// documents in clusters, where a table of every document took 16 bytes an article.
    similarity: Vec<(u32, f64)>,
    /// Members whose similarity to the kept article is below the threshold (chains).
    pub below_threshold: usize,
}

impl Clusters {
    /// Document `doc`'s estimated similarity to its cluster's kept article (1 for the kept one),
    /// if it is in a cluster.
    pub fn similarity(&self, doc: usize) -> Option<f64> {
        self.cluster_of.get(doc).copied().flatten()?;
        let at = self
            .similarity
            .binary_search_by_key(&(doc as u32), |&(d, _)| d)
            .ok()?;
        Some(self.similarity[at].1)
    }

    /// The clusters as seen from the first `n` documents only (an index run's tonight): the
    /// same clusters in the same positions, members past `n` left out, and the kept article
    /// replaced by the first remaining member where it lies past `n`.
    pub fn restricted(&self, n: usize) -> Clusters {
        Clusters {
            clusters: self
                .clusters
                .iter()
                .map(|c| {
                    let members: Vec<u32> = c
                        .members
                        .iter()
                        .copied()
                        .filter(|&d| (d as usize) < n)
                        .collect();
                    Cluster {
                        id: c.id,
                        canonical: if (c.canonical as usize) < n {
                            c.canonical
                        } else {
                            members[0]
                        },
                        members,
                    }
                })
                .collect(),
            cluster_of: self.cluster_of[..n].to_vec(),
            similarity: self
                .similarity
                .iter()
                .copied()
                .filter(|&(d, _)| (d as usize) < n)
                .collect(),
            below_threshold: self.below_threshold,
        }
    }
}

/// Union-find with path halving and union by size.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    /// The representative of `x`.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Joins the sets of `a` and `b`.
    pub fn union(&mut self, a: u32, b: u32) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
    }
}

/// Groups of two or more connected by `edges`, each in input order, ordered by first member.
///
/// Only the documents that some edge names take part: a run of a million articles with a
/// tenth of them in pairs does not build million-long tables.
pub fn components(n_docs: usize, edges: &[(u32, u32)]) -> Vec<Vec<u32>> {
    let mut docs: Vec<u32> = edges.iter().flat_map(|&(a, b)| [a, b]).collect();
    docs.sort_unstable();
    docs.dedup();
    if let Some(&last) = docs.last() {
        assert!(
            (last as usize) < n_docs,
            "edge to document {last} of {n_docs}"
        );
    }
    let local = |d: u32| {
        docs.binary_search(&d)
            .expect("every edge's documents are listed") as u32
    };
    let mut uf = UnionFind::new(docs.len());
    for &(a, b) in edges {
        uf.union(local(a), local(b));
    }
    let mut group_of_root: Vec<u32> = vec![u32::MAX; docs.len()];
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for (i, &doc) in docs.iter().enumerate() {
        let root = uf.find(i as u32) as usize;
        if uf.size[root] < 2 {
            continue;
        }
        if group_of_root[root] == u32::MAX {
            group_of_root[root] = groups.len() as u32;
            groups.push(Vec::new());
        }
        groups[group_of_root[root] as usize].push(doc);
    }
    groups
}

/// [`components`] over a table of every document: its test oracle.
#[cfg(test)]
fn components_naive(n_docs: usize, edges: &[(u32, u32)]) -> Vec<Vec<u32>> {
    let mut uf = UnionFind::new(n_docs);
    for &(a, b) in edges {
        uf.union(a, b);
    }
    let mut groups: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
    for doc in 0..n_docs as u32 {
        let root = uf.find(doc);
        groups.entry(root).or_default().push(doc);
    }
    let mut groups: Vec<Vec<u32>> = groups.into_values().filter(|g| g.len() >= 2).collect();
    groups.sort();
    groups
}

/// Whether two outlet names are the same outlet: equal but for case (`C.com` is `c.com`).
pub fn same_outlet(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || (!a.is_ascii() && a.to_lowercase() == b.to_lowercase())
}

fn choose_canonical(members: &[u32], articles: &[Article], config: &ClusterConfig) -> u32 {
    let preference = |doc: u32| {
        let source = articles[doc as usize].source();
        config
            .prefer_sources
            .iter()
            .position(|p| source.is_some_and(|s| same_outlet(p, s)))
            .unwrap_or(config.prefer_sources.len())
    };
    *members
        .iter()
        .min_by_key(|&&doc| {
            let a = &articles[doc as usize];
            let rule_key = match config.keep {
                KeepRule::Earliest => (a.published().is_none(), a.published().unwrap_or(0)),
                KeepRule::Longest => (false, -i64::from(a.text_chars)),
                KeepRule::First => (false, 0),
            };
            (preference(doc), rule_key, doc)
        })
        .expect("clusters have members")
}

/// True when `edges` (sorted pairs `(a, b)`, `a < b`) joins `x` and `y`.
pub fn has_edge(edges: &[(u32, u32)], x: u32, y: u32) -> bool {
    edges.binary_search(&(x.min(y), x.max(y))).is_ok()
}

/// The edges (sorted pairs `(a, b)` with `a < b`) between members of `docs` (sorted), as pairs
/// of positions in `docs`, in the order of `edges`.
///
/// Each member's edges to later documents lie together in `edges`: they are found by binary
/// search, so the cost follows the members' edges, not all of them (a chain split again and
/// again, such as the snapshots of a live blog, used to scan every edge of the run per split).
fn edges_among(edges: &[(u32, u32)], docs: &[u32]) -> Vec<(u32, u32)> {
    let mut local = Vec::new();
    for (i, &a) in docs.iter().enumerate() {
        let start = edges.partition_point(|e| e.0 < a);
        for &(_, b) in edges[start..].iter().take_while(|e| e.0 == a) {
            if let Ok(j) = docs.binary_search(&b) {
                local.push((i as u32, j as u32));
            }
        }
    }
    local
}

/// Builds clusters from verified edges (sorted pairs `(a, b)` with `a < b`), with the
/// estimates of signatures in memory.
pub fn cluster(
    articles: &[Article],
    sigs: &Signatures,
    edges: &[(u32, u32)],
    config: &ClusterConfig,
) -> Clusters {
    cluster_with(articles, &mut &*sigs, edges, &[], &[], config, &|_| None)
        .expect("estimates from rows in memory read nothing")
}

/// [`cluster`], with the estimates from `estimates` (which may read signatures back from a
/// spill file, hence the error), the kept article of a component chosen by `fixed` where it
/// returns one (an index's clusters keep the copy an earlier night kept), and `links` (sorted
/// pairs, as `edges`) joining components without being verified pairs: those that hold an
/// earlier night's cluster together. Only `edges` count as verified (a member joined to the
/// kept copy by one is near it, whatever its estimate), and `verified_before` (sorted pairs,
/// as `edges`): pairs an earlier night verified, which join nothing but are near as edges are.
///
/// Estimates are asked for in batches: every member against its kept article, once for the
/// report and, with `split_chains`, once per round of splitting for all the clusters split in
/// it (the far members of each regroup by their edges and are clustered again in the next).
pub fn cluster_with(
    articles: &[Article],
    estimates: &mut dyn PairEstimates,
    edges: &[(u32, u32)],
    links: &[(u32, u32)],
    verified_before: &[(u32, u32)],
    config: &ClusterConfig,
    fixed: &dyn Fn(&[u32]) -> Option<u32>,
) -> std::io::Result<Clusters> {
    let n_docs = articles.len();
    let mut out = Clusters {
        cluster_of: vec![None; n_docs],
        ..Clusters::default()
    };
    let joined: std::borrow::Cow<'_, [(u32, u32)]> = if links.is_empty() {
        std::borrow::Cow::Borrowed(edges)
    } else {
        let mut all = [edges, links].concat();
        all.sort_unstable();
        all.dedup();
        std::borrow::Cow::Owned(all)
    };
    // A member joined to the kept article by a verified pair (perhaps decided on exact
    // Jaccard) is near it, whatever its estimate.
    let verified = |doc: u32, canonical: u32| {
        doc == canonical
            || has_edge(edges, doc, canonical)
            || has_edge(verified_before, doc, canonical)
    };
    let mut pending = components(n_docs, &joined);
    let mut finished: Vec<Cluster> = Vec::new();
    while !pending.is_empty() {
        let canonicals: Vec<u32> = pending
            .iter()
            .map(|members| {
                fixed(members).unwrap_or_else(|| choose_canonical(members, articles, config))
            })
            .collect();
        if !config.split_chains {
            finished.extend(
                pending
                    .drain(..)
                    .zip(canonicals)
                    .map(|(members, canonical)| Cluster {
                        id: 0,
                        canonical,
                        members,
                    }),
            );
            break;
        }
        // Otherwise a member is near the kept article if the signatures estimate them at or
        // above the threshold.
        let asked: Vec<(u32, u32)> = pending
            .iter()
            .zip(&canonicals)
            .flat_map(|(members, &c)| {
                members
                    .iter()
                    .filter(move |&&d| !verified(d, c))
                    .map(move |&d| (d, c))
            })
            .collect();
        let mut answers = estimates.estimates(&asked)?.into_iter();
        let mut next = Vec::new();
        for (members, canonical) in pending.drain(..).zip(canonicals) {
            let (near, far): (Vec<u32>, Vec<u32>) = members.into_iter().partition(|&d| {
                verified(d, canonical)
                    || answers.next().expect("an estimate per pair asked") >= config.threshold
            });
            if !far.is_empty() {
                // The far members regroup by the edges among themselves.
                let local = edges_among(&joined, &far);
                for group in components(far.len(), &local) {
                    next.push(group.into_iter().map(|i| far[i as usize]).collect());
                }
            }
            if near.len() >= 2 {
                finished.push(Cluster {
                    id: 0,
                    canonical,
                    members: near,
                });
            }
        }
        pending = next;
    }
    finished.sort_by_key(|c| c.members[0]);
    let asked: Vec<(u32, u32)> = finished
        .iter()
        .flat_map(|c| {
            c.members
                .iter()
                .filter(move |&&d| d != c.canonical)
                .map(move |&d| (d, c.canonical))
        })
        .collect();
    let mut answers = estimates.estimates(&asked)?.into_iter();
    drop(asked);
    for (idx, c) in finished.iter_mut().enumerate() {
        c.id = idx as u32;
        for &doc in &c.members {
            out.cluster_of[doc as usize] = Some(idx as u32);
            let s = if doc == c.canonical {
                1.0
            } else {
                answers.next().expect("an estimate per pair asked")
            };
            if s < config.threshold
                && !has_edge(edges, doc, c.canonical)
                && !has_edge(verified_before, doc, c.canonical)
            {
                out.below_threshold += 1;
            }
            out.similarity.push((doc, s));
        }
    }
    out.similarity.sort_unstable_by_key(|&(d, _)| d);
    out.clusters = finished;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{ArticleFields, ArticleId, LineLocation};
    use crate::minhash::{ReadBack, estimate_jaccard};

    fn article(id: &str, published: Option<i64>, chars: u32, source: &str) -> Article {
        Article::new(ArticleFields {
            id: ArticleId::Str(id.into()).as_ref(),
            title: None,
            source: Some(std::sync::Arc::new(source.to_string())),
            url: None,
            published,
            date_only: false,
            text_chars: chars,
            location: LineLocation {
                input: 0,
                line: 1,
                offset: 0,
                len: 0,
            },
        })
    }

    fn config(keep: KeepRule) -> ClusterConfig {
        ClusterConfig {
            threshold: 0.5,
            keep,
            prefer_sources: vec![],
            split_chains: false,
        }
    }

    /// Signatures of k = 4 with given rows.
    fn sigs(rows: &[[u32; 4]]) -> Signatures {
        let mut s = Signatures::new(4);
        for r in rows {
            s.extend_from_block(r);
        }
        s
    }

    /// Pseudo-random numbers below `n` (xorshift64 from `seed`, not zero).
    fn below(mut state: u64) -> impl FnMut(u64) -> u32 {
        move |n| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n) as u32
        }
    }

    /// `n` rows of `k` slots, each agreeing with one of three templates on a random share of its
    /// slots (the rest its own).
    fn template_rows(n: u32, k: usize, next: &mut impl FnMut(u64) -> u32) -> Vec<u32> {
        (0..n)
            .flat_map(|d| {
                let (template, agree) = (next(3), next(k as u64 + 1));
                (0..k as u32).map(move |i| {
                    if i < agree {
                        template * 100 + i
                    } else {
                        10_000 + d * 100 + i
                    }
                })
            })
            .collect()
    }

    /// Random sparse graphs: the components over edge documents equal those over every document.
    #[test]
    fn components_equal_the_table_of_every_document() {
        let mut next = below(0x9E37_79B9_7F4A_7C15);
        for n_docs in [1u64, 2, 10, 100, 1000] {
            for n_edges in [0, 1, 5, 50, 400] {
                let edges: Vec<(u32, u32)> =
                    (0..n_edges).map(|_| (next(n_docs), next(n_docs))).collect();
                assert_eq!(
                    components(n_docs as usize, &edges),
                    components_naive(n_docs as usize, &edges),
                    "{n_docs} documents, {n_edges} edges"
                );
            }
        }
    }

    /// Edges among a subset, found member by member, equal the filter over every edge.
    #[test]
    fn edges_among_equal_the_filter_over_every_edge() {
        let mut next = below(0x2545_F491_4F6C_DD1D);
        for n_docs in [2u64, 10, 100, 1000] {
            for n_edges in [0, 1, 5, 50, 400, 3000] {
                let mut edges: Vec<(u32, u32)> = (0..n_edges)
                    .map(|_| (next(n_docs), next(n_docs)))
                    .filter(|&(a, b)| a != b)
                    .map(|(a, b)| (a.min(b), a.max(b)))
                    .collect();
                edges.sort_unstable();
                edges.dedup();
                for keep_one_in in [1, 2, 5] {
                    let docs: Vec<u32> = (0..n_docs as u32)
                        .filter(|_| next(keep_one_in) == 0)
                        .collect();
                    let index_of = |d: u32| docs.binary_search(&d).ok();
                    let naive: Vec<(u32, u32)> = edges
                        .iter()
                        .filter_map(|&(a, b)| Some((index_of(a)? as u32, index_of(b)? as u32)))
                        .collect();
                    assert_eq!(
                        edges_among(&edges, &docs),
                        naive,
                        "{n_docs} documents, {n_edges} edges, 1 in {keep_one_in}"
                    );
                }
            }
        }
    }

    #[test]
    fn components_in_input_order() {
        let groups = components(6, &[(4, 5), (0, 3), (3, 1)]);
        assert_eq!(groups, vec![vec![0, 1, 3], vec![4, 5]]);
    }

    #[test]
    fn keep_rules() {
        let articles = vec![
            article("a", Some(300), 10, "x"),
            article("b", Some(100), 5, "y"),
            article("c", None, 50, "z"),
        ];
        let s = sigs(&[[1, 2, 3, 4]; 3]);
        let edges = [(0, 1), (1, 2)];
        // (rule, preferred sources, expected kept doc)
        let cases = [
            (KeepRule::Earliest, vec![], 1),
            (KeepRule::Longest, vec![], 2),
            (KeepRule::First, vec![], 0),
            (KeepRule::Earliest, vec!["z".to_string()], 2),
        ];
        for (rule, prefer, expected) in cases {
            let mut cfg = config(rule);
            cfg.prefer_sources = prefer;
            let c = cluster(&articles, &s, &edges, &cfg);
            assert_eq!(c.clusters.len(), 1);
            assert_eq!(c.clusters[0].canonical, expected, "{rule:?}");
        }
    }

    #[test]
    fn ties_go_to_the_first_seen() {
        let articles = vec![article("a", Some(1), 5, "x"), article("b", Some(1), 5, "x")];
        let c = cluster(
            &articles,
            &sigs(&[[1, 2, 3, 4]; 2]),
            &[(0, 1)],
            &config(KeepRule::Earliest),
        );
        assert_eq!(c.clusters[0].canonical, 0);
    }

    /// A pair verified on exact Jaccard stays together even when its signatures estimate it
    /// below the threshold: the estimate never overrules a verified edge.
    #[test]
    fn verified_edges_are_never_split_as_chains() {
        let articles: Vec<Article> = ["a", "b"]
            .iter()
            .map(|id| article(id, None, 1, "x"))
            .collect();
        let s = sigs(&[[1, 2, 3, 4], [1, 2, 8, 9]]);
        let mut cfg = config(KeepRule::First);
        cfg.threshold = 0.75;
        cfg.split_chains = true;
        let c = cluster(&articles, &s, &[(0, 1)], &cfg);
        assert_eq!(c.clusters.len(), 1);
        assert_eq!(c.below_threshold, 0);
    }

    /// Clustering with estimates read back from a spill file, part by part, gives what it gives
    /// with every row in memory: the clusters, their kept articles, the similarities and the
    /// count below the threshold, chains split or not (into more clusters here).
    #[test]
    fn estimates_read_back_cluster_as_rows_in_memory() {
        let (k, n) = (8usize, 80u32);
        let mut next = below(0x51_7CC1_B727_220A);
        let articles: Vec<Article> = (0..n)
            .map(|d| {
                article(
                    &format!("d{d}"),
                    Some(i64::from(next(50))),
                    1 + next(9),
                    "x",
                )
            })
            .collect();
        let rows = template_rows(n, k, &mut next);
        let mut in_memory = Signatures::new(k);
        in_memory.extend_from_block(&rows);
        let mut spilled = Signatures::with_block_docs(k, 4);
        spilled.spill_to(tempfile::tempfile().unwrap());
        for row in rows.chunks(k) {
            spilled.extend_from_block(row);
            spilled.spill_full_blocks().unwrap();
        }
        spilled.finish_appending();
        // Long chains: each document linked to a few later ones.
        let mut edges: Vec<(u32, u32)> = (0..n - 1)
            .flat_map(|a| [(a, a + 1 + next(3)), (a, a + 1 + next(12))])
            .filter(|&(_, b)| b < n)
            .collect();
        edges.sort_unstable();
        edges.dedup();
        let mut count = [0; 2];
        for split_chains in [false, true] {
            let mut cfg = config(KeepRule::Earliest);
            cfg.split_chains = split_chains;
            let want = cluster(&articles, &in_memory, &edges, &cfg);
            for part_rows in [1, 3, n as usize] {
                let mut from_file = ReadBack {
                    sigs: &mut spilled,
                    part_bytes: part_rows * k * 2,
                };
                let got =
                    cluster_with(&articles, &mut from_file, &edges, &[], &[], &cfg, &|_| None)
                        .unwrap();
                assert_eq!(
                    got.clusters, want.clusters,
                    "split {split_chains}, {part_rows}"
                );
                assert_eq!(got.cluster_of, want.cluster_of);
                assert_eq!(got.similarity, want.similarity);
                assert_eq!(got.below_threshold, want.below_threshold);
            }
            count[usize::from(split_chains)] = want.clusters.len();
        }
        assert!(
            count[1] > count[0] + 3,
            "clusters unsplit and split: {count:?}"
        );
    }

    /// The clustering of 5ef9d22, which took each component from a stack and asked the
    /// signatures for one estimate at a time: the oracle of the rounds in [`cluster_with`].
    fn cluster_stack_oracle(
        articles: &[Article],
        sigs: &Signatures,
        edges: &[(u32, u32)],
        links: &[(u32, u32)],
        verified_before: &[(u32, u32)],
        config: &ClusterConfig,
        fixed: &dyn Fn(&[u32]) -> Option<u32>,
    ) -> Clusters {
        let n_docs = articles.len();
        let mut out = Clusters {
            cluster_of: vec![None; n_docs],
            ..Clusters::default()
        };
        let joined: std::borrow::Cow<'_, [(u32, u32)]> = if links.is_empty() {
            std::borrow::Cow::Borrowed(edges)
        } else {
            let mut all = [edges, links].concat();
            all.sort_unstable();
            all.dedup();
            std::borrow::Cow::Owned(all)
        };
        let mut pending = components(n_docs, &joined);
        pending.reverse();
        let mut finished: Vec<Cluster> = Vec::new();
        while let Some(members) = pending.pop() {
            let canonical =
                fixed(&members).unwrap_or_else(|| choose_canonical(&members, articles, config));
            // A member is near the kept article if a verified edge joins them (perhaps decided on
            // exact Jaccard) or if the signatures estimate them at or above the threshold.
            let is_near = |doc: u32| {
                doc == canonical
                    || has_edge(edges, doc, canonical)
                    || has_edge(verified_before, doc, canonical)
                    || estimate_jaccard(sigs.get(doc as usize), sigs.get(canonical as usize))
                        >= config.threshold
            };
            if config.split_chains {
                let (near, far): (Vec<u32>, Vec<u32>) = members.iter().partition(|&&d| is_near(d));
                if !far.is_empty() {
                    // The far members regroup by the edges among themselves.
                    let local = edges_among(&joined, &far);
                    for group in components(far.len(), &local) {
                        pending.push(group.into_iter().map(|i| far[i as usize]).collect());
                    }
                }
                if near.len() >= 2 {
                    finished.push(Cluster {
                        id: 0,
                        canonical,
                        members: near,
                    });
                }
            } else {
                finished.push(Cluster {
                    id: 0,
                    canonical,
                    members,
                });
            }
        }
        finished.sort_by_key(|c| c.members[0]);
        for (idx, c) in finished.iter_mut().enumerate() {
            c.id = idx as u32;
            for &doc in &c.members {
                out.cluster_of[doc as usize] = Some(idx as u32);
                let s = if doc == c.canonical {
                    1.0
                } else {
                    estimate_jaccard(sigs.get(doc as usize), sigs.get(c.canonical as usize))
                };
                if s < config.threshold
                    && !has_edge(edges, doc, c.canonical)
                    && !has_edge(verified_before, doc, c.canonical)
                {
                    out.below_threshold += 1;
                }
                out.similarity.push((doc, s));
            }
        }
        out.similarity.sort_unstable_by_key(|&(d, _)| d);
        out.clusters = finished;
        out
    }

    /// Links, pairs verified before, and the kept copy fixed for a component.
    type History<'a> = (
        &'a [(u32, u32)],
        &'a [(u32, u32)],
        &'a dyn Fn(&[u32]) -> Option<u32>,
    );

    /// Clustering in rounds with batches of estimates gives what the stack gave: random
    /// chains, links joining components, pairs verified before, kept copies fixed for some
    /// components, thresholds at which chains split or not, every keep rule.
    #[test]
    fn rounds_cluster_as_the_stack_did() {
        let (k, n) = (8usize, 120u32);
        let mut next = below(0x2F0B_3A49_C1D5_7E63);
        let articles: Vec<Article> = (0..n)
            .map(|d| {
                let date = (next(4) > 0).then(|| i64::from(next(40)));
                article(
                    &format!("d{d}"),
                    date,
                    1 + next(9),
                    ["x", "y"][next(2) as usize],
                )
            })
            .collect();
        let rows = template_rows(n, k, &mut next);
        let mut sigs = Signatures::new(k);
        sigs.extend_from_block(&rows);
        let mut random_pairs = |count: usize, reach: u64| {
            let mut pairs: Vec<(u32, u32)> = (0..count)
                .map(|_| {
                    let a = next(u64::from(n) - 1);
                    (a, (a + 1 + next(reach)).min(n - 1))
                })
                .collect();
            pairs.sort_unstable();
            pairs.dedup();
            pairs
        };
        let edges = random_pairs(150, 6);
        let links = random_pairs(10, 30);
        let verified_before = random_pairs(60, 10);
        // An earlier night's kept copy for components of odd size: their last member.
        let fixed = |members: &[u32]| (members.len() % 2 == 1).then(|| *members.last().unwrap());
        let none = |_: &[u32]| None;
        let mut cases = 0;
        for threshold in [0.5, 0.75] {
            for keep in [KeepRule::Earliest, KeepRule::Longest, KeepRule::First] {
                for split_chains in [false, true] {
                    let cfg = ClusterConfig {
                        threshold,
                        keep,
                        prefer_sources: vec!["y".into()],
                        split_chains,
                    };
                    let with: [History<'_>; 2] =
                        [(&[], &[], &none), (&links, &verified_before, &fixed)];
                    for (links, before, fixed) in with {
                        let want = cluster_stack_oracle(
                            &articles, &sigs, &edges, links, before, &cfg, fixed,
                        );
                        let got =
                            cluster_with(&articles, &mut &sigs, &edges, links, before, &cfg, fixed)
                                .unwrap();
                        let case = format!("{threshold} {keep:?} split {split_chains}");
                        assert_eq!(got.clusters, want.clusters, "{case}");
                        assert_eq!(got.cluster_of, want.cluster_of, "{case}");
                        assert_eq!(got.similarity, want.similarity, "{case}");
                        assert_eq!(got.below_threshold, want.below_threshold, "{case}");
                        cases += usize::from(split_chains && got.clusters.len() > 10);
                    }
                }
            }
        }
        assert!(cases >= 6, "splits with more than ten clusters: {cases}");
    }

    #[test]
    fn chains_are_reported_and_split_on_request() {
        // 0~1 (3/4 slots), 1~2 (3/4), but 0 vs 2 only 2/4: a chain at threshold 0.75.
        let articles: Vec<Article> = ["a", "b", "c", "d"]
            .iter()
            .map(|id| article(id, None, 1, "x"))
            .collect();
        let s = sigs(&[[1, 2, 3, 4], [1, 2, 3, 9], [1, 2, 8, 9], [1, 2, 8, 9]]);
        let edges = [(0, 1), (1, 2), (2, 3)];
        let mut cfg = config(KeepRule::First);
        cfg.threshold = 0.75;
        let c = cluster(&articles, &s, &edges, &cfg);
        assert_eq!(c.clusters.len(), 1);
        assert_eq!(c.below_threshold, 2);
        assert_eq!(c.similarity(2), Some(0.5));
        cfg.split_chains = true;
        let c = cluster(&articles, &s, &edges, &cfg);
        let groups: Vec<Vec<u32>> = c.clusters.iter().map(|c| c.members.clone()).collect();
        assert_eq!(groups, vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(c.below_threshold, 0);
    }
}
