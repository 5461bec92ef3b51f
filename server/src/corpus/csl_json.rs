//! CSL-JSON, as Zotero and Better BibTeX export it and pandoc reads it: an
//! array of items with `id`, `title`, `author[{family, given}]`,
//! `issued.date-parts`, `abstract`, `DOI`, `URL`, `container-title`.
//!
//! The array is split into items by a small scanner first, so each item has
//! its own byte span and line, and one malformed item loses only itself.
//! `paper_from_csl` is shared with the JSON Lines loader.

use super::paper::{Identifiers, Origin, Paper, Person, Problem, Severity};
use super::LineStarts;
use serde_json::{Map, Value};
use std::ops::Range;
use std::path::Path;

/// Loads a CSL-JSON array (or a single item object).
pub fn load_csl_json(file: usize, path: &Path, text: &str) -> (Vec<Paper>, Vec<Problem>) {
    let lines = LineStarts::new(text);
    let mut papers = Vec::new();
    let mut problems = Vec::new();
    let problem = |offset: usize, message: String| Problem {
        file: path.to_path_buf(),
        line: lines.line(offset),
        severity: Severity::Error,
        message,
    };
    let (items, scan_error) = split_top_level_items(text);
    if let Some((offset, message)) = scan_error {
        problems.push(problem(offset, message));
    }
    for span in items {
        match serde_json::from_str::<Value>(&text[span.clone()]) {
            Ok(Value::Object(item)) => {
                let mut paper = paper_from_csl(&item);
                paper.origin = Origin {
                    file,
                    line: lines.line(span.start),
                    span: span.clone(),
                    key_span: None,
                    key_columns: None,
                };
                papers.push(paper);
            }
            Ok(_) => problems.push(problem(span.start, "array element is not an object".into())),
            Err(e) => problems.push(problem(span.start, format!("malformed item: {e}"))),
        }
    }
    (papers, problems)
}

/// Byte spans of the elements of a top-level JSON array (or of one top-level
/// object), found by tracking strings and nesting only. An unclosed element
/// ends the scan with an error position and message.
fn split_top_level_items(text: &str) -> (Vec<Range<usize>>, Option<(usize, String)>) {
    let bytes = text.as_bytes();
    let Some(first) = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF)
    else {
        return (Vec::new(), None);
    };
    let (mut pos, in_array) = match bytes[first] {
        b'[' => (first + 1, true),
        b'{' => (first, false),
        _ => {
            return (
                Vec::new(),
                Some((first, "expected a JSON array of CSL items".into())),
            )
        }
    };
    let mut items = Vec::new();
    while pos < bytes.len() {
        match bytes[pos] {
            b'{' | b'[' => match matching_close(bytes, pos) {
                Some(end) => {
                    items.push(pos..end + 1);
                    pos = end + 1;
                    if !in_array {
                        break;
                    }
                }
                None => return (items, Some((pos, "unterminated item: missing `}`".into()))),
            },
            b']' if in_array => break,
            _ => pos += 1,
        }
    }
    (items, None)
}

/// Index of the bracket closing the one at `open`, skipping JSON strings.
fn matching_close(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Maps one CSL item to a paper. `id` becomes the key when it is usable as one.
pub fn paper_from_csl(item: &Map<String, Value>) -> Paper {
    let text = |name: &str| item.get(name).and_then(plain_text);
    let title = text("title").unwrap_or_default();
    let mut paper = Paper::titled(title, &text("type").unwrap_or_else(|| "article".into()));
    if let Some(id) = item.get("id").and_then(scalar_string) {
        if is_usable_key(&id) {
            paper.key = id;
            paper.key_origin = super::paper::KeyOrigin::Source;
        }
    }
    match csl_names(item.get("author")) {
        Some(authors) => paper.authors = authors,
        None => {
            paper.authors = csl_names(item.get("editor")).unwrap_or_default();
            paper.authors_are_editors = !paper.authors.is_empty();
        }
    }
    paper.year = item.get("issued").and_then(csl_year);
    paper.venue = text("container-title")
        .or_else(|| text("publisher"))
        .filter(|v| !v.is_empty());
    paper.abstract_text = text("abstract").filter(|a| !a.is_empty());
    paper.ids = Identifiers {
        doi: text("DOI").map(|d| clean_doi(&d)),
        arxiv: text("arxiv").or_else(|| text("URL").and_then(|u| arxiv_id_in_url(&u))),
        url: text("URL"),
    };
    paper
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A key that can be cited unquoted: no whitespace, none of `,{}%`, and no `@`.
pub fn is_usable_key(key: &str) -> bool {
    !key.is_empty()
        && !key
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ',' | '{' | '}' | '%' | '@' | '#' | '\\'))
}

