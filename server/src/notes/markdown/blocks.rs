//! Markdown block structure, as far as citations care: which lines are prose.
//!
//! A line-by-line pass that yields the runs of prose lines (paragraphs and
//! headings) whose inline content may hold citations, and leaves out YAML
//! front matter at the start of the file, fenced code (``` and ~~~, longer
//! closing fences, up to three spaces of indentation), indented code, and
//! HTML comment blocks (a line opening `<!--` without closing it hides every
//! line up to the one holding `-->`; a comment closed on its own line is left
//! to the inline pass). Block quote markers (`>`) are looked through.
//!
//! It is deliberately an approximation of CommonMark's container rules, not
//! an implementation of them. Indented code is a line indented four or more
//! columns that does not continue a paragraph and is not inside a list; "in
//! a list" starts at a list-marker line and ends at the first unindented
//! non-marker line after a blank line. Inside a list, a fence may be
//! indented any amount. Code indented inside list items is read as prose.

use std::ops::Range;

/// One line: its first byte, the end of its content (before `\n` or
/// `\r\n`), and where the next line starts.
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    end: usize,
    next: usize,
}

fn lines_from(text: &str, from: usize) -> impl Iterator<Item = Line> + '_ {
    let mut start = from;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let nl = text[start..].find('\n').map_or(text.len(), |p| start + p);
        let end = if text[start..nl].ends_with('\r') {
            nl - 1
        } else {
            nl
        };
        let line = Line {
            start,
            end,
            next: (nl + 1).min(text.len()),
        };
        start = nl + 1;
        Some(line)
    })
}

/// YAML front matter: a first line `---`, a non-blank line after it (else
/// the `---` is a thematic break, as pandoc reads it), and a closing `---` or
/// `...` line. Unclosed, it is not front matter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FrontMatter {
    /// The YAML between the fences.
    pub body: Range<usize>,
    /// Where the document after the closing fence starts.
    pub end: usize,
}

pub(crate) fn front_matter(text: &str) -> Option<FrontMatter> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut lines = lines_from(text, bom);
    let first = lines.next()?;
    if text[first.start..first.end].trim_end() != "---" {
        return None;
    }
    let second = lines.next()?;
    if text[second.start..second.end].trim().is_empty() {
        return None;
    }
    std::iter::once(second).chain(lines).find_map(|line| {
        let t = text[line.start..line.end].trim_end();
        (t == "---" || t == "...").then_some(FrontMatter {
            body: second.start..line.start,
            end: line.next,
        })
    })
}

/// An open fenced code block.
#[derive(Clone, Copy, Debug)]
struct Fence {
    ch: u8,
    len: usize,
    in_list: bool,
}

#[derive(Default)]
struct BlockScan {
    runs: Vec<Range<usize>>,
    open: Option<Range<usize>>,
    fence: Option<Fence>,
    in_comment: bool,
    in_indented_code: bool,
    in_list: bool,
    prev_blank: bool,
}

/// The runs of prose in a Markdown text, in order: each a range from the
/// start of its first line to the end of its last line's content.
pub(crate) fn prose_runs(text: &str) -> Vec<Range<usize>> {
    let body = front_matter(text).map_or_else(
        || usize::from(text.starts_with('\u{feff}')) * 3,
        |fm| fm.end,
    );
    let mut scan = BlockScan::default();
    for line in lines_from(text, body) {
        scan.line(&text[line.start..line.end], line);
    }
    scan.close();
    scan.runs
}

impl BlockScan {
    fn close(&mut self) {
        if let Some(run) = self.open.take() {
            self.runs.push(run);
        }
    }

    fn extend(&mut self, line: Line) {
        match &mut self.open {
            Some(run) => run.end = line.end,
            None => self.open = Some(line.start..line.end),
        }
    }

    fn line(&mut self, s: &str, line: Line) {
        let (indent, content) = line_shape(s);
        if let Some(fence) = self.fence {
            if closes_fence(fence, indent, content) {
                self.fence = None;
            }
            return;
        }
        if self.in_comment {
            self.in_comment = !s.contains("-->");
            return;
        }
        if content.trim().is_empty() {
            self.close();
            self.prev_blank = true;
            return;
        }
        let after_blank = std::mem::replace(&mut self.prev_blank, false);
        if indent >= 4 && !self.in_list {
            // Indented code cannot interrupt a paragraph: such a line is a
            // lazy continuation.
            if self.in_indented_code || self.open.is_none() {
                self.in_indented_code = true;
            } else {
                self.extend(line);
            }
            return;
        }
        self.in_indented_code = false;
        self.block_start(content, indent, after_blank, line);
    }

