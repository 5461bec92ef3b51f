//! Whether a corpus read again may replace the one in use.
//!
//! The moment a re-read corpus without a paper is swapped in, every note
//! citing that paper loses its card and definition and gets an unknown-key
//! warning. So a re-read is refused, and the last good corpus kept, when a
//! source it was read from is damaged rather than changed:
//!
//! - the file is still there but cannot be read now (it became a folder,
//!   lost its read permission, turned into a symlink loop);
//! - it lost papers and ends in a broken entry, or is empty: what a writer
//!   that died half-way (or right after truncating) leaves behind.
//!
//! A source deleted altogether is not damage (the watcher already waited
//! for it to come back), nor is one that lost entries and reads cleanly: the
//! user removed them. Truncation exactly between two entries cannot be told
//! from such a removal and goes through.

use super::stamps::SourceStamps;
use crate::corpus::{Corpus, Severity};

/// One reading of a corpus's sources: what was parsed, and how the files
/// looked when they were read.
#[derive(Clone, Copy)]
pub struct Reading<'a> {
    pub corpus: &'a Corpus,
    pub stamps: &'a SourceStamps,
}

/// Why `fresh` must not replace `last_good`, as a sentence for the user;
/// `None` when it may.
pub fn reason_to_keep(last_good: Reading<'_>, fresh: Reading<'_>) -> Option<String> {
    let (before, after) = (last_good.corpus, fresh.corpus);
    before
        .sources
        .iter()
        .filter(|old| old.papers > 0)
        .find_map(|old| {
            let path = &old.path;
            let Some(file) = after.sources.iter().position(|s| s.path == *path) else {
                // Not read this time: gone (a deletion), or there but unreadable.
                let on_disk = crate::corpus::zotero::ZoteroSource::from_path(path)
                    .map_or_else(|| path.clone(), |library| library.database);
                std::fs::symlink_metadata(&on_disk).ok()?;
                let why = if path.is_dir() {
                    "it is a folder now".to_string()
                } else {
                    after
                        .problems
                        .iter()
                        .find(|p| (p.file == *path || p.file == on_disk) && p.line == 0)
                        .map_or_else(|| "it cannot be read".to_string(), |p| p.message.clone())
                };
                return Some(format!(
                    "cannot read {} ({why}); still answering from the {} papers read from it before",
                    path.display(),
                    old.papers
                ));
            };
            // A library's log shrinks at every checkpoint: its size says nothing.
            if old.kind == crate::corpus::SourceKind::Zotero {
                return None;
            }
            let size_before = last_good.stamps.size_of(path)?;
            let size_now = fresh.stamps.size_of(path)?;
            if size_now >= size_before {
                return None;
            }
            if size_now == 0 {
                return Some(format!(
                    "{} is empty now, as if a write was cut short; still answering from the {} papers read from it before (it is read again when it changes)",
                    path.display(),
                    old.papers
                ));
            }
            // A broken entry at the end (the unfinished last one is often
            // still read, without the fields that were cut off).
            let last_entry_line = after
                .papers
                .iter()
                .filter(|p| p.origin.file == file)
                .map(|p| p.origin.line)
                .max()
                .unwrap_or(0);
            let broken_end = after
                .problems
                .iter()
                .filter(|p| p.file == *path && p.severity == Severity::Error)
                .filter(|p| p.line >= last_entry_line && p.line > 0)
                .min_by_key(|p| p.line)?;
            Some(format!(
                "{} looks cut short: it shrank from {size_before} to {size_now} bytes and ends in a broken entry (line {}: {}); still answering from the {} papers read before (it is read again when it changes)",
                path.display(),
                broken_end.line,
                broken_end.message,
                old.papers
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    const WHOLE: &str = "@article{a, title={A}}\n@article{b, title={B}}\n@article{c, title={C}}\n";

    struct Read(Corpus, SourceStamps);

    impl Read {
        fn reading(&self) -> Reading<'_> {
            Reading {
                corpus: &self.0,
                stamps: &self.1,
            }
        }
    }

    fn load(path: &Path, text: &str) -> Read {
        std::fs::write(path, text).unwrap();
        reread(path)
    }

    fn reread(path: &Path) -> Read {
        let files: Vec<PathBuf> = vec![path.to_path_buf()];
        let stamps = SourceStamps::take(&files);
        Read(Corpus::load(&files), stamps)
    }

    fn reason_to_keep(before: &Read, after: &Read) -> Option<String> {
        super::reason_to_keep(before.reading(), after.reading())
    }

    #[test]
    fn a_file_cut_inside_an_entry_or_emptied_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let bib = dir.path().join("refs.bib");
        let whole = load(&bib, WHOLE);
        let cut = load(&bib, &WHOLE[..WHOLE.find("title={B").unwrap()]);
        let why = reason_to_keep(&whole, &cut).expect("kept");
        assert!(why.contains("cut short") && why.contains("line 2"), "{why}");
        let between_fields = load(&bib, &WHOLE[..WHOLE.find("}}\n@article{c").unwrap()]);
        assert!(
            reason_to_keep(&whole, &between_fields).is_some(),
            "cut in the last entry"
        );
        let empty = load(&bib, "");
        assert!(reason_to_keep(&whole, &empty).is_some_and(|w| w.contains("empty")));
    }

    #[test]
    fn entries_removed_on_purpose_or_broken_in_the_middle_go_through() {
        let dir = tempfile::tempdir().unwrap();
        let bib = dir.path().join("refs.bib");
        let whole = load(&bib, WHOLE);
        let shorter = load(&bib, &WHOLE[..WHOLE.find("@article{c").unwrap()]);
        assert_eq!(reason_to_keep(&whole, &shorter), None);
        let broken_middle = load(&bib, &WHOLE.replace("title={B}}", "title={B}"));
        assert_eq!(
            reason_to_keep(&whole, &broken_middle),
            None,
            "the entries after a broken one still load"
        );
        let grown = load(&bib, &format!("{WHOLE}@article{{d, title={{D"));
        assert_eq!(
            reason_to_keep(&whole, &grown),
            None,
            "being typed at the end"
        );
    }

    #[test]
    fn a_file_that_cannot_be_read_is_kept_and_a_deleted_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let bib = dir.path().join("refs.bib");
        let whole = load(&bib, WHOLE);
        std::fs::remove_file(&bib).unwrap();
        let gone = reread(&bib);
        assert_eq!(reason_to_keep(&whole, &gone), None, "deleted");
        std::fs::create_dir(&bib).unwrap();
        let folder = reread(&bib);
        assert!(reason_to_keep(&whole, &folder).is_some_and(|w| w.contains("folder")));
        std::fs::remove_dir(&bib).unwrap();
        std::os::unix::fs::symlink(&bib, &bib).unwrap();
        let looped = reread(&bib);
        let why = reason_to_keep(&whole, &looped).expect("kept");
        assert!(why.contains("refs.bib"), "{why}");
    }
}
