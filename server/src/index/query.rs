//! Turning what a user typed into a ranked list of papers.
//!
//! Each query word becomes a group of alternatives, weighted so known-item
//! lookups win: a title word counts most, then authors and key words, then
//! abstract words; the word being typed also matches as a prefix, and longer
//! words tolerate a typo. Papers matching *every* word rank above papers
//! matching only some (two passes: all words required, then any word).

use super::schema::{KEY_WHOLE, PROSE, WORDS};
use super::{Hit, PaperIndex, PaperSearch, SearchRequest};
use std::collections::HashSet;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, Searcher, Term};

const TITLE_BOOST: f32 = 4.0;
const AUTHOR_BOOST: f32 = 3.0;
const KEY_BOOST: f32 = 3.0;
const ABSTRACT_BOOST: f32 = 1.0;
/// How much a hit's score grows, at most, when its title or abstract has
/// the query's words written exactly as typed (see [`favour_exact_forms`]).
const EXACT_FORM_BOOST: f32 = 0.5;
/// How many of the best hits are looked at for exact forms: the top of the
/// list is what is read, and each look may read an abstract from disk.
const EXACT_FORM_CANDIDATES: usize = 30;
/// Prefix and fuzzy matches score a constant (times this), below real term matches.
const PREFIX_BOOST: f32 = 1.5;
const FUZZY_BOOST: f32 = 0.8;

impl PaperSearch for PaperIndex {
    fn related(&self, corpus: &crate::corpus::Corpus, ordinal: usize, limit: usize) -> Vec<Hit> {
        self.related_to(corpus, ordinal, limit)
    }

    fn search(&self, request: &SearchRequest<'_>) -> Vec<Hit> {
        if request.limit == 0 {
            return Vec::new();
        }
        let words = self.analyze(WORDS, request.text);
        if request.as_you_type {
            // Keys, titles and names first: while typing, that is what is
            // being looked for, and a common word's abstract postings are
            // most of the corpus (at a million papers, scoring them all
            // took 30 ms for `model`). Abstracts are searched when those
            // do not fill the list.
            let hits = self.search_words(&words, request, false);
            if hits.len() >= request.limit {
                return hits;
            }
        }
        self.search_words(&words, request, true)
    }
}

impl PaperIndex {
    /// Every word required, then, if that leaves room, any word.
    fn search_words(
        &self,
        words: &[String],
        request: &SearchRequest<'_>,
        abstracts: bool,
    ) -> Vec<Hit> {
        let Some(last) = words.len().checked_sub(1) else {
            return Vec::new();
        };
        let groups: Vec<Box<dyn Query>> = words
            .iter()
            .enumerate()
            .filter_map(|(i, w)| {
                let typing = request.as_you_type && i == last;
                self.word_query(w, typing, words.len() == 1, abstracts)
            })
            .collect();
        if groups.is_empty() {
            return Vec::new();
        }
        let searcher = self.reader.searcher();
        let all = BooleanQuery::new(
            groups
                .iter()
                .map(|q| (Occur::Must, q.box_clone()))
                .collect(),
        );
        let mut hits = self.run(&searcher, &all, request.limit, 0);
        if hits.len() < request.limit && groups.len() > 1 {
            let seen: HashSet<usize> = hits.iter().map(|h| h.paper).collect();
            let any = BooleanQuery::new(groups.into_iter().map(|q| (Occur::Should, q)).collect());
            let more = self.run(&searcher, &any, request.limit + seen.len(), 1);
            hits.extend(
                more.into_iter()
                    .filter(|h| !seen.contains(&h.paper))
                    .take(request.limit - seen.len()),
            );
        }
        hits
    }

    fn run(&self, searcher: &Searcher, query: &dyn Query, limit: usize, tier: u8) -> Vec<Hit> {
        let Ok(top) = searcher.search(query, &TopDocs::with_limit(limit).order_by_score()) else {
            return Vec::new();
        };
        top.into_iter()
            .filter_map(|(score, addr)| {
                Some(Hit {
                    paper: self.ordinal_of(searcher, addr)?,
                    score,
                    tier,
                })
            })
            .collect()
    }

