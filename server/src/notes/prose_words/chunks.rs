//! A note cut into chunks that can each be read for prose words on their
//! own, so that after an edit only the chunks it touched are read again.
//!
//! A chunk's words depend only on its own text and the citations inside it
//! (given relative to the chunk), and are exactly the words the whole note
//! gives over the chunk's bytes, ranges shifted by the chunk's start. Every
//! chunk starts a block, so no title runs from one chunk into the next (see
//! [`ProseWord::starts_block`]).
//!
//! - **Markdown**: one chunk per prose run (a paragraph or heading, from the
//!   block pass that also finds citations; front matter, code and comment
//!   blocks lie between chunks). Inside a run every search stops at the
//!   run's end and the scan state starts afresh (see `markdown`), so a run
//!   is exact on its own by construction.
//! - **LaTeX**: the scanner is one pass whose constructs may reach forward
//!   any distance (`$…$`, `\[…\]`, verbatim and math environments), so the
//!   text is cut only at the start of a line that follows a blank line, and
//!   only where the line before the blank line holds no `%` and does not end
//!   with `\`, and no citation spans the cut. There a braced argument, a
//!   bracketed option, spaces before an argument and `\verb` all stop at the
//!   blank line, which also ends the paragraph. What can still reach across
//!   is checked after reading the chunk: its [`ChunkEnd`] records the
//!   closing delimiters it searched for up to its end without finding them
//!   (`$`, `$$`, `\)`, `\]`), and whether it ends inside something (a
//!   verbatim or math environment left open, a word or block running on).
//!   Such a chunk is exact only before text that holds none of those
//!   closings ([`ChunkEnd::holds_before`]; then the whole-note scan does not
//!   find them either, and an unfound closing changes nothing after it);
//!   otherwise it is read together with the chunks after it until the
//!   combined chunk ends cleanly or reaches the note's end.
//!
//! Being cautious about where to cut only costs bigger chunks; the checks
//! after reading are what makes a chunk's words exact.

use super::{latex, markdown, skipped_citations, ProseWord, WordSink};
use crate::notes::markdown::prose_runs;
use crate::notes::{Citation, Language};
use std::ops::Range;

/// The chunks of one note, and the citations the scanner skips in it.
pub struct ProseChunks {
    ranges: Vec<Range<usize>>,
    /// By start: Markdown keys, LaTeX whole cite commands.
    cites: Vec<Range<usize>>,
}

/// Cuts `text` into chunks; `citations` are the note's, as
/// [`citations_in`](crate::notes::citations_in) gives them.
pub fn prose_chunks(text: &str, lang: Language, citations: &[Citation]) -> ProseChunks {
    let cites = skipped_citations(lang, citations);
    let ranges = match lang {
        Language::Markdown => prose_runs(text),
        Language::Latex => latex_chunks(text, &cites),
        // One pass over the whole note (its modes nest without a limit a
        // cut could see): one chunk.
        Language::Typst => std::iter::once(0..text.len()).collect(),
    };
    ProseChunks { ranges, cites }
}

impl ProseChunks {
    /// Reads `text`, the note the chunks were cut from, in exact pieces:
    /// `read(chunk, cites)` reads the text of one chunk with its citations
    /// (relative to it), as [`chunk_words`] does or a cache of it, and says
    /// how the chunk ends. A chunk whose end does not hold before the rest
    /// of the note is read again together with the next 1, 3, 7, … chunks
    /// until it does (which happens in LaTeX only, where chunks are
    /// contiguous), so the reading stays linear. Returns each accepted
    /// piece's bytes and what `read` gave for it, in order.
    pub fn read_exact<T>(
        &self,
        text: &str,
        mut read: impl FnMut(&str, &[Range<usize>]) -> (T, ChunkEnd),
    ) -> Vec<(Range<usize>, T)> {
        let mut pieces = Vec::with_capacity(self.ranges.len());
        let mut first = 0;
        while first < self.ranges.len() {
            let mut count = 1;
            loop {
                let last = (first + count).min(self.ranges.len()) - 1;
                let bytes = self.ranges[first].start..self.ranges[last].end;
                let chunk = text.get(bytes.clone()).unwrap_or_default();
                let (value, end) = read(chunk, &self.cites_in(bytes.clone()));
                let rest = text.get(bytes.end..).unwrap_or_default();
                if last + 1 == self.ranges.len() || end.holds_before(rest) {
                    pieces.push((bytes, value));
                    first = last + 1;
                    break;
                }
                count *= 2;
            }
        }
        pieces
    }

