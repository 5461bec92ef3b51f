//! The papers of a loaded corpus, stored by column rather than as one
//! struct of owned strings per paper.
//!
//! At a million papers a `Paper` of owned strings costs ~860 bytes besides
//! its abstract: the struct, a `Vec` of people, and ten small heap strings
//! each with its allocator overhead. Here every paper's short strings (key,
//! type, title, people, venue, identifiers, categories) sit one after the
//! other in a single text, and a fixed-size row says where each one ends.
//! Abstracts, two thirds of the bytes and read only when a card is shown or
//! related papers are weighed, sit in a second text that is either in
//! memory (a corpus just parsed) or left in the parsed-corpus file on disk and
//! read by position when asked for. Reading rather than memory-mapping
//! keeps them out of the server's resident memory altogether: mapped pages
//! touched by hovers and completions (and the kernel's fault-around
//! neighbours) would stay counted against the server until evicted.
//!
//! Loaders still produce `Paper`s (the easiest shape to build and test);
//! `PaperTable::from_papers` packs them. Readers get a `PaperRef`, a view
//! with borrowed fields, by ordinal. Nothing here panics on a damaged row:
//! rows read back from disk are checked once (`is_sound`), and every slice
//! is taken with a fallback.

use super::paper::{Identifiers, KeyColumns, KeyOrigin, Origin, Paper, Person};
use std::borrow::Cow;

/// The short string fields of a row, in the order they are stored.
const KEY: usize = 0;
const ENTRY_TYPE: usize = 1;
const TITLE: usize = 2;
const AUTHORS: usize = 3;
const VENUE: usize = 4;
const DOI: usize = 5;
const ARXIV: usize = 6;
const URL: usize = 7;
const CATEGORIES: usize = 8;
pub(super) const FIELDS: usize = 9;

const HAS_VENUE: u16 = 1;
const HAS_DOI: u16 = 1 << 1;
const HAS_ARXIV: u16 = 1 << 2;
const HAS_URL: u16 = 1 << 3;
const HAS_YEAR: u16 = 1 << 4;
const GENERATED_KEY: u16 = 1 << 5;
const HAS_KEY_SPAN: u16 = 1 << 6;
const HAS_KEY_COLUMNS: u16 = 1 << 7;
const HAS_ABSTRACT: u16 = 1 << 8;
const EDITORS: u16 = 1 << 9;

/// Between two people of a list, and between a person's given and family
/// names. Control characters never occur in a name we display; any found
/// in a source are replaced by spaces when the paper is packed.
const PERSON_SEPARATOR: char = '\u{1e}';
const NAME_SEPARATOR: char = '\u{1f}';

/// One paper's fixed-size part. `ends` are offsets relative to `start` in
/// the table's text, one per string field, each where that field ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Row {
    pub(super) start: u64,
    pub(super) ends: [u32; FIELDS],
    pub(super) flags: u16,
    pub(super) year: i32,
    pub(super) file: u32,
    pub(super) line: u32,
    pub(super) span: (u64, u64),
    pub(super) key_span: (u64, u64),
    /// Key line, then its UTF-8 and UTF-16 column ranges.
    pub(super) key_columns: [u32; 5],
}

/// Where a table's abstracts are: in memory, or `len` bytes at `offset`
/// in an open file (the cache file the table was read from).
pub(super) enum Abstracts {
    /// Shared with the tables a JSON Lines dump's appends made from this
    /// one, so an append does not copy every abstract.
    InMemory(std::sync::Arc<Vec<u8>>),
    OnDisk {
        file: std::fs::File,
        offset: u64,
        len: u64,
    },
    /// A table's abstracts followed by more: papers appended since (a JSON
    /// Lines dump that grew).
    Appended { base: Box<Abstracts>, tail: Vec<u8> },
    /// In memory until the cache file written beside the first answers
    /// holds them, then read from there (see [`Settling`]).
    Settling(std::sync::Arc<Settling>),
}

