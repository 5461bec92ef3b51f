//! Related papers of a paper, for hover cards, go-to-implementation, the
//! `paper-ls.related` command and `paper-ls related`: the index's
//! more-like-this ranking, or nothing while the index is still building.

use super::PaperContext;

/// How many related titles a hover card ends with.
pub const IN_CARD: usize = 3;

/// Up to `limit` papers most like the one at `ordinal`, best first, never itself.
pub fn related_papers(ctx: PaperContext<'_>, ordinal: usize, limit: usize) -> Vec<usize> {
    match ctx.search {
        Some(search) => search
            .related(ctx.corpus, ordinal, limit)
            .into_iter()
            .map(|h| h.paper)
            .collect(),
        None => Vec::new(),
    }
}

/// The card's closing section: the titles of the given related papers
/// (best first, at most `IN_CARD`), with their keys.
pub fn related_section(ctx: PaperContext<'_>, related: &[usize]) -> String {
    if related.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n\nRelated:");
    for &i in related.iter().take(IN_CARD) {
        let p = &ctx.corpus.paper(i);
        out.push_str(&format!(
            "\n- {} (`{}`)",
            super::card::md_escape(p.title),
            p.key
        ));
    }
    out
}
