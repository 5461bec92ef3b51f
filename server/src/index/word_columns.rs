//! Search by title, author and key words before the full-text index is
//! there. Building the index of a million papers takes about a minute;
//! until it is done, a writer typing `[@diffusion` should still get papers
//! about diffusion, not only keys that start with "diffusion".
//!
//! Built in a few seconds from the parsed paper table, like the corpus's
//! sorted key column: every distinct word of the titles, the people's names
//! and the keys (cut into words as the index cuts them, folded and
//! lower-cased), sorted, each with the papers that have it, ascending. A
//! query word is looked up by binary search, the word being typed as a
//! prefix (a range of the sorted words), and papers are scored the way the
//! index scores these fields (BM25 weights: rare words count more, a word in
//! a short title more than in a long one, a title word more than a name),
//! papers with every word first. Abstracts are not here: they are two
//! thirds of the bytes and most of the build, and the index brings them
//! within the minute. Kept only until the index is ready.

use super::title_matcher::partition;
use super::{Hit, PaperSearch, SearchRequest};
use crate::corpus::short_hash::ShortKeys;
use crate::corpus::{Corpus, PaperTable};
use crate::text::words::{fold_lower, title_words};
use std::collections::HashMap;
use std::ops::Range;

/// Where a word occurs in a paper, stored in a posting's low bits.
const TITLE: u32 = 0;
const PERSON: u32 = 1;
const KEY: u32 = 2;
const FIELD_BITS: u32 = 2;
const FIELD_MASK: u32 = (1 << FIELD_BITS) - 1;
/// Ordinals must fit beside the field bits.
const MAX_PAPERS: usize = (u32::MAX >> FIELD_BITS) as usize;

/// Field weights, as the index boosts the same fields (titles 4, people
/// and keys 3).
fn weight(field: u32) -> f32 {
    if field == TITLE {
        4.0
    } else {
        3.0
    }
}

/// A word matched only as the start of a longer one counts for less.
const PREFIX_WEIGHT: f32 = 0.4;
/// BM25's parameters, for the title's length.
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// How many postings one typed prefix may visit: a two-letter prefix of a
/// million titles ("mo") reaches millions; the words closest to what is
/// typed (shortest first) are taken until this many.
const PREFIX_POSTINGS: usize = 2_000_000;
/// Words dropped from a query of several words (Lucene's English list, as
/// the index's analyzer drops them): "a survey of diffusion" needs no "of".
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

pub struct WordColumns {
    /// The distinct words, sorted, one after the other; word `w` is
    /// `text[word_ends[w - 1]..word_ends[w]]` (from 0 for the first).
    text: String,
    word_ends: Vec<u32>,
    /// Word `w`'s postings are `postings[posting_ends[w - 1]..posting_ends[w]]`,
    /// each `ordinal << FIELD_BITS | field`, ascending.
    posting_ends: Vec<u32>,
    postings: Vec<u32>,
    /// Words in each paper's title (at most 255), for BM25's length part.
    title_lengths: Vec<u8>,
    average_title_length: f32,
}

impl WordColumns {
    /// The words of every paper of `corpus`.
    pub fn for_corpus(corpus: &Corpus) -> WordColumns {
        WordColumns::build(&corpus.papers)
    }

