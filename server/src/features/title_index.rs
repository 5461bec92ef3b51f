//! Building the title matcher for a corpus. Which words count as ordinary
//! (never a coined short name) is English (the embedded word list); the
//! matcher itself adds the terms of the field (words in many of the corpus's
//! titles), so "Transformers: …" in an ML corpus names no paper.

use crate::corpus::Corpus;
use crate::index::title_matcher::{is_english_word, TitleMatcher};

pub fn title_matcher_for(corpus: &Corpus) -> TitleMatcher {
    TitleMatcher::build(corpus.papers.iter().map(|p| p.title), &is_english_word)
}
