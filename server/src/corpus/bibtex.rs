//! A tolerant BibTeX / BibLaTeX reader that loads several `.bib` files at once
//! into `Paper`s, the way `\bibliography{abbrev3,crypto}` sees them together:
//! `@string` macros may be defined in any file of the load, before or after
//! use, and `crossref` parents may live in another file.
//!
//! Reading happens in two stages. [`parse_file`] turns one file's text into
//! raw entries, `@string` definitions and syntax problems, all as byte ranges
//! into the text (rename needs each entry's key span); it never fails and
//! resumes after a broken entry at the next `@type{` that starts a line.
//! [`load_bibtex`] then resolves macros and cross-references over all files
//! and converts each entry's fields to display text.
//!
//! Not handled here: file decoding (the caller passes decoded UTF-8), key
//! generation for entries without a key (they load with an empty key), and
//! BibLaTeX data model validation (unknown types and fields load as they are).

mod chunks;
mod convert;
mod macros;
mod parser;
mod scan;
mod standalone;
#[cfg(test)]
pub(crate) mod tests;

use super::paper::{KeyOrigin, LineStarts, Origin, Paper, Problem, Severity};
use super::{latex_text, names};
pub use chunks::{ChangedRegion, Chunks};
pub use convert::Links;
pub use standalone::{standalone_entry, MacroTable};
use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

/// One `.bib` file of a load. `file` is its index in the corpus's file list
/// and becomes `Origin::file` of its papers.
pub struct BibSource<'a> {
    pub file: usize,
    pub path: &'a Path,
    pub text: &'a str,
}

/// What [`parse_file`] found in one file, before macros and cross-references
/// are resolved. All ranges are byte offsets into the parsed text.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ParsedFile<'t> {
    /// Entries in file order, including broken ones cut short by an error
    /// (with the fields read before it).
    pub entries: Vec<RawEntry<'t>>,
    pub strings: Vec<StringDef<'t>>,
    pub problems: Vec<LocalProblem>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct RawEntry<'t> {
    /// 1-based line of the `@`.
    pub line: u32,
    /// Lower-cased entry type (`inproceedings`).
    pub entry_type: Cow<'t, str>,
    /// The citation key's bytes; `None` when the entry has no key.
    pub key_span: Option<Range<usize>>,
    /// From the `@` to the closing delimiter inclusive (for a broken entry, to
    /// the last byte read before the error).
    pub span: Range<usize>,
    pub fields: Vec<RawField<'t>>,
}

impl<'t> RawEntry<'t> {
    /// The citation key as written, if any.
    pub fn key<'a>(&self, text: &'a str) -> Option<&'a str> {
        self.key_span.clone().and_then(|span| text.get(span))
    }

    /// The entry's own field of that (lower-case) name.
    pub fn field(&self, name: &str) -> Option<&RawField<'t>> {
        self.fields.iter().find(|field| field.name == name)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct RawField<'t> {
    /// Lower-cased field name.
    pub name: Cow<'t, str>,
    pub name_span: Range<usize>,
    pub value: Value,
}

/// A field or `@string` value: one or more parts joined by `#`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    first: ValuePart,
    // Kept apart from `first` so the usual single-part value allocates nothing.
    rest: Vec<ValuePart>,
    /// From the first byte of the first part to the last byte of the last,
    /// delimiters included.
    pub span: Range<usize>,
}

impl Value {
    pub fn parts(&self) -> impl Iterator<Item = &ValuePart> {
        std::iter::once(&self.first).chain(self.rest.iter())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValuePart {
    /// Literal TeX: the inside of `{...}` or `"..."`, or a bare number.
    Text(Range<usize>),
    /// The name of an `@string` macro, as written.
    Macro(Range<usize>),
}

/// `@string{name = value}`.
#[derive(Debug, PartialEq, Eq)]
pub struct StringDef<'t> {
    /// Lower-cased macro name.
    pub name: Cow<'t, str>,
    pub name_span: Range<usize>,
    pub value: Value,
}

/// A problem found while parsing one file, located by byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalProblem {
    pub offset: usize,
    pub severity: Severity,
    pub message: String,
}

