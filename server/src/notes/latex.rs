//! natbib and biblatex cite commands in LaTeX notes (`.tex`).
//!
//! A hand-written scanner over control words that skips what TeX would not
//! read as commands: comments (an unescaped `%` to the end of the line),
//! `\verb` with any delimiter, and verbatim-like environments (`verbatim`,
//! `Verbatim`, `lstlisting`, `minted`, `comment`, `filecontents`). A cite
//! command is one of the natbib/biblatex family, starred or capitalised,
//! then optional `[pre][post]` arguments (brackets inside braces do not end
//! them), then a `{key, key}` group; multi-cite commands (`\cites`,
//! `\parencites`, ...) take an optional `(pre)(post)` and then any number of
//! `[pre][post]{keys}` groups, every one of which counts. A key is any run
//! of characters other than whitespace, `,`, `{`, `}` and `%`.
//!
//! A key group whose `}` is missing (still being typed) yields no
//! citations; for completion it reaches to the end of the line it opens on,
//! or to a `{`, `\` or blank line before that.
//!
//! This is not a TeX interpreter: macros are not expanded, so a cite command
//! hidden behind a user macro is not seen, and `\makeatletter` catcode games
//! are ignored. The scanning helpers are shared with `bibliography`.

use super::{Citation, CitationForm, KeyContext};
use std::ops::Range;

/// Commands that take one key group (lower-case forms; a capitalised form
/// such as `\Citet` or `\Parencite` is accepted for each).
const CITE_COMMANDS: &[&str] = &[
    "cite",
    "citep",
    "citet",
    "citealp",
    "citealt",
    "citeauthor",
    "citeyear",
    "citeyearpar",
    "citetitle",
    "parencite",
    "textcite",
    "autocite",
    "footcite",
    "footcitetext",
    "smartcite",
    "supercite",
    "fullcite",
    "footfullcite",
    "nocite",
    "citenum",
    "citeurl",
    "citedate",
    "citepalias",
    "citetalias",
];

/// biblatex commands that take several `[pre][post]{keys}` groups.
const MULTI_CITE_COMMANDS: &[&str] = &[
    "cites",
    "parencites",
    "textcites",
    "autocites",
    "footcites",
    "footcitetexts",
    "smartcites",
    "supercites",
];

/// The longest `[...]` or `(...)` argument looked for. Pre- and postnotes
/// are short; the bound keeps a document full of unclosed `\cite[` fast.
const MAX_ARGUMENT: usize = 1024;

/// Environments whose body TeX reads as text, not commands.
pub(crate) const VERBATIM_ENVIRONMENTS: &[&str] = &[
    "verbatim",
    "verbatim*",
    "Verbatim",
    "Verbatim*",
    "BVerbatim",
    "LVerbatim",
    "lstlisting",
    "minted",
    "comment",
    "filecontents",
    "filecontents*",
];

/// Every key of every cite command in a LaTeX text, in document order.
/// Key groups whose closing brace is missing are left out: they are still
/// being typed. A cite command inside another's note
/// (`\autocite[see \cite{b}]{a}`) counts too, and a key group two commands
/// reach (`\cite[\cite[]{a}`) belongs to the first.
pub(crate) fn citations(text: &str) -> Vec<Citation> {
    let mut out = Vec::new();
    for cmd in cite_commands(text) {
        for group in cmd.groups.iter().filter(|g| g.closed) {
            for item in &group.items {
                let key = &text[item.clone()];
                // `\nocite{*}` adds the whole bibliography, and `#1` is a
                // macro parameter in a definition: neither is a key.
                if key == "*" || key.starts_with('#') {
                    continue;
                }
                out.push(Citation {
                    key: key.to_string(),
                    range: item.clone(),
                    whole: cmd.whole.clone(),
                    form: CitationForm::Command(cmd.name.clone()),
                });
            }
        }
    }
    // Commands come in the order they start, so a nested one's keys come
    // after the enclosing command's; a stable sort keeps the first of a
    // shared group.
    out.sort_by_key(|c| c.range.start);
    out.dedup_by(|later, first| later.range == first.range);
    out
}

/// The partial key around `offset` when the cursor is inside the key group
/// of a cite command, closed or not. `offset` is a char boundary in `text`.
pub(crate) fn key_context_at(text: &str, offset: usize) -> Option<KeyContext> {
    let group = cite_commands(text)
        .take_while(|cmd| cmd.whole.start < offset)
        .flat_map(|cmd| cmd.groups)
        .find(|g| g.inner.start <= offset && offset <= g.inner.end)?;
    if group
        .comments
        .iter()
        .any(|c| c.start < offset && offset <= c.end)
    {
        return None;
    }
    let text_in = &text[group.inner.clone()];
    let at = offset - group.inner.start;
    let start = text_in[..at]
        .rfind(|c: char| !is_key_char(c))
        .map_or(0, |p| p + 1);
    let end = text_in[at..]
        .find(|c: char| !is_key_char(c))
        .map_or(text_in.len(), |p| at + p);
    Some(KeyContext {
        range: group.inner.start + start..group.inner.start + end,
        typed: text_in[start..at].to_string(),
    })
}

