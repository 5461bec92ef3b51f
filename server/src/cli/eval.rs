//! `paper-ls eval-related`: how good and how fast related papers are, on a
//! corpus whose papers carry arXiv categories. Quality is the share of each
//! sampled paper's top 5 related papers that have the sample's primary
//! category (the first one listed); speed is the latency of one query. With
//! `--model`, tf-idf, the embeddings and their fusions are measured side by
//! side on the same sampled papers, overall and per category; with
//! `--meaning-only`, the embeddings' two rankings alone, fast enough for
//! every paper of a 75,000-paper corpus to be a query (`--sample 0`).

use super::commands::{load_corpus, open_index};
use super::CorpusArgs;
use crate::index::embeddings::related::{rank, Ranking, FUSION_CANDIDATES};
use crate::index::embeddings::{model_identity, CorpusVectors, Encoder};
use crate::index::PaperSearch;
use anyhow::bail;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

const TOP: usize = 5;

/// Categories with fewer sampled papers than this are left out of the mean
/// over categories: a share from a handful of papers is mostly noise.
const CATEGORY_MEAN_FROM: usize = 10;

/// The rankings compared when embeddings are given.
const RANKINGS: [(&str, Ranking); 7] = [
    ("tf-idf", Ranking::Words),
    ("embeddings", Ranking::Meaning),
    ("centred", Ranking::Centred),
    ("fused 0.1", Ranking::Fused { weight: 0.1 }),
    ("fused 0.25", Ranking::Fused { weight: 0.25 }),
    ("fused 0.5", Ranking::Fused { weight: 0.5 }),
    ("fused 1.0", Ranking::Fused { weight: 1.0 }),
];

