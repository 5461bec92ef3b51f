//! Stateless scanning over one file's bytes: where items start (`@type{` at
//! a line start is what recovery and parallel parsing cut at), where blanks
//! and `%` comments end, which bytes make names and keys, and where the next
//! byte that matters inside a value is. All delimiters are ASCII, so every
//! offset returned here is a char boundary of the text.

use std::ops::Range;

#[derive(Clone, Copy)]
pub(super) struct Scan<'t> {
    pub(super) text: &'t str,
    pub(super) b: &'t [u8],
}

impl<'t> Scan<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Scan {
            text,
            b: text.as_bytes(),
        }
    }

    /// Where a piece of the text that starts at or after `from` may begin:
    /// the `@` of an entry that starts a line, or the end. Parsing a piece
    /// from there gives the same items as parsing the whole text, because
    /// no value or block runs past such a line (the parser's recovery rule).
    pub(super) fn piece_start(&self, from: usize) -> usize {
        self.recovery_point(from)
    }

    /// The next `@` at or after `from` that is not on a `%` comment line.
    /// `lines` remembers how far the current line has been read, so that a
    /// long line with many `@` is read once rather than once per `@`.
    pub(super) fn next_at(&self, from: usize, lines: &mut LineMemo) -> Option<usize> {
        let mut from = from;
        loop {
            let at = from + self.b.get(from..)?.iter().position(|&b| b == b'@')?;
            if !lines.starts_with_percent(self.b, at) {
                return Some(at);
            }
            from = self.line_end(at);
        }
    }

    /// For an `@` at `at` that begins `@type{` or `@type(`: the type's
    /// range and the offset of the opening delimiter. Blanks, line breaks
    /// included, may separate the `@`, the type and the delimiter, as in
    /// BibTeX (btxdoc's own example of legal syntax puts the `@` at the
    /// end of a line and the type on the next).
    pub(super) fn header(&self, at: usize) -> Option<(Range<usize>, usize)> {
        let mut i = at + 1;
        while self.b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let word = self.word_at(i);
        if !word.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        let kind = i..i + word.len();
        let open = self.skip_ws(kind.end);
        matches!(self.b.get(open), Some(b'{' | b'(')).then_some((kind, open))
    }

    /// The run of type-name characters at `i`.
    pub(super) fn word_at(&self, i: usize) -> &'t str {
        let len = self
            .b
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            .count();
        &self.text[i.min(self.b.len())..i.min(self.b.len()) + len]
    }

    /// True when the line after the newline at `newline` starts an entry.
    pub(super) fn entry_starts_after(&self, newline: usize) -> bool {
        let mut i = newline + 1;
        while matches!(self.b.get(i), Some(b' ' | b'\t' | b'\r')) {
            i += 1;
        }
        self.b.get(i) == Some(&b'@') && self.header(i).is_some()
    }

    /// The first line-start entry at or after `from`, or the end of text.
    pub(super) fn recovery_point(&self, from: usize) -> usize {
        let from = from.min(self.b.len());
        let line_start = self.b[..from]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |nl| nl + 1);
        let at = from
            + self.b[from..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
        let blank_before = self.b[line_start..from]
            .iter()
            .all(|b| b.is_ascii_whitespace());
        if blank_before && self.b.get(at) == Some(&b'@') && self.header(at).is_some() {
            return at;
        }
        let mut i = from;
        while let Some(nl) = self.b[i..].iter().position(|&b| b == b'\n') {
            i += nl;
            if self.entry_starts_after(i) {
                return i + 1;
            }
            i += 1;
        }
        self.b.len()
    }

    pub(super) fn line_end(&self, from: usize) -> usize {
        self.b
            .get(from..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
            .map_or(self.b.len(), |i| from + i + 1)
    }

    /// Skips whitespace and `%` comments. BibTeX itself has no comments
    /// inside entries, but biber does and people comment out fields.
    pub(super) fn skip_ws(&self, from: usize) -> usize {
        let mut i = from;
        loop {
            match self.b.get(i) {
                Some(b) if b.is_ascii_whitespace() => i += 1,
                Some(b'%') => i = self.line_end(i),
                _ => return i,
            }
        }
    }

    /// Length of the identifier (field or macro name) at `i`.
    pub(super) fn ident_len(&self, i: usize) -> usize {
        self.b
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| is_ident_byte(b))
            .count()
    }

    pub(super) fn char_at(&self, i: usize) -> char {
        self.text
            .get(i..)
            .and_then(|rest| rest.chars().next())
            .unwrap_or(' ')
    }
}

