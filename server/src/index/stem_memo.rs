//! English stemming with a memo of the words already stemmed.
//!
//! Stemming was ~40% of the CPU time of indexing abstracts (Snowball runs
//! its suffix rules afresh for every occurrence of every word), while the
//! words of scientific prose follow Zipf's law: a few tens of thousands of
//! distinct words make up nearly all occurrences. Remembering each word's
//! stem gives the same tokens as tantivy's `Stemmer` for a fraction of
//! the work. The memo is per analyzer instance (tantivy gives each
//! indexing thread its own copy) and a copy starts empty, so that handing
//! an analyzer to a query never copies a large map.

use crate::corpus::short_hash::ShortKeys;
use std::borrow::Cow;
use std::collections::HashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Beyond this many distinct words, new words are stemmed without being
/// remembered (the memo then holds the frequent ones, which is what pays).
const MEMO_WORDS: usize = 200_000;

/// The token filter: English Snowball stems, remembered.
#[derive(Clone, Copy, Default)]
pub struct MemoStemmer;

impl TokenFilter for MemoStemmer {
    type Tokenizer<T: Tokenizer> = MemoStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> MemoStemmerFilter<T> {
        MemoStemmerFilter {
            inner: tokenizer,
            memo: HashMap::default(),
        }
    }
}

pub struct MemoStemmerFilter<T> {
    inner: T,
    memo: HashMap<Box<str>, Box<str>, ShortKeys>,
}

impl<T: Clone> Clone for MemoStemmerFilter<T> {
    fn clone(&self) -> Self {
        MemoStemmerFilter {
            inner: self.inner.clone(),
            memo: HashMap::default(),
        }
    }
}

impl<T: Tokenizer> Tokenizer for MemoStemmerFilter<T> {
    type TokenStream<'a> = MemoStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MemoStemmerStream {
            tail: self.inner.token_stream(text),
            memo: &mut self.memo,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

pub struct MemoStemmerStream<'a, S> {
    tail: S,
    memo: &'a mut HashMap<Box<str>, Box<str>, ShortKeys>,
    stemmer: frostem::Stemmer,
}

impl<S: TokenStream> TokenStream for MemoStemmerStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(stem) = self.memo.get(token.text.as_str()) {
            token.text.clear();
            token.text.push_str(stem);
            return true;
        }
        let stem: Box<str> = match self.stemmer.stem(&token.text) {
            Cow::Borrowed(stem) => stem.into(),
            Cow::Owned(stem) => stem.into(),
        };
        if self.memo.len() < MEMO_WORDS {
            self.memo.insert(token.text.as_str().into(), stem.clone());
        }
        token.text.clear();
        token.text.push_str(&stem);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer};

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn remembered_stems_are_tantivys_stems() {
        let text = "Running runners ran; the generalization of generalizing models \
                    generalizes. Studies studied studying, caresses ponies ties \
                    running generalization studies";
        let mut ours = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(MemoStemmer)
            .build();
        let mut theirs = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build();
        let expected = tokens(&mut theirs, text);
        assert_eq!(tokens(&mut ours, text), expected);
        // Again, now from the memo; and from a copy, which starts empty.
        assert_eq!(tokens(&mut ours, text), expected);
        assert_eq!(tokens(&mut ours.clone(), text), expected);
        assert!(expected.contains(&"studi".to_string()), "{expected:?}");
    }
}
