//! Raw entries of a whole load turned into `Paper`s: duplicate keys dropped,
//! `crossref` and `xdata` parents merged in, macros expanded, and the fields a
//! paper shows converted from TeX to display text.
//!
//! Only the fields a `Paper` uses are ever expanded and converted; the rest
//! are checked for undefined macros and otherwise left alone, which keeps a
//! 100k-entry load fast.

use super::latex_text::{tex_to_unicode, tex_to_verbatim};
use super::macros::MacroLookup;
use super::names::parse_names;
use super::{
    join, lower, worker_threads, BibSource, ParsedFile, ProblemSink, RawEntry, RawField, Value,
    ValuePart,
};
use super::{KeyOrigin, Origin, Paper};
use crate::corpus::paper::first_year;
use crate::corpus::short_hash::ShortKeys;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// How many `crossref` levels are followed (biblatex allows chains).
const MAX_CROSSREF_DEPTH: usize = 4;

/// The fields a paper is built from, as indices into `Slots`.
#[derive(Clone, Copy)]
enum Slot {
    Title,
    Author,
    Editor,
    Year,
    Date,
    Journal,
    JournalTitle,
    BookTitle,
    HowPublished,
    Publisher,
    Institution,
    School,
    Abstract,
    Doi,
    Eprint,
    ArchivePrefix,
    EprintType,
    Url,
    Crossref,
    Xdata,
}

const SLOT_COUNT: usize = Slot::Xdata as usize + 1;

/// Where the venue comes from, in order of preference.
const VENUE_SLOTS: [Slot; 7] = [
    Slot::Journal,
    Slot::JournalTitle,
    Slot::BookTitle,
    Slot::HowPublished,
    Slot::Publisher,
    Slot::Institution,
    Slot::School,
];

fn slot_of(name: &str) -> Option<Slot> {
    Some(match name {
        "title" => Slot::Title,
        "author" => Slot::Author,
        "editor" => Slot::Editor,
        "year" => Slot::Year,
        "date" => Slot::Date,
        "journal" => Slot::Journal,
        "journaltitle" => Slot::JournalTitle,
        "booktitle" => Slot::BookTitle,
        "howpublished" => Slot::HowPublished,
        "publisher" => Slot::Publisher,
        "institution" => Slot::Institution,
        "school" => Slot::School,
        "abstract" => Slot::Abstract,
        "doi" => Slot::Doi,
        "eprint" => Slot::Eprint,
        "archiveprefix" => Slot::ArchivePrefix,
        "eprinttype" => Slot::EprintType,
        "url" => Slot::Url,
        "crossref" => Slot::Crossref,
        "xdata" => Slot::Xdata,
        _ => return None,
    })
}

/// An entry of the load: source index and entry index.
type EntryRef = (usize, usize);

/// A field and the source its text is in (a parent's field is in the parent's).
type FieldRef<'p> = (usize, &'p RawField<'p>);

type Slots<'p> = [Option<FieldRef<'p>>; SLOT_COUNT];

/// Loads with fewer kept entries than this are converted on one thread.
const ENTRIES_PER_THREAD: usize = 20_000;

/// What ties the entries of a load together besides macros: the keys
/// that more than one entry has (the first is used), and the keys that
/// `crossref` and `xdata` fields name (lower-cased; whether or not an
/// entry has them). A change to an entry with one of these keys is never
/// reloaded on its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    pub duplicated_keys: HashSet<String>,
    pub parent_keys: HashSet<String>,
}

pub(super) fn papers<'p>(
    sources: &'p [BibSource<'p>],
    parsed: &'p [ParsedFile<'p>],
    macros: &'p dyn MacroLookup,
    sink: &mut ProblemSink<'p>,
) -> (Vec<Paper>, Links) {
    let (converter, kept, links) = Converter::linked(sources, parsed, macros, sink);
    let converter = &converter;
    let pieces = (kept.len() / ENTRIES_PER_THREAD).clamp(1, worker_threads());
    if pieces == 1 {
        let papers = kept
            .iter()
            .filter_map(|&e| converter.paper(e, sink))
            .collect();
        return (papers, links);
    }
    let results: Vec<(Vec<Paper>, ProblemSink<'p>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = kept
            .chunks(kept.len().div_ceil(pieces))
            .map(|entries| {
                let mut local = sink.fork();
                scope.spawn(move || {
                    let papers: Vec<Paper> = entries
                        .iter()
                        .filter_map(|&e| converter.paper(e, &mut local))
                        .collect();
                    (papers, local)
                })
            })
            .collect();
        handles.into_iter().map(join).collect()
    });
    let mut papers = Vec::with_capacity(kept.len());
    for (mut part, local) in results {
        papers.append(&mut part);
        sink.absorb(local);
    }
    (papers, links)
}

