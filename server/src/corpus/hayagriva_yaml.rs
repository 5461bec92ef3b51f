//! Hayagriva YAML bibliographies (`.yml`, `.yaml`): Typst's own format,
//! read by hayagriva itself, its fields mapped as BibTeX's are.
//!
//! Each top-level key is an entry: `type`, `title`, `author` and `editor`
//! (names as `Family, Given` or dictionaries), `date`, `parent` (the
//! journal, proceedings or book the entry is in: its title is the venue),
//! `serial-number` (`doi`, `arxiv`), `url`, `abstract`. A file hayagriva
//! cannot read is one problem naming where it stopped; an entry with no
//! title is kept under its key.

use super::paper::{Paper, Person, Problem, Severity};
use hayagriva::types::EntryType;
use std::path::Path;

/// The papers of a Hayagriva YAML file; `file` is its index in the corpus.
pub fn load_hayagriva_yaml(file: usize, path: &Path, text: &str) -> (Vec<Paper>, Vec<Problem>) {
    let library = match hayagriva::io::from_yaml_str(text) {
        Ok(library) => library,
        Err(e) => {
            let line = e.location().map_or(0, |l| l.line() as u32);
            return (
                Vec::new(),
                vec![Problem {
                    file: path.to_path_buf(),
                    line,
                    severity: Severity::Error,
                    message: format!("not a Hayagriva bibliography hayagriva can read: {e}"),
                }],
            );
        }
    };
    let mut papers = Vec::new();
    for entry in library.iter() {
        let mut paper = Paper::titled(
            entry.title().map(|t| t.to_string()).unwrap_or_default(),
            entry_type(entry),
        );
        paper.key = entry.key().to_string();
        paper.key_origin = super::KeyOrigin::Source;
        let persons = |list: Option<&[hayagriva::types::Person]>| -> Vec<Person> {
            list.unwrap_or_default()
                .iter()
                .map(|p| {
                    let family = match &p.prefix {
                        Some(prefix) => format!("{prefix} {}", p.name),
                        None => p.name.clone(),
                    };
                    let family = match &p.suffix {
                        Some(suffix) => format!("{family} {suffix}"),
                        None => family,
                    };
                    Person {
                        given: p.given_name.clone().unwrap_or_default(),
                        family,
                    }
                })
                .collect()
        };
        paper.authors = persons(entry.authors());
        if paper.authors.is_empty() {
            paper.authors = persons(entry.editors());
            paper.authors_are_editors = !paper.authors.is_empty();
        }
        paper.year = entry
            .date()
            .or_else(|| entry.parents().iter().find_map(|p| p.date()))
            .map(|d| d.year);
        paper.venue = entry
            .parents()
            .iter()
            .find_map(|p| p.title().map(|t| t.to_string()))
            .or_else(|| {
                entry
                    .publisher()
                    .and_then(|p| p.name())
                    .map(|n| n.to_string())
            })
            .filter(|v| !v.is_empty());
        paper.abstract_text = entry
            .abstract_()
            .map(|a| a.to_string())
            .filter(|a| !a.is_empty());
        let serial = |name: &str| {
            entry
                .serial_number()
                .and_then(|s| s.0.get(name))
                .or_else(|| {
                    entry
                        .parents()
                        .iter()
                        .find_map(|p| p.serial_number().and_then(|s| s.0.get(name)))
                })
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        paper.ids.doi = serial("doi");
        paper.ids.arxiv = serial("arxiv");
        paper.ids.url = entry.url().map(|u| u.value.to_string());
        paper.origin.file = file;
        paper.origin.span = papers.len()..papers.len();
        paper.origin.line = key_line(text, entry.key());
        papers.push(paper);
    }
    (papers, Vec::new())
}

/// The 1-based line of `key:` at the top level of the file, 0 if not found.
fn key_line(text: &str, key: &str) -> u32 {
    text.lines()
        .position(|line| {
            let line = line.trim_end();
            let bare = line
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(':'));
            let quoted = ["\"", "'"].iter().any(|q| {
                line.strip_prefix(q)
                    .and_then(|rest| rest.strip_prefix(key))
                    .and_then(|rest| rest.strip_prefix(q))
                    .is_some_and(|rest| rest.starts_with(':'))
            });
            bare || quoted
        })
        .map_or(0, |i| i as u32 + 1)
}

/// Hayagriva's entry types as BibTeX-style ones (what the features and
/// the BibTeX export speak).
fn entry_type(entry: &hayagriva::Entry) -> &'static str {
    let parent = entry.parents().first().map(|p| p.entry_type());
    match (entry.entry_type(), parent) {
        (EntryType::Article, Some(EntryType::Proceedings | EntryType::Conference)) => {
            "inproceedings"
        }
        (EntryType::Article, _) => "article",
        (EntryType::Chapter | EntryType::Anthos, _) => "incollection",
        (EntryType::Book | EntryType::Anthology, _) => "book",
        (EntryType::Proceedings, _) => "proceedings",
        (EntryType::Thesis, _) => "phdthesis",
        (EntryType::Report, _) => "techreport",
        (EntryType::Web | EntryType::Blog, _) => "online",
        _ => "misc",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
power2022grokking:
  type: article
  title: "Grokking: Generalization Beyond Overfitting"
  author: ["Power, Alethea", "Burda, Yuri"]
  date: 2022-01
  parent:
    type: proceedings
    title: ICLR 2022 Workshop
  serial-number:
    arxiv: "2201.02177"
  abstract: Networks generalize long after they overfit.
handbook:
  type: book
  title: Handbook of Edited Things
  editor: Lovelace, Ada
  date: 2021
  publisher: Anchor Books
"van2020":
  type: article
  title: Particles
  author:
    - name: Beethoven
      given-name: Ludwig
      prefix: van
  parent:
    type: periodical
    title: Annals of Music
    serial-number:
      doi: 10.1/x
"#;

    #[test]
    fn entries_become_papers_with_their_fields() {
        let (papers, problems) = load_hayagriva_yaml(3, Path::new("refs.yml"), YAML);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(papers.len(), 3);
        let p = &papers[0];
        assert_eq!(p.key, "power2022grokking");
        assert_eq!(p.title, "Grokking: Generalization Beyond Overfitting");
        assert_eq!(p.entry_type, "inproceedings");
        assert_eq!(p.authors[1].family, "Burda");
        assert_eq!(p.year, Some(2022));
        assert_eq!(p.venue.as_deref(), Some("ICLR 2022 Workshop"));
        assert_eq!(p.ids.arxiv.as_deref(), Some("2201.02177"));
        assert!(p.abstract_text.as_deref().unwrap().starts_with("Networks"));
        assert_eq!((p.origin.file, p.origin.line), (3, 2));
        let book = &papers[1];
        assert!(book.authors_are_editors);
        assert_eq!(book.venue.as_deref(), Some("Anchor Books"));
        assert_eq!(book.entry_type, "book");
        let van = &papers[2];
        assert_eq!(van.authors[0].family, "van Beethoven");
        assert_eq!(van.ids.doi.as_deref(), Some("10.1/x"));
        assert_eq!(van.year, None);
        assert_eq!(van.origin.line, 19);
    }

    #[test]
    fn a_file_hayagriva_cannot_read_is_one_problem() {
        let (papers, problems) = load_hayagriva_yaml(
            0,
            Path::new("refs.yml"),
            "a:\n  type: article\n  title: [unclosed\n",
        );
        assert!(papers.is_empty());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("Hayagriva"), "{problems:?}");
    }
}
