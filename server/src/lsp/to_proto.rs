//! Plain feature answers → LSP types. Byte offsets become positions in the
//! negotiated encoding here and nowhere else.

use super::capabilities::ADD_MISSING_PAPERS_KIND;
use super::commands::{ADD_TO_BIBLIOGRAPHY, OPEN_PAPER};
use crate::corpus::{Problem, Severity};
use crate::features::card::paper_json;
use crate::features::code_actions::{ActionKind, CodeAction as PlainAction, Effect};
use crate::features::completion::Completion;
use crate::features::definition::PaperLocation;
use crate::features::diagnostics::{NotInBibliography, UncitedEntry, UnknownKey};
use crate::features::hover::HoverCard;
use crate::features::inlay_hints::InlayHint as PlainHint;
use crate::features::links::PaperLink;
use crate::features::references::NoteLocations;
use crate::features::rename::FileEdit;
use crate::features::search::PaperSymbol;
use crate::text::{LineIndex, PositionEncoding};
use crate::workspace::documents::DocumentSnapshot;
use crate::workspace::Snapshot;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::ops::Range as Bytes;
use std::sync::Arc;
use tower_lsp_server::ls_types::*;

pub fn position(doc: &DocumentSnapshot, offset: usize, enc: PositionEncoding) -> Position {
    let (line, character) = doc.position(offset, enc);
    Position::new(line, character)
}

pub fn range(doc: &DocumentSnapshot, bytes: &Bytes<usize>, enc: PositionEncoding) -> Range {
    Range::new(
        position(doc, bytes.start, enc),
        position(doc, bytes.end, enc),
    )
}

pub fn markdown(text: String) -> MarkupContent {
    MarkupContent {
        kind: MarkupKind::Markdown,
        value: text,
    }
}

pub fn hover(doc: &DocumentSnapshot, card: HoverCard, enc: PositionEncoding) -> Hover {
    Hover {
        contents: HoverContents::Markup(markdown(card.markdown)),
        range: Some(range(doc, &card.range, enc)),
    }
}

/// The completion list; an item whose paper the document's bibliography
/// lacks carries the command that adds it, run by the client once the item
/// is accepted (so typing never waits for it).
pub fn completion_list(
    doc: &DocumentSnapshot,
    uri: &Uri,
    completion: Completion,
    enc: PositionEncoding,
) -> CompletionList {
    let edit_range = range(doc, &completion.range, enc);
    let add = |key: &str| Command {
        title: format!("Add {key} to the bibliography"),
        command: ADD_TO_BIBLIOGRAPHY.into(),
        arguments: Some(vec![json!(uri.as_str()), json!([key])]),
    };
    let items = completion
        .found
        .items
        .into_iter()
        .map(|c| CompletionItem {
            label: c.key.to_string(),
            kind: Some(CompletionItemKind::REFERENCE),
            detail: Some(c.detail),
            label_details: Some(CompletionItemLabelDetails {
                detail: (!c.who_when.is_empty()).then(|| format!(" {}", c.who_when)),
                description: Some(c.short_title),
            }),
            documentation: Some(Documentation::MarkupContent(markdown(c.documentation))),
            filter_text: Some(c.filter_text),
            sort_text: Some(c.sort_text),
            command: c.adds_to_bibliography.then(|| add(&c.key)),
            text_edit: Some(CompletionTextEdit::Edit(match c.written {
                Some((bytes, text)) => TextEdit::new(range(doc, &bytes, enc), text),
                None => TextEdit::new(edit_range, c.key),
            })),
            ..CompletionItem::default()
        })
        .collect();
    CompletionList {
        is_incomplete: completion.found.incomplete,
        items,
    }
}

pub fn diagnostic(
    doc: &DocumentSnapshot,
    unknown: &UnknownKey,
    enc: PositionEncoding,
) -> Diagnostic {
    let data = json!({ "key": unknown.key, "closest": unknown.closest });
    let range = range(doc, &unknown.range, enc);
    warning(range, "unknown-key", unknown.message(), data)
}

