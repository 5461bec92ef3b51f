//! Literature notes: a Markdown note about one paper, made from a template
//! the user can override — title, citation, authors, year, venue, abstract,
//! links, and the related papers as citations, so the note leads on.

use super::card::links;
use super::PaperContext;

/// How many related papers a literature note lists.
const RELATED_IN_NOTE: usize = 5;

/// The built-in template. Placeholders: `{{title}}`, `{{key}}`,
/// `{{citation}}`, `{{authors}}`, `{{year}}`, `{{venue}}`, `{{abstract}}`,
/// `{{links}}`, `{{related}}`; for a paper from a Zotero library also
/// `{{pdf}}` (its first PDF), `{{zoteroLink}}`, `{{notes}}` (its child
/// notes) and `{{annotations}}` (highlighted text, comment and page label of
/// each annotation of its PDFs), empty for other sources.
pub const DEFAULT_TEMPLATE: &str = "---\ntitle: \"{{title}}\"\ncitekey: {{key}}\n---\n\n# {{title}}\n\n{{citation}} · {{authors}} · {{year}} · {{venue}}\n\n{{links}}\n\n## Abstract\n\n{{abstract}}\n\n## Notes\n\n\n\n## Related papers\n\n{{related}}\n";

/// The note for the paper at `ordinal`, from `template` (or the built-in one).
/// `reference` is the paper's reference in the workspace's citation style
/// (`{{reference}}`).
pub fn literature_note(
    ctx: PaperContext<'_>,
    ordinal: usize,
    template: Option<&str>,
    reference: &str,
) -> String {
    let paper = &ctx.corpus.paper(ordinal);
    let related: Vec<String> = ctx
        .related_papers(ordinal, RELATED_IN_NOTE)
        .into_iter()
        .map(|i| {
            let p = &ctx.corpus.paper(i);
            format!("- [@{}] {}", p.key, p.title)
        })
        .collect();
    let fields = [
        ("title", paper.title.to_string()),
        ("key", paper.key.to_string()),
        ("citation", format!("[@{}]", paper.key)),
        ("authors", paper.authors_display()),
        (
            "year",
            paper.year.map(|y| y.to_string()).unwrap_or_default(),
        ),
        ("venue", paper.venue.unwrap_or_default().to_string()),
        (
            "abstract",
            paper
                .abstract_text()
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_default(),
        ),
        ("links", links(paper).join(" · ")),
        ("related", related.join("\n")),
        ("reference", reference.to_string()),
    ];
    let library = ctx.corpus.library_links.get(&(ordinal as u32));
    let library_fields = [
        (
            "pdf",
            library
                .and_then(|l| l.pdfs.first())
                .map(|p| super::card::file_url(p))
                .unwrap_or_default(),
        ),
        (
            "zoteroLink",
            library.map(|l| l.select.clone()).unwrap_or_default(),
        ),
        (
            "notes",
            library.map(|l| l.notes.join("\n\n")).unwrap_or_default(),
        ),
        (
            "annotations",
            library
                .map(|l| annotations(&l.annotations))
                .unwrap_or_default(),
        ),
    ];
    let mut note = template.unwrap_or(DEFAULT_TEMPLATE).to_string();
    for (name, value) in fields.into_iter().chain(library_fields) {
        note = note.replace(&format!("{{{{{name}}}}}"), &value);
    }
    note
}

/// Annotations as a Markdown list: `> highlighted text` (p. 3), then the
/// comment.
fn annotations(annotations: &[crate::corpus::zotero::Annotation]) -> String {
    annotations
        .iter()
        .map(|a| {
            let mut item = String::from("- ");
            if !a.text.trim().is_empty() {
                item.push_str(&format!("“{}”", a.text.trim()));
            }
            if !a.page.trim().is_empty() {
                item.push_str(&format!(" (p. {})", a.page.trim()));
            }
            if !a.comment.trim().is_empty() {
                if item.len() > 2 {
                    item.push_str(" — ");
                }
                item.push_str(a.comment.trim());
            }
            item
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paper's literature note: created from the template under the
/// configured folder of the workspace (of the temp directory without one)
/// unless it exists. Returns its path and whether it was created now.
pub fn open_literature_note(
    snap: &crate::workspace::Snapshot,
    key: &str,
) -> Result<(std::path::PathBuf, bool), String> {
    let ctx = snap.corpus.context();
    let Some(ordinal) = ctx.corpus.index_of(key) else {
        return Err(format!("no paper has the key `{key}`"));
    };
    let root = snap
        .root
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("paper-ls-notes"));
    let path = root
        .join(&snap.settings.literature_folder)
        .join(note_file_name(ctx.corpus.paper(ordinal).key));
    if snap.files.is_file(&path) {
        return Ok((path, false));
    }
    // Outside any document: the configured style.
    let style_snap = crate::workspace::Snapshot {
        document: None,
        ..snap.clone()
    };
    let reference = super::reference::reference_of(&style_snap, ordinal)
        .map(|r| r.entry)
        .unwrap_or_default();
    let text = literature_note(
        ctx,
        ordinal,
        snap.settings.literature_template.as_deref(),
        &reference,
    );
    snap.files
        .write_new(&path, &text)
        .map(|created| (path.clone(), created))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A file name for the paper's note: the key with unsafe characters replaced.
pub fn note_file_name(key: &str) -> String {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}.md", safe.trim_start_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(note_file_name("C:Abd23"), "C_Abd23.md");
        assert_eq!(note_file_name("../etc/passwd"), "_etc_passwd.md");
    }
}
