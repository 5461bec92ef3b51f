//! `@string` macros of a whole load, resolved once to their raw TeX text.
//!
//! Definitions are taken in file order and a later one wins, because that is
//! what BibTeX does with `\bibliography{abbrev3,crypto}` when it reads the
//! files one after another; only a redefinition within one file is worth a
//! warning (across files, overriding an abbreviation set is the point). A
//! macro's value may use other macros, resolved recursively with a guard
//! against cycles. The month names `jan`…`dec` are predefined, as in BibTeX.

use super::{lower, BibSource, ParsedFile, ProblemSink, Severity, StringDef, ValuePart};
use crate::corpus::short_hash::ShortKeys;
use std::collections::HashMap;

/// How deep macro definitions may nest before we assume something is wrong.
const MAX_DEPTH: usize = 64;

const MONTHS: [(&str, &str); 12] = [
    ("jan", "January"),
    ("feb", "February"),
    ("mar", "March"),
    ("apr", "April"),
    ("may", "May"),
    ("jun", "June"),
    ("jul", "July"),
    ("aug", "August"),
    ("sep", "September"),
    ("oct", "October"),
    ("nov", "November"),
    ("dec", "December"),
];

/// Macro values by name, however they were resolved: during a load, or
/// kept from one ([`super::MacroTable`]).
pub(super) trait MacroLookup: Sync {
    /// The raw TeX of macro `name` (any case), if it is defined.
    fn get(&self, name: &str) -> Option<&str>;
}

impl MacroLookup for Macros<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        Macros::get(self, name)
    }
}

pub(super) struct Macros<'p> {
    /// Lower-cased name → index into `defs` of the definition in force.
    by_name: HashMap<&'p str, usize, ShortKeys>,
    /// Every definition, with the index of its source.
    defs: Vec<(usize, &'p StringDef<'p>)>,
    /// Resolved raw TeX of each definition in force (empty for overridden ones).
    values: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Unresolved,
    Resolving,
    Resolved,
}

impl<'p> Macros<'p> {
    pub(super) fn resolve(
        sources: &'p [BibSource<'p>],
        parsed: &'p [ParsedFile<'p>],
        sink: &mut ProblemSink<'_>,
    ) -> Self {
        let mut macros = Macros {
            by_name: HashMap::default(),
            defs: Vec::new(),
            values: Vec::new(),
        };
        for (file, parsed_file) in parsed.iter().enumerate() {
            for def in &parsed_file.strings {
                macros.define(file, def, sink);
            }
        }
        macros.values = vec![String::new(); macros.defs.len()];
        let state = vec![State::Unresolved; macros.defs.len()];
        let mut resolver = Resolver {
            macros: &mut macros,
            sources,
            state,
            problems: Vec::new(),
        };
        for idx in 0..resolver.macros.defs.len() {
            if resolver.in_force(idx) {
                resolver.resolve(idx, 0);
            }
        }
        for (file, offset, severity, message) in resolver.problems {
            sink.push(file, offset, severity, message);
        }
        macros
    }

    fn define(&mut self, file: usize, def: &'p StringDef<'p>, sink: &mut ProblemSink<'_>) {
        let idx = self.defs.len();
        self.defs.push((file, def));
        if let Some(previous) = self.by_name.insert(def.name.as_ref(), idx) {
            let (previous_file, previous_def) = self.defs[previous];
            if previous_file == file {
                let line = sink.line(file, previous_def.name_span.start);
                let message = format!(
                    "macro `{}` is redefined (first defined on line {line}); the later value is used",
                    def.name
                );
                sink.warn(file, def.name_span.start, message);
            }
        }
    }

    /// Every macro in force, by lower-cased name, as owned raw TeX.
    pub(super) fn owned_values(&self) -> HashMap<String, String> {
        self.by_name
            .iter()
            .map(|(name, &idx)| (name.to_string(), self.values[idx].clone()))
            .collect()
    }

    /// The raw TeX of macro `name` (any case), if it is defined.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        let name = lower(name);
        match self.by_name.get(name.as_ref()) {
            Some(&idx) => Some(&self.values[idx]),
            None => month(&name),
        }
    }
}

pub(super) fn month(name: &str) -> Option<&'static str> {
    MONTHS
        .iter()
        .find(|(short, _)| *short == name)
        .map(|(_, long)| *long)
}

struct Resolver<'m, 'p> {
    macros: &'m mut Macros<'p>,
    sources: &'p [BibSource<'p>],
    state: Vec<State>,
    /// Source index, offset, severity and message of each problem found.
    problems: Vec<(usize, usize, Severity, String)>,
}

impl Resolver<'_, '_> {
    fn in_force(&self, idx: usize) -> bool {
        let (_, def) = self.macros.defs[idx];
        self.macros.by_name.get(def.name.as_ref()) == Some(&idx)
    }

    /// Fills `values[idx]`, resolving the macros it uses first.
    fn resolve(&mut self, idx: usize, depth: usize) {
        if self.state[idx] != State::Unresolved {
            return;
        }
        self.state[idx] = State::Resolving;
        let (file, def) = self.macros.defs[idx];
        let text = self.sources[file].text;
        let mut value = String::new();
        for part in def.value.parts() {
            match part {
                ValuePart::Text(span) => value.push_str(&text[span.clone()]),
                ValuePart::Macro(span) => {
                    let name = &text[span.clone()];
                    let used = self.used_value(name, idx, depth);
                    value.push_str(used.as_deref().unwrap_or(name));
                }
            }
        }
        self.macros.values[idx] = value;
        self.state[idx] = State::Resolved;
    }

    /// The value of macro `name` used in definition `user`, or `None` (with
    /// a problem recorded) when it is undefined, cyclic or nested too deep.
    fn used_value(&mut self, name: &str, user: usize, depth: usize) -> Option<String> {
        let (file, def) = self.macros.defs[user];
        let offset = def.name_span.start;
        let lowered = lower(name);
        let Some(&dep) = self.macros.by_name.get(lowered.as_ref()) else {
            if let Some(long) = month(&lowered) {
                return Some(long.to_string());
            }
            let message = format!("undefined macro `{name}` in `@string` `{}`", def.name);
            self.problems
                .push((file, offset, Severity::Warning, message));
            return None;
        };
        if self.state[dep] == State::Resolving {
            let message = format!(
                "macro `{}` is defined in terms of itself (through `{name}`)",
                def.name
            );
            self.problems.push((file, offset, Severity::Error, message));
            return None;
        }
        if depth >= MAX_DEPTH {
            let message = format!("macros nested more than {MAX_DEPTH} deep at `{}`", def.name);
            self.problems.push((file, offset, Severity::Error, message));
            return None;
        }
        self.resolve(dep, depth + 1);
        Some(self.macros.values[dep].clone())
    }
}