/// Files larger than this are parsed in pieces, one thread per piece.
const PIECE_BYTES: usize = 4 << 20;

/// Parses one file's text without resolving anything. A large file is cut
/// at lines that start entries and the pieces parsed in parallel; the result
/// is the same as parsing it in one go.
pub fn parse_file(text: &str) -> ParsedFile<'_> {
    parse_in_pieces(text, (text.len() / PIECE_BYTES).clamp(1, worker_threads()))
}

/// [`parse_file`] in `pieces` pieces whatever the size of the text (the
/// fuzzer checks that this does not change the result).
pub(crate) fn parse_in_pieces(text: &str, pieces: usize) -> ParsedFile<'_> {
    let mut bounds = vec![0];
    for k in 1..pieces {
        let start = scan::Scan::new(text).piece_start(text.len() / pieces * k);
        if bounds.last().is_some_and(|&last| start > last) && start < text.len() {
            bounds.push(start);
        }
    }
    bounds.push(text.len());
    let ranges: Vec<Range<usize>> = bounds.windows(2).map(|w| w[0]..w[1]).collect();
    let parse = |range: &Range<usize>| parser::Parser::new(text).run(range.clone());
    let results = if ranges.len() == 1 {
        vec![parse(&ranges[0])]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = ranges
                .iter()
                .map(|r| scope.spawn(move || parse(r)))
                .collect();
            handles.into_iter().map(join).collect()
        })
    };
    let mut merged = ParsedFile::default();
    let mut lines_before = 0;
    for (mut piece, newlines) in results {
        piece
            .entries
            .iter_mut()
            .for_each(|e| e.line += lines_before);
        merged.entries.append(&mut piece.entries);
        merged.strings.append(&mut piece.strings);
        merged.problems.append(&mut piece.problems);
        lines_before += newlines;
    }
    merged
}

