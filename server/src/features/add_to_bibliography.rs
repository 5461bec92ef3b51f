//! Carrying papers from the library into the document's own bibliography,
//! so that the manuscript compiles: the quick fix on a "not in refs.bib"
//! warning, "add all missing papers", and the entry completion adds.
//!
//! Two steps, so that listing code actions stays cheap. [`plan`] picks the
//! file to write and sorts the keys into those to add, those already there
//! and those refused (with the reason, and the key to cite instead when the
//! file has the same paper under another key); it reads only the small
//! target file. [`write_plan`] then copies the entries out of the library
//! (the slow part on a big `.bib`) and returns one edit that appends them.
//!
//! The target is a BibTeX file (entries copied from their source, see
//! `corpus::entry_copy`) or a Hayagriva YAML file, Typst's own format
//! (entries written from what the library holds, and the file read back
//! with hayagriva before the edit is offered).
//!
//! Writing is refused, with the reason, unless the target is such a file
//! inside the workspace folder once links are followed, exists, is not
//! marked read-only, is not gzipped and is UTF-8: a document from an
//! untrusted repository must never make paper-ls write outside it.

use super::diagnostics::not_in_bibliography;
use super::rename::FileEdit;
use crate::corpus::bibtex::{load_bibtex, BibSource};
use crate::corpus::entry_copy::{appended, EntryCopier};
use crate::corpus::hayagriva_yaml::{load_hayagriva_yaml, to_hayagriva_entry};
use crate::corpus::same_paper::{same_paper as same_paper_as, PaperIdentity};
use crate::corpus::{Corpus, PaperRef};
use crate::workspace::files::FileSystem;
use crate::workspace::selection::lexically_normal;
use crate::workspace::Snapshot;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A bibliography larger than this is refused (it is a library, and
/// reading it whole for every addition would be slow).
const MAX_TARGET_BYTES: usize = 64 << 20;

/// Extensions of the BibTeX files entries are written into.
const BIB_EXTENSIONS: &[&str] = &["bib", "bibtex", "biblatex"];

/// Extensions of the Hayagriva YAML files entries are written into.
const YAML_EXTENSIONS: &[&str] = &["yml", "yaml"];

/// The language of the file entries are written into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetFormat {
    BibTeX,
    HayagrivaYaml,
}

impl TargetFormat {
    fn of(path: &Path) -> Option<TargetFormat> {
        let extension = path.extension()?.to_str()?;
        let is = |list: &[&str]| list.iter().any(|e| extension.eq_ignore_ascii_case(e));
        if is(BIB_EXTENSIONS) {
            Some(TargetFormat::BibTeX)
        } else if is(YAML_EXTENSIONS) {
            Some(TargetFormat::HayagrivaYaml)
        } else {
            None
        }
    }
}

/// What adding some keys to the document's bibliography would do.
#[derive(Clone, Debug)]
pub struct Plan {
    pub target: PathBuf,
    pub format: TargetFormat,
    /// The target's text as just read (without a byte-order mark).
    text: Arc<str>,
    /// Library papers to add, in the order asked, each once.
    pub to_add: Vec<usize>,
    /// Keys the bibliography already has, for the same paper.
    pub already_there: Vec<String>,
    pub refused: Vec<RefusedKey>,
}

/// A key that cannot be added, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedKey {
    pub key: String,
    pub reason: String,
    /// The key the bibliography has the same paper under, to cite instead.
    pub cite_instead: Option<String>,
}

/// The edit that appends the entries, and the keys it adds.
#[derive(Clone, Debug)]
pub struct Addition {
    pub edit: FileEdit,
    pub added: Vec<String>,
    pub refused: Vec<RefusedKey>,
}

impl Plan {
    /// The target's file name, for titles and messages.
    pub fn target_name(&self) -> String {
        file_name(&self.target)
    }
}

/// The keys the document cites that its bibliography lacks but the library
/// has, each once, in the order cited.
pub fn missing_keys(snap: &Snapshot) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for missing in not_in_bibliography(snap) {
        if !keys.contains(&missing.key) {
            keys.push(missing.key);
        }
    }
    keys
}