/// A freshly parsed table's abstracts on their way to its cache file: a
/// load hands its corpus over at once instead of first writing a gigabyte
/// and reading it back (2.8 s at a million papers), and the bytes in
/// memory are dropped once the file holds them.
pub(super) struct Settling {
    len: u64,
    pub(super) in_memory: std::sync::Mutex<Option<std::sync::Arc<Vec<u8>>>>,
    pub(super) on_disk: std::sync::OnceLock<Abstracts>,
}

impl Settling {
    /// From now on the abstracts are read from `on_disk` (the same bytes).
    pub(super) fn settle(&self, on_disk: Abstracts) {
        if on_disk.len() != self.len || self.on_disk.set(on_disk).is_err() {
            return;
        }
        // Set before the bytes go: a reader that finds no bytes finds the file.
        crate::workspace::unpoisoned(&self.in_memory).take();
    }

    fn read(&self, range: std::ops::Range<u64>) -> Option<Vec<u8>> {
        let in_memory = crate::workspace::unpoisoned(&self.in_memory).clone();
        match in_memory {
            Some(bytes) => bytes
                .get(usize::try_from(range.start).ok()?..usize::try_from(range.end).ok()?)
                .map(<[u8]>::to_vec),
            None => Some(self.on_disk.get()?.read(range)?.into_owned()),
        }
    }
}

impl Abstracts {
    pub(super) fn len(&self) -> u64 {
        match self {
            Abstracts::InMemory(bytes) => bytes.len() as u64,
            Abstracts::OnDisk { len, .. } => *len,
            Abstracts::Appended { base, tail } => base.len() + tail.len() as u64,
            Abstracts::Settling(settling) => settling.len,
        }
    }

    /// These in-memory abstracts made [`Settling`], and the handle that
    /// settles them; `None` for abstracts already on disk.
    pub(super) fn settling(&mut self) -> Option<std::sync::Arc<Settling>> {
        let Abstracts::InMemory(bytes) = self else {
            return None;
        };
        let settling = std::sync::Arc::new(Settling {
            len: bytes.len() as u64,
            in_memory: std::sync::Mutex::new(Some(bytes.clone())),
            on_disk: std::sync::OnceLock::new(),
        });
        *self = Abstracts::Settling(settling.clone());
        Some(settling)
    }

    pub(super) fn in_memory(bytes: Vec<u8>) -> Abstracts {
        Abstracts::InMemory(std::sync::Arc::new(bytes))
    }

    /// These abstracts again, sharing the bytes in memory and the file.
    fn shared(&self) -> Option<Abstracts> {
        Some(match self {
            Abstracts::InMemory(bytes) => Abstracts::InMemory(bytes.clone()),
            Abstracts::OnDisk { file, offset, len } => Abstracts::OnDisk {
                file: file.try_clone().ok()?,
                offset: *offset,
                len: *len,
            },
            Abstracts::Appended { base, tail } => Abstracts::Appended {
                base: Box::new(base.shared()?),
                tail: tail.clone(),
            },
            Abstracts::Settling(settling) => match settling.on_disk.get() {
                Some(on_disk) => on_disk.shared()?,
                None => Abstracts::Settling(settling.clone()),
            },
        })
    }

    /// These abstracts followed by `more` (those before shared).
    fn appended(&self, more: &[u8]) -> Option<Abstracts> {
        Some(match self {
            Abstracts::Appended { base, tail } => Abstracts::Appended {
                base: Box::new(base.shared()?),
                tail: [tail.as_slice(), more].concat(),
            },
            _ => Abstracts::Appended {
                base: Box::new(self.shared()?),
                tail: more.to_vec(),
            },
        })
    }

