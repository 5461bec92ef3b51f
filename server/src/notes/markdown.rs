//! Pandoc citations in Markdown notes (`.md`, `.qmd`, `.Rmd`).
//!
//! Two hand-written passes and a grammar. The block pass (`blocks`) cuts the
//! text into runs of prose (paragraphs and headings), leaving out YAML front
//! matter, fenced and indented code, and HTML comment blocks. The inline
//! pass (`inline`) turns one run into tokens (`[`, `]`, `;` and citation
//! keys), skipping code spans, inline comments, autolinks, bare URLs, link
//! destinations and backslash escapes. Pandoc's citation-list grammar
//! (`citeList`, `bareloc`) is then applied to the tokens here, so a `;` or
//! `]` inside code never splits a citation.
//!
//! Key syntax follows pandoc's own parser (`citeKey`,
//! `simpleCiteIdentifier`), not a regex: a key starts with a letter, digit or
//! `_` and goes on with alphanumerics, `_`, and single internal punctuation
//! from `:.#$%&-+?<>~/` (plus pandoc's exception that `:` or `/` may precede
//! a `/`, so `@http://x` reads as one key); `@{...}` takes anything without
//! spaces, braces balanced. An `@` right after a word (`me@example.com`,
//! `x.@key`) is not a citation. Quarto cross-references (`@fig-x`, `@sec-x`,
//! ...) are parsed as keys but never reported.
//!
//! Key completion applies wherever a key token starts before the cursor and
//! only key characters lie between: `[@gro`, `[see @`, `; @`, `-@`, `@{...`,
//! bracket closed or not. Typing `@fig` is still a context (a key may start
//! with "fig"); once `fig-` is typed it is a cross-reference and is not.
//!
//! This is not a Markdown renderer: it recognises only what decides whether
//! an `@` is a citation, and approximates containers (see `blocks`).

mod blocks;
mod inline;

use super::{Citation, CitationForm, KeyContext};
use inline::{is_regchar, tokens, Tok, KEY_PUNCT};
use std::ops::Range;

pub(crate) use blocks::{front_matter, prose_runs};

/// Quarto cross-reference kinds: `@fig-x` refers to a figure, not a paper.
const CROSSREF_PREFIXES: &[&str] = &[
    "fig", "tbl", "sec", "eq", "lst", "thm", "lem", "cor", "prp", "cnj", "def", "exm", "exr",
    "sol", "rem", "tip", "nte", "wrn", "imp", "cau",
];

/// Every pandoc citation in a Markdown text, in document order.
pub(crate) fn citations(text: &str) -> Vec<Citation> {
    let mut out = Vec::new();
    for run in blocks::prose_runs(text) {
        citations_in_run(text, run, &mut out);
    }
    out
}

/// The partial key around `offset` when the cursor is in a citation key.
/// `offset` is a char boundary within `text`.
pub(crate) fn key_context_at(text: &str, offset: usize) -> Option<KeyContext> {
    let run = blocks::prose_runs(text)
        .into_iter()
        .find(|r| r.start <= offset && offset <= r.end)?;
    let toks = tokens(text, run);
    // The `@` nearest before the cursor; anything between it and the cursor
    // decides whether the cursor is still in its key.
    let key = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Key(k) if k.start < offset => Some(k),
            _ => None,
        })
        .next_back()?;
    if key.key.start > offset {
        return None;
    }
    let typed = &text[key.key.start..offset];
    let range = match key.braced {
        Some(closed) => {
            if offset > key.key.end || (!closed && typed.contains(char::is_whitespace)) {
                return None;
            }
            key.key.clone()
        }
        None => {
            if !is_partial_simple_key(typed) || is_crossref(typed) {
                return None;
            }
            key.key.start..key.key.end.max(offset)
        }
    };
    Some(KeyContext {
        range,
        typed: typed.to_string(),
    })
}

/// Whether a user could be half-way through typing a simple key: a valid
/// first character, then key characters or punctuation (trailing or not).
fn is_partial_simple_key(typed: &str) -> bool {
    let mut chars = typed.chars();
    match chars.next() {
        None => true,
        Some(first) => is_regchar(first) && chars.all(|c| is_regchar(c) || KEY_PUNCT.contains(c)),
    }
}

fn is_crossref(key: &str) -> bool {
    key.split_once('-')
        .is_some_and(|(prefix, _)| CROSSREF_PREFIXES.contains(&prefix))
}

/// Applies pandoc's citation grammar to one prose run's tokens and appends
/// the keys it finds.
fn citations_in_run(text: &str, run: Range<usize>, out: &mut Vec<Citation>) {
    let toks = tokens(text, run);
    let roles = key_roles(text, &toks);
    for (t, role) in toks.iter().zip(roles) {
        let Tok::Key(key) = t else { continue };
        let name = &text[key.key.clone()];
        if !key.is_complete() || name == "*" || (key.braced.is_none() && is_crossref(name)) {
            continue;
        }
        let suppress_author = key.suppress_author;
        out.push(Citation {
            key: name.to_string(),
            range: key.key.clone(),
            whole: role.whole,
            form: if role.bracketed {
                CitationForm::Bracketed { suppress_author }
            } else {
                CitationForm::InText { suppress_author }
            },
        });
    }
}

/// What the grammar made of a key token.
#[derive(Clone, Debug, Default)]
struct KeyRole {
    /// The whole citation: the bracketed list, or the in-text key with its
    /// locator.
    whole: Range<usize>,
    bracketed: bool,
}

