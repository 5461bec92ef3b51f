//! The one place that converts between byte offsets and LSP positions.
//!
//! Inside the server every location is a byte offset into UTF-8 text. LSP
//! positions are (line, character) pairs whose character counts UTF-16 code
//! units by default, or UTF-8 bytes when the client offers that encoding. A
//! [`LineIndex`] is built once per version of a text and answers both ways.
//! Lines end at `\n`, `\r\n` or `\r`, as LSP defines them; the terminator is
//! not part of a line's characters.
//!
//! The same index gives the 1-based line numbers that corpus problems and
//! `paper-ls check` report, and the key columns stored with each paper.
//!
//! This module deliberately depends on no LSP crate: the protocol layer
//! turns `(line, character)` into its own `Position` type. Conversions never
//! panic: offsets past the end or inside a character are clamped, and a
//! position past a line's end lands on the line's end.

/// How the `character` of an LSP position counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PositionEncoding {
    /// UTF-8 code units (bytes): `utf-8`.
    Utf8,
    /// UTF-16 code units: `utf-16`, the LSP default.
    #[default]
    Utf16,
}

impl PositionEncoding {
    fn width(self, c: char) -> usize {
        match self {
            PositionEncoding::Utf8 => c.len_utf8(),
            PositionEncoding::Utf16 => c.len_utf16(),
        }
    }
}

/// Where each line of a text starts. Built once per text version; every
/// query takes that same text again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIndex {
    /// Byte offset of the start of each line; the first is always 0.
    line_starts: Vec<usize>,
    /// A bit per line, set when the line is ASCII: its columns are byte
    /// counts in either encoding, found without reading the line again (a
    /// vault's references turn thousands of offsets deep in kilobyte-long
    /// paragraphs into positions, and reading those lines back from memory
    /// was most of the cost).
    ascii_lines: Vec<u64>,
    /// For a text that is not all ASCII: the UTF-16 units of the text
    /// before each block of [`UNIT_BLOCK`] bytes, so a column on a long
    /// line that is not ASCII counts at most two blocks' bytes rather than
    /// the line up to it. Empty for ASCII text.
    units_before_block: Vec<u32>,
}