    /// The citations inside `bytes`, relative to its start.
    fn cites_in(&self, bytes: Range<usize>) -> Vec<Range<usize>> {
        let from = self.cites.partition_point(|c| c.start < bytes.start);
        let to = self.cites.partition_point(|c| c.start < bytes.end);
        self.cites[from..to]
            .iter()
            .map(|c| c.start - bytes.start..c.end.saturating_sub(bytes.start))
            .collect()
    }
}

/// What a chunk's words take for granted about the text after the chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkEnd {
    /// Bits of [`CLOSINGS`]: searched for to the chunk's end, not found.
    unfound: u8,
    /// The chunk does not end between two blocks.
    pub(super) runs_on: bool,
}

/// The closings a LaTeX chunk may search for beyond its end.
const CLOSINGS: [&str; 4] = ["$", "$$", "\\)", "\\]"];

impl ChunkEnd {
    /// A search for `closing` reached the end of the text.
    pub(super) fn unfound(&mut self, closing: &str) {
        match CLOSINGS.iter().position(|&c| c == closing) {
            Some(bit) => self.unfound |= 1 << bit,
            None => self.runs_on = true,
        }
    }

    /// Whether the chunk's words are those of the whole note when `rest`
    /// is the text after the chunk.
    pub fn holds_before(&self, rest: &str) -> bool {
        if rest.is_empty() {
            return true;
        }
        !self.runs_on
            && CLOSINGS
                .iter()
                .enumerate()
                .all(|(bit, closing)| self.unfound & (1 << bit) == 0 || !rest.contains(closing))
    }
}

/// The words of one chunk read on its own, ranges relative to the chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkWords {
    pub words: Vec<ProseWord>,
    pub end: ChunkEnd,
}

/// The words of a chunk with its citations, as
/// [`ProseChunks::read_exact`] hands them out.
pub fn chunk_words(chunk: &str, lang: Language, cites: &[Range<usize>]) -> ChunkWords {
    match lang {
        Language::Markdown => {
            let mut sink = WordSink::new();
            markdown::run_words(chunk, 0..chunk.len(), cites, &mut sink);
            ChunkWords {
                words: sink.finish(),
                end: ChunkEnd::default(),
            }
        }
        Language::Latex => {
            let (words, end) = latex::words(chunk, cites);
            ChunkWords { words, end }
        }
        Language::Typst => ChunkWords {
            words: super::typst::words(chunk),
            end: ChunkEnd::default(),
        },
    }
}

/// Where a LaTeX text may be cut (see the module documentation): the
/// chunks, contiguous, covering the text.
fn latex_chunks(text: &str, cites: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    // The last non-blank line, and whether a blank line followed it.
    let mut last_line = 0..0;
    let mut blank_after = false;
    let (mut next_cite, mut cited_to) = (0, 0);
    let mut line_start = 0;
    while line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |p| line_start + p);
        if text[line_start..line_end].trim().is_empty() {
            blank_after = !last_line.is_empty();
        } else {
            while let Some(c) = cites.get(next_cite).filter(|c| c.start < line_start) {
                cited_to = cited_to.max(c.end);
                next_cite += 1;
            }
            let before = &text[last_line.clone()];
            if blank_after
                && !before.contains('%')
                && !before.ends_with('\\')
                && cited_to <= line_start
            {
                chunks.push(start..line_start);
                start = line_start;
            }
            blank_after = false;
            last_line = line_start..line_end;
        }
        line_start = line_end + 1;
    }
    if start < text.len() {
        chunks.push(start..text.len());
    }
    chunks
}
