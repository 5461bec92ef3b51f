//! Protocol → workspace terms: a URI becomes a document id and a file path,
//! a language id a `Language`, a position a byte offset of the snapshot's
//! document (in the negotiated encoding), a content change an `Edit`.

use crate::notes::Language;
use crate::text::PositionEncoding;
use crate::workspace::documents::Edit;
use crate::workspace::{DocumentId, Snapshot};
use std::ops::Range;
use std::path::PathBuf;
use tower_lsp_server::ls_types::{
    InitializeParams, Position, PositionEncodingKind, TextDocumentContentChangeEvent, Uri,
};

pub fn document_id(uri: &Uri) -> DocumentId {
    DocumentId::from(uri.as_str())
}

pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

/// The note language of a document: by the client's language id, else by
/// the file's extension; `None` for anything that is not a note.
pub fn language_of(uri: &Uri, language_id: Option<&str>) -> Option<Language> {
    let by_id = language_id.and_then(Language::from_language_id);
    by_id.or_else(|| file_path(uri).and_then(|p| Language::from_path(&p)))
}

pub fn edits(changes: &[TextDocumentContentChangeEvent]) -> Vec<Edit<'_>> {
    changes
        .iter()
        .map(|c| Edit {
            range: c.range.map(|r| {
                (
                    (r.start.line, r.start.character),
                    (r.end.line, r.end.character),
                )
            }),
            text: &c.text,
        })
        .collect()
}

/// The byte offset of a position in the snapshot's document; `None` past
/// its last line.
pub fn offset(snap: &Snapshot, position: Position) -> Option<usize> {
    let doc = snap.document.as_ref()?;
    doc.offset(position.line, position.character, snap.encoding)
}

/// A range of the snapshot's document in bytes; `None` when either end is
/// past the last line.
pub fn range(snap: &Snapshot, range: tower_lsp_server::ls_types::Range) -> Option<Range<usize>> {
    Some(offset(snap, range.start)?..offset(snap, range.end)?)
}

pub fn encoding(params: &InitializeParams) -> PositionEncoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    match offered {
        Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => PositionEncoding::Utf8,
        _ => PositionEncoding::Utf16,
    }
}

pub fn workspace_root(params: &InitializeParams) -> Option<PathBuf> {
    let folder = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| &f.uri);
    #[allow(deprecated)]
    let uri = folder.or(params.root_uri.as_ref())?;
    file_path(uri)
}
