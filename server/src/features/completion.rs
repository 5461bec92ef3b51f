//! Completing a citation key from what the user typed: ranked on the server
//! over key, title words, author names and abstract words, best first.
//!
//! Keys that start with the typed text come first (that is what a user who
//! knows the key expects), then the search ranking. `filter_text` starts with
//! the typed text so that the editor's own filter keeps title and author
//! matches whose keys look nothing like it.

use super::card::{paper_card, short_title};
use super::PaperContext;
use crate::corpus::PaperRef;
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
    /// The document's own bibliography lacks this paper: accepting it
    /// should also add its entry there (`bibliography.addOnComplete`).
    pub adds_to_bibliography: bool,
    /// The key written otherwise than as itself over the completion's
    /// range: the bytes replaced and the text (a Typst key that is no
    /// label, `@` typed: `#cite(label("DBLP:conf/x"))`).
    pub written: Option<(std::ops::Range<usize>, String)>,
    /// Who and when ("Power et al., 2022") and the short title, shown
    /// beside the key on every row (`labelDetails`), so that a list of keys
    /// reads like a reference list.
    pub who_when: String,
    pub short_title: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyCompletions {
    pub items: Vec<KeyCompletion>,
    /// More papers match than were returned: the editor should ask again as the user types.
    pub incomplete: bool,
}

/// What completion answers at a cursor: the key being typed and the papers
/// it may become.
#[derive(Clone, Debug, Default)]
pub struct Completion {
    /// The bytes a chosen key replaces.
    pub range: std::ops::Range<usize>,
    pub found: KeyCompletions,
}

/// Completion at `offset` of the snapshot's document: `None` where no key
/// is being typed.
pub fn completion(snap: &crate::workspace::Snapshot, offset: usize) -> Option<Completion> {
    let doc = snap.document.as_ref()?;
    let context = crate::notes::key_context_at(&doc.text, doc.language, offset)?;
    let cited: Vec<String> = doc.citations().iter().map(|c| c.key.to_string()).collect();
    let mut found = complete_keys(
        snap.corpus.context(),
        &context.typed,
        snap.settings.max_completions,
        &cited,
    );
    if let Some(own) = snap.bibliography.as_ref() {
        if snap.settings.add_on_complete {
            let own = own.corpus.corpus();
            for item in &mut found.items {
                item.adds_to_bibliography = own.index_of(&item.key).is_none();
            }
        }
    }
    if doc.language == crate::notes::Language::Typst {
        for item in &mut found.items {
            item.written = typst_written(&doc.text, &context.range, &item.key);
        }
    }
    Some(Completion {
        range: context.range,
        found,
    })
}

/// How a key that Typst cannot read as a label is written where it is
/// being typed: `@…` and `<…>` become `#cite(label("…"))` and
/// `label("…")`; `None` when the key can stand as it is.
fn typst_written(
    text: &str,
    range: &std::ops::Range<usize>,
    key: &str,
) -> Option<(std::ops::Range<usize>, String)> {
    if crate::notes::typst::is_reference_key(key) {
        return None;
    }
    let before = range.start.checked_sub(1)?;
    match text.as_bytes().get(before)? {
        b'@' => Some((before..range.end, crate::notes::typst_citation(key))),
        b'<' => {
            let end = if text.as_bytes().get(range.end) == Some(&b'>') {
                range.end + 1
            } else {
                range.end
            };
            Some((before..end, format!("label({key:?})")))
        }
        _ => None,
    }
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
    let paper = &ctx.corpus.paper(index);
    KeyCompletion {
        paper: index,
        key: paper.key.to_string(),
        detail: detail(paper),
        documentation: paper_card(ctx.corpus, paper),
        filter_text: if typed.is_empty() {
            paper.key.to_string()
        } else {
            format!("{typed} {}", paper.key)
        },
        sort_text: format!("{rank:05}"),
        adds_to_bibliography: false,
        written: None,
        who_when: who_and_when(paper),
        short_title: short_title(paper.title),
    }
}

