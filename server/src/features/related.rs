//! Related papers of a paper, for hover cards, go-to-implementation, the
//! `paper-ls.related` command and `paper-ls related`: the index's
//! more-like-this ranking, or nothing while the index is still building.

use super::PaperContext;

/// How many related titles a hover card ends with.
pub const IN_CARD: usize = 3;

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
/// How many of a document's cited papers get their related papers found
/// ahead of a hover.
pub const RELATED_WARMED: usize = 300;

/// The papers whose related papers are worth finding before anyone hovers
/// them: what the document cites, then the titles it mentions (scanning
/// the note for them: call it off the async executor).
pub fn papers_to_warm(snap: &crate::workspace::Snapshot) -> Vec<usize> {
    let Some(doc) = snap.document.as_ref() else {
        return Vec::new();
    };
    if !snap.corpus.is_indexed() {
        return Vec::new();
    }
    let corpus = snap.corpus.corpus();
    let mut papers: Vec<usize> = doc
        .citations()
        .iter()
        .filter_map(|c| corpus.index_of(&c.key))
        .collect();
    papers.sort_unstable();
    papers.dedup();
    papers.truncate(RELATED_WARMED);
    let cited = papers.len();
    for paper in snap
        .title_mentions()
        .iter()
        .filter_map(|m| m.papers.first())
    {
        if papers.len() >= RELATED_WARMED {
            break;
        }
        if !papers[..cited].contains(paper) {
            papers.push(*paper);
        }
    }
    papers
}
