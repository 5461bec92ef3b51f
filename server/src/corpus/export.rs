//! Writing papers out as BibTeX (with `abstract` fields), the format users can
//! cite from LaTeX and pandoc alike. Used by `paper-ls import` and to make the
//! bundled corpus.
//!
//! Text is escaped for LaTeX so that BibTeX, biber and pandoc read back the
//! same characters our own reader does; titles are wrapped in an extra pair of
//! braces so that styles do not change their case.

use super::paper::Paper;
use std::fmt::Write;

/// All papers as one BibTeX document, entries separated by blank lines.
pub fn to_bibtex(papers: &[Paper]) -> String {
    let mut out = String::new();
    for paper in papers {
        write_entry(&mut out, paper);
        out.push('\n');
    }
    out
}

/// One paper as a BibTeX entry, ending in a newline.
pub fn to_bibtex_entry(paper: &Paper) -> String {
    let mut out = String::new();
    write_entry(&mut out, paper);
    out
}

/// Characters a key written into a `.bib` may not contain: they end a key
/// or break the entry.
pub const FORBIDDEN_IN_KEYS: &str = ",{}%#\"'()=\\@";

/// Why `key` cannot be written as a BibTeX key, if it cannot.
pub fn unwritable_key(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("the key is empty".into());
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("it contains a space or a control character".into());
    }
    key.chars()
        .find(|c| FORBIDDEN_IN_KEYS.contains(*c))
        .map(|c| format!("`{c}` is not allowed in keys (none of {FORBIDDEN_IN_KEYS} is)"))
}

fn write_entry(out: &mut String, p: &Paper) {
    let entry_type = bibtex_type(&p.entry_type);
    let _ = writeln!(out, "@{entry_type}{{{},", p.key);
    let mut field = |name: &str, value: String| {
        if !value.trim().is_empty() {
            let _ = writeln!(out, "  {name:<9} = {{{value}}},");
        }
    };
    field("title", format!("{{{}}}", escape(&p.title)));
    let authors: Vec<String> = p
        .authors
        .iter()
        .map(|a| {
            if a.given.is_empty() {
                format!("{{{}}}", escape(&a.family))
            } else {
                format!("{}, {}", escape(&a.family), escape(&a.given))
            }
        })
        .collect();
    let persons = if p.authors_are_editors {
        "editor"
    } else {
        "author"
    };
    field(persons, authors.join(" and "));
    field("year", p.year.map(|y| y.to_string()).unwrap_or_default());
    let venue_field = match entry_type {
        "article" => "journal",
        "inproceedings" | "incollection" => "booktitle",
        _ => "howpublished",
    };
    field(
        venue_field,
        p.venue.as_deref().map(escape).unwrap_or_default(),
    );
    field(
        "doi",
        p.ids.doi.as_deref().map(identifier).unwrap_or_default(),
    );
    if let Some(arxiv) = &p.ids.arxiv {
        field("eprint", identifier(arxiv));
        field("archiveprefix", "arXiv".into());
        let class = p.categories.iter().find(|c| is_arxiv_category(c));
        field(
            "primaryclass",
            class.map(|c| identifier(c)).unwrap_or_default(),
        );
    }
    field(
        "url",
        p.ids.url.as_deref().map(identifier).unwrap_or_default(),
    );
    field(
        "abstract",
        p.abstract_text.as_deref().map(escape).unwrap_or_default(),
    );
    out.push_str("}\n");
}

/// A DOI, URL, eprint id or class as written verbatim: without the braces
/// and line breaks no identifier has, which could end the entry early.
fn identifier(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '{' | '}' | '\n' | '\r'))
        .collect()
}

/// Whether a category is one of arXiv's (`cs.CL`, `hep-th`), not a tag a
/// library gives (`to-read`).
fn is_arxiv_category(category: &str) -> bool {
    const ARCHIVES: &[&str] = &[
        "cs", "math", "stat", "eess", "econ", "physics", "q-bio", "q-fin", "astro-ph", "cond-mat",
        "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nlin", "nucl-ex", "nucl-th",
        "quant-ph",
    ];
    let archive = category.split('.').next().unwrap_or("");
    ARCHIVES.contains(&archive)
}

fn bibtex_type(t: &str) -> &'static str {
    match t {
        "article" | "article-journal" => "article",
        "inproceedings" | "paper-conference" | "conference" => "inproceedings",
        "incollection" | "chapter" => "incollection",
        "book" => "book",
        "phdthesis" | "thesis" => "phdthesis",
        "techreport" | "report" => "techreport",
        _ => "misc",
    }
}

