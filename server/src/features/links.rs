//! Links on citation keys (`textDocument/documentLink`): each cited paper
//! opens where it is best read — its PDF when the library knows one
//! (Zotero), else its DOI, arXiv page or URL — for every source.

use super::card::open_target;
use crate::workspace::Snapshot;
use std::ops::Range;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaperLink {
    /// The citation key.
    pub range: Range<usize>,
    pub target: String,
    pub tooltip: String,
}

/// A link on every citation key of the document whose paper has somewhere
/// to go.
pub fn paper_links(snap: &Snapshot) -> Vec<PaperLink> {
    let Some(doc) = snap.document.as_ref() else {
        return Vec::new();
    };
    let corpus = snap.corpus.corpus();
    doc.citations()
        .iter()
        .filter_map(|citation| {
            let paper = corpus.get(&citation.key)?;
            let (target, tooltip) = open_target(corpus, &paper)?;
            Some(PaperLink {
                range: citation.range.clone(),
                target,
                tooltip,
            })
        })
        .collect()
}
