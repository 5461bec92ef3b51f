//! The corpus loaders on arbitrary bytes, decoded the way a file on disk is
//! (UTF-8, or Latin-1 when that fails) and loaded through
//! `Corpus::from_sources`, so that key generation and key location run too.

use super::{assert_slices, assert_within};
use crate::corpus::bibtex::{self, ParsedFile, Value, ValuePart};
use crate::corpus::source::{decode_text, ReadSource};
use crate::corpus::{Corpus, KeyOrigin, LineStarts, PaperRef, SourceKind};
use crate::text::{LineIndex, PositionEncoding};
use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// BibTeX: up to three files (the input split at NUL bytes), so that
/// macros and cross-references between files are exercised. Each file's
/// raw parse is checked on its own, and against parsing it in pieces.
pub fn bibtex(data: &[u8]) {
    let texts: Vec<String> = data
        .splitn(3, |&b| b == 0)
        .map(|bytes| decode(bytes, "fuzz.bib"))
        .collect();
    for text in &texts {
        let parsed = bibtex::parse_file(text);
        check_parsed_file(text, &parsed);
        for pieces in [2, 3] {
            assert_eq!(
                bibtex::parse_in_pieces(text, pieces),
                parsed,
                "parsing in {pieces} pieces differs from parsing in one"
            );
        }
    }
    check_load(&texts, SourceKind::Bibtex);
}

pub fn csl_json(data: &[u8]) {
    check_load(&[decode(data, "fuzz.json")], SourceKind::CslJson);
}

pub fn jsonl(data: &[u8]) {
    check_load(&[decode(data, "fuzz.jsonl")], SourceKind::JsonLines);
}

pub fn digest(data: &[u8]) {
    check_load(&[decode(data, "fuzz.txt")], SourceKind::Digest);
}

fn decode(bytes: &[u8], name: &str) -> String {
    let mut problems = Vec::new();
    let text = decode_text(bytes.to_vec(), Path::new(name), &mut problems);
    assert!(problems.len() <= 1, "decoding warns more than once");
    text
}

/// Raw entries and `@string`s: every range slices the text, sits where it
/// says, and items come in file order.
fn check_parsed_file(text: &str, parsed: &ParsedFile<'_>) {
    let lines = LineStarts::new(text);
    for problem in &parsed.problems {
        assert!(problem.offset <= text.len(), "problem past the end");
    }
    let mut previous_end = 0;
    for entry in &parsed.entries {
        assert_slices(text, &entry.span, "entry");
        assert!(entry.span.start >= previous_end, "entries overlap");
        previous_end = entry.span.end;
        assert_eq!(text.as_bytes()[entry.span.start], b'@', "entry span start");
        assert_eq!(entry.line, lines.line(entry.span.start));
        assert_eq!(entry.entry_type, entry.entry_type.to_lowercase());
        if let Some(key) = &entry.key_span {
            assert_slices(text, key, "key");
            assert_within(key, &entry.span, "key");
        }
        for field in &entry.fields {
            assert_eq!(field.name, field.name.to_lowercase());
            assert_slices(text, &field.name_span, "field name");
            assert_within(&field.name_span, &entry.span, "field name");
            check_value(text, &field.value);
            assert_within(&field.value.span, &entry.span, "field value");
        }
    }
    for def in &parsed.strings {
        assert_eq!(def.name, def.name.to_lowercase());
        assert_slices(text, &def.name_span, "macro name");
        check_value(text, &def.value);
    }
}

fn check_value(text: &str, value: &Value) {
    assert_slices(text, &value.span, "value");
    for part in value.parts() {
        let (ValuePart::Text(range) | ValuePart::Macro(range)) = part;
        assert_slices(text, range, "value part");
        assert_within(range, &value.span, "value part");
    }
}

/// Loads `texts` as files of one kind and checks the corpus: every paper
/// points at its own entry, keys are unique and found again, and a key's
/// columns are where an editor would find the key.
fn check_load(texts: &[String], kind: SourceKind) {
    for text in texts {
        SourceKind::sniff(text);
    }
    let read: Vec<ReadSource> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| ReadSource {
            path: PathBuf::from(format!("fuzz-{i}")),
            kind,
            text: text.clone(),
            gzipped: false,
            content_hash: i as u64,
        })
        .collect();
    let corpus = Corpus::from_sources(read, Vec::new());
    let lines: Vec<TextLines> = texts.iter().map(|t| TextLines::new(t)).collect();
    let mut keys = HashSet::new();
    for (i, paper) in corpus.papers.iter().enumerate() {
        let origin = &paper.origin;
        let lines = &lines[origin.file];
        let text = lines.text;
        assert_slices(text, &origin.span, "paper span");
        assert_eq!(origin.line, lines.starts.line(origin.span.start));
        assert!(!paper.key.is_empty(), "paper without a key");
        let unique = keys.insert(paper.key);
        assert!(unique, "duplicate key {}", paper.key);
        assert_eq!(corpus.index_of(paper.key), Some(i), "key not found again");
        assert!(corpus.keys_starting_with(paper.key).any(|j| j == i));
        if let Some(span) = &origin.key_span {
            assert_slices(text, span, "key span");
            assert_within(span, &origin.span, "key span");
            if paper.key_origin == KeyOrigin::Source {
                assert_eq!(&text[span.clone()], paper.key, "key span");
            }
            lines.check_key_columns(span, &paper);
        }
    }
    let last_line = lines.iter().map(|l| l.starts.line(l.text.len())).max();
    for problem in &corpus.problems {
        assert!(
            problem.line <= last_line.unwrap_or(0),
            "problem past the last line"
        );
    }
}

/// One loaded text's lines, counted as the corpus counts them (at `\n`)
/// and as the protocol does (at `\n`, `\r\n` and a lone `\r`); the second
/// only when the two agree, in text without a lone `\r`.
struct TextLines<'t> {
    text: &'t str,
    starts: LineStarts,
    protocol: Option<LineIndex>,
}

impl<'t> TextLines<'t> {
    fn new(text: &'t str) -> Self {
        let lone_cr = text.replace("\r\n", "").contains('\r');
        TextLines {
            text,
            starts: LineStarts::new(text),
            protocol: (!lone_cr).then(|| LineIndex::new(text)),
        }
    }

    /// The key's columns against the line index the protocol layer uses.
    fn check_key_columns(&self, span: &Range<usize>, paper: &PaperRef<'_>) {
        let columns = paper
            .origin
            .key_columns
            .as_ref()
            .expect("a BibTeX key with a span has columns");
        assert_eq!(columns.line, self.starts.line(span.start));
        let key = &self.text[span.clone()];
        assert_eq!(columns.utf8.len(), key.len());
        assert_eq!(columns.utf16.len(), key.encode_utf16().count());
        let Some(index) = &self.protocol else {
            return;
        };
        for (enc, start) in [
            (PositionEncoding::Utf8, columns.utf8.start),
            (PositionEncoding::Utf16, columns.utf16.start),
        ] {
            let at = index.position(self.text, span.start, enc);
            assert_eq!(at, (columns.line - 1, start), "key columns ({enc:?})");
        }
    }
}
