//! One entry of a `.bib` load written out so that it stands alone in another
//! file: `@string` macros expanded to their text and `crossref`/`xdata`
//! parents merged in, so that the copy needs neither the abbreviation files
//! nor the parent entry it came with. This is what goes into a manuscript's
//! own `refs.bib` when a paper is carried over from the library.
//!
//! Everything else is kept as the source has it: the entry type, the key,
//! every field (not only those a `Paper` shows) with its raw TeX, in the
//! source's order. Values are checked before they are written: one whose
//! braces do not balance (which would end the entry early or swallow the
//! next one) is written from its display text, escaped; a line break
//! followed by `@` (which tolerant readers, ours included, take as the start
//! of a new entry) is joined into one line.

use super::macros::Macros;
use super::{lower, parse_file, BibSource, ProblemSink, RawEntry, Severity, ValuePart};
use crate::corpus::export::{escape, is_brace_balanced};
use crate::corpus::latex_text::tex_to_unicode;
use std::collections::HashMap;
use std::fmt::Write;

/// How many `crossref` levels are merged (as many as the reader follows).
const MAX_PARENT_DEPTH: usize = 4;

/// Fields a child never takes from a parent: the links themselves, and what
/// names one entry only (biber's default inheritance rules).
const INHERIT_NEVER: &[&str] = &[
    "crossref",
    "xdata",
    "xref",
    "ids",
    "entryset",
    "label",
    "shorthand",
    "sortkey",
    "presort",
    "related",
    "relatedtype",
    "relatedstring",
    "relatedoptions",
    "options",
    "execute",
];

/// Whether a child of this type takes its parent's title as its booktitle
/// (biblatex: the parts of a book or of proceedings).
fn parent_booktitle_applies(entry_type: &str) -> bool {
    matches!(
        entry_type,
        "inproceedings"
            | "conference"
            | "incollection"
            | "inbook"
            | "inreference"
            | "bookinbook"
            | "suppbook"
            | "suppcollection"
    )
}

/// The `@string` macros of a whole load, resolved to raw TeX and owned, so
/// that entries can be expanded long after the load's texts are gone.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MacroTable {
    /// Lower-cased name → raw TeX.
    values: HashMap<String, String>,
}