    pub fn build(table: &PaperTable) -> WordColumns {
        let papers = table.len().min(MAX_PAPERS);
        // Words get ids in the order first seen; sorted at the end.
        let mut ids: HashMap<String, u32, ShortKeys> = HashMap::default();
        // Each paper's (first-seen id << FIELD_BITS | field), deduplicated.
        let mut paper_words: Vec<u32> = Vec::new();
        let mut paper_ends: Vec<u32> = Vec::with_capacity(papers);
        let mut title_lengths = Vec::with_capacity(papers);
        let mut folded = String::new();
        let mut total_title_words = 0u64;
        // One paper's words, before they are sorted and deduplicated.
        let mut own: Vec<u32> = Vec::new();
        for paper in table.iter().take(papers) {
            let mut add = |word: &str, field: u32, own: &mut Vec<u32>| -> bool {
                fold_lower(word, &mut folded);
                if folded.is_empty() {
                    return false;
                }
                let id = match ids.get(folded.as_str()) {
                    Some(&id) => id,
                    None => {
                        let id = ids.len() as u32;
                        ids.insert(folded.clone(), id);
                        id
                    }
                };
                own.push(id << FIELD_BITS | field);
                true
            };
            let mut title_length = 0u32;
            for word in title_words(paper.title) {
                title_length += u32::from(add(word, TITLE, &mut own));
            }
            for person in paper.authors.iter() {
                for word in title_words(person.family).chain(title_words(person.given)) {
                    add(word, PERSON, &mut own);
                }
            }
            let key_words = super::schema::split_key_words(paper.key);
            for word in title_words(&key_words) {
                add(word, KEY, &mut own);
            }
            own.sort_unstable();
            own.dedup();
            paper_words.extend_from_slice(&own);
            own.clear();
            paper_ends.push(paper_words.len() as u32);
            total_title_words += u64::from(title_length);
            title_lengths.push(title_length.min(255) as u8);
        }
        // Sort the words; renumber postings by their sorted position.
        let mut words: Vec<(String, u32)> = ids.into_iter().collect();
        words.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut sorted_id = vec![0u32; words.len()];
        let mut text = String::new();
        let mut word_ends = Vec::with_capacity(words.len());
        for (position, (word, first_seen)) in words.iter().enumerate() {
            sorted_id[*first_seen as usize] = position as u32;
            text.push_str(word);
            word_ends.push(text.len() as u32);
        }
        drop(words);
        let mut counts = vec![0u32; word_ends.len() + 1];
        for &entry in &paper_words {
            counts[sorted_id[(entry >> FIELD_BITS) as usize] as usize + 1] += 1;
        }
        for w in 1..counts.len() {
            counts[w] += counts[w - 1];
        }
        // `counts[w]` is now where word `w`'s postings start; fill in paper order.
        let mut postings = vec![0u32; paper_words.len()];
        let mut next = counts.clone();
        let mut start = 0usize;
        for (ordinal, &end) in paper_ends.iter().enumerate() {
            for &entry in &paper_words[start..end as usize] {
                let word = sorted_id[(entry >> FIELD_BITS) as usize] as usize;
                postings[next[word] as usize] = (ordinal as u32) << FIELD_BITS | entry & FIELD_MASK;
                next[word] += 1;
            }
            start = end as usize;
        }
        counts.remove(0);
        WordColumns {
            text,
            word_ends,
            posting_ends: counts,
            postings,
            title_lengths,
            average_title_length: (total_title_words as f32 / papers.max(1) as f32).max(1.0),
        }
    }

    fn words(&self) -> usize {
        self.word_ends.len()
    }

    fn word(&self, w: usize) -> &str {
        let start = if w == 0 { 0 } else { self.word_ends[w - 1] };
        self.text
            .get(start as usize..self.word_ends[w] as usize)
            .unwrap_or("")
    }

    fn postings_of(&self, w: usize) -> &[u32] {
        let start = if w == 0 { 0 } else { self.posting_ends[w - 1] };
        self.postings
            .get(start as usize..self.posting_ends[w] as usize)
            .unwrap_or(&[])
    }

    /// The sorted words that start with `prefix`.
    fn starting_with(&self, prefix: &str) -> Range<usize> {
        let first = partition(0..self.words(), |w| self.word(w) < prefix);
        let end = first + partition(first..self.words(), |w| self.word(w).starts_with(prefix));
        first..end
    }

    /// The word spelt exactly `word`, if any paper has it.
    fn exactly(&self, word: &str) -> Option<usize> {
        let found = self.starting_with(word);
        (!found.is_empty() && self.word(found.start) == word).then_some(found.start)
    }

    /// How much having word `w` counts (BM25's inverse document frequency:
    /// a word few papers have counts more).
    fn idf(&self, w: usize) -> f32 {
        let papers = self.title_lengths.len() as f32;
        let df = self.postings_of(w).len() as f32;
        (1.0 + (papers - df + 0.5) / (df + 0.5)).ln()
    }

