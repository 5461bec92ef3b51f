//! A `.bib` text cut into the pieces a changed file is compared by: each
//! piece runs from the start of a line that begins an entry (`@type{`, blanks
//! before it allowed) to the start of the next such line, the first piece
//! from the start of the text. These are the places the parser may cut a
//! text for parallel parsing: nothing it reads runs past one, so any run of
//! consecutive pieces parses to the same items as it does inside the whole
//! text (what lets a reload parse only the pieces that changed).
//!
//! Each piece is kept as its length, its newlines and a hash of its bytes;
//! two texts are compared by the common runs of equal pieces at their start
//! and end, so what lies between is all that changed.

use super::scan::{count_newlines, Scan};
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub hash: u64,
    pub len: u32,
    pub newlines: u32,
    /// The piece has an `@` followed by `string` (an `@string` macro, or
    /// something that may be read as one): macros are resolved over the
    /// whole load, so a change there is never reloaded by entry.
    pub defines_strings: bool,
}

/// The pieces of one `.bib` text, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chunks(pub Vec<Chunk>);

/// The part of two versions of a text that differs, in pieces and bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedRegion {
    /// Pieces of the old text that were replaced.
    pub old_chunks: Range<usize>,
    /// Pieces of the new text that replace them.
    pub new_chunks: Range<usize>,
    /// Bytes of the old text replaced (always from a line start to a line
    /// start or the end).
    pub old_bytes: Range<usize>,
    pub new_bytes: Range<usize>,
    /// Newlines before the region (the same in both texts).
    pub lines_before: u32,
    pub old_newlines: u32,
    pub new_newlines: u32,
}

impl Chunks {
    /// Cuts `text` into pieces. Texts of 4 GiB or more are not cut (a
    /// piece's length is a `u32`): `None`.
    pub fn of(text: &str) -> Option<Chunks> {
        u32::try_from(text.len()).ok()?;
        let scan = Scan::new(text);
        let bytes = text.as_bytes();
        // Entries start at an `@` with only blanks before it on its line:
        // looked for from each `@` (far fewer than newlines).
        let mut starts = vec![0];
        let mut strings = Vec::new();
        for at in memchr::memchr_iter(b'@', bytes) {
            if names_string(bytes, at) {
                strings.push(at);
            }
            let blanks = bytes[..at]
                .iter()
                .rev()
                .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\r'))
                .count();
            let line_start = at - blanks;
            if line_start > 0 && bytes[line_start - 1] == b'\n' && scan.header(at).is_some() {
                starts.push(line_start);
            }
        }
        starts.push(text.len());
        starts.dedup();
        let mut string_at = strings.into_iter().peekable();
        let chunks = starts
            .windows(2)
            .map(|w| {
                let piece = &bytes[w[0]..w[1]];
                let mut defines_strings = false;
                while string_at.next_if(|&at| at < w[1]).is_some() {
                    defines_strings = true;
                }
                Chunk {
                    hash: xxhash_rust::xxh3::xxh3_64(piece),
                    len: piece.len() as u32,
                    newlines: count_newlines(piece) as u32,
                    defines_strings,
                }
            })
            .collect();
        Some(Chunks(chunks))
    }

    /// What differs between `self` (the old text's pieces) and `new`: the
    /// pieces left between their longest common start and end. `None`
    /// when nothing does.
    pub fn changed_region(&self, new: &Chunks) -> Option<ChangedRegion> {
        let (old, new) = (&self.0, &new.0);
        let same = |a: &Chunk, b: &Chunk| a.hash == b.hash && a.len == b.len;
        let prefix = old.iter().zip(new).take_while(|(a, b)| same(a, b)).count();
        let room = old.len().min(new.len()) - prefix;
        let suffix = old
            .iter()
            .rev()
            .zip(new.iter().rev())
            .take(room)
            .take_while(|(a, b)| same(a, b))
            .count();
        if prefix + suffix == old.len() && old.len() == new.len() {
            return None;
        }
        let bytes = |chunks: &[Chunk]| chunks.iter().map(|c| c.len as usize).sum::<usize>();
        let newlines = |chunks: &[Chunk]| chunks.iter().map(|c| c.newlines).sum::<u32>();
        let old_chunks = prefix..old.len() - suffix;
        let new_chunks = prefix..new.len() - suffix;
        let start = bytes(&old[..prefix]);
        Some(ChangedRegion {
            old_bytes: start..start + bytes(&old[old_chunks.clone()]),
            new_bytes: start..start + bytes(&new[new_chunks.clone()]),
            lines_before: newlines(&old[..prefix]),
            old_newlines: newlines(&old[old_chunks.clone()]),
            new_newlines: newlines(&new[new_chunks.clone()]),
            old_chunks,
            new_chunks,
        })
    }