pub fn not_in_bibliography(
    doc: &DocumentSnapshot,
    missing: &NotInBibliography,
    enc: PositionEncoding,
) -> Diagnostic {
    let data = json!({ "key": missing.key, "foundIn": missing.found_in, "bibliography": missing.bibliography });
    let range = range(doc, &missing.range, enc);
    warning(range, "not-in-bibliography", missing.message(), data)
}

/// A warning of ours on a citation, with its code and the data a quick fix reads.
fn warning(range: Range, code: &str, message: String, data: Value) -> Diagnostic {
    Diagnostic {
        range,
        severity: Some(DiagnosticSeverity::WARNING),
        code: Some(NumberOrString::String(code.into())),
        source: Some("paper-ls".into()),
        message,
        data: Some(data),
        ..Diagnostic::default()
    }
}

/// A location in a corpus file (the key selected) or a paper card (its top).
pub fn location(target: &PaperLocation, enc: PositionEncoding) -> Option<Location> {
    let uri = Uri::from_file_path(&target.path)?;
    let line = target.line.saturating_sub(1);
    let (start, end) = match (&target.key, enc) {
        (Some(k), PositionEncoding::Utf8) => (k.utf8.start, k.utf8.end),
        (Some(k), PositionEncoding::Utf16) => (k.utf16.start, k.utf16.end),
        (None, _) => (0, 0),
    };
    let range = Range::new(Position::new(line, start), Position::new(line, end));
    Some(Location { uri, range })
}

pub fn locations(targets: &[PaperLocation], enc: PositionEncoding) -> Vec<Location> {
    targets.iter().filter_map(|t| location(t, enc)).collect()
}

pub fn definition(
    targets: &[PaperLocation],
    enc: PositionEncoding,
) -> Option<GotoDefinitionResponse> {
    let mut found = locations(targets, enc);
    match found.len() {
        0 => None,
        1 => found.pop().map(GotoDefinitionResponse::Scalar),
        _ => Some(GotoDefinitionResponse::Array(found)),
    }
}

pub fn inlay_hint(doc: &DocumentSnapshot, hint: PlainHint, enc: PositionEncoding) -> InlayHint {
    InlayHint {
        position: position(doc, hint.offset, enc),
        label: InlayHintLabel::String(hint.label),
        kind: None,
        text_edits: None,
        tooltip: None,
        padding_left: Some(true),
        padding_right: None,
        data: None,
    }
}

pub fn code_action(
    doc: &DocumentSnapshot,
    uri: &Uri,
    action: PlainAction,
    enc: PositionEncoding,
    shows_disabled: bool,
) -> Option<CodeActionOrCommand> {
    let kind = match action.kind {
        ActionKind::QuickFix => CodeActionKind::QUICKFIX,
        ActionKind::Source => CodeActionKind::new(ADD_MISSING_PAPERS_KIND),
    };
    let mut proto = CodeAction {
        title: action.title,
        kind: Some(kind),
        is_preferred: Some(action.preferred),
        ..CodeAction::default()
    };
    match action.effect {
        Effect::EditDocument {
            range: bytes,
            new_text,
        } => {
            let edit = TextEdit::new(range(doc, &bytes, enc), new_text);
            let changes = [(uri.clone(), vec![edit])].into_iter().collect();
            proto.edit = Some(WorkspaceEdit {
                changes: Some(changes),
                ..WorkspaceEdit::default()
            });
        }
        Effect::AddToBibliography { keys } => {
            proto.command = Some(Command {
                title: proto.title.clone(),
                command: ADD_TO_BIBLIOGRAPHY.into(),
                arguments: Some(vec![json!(uri.as_str()), json!(keys)]),
            });
        }
        Effect::OpenPaper { key } => {
            proto.kind = Some(CodeActionKind::EMPTY);
            proto.command = Some(Command {
                title: proto.title.clone(),
                command: OPEN_PAPER.into(),
                arguments: Some(vec![json!(key)]),
            });
        }
        Effect::Refused { reason } => {
            if !shows_disabled {
                return None;
            }
            proto.is_preferred = None;
            proto.disabled = Some(CodeActionDisabled { reason });
        }
    }
    Some(CodeActionOrCommand::CodeAction(proto))
}

