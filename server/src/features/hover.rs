//! Hover: what the cursor is on — a cited key, else a paper title written
//! in prose — and the card shown for it (several cards when a title is
//! shared by several papers), closing with the paper's related papers when
//! they were found already.

use super::card::paper_card;
use super::related::related_section;
use crate::index::title_mentions::mention_at;
use crate::notes::citation_at;
use crate::workspace::Snapshot;
use std::ops::Range;

/// How many cards a hover on a title shared by several papers shows.
pub const CARDS_IN_HOVER: usize = 3;

/// What a position in a note points at: the paper(s) and the text that names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaperTarget {
    /// Never empty.
    pub papers: Vec<usize>,
    pub range: Range<usize>,
}

/// The paper(s) at `offset` of the snapshot's document: a cited key the
/// corpus knows, else a title written in prose.
pub fn paper_at(snap: &Snapshot, offset: usize) -> Option<PaperTarget> {
    let doc = snap.document.as_ref()?;
    if let Some(citation) = citation_at(doc.citations(), offset) {
        let paper = snap.corpus.corpus().index_of(&citation.key)?;
        return Some(PaperTarget {
            papers: vec![paper],
            range: citation.range.clone(),
        });
    }
    let mentions = snap.title_mentions();
    let mention = mention_at(&mentions, offset)?;
    (!mention.papers.is_empty()).then(|| PaperTarget {
        papers: mention.papers.clone(),
        range: mention.range.clone(),
    })
}

/// A hover's answer: Markdown, and the text it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoverCard {
    pub markdown: String,
    pub range: Range<usize>,
}

pub fn hover(snap: &Snapshot, offset: usize) -> Option<HoverCard> {
    let target = paper_at(snap, offset)?;
    let first = target.papers[0];
    // The card never waits for related papers: found ahead for what the
    // notes cite and mention, they are usually there; otherwise (a paper
    // never looked at, where finding them takes tens of milliseconds with
    // abstracts) the card comes at once without them, and they are found
    // for the next hover.
    let related = snap.corpus.cached_related(first).unwrap_or_else(|| {
        snap.corpus.find_related_later(first);
        Default::default()
    });
    let ctx = snap.corpus.context();
    // Each card starts with the reference as the manuscript will print it.
    let cards: Vec<String> = target
        .papers
        .iter()
        .take(CARDS_IN_HOVER)
        .map(|&p| {
            let card = paper_card(ctx.corpus, &ctx.corpus.paper(p));
            match super::reference::reference_of(snap, p) {
                Some(r) if !r.entry.is_empty() => format!("{}\n\n{card}", r.entry),
                _ => card,
            }
        })
        .collect();
    Some(HoverCard {
        markdown: cards.join("\n\n---\n\n") + &related_section(ctx, &related),
        range: target.range,
    })
}
