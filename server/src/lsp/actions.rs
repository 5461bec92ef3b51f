//! Code actions: "Cite <key>" after a paper title written in prose, and
//! quick fixes for an unknown key (replace it with one of the closest
//! papers, best first).

use super::convert;
use super::corpora::LoadedCorpus;
use super::documents::DocumentSnapshot;
use super::position::PositionEncoding;
use crate::features::card::short_title;
use crate::features::cite_action::cite_after_title;
use crate::features::diagnostics::closest_keys;
use std::ops::Range;
use tower_lsp_server::ls_types::*;

/// How many "Cite" actions one title shared by several papers offers.
const CITE_CHOICES: usize = 3;
/// How many replacements an unknown key offers.
const REPLACEMENTS: usize = 5;

pub fn code_actions(
    doc: &DocumentSnapshot,
    loaded: &LoadedCorpus,
    range: Range<usize>,
    uri: &Uri,
    enc: PositionEncoding,
) -> Vec<CodeActionOrCommand> {
    let mut actions = unknown_key_fixes(doc, loaded, &range, uri, enc);
    actions.extend(cite_actions(doc, loaded, &range, uri, enc));
    actions
}

fn edit_action(title: String, uri: &Uri, edit: TextEdit, preferred: bool) -> CodeActionOrCommand {
    let changes = [(uri.clone(), vec![edit])].into_iter().collect();
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        edit: Some(WorkspaceEdit {
            changes: Some(changes),
            ..WorkspaceEdit::default()
        }),
        is_preferred: Some(preferred),
        ..CodeAction::default()
    })
}

/// "Replace with <key>" for each unknown key the range touches.
fn unknown_key_fixes(
    doc: &DocumentSnapshot,
    loaded: &LoadedCorpus,
    range: &Range<usize>,
    uri: &Uri,
    enc: PositionEncoding,
) -> Vec<CodeActionOrCommand> {
    let unknown = doc
        .citations
        .iter()
        .filter(|c| c.range.start <= range.end && range.start <= c.range.end)
        .filter(|c| loaded.corpus.index_of(&c.key).is_none());
    let mut actions = Vec::new();
    for citation in unknown {
        let at = convert::range(doc, &citation.range, enc);
        let candidates = loaded.with_context(|ctx| closest_keys(ctx, &citation.key, REPLACEMENTS));
        for (rank, key) in candidates.into_iter().enumerate() {
            let title = loaded
                .corpus
                .get(&key)
                .map(|p| short_title(p.title))
                .unwrap_or_default();
            let edit = TextEdit::new(at, key.clone());
            actions.push(edit_action(
                format!("Replace with {key} — {title}"),
                uri,
                edit,
                rank == 0,
            ));
        }
    }
    actions
}

/// "Cite <key>" for each title mention in `range` that no citation follows.
fn cite_actions(
    doc: &DocumentSnapshot,
    loaded: &LoadedCorpus,
    range: &Range<usize>,
    uri: &Uri,
    enc: PositionEncoding,
) -> Vec<CodeActionOrCommand> {
    let Some(matcher) = loaded.titles() else {
        return Vec::new();
    };
    let mentions = doc.title_mentions(&matcher);
    let touching = mentions
        .iter()
        .filter(|m| m.range.start <= range.end && range.start <= m.range.end);
    let mut actions = Vec::new();
    for mention in touching {
        for &paper in mention.papers.iter().take(CITE_CHOICES) {
            let key = &loaded.corpus.paper(paper).key;
            let Some(insert) = cite_after_title(&doc.text, doc.language, mention.range.end, key)
            else {
                continue;
            };
            let at = convert::range(doc, &(insert.at..insert.at), enc);
            let edit = TextEdit::new(at, insert.text);
            actions.push(edit_action(
                format!("Cite {key}"),
                uri,
                edit,
                mention.papers.len() == 1,
            ));
        }
    }
    actions
}