fn detail(paper: &PaperRef<'_>) -> String {
    let mut d = short_title(paper.title);
    let who_when = who_and_when(paper);
    if !who_when.is_empty() {
        d.push_str(&format!(" ({who_when})"));
    }
    d
}

/// "Power et al., 2022": the first author's family name and the year.
fn who_and_when(paper: &PaperRef<'_>) -> String {
    let mut parts = Vec::new();
    if let Some(first) = paper.authors.first() {
        parts.push(if paper.authors.len() > 1 {
            format!("{} et al.", first.family)
        } else {
            first.family.to_string()
        });
    }
    if let Some(y) = paper.year {
        parts.push(y.to_string());
    }
    parts.join(", ")
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
    // Keys that start with the typed text, straight from the sorted keys: a
    // prefix shared by thousands of keys ("EPRINT:") costs nothing here,
    // while as a search it would score every one of them.
    let mut ranked: Vec<usize> = ctx.corpus.keys_starting_with(typed).take(wanted).collect();
    if let Some(exact) = ctx.corpus.index_of(typed) {
        ranked.retain(|&i| i != exact);
        ranked.insert(0, exact);
    }
    if ranked.len() >= wanted {
        // More keys match than fit: words in titles and abstracts can wait
        // until the typed text narrows the keys down.
        return (ranked, true);
    }
    let found: Vec<usize> = match ctx.search {
        Some(search) => {
            let mut hits = search.search(&SearchRequest {
                text: typed,
                limit: wanted * 2,
                as_you_type: true,
            });
            crate::index::query::favour_exact_forms(ctx.corpus, typed, &mut hits);
            hits.into_iter().map(|h| h.paper).collect()
        }
        None => scan(ctx, typed, wanted * 2),
    };
    let seen: HashSet<usize> = ranked.iter().copied().collect();
    ranked.extend(found.into_iter().filter(|i| !seen.contains(i)));
    let more = ranked.len() > limit;
    (ranked, more)
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
            (0..papers.len()).filter(|&i| papers.paper(i).title.to_lowercase().contains(&folded));
        out.extend(
            by_title
                .filter(|i| seen.insert(*i))
                .take(limit.saturating_sub(out.len())),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::source::ReadSource;
    use crate::corpus::{Corpus, SourceKind};
    use crate::index::PaperIndex;

    fn corpus(bib: String) -> Corpus {
        let source = ReadSource {
            path: "t.bib".into(),
            kind: SourceKind::Bibtex,
            text: bib,
            gzipped: false,
            content_hash: 0,
        };
        Corpus::from_sources(vec![source], Vec::new())
    }

    #[test]
    fn a_prefix_of_many_keys_lists_keys_and_asks_again_as_the_user_types() {
        let mut bib: String = (0..80)
            .map(|i| format!("@misc{{EPRINT:A{i:02}, title={{Paper {i}}}}}\n"))
            .collect();
        bib.push_str("@misc{other, title={EPRINT considered harmful}}\n");
        let c = corpus(bib);
        let index = PaperIndex::in_memory(&c, &mut |_, _| {}).unwrap();
        let ctx = PaperContext {
            corpus: &c,
            search: Some(&index),
            meaning: None,
        };
        let many = complete_keys(ctx, "EPRI", 50, &[]);
        assert_eq!(many.items.len(), 50);
        assert!(many.incomplete);
        assert!(many.items.iter().all(|i| i.key.starts_with("EPRINT:")));
        let few = complete_keys(ctx, "EPRINT:A7", 50, &[]);
        let keys: Vec<&str> = few.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys[..10],
            [
                "EPRINT:A70",
                "EPRINT:A71",
                "EPRINT:A72",
                "EPRINT:A73",
                "EPRINT:A74",
                "EPRINT:A75",
                "EPRINT:A76",
                "EPRINT:A77",
                "EPRINT:A78",
                "EPRINT:A79"
            ]
        );
        let words = complete_keys(ctx, "harmful", 50, &[]);
        assert_eq!(words.items[0].key, "other", "title words still find papers");
        assert!(!words.incomplete);
    }
}
