//! Plain feature answers → LSP types. Byte offsets become positions in the
//! negotiated encoding here and nowhere else.

use super::documents::DocumentSnapshot;
use super::position::PositionEncoding;
use crate::features::completion::KeyCompletions;
use crate::features::definition::PaperLocation;
use crate::features::diagnostics::UnknownKey;
use std::ops::Range;
use tower_lsp_server::ls_types::*;

pub fn range(
    doc: &DocumentSnapshot,
    bytes: &Range<usize>,
    enc: PositionEncoding,
) -> tower_lsp_server::ls_types::Range {
    let (sl, sc) = doc.position(bytes.start, enc);
    let (el, ec) = doc.position(bytes.end, enc);
    tower_lsp_server::ls_types::Range::new(Position::new(sl, sc), Position::new(el, ec))
}

pub fn markdown(text: String) -> MarkupContent {
    MarkupContent {
        kind: MarkupKind::Markdown,
        value: text,
    }
}

pub fn completion_list(
    doc: &DocumentSnapshot,
    replace: &Range<usize>,
    found: KeyCompletions,
    enc: PositionEncoding,
) -> CompletionList {
    let edit_range = range(doc, replace, enc);
    let items = found
        .items
        .into_iter()
        .map(|c| CompletionItem {
            label: c.key.to_string(),
            kind: Some(CompletionItemKind::REFERENCE),
            detail: Some(c.detail),
            documentation: Some(Documentation::MarkupContent(markdown(c.documentation))),
            filter_text: Some(c.filter_text),
            sort_text: Some(c.sort_text),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(edit_range, c.key))),
            ..CompletionItem::default()
        })
        .collect();
    CompletionList {
        is_incomplete: found.incomplete,
        items,
    }
}

pub fn diagnostic(
    doc: &DocumentSnapshot,
    unknown: &UnknownKey,
    enc: PositionEncoding,
) -> Diagnostic {
    Diagnostic {
        range: range(doc, &unknown.range, enc),
        severity: Some(DiagnosticSeverity::WARNING),
        code: Some(NumberOrString::String("unknown-key".into())),
        source: Some("paper-ls".into()),
        message: unknown.message(),
        data: Some(serde_json::json!({ "key": unknown.key, "closest": unknown.closest })),
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
    let range = tower_lsp_server::ls_types::Range::new(
        Position::new(line, start),
        Position::new(line, end),
    );
    Some(Location { uri, range })
}

/// Byte ranges in notes that are not open (references, rename edits) as LSP
/// ranges, building each note's line index once however many ranges it has.
#[derive(Default)]
pub struct NoteRanges {
    /// By the address of the note's text, which the caller keeps alive.
    lines: std::collections::HashMap<usize, super::position::LineIndex>,
}

impl NoteRanges {
    pub fn range(
        &mut self,
        text: &std::sync::Arc<str>,
        bytes: &Range<usize>,
        enc: PositionEncoding,
    ) -> tower_lsp_server::ls_types::Range {
        let key = std::sync::Arc::as_ptr(text) as *const u8 as usize;
        let lines = self
            .lines
            .entry(key)
            .or_insert_with(|| super::position::LineIndex::new(text));
        let (sl, sc) = lines.position(text, bytes.start, enc);
        let (el, ec) = lines.position(text, bytes.end, enc);
        tower_lsp_server::ls_types::Range::new(Position::new(sl, sc), Position::new(el, ec))
    }
}