    /// The bytes in `range`, which must lie within `len()`.
    fn read(&self, range: std::ops::Range<u64>) -> Option<Cow<'_, [u8]>> {
        match self {
            Abstracts::InMemory(bytes) => bytes
                .get(usize::try_from(range.start).ok()?..usize::try_from(range.end).ok()?)
                .map(Cow::Borrowed),
            Abstracts::OnDisk { file, offset, .. } => {
                let mut out = vec![0; usize::try_from(range.end - range.start).ok()?];
                read_at(file, &mut out, offset.checked_add(range.start)?)?;
                Some(Cow::Owned(out))
            }
            Abstracts::Settling(settling) => settling.read(range).map(Cow::Owned),
            Abstracts::Appended { base, tail } => {
                let split = base.len();
                let in_tail = |at: u64| usize::try_from(at.saturating_sub(split)).ok();
                let from_tail = tail.get(in_tail(range.start)?..in_tail(range.end)?)?;
                if range.end <= split {
                    base.read(range)
                } else if range.start >= split {
                    Some(Cow::Borrowed(from_tail))
                } else {
                    let mut out = base.read(range.start..split)?.into_owned();
                    out.extend_from_slice(from_tail);
                    Some(Cow::Owned(out))
                }
            }
        }
    }

    /// Copies every abstract to `out` (when a cache file is written).
    pub(super) fn copy_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        const CHUNK: u64 = 1 << 20;
        let mut at = 0;
        while at < self.len() {
            let end = (at + CHUNK).min(self.len());
            let bytes = self.read(at..end).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "abstracts cut short")
            })?;
            out.write_all(&bytes)?;
            at = end;
        }
        Ok(())
    }
}

/// Fills `out` from `file` at `position`, without moving a shared cursor
/// (several requests may read abstracts at once).
#[cfg(unix)]
fn read_at(file: &std::fs::File, out: &mut [u8], position: u64) -> Option<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(out, position).ok()
}

#[cfg(windows)]
fn read_at(file: &std::fs::File, out: &mut [u8], position: u64) -> Option<()> {
    use std::os::windows::fs::FileExt;
    let mut done = 0;
    while done < out.len() {
        match file
            .seek_read(&mut out[done..], position + done as u64)
            .ok()?
        {
            0 => return None,
            n => done += n,
        }
    }
    Some(())
}

impl Default for Abstracts {
    fn default() -> Self {
        Abstracts::in_memory(Vec::new())
    }
}

/// A table whose abstracts are on disk is spliced (a `.bib` reloaded by
/// entry) only up to this many bytes of abstracts, which it then holds.
const SPLICE_ABSTRACTS_AT_MOST: u64 = 64 << 20;

/// Every paper of a corpus; see the module documentation.
#[derive(Default)]
pub struct PaperTable {
    pub(super) rows: Vec<Row>,
    pub(super) text: String,
    /// Where each paper's abstract ends in `abstracts`; the first starts at 0.
    pub(super) abstract_ends: Vec<u64>,
    pub(super) abstracts: Abstracts,
}

impl std::fmt::Debug for PaperTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PaperTable({} papers)", self.rows.len())
    }
}

impl PaperTable {
    /// Whether the abstracts are left in a parsed-corpus cache file (the
    /// table was read back from one) rather than held in memory.
    pub fn abstracts_are_on_disk(&self) -> bool {
        let mut abstracts = &self.abstracts;
        while let Abstracts::Appended { base, .. } = abstracts {
            abstracts = base;
        }
        matches!(abstracts, Abstracts::OnDisk { .. } | Abstracts::Settling(_))
    }

    /// Packs loaded papers.
    pub fn from_papers(papers: &[Paper]) -> PaperTable {
        // Sized once: grown by doubling, a million papers' text and
        // abstracts (~1 GB) were copied and faulted in about twice over.
        let (mut text_bytes, mut abstract_bytes) = (0, 0);
        for paper in papers {
            text_bytes += text_bytes_of(paper);
            abstract_bytes += paper.abstract_text.as_ref().map_or(0, String::len);
        }
        let mut table = PaperTable {
            rows: Vec::with_capacity(papers.len()),
            text: String::with_capacity(text_bytes),
            abstract_ends: Vec::with_capacity(papers.len()),
            ..PaperTable::default()
        };
        let mut abstracts = Vec::with_capacity(abstract_bytes);
        for paper in papers {
            table.push(paper, &mut abstracts);
        }
        table.text.shrink_to_fit();
        abstracts.shrink_to_fit();
        table.abstracts = Abstracts::in_memory(abstracts);
        table
    }