/// Where `keys` would go and which of them can go there; `Err` with the
/// reason when nothing can be written at all.
pub fn plan(snap: &Snapshot, keys: &[String]) -> Result<Plan, String> {
    let bibliography = snap
        .bibliography
        .as_ref()
        .ok_or("this document names no bibliography of its own to add papers to")?;
    let target = choose_target(snap, &bibliography.files)?;
    let text = read_target(snap, &target)?;
    let format = TargetFormat::of(&target).unwrap_or(TargetFormat::BibTeX);
    let existing = Existing::of(
        &target,
        format,
        &text,
        bibliography.corpus.corpus(),
        &*snap.files,
    )?;
    let library = snap.corpus.corpus();
    let name = file_name(&target);
    let mut plan = Plan {
        target,
        format,
        text,
        to_add: Vec::new(),
        already_there: Vec::new(),
        refused: Vec::new(),
    };
    for key in keys {
        let Some(ordinal) = library.index_of(key) else {
            plan.refused.push(RefusedKey {
                key: key.clone(),
                reason: format!("no paper in the library has the key `{key}`"),
                cite_instead: None,
            });
            continue;
        };
        if plan.to_add.contains(&ordinal) {
            continue;
        }
        let paper = library.paper(ordinal);
        match existing.with_key(key, format) {
            Some(there) if same_paper(&paper, there) => plan.already_there.push(key.clone()),
            Some(there) => plan.refused.push(RefusedKey {
                key: key.clone(),
                reason: match format {
                    TargetFormat::BibTeX => format!(
                        "{name} already has the key `{}` for another paper (“{}”); BibTeX keys \
                         ignore case, so rename one of them first",
                        there.key, there.title
                    ),
                    TargetFormat::HayagrivaYaml => format!(
                        "{name} already has the key `{}` for another paper (“{}”); rename one \
                         of them first",
                        there.key, there.title
                    ),
                },
                cite_instead: None,
            }),
            None => match existing.same_paper_as(&paper) {
                Some(there) => plan.refused.push(RefusedKey {
                    key: key.clone(),
                    reason: format!(
                        "{name} already has this paper as `{}`: cite that key instead",
                        there.key
                    ),
                    cite_instead: Some(there.key.clone()),
                }),
                None => plan.to_add.push(ordinal),
            },
        }
    }
    Ok(plan)
}

/// The edit that appends the planned entries to the target: each a
/// standalone BibTeX entry, after one blank line, in the file's own line
/// endings. `Err` when there is nothing to add.
pub fn write_plan(snap: &Snapshot, plan: &Plan) -> Result<Addition, String> {
    if plan.format == TargetFormat::HayagrivaYaml {
        return write_yaml_plan(snap, plan);
    }
    let library = snap.corpus.corpus();
    let macros = snap.corpus.bib_macros(&*snap.files);
    let files = &*snap.files;
    let read = |path: &Path| files.read(path);
    let read_range = |path: &Path, range| snap.corpus.read_unchanged_range(files, path, range);
    let mut copier = EntryCopier::new(library, &read, &macros).with_range_reads(&read_range);
    let mut entries = Vec::new();
    let mut added = Vec::new();
    let mut refused = plan.refused.clone();
    for &ordinal in &plan.to_add {
        let key = library.paper(ordinal).key.to_string();
        match copier.entry(ordinal) {
            Ok(entry) => {
                entries.push(entry);
                added.push(key);
            }
            Err(reason) => refused.push(RefusedKey {
                key,
                reason,
                cite_instead: None,
            }),
        }
    }
    if entries.is_empty() {
        return Err(nothing_to_add(plan, &refused));
    }
    Ok(appending(
        plan,
        appended(&plan.text, &entries),
        added,
        refused,
    ))
}

/// Why nothing is added: the first refusal, or that all is there.
fn nothing_to_add(plan: &Plan, refused: &[RefusedKey]) -> String {
    refused.first().map_or_else(
        || format!("{} already has every paper asked for", plan.target_name()),
        |r| r.reason.clone(),
    )
}

/// The addition that puts `new_text` at the end of the target.
fn appending(
    plan: &Plan,
    new_text: String,
    added: Vec<String>,
    refused: Vec<RefusedKey>,
) -> Addition {
    Addition {
        edit: FileEdit {
            path: plan.target.clone(),
            range: plan.text.len()..plan.text.len(),
            new_text,
            text: plan.text.clone(),
            lines: None,
        },
        added,
        refused,
    }
}