    /// The words one query word matches, each with its weight: the word
    /// itself, and while it is being typed (two letters or more) the words
    /// it starts, shortest first, within the postings budget.
    fn alternatives(&self, word: &str, typing: bool) -> Vec<(usize, f32)> {
        let mut out: Vec<(usize, f32)> = self.exactly(word).map(|w| (w, 1.0)).into_iter().collect();
        if !typing || word.chars().count() < 2 {
            return out;
        }
        let mut longer: Vec<usize> = self
            .starting_with(word)
            .filter(|&w| self.word(w).len() > word.len())
            .collect();
        longer.sort_by_key(|&w| (self.word(w).len(), w));
        let mut budget = PREFIX_POSTINGS
            .saturating_sub(out.first().map_or(0, |&(w, _)| self.postings_of(w).len()));
        for w in longer {
            let cost = self.postings_of(w).len();
            if cost > budget {
                continue;
            }
            budget -= cost;
            out.push((w, PREFIX_WEIGHT));
        }
        out
    }

    fn score(&self, posting: u32, idf: f32) -> f32 {
        let field = posting & FIELD_MASK;
        let mut score = weight(field) * idf;
        if field == TITLE {
            let length = self.title_lengths[(posting >> FIELD_BITS) as usize] as f32;
            score *= (K1 + 1.0) / (1.0 + K1 * (1.0 - B + B * length / self.average_title_length));
        }
        score
    }
}