/// Adds the keys `entry`'s `crossref` and `xdata` fields name, lower-cased.
pub(super) fn add_parent_keys(
    keys: &mut HashSet<String>,
    entry: &RawEntry<'_>,
    text: &str,
    macros: &dyn MacroLookup,
) {
    if let Some(field) = entry.field("crossref") {
        keys.insert(lower(expand(text, &field.value, macros).trim()).into_owned());
    }
    if let Some(field) = entry.field("xdata") {
        let names = expand(text, &field.value, macros);
        for key in names.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            keys.insert(lower(key).into_owned());
        }
    }
}

/// A value's raw TeX (in `text`) with macros expanded; an undefined macro
/// stands for its own name.
pub(super) fn expand<'a>(
    text: &'a str,
    value: &Value,
    macros: &'a dyn MacroLookup,
) -> Cow<'a, str> {
    let piece = |part: &ValuePart| -> &'a str {
        match part {
            ValuePart::Text(span) => &text[span.clone()],
            ValuePart::Macro(span) => {
                let name = &text[span.clone()];
                macros.get(name).unwrap_or(name)
            }
        }
    };
    let mut parts = value.parts();
    let first = parts.next().map_or("", piece);
    match parts.next() {
        None => Cow::Borrowed(first),
        Some(second) => {
            let mut joined = String::from(first);
            joined.push_str(piece(second));
            parts.for_each(|part| joined.push_str(piece(part)));
            Cow::Owned(joined)
        }
    }
}

struct Converter<'p> {
    sources: &'p [BibSource<'p>],
    parsed: &'p [ParsedFile<'p>],
    macros: &'p dyn MacroLookup,
    /// Lower-cased key → first entry with it; filled only when some entry
    /// has a parent to look up.
    by_key: HashMap<Cow<'p, str>, EntryRef, ShortKeys>,
}

