//! paper-ls: a language server that makes a corpus of research papers present
//! in Markdown and LaTeX notes.
//!
//! Data flows one way, one module per layer (see ARCHITECTURE.md): `text`
//! (words and line index, shared by all) → `corpus` (sources → papers) →
//! `notes` (a document's text → citations, prose words) → `index` (tantivy
//! search, the title matcher and the titles a note mentions) → `workspace` (what the server
//! knows, and the immutable snapshots requests answer from) → `features`
//! (plain functions over a snapshot) → `lsp` (the protocol). `cli` is the
//! shell front end over the same layers. `fuzzing` (behind the `fuzzing`
//! feature) is test machinery: the checks that the fuzz targets in `fuzz/`
//! and the replay of their saved inputs share.

/// The version and the commit built from: "0.1.0 (1a2b3c4d5e6f)".
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("PAPER_LS_COMMIT"),
    ")"
);

pub mod background;
pub mod cli;
pub mod corpus;
pub mod features;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod index;
pub mod lsp;
pub mod notes;
pub mod text;
pub mod workspace;
