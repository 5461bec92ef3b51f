//! Prose words of a Typst note.
//!
//! The citation scanner's one pass (`notes::typst`) says what is not prose
//! (code, comments, raw text, math, URLs, labels, references and `cite`
//! calls) and where blocks start (headings, list items, blank lines); the
//! words are those of everything else, content blocks inside code
//! included (`#emph[A Title]` reads as prose). Emphasis markers and quotes
//! are separators, so `_Attention Is All You Need_` is a run of title words.
//! A skipped stretch between two words keeps a title from running across it.

use super::{ProseWord, WordSink};

/// The words of a whole Typst note.
pub(super) fn words(text: &str) -> Vec<ProseWord> {
    let scan = crate::notes::typst::scan(text);
    let mut sink = WordSink::new();
    let (mut skipped, mut blocks) = (scan.skipped.iter().peekable(), scan.block_starts.iter());
    let mut next_block = blocks.next();
    let mut i = 0;
    while i < text.len() {
        while next_block.is_some_and(|&b| b <= i) {
            sink.boundary();
            next_block = blocks.next();
        }
        if let Some(skip) = skipped.peek() {
            if skip.end <= i {
                skipped.next();
                continue;
            }
            if skip.start <= i {
                sink.boundary();
                i = skip.end;
                skipped.next();
                continue;
            }
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        sink.char(i, c);
        i += c.len_utf8();
    }
    sink.finish()
}