/// Whether `action` is of one of the kinds a client asked for (all when it
/// asked for none); `source` covers `source.addMissingPapers`.
pub fn is_of_kinds(action: &CodeActionOrCommand, only: Option<&[CodeActionKind]>) -> bool {
    let (Some(only), CodeActionOrCommand::CodeAction(action)) = (only, action) else {
        return true;
    };
    let kind = action.kind.as_ref().map_or("", |k| k.as_str());
    only.iter().any(|wanted| {
        let wanted = wanted.as_str();
        kind == wanted || kind.starts_with(&format!("{wanted}."))
    })
}

pub fn note_locations(found: &[NoteLocations], enc: PositionEncoding) -> Vec<Location> {
    let mut locations = Vec::with_capacity(found.iter().map(|n| n.ranges.len()).sum());
    let made: Result<(), std::convert::Infallible> = each_location(found, enc, |uri, range| {
        locations.push(Location {
            uri: uri.clone(),
            range,
        });
        Ok(())
    });
    let Ok(()) = made;
    locations
}

/// The same locations as [`note_locations`], written as JSON as they are
/// made: one URI per note, no `Location` (and its URI copy) per place. A
/// vault's answer is 15,000 places at 10,000 notes.
pub fn note_locations_json(
    found: &[NoteLocations],
    enc: PositionEncoding,
) -> serde_json::Result<Vec<u8>> {
    use serde::ser::{SerializeSeq, Serializer};
    let places = found.iter().map(|n| n.ranges.len()).sum::<usize>();
    // ~130 bytes a location, most of it the URI.
    let mut out = Vec::with_capacity(places * 140);
    let mut json = serde_json::Serializer::new(&mut out);
    let mut list = json.serialize_seq(Some(places))?;
    each_location(found, enc, |uri, range| {
        list.serialize_element(&LocationRef { uri, range })
    })?;
    list.end()?;
    Ok(out)
}

/// Each place of `found` as its note's URI (made once per note; a note
/// whose path is no URI is left out) and its LSP range, in order.
fn each_location<E>(
    found: &[NoteLocations],
    enc: PositionEncoding,
    mut each: impl FnMut(&Uri, Range) -> Result<(), E>,
) -> Result<(), E> {
    let mut ranges = NoteRanges::default();
    for note in found {
        let Some(uri) = Uri::from_file_path(&note.path) else {
            continue;
        };
        for bytes in &note.ranges {
            each(
                &uri,
                ranges.range(note.lines.as_deref(), &note.text, bytes, enc),
            )?;
        }
    }
    Ok(())
}

/// A `Location` that borrows its URI.
#[derive(serde::Serialize)]
struct LocationRef<'a> {
    uri: &'a Uri,
    range: Range,
}

pub fn workspace_edit(edits: &[FileEdit], enc: PositionEncoding) -> WorkspaceEdit {
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    let mut ranges = NoteRanges::default();
    // Edits come by file: each file's URI is made once and its list
    // found once, not per edit (a vault's rename edits thousands of notes).
    let mut file: Option<(&std::path::Path, Uri, Vec<TextEdit>)> = None;
    for edit in edits {
        let range = ranges.range(edit.lines.as_deref(), &edit.text, &edit.range, enc);
        let text_edit = TextEdit::new(range, edit.new_text.clone());
        match &mut file {
            Some((path, _, list)) if *path == edit.path => list.push(text_edit),
            _ => {
                if let Some((_, uri, list)) = file.take() {
                    changes.entry(uri).or_default().extend(list);
                }
                let Some(uri) = Uri::from_file_path(&edit.path) else {
                    continue;
                };
                file = Some((&edit.path, uri, vec![text_edit]));
            }
        }
    }
    if let Some((_, uri, list)) = file {
        changes.entry(uri).or_default().extend(list);
    }
    WorkspaceEdit {
        changes: Some(changes),
        ..WorkspaceEdit::default()
    }
}

