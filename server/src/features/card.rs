//! The paper card: the Markdown a hover shows, completion items carry as
//! documentation, and paper-card files are made of.

use crate::corpus::{Corpus, PaperRef};
use serde_json::{json, Value};

/// Hover/completion card: title, authors, year, venue, abstract, links, key and source.
pub fn paper_card(corpus: &Corpus, paper: &PaperRef<'_>) -> String {
    let mut out = format!("**{}**\n\n", md_escape(paper.title));
    let byline = byline(paper);
    if !byline.is_empty() {
        out.push_str(&byline);
        out.push_str("\n\n");
    }
    if let Some(text) = paper.abstract_text() {
        out.push_str(&md_escape(&text));
        out.push_str("\n\n");
    }
    let mut links = links(paper);
    if let Some(library) = corpus.library_links.get(&(paper.ordinal() as u32)) {
        for pdf in &library.pdfs {
            let name = pdf
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            links.push(format!("[PDF {}]({})", md_escape(&name), file_url(pdf)));
        }
        links.push(format!("[Open in Zotero]({})", library.select));
    }
    if !links.is_empty() {
        out.push_str(&links.join(" · "));
        out.push_str("\n\n");
    }
    let source = corpus.source_of(paper);
    let file = source
        .path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.push_str(&format!("`{}` · {}:{}", paper.key, file, paper.origin.line));
    out
}

/// "A. One, B. Two and C. Three · 2024 · *Venue*"
pub fn byline(paper: &PaperRef<'_>) -> String {
    let mut parts = Vec::new();
    let authors = paper.authors_display();
    if !authors.is_empty() {
        parts.push(md_escape(&authors));
    }
    if let Some(year) = paper.year {
        parts.push(year.to_string());
    }
    if let Some(venue) = paper.venue.filter(|v| !v.is_empty()) {
        parts.push(format!("*{}*", md_escape(venue)));
    }
    parts.join(" · ")
}

/// A `file://` URL for a local file, spaces and other unsafe characters
/// percent-encoded so Markdown and editors read it as one link.
pub fn file_url(path: &std::path::Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where a paper is best opened: its PDF when the library has one, else
/// its DOI, arXiv page or URL; with a tooltip.
pub fn open_target(corpus: &Corpus, paper: &PaperRef<'_>) -> Option<(String, String)> {
    if let Some(pdf) = corpus
        .library_links
        .get(&(paper.ordinal() as u32))
        .and_then(|l| l.pdfs.first())
    {
        return Some((
            file_url(pdf),
            format!("Open the PDF of {}", short_title(paper.title)),
        ));
    }
    if let Some(doi) = paper.ids.doi {
        return Some((format!("https://doi.org/{doi}"), format!("Open DOI {doi}")));
    }
    if let Some(id) = paper.ids.arxiv {
        return Some((
            format!("https://arxiv.org/abs/{id}"),
            format!("Open arXiv:{id}"),
        ));
    }
    // Only web pages: a URL from a corpus file (which a repository can
    // ship) must not make the editor open `file:`, `smb:` or other schemes.
    paper
        .ids
        .url
        .filter(|url| {
            let lower = url.to_ascii_lowercase();
            lower.starts_with("https://") || lower.starts_with("http://")
        })
        .map(|url| (url.to_string(), format!("Open {url}")))
}

/// Markdown links to the paper's DOI, arXiv page and URL (each once).
pub fn links(paper: &PaperRef<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(doi) = &paper.ids.doi {
        out.push(format!("[DOI {doi}](https://doi.org/{doi})"));
    }
    let arxiv_url = paper
        .ids
        .arxiv
        .as_ref()
        .map(|a| format!("https://arxiv.org/abs/{a}"));
    if let (Some(id), Some(url)) = (&paper.ids.arxiv, &arxiv_url) {
        out.push(format!("[arXiv:{id}]({url})"));
    }
    if let Some(url) = paper.ids.url.filter(|u| Some(*u) != arxiv_url.as_deref()) {
        out.push(format!("[{url}]({url})"));
    }
    out
}

/// The paper's title shortened for one line: up to the colon, or 60 characters.
pub fn short_title(title: &str) -> String {
    let head = title.split(": ").next().unwrap_or(title);
    if head.chars().count() <= 60 {
        head.to_string()
    } else {
        let cut: String = head.chars().take(57).collect();
        format!("{}…", cut.trim_end())
    }
}

/// Escapes the characters that would turn plain text into Markdown markup.
pub fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A paper as JSON, for `--json` output and the editor commands: its
/// fields, identifiers and where its entry is.
pub fn paper_json(corpus: &Corpus, p: &PaperRef<'_>) -> Value {
    let source = corpus.source_of(p);
    json!({
        "key": p.key,
        "key_origin": p.key_origin,
        "type": p.entry_type,
        "title": p.title,
        "authors": p.authors.iter().map(|a| a.display()).collect::<Vec<_>>(),
        "year": p.year,
        "venue": p.venue,
        "abstract": p.abstract_text(),
        "ids": {"doi": p.ids.doi, "arxiv": p.ids.arxiv, "url": p.ids.url},
        "source": {"path": source.path, "line": p.origin.line},
    })
}
