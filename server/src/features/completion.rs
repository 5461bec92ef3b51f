//! Completing a citation key from what the user typed: ranked on the server
//! over key, title words, author names and abstract words, best first.
//!
//! Keys that start with the typed text come first (that is what a user who
//! knows the key expects), then the search ranking. `filter_text` starts with
//! the typed text so that the editor's own filter keeps title and author
//! matches whose keys look nothing like it.

use super::card::{paper_card, short_title};
use super::PaperContext;
use crate::corpus::Paper;
use crate::index::SearchRequest;
use std::collections::HashSet;

#[derive(Clone, Debug, PartialEq)]
pub struct KeyCompletion {
    pub paper: usize,
    pub key: String,
    /// Title, year and first author: one line next to the key.
    pub detail: String,
    /// The paper card, in Markdown.
    pub documentation: String,
    pub filter_text: String,
    /// Rank as zero-padded text, so editors keep the server's order.
    pub sort_text: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyCompletions {
    pub items: Vec<KeyCompletion>,
    /// More papers match than were returned: the editor should ask again as the user types.
    pub incomplete: bool,
}

/// Completions for the partial key `typed`. `cited_here` (keys the document
/// already cites) lead the list when nothing is typed yet.
pub fn complete_keys(
    ctx: PaperContext<'_>,
    typed: &str,
    limit: usize,
    cited_here: &[String],
) -> KeyCompletions {
    let typed = typed.trim();
    let (mut ranked, more) = if typed.is_empty() {
        nothing_typed(ctx, limit, cited_here)
    } else {
        matching(ctx, typed, limit)
    };
    ranked.truncate(limit);
    let items = ranked
        .into_iter()
        .enumerate()
        .map(|(rank, paper)| item(ctx, paper, typed, rank))
        .collect();
    KeyCompletions {
        items,
        incomplete: more,
    }
}

fn item(ctx: PaperContext<'_>, index: usize, typed: &str, rank: usize) -> KeyCompletion {
    let paper = &ctx.corpus.papers[index];
    KeyCompletion {
        paper: index,
        key: paper.key.clone(),
        detail: detail(paper),
        documentation: paper_card(ctx.corpus, paper),
        filter_text: if typed.is_empty() {
            paper.key.clone()
        } else {
            format!("{typed} {}", paper.key)
        },
        sort_text: format!("{rank:05}"),
    }
}

fn detail(paper: &Paper) -> String {
    let mut d = short_title(&paper.title);
    let mut extra = Vec::new();
    if let Some(first) = paper.authors.first() {
        extra.push(if paper.authors.len() > 1 {
            format!("{} et al.", first.family)
        } else {
            first.family.clone()
        });
    }
    if let Some(y) = paper.year {
        extra.push(y.to_string());
    }
    if !extra.is_empty() {
        d.push_str(&format!(" ({})", extra.join(", ")));
    }
    d
}

fn nothing_typed(ctx: PaperContext<'_>, limit: usize, cited_here: &[String]) -> (Vec<usize>, bool) {
    let mut seen = HashSet::new();
    let mut out: Vec<usize> = cited_here
        .iter()
        .filter_map(|k| ctx.corpus.index_of(k))
        .filter(|i| seen.insert(*i))
        .collect();
    out.extend(
        (0..ctx.corpus.papers.len())
            .filter(|i| !seen.contains(i))
            .take(limit),
    );
    (out, ctx.corpus.papers.len() > limit)
}

fn matching(ctx: PaperContext<'_>, typed: &str, limit: usize) -> (Vec<usize>, bool) {
    let wanted = limit + 1;
    let found: Vec<usize> = match ctx.search {
        Some(search) => search
            .search(&SearchRequest {
                text: typed,
                limit: wanted * 2,
                as_you_type: true,
            })
            .into_iter()
            .map(|h| h.paper)
            .collect(),
        None => scan(ctx, typed, wanted * 2),
    };
    let folded = typed.to_lowercase();
    let (mut by_key, rest): (Vec<usize>, Vec<usize>) = found
        .into_iter()
        .partition(|&i| ctx.corpus.papers[i].key.to_lowercase().starts_with(&folded));
    if let Some(exact) = ctx.corpus.index_of(typed) {
        by_key.retain(|&i| i != exact);
        by_key.insert(0, exact);
    }
    by_key.extend(rest);
    let more = by_key.len() > limit;
    (by_key, more)
}

/// Without an index (still building): key prefixes, and title substrings
/// where the corpus is small enough to scan on every keystroke.
fn scan(ctx: PaperContext<'_>, typed: &str, limit: usize) -> Vec<usize> {
    const SCAN_TITLES_BELOW: usize = 20_000;
    let papers = &ctx.corpus.papers;
    let mut seen = HashSet::new();
    let mut out: Vec<usize> = ctx.corpus.keys_starting_with(typed).take(limit).collect();
    seen.extend(out.iter().copied());
    if papers.len() < SCAN_TITLES_BELOW {
        let folded = typed.to_lowercase();
        let by_title =
            (0..papers.len()).filter(|&i| papers[i].title.to_lowercase().contains(&folded));
        out.extend(
            by_title
                .filter(|i| seen.insert(*i))
                .take(limit.saturating_sub(out.len())),
        );
    }
    out
}