/// The edit that appends the planned entries to a Hayagriva YAML target,
/// offered only if hayagriva reads the result with every entry in it (a
/// file written in flow style, or ending inside a block, could swallow
/// them).
fn write_yaml_plan(snap: &Snapshot, plan: &Plan) -> Result<Addition, String> {
    let library = snap.corpus.corpus();
    let papers: Vec<_> = plan.to_add.iter().map(|&i| library.paper(i)).collect();
    if papers.is_empty() {
        return Err(nothing_to_add(plan, &plan.refused));
    }
    let entries: Vec<String> = papers.iter().map(to_hayagriva_entry).collect();
    let added: Vec<String> = papers.iter().map(|p| p.key.to_string()).collect();
    let text = &plan.text;
    let new_text = appended(text, &entries);
    let whole = format!("{text}{new_text}");
    let read_back = hayagriva::io::from_yaml_str(&whole)
        .map_err(|e| e.to_string())
        .and_then(
            |library| match added.iter().find(|key| library.get(key).is_none()) {
                Some(lost) => Err(format!("`{lost}` would not be an entry of it")),
                None => Ok(()),
            },
        );
    if let Err(why) = read_back {
        return Err(format!(
            "cannot add papers to {}: with the entries appended hayagriva could not read it \
             ({why}); is it written in YAML's block style, one entry per top-level key?",
            plan.target_name()
        ));
    }
    Ok(appending(plan, new_text, added, plan.refused.clone()))
}

/// [`plan`] then [`write_plan`].
pub fn add_to_bibliography(snap: &Snapshot, keys: &[String]) -> Result<Addition, String> {
    write_plan(snap, &plan(snap, keys)?)
}

/// The file entries go to: `bibliography.target` if set (it must be one of
/// the document's bibliography files), else the first that can be written.
fn choose_target(snap: &Snapshot, files: &[PathBuf]) -> Result<PathBuf, String> {
    if let Some(wanted) = snap.settings.bibliography_target.as_deref() {
        let chosen = files.iter().find(|file| {
            let relative = snap
                .root
                .as_ref()
                .map(|root| lexically_normal(&root.join(wanted)));
            relative.is_some_and(|r| r == lexically_normal(file)) || file.ends_with(wanted)
        });
        let Some(chosen) = chosen else {
            let named: Vec<String> = files.iter().map(|f| file_name(f)).collect();
            return Err(format!(
                "the setting bibliography.target is `{wanted}`, but this document's bibliography \
                 is {}",
                named.join(", ")
            ));
        };
        return writable(snap, chosen);
    }
    let mut first_reason = None;
    for file in files {
        match writable(snap, file) {
            Ok(real) => return Ok(real),
            Err(why) => {
                first_reason.get_or_insert(why);
            }
        }
    }
    Err(first_reason.unwrap_or_else(|| "this document names no bibliography file".into()))
}

/// Where `path` really is, if paper-ls may write it; else why not. Edits
/// go to that real path (links followed, `..` gone), so an editor that reads
/// the path differently cannot be sent elsewhere.
fn writable(snap: &Snapshot, path: &Path) -> Result<PathBuf, String> {
    let name = file_name(path);
    let Some(format) = TargetFormat::of(path) else {
        return Err(format!(
            "cannot add papers to {name}: paper-ls writes entries only into BibTeX files (.bib, \
             .bibtex, .biblatex) and Hayagriva YAML files (.yml, .yaml)"
        ));
    };
    let Some(root) = snap.root.as_ref() else {
        return Err(format!(
            "cannot add papers to {name}: no workspace folder is open, and paper-ls writes only \
             into files of the workspace"
        ));
    };
    let files = &*snap.files;
    let real = match files.canonical(path) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "cannot add papers to {name}: {} does not exist; create it (empty is fine) and \
                 paper-ls will add entries to it",
                path.display()
            ))
        }
        Err(e) => return Err(format!("cannot add papers to {name}: {e}")),
    };
    let real_root = files.canonical(root).unwrap_or_else(|_| root.clone());
    if !real.starts_with(&real_root) {
        return Err(format!(
            "cannot add papers to {name}: it is outside the workspace ({} is {}), and paper-ls \
             writes only into files of the workspace",
            path.display(),
            real.display()
        ));
    }
    // A link named `refs.bib` may point at any other file of the workspace.
    if TargetFormat::of(&real) != Some(format) || !files.is_file(&real) {
        let kind = match format {
            TargetFormat::BibTeX => "a BibTeX file",
            TargetFormat::HayagrivaYaml => "a Hayagriva YAML file",
        };
        return Err(format!(
            "cannot add papers to {name}: it is {}, not {kind}",
            real.display()
        ));
    }
    if files.is_read_only(&real) {
        return Err(format!(
            "cannot add papers to {name}: the file is read-only"
        ));
    }
    Ok(real)
}

