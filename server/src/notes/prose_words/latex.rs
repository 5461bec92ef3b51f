//! Prose words of a LaTeX note.
//!
//! One pass over the text as TeX would read it: comments (which also eat
//! their line break, so `Grok%` + newline + `fast` is one word), `\verb`,
//! verbatim and math environments, `$…$`, `\(…\)` and `\[…\]` are skipped;
//! braces are invisible; a control word ends a word unless it is an accent
//! or a special letter (`\"o`, `\v{s}`, `\ss`, `\o`), which joins it.
//! Citations are skipped whole, with the ranges the citation scanner gives.
//! Commands that hold no prose have their arguments skipped; sectioning
//! commands, `\item`, `\caption`, `\footnote`, environments and blank
//! lines start a block, and so does the end of their argument.
//!
//! The verbatim environments are those the citation scanner skips; the
//! scanner's own helpers read arguments and comments.
//!
//! The same pass reads a chunk of a note on its own (see `chunks`), and
//! then records in a [`ChunkEnd`] where it depended on the text running
//! out: a closing `$`, `$$`, `\)` or `\]` searched for and not found, an
//! environment or `\verb` running to the end, a word or block left open.

use super::{blank_line_after, char_at, ChunkEnd, ProseWord, WordSink};
use crate::notes::latex::VERBATIM_ENVIRONMENTS;
use crate::notes::latex::{line_end, skip_arguments, skip_space};
use std::ops::Range;

/// Environments whose body is not prose besides the verbatim ones the
/// citation scanner knows (`super::super::latex::VERBATIM_ENVIRONMENTS`):
/// math and pictures.
const MATH_AND_PICTURE_ENVIRONMENTS: &[&str] = &[
    "equation",
    "equation*",
    "align",
    "align*",
    "alignat",
    "alignat*",
    "flalign",
    "flalign*",
    "gather",
    "gather*",
    "multline",
    "multline*",
    "eqnarray",
    "eqnarray*",
    "math",
    "displaymath",
    "tikzpicture",
    "picture",
];

/// Commands whose arguments hold no prose, with how many braced arguments
/// they take (optional `[…]` arguments are skipped as well).
const NON_PROSE_COMMANDS: &[(&str, usize)] = &[
    ("label", 1),
    ("ref", 1),
    ("eqref", 1),
    ("pageref", 1),
    ("autoref", 1),
    ("cref", 1),
    ("Cref", 1),
    ("vref", 1),
    ("nameref", 1),
    ("url", 1),
    ("href", 1),
    ("hyperref", 0),
    ("includegraphics", 1),
    ("input", 1),
    ("include", 1),
    ("includeonly", 1),
    ("subfile", 1),
    ("import", 2),
    ("subimport", 2),
    ("bibliography", 1),
    ("bibliographystyle", 1),
    ("addbibresource", 1),
    ("nobibliography", 1),
    ("usepackage", 1),
    ("RequirePackage", 1),
    ("documentclass", 1),
    ("newcommand", 2),
    ("renewcommand", 2),
    ("providecommand", 2),
    ("newenvironment", 3),
    ("renewenvironment", 3),
    ("DeclareMathOperator", 2),
    ("setlength", 2),
    ("addtolength", 2),
    ("setcounter", 2),
    ("addtocounter", 2),
    ("vspace", 1),
    ("hspace", 1),
    ("color", 1),
    ("textcolor", 1),
    ("pagestyle", 1),
    ("thispagestyle", 1),
    ("bibitem", 1),
    ("hypersetup", 1),
    ("graphicspath", 1),
    ("newtheorem", 2),
    ("def", 2),
    ("pgfplotsset", 1),
    ("tikzset", 1),
];

/// Commands that start a block; those with an argument end one after it.
const BLOCK_COMMANDS: &[&str] = &[
    "part",
    "chapter",
    "section",
    "subsection",
    "subsubsection",
    "paragraph",
    "subparagraph",
    "caption",
    "footnote",
    "footnotetext",
    "title",
    "author",
    "date",
    "thanks",
    "marginpar",
    "todo",
    "item",
    "par",
    "maketitle",
    "bibitem",
];

