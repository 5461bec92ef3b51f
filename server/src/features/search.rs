//! The corpus searched from the editor: `workspace/symbol`, and the
//! `paper-ls.search` / `paper-ls.related` commands behind the editor
//! clients' own pickers.

use super::definition::{paper_location, PaperLocation};
use crate::index::embeddings::{is_sentence, SEARCH_CANDIDATES};
use crate::index::query::favour_exact_forms;
use crate::index::SearchRequest;
use crate::workspace::Snapshot;

/// How many papers `workspace/symbol` lists.
const SYMBOLS: usize = 50;

/// Papers matching `query` as typed so far (the last word a prefix), best
/// first; while the index is still being built, keys starting with it. A
/// sentence ("papers that speed up grokking") is also searched by meaning
/// once the corpus's embeddings exist, the two rankings fused.
pub fn search(snap: &Snapshot, query: &str, limit: usize) -> Vec<usize> {
    let ctx = snap.corpus.context();
    match ctx.search {
        Some(s) => {
            let meaning = snap.corpus.meaning().filter(|_| is_sentence(query));
            let mut hits = s.search(&SearchRequest {
                text: query,
                limit: if meaning.is_some() {
                    limit.max(SEARCH_CANDIDATES)
                } else {
                    limit
                },
                as_you_type: true,
            });
            favour_exact_forms(ctx.corpus, query, &mut hits);
            if let Some(meaning) = meaning {
                hits = meaning.search(query, &hits, limit);
            }
            hits.into_iter().map(|h| h.paper).collect()
        }
        None => ctx.corpus.keys_starting_with(query).take(limit).collect(),
    }
}

/// Up to `limit` papers related to the one with `key`, best first.
pub fn related_to_key(snap: &Snapshot, key: &str, limit: usize) -> Result<Vec<usize>, String> {
    let ctx = snap.corpus.context();
    match ctx.corpus.index_of(key) {
        Some(i) => Ok(ctx.related_papers(i, limit)),
        None => Err(format!("no paper has the key `{key}`")),
    }
}

/// A paper as a workspace symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaperSymbol {
    pub title: String,
    pub key: String,
    pub location: PaperLocation,
}

/// `workspace/symbol`: papers matching the query, each jumping to its entry.
/// Nothing for an empty query, or before there is anything to search by
/// words (the index, or a large corpus's title and name words).
pub fn paper_symbols(snap: &Snapshot, query: &str) -> Vec<PaperSymbol> {
    if query.trim().is_empty() || snap.corpus.context().search.is_none() {
        return Vec::new();
    }
    let corpus = snap.corpus.corpus();
    search(snap, query, SYMBOLS)
        .into_iter()
        .filter_map(|i| {
            let p = &corpus.paper(i);
            Some(PaperSymbol {
                title: p.title.to_string(),
                key: p.key.to_string(),
                location: paper_location(corpus, p, &*snap.files).ok()?,
            })
        })
        .collect()
}