fn is_key_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, ',' | '{' | '}' | '%')
}

/// A cite command: its name (without backslash, with its star), the bytes
/// from the backslash to the end of its last key group, and its key groups.
struct CiteCommand {
    name: String,
    whole: Range<usize>,
    groups: Vec<KeyGroup>,
}

fn cite_commands(text: &str) -> impl Iterator<Item = CiteCommand> + '_ {
    control_words(text).filter_map(move |cw| cite_command(text, &cw))
}

fn cite_command(text: &str, cw: &ControlWord) -> Option<CiteCommand> {
    let base = &text[cw.name.clone()];
    let lower = lower_first(base);
    let multi = MULTI_CITE_COMMANDS.contains(&lower.as_str());
    if !multi && !CITE_COMMANDS.contains(&lower.as_str()) {
        return None;
    }
    let mut pos = cw.name.end;
    if text[pos..].starts_with('*') {
        pos += 1;
    }
    let name = text[cw.name.start..pos].to_string();
    if multi {
        pos = skip_arguments(text, pos, b'(', b')');
    }
    let mut groups: Vec<KeyGroup> = Vec::new();
    loop {
        let open = skip_space(text, skip_arguments(text, pos, b'[', b']'));
        if text.as_bytes().get(open) != Some(&b'{') {
            break;
        }
        let group = key_group(text, open);
        let closed = group.closed;
        pos = group.end;
        groups.push(group);
        if !multi || !closed {
            break;
        }
    }
    let last = groups.last()?;
    Some(CiteCommand {
        name,
        whole: cw.start..last.end,
        groups,
    })
}

/// `Citep` → `citep`; other names unchanged.
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_ascii_lowercase().to_string() + chars.as_str()
    })
}

/// A control word (`\` and ASCII letters) that TeX would read as a command:
/// not in a comment, not in verbatim text.
pub(crate) struct ControlWord {
    /// The backslash.
    pub start: usize,
    /// The letters of the name.
    pub name: Range<usize>,
}

/// The control words of a text in order, comments and verbatim skipped.
pub(crate) fn control_words(text: &str) -> impl Iterator<Item = ControlWord> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let bytes = text.as_bytes();
        while let Some(p) = bytes[pos..].iter().position(|&b| b == b'\\' || b == b'%') {
            let i = pos + p;
            if bytes[i] == b'%' {
                pos = line_end(text, i);
                continue;
            }
            let name_end = i
                + 1
                + bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphabetic())
                    .count();
            if name_end == i + 1 {
                // A control symbol such as `\%` or `\\`: skip its character.
                pos = i + 1 + text[i + 1..].chars().next().map_or(0, char::len_utf8);
                continue;
            }
            pos = name_end;
            match &text[i + 1..name_end] {
                "verb" => pos = skip_verb(text, name_end),
                "begin" => match skip_verbatim_environment(text, name_end) {
                    Some(after) => pos = after,
                    None => {
                        return Some(ControlWord {
                            start: i,
                            name: i + 1..name_end,
                        })
                    }
                },
                _ => {
                    return Some(ControlWord {
                        start: i,
                        name: i + 1..name_end,
                    })
                }
            }
        }
        pos = text.len();
        None
    })
}

/// The offset of the `\n` ending the line that holds `i`, or the text's end.
pub(crate) fn line_end(text: &str, i: usize) -> usize {
    text[i..].find('\n').map_or(text.len(), |p| i + p)
}

/// After `\verb`: an optional `*`, a delimiter, verbatim text up to the same
/// delimiter on the same line (or the line's end when it never comes).
fn skip_verb(text: &str, after_name: usize) -> usize {
    let mut pos = after_name;
    if text[pos..].starts_with('*') {
        pos += 1;
    }
    let Some(delim) = text[pos..].chars().next() else {
        return pos;
    };
    let body = pos + delim.len_utf8();
    // One search for the delimiter or the line's end, so that a line of
    // many `\verb` stays linear.
    match text[body..].find([delim, '\n']) {
        Some(p) if text[body + p..].starts_with(delim) => body + p + delim.len_utf8(),
        Some(p) => body + p,
        None => text.len(),
    }
}

/// After `\begin`: when a verbatim environment opens, where its `\end`
/// finishes (the text's end if it never does).
fn skip_verbatim_environment(text: &str, after_begin: usize) -> Option<usize> {
    let rest = text[after_begin..].strip_prefix('{')?;
    // Environment names are short; not searching far keeps many unclosed
    // `\begin{` linear.
    let close = rest.bytes().take(64).position(|b| b == b'}')?;
    let name = &rest[..close];
    if !VERBATIM_ENVIRONMENTS.contains(&name) {
        return None;
    }
    let body = after_begin + name.len() + 2;
    let end_tag = format!("\\end{{{name}}}");
    Some(
        text[body..]
            .find(&end_tag)
            .map_or(text.len(), |p| body + p + end_tag.len()),
    )
}

