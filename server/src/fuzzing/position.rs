//! Byte offsets ↔ LSP positions, and incremental edits of an open document,
//! on arbitrary text. The first eight bytes of the input describe an edit;
//! the rest, as UTF-8 with invalid sequences replaced, is the text.

use super::probe_offsets;
use crate::notes::Language;
use crate::text::{LineIndex, PositionEncoding};
use crate::workspace::documents::{Edit, OpenDocument};

const ENCODINGS: [PositionEncoding; 2] = [PositionEncoding::Utf8, PositionEncoding::Utf16];

pub fn position(data: &[u8]) {
    let (spec, rest) = data.split_at(data.len().min(8));
    let mut spec = spec.to_vec();
    spec.resize(8, 0);
    let text = String::from_utf8_lossy(rest);
    let index = LineIndex::new(&text);
    let line_breaks = text.replace("\r\n", "\n").matches(['\n', '\r']).count();
    assert_eq!(index.line_count(), line_breaks + 1, "line count");
    for enc in ENCODINGS {
        offsets_round_trip(&text, &index, enc);
        positions_round_trip(&text, &index, enc, rest);
    }
    // An index used with a text other than its own must not panic.
    let half = (0..=text.len() / 2)
        .rev()
        .find(|&i| text.is_char_boundary(i));
    let other = &text[..half.unwrap_or(0)];
    for enc in ENCODINGS {
        index.position(other, text.len(), enc);
        index.offset(other, spec[0].into(), spec[1].into(), enc);
    }
    incremental_edit(&text, &spec);
}

/// offset → position → offset gives the offset back, except inside a
/// `\r\n` (which means the end of its line); positions grow with offsets;
/// a UTF-8 character is the byte distance from the line's start.
fn offsets_round_trip(text: &str, index: &LineIndex, enc: PositionEncoding) {
    let bytes = text.as_bytes();
    let mut previous = (0, 0);
    // Every offset of a short text; conversions are cheap.
    for offset in probe_offsets(text, text.len().min(2048), b"\r\n") {
        let (line, character) = index.position(text, offset, enc);
        assert!(
            (line, character) >= previous,
            "positions go back at {offset}"
        );
        previous = (line, character);
        let back = index.offset(text, line, character, enc);
        let in_crlf = offset > 0 && bytes[offset - 1] == b'\r' && bytes.get(offset) == Some(&b'\n');
        let expected = if in_crlf { offset - 1 } else { offset };
        assert_eq!(
            back,
            Some(expected),
            "offset {offset} → ({line}, {character}) ({enc:?})"
        );
        if enc == PositionEncoding::Utf8 {
            let line_start = index.offset(text, line, 0, enc).expect("the line exists");
            assert_eq!(character as usize, expected - line_start, "UTF-8 column");
        }
    }
    let end = index.position(text, text.len(), enc);
    assert_eq!(
        index.position(text, text.len() + 7, enc),
        end,
        "past the end"
    );
}

/// position → offset → position keeps the line and never moves right (a
/// character past the line's end, or inside a character, moves left); a
/// line past the last has no offset.
fn positions_round_trip(text: &str, index: &LineIndex, enc: PositionEncoding, seeds: &[u8]) {
    let lines = index.line_count() as u32;
    for pair in seeds.chunks(2).take(64) {
        let line = u32::from(pair[0]) % (lines + 2);
        let character = u32::from(*pair.last().unwrap_or(&0)) * 3;
        let Some(offset) = index.offset(text, line, character, enc) else {
            assert!(line >= lines, "line {line} of {lines} has no offset");
            continue;
        };
        assert!(line < lines, "line {line} of {lines} has an offset");
        assert!(
            text.is_char_boundary(offset),
            "offset {offset} inside a character"
        );
        let (l, c) = index.position(text, offset, enc);
        assert_eq!(l, line, "({line}, {character}) → {offset} → ({l}, {c})");
        assert!(
            c <= character,
            "({line}, {character}) → {offset} → ({l}, {c})"
        );
    }
}

/// One edit to an open document (a rope) gives the text that the same edit
/// made to a string at the line index's offsets gives. Positions come from
/// `spec`: start and end line and character, the encoding, and how many
/// characters of the text itself to insert.
fn incremental_edit(text: &str, spec: &[u8]) {
    let enc = ENCODINGS[usize::from(spec[4] & 1)];
    let start = (u32::from(spec[0]), u32::from(spec[1]));
    let end = (u32::from(spec[2]), u32::from(spec[3]));
    let insert: String = text.chars().take(usize::from(spec[5] % 8)).collect();
    let index = LineIndex::new(text);
    let at = |(line, character)| {
        index
            .offset(text, line, character, enc)
            .unwrap_or(text.len())
    };
    let (a, b) = (at(start), at(end));
    let (a, b) = (a.min(b), a.max(b));
    let expected = format!("{}{insert}{}", &text[..a], &text[b..]);
    let mut doc = OpenDocument::open(None, Language::Markdown, 1, text);
    let edit = Edit {
        range: Some((start, end)),
        text: &insert,
    };
    doc.apply(2, &[edit], enc);
    assert_eq!(
        *doc.snapshot.text, *expected,
        "edit {start:?}..{end:?} ({enc:?})"
    );
}