impl PaperSearch for WordColumns {
    fn search(&self, request: &SearchRequest<'_>) -> Vec<Hit> {
        let mut typed: Vec<String> = Vec::new();
        let mut folded = String::new();
        for word in title_words(request.text) {
            fold_lower(word, &mut folded);
            if !folded.is_empty() {
                typed.push(folded.clone());
            }
        }
        if request.limit == 0 || typed.is_empty() {
            return Vec::new();
        }
        let last = typed.len() - 1;
        let groups: Vec<Vec<(usize, f32)>> = typed
            .iter()
            .enumerate()
            .filter(|(i, w)| *i == last || typed.len() == 1 || !STOP_WORDS.contains(&w.as_str()))
            .map(|(i, w)| self.alternatives(w, request.as_you_type && i == last))
            .take(16)
            .collect();
        let papers = self.title_lengths.len();
        let mut total = vec![0f32; papers];
        let mut matched = vec![0u16; papers];
        let mut best_in_group = vec![0f32; papers];
        let mut touched: Vec<u32> = Vec::new();
        let mut in_group: Vec<u32> = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            for &(w, word_weight) in group {
                let idf = self.idf(w) * word_weight;
                for &posting in self.postings_of(w) {
                    let ordinal = (posting >> FIELD_BITS) as usize;
                    let score = self.score(posting, idf);
                    if matched[ordinal] & (1 << g) == 0 {
                        if matched[ordinal] == 0 {
                            touched.push(ordinal as u32);
                        }
                        matched[ordinal] |= 1 << g;
                        in_group.push(ordinal as u32);
                    }
                    // A paper counts its best match of each query word once.
                    best_in_group[ordinal] = best_in_group[ordinal].max(score);
                }
            }
            for &ordinal in &in_group {
                total[ordinal as usize] += best_in_group[ordinal as usize];
                best_in_group[ordinal as usize] = 0.0;
            }
            in_group.clear();
        }
        let every_word = (1u32 << groups.len()) - 1;
        let mut hits: Vec<Hit> = touched
            .into_iter()
            .map(|ordinal| {
                let ordinal = ordinal as usize;
                Hit {
                    paper: ordinal,
                    score: total[ordinal],
                    tier: u8::from(u32::from(matched[ordinal]) != every_word),
                }
            })
            .filter(|hit| hit.tier == 0 || groups.len() > 1)
            .collect();
        let order = |a: &Hit, b: &Hit| {
            a.tier
                .cmp(&b.tier)
                .then(b.score.total_cmp(&a.score))
                .then(a.paper.cmp(&b.paper))
        };
        if hits.len() > request.limit {
            hits.select_nth_unstable_by(request.limit, order);
            hits.truncate(request.limit);
        }
        hits.sort_unstable_by(order);
        hits
    }

    /// Related papers need the index's term vectors: none before it.
    fn related(&self, _: &Corpus, _: usize, _: usize) -> Vec<Hit> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{Paper, Person};

    fn paper(key: &str, title: &str, authors: &[(&str, &str)]) -> Paper {
        let mut paper = Paper::titled(title.into(), "article");
        paper.key = key.into();
        paper.authors = authors
            .iter()
            .map(|(given, family)| Person {
                given: given.to_string(),
                family: family.to_string(),
            })
            .collect();
        paper
    }

    fn columns(papers: &[Paper]) -> WordColumns {
        WordColumns::build(&PaperTable::from_papers(papers))
    }

    fn keys(papers: &[Paper], hits: &[Hit]) -> Vec<String> {
        hits.iter().map(|h| papers[h.paper].key.clone()).collect()
    }

    fn find(papers: &[Paper], text: &str, as_you_type: bool) -> Vec<String> {
        let hits = columns(papers).search(&SearchRequest {
            text,
            limit: 10,
            as_you_type,
        });
        keys(papers, &hits)
    }

    fn library() -> Vec<Paper> {
        vec![
            paper("ho2020", "Denoising Diffusion Probabilistic Models", &[("Jonathan", "Ho")]),
            paper("song2021", "Score-Based Generative Modeling through Stochastic Differential Equations", &[("Yang", "Song")]),
            paper("power2022grokking", "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets", &[("Alethea", "Power")]),
            paper("diff2019", "A Survey of Diffusion and Diffusivity in Porous Media: Measurements, Models and Simulations of Transport", &[("Ana", "Müller")]),
            paper("vaswani2017", "Attention Is All You Need", &[("Ashish", "Vaswani"), ("Noam", "Shazeer")]),
        ]
    }

    #[test]
    fn a_title_word_finds_its_papers_the_shorter_title_first() {
        let papers = library();
        assert_eq!(find(&papers, "diffusion", false), ["ho2020", "diff2019"]);
    }

    #[test]
    fn the_word_being_typed_is_a_prefix_and_an_exact_word_ranks_first() {
        let papers = library();
        assert_eq!(find(&papers, "diffus", true), ["ho2020", "diff2019"]);
        assert!(
            find(&papers, "diffus", false).is_empty(),
            "a finished word is whole"
        );
        let typed = find(&papers, "model", true);
        // "Models" and "Modeling" start with it; no title has "model" itself.
        assert_eq!(typed.len(), 3, "{typed:?}");
    }

    #[test]
    fn names_keys_and_folded_spellings_are_words() {
        let papers = library();
        assert_eq!(find(&papers, "shazeer", false), ["vaswani2017"]);
        assert_eq!(find(&papers, "Noam", false), ["vaswani2017"]);
        assert_eq!(
            find(&papers, "muller", false),
            ["diff2019"],
            "Müller folds to muller"
        );
        assert_eq!(find(&papers, "power 2022", false), ["power2022grokking"]);
    }

    #[test]
    fn papers_with_every_word_come_before_papers_with_some() {
        let papers = library();
        let found = find(&papers, "diffusion models survey", false);
        assert_eq!(found[0], "diff2019", "{found:?}");
        assert!(
            found.contains(&"ho2020".to_string()),
            "some words still count: {found:?}"
        );
        assert_eq!(
            find(&papers, "a survey of diffusion", false),
            ["diff2019", "ho2020"]
        );
    }

    #[test]
    fn nothing_for_nothing_and_one_letter_is_not_a_prefix() {
        let papers = library();
        assert!(find(&papers, "", true).is_empty());
        assert!(find(&papers, "  ::  ", true).is_empty());
        assert!(find(&papers, "zzz", true).is_empty());
        assert!(find(&papers, "d", true).is_empty());
        let none = WordColumns::build(&PaperTable::from_papers(&[]));
        assert!(none
            .search(&SearchRequest {
                text: "diffusion",
                limit: 5,
                as_you_type: true
            })
            .is_empty());
    }

    #[test]
    fn the_limit_keeps_the_best() {
        let papers: Vec<Paper> = (0..50)
            .map(|i| {
                paper(
                    &format!("p{i}"),
                    &format!("Grokking {}", "word ".repeat(i)),
                    &[],
                )
            })
            .collect();
        let hits = columns(&papers).search(&SearchRequest {
            text: "grokking",
            limit: 3,
            as_you_type: false,
        });
        assert_eq!(
            keys(&papers, &hits),
            ["p0", "p1", "p2"],
            "shortest titles first"
        );
    }
}