    fn push(&mut self, paper: &Paper, abstracts: &mut Vec<u8>) {
        let start = self.text.len();
        let mut ends = [0u32; FIELDS];
        let mut flags = 0;
        let mut field = |table: &mut PaperTable, index: usize, value: Option<&str>, flag: u16| {
            if let Some(value) = value {
                table.text.push_str(value);
                flags |= flag;
            }
            ends[index] = (table.text.len() - start).min(u32::MAX as usize) as u32;
        };
        field(self, KEY, Some(&paper.key), 0);
        field(self, ENTRY_TYPE, Some(&paper.entry_type), 0);
        field(self, TITLE, Some(&paper.title), 0);
        for (i, person) in paper.authors.iter().enumerate() {
            if i > 0 {
                self.text.push(PERSON_SEPARATOR);
            }
            push_clean(&mut self.text, &person.given);
            self.text.push(NAME_SEPARATOR);
            push_clean(&mut self.text, &person.family);
        }
        field(self, AUTHORS, Some(""), 0);
        field(self, VENUE, paper.venue.as_deref(), HAS_VENUE);
        field(self, DOI, paper.ids.doi.as_deref(), HAS_DOI);
        field(self, ARXIV, paper.ids.arxiv.as_deref(), HAS_ARXIV);
        field(self, URL, paper.ids.url.as_deref(), HAS_URL);
        for (i, category) in paper.categories.iter().enumerate() {
            if i > 0 {
                self.text.push(PERSON_SEPARATOR);
            }
            push_clean(&mut self.text, category);
        }
        field(self, CATEGORIES, Some(""), 0);
        if let Some(text) = &paper.abstract_text {
            abstracts.extend_from_slice(text.as_bytes());
            flags |= HAS_ABSTRACT;
        }
        self.abstract_ends.push(abstracts.len() as u64);
        if paper.year.is_some() {
            flags |= HAS_YEAR;
        }
        if paper.key_origin == KeyOrigin::Generated {
            flags |= GENERATED_KEY;
        }
        if paper.authors_are_editors {
            flags |= EDITORS;
        }
        let origin = &paper.origin;
        let key_span = match &origin.key_span {
            Some(span) => {
                flags |= HAS_KEY_SPAN;
                (span.start as u64, span.end as u64)
            }
            None => (0, 0),
        };
        let key_columns = match &origin.key_columns {
            Some(c) => {
                flags |= HAS_KEY_COLUMNS;
                [c.line, c.utf8.start, c.utf8.end, c.utf16.start, c.utf16.end]
            }
            None => [0; 5],
        };
        self.rows.push(Row {
            start: start as u64,
            ends,
            flags,
            year: paper.year.unwrap_or(0),
            file: origin.file.min(u32::MAX as usize) as u32,
            line: origin.line,
            span: (origin.span.start as u64, origin.span.end as u64),
            key_span,
            key_columns,
        });
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The paper at `ordinal`, if there is one.
    pub fn get(&self, ordinal: usize) -> Option<PaperRef<'_>> {
        (ordinal < self.rows.len()).then(|| self.paper(ordinal))
    }