/// The longest braced argument looked for, in bytes: a footnote or a
/// macro body, not a whole document after a missing `}`.
const MAX_GROUP: usize = 16 * 1024;

/// Accents written as a control symbol (`\"o`, `\'{e}`).
const ACCENT_SYMBOLS: &[u8] = b"\"'`^~=.";
/// Accents written as a one-letter control word (`\v{s}`, `\c c`).
const ACCENT_WORDS: &[&str] = &["c", "v", "u", "H", "k", "r", "d", "b", "t"];
/// Letters written as control words, and what they spell.
const SPECIAL_LETTERS: &[(&str, &str)] = &[
    ("ss", "ss"),
    ("o", "o"),
    ("O", "O"),
    ("ae", "ae"),
    ("AE", "AE"),
    ("oe", "oe"),
    ("OE", "OE"),
    ("aa", "a"),
    ("AA", "A"),
    ("l", "l"),
    ("L", "L"),
    ("i", "i"),
    ("j", "j"),
];

/// The words of `text` (a whole note, or a chunk of one read on its own),
/// and what they take for granted about any text after it. `cites` are the
/// whole citations, by start, without duplicates.
pub(super) fn words(text: &str, cites: &[Range<usize>]) -> (Vec<ProseWord>, ChunkEnd) {
    let mut scan = Scan {
        text,
        sink: WordSink::new(),
        cites,
        next_cite: 0,
        closes: Vec::new(),
        no_dollar_from: None,
        no_close_from: Vec::new(),
        end: ChunkEnd::default(),
    };
    let mut i = 0;
    while i < text.len() {
        i = scan.step(i);
    }
    // Text after this starts afresh, as a scan of the whole note would
    // take it, only if no word is open and a block boundary is pending.
    if scan.sink.is_open() || !scan.sink.block {
        scan.end.runs_on = true;
    }
    (scan.sink.finish(), scan.end)
}

struct Scan<'t> {
    text: &'t str,
    sink: WordSink,
    /// Whole citations in order; `next_cite` is the first not yet passed.
    cites: &'t [Range<usize>],
    next_cite: usize,
    /// Offsets of the `}` that end the arguments of block commands, the
    /// innermost last.
    closes: Vec<usize>,
    /// No unescaped `$` after this offset; no closing `\)`, `\]` or `$$`
    /// after the offset paired with it.
    no_dollar_from: Option<usize>,
    no_close_from: Vec<(&'static str, usize)>,
    /// Searches that reached the end of the text: what the words assume
    /// about text after it.
    end: ChunkEnd,
}

