//! The one spelling of a word that both sides of title matching agree on: a
//! corpus title and a note's prose are cut into words by the same rule and
//! each word is folded the same way, so "Gröbner", "Grobner" and "GRÖBNER"
//! are one word, and "End-to-End" is the three words end, to, end.
//!
//! A word is a run of Unicode letters and digits (combining marks continue
//! it); every other character (spaces, `:`, `-`, quotes, `*`, `_`, …)
//! separates words and is otherwise ignored. A Han, Hiragana or Katakana
//! character is a word of its own, since those scripts put no spaces between
//! words. Folding decomposes each character (NFKD), drops combining marks,
//! transliterates the rest of Latin-like letters to ASCII where deunicode
//! has a plain letter for them (ß → ss, ø → o, φ → ph) and keeps any other
//! character as it is; the key is that folded spelling lower-cased.
//!
//! Also here: the English word list that tells an ordinary word ("Attention",
//! "Transformers") from a coined name ("Grokfast", "SlimFlow").

use deunicode::deunicode_char;
use std::collections::HashSet;
use std::io::Read;
use std::ops::Range;
use std::sync::OnceLock;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};
use xxhash_rust::xxh3::xxh3_64;

/// A word as the matcher compares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NormalWord {
    /// The lower-cased, accent-folded spelling, hashed (xxh3, 64 bits): the
    /// identity of a word. Two different spellings sharing a key is a
    /// 2⁻⁶⁴-per-pair risk that is accepted, not verified.
    pub key: u64,
    /// The folded spelling with its case kept, hashed the same way: tells
    /// "MeshCNN" from "Meshcnn" for short names that must keep their casing.
    pub cased: u64,
    /// Whether the word has an upper-case letter.
    pub has_upper: bool,
}

/// A word of a note's prose, as title matching reads it (the notes layer
/// cuts a note into these, the title matcher looks them up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProseWord {
    pub norm: NormalWord,
    /// The word's bytes in the note, markup inside it included
    /// (`Gr{\"o}bner` is one word).
    pub range: Range<usize>,
    /// No title runs from the previous word into this one: it starts a
    /// paragraph, heading, list item or footnote, or follows something
    /// that is not prose (code, a citation, a URL, math).
    pub starts_block: bool,
}

/// What a character does in a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CharRole {
    /// A letter or digit: it starts or continues a word.
    Letter,
    /// A CJK character: a word on its own.
    Ideograph,
    /// A combining mark: it continues a word, and is nothing outside one.
    Mark,
    /// Anything else: it ends a word.
    Separator,
}

/// The role of `c` in the word rule above.
pub fn char_role(c: char) -> CharRole {
    if c.is_ascii() {
        return if c.is_ascii_alphanumeric() {
            CharRole::Letter
        } else {
            CharRole::Separator
        };
    }
    if is_ideograph(c) {
        CharRole::Ideograph
    } else if c.is_alphanumeric() {
        CharRole::Letter
    } else if is_combining_mark(c) {
        CharRole::Mark
    } else {
        CharRole::Separator
    }
}

/// Han, Hiragana and Katakana: scripts written without spaces between words.
fn is_ideograph(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF
        | 0x20000..=0x2FFFF)
}

/// The words of a title (or any plain text), in order, as slices of it.
pub fn title_words(text: &str) -> impl Iterator<Item = &str> + '_ {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || loop {
        let (start, c) = rest.next()?;
        match char_role(c) {
            CharRole::Ideograph => return Some(&text[start..start + c.len_utf8()]),
            CharRole::Letter => {
                let mut end = start + c.len_utf8();
                while let Some(&(at, next)) = rest.peek() {
                    if !matches!(char_role(next), CharRole::Letter | CharRole::Mark) {
                        break;
                    }
                    end = at + next.len_utf8();
                    rest.next();
                }
                return Some(&text[start..end]);
            }
            CharRole::Mark | CharRole::Separator => {}
        }
    })
}

/// Appends the folded spelling of `word` to `out`, case kept; characters
/// that are not part of words are dropped.
pub fn fold_into(word: &str, out: &mut String) {
    for c in word.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            }
        } else if !is_combining_mark(c) && c.is_alphanumeric() {
            decompose_compatible(c, |d| fold_char(d, out));
        }
    }
}

fn fold_char(d: char, out: &mut String) {
    if d.is_ascii_alphanumeric() {
        out.push(d);
    } else if d.is_ascii() || is_combining_mark(d) {
        // Punctuation from a compatibility decomposition, or an accent.
    } else {
        match deunicode_char(d) {
            Some(plain)
                if !plain.is_empty() && plain.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                out.push_str(plain)
            }
            _ => out.push(d),
        }
    }
}