/// The role of every token (meaningful for key tokens only).
fn key_roles(text: &str, toks: &[Tok]) -> Vec<KeyRole> {
    let partner = match_brackets(toks);
    let mut roles: Vec<KeyRole> = toks
        .iter()
        .map(|t| match t {
            Tok::Key(k) => KeyRole {
                whole: k.start..k.end,
                bracketed: false,
            },
            _ => KeyRole::default(),
        })
        .collect();
    let mut is_citation_group = vec![false; toks.len()];
    for (a, t) in toks.iter().enumerate() {
        let (
            Tok::Open {
                at,
                after_caret: false,
            },
            Some(b),
        ) = (t, partner[a])
        else {
            continue;
        };
        let Some(keys) = citation_items(text, toks, &partner, a + 1, b) else {
            continue;
        };
        is_citation_group[a] = true;
        let close = token_at(&toks[b]);
        for k in keys {
            roles[k] = KeyRole {
                whole: *at..close + 1,
                bracketed: true,
            };
        }
    }
    for (k, role) in roles.iter_mut().enumerate() {
        if !role.bracketed {
            if let Some(end) = bare_locator(text, toks, &partner, &is_citation_group, k) {
                role.whole.end = end;
            }
        }
    }
    roles
}

fn token_at(t: &Tok) -> usize {
    match t {
        Tok::Open { at, .. } | Tok::Close(at) | Tok::Semi(at) => *at,
        Tok::Key(k) => k.start,
    }
}

/// For each `[` token, the index of its `]`; unmatched brackets get `None`.
fn match_brackets(toks: &[Tok]) -> Vec<Option<usize>> {
    let mut partner = vec![None; toks.len()];
    let mut stack = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Open { .. } => stack.push(i),
            Tok::Close(_) => {
                if let Some(o) = stack.pop() {
                    partner[o] = Some(i);
                    partner[i] = Some(o);
                }
            }
            _ => {}
        }
    }
    partner
}

fn complete_key(t: &Tok) -> bool {
    matches!(t, Tok::Key(k) if k.is_complete())
}

/// Pandoc's `citeList` over tokens `from..to` (the inside of a bracket):
/// items separated by `;`, each a prefix, a key, and a suffix. Returns the
/// keys (the suffixes' in-text keys included), or `None` when the brackets
/// are not a citation. Nested brackets count as opaque prefix or suffix.
fn citation_items(
    text: &str,
    toks: &[Tok],
    partner: &[Option<usize>],
    from: usize,
    to: usize,
) -> Option<Vec<usize>> {
    let mut keys = Vec::new();
    let mut j = from;
    loop {
        // Prefix: anything up to the item's key. Pandoc stops a prefix
        // before `; @key`, and the item then fails, so that is a failure.
        loop {
            if j >= to {
                return None;
            }
            match &toks[j] {
                t if complete_key(t) => break,
                Tok::Semi(at) if next_key_follows(text, toks, j, to, at + 1) => return None,
                Tok::Open { .. } => j = partner[j].map_or(j + 1, |p| p + 1),
                _ => j += 1,
            }
        }
        keys.push(j);
        j += 1;
        // Suffix: up to the next `;` or the closing bracket.
        loop {
            if j >= to {
                return Some(keys);
            }
            match &toks[j] {
                Tok::Semi(_) => {
                    j += 1;
                    break;
                }
                t if complete_key(t) => {
                    keys.push(j);
                    j += 1;
                }
                Tok::Open { .. } => j = partner[j].map_or(j + 1, |p| p + 1),
                _ => j += 1,
            }
        }
    }
}

fn next_key_follows(text: &str, toks: &[Tok], j: usize, to: usize, from: usize) -> bool {
    match toks.get(j + 1) {
        Some(Tok::Key(k)) if j + 1 < to && k.is_complete() => is_spnl(&text[from..k.start]),
        _ => false,
    }
}

/// Pandoc's `spnl`: spaces with at most one line break among them.
fn is_spnl(s: &str) -> bool {
    s.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')) && s.matches('\n').count() <= 1
}

/// Pandoc's `bareloc`: the end of `[p. 33]` after the in-text key at token
/// `k`, when such a locator follows it.
fn bare_locator(
    text: &str,
    toks: &[Tok],
    partner: &[Option<usize>],
    is_citation_group: &[bool],
    k: usize,
) -> Option<usize> {
    let Tok::Key(key) = &toks[k] else { return None };
    let Some(Tok::Open { at, .. }) = toks.get(k + 1) else {
        return None;
    };
    let close = partner[k + 1]?;
    let close_at = token_at(&toks[close]);
    let bytes = text.as_bytes();
    if !key.is_complete()
        || is_citation_group[k + 1]
        || !is_spnl(&text[key.end..*at])
        || bytes.get(at + 1) == Some(&b'^')
        || matches!(bytes.get(close_at + 1), Some(b'[' | b'('))
    {
        return None;
    }
    // The locator is a suffix up to the first `;`; what follows a `;` must
    // be a citation list.
    let mut j = k + 2;
    while j < close {
        match &toks[j] {
            Tok::Semi(_) => {
                citation_items(text, toks, partner, j + 1, close)?;
                break;
            }
            Tok::Open { .. } => j = partner[j].map_or(j + 1, |p| p + 1),
            _ => j += 1,
        }
    }
    Some(close_at + 1)
}

#[cfg(test)]
mod tests;
