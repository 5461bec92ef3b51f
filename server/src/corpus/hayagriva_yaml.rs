//! Hayagriva YAML bibliographies (`.yml`, `.yaml`): Typst's own format,
//! read by hayagriva itself, its fields mapped as BibTeX's are.
//!
//! Each top-level key is an entry: `type`, `title`, `author` and `editor`
//! (names as `Family, Given` or dictionaries), `date`, `parent` (the
//! journal, proceedings or book the entry is in: its title is the venue),
//! `serial-number` (`doi`, `arxiv`), `url`, `abstract`. A file hayagriva
//! cannot read is one problem naming where it stopped; an entry with no
//! title is kept under its key.
//!
//! The other way, [`to_hayagriva_entry`] writes a corpus paper as an entry
//! to append to a document's `.yml`, in the block style people write by
//! hand, every value quoted so that no title can be read as YAML syntax.

use super::paper::{Paper, Person, Problem, Severity};
use super::table::PaperRef;
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
        (
            EntryType::Article | EntryType::Chapter,
            Some(EntryType::Proceedings | EntryType::Conference),
        ) => "inproceedings",
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

/// Hayagriva's type for a BibTeX-style entry type, and the type of the
/// parent its venue is the title of (`None`: the venue is the publisher),
/// as hayagriva's documentation describes them.
pub fn hayagriva_kinds(entry_type: &str) -> (&'static str, Option<&'static str>) {
    match entry_type {
        "article" => ("article", Some("periodical")),
        "inproceedings" | "conference" => ("article", Some("proceedings")),
        "incollection" | "inbook" => ("chapter", Some("book")),
        "book" => ("book", None),
        "phdthesis" | "mastersthesis" | "thesis" => ("thesis", None),
        "techreport" | "report" => ("report", None),
        "online" | "webpage" => ("web", None),
        _ => ("article", Some("repository")),
    }
}

/// A family name with the suffix BibTeX's `von Last, Jr, First` form put
/// after it (`King Jr.`): the two apart, as styles place the suffix.
pub fn split_suffix(family: &str) -> (&str, Option<&str>) {
    const SUFFIXES: &[&str] = &["Jr.", "Jr", "Sr.", "Sr", "II", "III", "IV"];
    match family.rsplit_once(' ') {
        Some((name, last)) if SUFFIXES.contains(&last) && !name.trim().is_empty() => {
            (name.trim_end_matches(',').trim(), Some(last))
        }
        _ => (family, None),
    }
}

/// `paper` as a Hayagriva YAML entry (ending in a newline): type, title,
/// authors or editors, year, the venue as its parent, DOI and arXiv id,
/// URL and abstract. Words with capitals inside (`NeurIPS`, `BERT`) are
/// braced so that styles which change a title's case leave them alone.
pub fn to_hayagriva_entry(paper: &PaperRef<'_>) -> String {
    let (kind, parent_kind) = hayagriva_kinds(paper.entry_type);
    let mut out = format!("{}:\n  type: {kind}\n", yaml_key(paper.key));
    out += &format!("  title: {}\n", quoted(&protect_capitals(paper.title)));
    let persons: Vec<String> = paper
        .authors
        .iter()
        .map(|p| person(p.given, p.family))
        .collect();
    if !persons.is_empty() {
        out += &format!("  {}:\n", persons_role(paper));
        for person in persons {
            out += &format!("    - {person}\n");
        }
    }
    if let Some(year) = paper.year {
        out += &format!("  date: {year}\n");
    }
    match (paper.venue.filter(|v| !v.trim().is_empty()), parent_kind) {
        (Some(venue), Some(parent)) => {
            out += &format!(
                "  parent:\n    type: {parent}\n    title: {}\n",
                quoted(&protect_capitals(venue))
            );
        }
        (Some(venue), None) => out += &format!("  publisher: {}\n", quoted(venue)),
        (None, _) => {}
    }
    let serials: Vec<(&str, &str)> = [("doi", paper.ids.doi), ("arxiv", paper.ids.arxiv)]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect();
    if !serials.is_empty() {
        out += "  serial-number:\n";
        for (name, value) in serials {
            out += &format!("    {name}: {}\n", quoted(value));
        }
    }
    if let Some(url) = paper.ids.url.filter(|u| u.starts_with("http")) {
        out += &format!("  url: {}\n", quoted(url));
    }
    if let Some(text) = paper.abstract_text().filter(|a| !a.trim().is_empty()) {
        out += &format!("  abstract: {}\n", quoted(text.trim()));
    }
    out
}

/// The Hayagriva field the paper's persons go in: `author`, or `editor`
/// for an edited volume.
pub fn persons_role(paper: &PaperRef<'_>) -> &'static str {
    if paper.authors_are_editors {
        "editor"
    } else {
        "author"
    }
}

/// A person as hayagriva reads one from a string: `Family, Given` or
/// `Family, Suffix, Given`; a name that has commas of its own is written
/// as a mapping instead.
fn person(given: &str, family: &str) -> String {
    let (family, suffix) = split_suffix(family);
    if family.contains(',') || given.contains(',') {
        let mut fields = vec![format!("name: {}", quoted(family))];
        if !given.is_empty() {
            fields.push(format!("given-name: {}", quoted(given)));
        }
        if let Some(suffix) = suffix {
            fields.push(format!("suffix: {}", quoted(suffix)));
        }
        return format!("{{ {} }}", fields.join(", "));
    }
    let parts: Vec<&str> = [Some(family), suffix, Some(given).filter(|g| !g.is_empty())]
        .into_iter()
        .flatten()
        .collect();
    quoted(&parts.join(", "))
}

/// A key as a YAML mapping key: bare when it cannot be misread.
fn yaml_key(key: &str) -> String {
    let bare = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if bare {
        key.to_string()
    } else {
        quoted(key)
    }
}

/// A YAML double-quoted scalar: JSON's string syntax is a subset of it.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// Braces around words with a capital after their first letter, the words
/// a style's sentence or title case must not touch; braces already in the
/// text are dropped (hayagriva reads them as markup).
fn protect_capitals(title: &str) -> String {
    let title = title.replace(['{', '}'], "");
    title
        .split(' ')
        .map(|word| {
            let inner_capital = word.chars().skip(1).any(|c| c.is_uppercase());
            if inner_capital {
                format!("{{{word}}}")
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
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
