//! Code actions: "Cite <key>" after a paper title written in prose, and
//! quick fixes for an unknown key (replace it with one of the closest
//! papers, best first). Each is an edit of the document, as plain data.

use super::card::short_title;
use super::cite_action::cite_after_title;
use super::diagnostics::closest_keys;
use crate::index::title_mentions::TitleMention;
use crate::workspace::documents::DocumentSnapshot;
use crate::workspace::Snapshot;
use std::ops::Range;

/// How many "Cite" actions one title shared by several papers offers.
const CITE_CHOICES: usize = 3;
/// How many replacements an unknown key offers.
const REPLACEMENTS: usize = 5;

/// One quick fix: replace `range` of the document with `new_text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    pub range: Range<usize>,
    pub new_text: String,
    /// The one the editor may apply without asking.
    pub preferred: bool,
}

/// The actions for what `range` touches.
pub fn code_actions(snap: &Snapshot, range: Range<usize>) -> Vec<CodeAction> {
    let Some(doc) = snap.document.as_ref() else {
        return Vec::new();
    };
    let mut actions = unknown_key_fixes(snap, doc, &range);
    actions.extend(cite_actions(snap, doc, &snap.title_mentions(), &range));
    actions
}

/// "Replace with <key>" for each unknown key the range touches.
fn unknown_key_fixes(
    snap: &Snapshot,
    doc: &DocumentSnapshot,
    range: &Range<usize>,
) -> Vec<CodeAction> {
    let ctx = snap.corpus.context();
    let unknown = doc
        .citations()
        .iter()
        .filter(|c| c.range.start <= range.end && range.start <= c.range.end)
        .filter(|c| ctx.corpus.index_of(&c.key).is_none());
    let mut actions = Vec::new();
    for citation in unknown {
        for (rank, key) in closest_keys(ctx, &citation.key, REPLACEMENTS)
            .into_iter()
            .enumerate()
        {
            let title = ctx
                .corpus
                .get(&key)
                .map(|p| short_title(p.title))
                .unwrap_or_default();
            actions.push(CodeAction {
                title: format!("Replace with {key} — {title}"),
                range: citation.range.clone(),
                new_text: key,
                preferred: rank == 0,
            });
        }
    }
    actions
}

/// "Cite <key>" for each title mention in `range` that no citation follows.
fn cite_actions(
    snap: &Snapshot,
    doc: &DocumentSnapshot,
    mentions: &[TitleMention],
    range: &Range<usize>,
) -> Vec<CodeAction> {
    let corpus = snap.corpus.corpus();
    let touching = mentions
        .iter()
        .filter(|m| m.range.start <= range.end && range.start <= m.range.end);
    let mut actions = Vec::new();
    for mention in touching {
        for &paper in mention.papers.iter().take(CITE_CHOICES) {
            let key = corpus.paper(paper).key;
            let Some(insert) = cite_after_title(&doc.text, doc.language, mention.range.end, key)
            else {
                continue;
            };
            actions.push(CodeAction {
                title: format!("Cite {key}"),
                range: insert.at..insert.at,
                new_text: insert.text,
                preferred: mention.papers.len() == 1,
            });
        }
    }
    actions
}
