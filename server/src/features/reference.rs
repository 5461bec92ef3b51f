//! A paper's reference formatted in a citation style, as the manuscript
//! will print it: Typst's own engine (hayagriva, a CSL processor) with the
//! CSL styles and locales it ships, or a `.csl` file of the user's.
//!
//! Which style: the document's own — YAML `csl:` in Markdown front matter,
//! `#bibliography(style: …)` in Typst, `\bibliographystyle{…}` in LaTeX
//! (mapped to the CSL style nearest in spirit where that is clear) — else
//! the `citationStyle` setting (APA by default). Styles are parsed once;
//! a paper's reference is formatted once per style and kept by the caller
//! (`workspace::LoadedCorpus::reference`).

use crate::corpus::hayagriva_yaml::{hayagriva_kinds, persons_role, split_suffix};
use crate::corpus::PaperRef;
use crate::notes::Language;
use hayagriva::archive::ArchivedStyle;
use hayagriva::citationberg::{IndependentStyle, Locale, Style};
use hayagriva::{BibliographyDriver, BibliographyRequest, CitationItem, CitationRequest};
use hayagriva::{ElemChild, ElemChildren};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// The style used when the document names none and nothing is configured.
pub const DEFAULT_STYLE: &str = "apa";

/// A paper in one style: its entry in the reference list and the citation
/// of it in the text ("(Power et al., 2022)", "[1]").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Markdown: `*italics*` as the style sets them.
    pub entry: String,
    pub citation: String,
}

/// The parsed styles of this process.
fn styles() -> &'static Styles {
    static STYLES: OnceLock<Styles> = OnceLock::new();
    STYLES.get_or_init(Styles::default)
}

/// Parses the default style and the locales ahead of the first hover.
pub fn warm_up() {
    let _ = styles().get(DEFAULT_STYLE, Path::new("."), &|p| std::fs::read(p));
    let _ = locales();
}

/// The style the snapshot's document is formatted in: the one it names,
/// else the `citationStyle` setting; and the folder a `.csl` path is
/// relative to.
pub fn document_style(snap: &crate::workspace::Snapshot) -> (String, PathBuf) {
    let doc = snap.document.as_ref();
    let named = doc.and_then(|d| style_named_by(&d.text, d.language));
    let dir = match (&named, doc.and_then(|d| d.path.as_deref())) {
        (Some(_), Some(path)) => path.parent().map(Path::to_path_buf),
        _ => snap.root.clone(),
    }
    .unwrap_or_else(|| PathBuf::from("."));
    (
        named.unwrap_or_else(|| snap.settings.citation_style.clone()),
        dir,
    )
}

/// `paper` of the snapshot's corpus in the document's style, formatted
/// once per style and kept with the corpus; `None` when the style cannot be
/// had (then the card goes without) or the paper cannot be formatted.
pub fn reference_of(snap: &crate::workspace::Snapshot, paper: usize) -> Option<Reference> {
    let (name, dir) = document_style(snap);
    let found = styles().get(&name, &dir, &|p| snap.files.read(p));
    let style = found.style.as_ref().as_ref().ok()?;
    let corpus = snap.corpus.corpus();
    let kept = snap.corpus.reference(&found.id, paper, || {
        let r = format(&corpus.paper(paper), style)?;
        Some((r.entry, r.citation))
    })?;
    Some(Reference {
        entry: kept.0.clone(),
        citation: kept.1.clone(),
    })
}

/// The style `text` (a note in `lang`) names, as written: a CSL style
/// name or a path to a `.csl` file; `None` when it names none.
pub fn style_named_by(text: &str, lang: Language) -> Option<String> {
    match lang {
        Language::Markdown => crate::notes::yaml_strings_at(front_matter_of(text)?, &["csl"])
            .into_iter()
            .next(),
        Language::Typst => crate::notes::typst::bibliography_style(text),
        Language::Latex => latex_style(text).map(str::to_string),
    }
}

fn front_matter_of(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("---")?;
    let end = rest.find("\n---")?;
    Some(&rest[..end])
}

/// `\bibliographystyle{x}` as the CSL style that prints like it, where
/// that is clear: natbib's author-year styles as Chicago author-date, the
/// numeric ones as IEEE.
fn latex_style(text: &str) -> Option<&'static str> {
    let at = text.find("\\bibliographystyle{")?;
    let name = text[at + "\\bibliographystyle{".len()..]
        .split('}')
        .next()?
        .trim();
    Some(match name {
        "plainnat" | "abbrvnat" | "unsrtnat" | "agsm" | "dcu" | "kluwer" | "chicago"
        | "apalike" => "chicago-author-date",
        "apacite" | "apa" => "apa",
        "ieeetr" | "IEEEtran" | "plain" | "abbrv" | "unsrt" | "alpha" | "siam" => "ieee",
        "acm" | "ACM-Reference-Format" => "association-for-computing-machinery",
        "nature" | "naturemag" => "nature",
        _ => return None,
    })
}