impl<'p> Converter<'p> {
    /// A converter of the load, the entries it keeps (first of each key),
    /// and the load's links.
    fn linked(
        sources: &'p [BibSource<'p>],
        parsed: &'p [ParsedFile<'p>],
        macros: &'p dyn MacroLookup,
        sink: &mut ProblemSink<'p>,
    ) -> (Converter<'p>, Vec<EntryRef>, Links) {
        let mut converter = Converter {
            sources,
            parsed,
            macros,
            by_key: HashMap::default(),
        };
        let (kept, mut links) = converter.first_of_each_key(sink);
        links.parent_keys = converter.parent_keys();
        (converter, kept, links)
    }

    fn entry(&self, (file, idx): EntryRef) -> &'p RawEntry<'p> {
        &self.parsed[file].entries[idx]
    }

    fn text(&self, file: usize) -> &'p str {
        self.sources[file].text
    }

    /// Entries in load order without later duplicates of a key (warned),
    /// and the keys that had duplicates.
    fn first_of_each_key(&mut self, sink: &mut ProblemSink<'p>) -> (Vec<EntryRef>, Links) {
        let mut links = Links::default();
        let total = self.parsed.iter().map(|p| p.entries.len()).sum();
        let mut first: HashMap<&'p str, EntryRef, ShortKeys> =
            HashMap::with_capacity_and_hasher(total, ShortKeys::default());
        let mut kept = Vec::with_capacity(total);
        let mut has_parents = false;
        for (file, parsed_file) in self.parsed.iter().enumerate() {
            for (idx, entry) in parsed_file.entries.iter().enumerate() {
                has_parents |= entry.field("crossref").is_some() || entry.field("xdata").is_some();
                let Some(key) = entry.key(self.text(file)) else {
                    kept.push((file, idx));
                    continue;
                };
                match first.get(key) {
                    Some(&original) => {
                        links.duplicated_keys.insert(key.to_string());
                        self.warn_duplicate(key, (file, idx), original, sink);
                    }
                    None => {
                        first.insert(key, (file, idx));
                        kept.push((file, idx));
                    }
                }
            }
        }
        if has_parents {
            for &(file, idx) in &kept {
                if let Some(key) = self.entry((file, idx)).key(self.text(file)) {
                    self.by_key.entry(lower(key)).or_insert((file, idx));
                }
            }
        }
        (kept, links)
    }

    /// The keys `crossref` and `xdata` fields name, lower-cased, as
    /// [`Converter::parent`] and [`Converter::slots`] look them up.
    fn parent_keys(&self) -> HashSet<String> {
        let mut keys = HashSet::new();
        for (file, parsed_file) in self.parsed.iter().enumerate() {
            for entry in &parsed_file.entries {
                add_parent_keys(&mut keys, entry, self.text(file), self.macros);
            }
        }
        keys
    }

    fn warn_duplicate(
        &self,
        key: &str,
        duplicate: EntryRef,
        original: EntryRef,
        sink: &mut ProblemSink<'p>,
    ) {
        let line = self.entry(original).line;
        let place = if original.0 == duplicate.0 {
            format!("line {line}")
        } else {
            format!("{} line {line}", self.sources[original.0].path.display())
        };
        let message =
            format!("duplicate key `{key}`: the entry on {place} is used and this one ignored");
        sink.warn(duplicate.0, self.entry(duplicate).span.start, message);
    }

    /// The paper of one entry; `None` for entries that are not papers.
    fn paper(&self, entry_ref: EntryRef, sink: &mut ProblemSink<'p>) -> Option<Paper> {
        let entry = self.entry(entry_ref);
        self.check_macros(entry_ref, sink);
        // biblatex's `@xdata` entries are field containers, never cited.
        if entry.entry_type == "xdata" {
            return None;
        }
        let slots = self.slots(entry_ref, 0, sink);
        let (file, _) = entry_ref;
        let text = self.text(file);
        let mut paper = Paper::titled(
            self.display(&slots, Slot::Title).unwrap_or_default(),
            &entry.entry_type,
        );
        if let Some(key) = entry.key(text) {
            paper.key = key.to_string();
            paper.key_origin = KeyOrigin::Source;
        }
        let names = slots[Slot::Author as usize].or(slots[Slot::Editor as usize]);
        paper.authors = names.map_or_else(Vec::new, |field| parse_names(&self.expand(field)));
        paper.authors_are_editors =
            slots[Slot::Author as usize].is_none() && !paper.authors.is_empty();
        paper.year = [Slot::Year, Slot::Date].iter().find_map(|&slot| {
            slots[slot as usize].and_then(|field| first_year(&self.expand(field)))
        });
        paper.venue = VENUE_SLOTS
            .iter()
            .find_map(|&slot| self.display(&slots, slot));
        paper.abstract_text = self.display(&slots, Slot::Abstract);
        paper.ids.doi = self
            .verbatim(&slots, Slot::Doi)
            .map(|doi| strip_doi_prefix(&doi).to_string());
        paper.ids.url = self.verbatim(&slots, Slot::Url);
        paper.ids.arxiv = self.arxiv_id(&slots, paper.ids.doi.as_deref(), paper.ids.url.as_deref());
        paper.origin = Origin {
            file: self.sources[file].file,
            line: entry.line,
            span: entry.span.clone(),
            key_span: entry.key_span.clone(),
            key_columns: None,
        };
        Some(paper)
    }

    /// The entry's own fields, then what it inherits from its parents.
    fn slots(&self, entry_ref: EntryRef, depth: usize, sink: &mut ProblemSink<'p>) -> Slots<'p> {
        let entry = self.entry(entry_ref);
        let mut slots: Slots<'p> = [None; SLOT_COUNT];
        for field in &entry.fields {
            if let Some(slot) = slot_of(&field.name) {
                slots[slot as usize].get_or_insert((entry_ref.0, field));
            }
        }
        if depth >= MAX_CROSSREF_DEPTH {
            return slots;
        }
        if let Some(parent) = self.parent(entry_ref, slots[Slot::Crossref as usize], depth, sink) {
            let inherited = self.slots(parent, depth + 1, sink);
            // biblatex maps a proceedings' or book's title to the child's
            // booktitle; BibTeX-style parents carry a booktitle themselves.
            let book_title =
                inherited[Slot::BookTitle as usize].or(inherited[Slot::Title as usize]);
            inherit(&mut slots, &inherited);
            slots[Slot::BookTitle as usize] = slots[Slot::BookTitle as usize].or(book_title);
        }
        if let Some(field) = slots[Slot::Xdata as usize] {
            let keys = self.expand(field);
            for key in keys.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                match self.by_key.get(lower(key).as_ref()) {
                    Some(&parent) if parent != entry_ref => {
                        let inherited = self.slots(parent, depth + 1, sink);
                        inherit(&mut slots, &inherited);
                    }
                    Some(_) => {}
                    None if depth == 0 => self.warn_missing(entry_ref, "xdata", key, field, sink),
                    None => {}
                }
            }
        }
        slots
    }

    /// The entry named by a `crossref` field; warns (for the entry being
    /// converted, not for ancestors) when there is none.
    fn parent(
        &self,
        child: EntryRef,
        crossref: Option<FieldRef<'p>>,
        depth: usize,
        sink: &mut ProblemSink<'p>,
    ) -> Option<EntryRef> {
        let field = crossref?;
        let key = self.expand(field);
        let key = key.trim();
        match self.by_key.get(lower(key).as_ref()) {
            Some(&parent) if parent != child => Some(parent),
            Some(_) => None,
            None => {
                if depth == 0 {
                    self.warn_missing(child, "crossref", key, field, sink);
                }
                None
            }
        }
    }

    fn warn_missing(
        &self,
        child: EntryRef,
        link: &str,
        key: &str,
        (file, field): FieldRef<'p>,
        sink: &mut ProblemSink<'p>,
    ) {
        let name = self.entry(child).key(self.text(file)).unwrap_or("");
        let message = format!("entry `{name}` has {link} `{key}`, but no entry has that key");
        sink.warn(file, field.value.span.start, message);
    }

    /// Warns about every macro the entry's own fields use but nobody defines.
    fn check_macros(&self, entry_ref: EntryRef, sink: &mut ProblemSink<'p>) {
        let (file, _) = entry_ref;
        let entry = self.entry(entry_ref);
        let text = self.text(file);
        for field in &entry.fields {
            for part in field.value.parts() {
                let ValuePart::Macro(span) = part else {
                    continue;
                };
                let name = &text[span.clone()];
                if self.macros.get(name).is_none() {
                    let key = entry.key(text).unwrap_or("");
                    let message = format!(
                        "undefined macro `{name}` in field `{}` of entry `{key}`",
                        field.name
                    );
                    sink.warn(file, span.start, message);
                }
            }
        }
    }

    /// The field's raw TeX with macros expanded (an undefined macro stands
    /// for its own name).
    fn expand(&self, (file, field): FieldRef<'p>) -> Cow<'p, str> {
        expand(self.text(file), &field.value, self.macros)
    }

    /// Display text of a slot, `None` when absent or empty.
    fn display(&self, slots: &Slots<'p>, slot: Slot) -> Option<String> {
        let text = tex_to_unicode(&self.expand(slots[slot as usize]?));
        (!text.is_empty()).then_some(text)
    }

    /// Identifier text of a slot (escapes and braces removed), `None` when
    /// absent or empty.
    fn verbatim(&self, slots: &Slots<'p>, slot: Slot) -> Option<String> {
        let text = tex_to_verbatim(&self.expand(slots[slot as usize]?));
        (!text.is_empty()).then_some(text)
    }

    /// The arXiv id from `eprint` (when the archive is arXiv), else from an
    /// arxiv.org URL, else from an arXiv DOI (`10.48550/arXiv.2101.00001`).
    fn arxiv_id(&self, slots: &Slots<'p>, doi: Option<&str>, url: Option<&str>) -> Option<String> {
        let is_arxiv = [Slot::ArchivePrefix, Slot::EprintType].iter().any(|&slot| {
            self.verbatim(slots, slot)
                .is_some_and(|archive| archive.eq_ignore_ascii_case("arxiv"))
        });
        if is_arxiv {
            if let Some(eprint) = self.verbatim(slots, Slot::Eprint) {
                return Some(strip_prefix_ignore_case(&eprint, "arxiv:").to_string());
            }
        }
        if let Some(id) = url.and_then(arxiv_id_in_url) {
            return Some(id);
        }
        let id = doi.and_then(|doi| strip_prefix_ignore_case_opt(doi, "10.48550/arxiv."))?;
        (!id.is_empty()).then(|| id.to_string())
    }
}

