//! Building the title matcher for a corpus: which words count as ordinary
//! (never a coined short name) is English plus the words frequent in the
//! corpus's own titles, so "Transformers: …" in an ML corpus names no paper.

use crate::corpus::Corpus;
use crate::index::title_matcher::{folded, is_english_word, title_words, TitleMatcher};
use std::collections::{HashMap, HashSet};

/// A title word in at least this many titles is an ordinary word of the field.
const FREQUENT_IN_TITLES: u32 = 4;

pub fn title_matcher_for(corpus: &Corpus) -> TitleMatcher {
    let mut titles_with: HashMap<String, u32> = HashMap::new();
    for paper in &corpus.papers {
        let mut seen = HashSet::new();
        for word in title_words(&paper.title) {
            let f = folded(word).to_lowercase();
            if seen.insert(f.clone()) {
                *titles_with.entry(f).or_default() += 1;
            }
        }
    }
    let ordinary = |w: &str| {
        is_english_word(w) || titles_with.get(w).is_some_and(|&n| n >= FREQUENT_IN_TITLES)
    };
    TitleMatcher::build(corpus.papers.iter().map(|p| p.title.as_str()), &ordinary)
}