impl Scan<'_> {
    /// Consumes what starts at `i` and returns where the next thing starts.
    fn step(&mut self, i: usize) -> usize {
        let bytes = self.text.as_bytes();
        match bytes[i] {
            b'%' => self.comment(i),
            b'\\' => self.backslash(i),
            b'{' => {
                let accent_follows = bytes.get(i + 1) == Some(&b'\\')
                    && bytes.get(i + 2).is_some_and(|b| ACCENT_SYMBOLS.contains(b));
                if self.sink.is_open() {
                    self.sink.open_braces += 1;
                } else if accent_follows {
                    self.sink.join(i);
                    self.sink.open_braces = 1;
                }
                i + 1
            }
            b'}' => {
                while self.closes.last().is_some_and(|&c| c < i) {
                    self.closes.pop();
                }
                if self.closes.last() == Some(&i) {
                    self.closes.pop();
                    self.sink.boundary();
                } else if self.sink.is_open() && self.sink.open_braces > 0 {
                    self.sink.open_braces -= 1;
                    self.sink.end = i + 1;
                }
                i + 1
            }
            b'$' => self.math(i),
            b'\n' => {
                self.sink.flush();
                if blank_line_after(self.text, i) {
                    self.sink.boundary();
                }
                i + 1
            }
            _ => match char_at(self.text, i) {
                Some(c) => {
                    self.sink.char(i, c);
                    i + c.len_utf8()
                }
                None => i + 1,
            },
        }
    }

    /// A comment: skipped with its line break and the next line's leading
    /// spaces, as TeX does; a blank line after it still ends a paragraph.
    fn comment(&mut self, i: usize) -> usize {
        let mut next = line_end(self.text, i) + 1;
        let bytes = self.text.as_bytes();
        while next < bytes.len() && matches!(bytes[next], b' ' | b'\t') {
            next += 1;
        }
        if next < bytes.len() && matches!(bytes[next], b'\n' | b'\r') {
            self.sink.boundary();
        }
        next.min(self.text.len())
    }

    fn backslash(&mut self, i: usize) -> usize {
        let bytes = self.text.as_bytes();
        let name_len = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        if name_len > 0 {
            return self.control_word(i, i + 1 + name_len);
        }
        match bytes.get(i + 1) {
            Some(b) if ACCENT_SYMBOLS.contains(b) => {
                self.sink.join(i);
                i + 2
            }
            // A discretionary hyphen: nothing to a reader.
            Some(b'-') => i + 2,
            Some(b'(') => self.skip_to(i, "\\)"),
            Some(b'[') => self.skip_to(i, "\\]"),
            _ => {
                self.sink.flush();
                i + 1 + char_at(self.text, i + 1).map_or(0, char::len_utf8)
            }
        }
    }

    /// A control word from the backslash at `i` to `name_end`.
    fn control_word(&mut self, i: usize, name_end: usize) -> usize {
        if let Some(end) = self.citation_at(i) {
            self.sink.boundary();
            return end;
        }
        let name = &self.text[i + 1..name_end];
        if let Some(&(_, letters)) = SPECIAL_LETTERS.iter().find(|(n, _)| *n == name) {
            let end = if self.text[name_end..].starts_with("{}") {
                name_end + 2
            } else {
                name_end
            };
            self.sink.letters(i, end, letters);
            return skip_blanks(self.text, end);
        }
        if ACCENT_WORDS.contains(&name) {
            self.sink.join(i);
            return skip_blanks(self.text, name_end);
        }
        match name {
            "verb" => self.verb(name_end),
            "begin" | "end" => self.environment(name_end, name == "begin"),
            _ => {
                if let Some(&(_, groups)) = NON_PROSE_COMMANDS.iter().find(|(n, _)| *n == name) {
                    self.sink.boundary();
                    return skip_groups(self.text, name_end, groups);
                }
                if BLOCK_COMMANDS.contains(&name) {
                    self.sink.boundary();
                    return self.block_argument(name_end);
                }
                self.sink.flush();
                name_end
            }
        }
    }

    /// The end of the citation whose command starts at `i`, if one does.
    fn citation_at(&mut self, i: usize) -> Option<usize> {
        while self.cites.get(self.next_cite).is_some_and(|c| c.start < i) {
            self.next_cite += 1;
        }
        let cite = self.cites.get(self.next_cite)?;
        (cite.start == i).then_some(cite.end)
    }

    /// After a block command's name: its star and optional arguments are
    /// skipped, and the end of its braced argument, if any, ends a block.
    fn block_argument(&mut self, name_end: usize) -> usize {
        let mut pos = name_end;
        if self.text[pos..].starts_with('*') {
            pos += 1;
        }
        pos = skip_arguments(self.text, pos, b'[', b']');
        let open = skip_space(self.text, pos);
        if let Some(inner) = brace_group(self.text, open) {
            self.closes.push(inner.end);
            return open + 1;
        }
        pos
    }

    /// `\begin{name}` or `\end{name}`: a block boundary; the body of a
    /// skipped environment is skipped with it.
    fn environment(&mut self, name_end: usize, begin: bool) -> usize {
        self.sink.boundary();
        let open = skip_space(self.text, name_end);
        let Some(inner) = brace_group(self.text, open) else {
            return name_end;
        };
        let env = &self.text[inner.clone()];
        let after = inner.end + 1;
        if !begin {
            return after;
        }
        if VERBATIM_ENVIRONMENTS.contains(&env) || MATH_AND_PICTURE_ENVIRONMENTS.contains(&env) {
            let end_tag = format!("\\end{{{env}}}");
            return match self.text[after..].find(&end_tag) {
                Some(p) => after + p + end_tag.len(),
                None => {
                    self.end.runs_on = true;
                    self.text.len()
                }
            };
        }
        let pos = skip_arguments(self.text, after, b'[', b']');
        let specs = match env {
            "tabular" | "array" | "longtable" => 1,
            "tabularx" | "tabulary" | "tabular*" => 2,
            _ => 0,
        };
        skip_groups(self.text, pos, specs)
    }

    /// `\verb|text|` (any delimiter, on one line): skipped.
    fn verb(&mut self, name_end: usize) -> usize {
        self.sink.boundary();
        let mut pos = name_end;
        if self.text[pos..].starts_with('*') {
            pos += 1;
        }
        let Some(delim) = char_at(self.text, pos) else {
            return pos;
        };
        let body = pos + delim.len_utf8();
        match self.text[body..].find([delim, '\n']) {
            Some(p) if self.text[body + p..].starts_with(delim) => body + p + delim.len_utf8(),
            Some(p) => body + p,
            None => {
                self.end.runs_on = true;
                self.text.len()
            }
        }
    }

    /// Skips from the two-character opener at `i` past the next `close`,
    /// or just the opener when there is none.
    fn skip_to(&mut self, i: usize, close: &'static str) -> usize {
        self.sink.flush();
        let from = i + 2;
        if self
            .no_close_from
            .iter()
            .any(|&(c, at)| c == close && at <= from)
        {
            return from;
        }
        match self.text[from..].find(close) {
            Some(p) => {
                self.sink.boundary();
                from + p + close.len()
            }
            None => {
                self.no_close_from.push((close, from));
                self.end.unfound(close);
                from
            }
        }
    }

    /// `$math$` or `$$display$$`: skipped; an unclosed `$` is left alone.
    fn math(&mut self, i: usize) -> usize {
        if self.text[i..].starts_with("$$") {
            return self.skip_to(i, "$$");
        }
        self.sink.flush();
        if self.no_dollar_from.is_some_and(|at| at <= i) {
            return i + 1;
        }
        let bytes = self.text.as_bytes();
        match (i + 1..bytes.len()).find(|&j| bytes[j] == b'$' && bytes[j - 1] != b'\\') {
            Some(j) => {
                self.sink.boundary();
                j + 1
            }
            None => {
                self.no_dollar_from = Some(i);
                self.end.unfound("$");
                i + 1
            }
        }
    }
}