impl MacroTable {
    /// The macros defined in `sources`, resolved as a load of all of them does.
    pub fn of(sources: &[BibSource<'_>]) -> MacroTable {
        let (parsed, lines) = super::parse_all(sources);
        if parsed.iter().all(|p| p.strings.is_empty()) {
            return MacroTable::default();
        }
        // Problems were reported when the corpus was loaded.
        let mut sink = ProblemSink::new(sources, &lines);
        MacroTable::kept_from(&Macros::resolve(sources, &parsed, &mut sink))
    }

    /// The macros a load resolved, kept after its texts are gone.
    pub(super) fn kept_from(macros: &Macros<'_>) -> MacroTable {
        MacroTable {
            values: macros.owned_values(),
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn get(&self, name: &str) -> Option<&str> {
        let name = lower(name);
        self.values
            .get(name.as_ref())
            .map(String::as_str)
            .or_else(|| super::macros::month(&name))
    }
}

impl super::macros::MacroLookup for MacroTable {
    fn get(&self, name: &str) -> Option<&str> {
        MacroTable::get(self, name)
    }
}

/// A field as it will be written: name and raw TeX value.
struct Field {
    name: String,
    value: String,
}

/// The entry of `entry_text` (the text of one entry, `@type{key, …}`) as a
/// standalone BibTeX entry. `parent_text` gives the text of the entry with a
/// key (for `crossref` and `xdata`), if the load has one. `None` when the
/// text holds no entry with a key, or a broken one.
pub fn standalone_entry(
    entry_text: &str,
    parent_text: &mut dyn FnMut(&str) -> Option<String>,
    macros: &MacroTable,
) -> Option<String> {
    let parsed = parse_file(entry_text);
    // A broken entry is left to the caller, which writes what the loader
    // read from it instead.
    if parsed
        .problems
        .iter()
        .any(|p| p.severity == Severity::Error)
    {
        return None;
    }
    let entry = parsed.entries.first()?;
    let key = entry.key(entry_text)?.to_string();
    let mut fields = own_fields(entry, entry_text, macros);
    merge_parents(
        &mut fields,
        &entry.entry_type,
        parent_text,
        macros,
        0,
        &mut vec![lower(&key).into_owned()],
    );
    fields.retain(|f| f.name != "crossref" && f.name != "xdata");
    let mut out = String::with_capacity(entry_text.len() + 64);
    let _ = writeln!(out, "@{}{{{key},", entry.entry_type);
    for field in &fields {
        let value = safe_value(&field.value);
        let _ = writeln!(out, "  {:<9} = {{{value}}},", field.name);
    }
    out.push_str("}\n");
    Some(out)
}

/// The entry's fields with macros expanded, in the order written; a field
/// repeated keeps its first value, as the reader does.
fn own_fields(entry: &RawEntry<'_>, text: &str, macros: &MacroTable) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::with_capacity(entry.fields.len());
    for field in &entry.fields {
        if fields.iter().any(|f| f.name == field.name) {
            continue;
        }
        let mut value = String::new();
        for part in field.value.parts() {
            match part {
                ValuePart::Text(span) => value.push_str(text.get(span.clone()).unwrap_or("")),
                ValuePart::Macro(span) => {
                    let name = text.get(span.clone()).unwrap_or("");
                    // An undefined macro is written as its name: what the
                    // entry meant is then still there to fix by hand.
                    value.push_str(macros.get(name).unwrap_or(name));
                }
            }
        }
        fields.push(Field {
            name: field.name.to_string(),
            value,
        });
    }
    fields
}

/// Adds the fields of the entry's `crossref` and `xdata` parents that it
/// lacks, the way BibTeX and biber fill them in when both are cited.
fn merge_parents(
    fields: &mut Vec<Field>,
    entry_type: &str,
    parent_text: &mut dyn FnMut(&str) -> Option<String>,
    macros: &MacroTable,
    depth: usize,
    seen: &mut Vec<String>,
) {
    if depth >= MAX_PARENT_DEPTH {
        return;
    }
    let value_of = |fields: &[Field], name: &str| {
        fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.clone())
    };
    let mut parents: Vec<(String, bool)> = Vec::new();
    if let Some(key) = value_of(fields, "crossref") {
        parents.push((key.trim().to_string(), true));
    }
    if let Some(keys) = value_of(fields, "xdata") {
        parents.extend(
            keys.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| (k.to_string(), false)),
        );
    }
    for (key, is_crossref) in parents {
        let folded = key.to_lowercase();
        if seen.contains(&folded) {
            continue;
        }
        seen.push(folded);
        let Some(text) = parent_text(&key) else {
            continue;
        };
        let parsed = parse_file(&text);
        let Some(parent) = parsed.entries.first() else {
            continue;
        };
        let mut inherited = own_fields(parent, &text, macros);
        merge_parents(
            &mut inherited,
            &parent.entry_type,
            parent_text,
            macros,
            depth + 1,
            seen,
        );
        let parent_title = value_of(&inherited, "title");
        for field in inherited {
            let skip = INHERIT_NEVER.contains(&field.name.as_str())
                || fields.iter().any(|f| f.name == field.name);
            if !skip {
                fields.push(field);
            }
        }
        // biblatex gives a child of a book or proceedings the parent's
        // title as its booktitle.
        if is_crossref && parent_booktitle_applies(entry_type) {
            if let (None, Some(title)) = (value_of(fields, "booktitle"), parent_title) {
                fields.push(Field {
                    name: "booktitle".into(),
                    value: title,
                });
            }
        }
    }
}

/// A raw value that cannot break the entry it is written in.
fn safe_value(raw: &str) -> String {
    // A lone CR ends a line for our reader's entry detection too.
    let raw = raw.replace("\r\n", "\n").replace('\r', "\n");
    let value = if is_brace_balanced(&raw) {
        raw
    } else {
        escape(&tex_to_unicode(&raw))
    };
    join_lines_starting_entries(&value)
}

/// `value` with every line break that is followed (after blanks) by `@`
/// replaced by one space.
fn join_lines_starting_entries(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut lines = value.split('\n').peekable();
    while let Some(line) = lines.next() {
        out.push_str(line);
        if let Some(next) = lines.peek() {
            if next.trim_start_matches([' ', '\t']).starts_with('@') {
                out.push(' ');
            } else {
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::bibtex::read_cleanly;
    use std::path::PathBuf;

    /// Every entry of `files` by key, and the macros of all of them.
    fn setup(files: &[(&str, &str)]) -> (HashMap<String, String>, MacroTable) {
        let paths: Vec<PathBuf> = files.iter().map(|(n, _)| PathBuf::from(n)).collect();
        let sources = crate::corpus::bibtex::test_sources(files, &paths);
        let mut entries = HashMap::new();
        for (_, text) in files {
            for entry in parse_file(text).entries {
                if let Some(key) = entry.key(text) {
                    entries.insert(key.to_lowercase(), text[entry.span.clone()].to_string());
                }
            }
        }
        (entries, MacroTable::of(&sources))
    }

    fn standalone(files: &[(&str, &str)], key: &str) -> String {
        let (entries, macros) = setup(files);
        let mut parent = |k: &str| entries.get(&k.to_lowercase()).cloned();
        let text = parent(key).expect("entry");
        standalone_entry(&text, &mut parent, &macros).expect("standalone")
    }

    #[test]
    fn macros_across_files_and_a_crossref_parent_are_folded_in() {
        let abbrev = "@string{lncs = \"Lecture Notes in Computer Science\"}\n\
                      @string{c20 = \"CRYPTO~2020\"}\n@string{c20full = c20 # \", Part I\"}\n";
        let crypto = "@InProceedings{C:Doe20,\n  author = \"Jane Doe\",\n  title = \"{Zero} Knowledge\",\n  \
                      pages = \"1--20\",\n  crossref = \"C:2020-1\",\n}\n\n\
                      @Proceedings{C:2020-1,\n  title = c20full,\n  booktitle = c20full,\n  series = lncs,\n  \
                      volume = 12170,\n  year = 2020,\n  month = aug,\n}\n";
        let out = standalone(&[("abbrev.bib", abbrev), ("crypto.bib", crypto)], "C:Doe20");
        expect_test::expect![[r#"
            @inproceedings{C:Doe20,
              author    = {Jane Doe},
              title     = {{Zero} Knowledge},
              pages     = {1--20},
              booktitle = {CRYPTO~2020, Part I},
              series    = {Lecture Notes in Computer Science},
              volume    = {12170},
              year      = {2020},
              month     = {August},
            }
        "#]]
        .assert_eq(&out);
        let back = read_cleanly(&out);
        assert_eq!(back[0].title, "Zero Knowledge");
        assert_eq!(back[0].venue.as_deref(), Some("CRYPTO 2020, Part I"));
        assert_eq!(back[0].year, Some(2020));
    }

    #[test]
    fn a_biblatex_parent_title_becomes_the_booktitle() {
        let text = "@inproceedings{child, title={Part}, crossref={proc}}\n\
                    @proceedings{proc, title={Proceedings of Things}, date={2021}}\n";
        let out = standalone(&[("refs.bib", text)], "child");
        assert!(out.contains("booktitle = {Proceedings of Things}"), "{out}");
        assert!(out.contains("title     = {Part}"), "{out}");
        assert!(!out.contains("crossref"), "{out}");
    }

    #[test]
    fn a_cycle_of_parents_ends() {
        let text = "@misc{a, title={A}, crossref={b}}\n@misc{b, note={B}, crossref={a}}\n";
        let out = standalone(&[("refs.bib", text)], "a");
        assert!(out.contains("note      = {B}"), "{out}");
        read_cleanly(&out);
    }

    #[test]
    fn values_that_would_end_the_entry_or_start_another_are_defused() {
        // The reader never yields such values (it stops at them), so the
        // defence is tested on the values themselves.
        let value = safe_value("a } b");
        assert!(is_brace_balanced(&value), "{value}");
        // TeX reads the stray brace as grouping; so does the defused value.
        assert_eq!(tex_to_unicode(&value), "a b");
        assert_eq!(safe_value("x\n  @misc{y}"), "x   @misc{y}");
        assert_eq!(safe_value("two\r\nlines"), "two\nlines");
    }

    #[test]
    fn a_broken_entry_is_not_written_from_what_little_was_read() {
        let text = "@misc{evil,\n  title = {a},\n  note = {x\n@misc{smuggled, title={y}}\n";
        let (entries, macros) = setup(&[("refs.bib", text)]);
        assert_eq!(
            standalone_entry(&entries["evil"], &mut |_| None, &macros),
            None
        );
        assert!(standalone_entry(&entries["smuggled"], &mut |_| None, &macros).is_some());
    }

    #[test]
    fn an_undefined_macro_is_kept_by_name() {
        let out = standalone(
            &[("refs.bib", "@article{k, journal = nowhere # { 3}}\n")],
            "k",
        );
        assert!(out.contains("journal   = {nowhere 3}"), "{out}");
    }
}