/// Bytes per block of [`LineIndex::units_before_block`].
const UNIT_BLOCK: usize = 128;

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut after_cr = usize::MAX;
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            if bytes[i] == b'\n' && after_cr == i {
                // The `\n` of `\r\n`: the line already started after it.
                *line_starts.last_mut().unwrap_or(&mut 0) = i + 1;
                continue;
            }
            line_starts.push(i + 1);
            after_cr = if bytes[i] == b'\r' { i + 1 } else { usize::MAX };
        }
        let mut ascii_lines = vec![0u64; line_starts.len().div_ceil(64)];
        let mut units_before_block = Vec::new();
        if bytes.is_ascii() {
            ascii_lines.fill(u64::MAX);
        } else {
            for (line, &start) in line_starts.iter().enumerate() {
                let end = line_starts.get(line + 1).copied().unwrap_or(bytes.len());
                if bytes[start..end].is_ascii() {
                    ascii_lines[line / 64] |= 1 << (line % 64);
                }
            }
            if u32::try_from(bytes.len()).is_ok() {
                units_before_block.reserve(bytes.len() / UNIT_BLOCK + 2);
                units_before_block.push(0);
                let mut units = 0u32;
                for block in bytes.chunks(UNIT_BLOCK) {
                    // Never more units than bytes, so within u32 here.
                    units += utf16_units_of_bytes(block) as u32;
                    units_before_block.push(units);
                }
            }
        }
        LineIndex {
            line_starts,
            ascii_lines,
            units_before_block,
        }
    }

    /// The UTF-16 units of `bytes[..at]`, from the block table; `None`
    /// without one, or when `bytes` is not the text the index was built
    /// from as far as its length tells.
    fn units_before(&self, bytes: &[u8], at: usize) -> Option<usize> {
        let block = at / UNIT_BLOCK;
        let before = *self.units_before_block.get(block)? as usize;
        let from = block * UNIT_BLOCK;
        Some(before + utf16_units_of_bytes(bytes.get(from..at)?))
    }

    fn is_ascii_line(&self, line: usize) -> bool {
        self.ascii_lines
            .get(line / 64)
            .is_some_and(|bits| bits & (1 << (line % 64)) != 0)
    }

    /// The 0-based line that `offset` is on (an offset past the end is on
    /// the last line).
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// The 1-based line number of `offset`, as files report lines.
    pub fn line_number(&self, offset: usize) -> u32 {
        saturating_u32(self.line_of(offset) + 1)
    }

    /// Where the line with 1-based number `line` starts.
    pub fn start_of_line_number(&self, line: u32) -> usize {
        self.line_start(line.saturating_sub(1) as usize)
    }

    /// Where the 0-based `line` starts (the end of the last line past it).
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line)
            .or(self.line_starts.last())
            .copied()
            .unwrap_or(0)
    }

    /// The number of lines; a text ending in a line break has an empty last
    /// line after it.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The LSP position of `offset`. An offset past the end is taken as the
    /// end, one inside a character as that character's start, and one inside
    /// a line terminator as the end of that line.
    pub fn position(&self, text: &str, offset: usize, enc: PositionEncoding) -> (u32, u32) {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        if self.is_ascii_line(line) {
            // Every byte is a character, and an offset two bytes or more
            // before the next line is at or before its terminator (`\r\n`
            // at most): the column is known without reading the text (a
            // vault's thousands of answers each sat on a line read back
            // from memory only for this).
            let start = self.line_starts[line];
            match self.line_starts.get(line + 1) {
                None => return (saturating_u32(line), saturating_u32(offset - start)),
                Some(&next) if offset + 2 <= next => {
                    return (saturating_u32(line), saturating_u32(offset - start))
                }
                Some(_) => {}
            }
        }
        let offset = floor_char_boundary(text, offset);
        let line = self.line_of(offset);
        let (start, end) = self.line_bounds(text, line);
        let upto = offset.clamp(start, end);
        let before = &text[start..upto];
        // Every character is one unit of either encoding in ASCII, and one
        // byte is one unit of UTF-8: no need to walk the characters (a
        // note's paragraph is a line of a kilobyte or more).
        let character: usize =
            if enc == PositionEncoding::Utf8 || self.is_ascii_line(line) || before.is_ascii() {
                before.len()
            } else {
                let bytes = text.as_bytes();
                match (
                    self.units_before(bytes, upto),
                    self.units_before(bytes, start),
                ) {
                    (Some(to), Some(from)) if to >= from => to - from,
                    _ => utf16_units(before),
                }
            };
        (saturating_u32(line), saturating_u32(character))
    }

    /// The byte offset of an LSP position, or `None` when `line` is past the
    /// last line. A `character` past the line's end means the line's end (as
    /// LSP specifies); one inside a character (half a surrogate pair, part
    /// of a UTF-8 sequence) means that character's start.
    pub fn offset(
        &self,
        text: &str,
        line: u32,
        character: u32,
        enc: PositionEncoding,
    ) -> Option<usize> {
        let line = usize::try_from(line).ok()?;
        if line >= self.line_starts.len() {
            return None;
        }
        let (start, end) = self.line_bounds(text, line);
        let target = usize::try_from(character).unwrap_or(usize::MAX);
        if text[start..end].is_ascii() {
            return Some(start + target.min(end - start));
        }
        let mut units = 0usize;
        for (i, c) in text[start..end].char_indices() {
            let next = units + enc.width(c);
            if next > target {
                return Some(start + i);
            }
            units = next;
        }
        Some(end)
    }

    /// The content of line `line`: from its start to before its terminator,
    /// both clamped to char boundaries of `text` in case the text is not the
    /// one this index was built from.
    fn line_bounds(&self, text: &str, line: usize) -> (usize, usize) {
        let start = floor_char_boundary(text, self.line_starts[line]);
        let next = self
            .line_starts
            .get(line + 1)
            .map_or(text.len(), |&n| floor_char_boundary(text, n));
        let content = &text[start..next.max(start)];
        let content = content
            .strip_suffix("\r\n")
            .or_else(|| content.strip_suffix('\n'))
            .or_else(|| content.strip_suffix('\r'))
            .unwrap_or(content);
        (start, start + content.len())
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// How many UTF-16 code units `text` takes: one per character, two for a
/// character beyond the Basic Multilingual Plane (a four-byte sequence in
/// UTF-8). Counted over bytes — a character starts at every byte that is
/// not a continuation byte — which the compiler vectorises.
fn utf16_units(text: &str) -> usize {
    utf16_units_of_bytes(text.as_bytes())
}

/// [`utf16_units`] of any stretch of UTF-8 bytes, even one that starts or
/// ends inside a character: counted per byte, so the counts of two
/// stretches add up to the count of both.
fn utf16_units_of_bytes(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::PositionEncoding::{Utf16, Utf8};
    use super::*;

    /// φ (2 bytes, 1 unit), ï (2, 1), 🔬 (4 bytes, 2 UTF-16 units), 漢 (3, 1).
    const MIXED: &str = "aφï🔬漢 target\r\nline two 🔬x\rthree\n\nlast";

    #[test]
    fn positions_on_a_mixed_line() {
        let index = LineIndex::new(MIXED);
        let target = MIXED.find("target").unwrap();
        assert_eq!(target, 1 + 2 + 2 + 4 + 3 + 1);
        assert_eq!(index.position(MIXED, target, Utf8), (0, 13));
        assert_eq!(index.position(MIXED, target, Utf16), (0, 7));
        assert_eq!(index.offset(MIXED, 0, 13, Utf8), Some(target));
        assert_eq!(index.offset(MIXED, 0, 7, Utf16), Some(target));
        let x = MIXED.find('x').unwrap();
        assert_eq!(index.position(MIXED, x, Utf16), (1, 11));
        assert_eq!(index.position(MIXED, x, Utf8), (1, 13));
        assert_eq!(
            index.position(MIXED, MIXED.find("three").unwrap(), Utf16),
            (2, 0)
        );
        assert_eq!(index.position(MIXED, MIXED.len(), Utf16), (4, 4));
        assert_eq!(index.line_count(), 5);
    }

    #[test]
    fn columns_on_many_lines_ascii_or_not_count_what_the_line_holds() {
        // More than 64 lines, so the per-line ASCII bits span several words.
        let text: String = (0..150)
            .map(|i| match i % 3 {
                0 => format!("plain line {i} with a key\n"),
                1 => format!("π and 🔬 on line {i} with a key\r\n"),
                _ => format!("ascii again {i} with a key\r"),
            })
            .collect();
        let index = LineIndex::new(&text);
        let mut found = 0;
        for (at, _) in text.match_indices("key") {
            let start = text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
            let before = &text[start..at];
            let line = text[..start].matches('\n').count() + text[..start].matches('\r').count()
                - text[..start].matches("\r\n").count();
            assert_eq!(
                index.position(&text, at, Utf16),
                (line as u32, before.encode_utf16().count() as u32)
            );
            assert_eq!(
                index.position(&text, at, Utf8),
                (line as u32, before.len() as u32)
            );
            found += 1;
        }
        assert_eq!(found, 150);
    }

    #[test]
    fn every_offset_of_ascii_lines_with_each_terminator() {
        let text = "ab\r\ncd\r\n\r\nef\ngh\rij\n\nk";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() + 2 {
            // By the definition: the line is the number of terminators
            // before the offset, the column the bytes from the line's start
            // to the offset or to the line's terminator, whichever is first.
            let at = offset.min(text.len());
            let before = &text[..at];
            let line = before.matches(['\r', '\n']).count()
                - before.matches("\r\n").count()
                - usize::from(before.ends_with('\r') && text[at..].starts_with('\n'));
            let start = index.line_start(line);
            let end = text[start..]
                .find(['\r', '\n'])
                .map_or(text.len(), |e| start + e);
            let want = (line as u32, (at.min(end) - start) as u32);
            assert_eq!(index.position(text, offset, Utf16), want, "offset {offset}");
            assert_eq!(index.position(text, offset, Utf8), want, "offset {offset}");
        }
    }

    #[test]
    fn columns_deep_in_a_long_line_that_is_not_ascii() {
        // Blocks of the unit table end inside characters of every width.
        let line: String = (0..700)
            .map(|i| match i % 7 {
                0 => "🔬",
                1 => "é",
                2 => "漢",
                _ => "x",
            })
            .collect();
        let text = format!("first line\n{line}\r\nplain\n{line}");
        let index = LineIndex::new(&text);
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let start = text[..offset].rfind(['\n']).map_or(0, |i| i + 1);
            let end = text[start..]
                .find(['\r', '\n'])
                .map_or(text.len(), |e| start + e);
            let before = &text[start..offset.min(end)];
            let line = text[..offset].matches('\n').count() as u32;
            assert_eq!(
                index.position(&text, offset, Utf16),
                (line, before.encode_utf16().count() as u32),
                "offset {offset}"
            );
            assert_eq!(
                index.position(&text, offset, Utf8),
                (line, before.len() as u32)
            );
        }
    }

    #[test]
    fn utf16_units_are_counted_from_the_bytes() {
        for text in [MIXED, "", "plain", "a😀b𝔘c", "é€ß"] {
            assert_eq!(utf16_units(text), text.encode_utf16().count(), "{text:?}");
        }
    }

    #[test]
    fn round_trip_every_char_boundary() {
        let index = LineIndex::new(MIXED);
        for enc in [Utf8, Utf16] {
            for (offset, c) in MIXED.char_indices().chain([(MIXED.len(), '\0')]) {
                let (line, character) = index.position(MIXED, offset, enc);
                let back = index.offset(MIXED, line, character, enc).unwrap();
                // The `\n` of `\r\n` is inside the terminator and maps to
                // the line's end, the `\r`.
                let want = if c == '\n' && MIXED[..offset].ends_with('\r') {
                    offset - 1
                } else {
                    offset
                };
                assert_eq!(back, want, "{enc:?} offset {offset}");
            }
        }
    }

    #[test]
    fn inside_a_character_snaps_to_its_start() {
        let index = LineIndex::new(MIXED);
        let emoji = MIXED.find('🔬').unwrap();
        // Between the two surrogates of 🔬.
        assert_eq!(index.offset(MIXED, 0, 4, Utf16), Some(emoji));
        // Inside its UTF-8 sequence.
        assert_eq!(index.offset(MIXED, 0, 7, Utf8), Some(emoji));
        for inside in emoji + 1..emoji + 4 {
            assert_eq!(index.position(MIXED, inside, Utf16), (0, 3));
        }
    }

    #[test]
    fn past_the_end() {
        let index = LineIndex::new(MIXED);
        let line_end = MIXED.find('\r').unwrap();
        assert_eq!(index.offset(MIXED, 0, 999, Utf16), Some(line_end));
        assert_eq!(index.offset(MIXED, 0, u32::MAX, Utf8), Some(line_end));
        assert_eq!(index.offset(MIXED, 4, 999, Utf16), Some(MIXED.len()));
        assert_eq!(index.offset(MIXED, 5, 0, Utf16), None);
        assert_eq!(index.offset(MIXED, u32::MAX, 0, Utf8), None);
        assert_eq!(index.position(MIXED, usize::MAX, Utf8), (4, 4));
        // Inside `\r\n`: the end of the line before it.
        assert_eq!(index.position(MIXED, line_end + 1, Utf8), (0, 19));
    }

    #[test]
    fn empty_and_terminator_only_texts() {
        for (text, lines) in [("", 1), ("\n", 2), ("\r\n", 2), ("\r", 2), ("\n\r\n\r", 4)] {
            let index = LineIndex::new(text);
            assert_eq!(index.line_count(), lines, "{text:?}");
            for line in 0..lines as u32 {
                let offset = index.offset(text, line, 0, Utf16).unwrap();
                assert_eq!(index.position(text, offset, Utf16), (line, 0));
            }
        }
    }

    #[test]
    fn a_different_text_does_not_panic() {
        let index = LineIndex::new(MIXED);
        for text in ["", "é", "short\n"] {
            for offset in 0..MIXED.len() + 2 {
                let (line, character) = index.position(text, offset, Utf16);
                let _ = index.offset(text, line, character, Utf8);
            }
        }
    }
}