    /// A non-blank line that is not indented code: what block it starts.
    fn block_start(&mut self, content: &str, indent: usize, after_blank: bool, line: Line) {
        if indent < 4 || self.in_list {
            if let Some(fence) = opens_fence(content, self.in_list) {
                self.close();
                self.fence = Some(fence);
                return;
            }
        }
        if indent < 4 && content.starts_with("<!--") && !content[4..].contains("-->") {
            // A comment left open runs to the line holding `-->`, all of it
            // hidden; one closed on its own line is left to the inline pass,
            // so that text after it still counts.
            self.close();
            self.in_comment = true;
            return;
        }
        if indent < 4 && is_atx_heading(content) {
            self.close();
            self.runs.push(line.start..line.end);
            return;
        }
        if is_list_marker(content) {
            self.in_list = true;
        } else if indent == 0 && after_blank {
            self.in_list = false;
        }
        self.extend(line);
    }
}

/// A line's indentation in columns (tabs to multiples of four) and its
/// content, after any block quote markers.
fn line_shape(s: &str) -> (usize, &str) {
    let mut rest = s;
    loop {
        let trimmed = rest.trim_start_matches(' ');
        match trimmed.strip_prefix('>') {
            Some(quoted) if rest.len() - trimmed.len() <= 3 => {
                rest = quoted.strip_prefix(' ').unwrap_or(quoted);
            }
            _ => break,
        }
    }
    let mut cols = 0;
    let mut bytes = 0;
    for b in rest.bytes() {
        match b {
            b' ' => cols += 1,
            b'\t' => cols += 4 - cols % 4,
            _ => break,
        }
        bytes += 1;
    }
    (cols, &rest[bytes..])
}

fn opens_fence(content: &str, in_list: bool) -> Option<Fence> {
    let ch = *content.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let len = content.bytes().take_while(|&b| b == ch).count();
    // A backtick fence's info string cannot hold a backtick: that line is an
    // inline code span instead.
    let info_ok = ch == b'~' || !content[len..].contains('`');
    (len >= 3 && info_ok).then_some(Fence { ch, len, in_list })
}

fn closes_fence(fence: Fence, indent: usize, content: &str) -> bool {
    let len = content.bytes().take_while(|&b| b == fence.ch).count();
    (indent < 4 || fence.in_list) && len >= fence.len && content[len..].trim().is_empty()
}

fn is_atx_heading(content: &str) -> bool {
    let hashes = content.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes) && matches!(content.as_bytes().get(hashes), None | Some(b' ' | b'\t'))
}

fn is_list_marker(content: &str) -> bool {
    let bytes = content.as_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let marker_len = match bytes.first() {
        Some(b'-' | b'*' | b'+') => 1,
        Some(_) if (1..=9).contains(&digits) && matches!(bytes.get(digits), Some(b'.' | b')')) => {
            digits + 1
        }
        _ => return false,
    };
    matches!(bytes.get(marker_len), None | Some(b' ' | b'\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prose(text: &str) -> Vec<&str> {
        prose_runs(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn front_matter_needs_closing_and_content() {
        let text = "---\ntitle: x\nbibliography: a.bib\n...\nBody";
        let fm = front_matter(text).unwrap();
        assert_eq!(&text[fm.body], "title: x\nbibliography: a.bib\n");
        assert_eq!(&text[fm.end..], "Body");
        assert_eq!(front_matter("---\ntitle: x\n"), None);
        assert_eq!(front_matter("---\n\ntitle: x\n---\n"), None);
        assert_eq!(front_matter("text\n---\na: b\n---\n"), None);
        assert!(front_matter("\u{feff}---\r\na: b\r\n---\r\n").is_some());
    }

    #[test]
    fn prose_runs_skip_code_and_comments() {
        let cases: &[(&str, &[&str])] = &[
            ("a\nb\n\nc", &["a\nb", "c"]),
            ("---\nt: @x\n---\nbody", &["body"]),
            ("p\n\n```\n@x\n```\nq", &["p", "q"]),
            ("~~~~\n@x\n~~~\n@y\n~~~~~\nq", &["q"]),
            ("   ```py\n@x\n   ```\nq", &["q"]),
            ("``` a`b\nq", &["``` a`b\nq"]),
            ("p\n\n    code @x\n\n    more\nq", &["p", "q"]),
            ("p\n    lazy @x", &["p\n    lazy @x"]),
            (
                "- item\n\n    continued @x\n\nout",
                &["- item", "    continued @x", "out"],
            ),
            ("- item\n\n    ```\n    @x\n    ```\n", &["- item"]),
            ("<!--\n@x\n-->\nq", &["q"]),
            ("<!-- @x -->\nq", &["<!-- @x -->\nq"]),
            ("# H @x\ntext", &["# H @x", "text"]),
            ("> ```\n> @x\n> ```\n> q", &["> q"]),
            ("```\nunclosed @x", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(prose(text), *want, "{text:?}");
        }
    }

    #[test]
    fn odd_text_does_not_panic() {
        for text in [
            "", "\n", "\r\n", "---", "---\n", "\u{feff}", "\t\t>", "1)", ">>>>",
        ] {
            let _ = prose_runs(text);
            let _ = front_matter(text);
        }
    }
}
