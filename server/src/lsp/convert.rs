//! Plain feature answers → LSP types. Byte offsets become positions in the
//! negotiated encoding here and nowhere else.

use super::documents::DocumentSnapshot;
use super::position::{LineIndex, PositionEncoding};
use crate::corpus::source::decode_text;
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
            label: c.key.clone(),
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

/// A location in a corpus file or a paper card. The file is read to turn the
/// entry's byte span into positions; if that fails the line alone is used.
pub fn location(target: &PaperLocation, enc: PositionEncoding) -> Option<Location> {
    let uri = Uri::from_file_path(&target.path)?;
    let line_start = Position::new(target.line.saturating_sub(1), 0);
    let mut range = tower_lsp_server::ls_types::Range::new(line_start, line_start);
    if let (Some(span), Ok(bytes)) = (&target.span, std::fs::read(&target.path)) {
        let text = decode_text(bytes, &target.path, &mut Vec::new());
        if span.end <= text.len() {
            let lines = LineIndex::new(&text);
            let (sl, sc) = lines.position(&text, span.start, enc);
            let (el, ec) = lines.position(&text, span.end, enc);
            if sl + 1 == target.line {
                range = tower_lsp_server::ls_types::Range::new(
                    Position::new(sl, sc),
                    Position::new(el, ec),
                );
            }
        }
    }
    Some(Location { uri, range })
}
