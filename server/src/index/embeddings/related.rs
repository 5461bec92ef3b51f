//! Related papers by meaning: the nearest papers by embedding cosine, and
//! that ranking fused with tf-idf's, for which `paper-ls eval-related`
//! measures each side by side.

use super::store::PaperVectors;
use crate::index::Hit;

/// How a paper's related papers are ranked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ranking {
    /// Shared words (tf-idf cosine), the index's own.
    Words,
    /// Embedding cosine alone.
    Meaning,
    /// Cosine of the embeddings once the corpus's mean is taken off them
    /// (plain cosine when the vectors were not centred).
    Centred,
    /// Embedding cosine plus `weight` × tf-idf cosine, over the union of both
    /// rankings' candidates.
    Fused { weight: f32 },
}

impl Ranking {
    /// Whether the ranking needs tf-idf's best papers.
    pub fn uses_words(self) -> bool {
        matches!(self, Ranking::Words | Ranking::Fused { .. })
    }
}

/// How related papers are ranked once a corpus's embeddings exist, decided
/// by `paper-ls eval-related --model` on arXiv 2025 cs (see the README):
/// the cosine of the centred embeddings. On all 74,728 papers (4,000
/// sampled) the share of related papers with the query's category is the
/// same as by plain cosine (0.749; tf-idf 0.702), but the mean over the
/// categories rises from 0.424 to 0.462 (tf-idf 0.400): the small categories
/// that plain cosine served worse than tf-idf (cs.IT, cs.RO) gain most, at
/// a small cost to the largest (cs.CV 0.900 to 0.881). With every paper a
/// query (session 18) the shares are 0.749 and 0.748, the means over 29
/// categories 0.214 and 0.238: the same trade. Adding tf-idf's
/// cosine only lowered the share (0.747 with weight 0.1, 0.742 with 0.5),
/// and the embeddings alone need no query of the index (2.6 ms against
/// 17 ms).
pub const RANKING: Ranking = Ranking::Centred;

/// How many of each ranking's best papers the fusion considers.
pub const FUSION_CANDIDATES: usize = 40;

/// The related papers of `ordinal` by `ranking`, given tf-idf's best
/// (`by_words`, at least `FUSION_CANDIDATES` of them for fusion, with their
/// cosines as scores). Falls back to `by_words` when the paper has no vector.
pub fn rank(
    vectors: &PaperVectors,
    ordinal: usize,
    by_words: &[Hit],
    ranking: Ranking,
    limit: usize,
) -> Vec<Hit> {
    if !vectors.has(ordinal) || ranking == Ranking::Words {
        return by_words.iter().take(limit).copied().collect();
    }
    let hit = |paper: usize, score: f32| Hit {
        paper,
        score,
        tier: 0,
    };
    match ranking {
        Ranking::Words => unreachable!("returned above"),
        Ranking::Meaning => vectors
            .nearest_to_paper(ordinal, limit)
            .into_iter()
            .map(|(paper, score)| hit(paper, score))
            .collect(),
        Ranking::Centred => vectors
            .nearest_to_paper_centred(ordinal, limit)
            .into_iter()
            .map(|(paper, score)| hit(paper, score))
            .collect(),
        Ranking::Fused { weight } => {
            let mut candidates: Vec<usize> = vectors
                .nearest_to_paper(ordinal, FUSION_CANDIDATES.max(limit))
                .into_iter()
                .map(|(paper, _)| paper)
                .chain(by_words.iter().map(|h| h.paper))
                .filter(|&p| p != ordinal)
                .collect();
            candidates.sort_unstable();
            candidates.dedup();
            let mut fused: Vec<Hit> = candidates
                .into_iter()
                .map(|paper| {
                    let words = by_words
                        .iter()
                        .find(|h| h.paper == paper)
                        .map_or(0.0, |h| h.score);
                    hit(paper, vectors.cosine(ordinal, paper) + weight * words)
                })
                .collect();
            fused.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.paper.cmp(&b.paper)));
            fused.truncate(limit);
            fused
        }
    }
}

/// The constant of reciprocal-rank fusion (Cormack et al. 2009): a paper's
/// score is the sum of 1 / (K + rank) over the rankings it is in; K damps
/// the difference between the first few ranks so neither ranking dominates.
const RRF_K: f32 = 60.0;

/// Two rankings fused by reciprocal rank: scores on different scales
/// (BM25, cosine) need no calibration, only their orders count.
pub fn fuse_by_rank(by_words: &[Hit], by_meaning: &[(usize, f32)], limit: usize) -> Vec<Hit> {
    let mut scores: std::collections::HashMap<usize, f32> = std::collections::HashMap::new();
    let words = by_words.iter().map(|h| h.paper);
    let meaning = by_meaning.iter().map(|&(paper, _)| paper);
    for ranking in [words.collect::<Vec<_>>(), meaning.collect()] {
        for (rank, paper) in ranking.into_iter().enumerate() {
            *scores.entry(paper).or_default() += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<Hit> = scores
        .into_iter()
        .map(|(paper, score)| Hit {
            paper,
            score,
            tier: 0,
        })
        .collect();
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.paper.cmp(&b.paper)));
    fused.truncate(limit);
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> PaperVectors {
        let mut v = PaperVectors::new(2, 4);
        v.set(0, &[1.0, 0.0], 1);
        v.set(1, &[0.0, 1.0], 2);
        v.set(2, &[0.8, 0.6], 3);
        v
    }

    #[test]
    fn rank_fusion_puts_papers_both_rankings_like_first() {
        let hit = |paper| Hit {
            paper,
            score: 9.0,
            tier: 1,
        };
        let words = [hit(1), hit(2), hit(3)];
        let meaning = [(4, 0.9), (2, 0.8), (5, 0.7)];
        let fused: Vec<usize> = fuse_by_rank(&words, &meaning, 4)
            .iter()
            .map(|h| h.paper)
            .collect();
        // 2 is in both; then each ranking's first, the words' first by order.
        assert_eq!(fused, vec![2, 1, 4, 3]);
        assert!(fuse_by_rank(&[], &[], 5).is_empty());
    }

    #[test]
    fn meaning_ranks_by_cosine_and_fusion_lets_shared_words_count() {
        let v = vectors();
        let words = [
            Hit {
                paper: 1,
                score: 0.9,
                tier: 0,
            },
            Hit {
                paper: 3,
                score: 0.5,
                tier: 0,
            },
        ];
        let by_meaning: Vec<usize> = rank(&v, 0, &words, Ranking::Meaning, 5)
            .iter()
            .map(|h| h.paper)
            .collect();
        assert_eq!(by_meaning, vec![2, 1]);
        // Paper 1 shares words but not meaning: cosine 0 + 1.0 × 0.9 beats 0.8.
        let fused: Vec<usize> = rank(&v, 0, &words, Ranking::Fused { weight: 1.0 }, 5)
            .iter()
            .map(|h| h.paper)
            .collect();
        assert_eq!(fused, vec![1, 2, 3]);
        let light: Vec<usize> = rank(&v, 0, &words, Ranking::Fused { weight: 0.5 }, 2)
            .iter()
            .map(|h| h.paper)
            .collect();
        assert_eq!(light, vec![2, 1]);
        // No vector: tf-idf's ranking as it was.
        let fallback: Vec<usize> = rank(&v, 3, &words, Ranking::Meaning, 5)
            .iter()
            .map(|h| h.paper)
            .collect();
        assert_eq!(fallback, vec![1, 3]);
    }
}