/// The lower-cased folded spelling of `word`: the text behind
/// [`NormalWord::key`], and what `is_ordinary_word` callbacks are given.
pub fn folded(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    fold_into(word, &mut out);
    lower_in_place(&mut out);
    out
}

/// Replaces `out` with the lower-cased folded spelling of `word`.
pub(crate) fn fold_lower(word: &str, out: &mut String) {
    out.clear();
    fold_into(word, out);
    lower_in_place(out);
}

fn lower_in_place(s: &mut String) {
    if s.is_ascii() {
        s.make_ascii_lowercase();
    } else {
        *s = s.to_lowercase();
    }
}

/// The normalised form of one word; `None` when it has no letter or digit.
/// Callers cut text into words first (`title_words`, or the notes layer's
/// prose scanner): punctuation inside `word` is dropped, not a separator.
pub fn normalize_word(word: &str) -> Option<NormalWord> {
    let mut spelling = String::with_capacity(word.len());
    fold_into(word, &mut spelling);
    normal_word_of_folded(&mut spelling)
}

/// [`normalize_word`] for a spelling already folded (case kept); lower-cases
/// `spelling` in place.
pub(crate) fn normal_word_of_folded(spelling: &mut String) -> Option<NormalWord> {
    if spelling.is_empty() {
        return None;
    }
    let cased = xxh3_64(spelling.as_bytes());
    let has_upper = spelling.chars().any(char::is_uppercase);
    if has_upper {
        lower_in_place(spelling);
    }
    let key = if has_upper {
        xxh3_64(spelling.as_bytes())
    } else {
        cased
    };
    Some(NormalWord {
        key,
        cased,
        has_upper,
    })
}

/// The hash of an already lower-cased folded spelling: `NormalWord::key`.
pub(crate) fn key_of_folded(lower: &str) -> u64 {
    xxh3_64(lower.as_bytes())
}

/// The English word list, folded and lower-cased (about 74,000 words).
///
/// From Debian's `wamerican` (SCOWL word lists by Kevin Atkinson, whose
/// licence permits use, copying and redistribution provided the copyright
/// notice appears in all copies): normalised, deduplicated and gzipped into
/// `server/data/english-words.txt.gz`, whose `#` header carries the
/// package's copyright file in full. Proper names in the list ("Bert",
/// "Alice") count as ordinary words. Decompressed on first use.
pub fn english_word_list() -> &'static HashSet<String> {
    static WORDS: OnceLock<HashSet<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        const GZ: &[u8] = include_bytes!("../../data/english-words.txt.gz");
        let mut text = String::new();
        // The data is built into the binary; a read error would be a broken
        // build, and an empty list only makes more words count as coined.
        let _ = flate2::read::GzDecoder::new(GZ).read_to_string(&mut text);
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .map(folded)
            .filter(|word| !word.is_empty())
            .collect()
    })
}

/// Whether `lower_folded` (as [`folded`] returns it) is an English word.
pub fn is_english_word(lower_folded: &str) -> bool {
    english_word_list().contains(lower_folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_and_case_fold_to_one_word() {
        let a = normalize_word("Gröbner").unwrap();
        assert_eq!(a.key, normalize_word("Grobner").unwrap().key);
        assert_eq!(a.key, normalize_word("GRÖBNER").unwrap().key);
        assert_eq!(a.key, normalize_word("gro\u{308}bner").unwrap().key);
        assert_eq!(a.cased, normalize_word("Grobner").unwrap().cased);
        assert_ne!(a.cased, normalize_word("grobner").unwrap().cased);
        assert!(a.has_upper);
        assert!(!normalize_word("grobner").unwrap().has_upper);
        assert_eq!(folded("Straße"), "strasse");
        assert_eq!(folded("Ærø"), "aero");
        assert_eq!(folded("ﬁeld"), "field");
        assert_eq!(folded("漢"), "漢");
        assert_eq!(normalize_word("--"), None);
        assert_eq!(normalize_word(""), None);
    }

    #[test]
    fn words_are_alphanumeric_runs() {
        let words: Vec<&str> =
            title_words("End-to-End “Learning”: GPT4 e\u{301}tude 漢字x").collect();
        assert_eq!(
            words,
            [
                "End",
                "to",
                "End",
                "Learning",
                "GPT4",
                "e\u{301}tude",
                "漢",
                "字",
                "x"
            ]
        );
        assert_eq!(title_words(" \u{301} : ").count(), 0);
    }

    #[test]
    fn english_words_are_ordinary() {
        for w in [
            "attention",
            "transformers",
            "translation",
            "preface",
            "index",
        ] {
            assert!(is_english_word(w), "{w}");
        }
        for w in ["grokfast", "slimflow", "meshcnn", "divbo"] {
            assert!(!is_english_word(w), "{w}");
        }
    }
}