    /// Whether any of the pieces in `range` may define a macro.
    pub fn define_strings(&self, range: Range<usize>) -> bool {
        self.0
            .get(range)
            .is_some_and(|chunks| chunks.iter().any(|c| c.defines_strings))
    }

    /// The text's length in bytes.
    pub fn text_len(&self) -> usize {
        self.0.iter().map(|c| c.len as usize).sum()
    }
}

/// Whether the `@` at `at` is followed (after blanks) by the word `string`,
/// in any case.
fn names_string(bytes: &[u8], at: usize) -> bool {
    let mut i = at + 1;
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    bytes
        .get(i..i + 6)
        .is_some_and(|word| word.eq_ignore_ascii_case(b"string"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIB: &str = "% header\n@string{ac = {Advances}}\n@article{a,\n  title = {A},\n}\n\n  @misc{b, title = {B}}\nnot @book{c, title={C}}\n@inproceedings{d, title = {D}}";

    #[test]
    fn pieces_start_where_entries_start_a_line() {
        let chunks = Chunks::of(BIB).unwrap();
        let lens: Vec<usize> = chunks.0.iter().map(|c| c.len as usize).collect();
        let mut at = 0;
        let texts: Vec<&str> = lens
            .iter()
            .map(|&len| {
                at += len;
                &BIB[at - len..at]
            })
            .collect();
        assert_eq!(
            texts,
            [
                "% header\n",
                "@string{ac = {Advances}}\n",
                "@article{a,\n  title = {A},\n}\n\n",
                "  @misc{b, title = {B}}\nnot @book{c, title={C}}\n",
                "@inproceedings{d, title = {D}}"
            ]
        );
        assert_eq!(chunks.text_len(), BIB.len());
        let strings: Vec<bool> = chunks.0.iter().map(|c| c.defines_strings).collect();
        assert_eq!(strings, [false, true, false, false, false]);
        assert_eq!(chunks.0[2].newlines, 4);
    }

    #[test]
    fn the_changed_region_is_what_lies_between_equal_starts_and_ends() {
        let old = Chunks::of(BIB).unwrap();
        assert_eq!(old.changed_region(&old), None);
        let edited = BIB.replace("title = {A}", "title = {AB}\n");
        let region = old.changed_region(&Chunks::of(&edited).unwrap()).unwrap();
        assert_eq!(region.old_chunks, 2..3);
        assert_eq!(region.new_chunks, 2..3);
        let start = BIB.find("@article").unwrap();
        assert_eq!(region.old_bytes, start..BIB.find("  @misc").unwrap());
        assert_eq!(region.new_bytes, start..edited.find("  @misc").unwrap());
        assert_eq!(region.lines_before, 2);
        assert_eq!((region.old_newlines, region.new_newlines), (4, 5));

        let added = BIB.replace("\n\n  @misc", "\n\n@misc{x, title={X}}\n  @misc");
        let region = old.changed_region(&Chunks::of(&added).unwrap()).unwrap();
        assert_eq!((region.old_chunks, region.new_chunks), (3..3, 3..4));

        let removed = BIB.replace("@inproceedings{d, title = {D}}", "");
        let region = old.changed_region(&Chunks::of(&removed).unwrap()).unwrap();
        assert_eq!((region.old_chunks, region.new_chunks), (4..5, 4..4));
        assert_eq!(region.new_bytes, removed.len()..removed.len());
    }
}
