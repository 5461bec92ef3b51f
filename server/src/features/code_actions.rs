//! Code actions: "Cite <key>" after a paper title written in prose; quick
//! fixes for an unknown key (replace it with one of the closest papers, best
//! first); and for a library paper the document's bibliography lacks, "Add
//! <key> to refs.bib" on the citation and "Add all N missing papers to
//! refs.bib" anywhere in the document. Each is plain data: an edit of the
//! document, or keys for the add-to-bibliography command, whose entries are
//! only copied out of the library when the user picks the action.

use super::add_to_bibliography::{missing_keys, plan, Plan};
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

/// One code action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    pub kind: ActionKind,
    pub effect: Effect,
    /// The one the editor may apply without asking.
    pub preferred: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// Fixes a problem at the cursor.
    QuickFix,
    /// Works on the whole document.
    Source,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Replace `range` of the document with `new_text`.
    EditDocument {
        range: Range<usize>,
        new_text: String,
    },
    /// Add the entries of `keys` to the document's bibliography.
    AddToBibliography { keys: Vec<String> },
    /// Not possible, for this reason (shown greyed out where the editor can).
    Refused { reason: String },
    /// Open the paper (its PDF, else its page on the web) outside the editor.
    OpenPaper { key: String },
}

/// The actions for what `range` touches.
pub fn code_actions(snap: &Snapshot, range: Range<usize>) -> Vec<CodeAction> {
    let Some(doc) = snap.document.as_ref() else {
        return Vec::new();
    };
    let mut actions = unknown_key_fixes(snap, doc, &range);
    actions.extend(bibliography_fixes(snap, doc, &range));
    actions.extend(open_paper_actions(snap, doc, &range));
    actions.extend(cite_actions(snap, doc, &snap.title_mentions(), &range));
    actions
}

/// "Add <key> to refs.bib" for the missing papers the range touches, and
/// "Add all N missing papers to refs.bib" when any paper is missing.
fn bibliography_fixes(
    snap: &Snapshot,
    doc: &DocumentSnapshot,
    range: &Range<usize>,
) -> Vec<CodeAction> {
    let missing = missing_keys(snap);
    if missing.is_empty() {
        return Vec::new();
    }
    let planned: Result<Plan, String> = plan(snap, &missing);
    let mut actions = Vec::new();
    let touched = doc
        .citations()
        .iter()
        .filter(|c| c.range.start <= range.end && range.start <= c.range.end)
        .filter(|c| missing.iter().any(|m| *m == *c.key));
    for citation in touched {
        let key = citation.key.to_string();
        let (title, effect) = match &planned {
            Err(reason) => (
                format!("Add {key} to the bibliography"),
                Effect::Refused {
                    reason: reason.clone(),
                },
            ),
            Ok(plan) => match plan.refused.iter().find(|r| r.key == key) {
                Some(refused) => match &refused.cite_instead {
                    Some(instead) => (
                        format!(
                            "Cite {instead} instead ({} has this paper under that key)",
                            plan.target_name()
                        ),
                        Effect::EditDocument {
                            range: citation.range.clone(),
                            new_text: instead.clone(),
                        },
                    ),
                    None => (
                        format!("Add {key} to {}", plan.target_name()),
                        Effect::Refused {
                            reason: refused.reason.clone(),
                        },
                    ),
                },
                None => (
                    format!("Add {key} to {}", plan.target_name()),
                    Effect::AddToBibliography {
                        keys: vec![key.clone()],
                    },
                ),
            },
        };
        actions.push(CodeAction {
            title,
            kind: ActionKind::QuickFix,
            effect,
            preferred: true,
        });
    }
    if let Ok(plan) = &planned {
        let addable: Vec<String> = plan
            .to_add
            .iter()
            .map(|&i| snap.corpus.corpus().paper(i).key.to_string())
            .collect();
        if !addable.is_empty() {
            let papers = if addable.len() == 1 {
                "paper"
            } else {
                "papers"
            };
            actions.push(CodeAction {
                title: format!(
                    "Add all {} missing {papers} to {}",
                    addable.len(),
                    plan.target_name()
                ),
                kind: ActionKind::Source,
                effect: Effect::AddToBibliography { keys: addable },
                preferred: false,
            });
        }
    }
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
                kind: ActionKind::QuickFix,
                effect: Effect::EditDocument {
                    range: citation.range.clone(),
                    new_text: key,
                },
                preferred: rank == 0,
            });
        }
    }
    actions
}

/// "Open the PDF of <title>" for each cited paper the range touches that has
/// a PDF in the library (the DOI, arXiv page or URL are document links
/// already; an action on every key would light up every citation).
fn open_paper_actions(
    snap: &Snapshot,
    doc: &DocumentSnapshot,
    range: &Range<usize>,
) -> Vec<CodeAction> {
    let corpus = snap.corpus.corpus();
    doc.citations()
        .iter()
        .filter(|c| c.range.start <= range.end && range.start <= c.range.end)
        .filter_map(|citation| {
            let paper = corpus.get(&citation.key)?;
            corpus
                .library_links
                .get(&(paper.ordinal() as u32))
                .filter(|l| !l.pdfs.is_empty())?;
            let (_, title) = super::card::open_target(corpus, &paper)?;
            Some(CodeAction {
                title,
                kind: ActionKind::QuickFix,
                effect: Effect::OpenPaper {
                    key: paper.key.to_string(),
                },
                preferred: false,
            })
        })
        .collect()
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
                kind: ActionKind::QuickFix,
                effect: Effect::EditDocument {
                    range: insert.at..insert.at,
                    new_text: insert.text,
                },
                preferred: mention.papers.len() == 1,
            });
        }
    }
    actions
}
