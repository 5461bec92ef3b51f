//! The BibTeX entry of a corpus paper, to copy into a manuscript's own
//! bibliography.
//!
//! A paper from a `.bib` source is copied from its source entry, with
//! `@string` macros expanded and `crossref` parents merged in
//! ([`standalone_entry`]), so nothing the user wrote is lost; the source is
//! read again for it (the corpus keeps no texts), and only used if it is
//! still the file that was loaded (otherwise the recorded spans could point
//! into another entry). Papers from other sources — and entries whose
//! source changed or broke — are written from what the corpus holds
//! ([`to_bibtex_entry`]), which escapes every value.

use super::bibtex::{standalone_entry, BibSource, MacroTable};
use super::export::{to_bibtex_entry, unwritable_key};
use super::source::{decode_source, RawSource, ReadSource};
use super::Corpus;
use std::collections::HashMap;
use std::io;
use std::ops::Range;
use std::path::Path;

/// How corpus files are read (the caller's file system).
pub type ReadFile<'a> = &'a dyn Fn(&Path) -> io::Result<Vec<u8>>;

/// Reads one entry's bytes without reading its whole file, where the caller
/// can tell cheaply that the file has not changed since the corpus read it:
/// on a 30 MB `.bib`, reading, hashing and decoding the whole file for one
/// entry costs tens of milliseconds.
pub type ReadUnchangedRange<'a> = &'a dyn Fn(&Path, Range<usize>) -> Option<Vec<u8>>;

/// The `@string` macros of every `.bib` source of `corpus`, as a load of all
/// of them resolves them. Sources that cannot be read are left out.
pub fn corpus_macros(corpus: &Corpus, read: ReadFile<'_>) -> MacroTable {
    let texts: Vec<(usize, ReadSource)> = corpus
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind.is_bibtex())
        .filter_map(|(i, s)| Some((i, read_decoded(&s.path, read)?)))
        .collect();
    let sources: Vec<BibSource<'_>> = texts
        .iter()
        .map(|(file, read)| BibSource {
            file: *file,
            path: &read.path,
            text: &read.text,
        })
        .collect();
    MacroTable::of(&sources)
}

fn read_decoded(path: &Path, read: ReadFile<'_>) -> Option<ReadSource> {
    let bytes = read(path).ok()?;
    let raw = RawSource {
        path: path.to_path_buf(),
        content_hash: xxhash_rust::xxh3::xxh3_64(&bytes),
        bytes,
    };
    decode_source(raw).ok().map(|(source, _)| source)
}

/// Writes entries of one corpus, reading each source file at most once.
pub struct EntryCopier<'a> {
    corpus: &'a Corpus,
    read: ReadFile<'a>,
    read_range: Option<ReadUnchangedRange<'a>>,
    macros: &'a MacroTable,
    /// Source index → its text, when it is still the file that was loaded.
    texts: HashMap<usize, Option<ReadSource>>,
}

impl<'a> EntryCopier<'a> {
    pub fn new(corpus: &'a Corpus, read: ReadFile<'a>, macros: &'a MacroTable) -> Self {
        EntryCopier {
            corpus,
            read,
            read_range: None,
            macros,
            texts: HashMap::new(),
        }
    }

    /// Reads single entries through `read_range` where it can.
    pub fn with_range_reads(mut self, read_range: ReadUnchangedRange<'a>) -> Self {
        self.read_range = Some(read_range);
        self
    }

    /// The entry of paper `ordinal`, ending in a newline; `Err` with the
    /// reason when its key cannot be written in a `.bib`.
    pub fn entry(&mut self, ordinal: usize) -> Result<String, String> {
        let paper = self.corpus.paper(ordinal);
        if let Some(why) = unwritable_key(paper.key) {
            return Err(format!(
                "`{}` cannot be written as a BibTeX key: {why}",
                paper.key
            ));
        }
        let from_source = self
            .corpus
            .source_of(&paper)
            .kind
            .is_bibtex()
            .then(|| self.copied(ordinal))
            .flatten();
        Ok(from_source.unwrap_or_else(|| to_bibtex_entry(&paper.to_paper())))
    }

