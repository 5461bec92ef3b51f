//! `paper-ls eval-related`: how good and how fast related papers are, on a
//! corpus whose papers carry arXiv categories. Quality is the share of each
//! sampled paper's top 5 related papers that have the sample's primary
//! category (the first one listed); speed is the latency of one query.

use super::commands::{load_corpus, open_index};
use super::CorpusArgs;
use crate::index::PaperSearch;
use anyhow::bail;
use std::path::Path;
use std::time::Instant;

const TOP: usize = 5;

pub fn eval_related(
    args: &CorpusArgs,
    cache: &crate::corpus::Cache,
    sample: usize,
    out: Option<&Path>,
) -> anyhow::Result<i32> {
    let corpus = load_corpus(args, cache)?;
    let candidates: Vec<usize> = (0..corpus.papers.len())
        .filter(|&i| !corpus.paper(i).categories.is_empty())
        .collect();
    if candidates.len() < 2 {
        bail!("the corpus has no papers with categories (an arXiv JSON Lines dump has them)");
    }
    let index = open_index(&corpus, cache);
    let picked = deterministic_sample(&candidates, sample);
    let mut shares = Vec::with_capacity(picked.len());
    let mut latencies_ms = Vec::with_capacity(picked.len());
    let mut by_category: std::collections::BTreeMap<String, (usize, f64)> = Default::default();
    for &i in &picked {
        let paper = &corpus.paper(i);
        let started = Instant::now();
        let hits = index.related(&corpus, i, TOP);
        latencies_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let Some(primary) = paper.categories.first() else {
            continue;
        };
        let same = hits
            .iter()
            .filter(|h| corpus.paper(h.paper).categories.first() == Some(primary))
            .count();
        shares.push(same as f64 / TOP as f64);
        let entry = by_category
            .entry(primary.to_string())
            .or_insert((0usize, 0.0f64));
        entry.0 += 1;
        entry.1 += same as f64 / TOP as f64;
    }
    let mean_share = shares.iter().sum::<f64>() / shares.len() as f64;
    latencies_ms.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| latencies_ms[((latencies_ms.len() - 1) as f64 * p).round() as usize];
    let figures = serde_json::json!({
        "papers": corpus.papers.len(),
        "sampled": picked.len(),
        "top": TOP,
        "same_primary_category_share": mean_share,
        "latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99)},
    });
    println!(
        "{} papers, {} sampled: {:.3} of the top {TOP} related papers share the primary category; latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
        corpus.papers.len(),
        picked.len(),
        mean_share,
        pct(0.5),
        pct(0.95),
        pct(0.99)
    );
    let mut categories: Vec<(&String, &(usize, f64))> = by_category.iter().collect();
    categories.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(b.0)));
    for (category, (count, total)) in categories.iter().take(8) {
        println!(
            "  {category}: {count} sampled, {:.3}",
            total / *count as f64
        );
    }
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