    /// The paper at `ordinal`, which must be below `len()`.
    pub fn paper(&self, ordinal: usize) -> PaperRef<'_> {
        let row = &self.rows[ordinal];
        let optional = |index, flag| (row.flags & flag != 0).then(|| self.field(row, index));
        PaperRef {
            key: self.field(row, KEY),
            key_origin: if row.flags & GENERATED_KEY != 0 {
                KeyOrigin::Generated
            } else {
                KeyOrigin::Source
            },
            entry_type: self.field(row, ENTRY_TYPE),
            title: self.field(row, TITLE),
            authors: Authors(self.field(row, AUTHORS)),
            authors_are_editors: row.flags & EDITORS != 0,
            year: (row.flags & HAS_YEAR != 0).then_some(row.year),
            venue: optional(VENUE, HAS_VENUE),
            ids: Ids {
                doi: optional(DOI, HAS_DOI),
                arxiv: optional(ARXIV, HAS_ARXIV),
                url: optional(URL, HAS_URL),
            },
            categories: Categories(self.field(row, CATEGORIES)),
            origin: Origin {
                file: row.file as usize,
                line: row.line,
                span: row.span.0 as usize..row.span.1 as usize,
                key_span: (row.flags & HAS_KEY_SPAN != 0)
                    .then_some(row.key_span.0 as usize..row.key_span.1 as usize),
                key_columns: (row.flags & HAS_KEY_COLUMNS != 0).then(|| {
                    let [line, a, b, c, d] = row.key_columns;
                    KeyColumns {
                        line,
                        utf8: a..b,
                        utf16: c..d,
                    }
                }),
            },
            table: self,
            ordinal,
        }
    }

    /// The first ordinal whose (file, entry start) `before` is false for,
    /// given that it is true for all ordinals before that one.
    pub(super) fn partition_point(&self, before: impl Fn(usize, usize) -> bool) -> usize {
        self.rows
            .partition_point(|row| before(row.file as usize, row.span.0 as usize))
    }

    /// This table with the papers at `replaced` given way to `papers`, and
    /// the entries after them in source `file` moved by `bytes` and
    /// `lines` (what an edit of that file did to them). Abstracts left on
    /// disk are read into memory (the new table holds them; `None` past
    /// [`SPLICE_ABSTRACTS_AT_MOST`] bytes, or when they cannot be read).
    pub(super) fn spliced(
        &self,
        replaced: std::ops::Range<usize>,
        papers: &[Paper],
        file: usize,
        bytes: i64,
        lines: i64,
    ) -> Option<PaperTable> {
        if replaced.is_empty() && replaced.start == self.rows.len() {
            return self.with_papers_appended(papers);
        }
        let all_abstracts = self.abstracts.len();
        if all_abstracts > SPLICE_ABSTRACTS_AT_MOST || replaced.end > self.rows.len() {
            return None;
        }
        let old_abstracts = self.abstracts.read(0..all_abstracts)?;
        let text_at = |i: usize| {
            self.rows
                .get(i)
                .map_or(self.text.len(), |r| r.start as usize)
        };
        let abstract_at = |i: usize| match i {
            0 => 0,
            i => self.abstract_ends[i - 1] as usize,
        };
        let kept_after = self.rows.len() - replaced.end;
        let mut table = PaperTable {
            rows: Vec::with_capacity(replaced.start + papers.len() + kept_after),
            text: String::with_capacity(self.text.len() + 1024),
            abstract_ends: Vec::with_capacity(replaced.start + papers.len() + kept_after),
            abstracts: Abstracts::default(),
        };
        let mut abstracts = Vec::with_capacity(old_abstracts.len());
        let (text_before, abstracts_before) =
            (text_at(replaced.start), abstract_at(replaced.start));
        table.rows.extend_from_slice(&self.rows[..replaced.start]);
        table.text.push_str(self.text.get(..text_before)?);
        table
            .abstract_ends
            .extend_from_slice(&self.abstract_ends[..replaced.start]);
        abstracts.extend_from_slice(old_abstracts.get(..abstracts_before)?);
        for paper in papers {
            table.push(paper, &mut abstracts);
        }
        let (text_after, abstracts_after) = (text_at(replaced.end), abstract_at(replaced.end));
        let text_moved = table.text.len() as i64 - text_after as i64;
        let abstracts_moved = abstracts.len() as i64 - abstracts_after as i64;
        table.text.push_str(self.text.get(text_after..)?);
        abstracts.extend_from_slice(old_abstracts.get(abstracts_after..)?);
        let shift = |value: u64, by: i64| value.checked_add_signed(by);
        for row in &self.rows[replaced.end..] {
            let mut row = *row;
            row.start = shift(row.start, text_moved)?;
            if row.file as usize == file {
                row.span = (shift(row.span.0, bytes)?, shift(row.span.1, bytes)?);
                if row.flags & HAS_KEY_SPAN != 0 {
                    row.key_span = (shift(row.key_span.0, bytes)?, shift(row.key_span.1, bytes)?);
                }
                row.line = u32::try_from(i64::from(row.line) + lines).ok()?;
                if row.flags & HAS_KEY_COLUMNS != 0 {
                    row.key_columns[0] =
                        u32::try_from(i64::from(row.key_columns[0]) + lines).ok()?;
                }
            }
            table.rows.push(row);
        }
        for &end in &self.abstract_ends[replaced.end..] {
            table.abstract_ends.push(shift(end, abstracts_moved)?);
        }
        table.abstracts = Abstracts::in_memory(abstracts);
        Some(table)
    }

    /// This table with `papers` after its own; abstracts left on disk stay
    /// there.
    fn with_papers_appended(&self, papers: &[Paper]) -> Option<PaperTable> {
        let mut table = PaperTable {
            rows: Vec::with_capacity(self.rows.len() + papers.len()),
            text: String::with_capacity(self.text.len() + papers.len() * 256),
            abstract_ends: Vec::with_capacity(self.rows.len() + papers.len()),
            abstracts: Abstracts::default(),
        };
        table.rows.extend_from_slice(&self.rows);
        table.text.push_str(&self.text);
        table.abstract_ends.extend_from_slice(&self.abstract_ends);
        let mut more = Vec::new();
        for paper in papers {
            table.push(paper, &mut more);
        }
        let before = self.abstracts.len();
        for end in &mut table.abstract_ends[self.rows.len()..] {
            *end += before;
        }
        table.abstracts = self.abstracts.appended(&more)?;
        Some(table)
    }

    /// Just the key of the paper at `ordinal` (key lookups compare many).
    pub fn key(&self, ordinal: usize) -> &str {
        self.field(&self.rows[ordinal], KEY)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = PaperRef<'_>> + Clone + '_ {
        (0..self.rows.len()).map(move |i| self.paper(i))
    }

    /// How many papers have an abstract, without reading any.
    pub fn with_abstract(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.flags & HAS_ABSTRACT != 0)
            .count()
    }

    fn field(&self, row: &Row, index: usize) -> &str {
        let from = if index == 0 { 0 } else { row.ends[index - 1] };
        let start = row.start as usize;
        self.text
            .get(
                start.saturating_add(from as usize)..start.saturating_add(row.ends[index] as usize),
            )
            .unwrap_or_default()
    }

    fn abstract_of(&self, ordinal: usize) -> Option<Cow<'_, str>> {
        if self.rows.get(ordinal)?.flags & HAS_ABSTRACT == 0 {
            return None;
        }
        let start = match ordinal {
            0 => 0,
            i => *self.abstract_ends.get(i - 1)?,
        };
        let end = *self.abstract_ends.get(ordinal)?;
        // Abstracts on disk are not covered by the cache file's hash (checking
        // them would read them all); a damaged one is simply absent.
        match self.abstracts.read(start..end)? {
            Cow::Borrowed(bytes) => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
            Cow::Owned(bytes) => String::from_utf8(bytes).ok().map(Cow::Owned),
        }
    }

    /// Whether rows read back from disk describe this table's text and
    /// abstracts: every field on character boundaries, in order, inside
    /// the text, and abstract offsets ascending within the abstracts.
    pub(super) fn is_sound(&self, files: usize) -> bool {
        let text = &self.text;
        let rows_sound = self.rows.iter().all(|row| {
            let start = row.start as usize;
            let mut previous = 0;
            (row.file as usize) < files
                && row.ends.iter().all(|&end| {
                    let ok = end >= previous
                        && start
                            .checked_add(end as usize)
                            .is_some_and(|e| text.is_char_boundary(e));
                    previous = end;
                    ok
                })
                && text.is_char_boundary(start)
        });
        let abstracts_len = self.abstracts.len();
        let mut previous = 0;
        rows_sound
            && self.abstract_ends.len() == self.rows.len()
            && self.abstract_ends.iter().all(|&end| {
                let ok = end >= previous && end <= abstracts_len;
                previous = end;
                ok
            })
    }
}

