//! The words of a note that a reader sees as prose, each with its exact
//! bytes in the note: what title matching reads.
//!
//! A word is cut and normalised exactly as corpus titles are (see
//! `text::words`): letters and digits, with every other character a
//! separator, so emphasis markers, quotes, dashes and line breaks fall away
//! and a hard-wrapped paragraph reads as one run of words. What a reader
//! does not see as prose is left out: in Markdown, front matter, code blocks
//! and spans, HTML comments and tags, URLs and link destinations, math, and
//! citation keys; in LaTeX, comments, verbatim text, math, command names,
//! citations, and the arguments of commands that hold no prose (`\label`,
//! `\ref`, `\url`, `\includegraphics`, environment names, …). LaTeX accents
//! and special letters belong to the word they are in (`Gr{\"o}bner` is one
//! word whose range covers all of that spelling).
//!
//! Word boundaries a title must not cross are marked on the word after
//! them ([`ProseWord::starts_block`]): paragraphs, headings, list items,
//! sectioning commands and footnotes, and any skipped non-prose (code, a
//! citation, a URL, math) between two words.
//!
//! A note can also be read in chunks, paragraph by paragraph, each chunk on
//! its own with the same words as in the whole note ([`prose_chunks`],
//! [`chunk_words`]; see `chunks` for why that is exact), so that an open
//! note's titles are found again only where it was edited.
//!
//! Like the rest of `notes`, this never fails and knows no LSP: any text
//! gives the words that can be recognised, in byte offsets.

mod chunks;
mod latex;
mod markdown;
#[cfg(test)]
pub(crate) mod tests;
mod typst;

use super::{citations_in, Citation, Language};
use crate::text::words::{char_role, fold_into, normal_word_of_folded, CharRole};
use std::ops::Range;

pub use crate::text::words::ProseWord;
pub use chunks::{chunk_words, prose_chunks, ChunkEnd, ChunkWords, ProseChunks};

/// The prose words of `text`, in order.
pub fn prose_words(text: &str, lang: Language) -> Vec<ProseWord> {
    let cites = skipped_citations(lang, &citations_in(text, lang));
    match lang {
        Language::Markdown => markdown::words(text, &cites),
        Language::Latex => latex::words(text, &cites).0,
        Language::Typst => typst::words(text),
    }
}

/// What of `citations` the scanner of `lang` skips, by start, each once:
/// the keys in Markdown (the brackets and locators around them are read),
/// whole cite commands in LaTeX.
fn skipped_citations(lang: Language, citations: &[Citation]) -> Vec<Range<usize>> {
    let mut ranges: Vec<Range<usize>> = citations
        .iter()
        .map(|c| match lang {
            Language::Markdown => c.range.clone(),
            Language::Latex | Language::Typst => c.whole.clone(),
        })
        .collect();
    ranges.sort_by_key(|r| r.start);
    ranges.dedup();
    ranges
}

/// Collects words as a scanner walks the text: the open word's spelling and
/// bytes, and whether the next word starts a block.
struct WordSink {
    words: Vec<ProseWord>,
    /// The open word's characters as read (accents of TeX spellings left
    /// out), folded when the word ends.
    spelling: String,
    folded: String,
    start: Option<usize>,
    end: usize,
    /// `{` opened inside the open word and not yet closed (LaTeX).
    open_braces: usize,
    block: bool,
}

impl WordSink {
    fn new() -> Self {
        WordSink {
            words: Vec::new(),
            spelling: String::new(),
            folded: String::new(),
            start: None,
            end: 0,
            open_braces: 0,
            block: true,
        }
    }

    fn is_open(&self) -> bool {
        self.start.is_some()
    }

    /// The character `c` of the text at `at`.
    fn char(&mut self, at: usize, c: char) {
        match char_role(c) {
            CharRole::Letter => self.letters(at, at + c.len_utf8(), c.encode_utf8(&mut [0; 4])),
            CharRole::Ideograph => {
                self.flush();
                self.letters(at, at + c.len_utf8(), c.encode_utf8(&mut [0; 4]));
                self.flush();
            }
            CharRole::Mark if self.is_open() => {
                self.spelling.push(c);
                self.end = at + c.len_utf8();
            }
            CharRole::Mark | CharRole::Separator => self.flush(),
        }
    }

    /// Letters spelled by the bytes `from..to` (a character, or a TeX
    /// command such as `\ss`).
    fn letters(&mut self, from: usize, to: usize, letters: &str) {
        self.start.get_or_insert(from);
        self.spelling.push_str(letters);
        self.end = to;
    }

    /// Markup that belongs to a word (a TeX accent): it starts one at `at`
    /// if none is open, and adds no letters.
    fn join(&mut self, at: usize) {
        self.start.get_or_insert(at);
    }

    /// Ends the open word, if any.
    fn flush(&mut self) {
        let Some(start) = self.start.take() else {
            return;
        };
        self.folded.clear();
        fold_into(&self.spelling, &mut self.folded);
        if let Some(norm) = normal_word_of_folded(&mut self.folded) {
            self.words.push(ProseWord {
                norm,
                range: start..self.end.max(start),
                starts_block: std::mem::take(&mut self.block),
            });
        }
        self.spelling.clear();
        self.open_braces = 0;
    }

    /// Ends the open word; no title runs on into the next one.
    fn boundary(&mut self) {
        self.flush();
        self.block = true;
    }

    fn finish(mut self) -> Vec<ProseWord> {
        self.flush();
        self.words
    }
}

/// The character at byte `i`, if `i` is a boundary inside `text`.
fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..)?.chars().next()
}

/// Whether the line after the `\n` at `newline` is blank.
fn blank_line_after(text: &str, newline: usize) -> bool {
    let rest = text.get(newline + 1..).unwrap_or("");
    let line = rest.split('\n').next().unwrap_or("");
    line.trim().is_empty() && newline + 1 < text.len()
}
