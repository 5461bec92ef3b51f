//! What the editor gets, as plain functions over a workspace `Snapshot` and
//! byte offsets, returning plain data: hover cards, completion, go to paper,
//! related papers, references, rename, diagnostics, code actions, inlay
//! hints, search. Nothing here knows LSP or touches the disk (files are read
//! through the workspace), so each feature is testable without a server;
//! the `lsp` layer converts in both directions.

pub mod add_to_bibliography;
pub mod bib_export;
pub mod card;
pub mod check;
pub mod cite_action;
pub mod code_actions;
pub mod completion;
pub mod definition;
pub mod diagnostics;
pub mod hover;
pub mod inlay_hints;
pub mod links;
pub mod literature_note;
pub mod reference;
pub mod references;
pub mod related;
pub mod rename;
pub mod search;

pub use crate::index::PaperContext;

#[cfg(test)]
mod tests;