impl<'t> IntoIterator for &'t PaperTable {
    type Item = PaperRef<'t>;
    type IntoIter = Box<dyn ExactSizeIterator<Item = PaperRef<'t>> + 't>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// Appends `value` with the separators' control characters made spaces.
fn push_clean(out: &mut String, value: &str) {
    if !value.contains([PERSON_SEPARATOR, NAME_SEPARATOR]) {
        out.push_str(value);
        return;
    }
    out.extend(value.chars().map(|c| {
        if c == PERSON_SEPARATOR || c == NAME_SEPARATOR {
            ' '
        } else {
            c
        }
    }));
}

/// One paper of a table, its fields borrowed; see `Paper` for their meaning.
#[derive(Clone, Debug)]
pub struct PaperRef<'t> {
    pub key: &'t str,
    pub key_origin: KeyOrigin,
    pub entry_type: &'t str,
    pub title: &'t str,
    pub authors: Authors<'t>,
    pub authors_are_editors: bool,
    pub year: Option<i32>,
    pub venue: Option<&'t str>,
    pub ids: Ids<'t>,
    pub categories: Categories<'t>,
    pub origin: Origin,
    table: &'t PaperTable,
    ordinal: usize,
}

impl<'t> PaperRef<'t> {
    /// The abstract, read from where the table keeps it (possibly the
    /// cache file on disk, so only papers actually shown are ever read).
    pub fn abstract_text(&self) -> Option<Cow<'t, str>> {
        self.table.abstract_of(self.ordinal)
    }

    /// The paper's position in its corpus.
    pub fn ordinal(&self) -> usize {
        self.ordinal
    }

    /// "A. Author, B. Author and C. Author" (all names, for cards and
    /// search); "A. Editor and B. Editor (eds.)" for an edited work.
    pub fn authors_display(&self) -> String {
        let names: Vec<String> = self.authors.iter().map(|p| p.display()).collect();
        let joined = match names.len() {
            0 => return String::new(),
            1 => names[0].clone(),
            n => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
        };
        match (self.authors_are_editors, names.len()) {
            (false, _) => joined,
            (true, 1) => format!("{joined} (ed.)"),
            (true, _) => format!("{joined} (eds.)"),
        }
    }

    /// An owned copy, for exports and tests.
    pub fn to_paper(&self) -> Paper {
        Paper {
            key: self.key.to_string(),
            key_origin: self.key_origin,
            entry_type: self.entry_type.to_string(),
            title: self.title.to_string(),
            authors: self.authors.to_people(),
            authors_are_editors: self.authors_are_editors,
            year: self.year,
            venue: self.venue.map(str::to_string),
            abstract_text: self.abstract_text().map(Cow::into_owned),
            ids: Identifiers {
                doi: self.ids.doi.map(str::to_string),
                arxiv: self.ids.arxiv.map(str::to_string),
                url: self.ids.url.map(str::to_string),
            },
            categories: self.categories.iter().map(str::to_string).collect(),
            origin: self.origin.clone(),
        }
    }
}