/// Escapes LaTeX's special characters; everything else (Unicode included) is
/// written as it is, which biber, pandoc and modern BibTeX read.
///
/// Braces need care: BibTeX counts `\{` as a brace when it looks for the
/// end of a value, so `\{` is only safe where the braces balance; where they
/// do not, each is written as `{\textbraceleft}` / `{\textbraceright}`.
pub fn escape(text: &str) -> String {
    let balanced = is_brace_balanced(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '{' if !balanced => out.push_str("{\\textbraceleft}"),
            '}' if !balanced => out.push_str("{\\textbraceright}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("{\\textbackslash}"),
            '~' => out.push_str("{\\textasciitilde}"),
            '^' => out.push_str("{\\textasciicircum}"),
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Whether every `}` closes an earlier `{` and every `{` is closed, counting
/// escaped ones too (as BibTeX does).
pub fn is_brace_balanced(text: &str) -> bool {
    let mut depth = 0usize;
    for b in text.bytes() {
        match b {
            b'{' => depth += 1,
            b'}' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => {}
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::bibtex::{load_bibtex, BibSource};
    use crate::corpus::paper::Person;
    use std::path::Path;

    #[test]
    fn exported_text_reads_back_unchanged() {
        let mut paper = Paper::titled(
            "C++ & Rust: 100% of {Braces}, ~tilde^ and a\\b — über".into(),
            "article",
        );
        paper.key = "k1".into();
        paper.authors = vec![
            Person {
                given: "Jörg".into(),
                family: "Müller".into(),
            },
            Person {
                given: String::new(),
                family: "OpenAI Team".into(),
            },
        ];
        paper.year = Some(2024);
        paper.venue = Some("Journal of #Hashes_and $Dollars".into());
        paper.abstract_text = Some("Uses x_1, 50% & {sets}; see https://x.org/a_b~c.".into());
        let bib = to_bibtex(std::slice::from_ref(&paper));
        let (papers, problems) = load_bibtex(&[BibSource {
            file: 0,
            path: Path::new("x.bib"),
            text: &bib,
        }]);
        assert!(problems.is_empty(), "{problems:?}\n{bib}");
        let back = &papers[0];
        assert_eq!(back.title, paper.title, "{bib}");
        assert_eq!(back.authors, paper.authors);
        assert_eq!(back.year, paper.year);
        assert_eq!(back.venue, paper.venue);
        assert_eq!(back.abstract_text, paper.abstract_text, "{bib}");
    }

    #[test]
    fn unbalanced_braces_cannot_end_an_entry_early() {
        let mut paper = Paper::titled("x}, note = {evil} {".into(), "misc");
        paper.key = "k".into();
        paper.abstract_text = Some("}\n@misc{smuggled, title={t}}".into());
        let bib = to_bibtex_entry(&paper);
        assert!(is_brace_balanced(&bib), "{bib}");
        let papers = crate::corpus::bibtex::read_cleanly(&bib);
        assert_eq!(papers.len(), 1, "{bib}");
        assert_eq!(papers[0].title, paper.title);
    }

    #[test]
    fn identifiers_cannot_end_an_entry_either() {
        let mut paper = Paper::titled("T".into(), "article");
        paper.key = "k".into();
        paper.ids.doi = Some("10.1/x},\n}\n@misc{pwned,\n  title = {Injected".into());
        paper.ids.arxiv = Some("2101.00001".into());
        paper.ids.url = Some("https://x.org/a}\r\n@misc{b, title={c}}".into());
        paper.categories = vec!["to-read".into(), "cs.CL".into()];
        let bib = to_bibtex_entry(&paper);
        let papers = crate::corpus::bibtex::read_cleanly(&bib);
        assert_eq!(papers.len(), 1, "{bib}");
        assert!(bib.contains("primaryclass = {cs.CL}"), "{bib}");
    }

    #[test]
    fn keys_that_would_break_an_entry_are_refused() {
        assert!(unwritable_key("smith2020").is_none());
        assert!(unwritable_key("C:Doe20").is_none());
        assert!(unwritable_key("a,b").is_some());
        assert!(unwritable_key("a}\n@misc{x").is_some());
        assert!(unwritable_key("").is_some());
    }
}