pub fn eval_related(
    args: &CorpusArgs,
    cache: &crate::corpus::Cache,
    sample: usize,
    model: Option<(&Path, Option<usize>)>,
    meaning_only: bool,
    out: Option<&Path>,
) -> anyhow::Result<i32> {
    let corpus = load_corpus(args, cache)?;
    let candidates: Vec<usize> = (0..corpus.papers.len())
        .filter(|&i| !corpus.paper(i).categories.is_empty())
        .collect();
    if candidates.len() < 2 {
        bail!("the corpus has no papers with categories (an arXiv JSON Lines dump has them)");
    }
    let index = (!meaning_only).then(|| open_index(&corpus, cache));
    let vectors = match model {
        Some((folder, max_tokens)) => {
            let mut encoder = Encoder::load(folder)?;
            if let Some(n) = max_tokens {
                encoder = encoder.with_max_tokens(n);
            }
            let vectors =
                CorpusVectors::restore(&corpus, &encoder, model_identity(folder)?, cache.dir());
            if !vectors.missing.is_empty() {
                bail!(
                    "{} of {} papers have no embedding yet: run `paper-ls embed` with the same corpus and model first",
                    vectors.missing.len(),
                    corpus.papers.len()
                );
            }
            let mut vectors = vectors.vectors;
            vectors.centre();
            Some(vectors)
        }
        None => None,
    };
    // Each ranking that what was loaded can compute: words need the index,
    // the others the vectors.
    let rankings: Vec<(&str, Ranking)> = RANKINGS
        .into_iter()
        .filter(|(_, ranking)| match (&vectors, &index) {
            (None, _) => *ranking == Ranking::Words,
            (Some(_), None) => !ranking.uses_words(),
            (Some(_), Some(_)) => true,
        })
        .collect();
    let picked = if sample == 0 {
        candidates.clone()
    } else {
        deterministic_sample(&candidates, sample)
    };
    // Per ranking: the sum of shares, overall and by primary category.
    let mut totals = vec![0.0f64; rankings.len()];
    let mut by_category: BTreeMap<String, (usize, Vec<f64>)> = BTreeMap::new();
    let mut latencies_ms: Vec<Vec<f64>> = vec![Vec::with_capacity(picked.len()); rankings.len()];
    for &i in &picked {
        let paper = corpus.paper(i);
        let Some(primary) = paper.categories.first() else {
            continue;
        };
        let started = Instant::now();
        let by_words = index
            .as_ref()
            .map(|index| index.related(&corpus, i, FUSION_CANDIDATES))
            .unwrap_or_default();
        let words_ms = started.elapsed().as_secs_f64() * 1000.0;
        let category = by_category
            .entry(primary.to_string())
            .or_insert_with(|| (0, vec![0.0; rankings.len()]));
        category.0 += 1;
        for (r, (_, ranking)) in rankings.iter().enumerate() {
            let started = Instant::now();
            let hits = match &vectors {
                Some(vectors) => rank(vectors, i, &by_words, *ranking, TOP),
                None => by_words.iter().take(TOP).copied().collect(),
            };
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            latencies_ms[r].push(if ranking.uses_words() {
                ms + words_ms
            } else {
                ms
            });
            let same = hits
                .iter()
                .filter(|h| corpus.paper(h.paper).categories.first() == Some(primary))
                .count();
            let share = same as f64 / TOP as f64;
            totals[r] += share;
            category.1[r] += share;
        }
    }
    let sampled = picked.len() as f64;
    let pct = |values: &mut Vec<f64>, p: f64| {
        values.sort_by(|a, b| a.total_cmp(b));
        values[((values.len() - 1) as f64 * p).round() as usize]
    };
    // The mean over categories, each counted once: the overall share is
    // mostly the two or three largest categories'.
    let counted: Vec<&(usize, Vec<f64>)> = by_category
        .values()
        .filter(|(count, _)| *count >= CATEGORY_MEAN_FROM)
        .collect();
    let category_mean = |r: usize| {
        counted
            .iter()
            .map(|(count, sums)| sums[r] / *count as f64)
            .sum::<f64>()
            / counted.len().max(1) as f64
    };
    println!(
        "{} papers, {} sampled: share of the top {TOP} related papers with the sample's primary category (and its mean over the {} categories with at least {CATEGORY_MEAN_FROM} sampled)",
        corpus.papers.len(),
        picked.len(),
        counted.len()
    );
    let mut figures = serde_json::Map::new();
    for (r, (name, _)) in rankings.iter().enumerate() {
        let (p50, p95, p99) = (
            pct(&mut latencies_ms[r], 0.5),
            pct(&mut latencies_ms[r], 0.95),
            pct(&mut latencies_ms[r], 0.99),
        );
        println!(
            "  {name:<11} {:.3}  (by category {:.3})   latency p50 {p50:.2} ms, p95 {p95:.2} ms, p99 {p99:.2} ms",
            totals[r] / sampled,
            category_mean(r)
        );
        figures.insert(
            name.to_string(),
            serde_json::json!({
                "same_primary_category_share": totals[r] / sampled,
                "mean_over_categories": category_mean(r),
                "latency_ms": {"p50": p50, "p95": p95, "p99": p99},
            }),
        );
    }
    let mut categories: Vec<(&String, &(usize, Vec<f64>))> = by_category.iter().collect();
    categories.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(b.0)));
    println!(
        "  by primary category ({}):",
        rankings
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let mut per_category = serde_json::Map::new();
    for (category, (count, sums)) in &categories {
        let shares: Vec<f64> = sums.iter().map(|s| s / *count as f64).collect();
        if per_category.len() < 12 {
            println!(
                "    {category:<10} {count:>4} sampled: {}",
                shares
                    .iter()
                    .map(|s| format!("{s:.3}"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
        per_category.insert(
            category.to_string(),
            serde_json::json!({"sampled": count, "shares": shares}),
        );
    }
    let figures = serde_json::json!({
        "papers": corpus.papers.len(),
        "sampled": picked.len(),
        "top": TOP,
        "rankings": figures,
        "by_primary_category": per_category,
    });
    if let Some(path) = out {
        std::fs::write(path, serde_json::to_string_pretty(&figures)?)?;
    }
    Ok(0)
}

/// `n` distinct items spread by a fixed-seed generator, so runs compare.
fn deterministic_sample(items: &[usize], n: usize) -> Vec<usize> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut chosen = std::collections::BTreeSet::new();
    let n = n.min(items.len());
    while chosen.len() < n {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chosen.insert(items[(state % items.len() as u64) as usize]);
    }
    chosen.into_iter().collect()
}
