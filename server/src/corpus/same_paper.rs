//! Whether two entries are one paper, and the `.bib` entries that are the
//! same paper twice under two keys.
//!
//! Two entries are one paper when their titles are the same word for word,
//! or when they share a DOI or an arXiv id (any version) and their titles do
//! not contradict it: chapters inherit their book's DOI through `crossref`
//! and are not one paper for it.

use super::paper::{Paper, Problem, Severity};
use std::collections::HashMap;
use std::path::PathBuf;

/// What identifies a paper, borrowed from either kind of paper record.
#[derive(Clone, Copy, Debug)]
pub struct PaperIdentity<'a> {
    pub title: &'a str,
    pub doi: Option<&'a str>,
    pub arxiv: Option<&'a str>,
}

impl<'a> PaperIdentity<'a> {
    pub fn of(paper: &'a Paper) -> Self {
        PaperIdentity {
            title: &paper.title,
            doi: paper.ids.doi.as_deref(),
            arxiv: paper.ids.arxiv.as_deref(),
        }
    }
}

/// Why `a` and `b` are one paper ("same DOI 10.1/x"), if they are.
pub fn same_paper(a: PaperIdentity<'_>, b: PaperIdentity<'_>) -> Option<String> {
    let (title_a, title_b) = (normalised_title(a.title), normalised_title(b.title));
    if !title_a.is_empty() && title_a == title_b {
        return Some("the same title".into());
    }
    let titles_disagree = !title_a.is_empty()
        && !title_b.is_empty()
        && !title_a.starts_with(&title_b)
        && !title_b.starts_with(&title_a);
    if titles_disagree {
        return None;
    }
    let equal = |x: Option<&str>, y: Option<&str>| {
        x.zip(y)
            .filter(|(x, y)| x.eq_ignore_ascii_case(y))
            .map(|(x, _)| x.to_string())
    };
    if let Some(doi) = equal(a.doi, b.doi) {
        return Some(format!("the same DOI {doi}"));
    }
    equal(a.arxiv.map(without_version), b.arxiv.map(without_version))
        .map(|id| format!("the same arXiv id {id}"))
}

/// A warning on each `.bib` entry that is the same paper, by DOI or arXiv
/// id, as an earlier entry under another key: citing both puts the paper
/// twice in the bibliography. (Same titles alone are left alone: different
/// papers share titles such as "Introduction".)
pub fn warn_same_paper_twice(
    papers: &[Paper],
    is_bibtex: &[bool],
    paths: &[PathBuf],
    problems: &mut Vec<Problem>,
) {
    let mut first_by_id: HashMap<String, usize> = HashMap::new();
    for (i, paper) in papers.iter().enumerate() {
        if !is_bibtex.get(paper.origin.file).copied().unwrap_or(false) {
            continue;
        }
        let ids = [
            paper
                .ids
                .doi
                .as_deref()
                .map(|d| format!("doi:{}", d.to_lowercase())),
            paper
                .ids
                .arxiv
                .as_deref()
                .map(|a| format!("arxiv:{}", without_version(a).to_lowercase())),
        ];
        let mut reported = false;
        for id in ids.into_iter().flatten() {
            match first_by_id.get(&id) {
                Some(&first) if !reported => {
                    let earlier = &papers[first];
                    if same_paper(PaperIdentity::of(earlier), PaperIdentity::of(paper)).is_none() {
                        continue;
                    }
                    let why = match id.split_once(':') {
                        Some(("doi", doi)) => format!("both have DOI {doi}"),
                        Some((_, arxiv)) => format!("both have arXiv id {arxiv}"),
                        None => continue,
                    };
                    if earlier.key.eq_ignore_ascii_case(&paper.key) {
                        continue;
                    }
                    let place = if earlier.origin.file == paper.origin.file {
                        format!("line {}", earlier.origin.line)
                    } else {
                        let path = &paths[earlier.origin.file];
                        format!("{} line {}", path.display(), earlier.origin.line)
                    };
                    problems.push(Problem {
                        file: paths[paper.origin.file].clone(),
                        line: paper.origin.line,
                        severity: Severity::Warning,
                        message: format!(
                            "`{}` is the same paper as `{}` ({place}): {why}; citing both lists it twice",
                            paper.key, earlier.key
                        ),
                    });
                    reported = true;
                }
                Some(_) => {}
                None => {
                    first_by_id.insert(id, i);
                }
            }
        }
    }
}

pub(super) fn without_version(arxiv: &str) -> &str {
    match arxiv.rfind('v') {
        Some(at)
            if at > 0
                && !arxiv[at + 1..].is_empty()
                && arxiv[at + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            &arxiv[..at]
        }
        _ => arxiv,
    }
}

fn normalised_title(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id<'a>(title: &'a str, doi: Option<&'a str>, arxiv: Option<&'a str>) -> PaperIdentity<'a> {
        PaperIdentity { title, doi, arxiv }
    }

    #[test]
    fn identifiers_count_unless_the_titles_disagree() {
        let same_doi = same_paper(
            id("Deep Nets", Some("10.1/X"), None),
            id("deep nets.", Some("10.1/x"), None),
        );
        assert_eq!(same_doi.as_deref(), Some("the same title"));
        assert_eq!(
            same_paper(
                id("Deep Nets", Some("10.1/X"), None),
                id("", Some("10.1/x"), None)
            )
            .as_deref(),
            Some("the same DOI 10.1/X")
        );
        assert_eq!(
            same_paper(
                id("A", None, Some("2101.00001v2")),
                id("", None, Some("2101.00001"))
            )
            .as_deref(),
            Some("the same arXiv id 2101.00001")
        );
        // Two chapters of one book share its DOI.
        assert_eq!(
            same_paper(
                id("Attacking Block Ciphers", Some("10.1/b"), None),
                id("Differential Fault Analysis", Some("10.1/b"), None)
            ),
            None
        );
    }

    #[test]
    fn the_later_entry_of_a_paper_under_two_keys_is_warned_about() {
        let text = "@article{a, title={Deep Nets}, doi={10.1/x}}\n\
                    @article{b, title={Deep Nets}, doi={10.1/X}}\n\
                    @incollection{c1, title={One}, doi={10.1/book}}\n\
                    @incollection{c2, title={Two}, doi={10.1/book}}\n";
        let (papers, _) = crate::corpus::bibtex::load_bibtex(&[crate::corpus::bibtex::BibSource {
            file: 0,
            path: std::path::Path::new("refs.bib"),
            text,
        }]);
        let mut problems = Vec::new();
        warn_same_paper_twice(
            &papers,
            &[true],
            &[PathBuf::from("refs.bib")],
            &mut problems,
        );
        let messages: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.line, p.message))
            .collect();
        assert_eq!(messages, ["2: `b` is the same paper as `a` (line 1): both have DOI 10.1/x; citing both lists it twice"]);
    }
}