/// String fields with CSL's rich-text HTML tags removed and spaces collapsed.
fn plain_text(v: &Value) -> Option<String> {
    let s = scalar_string(v)?;
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt..];
        match after.find('>') {
            Some(gt) if is_markup_tag(&after[1..gt]) => rest = &after[gt + 1..],
            _ => {
                out.push('<');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    Some(out.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn is_markup_tag(inner: &str) -> bool {
    let name = inner
        .trim_start_matches('/')
        .split_whitespace()
        .next()
        .unwrap_or("");
    matches!(
        name,
        "i" | "b"
            | "sup"
            | "sub"
            | "sc"
            | "span"
            | "em"
            | "strong"
            | "p"
            | "br"
            | "jats:p"
            | "jats:italic"
    )
}

fn csl_names(v: Option<&Value>) -> Option<Vec<Person>> {
    let names = v?.as_array()?;
    let people: Vec<Person> = names
        .iter()
        .filter_map(|n| {
            let get = |k: &str| n.get(k).and_then(plain_text).unwrap_or_default();
            let literal = get("literal");
            let family = if literal.is_empty() {
                get("family")
            } else {
                literal
            };
            let particle = get("non-dropping-particle");
            let family = if particle.is_empty() {
                family
            } else {
                format!("{particle} {family}")
            };
            (!family.is_empty()).then(|| Person {
                given: get("given"),
                family,
            })
        })
        .collect();
    (!people.is_empty()).then_some(people)
}

fn csl_year(issued: &Value) -> Option<i32> {
    if let Some(parts) = issued.get("date-parts") {
        let y = parts.get(0)?.get(0)?;
        return y
            .as_i64()
            .map(|y| y as i32)
            .or_else(|| y.as_str()?.trim().parse().ok());
    }
    let raw = issued
        .get("raw")
        .or_else(|| issued.get("literal"))
        .and_then(Value::as_str)?;
    first_year(raw)
}

/// The first four-digit run in a date string.
pub fn first_year(s: &str) -> Option<i32> {
    let bytes = s.as_bytes();
    (0..bytes.len().saturating_sub(3)).find_map(|i| {
        let run = &bytes[i..i + 4];
        let bounded = (i == 0 || !bytes[i - 1].is_ascii_digit())
            && bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit());
        (bounded && run.iter().all(u8::is_ascii_digit)).then(|| s[i..i + 4].parse().ok())?
    })
}

pub fn clean_doi(doi: &str) -> String {
    let d = doi.trim();
    let lower = d.to_ascii_lowercase();
    for prefix in [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi:",
    ] {
        if lower.starts_with(prefix) {
            return d[prefix.len()..].trim().to_string();
        }
    }
    d.to_string()
}

pub fn arxiv_id_in_url(url: &str) -> Option<String> {
    let at = url
        .find("arxiv.org/abs/")
        .map(|i| i + "arxiv.org/abs/".len())
        .or_else(|| {
            url.find("arxiv.org/pdf/")
                .map(|i| i + "arxiv.org/pdf/".len())
        })?;
    let id = url[at..].trim_end_matches(".pdf").trim_end_matches('/');
    (!id.is_empty()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZOTERO: &str = r#"[
  {"id": "smith2020", "type": "article-journal", "title": "Deep <i>Learning</i>  Now",
   "author": [{"family": "Smith", "given": "Ann"}, {"literal": "OpenAI"}],
   "issued": {"date-parts": [[2020, 5]]}, "container-title": "Nature",
   "abstract": "We show things.", "DOI": "https://doi.org/10.1/ABC", "URL": "https://arxiv.org/abs/2001.00001"},
  {"id": "broken", "title": },
  {"id": "jones21", "title": "Second", "issued": {"raw": "March 2021"}}
]"#;

    #[test]
    fn reads_zotero_items_and_survives_a_broken_one() {
        let (papers, problems) = load_csl_json(0, Path::new("z.json"), ZOTERO);
        assert_eq!(papers.len(), 2, "{problems:?}");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 6);
        let p = &papers[0];
        assert_eq!(p.key, "smith2020");
        assert_eq!(p.title, "Deep Learning Now");
        assert_eq!(
            p.authors[0],
            Person {
                given: "Ann".into(),
                family: "Smith".into()
            }
        );
        assert_eq!(p.authors[1].family, "OpenAI");
        assert_eq!(p.year, Some(2020));
        assert_eq!(p.venue.as_deref(), Some("Nature"));
        assert_eq!(p.ids.doi.as_deref(), Some("10.1/ABC"));
        assert_eq!(p.ids.arxiv.as_deref(), Some("2001.00001"));
        assert_eq!(p.origin.line, 2);
        assert!(ZOTERO[p.origin.span.clone()].starts_with("{\"id\": \"smith2020\""));
        assert_eq!(papers[1].year, Some(2021));
        assert_eq!(papers[1].origin.line, 7);
    }

    #[test]
    fn an_edited_volume_keeps_its_editors_as_editors() {
        let text = r#"[{"id": "vol", "type": "book", "title": "Edited", "editor": [{"family": "Lovelace", "given": "Ada"}]},
                       {"id": "ch", "type": "chapter", "title": "C", "author": [{"family": "Hopper"}], "editor": [{"family": "Lovelace"}]}]"#;
        let (papers, _) = load_csl_json(0, Path::new("z.json"), text);
        assert!(papers[0].authors_are_editors);
        assert_eq!(papers[0].authors[0].family, "Lovelace");
        assert!(!papers[1].authors_are_editors);
    }

    #[test]
    fn unusable_ids_are_left_for_generation() {
        let (papers, _) = load_csl_json(0, Path::new("z.json"), r#"[{"id": "a b", "title": "T"}]"#);
        assert_eq!(papers[0].key, "");
    }

    #[test]
    fn years_are_found_in_free_text() {
        assert_eq!(first_year("17-20 June 1952"), Some(1952));
        assert_eq!(first_year("no year 12345"), None);
    }
}
