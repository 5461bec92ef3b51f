//! The byte-level BibTeX grammar: entries, `@string`, `@comment`, `@preamble`,
//! values with braces, quotes, numbers, macros and `#`, and recovery after
//! broken entries. All delimiters are ASCII, so the parser works on bytes and
//! only slices the text at ASCII positions; `scan` has the byte-level helpers.
//!
//! Recovery rule: an error inside an entry skips to the next `@type{` or
//! `@type(` whose `@` starts a line (after optional blanks). The same test
//! ends a value early: inside `{...}` or `"..."`, a line that starts with
//! `@type{` is taken as the next entry and the value as unterminated. A
//! well-formed value practically never has such a line, while every
//! well-formed neighbour of a broken entry starts with one, so one missing `}`
//! costs only its own entry.

use super::scan::{count_newlines, is_ident_byte, is_key_byte, next_value_byte, LineMemo, Scan};
use super::{lower, LineStarts, LocalProblem, ParsedFile, RawEntry, RawField, Severity};
use super::{StringDef, Value, ValuePart};
use std::borrow::Cow;
use std::ops::Range;

/// Why parsing of the current entry stopped: the problem has been recorded,
/// and parsing resumes at `resume`.
struct Stop {
    resume: usize,
}

type Parse<T> = Result<T, Stop>;

pub(super) struct Parser<'t> {
    text: &'t str,
    b: &'t [u8],
    pos: usize,
    /// Entry lines are counted incrementally: `newlines` newlines lie
    /// between the start of the parsed range and `line_cursor`.
    line_cursor: usize,
    newlines: u32,
    /// Built on the first problem that needs a line number in its message.
    lines: Option<LineStarts>,
    scan: Scan<'t>,
    comment_lines: LineMemo,
    out: ParsedFile<'t>,
    scratch: Vec<RawField<'t>>,
}

/// The entry or `@string` being read, for messages and its closing delimiter.
struct Context<'t> {
    /// Offset of its `@`.
    at: usize,
    /// Citation key or macro name.
    name: &'t str,
    close: u8,
    is_string: bool,
}

impl Context<'_> {
    /// "in field `title` of entry `x`", for messages.
    fn place(&self, field: &str) -> String {
        if self.is_string {
            format!("in `@string` `{}`", self.name)
        } else {
            format!("in field `{field}` of entry `{}`", self.name)
        }
    }
}

