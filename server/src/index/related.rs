//! Related papers: the papers whose titles and abstracts are about the same
//! thing as a given one, by a more-like-this query of our own.
//!
//! The paper's title and abstract are analysed like the index analyses them;
//! each stemmed term is weighted by its frequency in the paper (title terms
//! count double) times the square root of its inverse document frequency in
//! the corpus. The square root matters: with plain idf the rarest words (a
//! dataset's name, a typo) dominate and neighbours share one odd word; words
//! of middling frequency ("segmentation", "agent", "translation") are what
//! say which field a paper is in. On arXiv 2025 cs, 1,000 sampled papers, the
//! share of the top 5 with the paper's primary category rose from 0.673 with
//! plain idf to 0.706 (idf^0.25 gave the same, idf^0 was 0.718 but then which
//! terms make the query no longer depends on how telling they are). Terms
//! found in no other paper, or in more than half of the corpus, say
//! nothing about relatedness and are dropped. The strongest terms become one
//! disjunctive query over titles and abstracts, scored by BM25; the best
//! candidates are then re-ranked by the cosine similarity of their whole
//! tf-idf vectors with the paper's, which rewards papers that share the
//! paper's vocabulary as a whole rather than one rare term.

use super::schema::PROSE;
use super::{Hit, PaperIndex};
use crate::corpus::{Corpus, PaperRef};
use std::collections::HashMap;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

/// How many of a paper's terms make up its related-papers query.
const QUERY_TERMS: usize = 20;
/// Title terms say more about a paper than abstract terms.
const TITLE_TERM_WEIGHT: f32 = 2.0;
const TITLE_FIELD_BOOST: f32 = 1.5;
/// Terms in more than half the papers are too common to tell papers apart;
/// below that even frequent words ("image", "robot") carry the topic.
const MAX_DOC_SHARE: f64 = 0.5;
/// How strongly rarity counts in a term's weight (see the module doc).
const IDF_POWER: f32 = 0.5;
/// How many BM25 candidates are re-ranked by cosine similarity.
const RERANK_CANDIDATES: usize = 40;

/// Inverse document frequencies looked up once per query.
struct Idf<'a> {
    index: &'a PaperIndex,
    searcher: tantivy::Searcher,
    n: f64,
    cache: HashMap<String, Option<f32>>,
}

impl Idf<'_> {
    /// The term's idf raised to `IDF_POWER`; `None` for terms too rare (only in
    /// one paper) or too common to count.
    fn of(&mut self, term: &str) -> Option<f32> {
        if let Some(known) = self.cache.get(term) {
            return *known;
        }
        let f = self.index.fields;
        let df_abstract = self
            .searcher
            .doc_freq(&Term::from_field_text(f.abstract_text, term))
            .unwrap_or(0);
        let df_title = self
            .searcher
            .doc_freq(&Term::from_field_text(f.title, term))
            .unwrap_or(0);
        let df = df_abstract.max(df_title) as f64;
        let weight = (df >= 2.0 && df <= self.n * MAX_DOC_SHARE)
            .then(|| ((self.n / df).ln() as f32).powf(IDF_POWER));
        self.cache.insert(term.to_string(), weight);
        weight
    }
}

impl PaperIndex {
    /// Up to `limit` papers most like the one at `ordinal`, best first, never itself.
    pub fn related_to(&self, corpus: &Corpus, ordinal: usize, limit: usize) -> Vec<Hit> {
        let Some(paper) = &corpus.papers.get(ordinal) else {
            return Vec::new();
        };
        let searcher = self.reader.searcher();
        let mut idf = Idf {
            index: self,
            n: searcher.num_docs().max(1) as f64,
            searcher,
            cache: HashMap::new(),
        };
        let vector = self.tf_idf(paper, &mut idf);
        let mut strongest: Vec<(&String, &f32)> = vector.iter().collect();
        strongest.sort_by(|a, b| b.1.total_cmp(a.1).then_with(|| a.0.cmp(b.0)));
        strongest.truncate(QUERY_TERMS);
        if strongest.is_empty() || limit == 0 {
            return Vec::new();
        }
        let candidates = self.bm25_candidates(&strongest, RERANK_CANDIDATES.max(limit + 1));
        let norm = norm(&vector);
        let mut scored: Vec<Hit> = candidates
            .into_iter()
            .filter(|&c| c != ordinal)
            .filter_map(|c| {
                let other = self.tf_idf(&corpus.papers.get(c)?, &mut idf);
                let dot: f32 = other
                    .iter()
                    .filter_map(|(t, w)| Some(w * vector.get(t)?))
                    .sum();
                Some(Hit {
                    paper: c,
                    score: dot / (norm * norm_of(&other)).max(f32::EPSILON),
                    tier: 0,
                })
            })
            .collect();
        scored.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.paper.cmp(&b.paper))
        });
        scored.truncate(limit);
        scored
    }

    /// Papers matching the strongest terms, by BM25 over titles and abstracts.
    fn bm25_candidates(&self, terms: &[(&String, &f32)], limit: usize) -> Vec<usize> {
        let f = self.fields;
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .flat_map(|(text, weight)| {
                let in_abstract = TermQuery::new(
                    Term::from_field_text(f.abstract_text, text),
                    IndexRecordOption::WithFreqs,
                );
                let in_title = TermQuery::new(
                    Term::from_field_text(f.title, text),
                    IndexRecordOption::WithFreqs,
                );
                [
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(in_abstract), **weight))
                            as Box<dyn Query>,
                    ),
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(in_title),
                            **weight * TITLE_FIELD_BOOST,
                        )),
                    ),
                ]
            })
            .collect();
        let searcher = self.reader.searcher();
        let Ok(top) = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(limit).order_by_score(),
        ) else {
            return Vec::new();
        };
        top.into_iter()
            .filter_map(|(_, addr)| self.ordinal_of(&searcher, addr))
            .collect()
    }

    /// A paper's terms weighted by (1 + ln tf) × √idf; title terms count double.
    fn tf_idf(&self, paper: &PaperRef<'_>, idf: &mut Idf<'_>) -> HashMap<String, f32> {
        let mut tf: HashMap<String, f32> = HashMap::new();
        for t in self.analyze(PROSE, paper.title) {
            *tf.entry(t).or_default() += TITLE_TERM_WEIGHT;
        }
        if let Some(text) = paper.abstract_text() {
            for t in self.analyze(PROSE, &text) {
                *tf.entry(t).or_default() += 1.0;
            }
        }
        tf.into_iter()
            .filter(|(t, _)| t.chars().count() > 2 && !t.chars().all(|c| c.is_ascii_digit()))
            .filter_map(|(t, freq)| {
                let weight = idf.of(&t)?;
                Some((t, (1.0 + freq.ln()) * weight))
            })
            .collect()
    }
}

fn norm(vector: &HashMap<String, f32>) -> f32 {
    norm_of(vector)
}

fn norm_of(vector: &HashMap<String, f32>) -> f32 {
    vector.values().map(|w| w * w).sum::<f32>().sqrt()
}
