//! Inlay hints: each cited paper's short title after its key, so a note full
//! of `\cite{a, b, c}` reads as what it cites.

use super::card::short_title;
use crate::workspace::Snapshot;
use std::ops::Range;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlayHint {
    /// Where the hint is shown: the end of the key.
    pub offset: usize,
    pub label: String,
}

/// The hints for the citations in (or touching) `range`; none when the
/// user switched them off.
pub fn inlay_hints(snap: &Snapshot, range: Range<usize>) -> Vec<InlayHint> {
    let Some(doc) = snap.document.as_ref() else {
        return Vec::new();
    };
    if !snap.settings.inlay_hints {
        return Vec::new();
    }
    let corpus = snap.corpus.corpus();
    doc.citations()
        .iter()
        .filter(|c| c.range.end >= range.start && c.range.start <= range.end)
        .filter_map(|c| {
            let paper = corpus.get(&c.key)?;
            Some(InlayHint {
                offset: c.range.end,
                label: short_title(paper.title),
            })
        })
        .collect()
}