    /// The source entry of paper `ordinal` made standalone, if its source
    /// is unchanged and the entry whole.
    fn copied(&mut self, ordinal: usize) -> Option<String> {
        let text = self.entry_text(ordinal)?;
        let (corpus, macros) = (self.corpus, self.macros);
        let mut parent = |key: &str| {
            let parent = corpus.index_of(key)?;
            self.entry_text(parent)
        };
        let entry = standalone_entry(&text, &mut parent, macros)?;
        // The copy must carry the key the corpus knows the paper by.
        entry
            .split_once('{')
            .is_some_and(|(_, rest)| rest.starts_with(&format!("{},", corpus.paper(ordinal).key)))
            .then_some(entry)
    }

    /// The text of paper `ordinal`'s entry in its source.
    fn entry_text(&mut self, ordinal: usize) -> Option<String> {
        let paper = self.corpus.paper(ordinal);
        let file = paper.origin.file;
        let source = self.corpus.sources.get(file)?;
        if !source.kind.is_bibtex() {
            return None;
        }
        if let Some(text) = self.entry_bytes_alone(ordinal) {
            return Some(text);
        }
        let (read, hash) = (self.read, source.content_hash);
        let text = self
            .texts
            .entry(file)
            .or_insert_with(|| read_decoded(&source.path, read).filter(|t| t.content_hash == hash))
            .as_ref()?;
        text.text.get(paper.origin.span.clone()).map(str::to_string)
    }

    /// The entry's text read on its own, when the file is unchanged, plain
    /// UTF-8 and the bytes there are still the entry with the paper's key.
    /// The span indexes the decoded text, which is the file's bytes after a
    /// byte-order mark, if there is one.
    fn entry_bytes_alone(&self, ordinal: usize) -> Option<String> {
        let read_range = self.read_range?;
        let paper = self.corpus.paper(ordinal);
        let source = self.corpus.sources.get(paper.origin.file)?;
        if source.gzipped {
            return None;
        }
        let span = paper.origin.span.clone();
        [0, 3].into_iter().find_map(|bom| {
            let bytes = read_range(&source.path, span.start + bom..span.end + bom)?;
            let text = String::from_utf8(bytes).ok()?;
            let key_at = paper.origin.key_span.clone()?;
            let key = text.get(key_at.start - span.start..key_at.end - span.start)?;
            (key == paper.key && text.starts_with('@')).then_some(text)
        })
    }
}