impl<'t> Parser<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Parser {
            text,
            b: text.as_bytes(),
            pos: 0,
            line_cursor: 0,
            newlines: 0,
            lines: None,
            scan: Scan::new(text),
            comment_lines: LineMemo::default(),
            out: ParsedFile::default(),
            scratch: Vec::new(),
        }
    }

    /// Parses the items whose `@` lies in `range`. Entry lines count the
    /// range's first line as 1; also returns how many newlines the range
    /// holds, so that a caller parsing a file in pieces can shift them.
    ///
    /// `range` starts at a line start, or after only blanks on its line
    /// (where pieces are cut): what comes before is never read.
    pub(super) fn run(mut self, range: Range<usize>) -> (ParsedFile<'t>, u32) {
        self.pos = range.start;
        self.line_cursor = range.start;
        self.comment_lines = LineMemo::starting_at(range.start);
        while let Some(at) = self
            .scan
            .next_at(self.pos, &mut self.comment_lines)
            .filter(|&at| at < range.end)
        {
            match self.scan.header(at) {
                Some((kind, open)) => self.item(at, kind, open),
                None if self.scan.word_at(at + 1).eq_ignore_ascii_case("comment") => {
                    self.pos = self.scan.line_end(at);
                }
                None => self.pos = at + 1,
            }
        }
        self.advance_lines(range.end);
        (self.out, self.newlines)
    }

    /// 1-based line (within the parsed range) of `offset`, which must not
    /// lie before the previous call's.
    fn advance_lines(&mut self, offset: usize) -> u32 {
        let end = offset.clamp(self.line_cursor, self.b.len());
        self.newlines += count_newlines(&self.b[self.line_cursor..end]) as u32;
        self.line_cursor = end;
        self.newlines + 1
    }

    fn line(&mut self, offset: usize) -> u32 {
        let text = self.text;
        self.lines
            .get_or_insert_with(|| LineStarts::new(text))
            .line(offset)
    }

    fn problem(&mut self, offset: usize, severity: Severity, message: String) {
        self.out.problems.push(LocalProblem {
            offset,
            severity,
            message,
        });
    }

    /// Records an error at `offset` and resumes at the first entry after it.
    fn fail(&mut self, offset: usize, message: String) -> Stop {
        self.stop(offset, message, offset)
    }

    /// Records an error at `offset` and resumes at the first entry at or
    /// after `from`, which must lie past the current entry's `@`.
    fn stop(&mut self, offset: usize, message: String, from: usize) -> Stop {
        self.problem(offset, Severity::Error, message);
        Stop {
            resume: self.scan.recovery_point(from),
        }
    }

    fn item(&mut self, at: usize, kind: Range<usize>, open: usize) {
        let close = if self.b[open] == b'{' { b'}' } else { b')' };
        let kind = entry_type(&self.text[kind]);
        self.pos = match kind.as_ref() {
            "comment" | "preamble" => self.skip_block(at, open, close, &kind),
            "string" => self.string_def(at, open + 1, close),
            _ => self.entry(at, kind, open + 1, close),
        };
    }

    /// Skips `@comment{...}` or `@preamble{...}`; returns the offset after it.
    fn skip_block(&mut self, at: usize, open: usize, close: u8, kind: &str) -> usize {
        let opener = self.b[open];
        let mut depth = 0usize;
        let mut i = open;
        while i < self.b.len() {
            match self.b[i] {
                b if b == opener => depth += 1,
                b if b == close => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                b'\n' if self.scan.entry_starts_after(i) => break,
                _ => {}
            }
            i += 1;
        }
        let message = format!("`@{kind}` is not closed: missing `{}`", close as char);
        self.problem(at, Severity::Warning, message);
        self.scan.recovery_point(i)
    }

    /// `@string{name = value}` (several `name = value` pairs are accepted).
    fn string_def(&mut self, at: usize, body: usize, close: u8) -> usize {
        let mut i = body;
        loop {
            i = self.scan.skip_ws(i);
            match self.b.get(i) {
                Some(&b) if b == close => return i + 1,
                Some(b',') => {
                    i += 1;
                    continue;
                }
                None | Some(b'@') => {
                    let message = format!("`@string` is not closed: missing `{}`", close as char);
                    return self.stop(at, message, i).resume;
                }
                Some(_) => {}
            }
            match self.one_string_def(i, close) {
                Ok(end) => i = end,
                Err(stop) => return stop.resume,
            }
        }
    }

    fn one_string_def(&mut self, start: usize, close: u8) -> Parse<usize> {
        let name_span = start..start + self.scan.ident_len(start);
        if name_span.is_empty() {
            let found = self.scan.char_at(start);
            let message = format!("expected a macro name in `@string`, found `{found}`");
            return Err(self.fail(start, message));
        }
        let name = &self.text[name_span.clone()];
        let eq = self.scan.skip_ws(name_span.end);
        if self.b.get(eq) != Some(&b'=') {
            return Err(self.fail(eq, format!("missing `=` after `@string` name `{name}`")));
        }
        let cx = Context {
            at: start,
            name,
            close,
            is_string: true,
        };
        let value = self.value(eq + 1, name, &cx)?;
        self.out.strings.push(StringDef {
            name: lower(name),
            name_span,
            value: value.clone(),
        });
        Ok(value.span.end)
    }

    /// An entry from its body (after the opening delimiter); returns the
    /// offset to continue from.
    fn entry(&mut self, at: usize, kind: Cow<'t, str>, body: usize, close: u8) -> usize {
        let text = self.text;
        let (key_span, fields_start) = self.key(body, close);
        let name = key_span.clone().map_or("", |span| &text[span]);
        if key_span.is_none() {
            let message = format!("`@{kind}` entry has no citation key");
            self.problem(at, Severity::Warning, message);
        }
        let next = self.scan.skip_ws(fields_start);
        if key_span.is_some() && self.b.get(next).is_some_and(|&b| is_ident_byte(b)) {
            let message = format!("missing `,` after the key of entry `{name}`");
            self.problem(next, Severity::Error, message);
        }
        let cx = Context {
            at,
            name,
            close,
            is_string: false,
        };
        // Fields are gathered in a reused buffer and then moved to a vector
        // of exactly their number: no regrowing, no slack, per entry.
        let mut scratch = std::mem::take(&mut self.scratch);
        let (end, span_end) = match self.fields(fields_start, &cx, &mut scratch) {
            Ok(end) => (end, end),
            // Blanks are ASCII here, as everywhere in the grammar: a key or
            // value may end in U+00A0, which `trim_end` would cut off.
            Err(stop) => {
                let read =
                    text[at..stop.resume].trim_end_matches(|c: char| c.is_ascii_whitespace());
                (stop.resume, at + read.len())
            }
        };
        let mut fields = Vec::with_capacity(scratch.len());
        fields.append(&mut scratch);
        self.scratch = scratch;
        let line = self.advance_lines(at);
        self.out.entries.push(RawEntry {
            line,
            entry_type: kind,
            key_span,
            span: at..span_end,
            fields,
        });
        end
    }

    /// The key's span (if any) and where the fields start. A first word
    /// followed by `=` is a field, not a key; a key may itself contain `=`
    /// (BibTeX allows it) when a `,` or the closing delimiter follows it.
    fn key(&self, body: usize, close: u8) -> (Option<Range<usize>>, usize) {
        let start = self.scan.skip_ws(body);
        // A key never starts with `@`: that is the next entry (and keeps
        // piece starts valid, see `Scan::piece_start`).
        let len = if self.b.get(start) == Some(&b'@') {
            0
        } else {
            self.b[start..]
                .iter()
                .take_while(|&&b| is_key_byte(b, close) || b == b'=')
                .count()
        };
        let key = &self.b[start..start + len];
        let next = self.b.get(self.scan.skip_ws(start + len)).copied();
        let is_field = match key.iter().position(|&b| b == b'=') {
            Some(_) => next != Some(b',') && next != Some(close),
            None => next == Some(b'='),
        };
        if len == 0 || is_field {
            return (None, start);
        }
        (Some(start..start + len), start + len)
    }

    /// Fields up to the closing delimiter; returns the offset after it.
    /// Commas may be doubled or trailing; a missing one is reported and
    /// forgiven when the next field follows.
    fn fields(
        &mut self,
        from: usize,
        cx: &Context<'t>,
        fields: &mut Vec<RawField<'t>>,
    ) -> Parse<usize> {
        let mut i = from;
        loop {
            i = self.scan.skip_ws(i);
            match self.b.get(i) {
                None | Some(b'@') => return Err(self.not_closed(cx, i, fields)),
                Some(b',') => {
                    i += 1;
                    continue;
                }
                Some(&b) if b == cx.close => return Ok(i + 1),
                Some(_) => {}
            }
            let field = self.field(i, cx)?;
            i = self.scan.skip_ws(field.value.span.end);
            if self.b.get(i).is_some_and(|&b| is_ident_byte(b)) {
                let message = format!(
                    "missing `,` after field `{}` of entry `{}`",
                    field.name, cx.name
                );
                self.problem(i, Severity::Error, message);
            }
            fields.push(field);
        }
    }

    /// The entry ran into the next one (or the end of text) without its
    /// closing delimiter. Usually a `{` inside a value is unbalanced and the
    /// value ran on to the entry's own `}`: if a value contains a line that
    /// looks like `name =`, that field is reported (and dropped with the
    /// fields after it) rather than the entry's end.
    fn not_closed(
        &mut self,
        cx: &Context<'t>,
        from: usize,
        fields: &mut Vec<RawField<'t>>,
    ) -> Stop {
        let Some(idx) = fields.iter().rposition(|f| self.swallowed_fields(&f.value)) else {
            let message = format!(
                "entry `{}` is not closed: missing `{}`",
                cx.name, cx.close as char
            );
            return self.stop(cx.at, message, from);
        };
        let open = fields[idx].value.span.start;
        let delimiter = if self.b.get(open) == Some(&b'"') {
            '"'
        } else {
            '{'
        };
        let name = fields[idx].name.clone();
        fields.truncate(idx);
        self.unterminated(delimiter, open, from, &name, cx)
    }

    /// True when a value spans a line that starts like a field (`year = `).
    fn swallowed_fields(&self, value: &Value) -> bool {
        let inner = &self.text[value.span.clone()];
        inner.lines().skip(1).any(|line| {
            let line = line.trim_start();
            let name_len = line.bytes().take_while(|&b| is_ident_byte(b)).count();
            name_len > 0 && line[name_len..].trim_start().starts_with('=')
        })
    }

    /// `name = value` at `start`.
    fn field(&mut self, start: usize, cx: &Context<'t>) -> Parse<RawField<'t>> {
        let name_span = start..start + self.scan.ident_len(start);
        if name_span.is_empty() {
            let found = self.scan.char_at(start);
            let message = format!(
                "expected a field name in entry `{}`, found `{found}`",
                cx.name
            );
            return Err(self.fail(start, message));
        }
        let name = &self.text[name_span.clone()];
        let eq = self.scan.skip_ws(name_span.end);
        if self.b.get(eq) != Some(&b'=') {
            let message = format!("missing `=` after field `{name}` of entry `{}`", cx.name);
            return Err(self.fail(eq, message));
        }
        let value = self.value(eq + 1, name, cx)?;
        Ok(RawField {
            name: lower(name),
            name_span,
            value,
        })
    }

    /// Parts joined by `#`, starting after the `=`.
    fn value(&mut self, from: usize, field: &str, cx: &Context<'t>) -> Parse<Value> {
        let start = self.scan.skip_ws(from);
        let mut parts: Vec<ValuePart> = Vec::new();
        let mut i = start;
        let mut end = start;
        loop {
            let Some(part_end) = self.value_part(i, field, cx, &mut parts)? else {
                let message = if parts.is_empty() {
                    format!("{} has no value", cx.place(field))
                } else {
                    format!("expected a value after `#` {}", cx.place(field))
                };
                self.problem(i, Severity::Error, message);
                break;
            };
            end = part_end;
            let next = self.scan.skip_ws(part_end);
            if self.b.get(next) != Some(&b'#') {
                break;
            }
            i = self.scan.skip_ws(next + 1);
        }
        // A missing value is an empty span right after the `=`: inside its
        // entry even when only blanks follow, which the entry's span leaves out.
        let span = if parts.is_empty() {
            from..from
        } else {
            start..end
        };
        let mut parts = parts.into_iter();
        let first = parts.next().unwrap_or(ValuePart::Text(span.clone()));
        Ok(Value {
            first,
            rest: parts.collect(),
            span,
        })
    }

    /// One part at `i`, pushed onto `parts`; returns its end, or `None` when
    /// there is no value there.
    fn value_part(
        &mut self,
        i: usize,
        field: &str,
        cx: &Context<'t>,
        parts: &mut Vec<ValuePart>,
    ) -> Parse<Option<usize>> {
        let Some(&b) = self.b.get(i) else {
            return Ok(None);
        };
        let (part, end) = match b {
            b'{' => {
                let close = self.braced_end(i, field, cx)?;
                (ValuePart::Text(i + 1..close), close + 1)
            }
            b'"' => {
                let close = self.quoted_end(i, field, cx)?;
                (ValuePart::Text(i + 1..close), close + 1)
            }
            b'0'..=b'9' => {
                let len = self.b[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                (ValuePart::Text(i..i + len), i + len)
            }
            b if is_ident_byte(b) => {
                let len = self.scan.ident_len(i);
                (ValuePart::Macro(i..i + len), i + len)
            }
            _ => return Ok(None),
        };
        parts.push(part);
        Ok(Some(end))
    }

    /// Offset of the `}` closing the `{` at `open`.
    fn braced_end(&mut self, open: usize, field: &str, cx: &Context<'t>) -> Parse<usize> {
        let mut depth = 0usize;
        let mut i = open;
        while let Some(&b) = self.b.get(i) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i);
                    }
                }
                b'\n' if self.scan.entry_starts_after(i) => break,
                _ => {}
            }
            i = next_value_byte(self.b, i + 1);
        }
        Err(self.unterminated('{', open, i, field, cx))
    }

    /// Offset of the `"` closing the `"` at `open`; a `"` inside braces does
    /// not close it.
    fn quoted_end(&mut self, open: usize, field: &str, cx: &Context<'t>) -> Parse<usize> {
        let mut depth = 0usize;
        let mut i = next_value_byte(self.b, open + 1);
        while let Some(&b) = self.b.get(i) {
            match b {
                b'"' if depth == 0 => return Ok(i),
                b'{' => depth += 1,
                // Most likely the entry's own `}`: the quote was never closed.
                b'}' if depth == 0 => break,
                b'}' => depth -= 1,
                b'\n' if self.scan.entry_starts_after(i) => break,
                _ => {}
            }
            i = next_value_byte(self.b, i + 1);
        }
        Err(self.unterminated('"', open, i, field, cx))
    }

    fn unterminated(
        &mut self,
        delimiter: char,
        open: usize,
        stopped: usize,
        field: &str,
        cx: &Context<'t>,
    ) -> Stop {
        let line = self.line(open);
        let message = format!(
            "unterminated `{delimiter}` {} (opened on line {line})",
            cx.place(field)
        );
        self.stop(open, message, stopped)
    }
}

/// The lower-cased entry type; the common ones are shared, not allocated.
fn entry_type(written: &str) -> Cow<'_, str> {
    const COMMON: [&str; 12] = [
        "article",
        "inproceedings",
        "misc",
        "book",
        "incollection",
        "inbook",
        "proceedings",
        "techreport",
        "phdthesis",
        "mastersthesis",
        "unpublished",
        "manual",
    ];
    match COMMON
        .iter()
        .find(|common| common.eq_ignore_ascii_case(written))
    {
        Some(common) => Cow::Borrowed(common),
        None => lower(written),
    }
}