/// Skips `groups` braced arguments after `pos`, each optionally preceded
/// by `[…]` arguments; a control word stands for a group (`\newcommand\x`).
/// Stops at the first argument that is missing or unclosed.
fn skip_groups(text: &str, mut pos: usize, groups: usize) -> usize {
    if text[pos..].starts_with('*') {
        pos += 1;
    }
    for _ in 0..groups {
        let open = skip_space(text, skip_arguments(text, pos, b'[', b']'));
        let bytes = text.as_bytes();
        if bytes.get(open) == Some(&b'\\') {
            let len = bytes[open + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphabetic())
                .count();
            // `\def\name#1#2{…}`: the parameter text up to the body.
            pos = match len {
                0 => open + 1 + char_at(text, open + 1).map_or(0, char::len_utf8),
                _ => open + 1 + len,
            };
            pos += text[pos..]
                .bytes()
                .take_while(|&b| b == b'#' || b.is_ascii_digit())
                .count();
            continue;
        }
        match brace_group(text, open) {
            Some(inner) => pos = inner.end + 1,
            None => break,
        }
    }
    pos.min(text.len())
}

/// The inside of the `{…}` group whose `{` is at `open`, braces balanced
/// (escaped ones and comments aside); `None` when there is no group there
/// or it is not closed before a blank line or within `MAX_GROUP` bytes.
fn brace_group(text: &str, open: usize) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    if bytes.get(open) != Some(&b'{') {
        return None;
    }
    let mut depth = 0usize;
    let mut i = open;
    let limit = open.saturating_add(MAX_GROUP).min(bytes.len());
    while i < limit {
        match bytes[i] {
            b'\\' => i += 1,
            b'%' => i = line_end(text, i),
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + 1..i);
                }
            }
            b'\n' if blank_line_after(text, i) => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// After a control word TeX skips spaces; so does this.
fn skip_blanks(text: &str, pos: usize) -> usize {
    pos + text[pos..]
        .bytes()
        .take_while(|&b| b == b' ' || b == b'\t')
        .count()
}