#[allow(deprecated)] // `SymbolInformation::deprecated` must still be filled in.
pub fn symbol(symbol: PaperSymbol, enc: PositionEncoding) -> Option<SymbolInformation> {
    Some(SymbolInformation {
        location: location(&symbol.location, enc)?,
        name: symbol.title,
        kind: SymbolKind::OBJECT,
        tags: None,
        deprecated: None,
        container_name: Some(symbol.key),
    })
}

/// Papers as the `paper-ls.search` and `paper-ls.related` commands list
/// them (locations in UTF-16, which every client reads).
pub fn papers_json(snap: &Snapshot, papers: &[usize]) -> Value {
    let corpus = snap.corpus.corpus();
    Value::Array(
        papers
            .iter()
            .map(|&i| {
                let p = &corpus.paper(i);
                let location = crate::features::definition::paper_location(corpus, p, &*snap.files)
                    .ok()
                    .and_then(|t| location(&t, PositionEncoding::Utf16));
                let mut json = paper_json(corpus, p);
                json["location"] = json!(location);
                json
            })
            .collect(),
    )
}

/// A citation key as a link to where its paper is read.
pub fn document_link(
    doc: &DocumentSnapshot,
    link: PaperLink,
    enc: PositionEncoding,
) -> Option<DocumentLink> {
    Some(DocumentLink {
        range: range(doc, &link.range, enc),
        target: Some(link.target.parse::<Uri>().ok()?),
        tooltip: Some(link.tooltip),
        data: None,
    })
}

/// A hint on a bibliography entry no note cites, shown faded.
pub fn uncited_entry(entry: &UncitedEntry, enc: PositionEncoding) -> Diagnostic {
    let line = entry.at.line.saturating_sub(1);
    let columns = match enc {
        PositionEncoding::Utf8 => &entry.at.utf8,
        PositionEncoding::Utf16 => &entry.at.utf16,
    };
    Diagnostic {
        range: Range::new(
            Position::new(line, columns.start),
            Position::new(line, columns.end),
        ),
        severity: Some(DiagnosticSeverity::HINT),
        code: Some(NumberOrString::String("uncited-entry".into())),
        source: Some("paper-ls".into()),
        message: entry.message(),
        tags: Some(vec![DiagnosticTag::UNNECESSARY]),
        data: Some(json!({ "key": entry.key })),
        ..Diagnostic::default()
    }
}

