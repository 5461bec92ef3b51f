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

/// Emphasis and quotes a writer puts around a title, by language: the
/// opening and closing markup.
fn title_marks(lang: Language) -> &'static [(&'static str, &'static str)] {
    match lang {
        Language::Markdown => &[
            ("*", "*"),
            ("_", "_"),
            ("\"", "\""),
            ("“", "”"),
            ("„", "“"),
            ("<em>", "</em>"),
            ("<i>", "</i>"),
        ],
        Language::Latex => &[
            ("\\emph{", "}"),
            ("\\textit{", "}"),
            ("\\textsl{", "}"),
            ("\\textbf{", "}"),
            ("\\enquote{", "}"),
            ("{\\em ", "}"),
            ("{\\it ", "}"),
            ("``", "''"),
            ("“", "”"),
            ("\"", "\""),
        ],
        Language::Typst => &[
            ("_", "_"),
            ("*", "*"),
            ("#emph[", "]"),
            ("#strong[", "]"),
            ("\"", "\""),
            ("“", "”"),
            ("„", "“"),
        ],
    }
}

/// Small words a title in Title Case leaves in lower case.
const TITLE_CASE_SMALL_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "is", "nor", "of",
    "on", "or", "over", "the", "to", "via", "vs", "with",
];

/// Whether the writer marked `words[first..=last]` of `text` as a title:
/// emphasis or quotes around exactly those words (the title's own final
/// `.`, `,`, `?` or `!` may sit inside the closing mark), or, for three
/// words or more besides the small ones (`of`, `and`, …), the words in Title
/// Case inside running text — every word capitalised but the small ones,
/// and neither neighbour in the sentence capitalised too (which would make
/// them part of a longer name or a headline). The length rules that keep short and ordinary titles from
/// matching coincidences do not apply to these.
pub fn writer_marked(
    text: &str,
    lang: Language,
    words: &[ProseWord],
    first: usize,
    last: usize,
) -> bool {
    let (Some(from), Some(to)) = (words.get(first), words.get(last)) else {
        return false;
    };
    let (start, end) = (from.range.start, to.range.end);
    let (Some(before), Some(after)) = (text.get(..start), text.get(end..)) else {
        return false;
    };
    let after_title = after.trim_start_matches(['.', ',', '?', '!']);
    let enclosed = title_marks(lang)
        .iter()
        .any(|(open, close)| before.ends_with(open) && after_title.starts_with(close));
    enclosed || in_title_case(text, words, first, last)
}

fn in_title_case(text: &str, words: &[ProseWord], first: usize, last: usize) -> bool {
    let initial = |w: &ProseWord| text.get(w.range.clone()).and_then(|t| t.chars().next());
    let capitalised = |w: &ProseWord| initial(w).is_some_and(char::is_uppercase);
    let small = |w: &ProseWord| {
        text.get(w.range.clone())
            .is_some_and(|t| TITLE_CASE_SMALL_WORDS.contains(&t))
    };
    let title_case = (first..=last).all(|i| {
        let w = &words[i];
        capitalised(w) || (i != first && i != last && small(w))
    });
    // "Table of Contents" is a heading's phrase more often than a paper.
    let significant = (first..=last).filter(|&i| !small(&words[i])).count();
    if !title_case || significant < 3 {
        return false;
    }
    // A neighbour in the same sentence that is capitalised too.
    let joined = |a: &ProseWord, b: &ProseWord| {
        !b.starts_block
            && text
                .get(a.range.end..b.range.start)
                .is_some_and(|between| !between.contains(['.', ':', ';', '!', '?', '(', ')']))
    };
    let before = first
        .checked_sub(1)
        .map(|p| &words[p])
        .is_some_and(|prev| joined(prev, &words[first]) && capitalised(prev));
    let after = words
        .get(last + 1)
        .is_some_and(|next| joined(&words[last], next) && capitalised(next));
    !before && !after
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