    /// The alternatives one query word can match. Stop words are dropped
    /// unless they are the whole query.
    fn word_query(
        &self,
        word: &str,
        typing: bool,
        only_word: bool,
        abstracts: bool,
    ) -> Option<Box<dyn Query>> {
        let f = self.fields;
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut add = |q: Box<dyn Query>, boost: f32| {
            alternatives.push((Occur::Should, Box::new(BoostQuery::new(q, boost))));
        };
        let stemmed = self.analyze(PROSE, word);
        if stemmed.is_empty() && !typing && !only_word {
            return None;
        }
        for stem in &stemmed {
            add(term(f.title, stem), TITLE_BOOST);
            if abstracts {
                add(term(f.abstract_text, stem), ABSTRACT_BOOST);
            }
        }
        add(term(f.authors, word), AUTHOR_BOOST);
        add(term(f.key_words, word), KEY_BOOST);
        add(term(f.title_words, word), 1.0);
        if let Ok(year) = word.parse::<i64>() {
            if (1000..3000).contains(&year) {
                add(
                    Box::new(TermQuery::new(
                        Term::from_field_i64(f.year, year),
                        IndexRecordOption::Basic,
                    )),
                    1.0,
                );
            }
        }
        // Prefixes of one or two letters expand to thousands of terms: keep
        // those to keys, names and title words, where they mean something.
        let chars = word.chars().count();
        if typing {
            add(prefix(f.key, word), KEY_BOOST);
            if chars >= 2 {
                add(prefix(f.key_words, word), PREFIX_BOOST);
                add(prefix(f.title_words, word), PREFIX_BOOST);
                add(prefix(f.authors, word), PREFIX_BOOST);
            }
            if chars >= 4 && abstracts {
                add(prefix(f.abstract_text, word), PREFIX_BOOST / 3.0);
            }
        } else if chars >= 5 {
            // A word still being typed is no typo; a finished one may be.
            let distance = if chars >= 9 { 2 } else { 1 };
            add(fuzzy(f.title_words, word, distance), FUZZY_BOOST);
            add(fuzzy(f.authors, word, distance), FUZZY_BOOST);
        }
        Some(Box::new(BooleanQuery::new(alternatives)))
    }

    /// The tokens an analyzer makes of `text`.
    pub(super) fn analyze(&self, analyzer: &str, text: &str) -> Vec<String> {
        let Some(mut analyzer) = self.index.tokenizers().get(analyzer) else {
            return Vec::new();
        };
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn prefix(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(FuzzyTermQuery::new_prefix(
        Term::from_field_text(field, text),
        0,
        true,
    ))
}

fn fuzzy(field: Field, text: &str, distance: u8) -> Box<dyn Query> {
    Box::new(FuzzyTermQuery::new(
        Term::from_field_text(field, text),
        distance,
        true,
    ))
}

/// Puts first, among papers matched alike, those whose title or abstract
/// has the query's words exactly as typed: stemming finds "eschews" for
/// `eschewing`, but a paper that says "eschewing" is the better answer. A
/// hit's score grows by up to half, by the share of the query's words (of
/// three letters or more) it has in that form, whole; hits that matched
/// every word still rank above those that matched only some. Only the best
/// [`EXACT_FORM_CANDIDATES`] hits are looked at and reordered.
pub fn favour_exact_forms(corpus: &crate::corpus::Corpus, query: &str, hits: &mut [Hit]) {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() || hits.len() < 2 {
        return;
    }
    let top = hits.len().min(EXACT_FORM_CANDIDATES);
    let hits = &mut hits[..top];
    for hit in hits.iter_mut() {
        let Some(paper) = corpus.papers.get(hit.paper) else {
            continue;
        };
        let title = paper.title.to_lowercase();
        let abstract_text = paper
            .abstract_text()
            .map(|a| a.to_lowercase())
            .unwrap_or_default();
        let exact = words
            .iter()
            .filter(|w| has_word(&title, w) || has_word(&abstract_text, w))
            .count();
        hit.score *= 1.0 + EXACT_FORM_BOOST * exact as f32 / words.len() as f32;
    }
    hits.sort_by(|a, b| a.tier.cmp(&b.tier).then(b.score.total_cmp(&a.score)));
}

/// Whether `text` has `word` as a whole word (both lower-cased).
fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

impl PaperIndex {
    /// The paper a found document is (see `doc_numbers`).
    pub(super) fn ordinal_of(&self, searcher: &Searcher, addr: DocAddress) -> Option<usize> {
        let column = searcher
            .segment_reader(addr.segment_ord)
            .fast_fields()
            .u64("ordinal")
            .ok()?;
        self.numbers.paper(column.first(addr.doc_id)?)
    }
}

/// Whether the index maps `key` to paper `ordinal` (used to validate a stored index).
pub(super) fn key_finds_ordinal(index: &PaperIndex, key: &str, ordinal: usize) -> bool {
    let searcher = index.reader.searcher();
    let whole = index.analyze(KEY_WHOLE, key).concat();
    let query = TermQuery::new(
        Term::from_field_text(index.fields.key, &whole),
        IndexRecordOption::Basic,
    );
    searcher
        .search(&query, &TopDocs::with_limit(64).order_by_score())
        .map(|top| {
            top.iter()
                .any(|(_, addr)| index.ordinal_of(&searcher, *addr) == Some(ordinal))
        })
        .unwrap_or(false)
}