/// Identifiers that lead to the paper outside the corpus.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ids<'t> {
    pub doi: Option<&'t str>,
    pub arxiv: Option<&'t str>,
    pub url: Option<&'t str>,
}

/// A person's name as stored: see `Person`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PersonRef<'t> {
    pub given: &'t str,
    pub family: &'t str,
}

impl PersonRef<'_> {
    /// "Given Family", or just the family name.
    pub fn display(&self) -> String {
        if self.given.is_empty() {
            self.family.to_string()
        } else {
            format!("{} {}", self.given, self.family)
        }
    }
}

/// A paper's people, in order.
#[derive(Clone, Copy, Debug)]
pub struct Authors<'t>(&'t str);

impl<'t> Authors<'t> {
    pub fn iter(&self) -> impl Iterator<Item = PersonRef<'t>> + Clone + 't {
        let joined = self.0;
        joined
            .split(PERSON_SEPARATOR)
            .filter(move |_| !joined.is_empty())
            .map(|person| match person.split_once(NAME_SEPARATOR) {
                Some((given, family)) => PersonRef { given, family },
                None => PersonRef {
                    given: "",
                    family: person,
                },
            })
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn first(&self) -> Option<PersonRef<'t>> {
        self.iter().next()
    }

    pub fn to_people(&self) -> Vec<Person> {
        self.iter()
            .map(|p| Person {
                given: p.given.to_string(),
                family: p.family.to_string(),
            })
            .collect()
    }
}