/// Parsed styles, by name or by file and content, kept for the life of the
/// server: a style is parsed once, and a `.csl` file again when it changes.
#[derive(Default)]
pub struct Styles {
    parsed: Mutex<HashMap<String, Arc<Result<IndependentStyle, String>>>>,
}

/// A style and the name its formatted references are kept under: the
/// style's name, or for a `.csl` file its path and a hash of its content,
/// so that an edited file's references are formatted anew.
pub struct StyleFound {
    pub id: String,
    pub style: Arc<Result<IndependentStyle, String>>,
}

impl Styles {
    /// The style `name` (a CSL style hayagriva ships, by its short name or
    /// id, or a `.csl` file, relative to `dir`), or why it cannot be used.
    /// `read` reads a style file (the workspace's files, or the disk).
    pub fn get(
        &self,
        name: &str,
        dir: &Path,
        read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    ) -> StyleFound {
        if !name.ends_with(".csl") {
            let mut parsed = crate::workspace::unpoisoned(&self.parsed);
            let style = parsed
                .entry(name.to_string())
                .or_insert_with(|| Arc::new(archived(name)))
                .clone();
            return StyleFound {
                id: name.to_string(),
                style,
            };
        }
        // A style file is a few tens of kilobytes: read and hashed on each
        // use, which costs microseconds, so an edit to it is seen at once.
        let path = dir.join(name);
        let bytes = read(&path);
        let id = match &bytes {
            Ok(bytes) => format!(
                "{}#{:016x}",
                path.display(),
                xxhash_rust::xxh3::xxh3_64(bytes)
            ),
            Err(_) => format!("{}#unreadable", path.display()),
        };
        let mut parsed = crate::workspace::unpoisoned(&self.parsed);
        let style = match parsed.get(&id) {
            Some(style) => style.clone(),
            None => {
                // Only the newest version of a file is worth keeping.
                let prefix = format!("{}#", path.display());
                parsed.retain(|kept, _| !kept.starts_with(&prefix));
                let style = Arc::new(style_file(&path, bytes));
                parsed.insert(id.clone(), style.clone());
                style
            }
        };
        StyleFound { id, style }
    }
}

fn archived(name: &str) -> Result<IndependentStyle, String> {
    let style = ArchivedStyle::by_name(name)
        .or_else(|| ArchivedStyle::by_id(name))
        .ok_or_else(|| format!("no citation style named `{name}`"))?;
    independent(style.get())
}

fn style_file(path: &Path, bytes: std::io::Result<Vec<u8>>) -> Result<IndependentStyle, String> {
    let bytes = bytes.map_err(|e| format!("cannot read the style {}: {e}", path.display()))?;
    let xml = String::from_utf8(bytes)
        .map_err(|_| format!("the style {} is not UTF-8", path.display()))?;
    let style =
        Style::from_xml(&xml).map_err(|e| format!("{} is not a CSL style: {e}", path.display()))?;
    independent(style)
}

/// A dependent style (a journal's, naming its parent) as its parent.
fn independent(style: Style) -> Result<IndependentStyle, String> {
    match style {
        Style::Independent(style) => Ok(style),
        Style::Dependent(dependent) => {
            let parent = &dependent.parent_link.href;
            match ArchivedStyle::by_id(parent).map(ArchivedStyle::get) {
                Some(Style::Independent(style)) => Ok(style),
                _ => Err(format!("the parent style {parent} is not available")),
            }
        }
    }
}

fn locales() -> &'static [Locale] {
    static LOCALES: OnceLock<Vec<Locale>> = OnceLock::new();
    LOCALES.get_or_init(hayagriva::archive::locales)
}

/// `paper` in `style`.
pub fn format(paper: &PaperRef<'_>, style: &IndependentStyle) -> Option<Reference> {
    let library = hayagriva::io::from_yaml_str(&entry_yaml(paper)).ok()?;
    let entry = library.iter().next()?;
    let mut driver = BibliographyDriver::new();
    driver.citation(CitationRequest::from_items(
        vec![CitationItem::with_entry(entry)],
        style,
        locales(),
    ));
    let rendered = driver.finish(BibliographyRequest::new(style, None, locales()));
    let citation = rendered
        .citations
        .first()
        .map(|c| markdown(&c.citation))
        .unwrap_or_default();
    let entry = rendered
        .bibliography
        .and_then(|b| b.items.into_iter().next())
        .map(|item| {
            let number = item.first_field.map(|f| markdown(&ElemChildren(vec![f])));
            let content = markdown(&item.content);
            match number {
                Some(n) => format!("{n} {content}"),
                None => content,
            }
        })
        .unwrap_or_default();
    Some(Reference { entry, citation })
}

