//! What the editor gets, as plain functions over a corpus, its index and a
//! note's text: completion, hover cards, go-to-paper and unknown-key
//! diagnostics. Nothing here knows LSP; byte offsets in, plain data out, so
//! each feature is testable without a server (the `lsp` layer converts).

pub mod card;
pub mod check;
pub mod cite_action;
pub mod completion;
pub mod definition;
pub mod diagnostics;
pub mod discovery;
pub mod literature_note;
pub mod references;
pub mod related;
pub mod rename;
pub mod title_index;
pub mod title_mentions;
pub mod workspace_notes;

use crate::corpus::Corpus;
use crate::index::PaperSearch;

/// What every feature reads: one immutable corpus and, once it is built, its
/// search index (features degrade to a scan of the papers without one).
#[derive(Clone, Copy)]
pub struct PaperContext<'a> {
    pub corpus: &'a Corpus,
    pub search: Option<&'a dyn PaperSearch>,
}