/// The target's text, if it is one an edit can be made to.
fn read_target(snap: &Snapshot, target: &Path) -> Result<Arc<str>, String> {
    let name = file_name(target);
    let bytes = snap
        .files
        .read(target)
        .map_err(|e| format!("cannot add papers to {name}: cannot read it: {e}"))?;
    if bytes.len() > MAX_TARGET_BYTES {
        return Err(format!(
            "cannot add papers to {name}: it is larger than {} MB, which is no manuscript's \
             bibliography",
            MAX_TARGET_BYTES >> 20
        ));
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(format!(
            "cannot add papers to {name}: it is gzipped, and paper-ls does not rewrite \
             compressed files"
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "cannot add papers to {name}: it is not UTF-8, so an added entry could corrupt it; \
             convert it to UTF-8 first"
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(Arc::from(text))
}

/// An entry of the bibliography, as much as telling papers apart needs.
struct Entry {
    key: String,
    title: String,
    doi: Option<String>,
    arxiv: Option<String>,
}

impl Entry {
    fn identity(&self) -> PaperIdentity<'_> {
        PaperIdentity {
            title: &self.title,
            doi: self.doi.as_deref(),
            arxiv: self.arxiv.as_deref(),
        }
    }
}

/// The papers the document's bibliography has now: the target as just
/// read, and the other files as loaded.
struct Existing {
    entries: Vec<Entry>,
}

impl Existing {
    fn of(
        target: &Path,
        format: TargetFormat,
        text: &str,
        loaded: &Corpus,
        files: &dyn FileSystem,
    ) -> Result<Existing, String> {
        let papers = match format {
            TargetFormat::BibTeX => {
                load_bibtex(&[BibSource {
                    file: 0,
                    path: target,
                    text,
                }])
                .0
            }
            // Appending to a file hayagriva cannot read would hide what is
            // wrong with it under our entries.
            TargetFormat::HayagrivaYaml if text.trim().is_empty() => Vec::new(),
            TargetFormat::HayagrivaYaml => {
                let (papers, problems) = load_hayagriva_yaml(0, target, text);
                if let Some(problem) = problems.first() {
                    return Err(format!(
                        "cannot add papers to {}: {} (line {}); fix it first",
                        file_name(target),
                        problem.message,
                        problem.line
                    ));
                }
                papers
            }
        };
        let mut entries: Vec<Entry> = papers
            .into_iter()
            .map(|p| Entry {
                key: p.key,
                title: p.title,
                doi: p.ids.doi,
                arxiv: p.ids.arxiv,
            })
            .collect();
        entries.extend(
            loaded
                .papers
                .iter()
                .filter(|p| {
                    let path = &loaded.source_of(p).path;
                    path != target && files.canonical(path).ok().as_deref() != Some(target)
                })
                .map(|p| Entry {
                    key: p.key.to_string(),
                    title: p.title.to_string(),
                    doi: p.ids.doi.map(str::to_string),
                    arxiv: p.ids.arxiv.map(str::to_string),
                }),
        );
        Ok(Existing { entries })
    }

    /// The entry under `key`: BibTeX ignores case in keys, YAML and Typst
    /// do not.
    fn with_key(&self, key: &str, format: TargetFormat) -> Option<&Entry> {
        self.entries.iter().find(|e| match format {
            TargetFormat::BibTeX => e.key.eq_ignore_ascii_case(key),
            TargetFormat::HayagrivaYaml => e.key == key,
        })
    }

    fn same_paper_as(&self, paper: &PaperRef<'_>) -> Option<&Entry> {
        self.entries.iter().find(|e| same_paper(paper, e))
    }
}

/// Whether a library paper and an entry of the bibliography are one paper.
fn same_paper(a: &PaperRef<'_>, b: &Entry) -> bool {
    let a = PaperIdentity {
        title: a.title,
        doi: a.ids.doi,
        arxiv: a.ids.arxiv,
    };
    same_paper_as(a, b.identity()).is_some()
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