/// The reference list of `papers` (in order of first citation) in
/// `style`: sorted as the style sorts (alphabetically, or in citation
/// order for numeric styles), one Markdown entry each.
pub fn reference_list(papers: &[PaperRef<'_>], style: &IndependentStyle) -> Vec<String> {
    let libraries: Vec<hayagriva::Library> = papers
        .iter()
        .filter_map(|p| hayagriva::io::from_yaml_str(&entry_yaml(p)).ok())
        .collect();
    let entries: Vec<&hayagriva::Entry> =
        libraries.iter().filter_map(|l| l.iter().next()).collect();
    let mut driver = BibliographyDriver::new();
    for &entry in &entries {
        driver.citation(CitationRequest::from_items(
            vec![CitationItem::with_entry(entry)],
            style,
            locales(),
        ));
    }
    let rendered = driver.finish(BibliographyRequest::new(style, None, locales()));
    rendered
        .bibliography
        .map(|b| {
            b.items
                .into_iter()
                .map(|item| {
                    let content = markdown(&item.content);
                    match item.first_field {
                        Some(f) => format!("{} {content}", markdown(&ElemChildren(vec![f]))),
                        None => content,
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The style called `name` (see [`Styles::get`]), for the command line.
pub fn style(name: &str, dir: &Path) -> Result<IndependentStyle, String> {
    (*styles().get(name, dir, &|p| std::fs::read(p)).style).clone()
}

/// The reference list of the snapshot's document: the papers it cites
/// that the corpus knows, in the document's style; with the style's name.
pub fn document_reference_list(
    snap: &crate::workspace::Snapshot,
) -> Result<(String, Vec<String>), String> {
    let doc = snap.document.as_ref().ok_or("no document")?;
    let (name, dir) = document_style(snap);
    let found = styles().get(&name, &dir, &|p| snap.files.read(p));
    let style = found.style.as_ref().as_ref().map_err(Clone::clone)?;
    let corpus = snap.corpus.corpus();
    let mut seen = std::collections::HashSet::new();
    let papers: Vec<PaperRef<'_>> = doc
        .citations()
        .iter()
        .filter_map(|c| corpus.index_of(&c.key))
        .filter(|&i| seen.insert(i))
        .map(|i| corpus.paper(i))
        .collect();
    Ok((name, reference_list(&papers, style)))
}

/// A paper as a Hayagriva entry (JSON, which the YAML reader reads).
fn entry_yaml(paper: &PaperRef<'_>) -> String {
    use serde_json::{json, Map, Value};
    // A conference paper is formatted as a chapter of a book: as an article
    // in proceedings (what hayagriva's documentation and its BibTeX reader
    // make of it), hayagriva hands CSL the proceedings' title as the volume
    // title too, and Chicago and MLA print it twice ("In “Advances…”
    // Special issue, *Advances…*"); as a chapter every style prints what
    // citeproc prints for a `paper-conference` ("In *Advances…*").
    let (kind, parent_kind) = match paper.entry_type {
        "inproceedings" | "conference" => ("chapter", Some("book")),
        other => hayagriva_kinds(other),
    };
    let mut fields = Map::new();
    fields.insert("type".into(), json!(kind));
    fields.insert("title".into(), json!(as_written(paper.title)));
    let persons: Vec<Value> = paper
        .authors
        .iter()
        .map(|p| {
            let (family, suffix) = split_suffix(p.family);
            let mut person = Map::new();
            person.insert("name".into(), json!(family));
            if !p.given.is_empty() {
                person.insert("given-name".into(), json!(p.given));
            }
            if let Some(suffix) = suffix {
                person.insert("suffix".into(), json!(suffix));
            }
            Value::Object(person)
        })
        .collect();
    if !persons.is_empty() {
        fields.insert(persons_role(paper).into(), Value::Array(persons));
    }
    if let Some(year) = paper.year {
        fields.insert("date".into(), json!(year.to_string()));
    }
    let mut serial = Map::new();
    if let Some(doi) = paper.ids.doi {
        serial.insert("doi".into(), json!(doi));
    }
    if let Some(arxiv) = paper.ids.arxiv {
        serial.insert("arxiv".into(), json!(arxiv));
    }
    if !serial.is_empty() {
        fields.insert("serial-number".into(), Value::Object(serial));
    }
    if let Some(url) = paper.ids.url.filter(|u| u.starts_with("http")) {
        fields.insert("url".into(), json!(url));
    }
    match paper.venue.filter(|v| !v.is_empty()) {
        Some(venue) if parent_kind.is_some() => {
            fields.insert(
                "parent".into(),
                json!({ "type": parent_kind, "title": as_written(venue) }),
            );
        }
        Some(venue) => {
            fields.insert("publisher".into(), json!(as_written(venue)));
        }
        None => {}
    }
    let mut root = Map::new();
    root.insert(paper.key.to_string(), Value::Object(fields));
    Value::Object(root).to_string()
}

/// A title kept as written: hayagriva's case changes lower the inner
/// capitals of names and acronyms (`NeurIPS` → `Neurips`), which the
/// citeproc pandoc uses leaves alone; titles in a library are already in
/// the case their authors wanted.
fn as_written(text: &str) -> String {
    format!("{{{}}}", text.replace(['{', '}'], ""))
}

/// Rendered text as Markdown: italics and bold kept, links as their text.
fn markdown(children: &ElemChildren) -> String {
    let mut out = String::new();
    write_markdown(children, &mut out);
    tidy_punctuation(out.trim())
}

/// Punctuation left doubled where a style's delimiter meets a field the
/// paper does not have (`*Journal*,.`, `(2020,)`): collapsed as citeproc
/// collapses it.
fn tidy_punctuation(text: &str) -> String {
    let mut out = text.to_string();
    for (from, to) in [
        (",.", "."),
        (",)", ")"),
        (", .", "."),
        (",,", ","),
        ("  ", " "),
    ] {
        while out.contains(from) {
            out = out.replace(from, to);
        }
    }
    // Across emphasis: `*Journal*,.`
    for (from, to) in [("*,.", "*."), ("*,)", "*)")] {
        out = out.replace(from, to);
    }
    out
}

fn write_markdown(children: &ElemChildren, out: &mut String) {
    for child in &children.0 {
        match child {
            ElemChild::Text(text) => styled(&text.text, &text.formatting, out),
            ElemChild::Elem(elem) => write_markdown(&elem.children, out),
            ElemChild::Markup(text) => out.push_str(&escape(text)),
            ElemChild::Link { text, .. } => styled(&text.text, &text.formatting, out),
            ElemChild::Transparent { .. } => {}
        }
    }
}

fn styled(text: &str, formatting: &hayagriva::Formatting, out: &mut String) {
    use hayagriva::citationberg::{FontStyle, FontWeight};
    let italic = formatting.font_style == FontStyle::Italic;
    let bold = formatting.font_weight == FontWeight::Bold;
    let marker = match (italic, bold) {
        (true, true) => "***",
        (true, false) => "*",
        (false, true) => "**",
        (false, false) => "",
    };
    let trimmed = text.trim();
    if marker.is_empty() || trimmed.is_empty() {
        out.push_str(&escape(text));
        return;
    }
    // Markdown emphasis must hug its text: spaces go outside the markers.
    let lead = &text[..text.len() - text.trim_start().len()];
    let trail = &text[text.trim_end().len()..];
    out.push_str(lead);
    out.push_str(marker);
    out.push_str(&escape(trimmed));
    out.push_str(marker);
    out.push_str(trail);
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '_' | '`' | '[' | ']' | '<' | '>' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{Paper, PaperTable, Person};

    fn paper(entry_type: &str, venue: Option<&str>, authors: &[(&str, &str)]) -> Paper {
        let mut p = Paper::titled(
            "Denoising Diffusion Probabilistic Models".into(),
            entry_type,
        );
        p.key = "ho2020".into();
        p.authors = authors
            .iter()
            .map(|(given, family)| Person {
                given: given.to_string(),
                family: family.to_string(),
            })
            .collect();
        p.year = Some(2020);
        p.venue = venue.map(str::to_string);
        p
    }

    fn formatted(p: &Paper, style: &str) -> Reference {
        let table = PaperTable::from_papers(std::slice::from_ref(p));
        let style = archived(style).unwrap();
        format(&table.paper(0), &style).unwrap()
    }

    #[test]
    fn each_style_prints_the_paper_its_way() {
        let p = paper(
            "article",
            Some("Advances in NeurIPS"),
            &[("Jonathan", "Ho"), ("Ajay", "Jain"), ("Pieter", "Abbeel")],
        );
        let apa = formatted(&p, "apa");
        assert_eq!(
            apa.entry,
            "Ho, J., Jain, A., & Abbeel, P. (2020). Denoising Diffusion Probabilistic Models. *Advances in NeurIPS*."
        );
        assert_eq!(apa.citation, "(Ho et al., 2020)");
        let ieee = formatted(&p, "ieee");
        assert!(
            ieee.entry.starts_with("\\[1\\] J. Ho, A. Jain, and P. Abbeel, “Denoising Diffusion Probabilistic Models,” *Advances in NeurIPS*"),
            "{}",
            ieee.entry
        );
        assert_eq!(ieee.citation, "\\[1\\]");
        let nature = formatted(&p, "nature");
        assert!(
            nature.entry.contains("Ho, J., Jain, A. & Abbeel, P."),
            "{}",
            nature.entry
        );
    }

    #[test]
    fn an_edited_style_file_is_read_again() {
        let tiny = |prefix: &str| {
            format!(
                r#"<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><title>Tiny</title><id>tiny</id><updated>2024-01-01T00:00:00+00:00</updated></info>
  <citation><layout><text variable="title"/></layout></citation>
  <bibliography><layout><text value="{prefix}"/><text variable="title"/></layout></bibliography>
</style>"#
            )
        };
        let file = std::sync::Mutex::new(tiny("First: "));
        let read = |_: &Path| Ok(file.lock().unwrap().clone().into_bytes());
        let styles = Styles::default();
        let p = paper("article", None, &[("Jonathan", "Ho")]);
        let table = PaperTable::from_papers(std::slice::from_ref(&p));
        let entry = |found: &StyleFound| {
            let style = found.style.as_ref().as_ref().unwrap();
            format(&table.paper(0), style).unwrap().entry
        };
        let before = styles.get("tiny.csl", Path::new("/doc"), &read);
        assert_eq!(
            entry(&before),
            "First: Denoising Diffusion Probabilistic Models"
        );
        assert_eq!(
            styles.get("tiny.csl", Path::new("/doc"), &read).id,
            before.id
        );
        *file.lock().unwrap() = tiny("Second: ");
        let after = styles.get("tiny.csl", Path::new("/doc"), &read);
        assert_ne!(after.id, before.id);
        assert_eq!(
            entry(&after),
            "Second: Denoising Diffusion Probabilistic Models"
        );
        assert_eq!(crate::workspace::unpoisoned(&styles.parsed).len(), 1);
    }

    #[test]
    fn many_authors_are_cut_as_the_style_says() {
        let names: Vec<(String, String)> = (1..=21)
            .map(|i| (format!("A{i}"), format!("Author{i}")))
            .collect();
        let names: Vec<(&str, &str)> = names
            .iter()
            .map(|(g, f)| (g.as_str(), f.as_str()))
            .collect();
        let p = paper("article", Some("Journal of Tests"), &names);
        // APA 7: the first nineteen, an ellipsis, the last.
        let apa = formatted(&p, "apa").entry;
        assert!(apa.contains("Author19, A., … Author21, A. (2020)"), "{apa}");
        assert!(!apa.contains("Author20"), "{apa}");
        // IEEE: more than six authors, the first and "et al."
        let ieee = formatted(&p, "ieee").entry;
        assert!(ieee.contains("A. Author1 *et al.*"), "{ieee}");
    }

    #[test]
    fn names_keep_their_suffixes_and_titles_their_capitals() {
        let mut p = paper("article", Some("NeurIPS"), &[("Martin Luther", "King Jr.")]);
        p.title = "BERT and GPT-3 in the Wild".into();
        let apa = formatted(&p, "apa").entry;
        assert!(
            apa.starts_with("King, M. L., Jr. (2020). BERT and GPT-3 in the Wild. *NeurIPS*."),
            "{apa}"
        );
    }

    #[test]
    fn the_style_is_the_one_the_document_names() {
        assert_eq!(
            style_named_by("---\ntitle: T\ncsl: ieee\n---\nText", Language::Markdown).as_deref(),
            Some("ieee")
        );
        assert_eq!(
            style_named_by(
                "#bibliography(\"r.bib\", style: \"nature\")",
                Language::Typst
            )
            .as_deref(),
            Some("nature")
        );
        assert_eq!(
            style_named_by("\\bibliographystyle{plainnat}", Language::Latex).as_deref(),
            Some("chicago-author-date")
        );
        assert_eq!(
            style_named_by("\\bibliographystyle{mystyle}", Language::Latex),
            None
        );
        assert_eq!(style_named_by("No front matter", Language::Markdown), None);
        assert!(archived("no-such-style").is_err());
    }
}
