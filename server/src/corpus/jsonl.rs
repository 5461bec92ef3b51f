//! JSON Lines: one paper per line, in the field names of the public arXiv
//! metadata snapshot (`id`, `title`, `authors`, `abstract`, `update_date`,
//! `doi`, `categories`, `journal-ref`) or in CSL-JSON names, so that a user can
//! point the server at a real dump. A bad line costs only that line.
//!
//! In the arXiv shape `id` is an arXiv identifier, not a citation key, so the
//! key is generated (`keys`) and the id kept as the paper's arXiv id.

use super::csl_json::{clean_doi, first_year, paper_from_csl};
use super::latex_text::tex_to_unicode;
use super::paper::{Identifiers, Origin, Paper, Person, Problem, Severity};
use serde_json::{Map, Value};
use std::path::Path;

pub fn load_json_lines(file: usize, path: &Path, text: &str) -> (Vec<Paper>, Vec<Problem>) {
    let mut papers = Vec::new();
    let mut problems = Vec::new();
    let mut offset = 0;
    for (index, raw_line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let line_no = index as u32 + 1;
        let mut paper = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(item)) if is_arxiv_shape(&item) => paper_from_arxiv(&item),
            Ok(Value::Object(item)) => paper_from_csl(&item),
            Ok(_) => {
                problems.push(bad_line(path, line_no, "line is not a JSON object".into()));
                continue;
            }
            Err(e) => {
                problems.push(bad_line(path, line_no, format!("malformed JSON: {e}")));
                continue;
            }
        };
        paper.origin = Origin {
            file,
            line: line_no,
            span: start..start + line.len(),
            key_span: None,
            key_columns: None,
        };
        papers.push(paper);
    }
    (papers, problems)
}

fn bad_line(path: &Path, line: u32, message: String) -> Problem {
    Problem {
        file: path.to_path_buf(),
        line,
        severity: Severity::Error,
        message,
    }
}

fn is_arxiv_shape(item: &Map<String, Value>) -> bool {
    item.get("authors").is_some_and(Value::is_string)
        || item.contains_key("categories")
        || item.contains_key("update_date")
        || item.contains_key("authors_parsed")
}

fn paper_from_arxiv(item: &Map<String, Value>) -> Paper {
    let text = |name: &str| item.get(name).and_then(Value::as_str).map(tex_to_unicode);
    let mut paper = Paper::titled(text("title").unwrap_or_default(), "article");
    let arxiv_id = item
        .get("id")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string());
    paper.authors = item
        .get("authors_parsed")
        .and_then(parsed_authors)
        .or_else(|| text("authors").map(|a| split_author_string(&a)))
        .unwrap_or_default();
    paper.year = arxiv_id
        .as_deref()
        .and_then(year_from_arxiv_id)
        .or_else(|| {
            item.get("update_date")
                .and_then(Value::as_str)
                .and_then(first_year)
        });
    paper.venue = text("journal-ref")
        .filter(|v| !v.is_empty())
        .or(Some("arXiv".into()));
    paper.abstract_text = text("abstract").filter(|a| !a.is_empty());
    paper.categories = item
        .get("categories")
        .and_then(Value::as_str)
        .map(|c| c.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    paper.ids = Identifiers {
        doi: item
            .get("doi")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .map(clean_doi),
        url: arxiv_id
            .as_ref()
            .map(|id| format!("https://arxiv.org/abs/{id}")),
        arxiv: arxiv_id,
    };
    paper
}

/// `[["Family", "Given", "Suffix"], …]` as in the arXiv snapshot.
fn parsed_authors(v: &Value) -> Option<Vec<Person>> {
    let people: Vec<Person> = v
        .as_array()?
        .iter()
        .filter_map(|a| {
            let part = |i: usize| {
                a.get(i)
                    .and_then(Value::as_str)
                    .map(tex_to_unicode)
                    .unwrap_or_default()
            };
            let family = part(0);
            (!family.is_empty()).then(|| Person {
                given: part(1),
                family,
            })
        })
        .collect();
    (!people.is_empty()).then_some(people)
}

/// "A. One, B. Two and C. Three" → people; the last word is the family name.
fn split_author_string(authors: &str) -> Vec<Person> {
    authors
        .split(',')
        .flat_map(|chunk| chunk.split(" and "))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| match name.rsplit_once(' ') {
            Some((given, family)) => Person {
                given: given.trim().into(),
                family: family.into(),
            },
            None => Person {
                given: String::new(),
                family: name.into(),
            },
        })
        .collect()
}

/// Year of submission from the identifier: `2503.11731` → 2025, `hep-th/9901001` → 1999.
fn year_from_arxiv_id(id: &str) -> Option<i32> {
    let digits = id.rsplit('/').next()?;
    let yy: i32 = digits.get(..2)?.parse().ok()?;
    if !digits.get(2..4)?.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(if yy >= 91 { 1900 + yy } else { 2000 + yy })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = concat!(
        r#"{"id": "2503.11731", "title": "Sensor  Simulation\n via Splatting", "authors": "Xianming Zeng, Sicong Du and Qiang Li", "abstract": "Sensor simulation is\npivotal.", "categories": "cs.CV cs.RO", "update_date": "2025-06-01"}"#,
        "\n{not json}\n",
        r#"{"id": "jones21", "title": "CSL shaped", "author": [{"family": "Jones", "given": "B"}], "issued": {"date-parts": [[2021]]}}"#,
        "\r\n"
    );

    #[test]
    fn reads_arxiv_and_csl_lines_and_skips_a_bad_one() {
        let (papers, problems) = load_json_lines(3, Path::new("a.jsonl"), DUMP);
        assert_eq!(papers.len(), 2);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 2);
        let a = &papers[0];
        assert_eq!(a.key, "", "arXiv ids are not citation keys");
        assert_eq!(a.ids.arxiv.as_deref(), Some("2503.11731"));
        assert_eq!(a.title, "Sensor Simulation via Splatting");
        assert_eq!(a.authors.len(), 3);
        assert_eq!(
            a.authors[2],
            Person {
                given: "Qiang".into(),
                family: "Li".into()
            }
        );
        assert_eq!(a.year, Some(2025));
        assert_eq!(a.categories, vec!["cs.CV", "cs.RO"]);
        assert_eq!(
            a.abstract_text.as_deref(),
            Some("Sensor simulation is pivotal.")
        );
        assert_eq!(a.origin.file, 3);
        let b = &papers[1];
        assert_eq!(b.key, "jones21");
        assert_eq!(b.year, Some(2021));
        assert_eq!(b.origin.line, 3);
        assert!(DUMP[b.origin.span.clone()].ends_with('}'));
    }

    #[test]
    fn old_style_ids_give_years() {
        assert_eq!(year_from_arxiv_id("hep-th/9901001"), Some(1999));
        assert_eq!(year_from_arxiv_id("0704.0001"), Some(2007));
        assert_eq!(year_from_arxiv_id("x"), None);
    }
}
