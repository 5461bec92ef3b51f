//! The value every corpus source loads into: one `Paper` per entry, with the
//! place it came from, and `Problem`s for what could not be read.
//!
//! Display text here is plain Unicode (LaTeX escapes and case-protecting braces
//! already removed); spans are byte ranges into the *decoded* source text (after
//! gzip and Latin-1 fallback), which is what later features jump to and edit.

use serde::Serialize;
use std::ops::Range;
use std::path::PathBuf;

/// A person's name split the way BibTeX and CSL do. A literal name (an
/// institution, or a name that could not be split) has only `family`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Person {
    pub given: String,
    pub family: String,
}

impl Person {
    /// "Given Family", or just the family name.
    pub fn display(&self) -> String {
        if self.given.is_empty() {
            self.family.clone()
        } else {
            format!("{} {}", self.given, self.family)
        }
    }
}

/// Identifiers that lead to the paper outside the corpus.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Identifiers {
    pub doi: Option<String>,
    pub arxiv: Option<String>,
    pub url: Option<String>,
}

/// Whether the citation key was written in the source or made up by us.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyOrigin {
    Source,
    Generated,
}

/// Where a paper's entry sits in its source file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// Index into the corpus's list of source files.
    pub file: usize,
    /// 1-based line of the entry's first byte.
    pub line: u32,
    /// Byte range of the whole entry in the decoded text.
    pub span: Range<usize>,
    /// Byte range of the citation key, where the source has one.
    pub key_span: Option<Range<usize>>,
    /// Where the key sits as line and columns, so an editor can be sent
    /// there without re-reading the file (filled in by `Corpus`).
    pub key_columns: Option<KeyColumns>,
}

/// A key's place in its source file, in both position encodings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyColumns {
    /// 1-based line of the key.
    pub line: u32,
    pub utf8: Range<u32>,
    pub utf16: Range<u32>,
}

impl KeyColumns {
    /// The columns of `span` in `text`, given the offset where its line starts.
    pub fn of(text: &str, line: u32, line_start: usize, span: &Range<usize>) -> Option<KeyColumns> {
        let before = text.get(line_start..span.start)?;
        let key = text.get(span.clone())?;
        let col8 = before.len() as u32;
        let col16 = before.encode_utf16().count() as u32;
        Some(KeyColumns {
            line,
            utf8: col8..col8 + key.len() as u32,
            utf16: col16..col16 + key.encode_utf16().count() as u32,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paper {
    /// Citation key; empty until `keys::assign_keys` runs when the source had none.
    pub key: String,
    pub key_origin: KeyOrigin,
    /// Lower-cased BibTeX entry type or CSL type ("article", "inproceedings", "misc").
    pub entry_type: String,
    pub title: String,
    pub authors: Vec<Person>,
    /// The persons in `authors` are the work's editors: it names no author
    /// (an edited volume, proceedings).
    pub authors_are_editors: bool,
    pub year: Option<i32>,
    pub venue: Option<String>,
    pub abstract_text: Option<String>,
    pub ids: Identifiers,
    /// Subject categories when the source has them (arXiv `categories`).
    pub categories: Vec<String>,
    pub origin: Origin,
}

impl Paper {
    /// A paper with only a title, for loaders to fill in.
    pub fn titled(title: String, entry_type: &str) -> Self {
        Paper {
            key: String::new(),
            key_origin: KeyOrigin::Generated,
            entry_type: entry_type.to_string(),
            title,
            authors: Vec::new(),
            authors_are_editors: false,
            year: None,
            venue: None,
            abstract_text: None,
            ids: Identifiers::default(),
            categories: Vec::new(),
            origin: Origin::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Something a loader could not read, or read with a caveat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: u32,
    pub severity: Severity,
    pub message: String,
}

/// The first run of exactly four digits: `2021`, `2021-03-04`, `{2021a}`.
pub fn first_year(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if run == 4 {
            return text[i..i + 4].parse().ok();
        }
        i += run.max(1);
    }
    None
}

/// 1-based line number of a byte offset. Counts `\n`, so CRLF text works too.
pub fn line_of_offset(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32
}

/// Maps many offsets of one text to lines without rescanning from the start.
pub struct LineStarts {
    starts: Vec<usize>,
}

impl LineStarts {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineStarts { starts }
    }

    /// Byte offset where the 1-based `line` starts.
    pub fn start_of(&self, line: u32) -> usize {
        self.starts
            .get(line.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(0)
    }

    /// 1-based line of `offset`.
    pub fn line(&self, offset: usize) -> u32 {
        match self.starts.binary_search(&offset) {
            Ok(i) => i as u32 + 1,
            Err(i) => i as u32,
        }
    }
}
