//! The tantivy schema and the analyzers behind each field.
//!
//! Prose (title, abstract) is stemmed with English stop words removed, for
//! recall; a second, unstemmed copy of the title and the authors serve
//! as-you-type prefixes and typo-tolerant matches, which stemming would break
//! ("grokk" is a prefix of "grokking" but not of its stem "grok"). Keys are
//! indexed whole (for key prefixes) and split into words at punctuation,
//! case and digit boundaries (`power2022grokking` → power, 2022, grokking).

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, STORED,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer,
    StopWordFilter, TextAnalyzer,
};
use tantivy::Index;

/// Bumped whenever the schema or an analyzer changes, so persisted indexes
/// built by an older paper-ls are rebuilt rather than trusted.
// 2: the ordinal is indexed, so that a changed paper's document can be deleted.
pub const SCHEMA_VERSION: u32 = 2;

pub const PROSE: &str = "paper_prose";
pub const WORDS: &str = "paper_words";
pub const KEY_WHOLE: &str = "paper_key";

#[derive(Clone, Copy, Debug)]
pub struct Fields {
    /// Position of the paper in `Corpus::papers`.
    pub ordinal: Field,
    pub key: Field,
    pub key_words: Field,
    pub title: Field,
    pub title_words: Field,
    pub authors: Field,
    pub abstract_text: Field,
    pub year: Field,
}

pub fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str, record: IndexRecordOption| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(record),
        )
    };
    let freqs = IndexRecordOption::WithFreqs;
    let fields = Fields {
        ordinal: b.add_u64_field(
            "ordinal",
            NumericOptions::default().set_fast().set_indexed() | STORED,
        ),
        key: b.add_text_field("key", text(KEY_WHOLE, IndexRecordOption::Basic)),
        key_words: b.add_text_field("key_words", text(WORDS, freqs)),
        title: b.add_text_field(
            "title",
            text(PROSE, IndexRecordOption::WithFreqsAndPositions),
        ),
        title_words: b.add_text_field("title_words", text(WORDS, freqs)),
        authors: b.add_text_field("authors", text(WORDS, freqs)),
        abstract_text: b.add_text_field("abstract", text(PROSE, freqs)),
        year: b.add_i64_field("year", NumericOptions::default().set_indexed()),
    };
    (b.build(), fields)
}

/// Analyzers are not stored with an index: register them on every open.
pub fn register_analyzers(index: &Index) {
    let prose = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::new(Language::English).expect("English stop words are built in"))
        .filter(super::stem_memo::MemoStemmer)
        .build();
    let words = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    let key = TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .build();
    index.tokenizers().register(PROSE, prose);
    index.tokenizers().register(WORDS, words);
    index.tokenizers().register(KEY_WHOLE, key);
}

/// `power2022grokking` → "power 2022 grokking"; `DBLP:conf/acl/X17` → "dblp conf acl x 17".
pub fn split_key_words(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 8);
    let mut prev: Option<char> = None;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            out.push(' ');
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let boundary = (p.is_alphabetic() && c.is_numeric())
                || (p.is_numeric() && c.is_alphabetic())
                || (p.is_lowercase() && c.is_uppercase());
            if boundary {
                out.push(' ');
            }
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_words() {
        assert_eq!(split_key_words("power2022grokking"), "power 2022 grokking");
        assert_eq!(split_key_words("C:AbdBen23"), "C Abd Ben 23");
        assert_eq!(
            split_key_words("bar-hillel-1952-present"),
            "bar hillel 1952 present"
        );
    }
}