/// Papers of all files in order (file order, then entry order), and every problem.
///
/// Macros are resolved over the whole load (a later `@string` overrides an
/// earlier one); the first entry of a duplicated key wins; a `crossref`
/// child inherits the fields it lacks from its parent.
pub fn load_bibtex(sources: &[BibSource<'_>]) -> (Vec<Paper>, Vec<Problem>) {
    let load = load_bibtex_keeping_links(sources);
    (load.papers, load.problems)
}

/// A load of `.bib` files, with what a later reload of one entry needs
/// to know of the rest: the macros and the links between entries.
pub struct BibLoad {
    pub papers: Vec<Paper>,
    pub problems: Vec<Problem>,
    pub macros: MacroTable,
    pub links: Links,
}

/// [`load_bibtex`], keeping the load's macros and links.
pub fn load_bibtex_keeping_links(sources: &[BibSource<'_>]) -> BibLoad {
    let (parsed, lines) = parse_all(sources);
    let mut sink = ProblemSink::new(sources, &lines);
    for (file, parsed_file) in parsed.iter().enumerate() {
        for problem in &parsed_file.problems {
            sink.push(
                file,
                problem.offset,
                problem.severity,
                problem.message.clone(),
            );
        }
    }
    let macros = macros::Macros::resolve(sources, &parsed, &mut sink);
    let (papers, links) = convert::papers(sources, &parsed, &macros, &mut sink);
    let mut problems = sink.problems;
    // Problems are gathered stage by stage; readers want them by place.
    problems.sort_by_key(|(file, problem)| (*file, problem.line));
    BibLoad {
        papers,
        problems: problems.into_iter().map(|(_, p)| p).collect(),
        macros: MacroTable::kept_from(&macros),
        links,
    }
}

/// The macros and links a load of `sources` resolves, without converting
/// its entries to papers. Each file is parsed a run of pieces at a time and
/// only what ties entries together is kept (definitions, keys, the
/// entries that name parents), so this takes little memory beyond the
/// texts: what a corpus read back from the parsed-corpus cache needs to
/// learn, beside the requests.
pub fn load_links(sources: &[BibSource<'_>]) -> (MacroTable, Links) {
    load_links_in_runs(sources, 1 << 20)
}

/// [`load_links`], parsing runs of about `run_bytes`.
fn load_links_in_runs(sources: &[BibSource<'_>], run_bytes: usize) -> (MacroTable, Links) {
    let mut definitions = Vec::with_capacity(sources.len());
    let mut keys = Vec::new();
    let mut linking = Vec::new();
    for (file, source) in sources.iter().enumerate() {
        let text = source.text;
        let mut strings = Vec::new();
        let mut start = 0;
        while start < text.len() {
            let end = scan::Scan::new(text).piece_start(start.saturating_add(run_bytes));
            let end = if end > start { end } else { text.len() };
            let (parsed, _) = parser::Parser::new(text).run(start..end);
            strings.extend(parsed.strings);
            for entry in parsed.entries {
                keys.extend(entry.key(text));
                if entry.field("crossref").is_some() || entry.field("xdata").is_some() {
                    linking.push((file, entry));
                }
            }
            start = end;
        }
        definitions.push(ParsedFile {
            strings,
            ..ParsedFile::default()
        });
    }
    let lines: Vec<FileLines<'_>> = sources.iter().map(|s| FileLines::new(s.text)).collect();
    // Problems were reported when the corpus was loaded.
    let mut sink = ProblemSink::new(sources, &lines);
    let macros = macros::Macros::resolve(sources, &definitions, &mut sink);
    let mut links = Links::default();
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    for key in keys {
        if !seen.insert(key) {
            links.duplicated_keys.insert(key.to_string());
        }
    }
    for (file, entry) in &linking {
        convert::add_parent_keys(&mut links.parent_keys, entry, sources[*file].text, &macros);
    }
    (MacroTable::kept_from(&macros), links)
}

/// The papers and problems of the entries in bytes `region` of one file's
/// text, read as a load of all the files reads them, given that load's
/// `macros` and `links` — when they can be read apart from the rest.
/// `region` must run from a piece start to a piece start or the end (see
/// [`Chunks`]); `lines_before` is the number of lines before it.
///
/// `None` when the region defines macros, has an entry without a key, an
/// `@xdata` entry, a `crossref` or `xdata` field, two entries with one key
/// (in any case), or an entry whose key has duplicates in the load or is
/// named as a parent: the whole load is read then. Whether the region's
/// keys clash with entries outside it is for the caller to check.
pub fn reload_region(
    source: &BibSource<'_>,
    region: Range<usize>,
    lines_before: u32,
    macros: &MacroTable,
    links: &Links,
) -> Option<(Vec<Paper>, Vec<Problem>)> {
    let text = source.text;
    text.get(region.clone())?;
    let (mut parsed, _) = parser::Parser::new(text).run(region);
    if !parsed.strings.is_empty() {
        return None;
    }
    let mut keys = std::collections::HashSet::new();
    for entry in &mut parsed.entries {
        entry.line += lines_before;
        let key = entry.key(text).filter(|k| !k.is_empty())?;
        let folded = key.to_lowercase();
        let linked = entry.entry_type == "xdata"
            || entry.field("crossref").is_some()
            || entry.field("xdata").is_some()
            || links.parent_keys.contains(&folded)
            || links.duplicated_keys.contains(key);
        if linked || !keys.insert(folded) {
            return None;
        }
    }
    let sources = [BibSource {
        file: source.file,
        path: source.path,
        text,
    }];
    let lines = [FileLines::new(text)];
    let mut sink = ProblemSink::new(&sources, &lines);
    for problem in &parsed.problems {
        sink.push(0, problem.offset, problem.severity, problem.message.clone());
    }
    let parsed = [parsed];
    let (papers, _) = convert::papers(&sources, &parsed, macros, &mut sink);
    let mut problems = sink.problems;
    problems.sort_by_key(|(_, problem)| problem.line);
    Some((papers, problems.into_iter().map(|(_, p)| p).collect()))
}

/// Named texts as the sources of one load, for tests (`paths` holds the
/// names as paths, so the sources can borrow them).
#[cfg(test)]
pub(crate) fn test_sources<'a>(
    files: &'a [(&str, &str)],
    paths: &'a [std::path::PathBuf],
) -> Vec<BibSource<'a>> {
    files
        .iter()
        .zip(paths)
        .enumerate()
        .map(|(file, ((_, text), path))| BibSource { file, path, text })
        .collect()
}

/// The papers of one `.bib` text, which must read without a problem: for
/// tests of what is written out.
#[cfg(test)]
pub(crate) fn read_cleanly(text: &str) -> Vec<Paper> {
    let (papers, problems) = load_bibtex(&[BibSource {
        file: 0,
        path: Path::new("refs.bib"),
        text,
    }]);
    assert!(problems.is_empty(), "{problems:?}\n{text}");
    papers
}

/// How many threads large loads are spread over (the machine's cores).
fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A scoped thread's result; our code does not panic, but if it did, the
/// panic belongs to the caller.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Every source parsed, and each one's line lookup (built on demand).
fn parse_all<'s>(sources: &[BibSource<'s>]) -> (Vec<ParsedFile<'s>>, Vec<FileLines<'s>>) {
    let parsed = sources.iter().map(|s| parse_file(s.text)).collect();
    let lines = sources.iter().map(|s| FileLines::new(s.text)).collect();
    (parsed, lines)
}