/// The text that appends `entries` (each ending in a newline) to a `.bib`
/// whose text is `existing`: after one blank line, entries separated by a
/// blank line, in the file's own line endings; what is there is untouched.
pub fn appended(existing: &str, entries: &[String]) -> String {
    let crlf = existing.contains("\r\n");
    let separator =
        if existing.is_empty() || existing.ends_with("\n\n") || existing.ends_with("\r\n\r\n") {
            ""
        } else if existing.ends_with('\n') {
            "\n"
        } else {
            "\n\n"
        };
    let text = format!("{separator}{}", entries.join("\n"));
    if crlf {
        text.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::bibtex::read_cleanly;
    use std::path::PathBuf;

    fn corpus_of(dir: &Path, files: &[(&str, &str)]) -> Corpus {
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|(name, text)| {
                let path = dir.join(name);
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect();
        Corpus::load(&paths)
    }

    #[test]
    fn bib_papers_are_copied_from_their_entry_and_others_generated() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = corpus_of(
            dir.path(),
            &[
                ("abbrev.bib", "@string{jcs = {Journal of Cool Stuff}}\n"),
                (
                    "lib.bib",
                    "@article{Doe20, author={Doe, Jane}, title={Cool {RNA}}, journal=jcs, \
                     year=2020, keywords={rna, cool}}\n",
                ),
                (
                    "arxiv.jsonl",
                    "{\"id\": \"2101.00001\", \"title\": \"Attention & 100% Focus\", \
                     \"authors\": \"Ann Lee and Bo Ma\", \"abstract\": \"We study {it}.\", \
                     \"categories\": \"cs.CL\", \"update_date\": \"2021-01-02\"}\n",
                ),
            ],
        );
        let read = |p: &Path| std::fs::read(p);
        let macros = corpus_macros(&corpus, &read);
        assert_eq!(macros.len(), 1);
        let mut copier = EntryCopier::new(&corpus, &read, &macros);
        let doe = copier.entry(corpus.index_of("Doe20").unwrap()).unwrap();
        assert!(doe.contains("journal   = {Journal of Cool Stuff}"), "{doe}");
        assert!(doe.contains("keywords  = {rna, cool}"), "{doe}");
        assert_eq!(read_cleanly(&doe)[0].title, "Cool RNA");
        let arxiv = corpus
            .papers
            .iter()
            .find(|p| p.title.starts_with("Attention"))
            .unwrap();
        let generated = copier.entry(arxiv.ordinal()).unwrap();
        let back = read_cleanly(&generated);
        assert_eq!(back[0].key, arxiv.key);
        assert_eq!(back[0].title, "Attention & 100% Focus");
        assert_eq!(back[0].ids.arxiv.as_deref(), Some("2101.00001"));
    }

    #[test]
    fn entries_are_appended_after_one_blank_line_in_the_files_line_endings() {
        let entries = ["@misc{a,\n}\n".to_string(), "@misc{b,\n}\n".to_string()];
        assert_eq!(appended("", &entries), "@misc{a,\n}\n\n@misc{b,\n}\n");
        assert_eq!(appended("@misc{x}\n", &entries[..1]), "\n@misc{a,\n}\n");
        assert_eq!(appended("@misc{x}", &entries[..1]), "\n\n@misc{a,\n}\n");
        assert_eq!(appended("@misc{x}\n\n", &entries[..1]), "@misc{a,\n}\n");
        assert_eq!(
            appended("@misc{x}\r\n", &entries[..1]),
            "\r\n@misc{a,\r\n}\r\n"
        );
    }

    #[test]
    fn entries_read_alone_are_the_entries_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let bom =
            "\u{feff}@book{a, title={Ä first}}\n@inproceedings{b, title={Second}, crossref={a}}\n";
        let corpus = corpus_of(dir.path(), &[("bom.bib", bom)]);
        let read = |p: &Path| std::fs::read(p);
        let macros = corpus_macros(&corpus, &read);
        let ranges_read = std::cell::Cell::new(0);
        let read_range = |p: &Path, range: Range<usize>| {
            ranges_read.set(ranges_read.get() + 1);
            std::fs::read(p).ok()?.get(range).map(<[u8]>::to_vec)
        };
        let whole: Vec<String> = (0..2)
            .map(|i| EntryCopier::new(&corpus, &read, &macros).entry(i).unwrap())
            .collect();
        let never = |_: &Path| Err(io::Error::other("whole reads are not expected"));
        let mut alone = EntryCopier::new(&corpus, &never, &macros).with_range_reads(&read_range);
        assert_eq!(alone.entry(0).unwrap(), whole[0]);
        assert_eq!(alone.entry(1).unwrap(), whole[1]);
        assert!(whole[1].contains("Ä first"), "{}", whole[1]);
        assert!(ranges_read.get() >= 3);
        // Bytes that are not the entry any more: the whole file is read.
        let stale = |_: &Path, _: Range<usize>| Some(b"@misc{zz, title={Z}}".to_vec());
        let mut checked = EntryCopier::new(&corpus, &read, &macros).with_range_reads(&stale);
        assert_eq!(checked.entry(0).unwrap(), whole[0]);
    }

    #[test]
    fn a_source_changed_since_loading_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = corpus_of(
            dir.path(),
            &[("lib.bib", "@misc{a, title={First}, note={kept}}\n")],
        );
        std::fs::write(
            dir.path().join("lib.bib"),
            "@misc{zz, title={Other}}\n@misc{a, title={First}}\n",
        )
        .unwrap();
        let read = |p: &Path| std::fs::read(p);
        let macros = corpus_macros(&corpus, &read);
        let entry = EntryCopier::new(&corpus, &read, &macros).entry(0).unwrap();
        assert_eq!(read_cleanly(&entry)[0].key, "a");
        assert!(entry.contains("First"), "{entry}");
    }
}
