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

/// Lines are independent, so a large file is cut at line breaks into one
/// piece per core and the pieces are read at the same time (a dump of 75k
/// arXiv papers is ~100 MB of JSON).
pub fn load_json_lines(file: usize, path: &Path, text: &str) -> (Vec<Paper>, Vec<Problem>) {
    const PIECE_MIN_BYTES: usize = 4 << 20;
    let pieces = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(text.len() / PIECE_MIN_BYTES)
        .max(1);
    let mut bounds = vec![0];
    for k in 1..pieces {
        let cut = text.len() / pieces * k;
        let start = text[cut..].find('\n').map_or(text.len(), |nl| cut + nl + 1);
        if bounds.last().is_some_and(|&last| start > last) && start < text.len() {
            bounds.push(start);
        }
    }
    bounds.push(text.len());
    let read = |w: &[usize]| {
        let first_line = text[..w[0]].bytes().filter(|&b| b == b'\n').count();
        read_lines(file, path, &text[w[0]..w[1]], w[0], first_line)
    };
    let results: Vec<_> = if bounds.len() == 2 {
        vec![read(&bounds)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = bounds
                .windows(2)
                .map(|w| scope.spawn(move || read(w)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let mut papers = Vec::new();
    let mut problems = Vec::new();
    for (mut p, mut q) in results {
        papers.append(&mut p);
        problems.append(&mut q);
    }
    (papers, problems)
}

/// The papers of `lines`, which start at byte `at` and line
/// `first_line + 1` of the file.
pub(super) fn read_lines(
    file: usize,
    path: &Path,
    lines: &str,
    at: usize,
    first_line: usize,
) -> (Vec<Paper>, Vec<Problem>) {
    let mut papers = Vec::new();
    let mut problems = Vec::new();
    let mut offset = at;
    for (index, raw_line) in lines.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let line_no = (first_line + index) as u32 + 1;
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

    #[test]
    fn a_large_file_read_in_pieces_reads_as_one() {
        let mut text = String::new();
        for i in 0..40_000 {
            if i % 9_999 == 0 {
                text.push_str("{broken\n\n");
            }
            text.push_str(&format!(
                r#"{{"id": "2501.{i:05}", "title": "Paper number {i} about {}", "authors": "A. Author and B. Writer", "abstract": "{}", "categories": "cs.CL"}}"#,
                "x".repeat(i % 50),
                "Words of an abstract. ".repeat(10)
            ));
            text.push('\n');
        }
        assert!(text.len() > 8 << 20, "big enough to be cut: {}", text.len());
        let path = Path::new("big.jsonl");
        let whole = read_lines(0, path, &text, 0, 0);
        let pieces = load_json_lines(0, path, &text);
        assert_eq!(pieces.0.len(), 40_000);
        assert_eq!(pieces, whole);
        let last = pieces.0.last().unwrap();
        assert_eq!(
            &text[last.origin.span.clone()],
            text.trim_end().lines().last().unwrap()
        );
        assert_eq!(last.origin.line as usize, text.trim_end().lines().count());
    }

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