/// Skips spaces, tabs, single line breaks and comments, as TeX does between
/// a command and its arguments; a blank line (a paragraph break) stops it.
pub(crate) fn skip_space(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    let mut newlines = 0;
    while let Some(&b) = bytes.get(pos) {
        match b {
            b' ' | b'\t' | b'\r' => pos += 1,
            b'\n' if newlines == 0 => {
                newlines += 1;
                pos += 1;
            }
            b'%' => {
                // A comment eats its own line break.
                pos = line_end(text, pos) + 1;
                newlines = 0;
            }
            _ => break,
        }
    }
    pos.min(text.len())
}

/// Skips any number of `open ... close` arguments after `pos` (brackets
/// nested in braces do not count); returns `pos` when there are none. An
/// unclosed argument is not skipped.
pub(crate) fn skip_arguments(text: &str, mut pos: usize, open: u8, close: u8) -> usize {
    loop {
        let start = skip_space(text, pos);
        match delimited_argument(text, start, open, close) {
            Some(inner) => pos = inner.end + 1,
            None => return pos,
        }
    }
}

/// The inside of an `open ... close` argument starting at `start`, braces
/// balanced within it; `None` when there is none or it is not closed before
/// a blank line (or within `MAX_ARGUMENT` bytes).
pub(crate) fn delimited_argument(
    text: &str,
    start: usize,
    open: u8,
    close: u8,
) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    if bytes.get(start) != Some(&open) {
        return None;
    }
    let mut depth = 0usize;
    let mut i = start + 1;
    let limit = start.saturating_add(MAX_ARGUMENT);
    while let Some(&b) = bytes.get(i).filter(|_| i < limit) {
        match b {
            b'\\' => i += 1,
            b'%' => i = line_end(text, i),
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b'\n' if is_blank_line_after(text, i) => return None,
            _ if b == close && depth == 0 => return Some(start + 1..i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_blank_line_after(text: &str, newline: usize) -> bool {
    let rest = &text[newline + 1..];
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    line.trim().is_empty()
}

/// A `{...}` group of comma- or space-separated items (keys, file names).
#[derive(Clone, Debug)]
pub(crate) struct KeyGroup {
    /// From after `{` to the `}`, or for an unclosed group to the end of the
    /// line it opens on (or the `{`/`\` that stopped it).
    pub inner: Range<usize>,
    pub closed: bool,
    /// Where the command goes on: after the `}`, or the end of `inner`.
    pub end: usize,
    pub items: Vec<Range<usize>>,
    pub comments: Vec<Range<usize>>,
}

/// The closed `{...}` group that follows `pos` after spaces and comments.
pub(crate) fn closed_group_after(text: &str, pos: usize) -> Option<KeyGroup> {
    let open = skip_space(text, pos);
    if text.as_bytes().get(open) != Some(&b'{') {
        return None;
    }
    let group = key_group(text, open);
    group.closed.then_some(group)
}

/// Reads the group whose `{` is at `open`. It closes at `}`; a `{`, a `\`,
/// a blank line or the end of the text first means it is unclosed.
pub(crate) fn key_group(text: &str, open: usize) -> KeyGroup {
    let bytes = text.as_bytes();
    let mut group = KeyGroup {
        inner: open + 1..open + 1,
        closed: false,
        end: open + 1,
        items: Vec::new(),
        comments: Vec::new(),
    };
    let mut item_start: Option<usize> = None;
    let mut first_newline = None;
    let mut i = open + 1;
    while let Some(&b) = bytes.get(i) {
        let ends_item = match b {
            b'}' | b'{' | b'\\' => break,
            b'\n' if is_blank_line_after(text, i) => break,
            b'%' | b'\n' | b',' | b' ' | b'\t' | b'\r' => true,
            _ => false,
        };
        if !ends_item {
            item_start.get_or_insert(i);
        } else if let Some(s) = item_start.take() {
            group.items.push(s..i);
        }
        match b {
            b'%' => {
                let end = line_end(text, i);
                group.comments.push(i..end);
                i = end;
                continue;
            }
            b'\n' => {
                first_newline.get_or_insert(i);
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(s) = item_start {
        group.items.push(s..i);
    }
    if bytes.get(i) == Some(&b'}') {
        group.inner.end = i;
        group.closed = true;
        group.end = i + 1;
        return group;
    }
    // Unclosed: the group is taken to end with its first line, so that prose
    // typed after an unfinished `\cite{` is not read as keys.
    let inner_end = first_newline.map_or(i, |n: usize| n.min(i));
    group.items.retain(|r| r.end <= inner_end);
    group.comments.retain(|r| r.start < inner_end);
    group.inner.end = inner_end;
    group.end = inner_end;
    group
}

#[cfg(test)]
mod tests;
