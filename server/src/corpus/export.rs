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
    field("author", authors.join(" and "));
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
    field("doi", p.ids.doi.clone().unwrap_or_default());
    if let Some(arxiv) = &p.ids.arxiv {
        field("eprint", arxiv.clone());
        field("archiveprefix", "arXiv".into());
        field(
            "primaryclass",
            p.categories.first().cloned().unwrap_or_default(),
        );
    }
    field("url", p.ids.url.clone().unwrap_or_default());
    field(
        "abstract",
        p.abstract_text.as_deref().map(escape).unwrap_or_default(),
    );
    out.push_str("}\n");
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
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
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
}