/// Offset-to-line lookup for one file, built only if a problem needs it.
struct FileLines<'s> {
    text: &'s str,
    starts: OnceLock<LineStarts>,
}

impl<'s> FileLines<'s> {
    fn new(text: &'s str) -> Self {
        FileLines {
            text,
            starts: OnceLock::new(),
        }
    }

    fn line(&self, offset: usize) -> u32 {
        self.starts
            .get_or_init(|| LineStarts::new(self.text))
            .line(offset)
    }
}

/// Collects problems of a load, turning byte offsets into file lines.
/// Threads converting parts of a load each fill a `fork` of it.
struct ProblemSink<'s> {
    sources: &'s [BibSource<'s>],
    lines: &'s [FileLines<'s>],
    /// With the index of the source, for sorting.
    problems: Vec<(usize, Problem)>,
}

impl<'s> ProblemSink<'s> {
    fn new(sources: &'s [BibSource<'s>], lines: &'s [FileLines<'s>]) -> ProblemSink<'s> {
        ProblemSink {
            sources,
            lines,
            problems: Vec::new(),
        }
    }

    fn fork(&self) -> ProblemSink<'s> {
        ProblemSink {
            sources: self.sources,
            lines: self.lines,
            problems: Vec::new(),
        }
    }

    fn absorb(&mut self, other: ProblemSink<'s>) {
        self.problems.extend(other.problems);
    }

    fn line(&self, file: usize, offset: usize) -> u32 {
        self.lines[file].line(offset)
    }

    fn push(&mut self, file: usize, offset: usize, severity: Severity, message: String) {
        let problem = Problem {
            file: self.sources[file].path.to_path_buf(),
            line: self.line(file, offset),
            severity,
            message,
        };
        self.problems.push((file, problem));
    }

    fn warn(&mut self, file: usize, offset: usize, message: String) {
        self.push(file, offset, Severity::Warning, message);
    }
}

/// `s` lower-cased, borrowed when it already is.
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) || !s.is_ascii() {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}