/// Fills the child's empty slots from a parent's, except the links
/// themselves (a child never inherits its parent's `crossref` or `xdata`).
fn inherit<'p>(child: &mut Slots<'p>, parent: &Slots<'p>) {
    for (idx, slot) in child.iter_mut().enumerate() {
        if idx != Slot::Crossref as usize && idx != Slot::Xdata as usize && slot.is_none() {
            *slot = parent[idx];
        }
    }
}

fn strip_doi_prefix(doi: &str) -> &str {
    [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi:",
    ]
    .iter()
    .find_map(|prefix| strip_prefix_ignore_case_opt(doi, prefix))
    .unwrap_or(doi)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> &'a str {
    strip_prefix_ignore_case_opt(text, prefix).unwrap_or(text)
}

fn strip_prefix_ignore_case_opt<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `https://arxiv.org/abs/2101.00001v2` → `2101.00001v2` (also `/pdf/...pdf`).
fn arxiv_id_in_url(url: &str) -> Option<String> {
    let lowered = url.to_ascii_lowercase();
    let start = ["arxiv.org/abs/", "arxiv.org/pdf/"]
        .iter()
        .find_map(|marker| lowered.find(marker).map(|at| at + marker.len()))?;
    let rest = &url[start..];
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let id = rest[..end].trim_end_matches('/');
    let id = id.strip_suffix(".pdf").unwrap_or(id);
    (!id.is_empty()).then(|| id.to_string())
}