/// A paper's subject categories, in order.
#[derive(Clone, Copy, Debug)]
pub struct Categories<'t>(&'t str);

impl<'t> Categories<'t> {
    pub fn iter(&self) -> impl Iterator<Item = &'t str> + Clone + 't {
        let joined = self.0;
        joined
            .split(PERSON_SEPARATOR)
            .filter(move |_| !joined.is_empty())
    }

    pub fn first(&self) -> Option<&'t str> {
        self.iter().next()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// At least the bytes of `paper`'s row in a table's text (the separators
/// counted once per person and category).
fn text_bytes_of(paper: &Paper) -> usize {
    let optional = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    paper.key.len()
        + paper.entry_type.len()
        + paper.title.len()
        + paper
            .authors
            .iter()
            .map(|a| a.given.len() + a.family.len() + 2 * PERSON_SEPARATOR.len_utf8())
            .sum::<usize>()
        + optional(&paper.venue)
        + optional(&paper.ids.doi)
        + optional(&paper.ids.arxiv)
        + optional(&paper.ids.url)
        + paper
            .categories
            .iter()
            .map(|c| c.len() + PERSON_SEPARATOR.len_utf8())
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper(key: &str) -> Paper {
        let mut p = Paper::titled(format!("Title of {key}"), "article");
        p.key = key.to_string();
        p
    }

    #[test]
    fn packed_papers_read_back_the_same() {
        let mut full = paper("Full2020");
        full.authors = vec![
            Person {
                given: "Ada".into(),
                family: "Lovelace".into(),
            },
            Person {
                given: String::new(),
                family: "The \u{1e}Consortium".into(),
            },
        ];
        full.year = Some(-44);
        full.venue = Some(String::new());
        full.abstract_text = Some("We show ü.".into());
        full.ids.doi = Some("10.1/x".into());
        full.ids.url = Some("https://x.org".into());
        full.categories = vec!["cs.CL".into(), "cs.AI".into()];
        full.key_origin = KeyOrigin::Generated;
        full.origin = Origin {
            file: 1,
            line: 7,
            span: 10..90,
            key_span: Some(19..27),
            key_columns: Some(KeyColumns {
                line: 7,
                utf8: 9..17,
                utf16: 9..17,
            }),
        };
        let bare = paper("");
        let table = PaperTable::from_papers(&[full.clone(), bare.clone(), paper("Ω")]);
        assert_eq!(table.len(), 3);
        let mut expected = full;
        expected.authors[1].family = "The  Consortium".into();
        assert_eq!(table.paper(0).to_paper(), expected);
        assert_eq!(table.paper(1).to_paper(), bare);
        assert_eq!(table.paper(2).key, "Ω");
        assert_eq!(table.key(2), "Ω");
        assert_eq!(table.paper(0).authors.len(), 2);
        assert!(table.paper(1).authors.is_empty());
        assert_eq!(table.paper(1).authors.iter().count(), 0);
        assert_eq!(table.paper(0).categories.first(), Some("cs.CL"));
        assert_eq!(table.paper(0).venue, Some(""));
        assert_eq!(table.paper(1).venue, None);
        assert_eq!(table.paper(1).abstract_text(), None);
        assert_eq!(
            table.paper(0).abstract_text().as_deref(),
            Some("We show ü.")
        );
        assert_eq!(table.with_abstract(), 1);
        assert!(table.is_sound(2));
        assert!(!table.is_sound(1), "a row naming a file that is not there");
    }

    #[test]
    fn rows_that_leave_the_text_are_not_sound() {
        let mut table = PaperTable::from_papers(&[paper("Ωmega")]);
        assert!(table.is_sound(1));
        table.rows[0].ends[KEY] = 1; // inside the two bytes of `Ω`
        assert!(!table.is_sound(1));
        table.rows[0].ends[KEY] = 0;
        table.rows[0].start = u64::MAX;
        assert!(!table.is_sound(1));
        table.rows[0].start = 0;
        table.abstract_ends[0] = 5;
        assert!(!table.is_sound(1));
    }
}