/// A corpus file's problems as diagnostics on that file.
pub fn source_diagnostic(problem: &Problem) -> Diagnostic {
    let line = problem.line.saturating_sub(1);
    Diagnostic {
        range: Range::new(
            Position::new(line, 0),
            Position::new(line + u32::from(problem.line > 0), 0),
        ),
        severity: Some(match problem.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        source: Some("paper-ls".into()),
        message: problem.message.clone(),
        ..Diagnostic::default()
    }
}

/// Byte ranges in notes that are not open (references, rename edits) as LSP
/// ranges, building each note's line index once however many ranges it has.
#[derive(Default)]
struct NoteRanges {
    /// By the address of the note's text, which the caller keeps alive.
    lines: HashMap<usize, LineIndex>,
}

impl NoteRanges {
    /// With the note's own line index when it keeps one.
    fn range(
        &mut self,
        kept: Option<&LineIndex>,
        text: &Arc<str>,
        bytes: &Bytes<usize>,
        enc: PositionEncoding,
    ) -> Range {
        let lines = match kept {
            Some(lines) => lines,
            None => {
                let key = Arc::as_ptr(text) as *const u8 as usize;
                self.lines
                    .entry(key)
                    .or_insert_with(|| LineIndex::new(text))
            }
        };
        range_in(lines, text, bytes, enc)
    }
}

/// `bytes` of `text` as an LSP range, with the text's line index.
fn range_in(lines: &LineIndex, text: &str, bytes: &Bytes<usize>, enc: PositionEncoding) -> Range {
    let (sl, sc) = lines.position(text, bytes.start, enc);
    let (el, ec) = lines.position(text, bytes.end, enc);
    Range::new(Position::new(sl, sc), Position::new(el, ec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::LineIndex;

    /// An edit of the first `len` bytes of where `at` is found.
    fn edit(path: &str, text: &Arc<str>, at: &str, len: usize, with_lines: bool) -> FileEdit {
        let start = text.find(at).unwrap();
        FileEdit {
            path: std::path::PathBuf::from(path),
            range: start..start + len,
            new_text: "renamed".into(),
            text: text.clone(),
            lines: with_lines.then(|| Arc::new(LineIndex::new(text))),
        }
    }

    #[test]
    fn a_workspace_edit_has_each_files_edits_under_its_uri_at_their_positions() {
        let a: Arc<str> = Arc::from("# Notes\n\nSee [@old] and π [@old].\n");
        let b: Arc<str> = Arc::from("first\r\nthen [@old]\n");
        let edits = [
            edit("/vault/a.md", &a, "old] and", 3, true),
            edit("/vault/a.md", &a, "old].\n", 3, true),
            edit("/vault/b.md", &b, "old", 3, false),
            // Out of order, as a caller may give them: still under a.md.
            edit("/vault/a.md", &a, "Notes", 5, false),
        ];
        let changes = workspace_edit(&edits, PositionEncoding::Utf16)
            .changes
            .unwrap();
        let at = |path: &str| -> Vec<(u32, u32, u32, u32)> {
            let uri = Uri::from_file_path(path).unwrap();
            changes[&uri]
                .iter()
                .map(|e| {
                    let r = e.range;
                    (r.start.line, r.start.character, r.end.line, r.end.character)
                })
                .collect()
        };
        assert_eq!(changes.len(), 2);
        assert_eq!(
            at("/vault/a.md"),
            [(2, 6, 2, 9), (2, 19, 2, 22), (0, 2, 0, 7)]
        );
        assert_eq!(at("/vault/b.md"), [(1, 7, 1, 10)]);
    }

    #[test]
    fn note_locations_written_as_json_are_the_locations_serde_writes() {
        let a: Arc<str> = Arc::from("# Notes\n\nSee [@key] and π [@key].\n");
        let b: Arc<str> = Arc::from("first\r\nthen 🙂 [@key]\n");
        let at = |text: &Arc<str>, from: usize| {
            let start = text[from..].find("key").unwrap() + from;
            start..start + 3
        };
        let found = vec![
            NoteLocations {
                path: "/vault/a note.md".into(),
                ranges: vec![at(&a, 0), at(&a, 20)],
                text: a.clone(),
                lines: Some(Arc::new(LineIndex::new(&a))),
            },
            NoteLocations {
                path: "/vault/b.md".into(),
                ranges: vec![at(&b, 0)],
                text: b.clone(),
                lines: None,
            },
        ];
        for enc in [PositionEncoding::Utf16, PositionEncoding::Utf8] {
            let typed = serde_json::to_value(note_locations(&found, enc)).unwrap();
            let written: Value =
                serde_json::from_slice(&note_locations_json(&found, enc).unwrap()).unwrap();
            assert_eq!(written, typed);
            assert_eq!(written.as_array().unwrap().len(), 3);
        }
        let none: Value =
            serde_json::from_slice(&note_locations_json(&[], PositionEncoding::Utf16).unwrap())
                .unwrap();
        assert_eq!(none, serde_json::json!([]));
    }
}