pub(super) fn count_newlines(bytes: &[u8]) -> usize {
    // Summing 64 flags at a time in a `u8` lets the loop use wide vectors.
    bytes
        .chunks(64)
        .map(|chunk| chunk.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>() as usize)
        .sum()
}

/// The first byte at or after `from` that matters inside a value (a brace,
/// a quote or a newline), or the end. Checks 16 bytes at a time without
/// branching, since values are most of a file.
pub(super) fn next_value_byte(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(window) = bytes.get(i..i + 16) {
        let hits = window
            .iter()
            .fold(0, |hits, &b| hits | BYTE_CLASS[b as usize]);
        if hits & VALUE_STOP != 0 {
            break;
        }
        i += 16;
    }
    while i < bytes.len() && BYTE_CLASS[bytes[i] as usize] & VALUE_STOP == 0 {
        i += 1;
    }
    i
}

/// Bytes of field and macro names: BibTeX excludes these from identifiers.
pub(super) fn is_ident_byte(b: u8) -> bool {
    BYTE_CLASS[b as usize] & IDENT != 0
}

/// Bytes of citation keys. Parentheses are allowed in a `{...}` entry's key
/// (BibTeX accepts them there), not in a `(...)` entry's.
pub(super) fn is_key_byte(b: u8, close: u8) -> bool {
    BYTE_CLASS[b as usize] & KEY != 0 && !(close == b')' && (b == b'(' || b == b')'))
}

const IDENT: u8 = 1;
const KEY: u8 = 2;
const VALUE_STOP: u8 = 4;
/// Per-byte flags, so the hot loops over names test one table entry.
const BYTE_CLASS: [u8; 256] = {
    let mut table = [IDENT | KEY; 256];
    let mut i = 0;
    while i < 256 {
        if (i as u8).is_ascii_whitespace() {
            table[i] = 0;
        }
        i += 1;
    }
    let not_ident = b"\"#%'(),={}@";
    let mut i = 0;
    while i < not_ident.len() {
        table[not_ident[i] as usize] &= !IDENT;
        i += 1;
    }
    let not_key = b",{}=\"#";
    let mut i = 0;
    while i < not_key.len() {
        table[not_key[i] as usize] &= !KEY;
        i += 1;
    }
    let value_stops = b"{}\"\n";
    let mut i = 0;
    while i < value_stops.len() {
        table[value_stops[i] as usize] |= VALUE_STOP;
        i += 1;
    }
    table
};

/// What is known of the line holding the last offset asked about: where it
/// starts and its first non-blank byte up to that offset. Asking about
/// offsets in increasing order reads each byte once.
#[derive(Default)]
pub(super) struct LineMemo {
    read_to: usize,
    line_start: usize,
    first: Option<u8>,
}

impl LineMemo {
    /// A memo that has read nothing before `offset`, where a line starts
    /// (or only blanks precede it on its line).
    pub(super) fn starting_at(offset: usize) -> LineMemo {
        LineMemo {
            read_to: offset,
            line_start: offset,
            first: None,
        }
    }

    /// Whether the first non-blank byte of `at`'s line, before `at`, is `%`.
    fn starts_with_percent(&mut self, b: &[u8], at: usize) -> bool {
        if at < self.line_start {
            *self = LineMemo::default();
        }
        if at < self.read_to {
            // Asked again about an earlier offset of the same line: read the
            // line's start afresh (rare; the parser only moves forward).
            self.read_to = self.line_start;
            self.first = None;
        }
        for (i, &byte) in b[self.read_to..at].iter().enumerate() {
            if byte == b'\n' {
                self.line_start = self.read_to + i + 1;
                self.first = None;
            } else if self.first.is_none() && !byte.is_ascii_whitespace() {
                self.first = Some(byte);
            }
        }
        self.read_to = at;
        self.first == Some(b'%')
    }
}
