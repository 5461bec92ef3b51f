//! Cutting a byte stream into LSP frames (`Content-Length` headers, then a
//! body of that length) and telling which bodies tower-lsp-server can read.
//! Pure functions over byte slices, no I/O: bytes are pushed in as they
//! arrive and pieces taken out, so this is unit-tested and fuzzed directly.

use serde::Deserialize;
use serde_json::Value;
use tower_lsp_server::jsonrpc::{Request, Response};

/// A header block longer than this is garbage, not a header.
const MAX_HEADER_BYTES: usize = 8 << 10;

/// What the bytes of a stream turned out to be, one piece at a time.
#[derive(Debug, PartialEq, Eq)]
pub enum Framed {
    /// A complete body, as long as its header declared.
    Body(Vec<u8>),
    /// Bytes that are no message header; they are skipped up to the next
    /// `Content-Length:` header.
    Garbage { why: String },
    /// A header declared a body over the limit; it is skipped as it arrives.
    Oversized { declared: u64 },
}

enum ReadState {
    Header,
    Body(usize),
    /// Skipping an oversized body: this many bytes are still to come.
    Discard(u64),
    /// Skipping garbage until a `Content-Length:` header.
    Resync,
}

/// Cuts a byte stream into LSP frames.
pub struct FrameReader {
    buf: Vec<u8>,
    /// Bytes of `buf` before this have been consumed.
    start: usize,
    state: ReadState,
    limit: usize,
}

const LENGTH_HEADER: &[u8] = b"content-length";

impl FrameReader {
    /// A reader refusing bodies over `limit` bytes.
    pub fn new(limit: usize) -> Self {
        FrameReader {
            buf: Vec::new(),
            start: 0,
            state: ReadState::Header,
            limit,
        }
    }

    /// Adds bytes read from the stream. Bytes of an oversized body are
    /// dropped here, never stored.
    pub fn push(&mut self, mut bytes: &[u8]) {
        if let ReadState::Discard(left) = &mut self.state {
            if self.start == self.buf.len() {
                let dropped = bytes
                    .len()
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                *left -= dropped as u64;
                bytes = &bytes[dropped..];
                if *left == 0 {
                    self.state = ReadState::Header;
                }
            }
        }
        self.compact();
        self.buf.extend_from_slice(bytes);
    }

    fn compact(&mut self) {
        if self.start > 0 && (self.start == self.buf.len() || self.start >= self.buf.len() / 2) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The next complete piece of the stream, or `None` until more bytes come.
    pub fn next_frame(&mut self) -> Option<Framed> {
        loop {
            match self.state {
                ReadState::Header => {
                    let blank = self
                        .pending()
                        .iter()
                        .take_while(|b| b.is_ascii_whitespace())
                        .count();
                    self.start += blank;
                    if self.pending().is_empty() {
                        return None;
                    }
                    match scan_header(self.pending()) {
                        HeaderScan::Incomplete => return None,
                        HeaderScan::Complete { length, consumed } => {
                            self.start += consumed;
                            match usize::try_from(length).ok().filter(|&l| l <= self.limit) {
                                Some(length) => self.state = ReadState::Body(length),
                                None => {
                                    self.state = ReadState::Discard(length);
                                    return Some(Framed::Oversized { declared: length });
                                }
                            }
                        }
                        HeaderScan::Bad { why, skip } => {
                            self.start += skip.max(1);
                            self.state = ReadState::Resync;
                            return Some(Framed::Garbage { why });
                        }
                    }
                }
                ReadState::Body(length) => {
                    if self.pending().len() < length {
                        self.buf.reserve(length - self.pending().len());
                        return None;
                    }
                    let body = self.pending()[..length].to_vec();
                    self.start += length;
                    self.state = ReadState::Header;
                    return Some(Framed::Body(body));
                }
                ReadState::Discard(left) => {
                    let available = self.pending().len();
                    let dropped = available.min(usize::try_from(left).unwrap_or(usize::MAX));
                    self.start += dropped;
                    if left > dropped as u64 {
                        self.state = ReadState::Discard(left - dropped as u64);
                        return None;
                    }
                    self.state = ReadState::Header;
                }
                ReadState::Resync => match find_ignoring_case(self.pending(), LENGTH_HEADER) {
                    Some(at) => {
                        self.start += at;
                        self.state = ReadState::Header;
                    }
                    None => {
                        // Keep a tail that could be the start of a split header.
                        let keep = (LENGTH_HEADER.len() - 1).min(self.pending().len());
                        self.start = self.buf.len() - keep;
                        return None;
                    }
                },
            }
        }
    }

    /// Called with a body that was refused (not JSON): a frame whose
    /// `Content-Length` was too large swallowed the start of the next
    /// message, so reading goes on at a `Content-Length:` header inside it.
    pub fn resync_within(&mut self, body: &[u8]) {
        if let Some(at) = find_ignoring_case(body, LENGTH_HEADER) {
            let mut rest = body[at..].to_vec();
            rest.extend_from_slice(self.pending());
            self.buf = rest;
            self.start = 0;
            self.state = ReadState::Header;
        }
    }

    /// What was left unfinished when the input ended, if anything.
    pub fn unfinished(&self) -> Option<String> {
        match self.state {
            ReadState::Body(length) => Some(format!(
                "in a message body ({} of {length} bytes)",
                self.pending().len()
            )),
            ReadState::Discard(left) => Some(format!(
                "in an oversized message ({left} bytes still to come)"
            )),
            ReadState::Header if !self.pending().iter().all(u8::is_ascii_whitespace) => {
                Some("in a message header".to_string())
            }
            ReadState::Header | ReadState::Resync => None,
        }
    }
}

enum HeaderScan {
    Incomplete,
    Complete {
        length: u64,
        consumed: usize,
    },
    /// Not a header: skip this many bytes, then look for the next one.
    Bad {
        why: String,
        skip: usize,
    },
}

/// Reads a header block (`Name: value` lines up to a blank line) at the start
/// of `bytes`. Only `Content-Length` matters; `Content-Type` and other names
/// are accepted and ignored.
fn scan_header(bytes: &[u8]) -> HeaderScan {
    let mut length: Option<u64> = None;
    let mut pos = 0;
    loop {
        let Some(newline) = bytes[pos..].iter().position(|&b| b == b'\n') else {
            let partial = bytes[pos..].strip_suffix(b"\r").unwrap_or(&bytes[pos..]);
            if !could_start_header_line(partial) {
                return HeaderScan::Bad {
                    why: format!("expected a header, found {}", quote(partial)),
                    skip: pos + 1,
                };
            }
            if bytes.len() > MAX_HEADER_BYTES {
                return HeaderScan::Bad {
                    why: format!("header longer than {MAX_HEADER_BYTES} bytes"),
                    skip: pos + 1,
                };
            }
            return HeaderScan::Incomplete;
        };
        let end = pos + newline + 1;
        let line = bytes[pos..pos + newline]
            .strip_suffix(b"\r")
            .unwrap_or(&bytes[pos..pos + newline]);
        if line.is_empty() {
            return match length {
                Some(length) => HeaderScan::Complete {
                    length,
                    consumed: end,
                },
                None => HeaderScan::Bad {
                    why: "header without `Content-Length`".into(),
                    skip: end,
                },
            };
        }
        let Some((name, value)) = header_line(line) else {
            // `skip` stops just inside the line: a `Content-Length:` glued
            // after garbage on this line is found again by the resync.
            return HeaderScan::Bad {
                why: format!("expected a header, found {}", quote(line)),
                skip: pos + 1,
            };
        };
        if name.eq_ignore_ascii_case(LENGTH_HEADER) {
            let parsed = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok());
            match (parsed, length) {
                (None, _) => {
                    return HeaderScan::Bad {
                        why: format!("`Content-Length` is not a number: {}", quote(value)),
                        skip: end,
                    }
                }
                (Some(new), Some(old)) if new != old => {
                    return HeaderScan::Bad {
                        why: format!("two different `Content-Length` headers ({old} and {new})"),
                        skip: end,
                    }
                }
                (Some(new), _) => length = Some(new),
            }
        } else if find_ignoring_case(line, LENGTH_HEADER).is_some() {
            // Garbage glued to a real header (`…}Content-Length: 80`).
            return HeaderScan::Bad {
                why: format!("expected a header, found {}", quote(line)),
                skip: pos + 1,
            };
        }
        pos = end;
        if pos > MAX_HEADER_BYTES {
            return HeaderScan::Bad {
                why: format!("header longer than {MAX_HEADER_BYTES} bytes"),
                skip: pos,
            };
        }
    }
}

/// HTTP token characters, which header names are made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `Name: value` → (name, value); `None` if the line is no header.
fn header_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    (!name.is_empty() && name.iter().all(|&b| is_token_byte(b))).then(|| (name, &line[colon + 1..]))
}

/// Whether an unfinished line could still become a header line.
fn could_start_header_line(partial: &[u8]) -> bool {
    let name_end = partial
        .iter()
        .position(|&b| b == b':')
        .unwrap_or(partial.len());
    let name = &partial[..name_end];
    name.iter().all(|&b| is_token_byte(b)) && (name_end == partial.len() || name_end > 0)
}

fn find_ignoring_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// A short printable excerpt of bytes for a log line or error message.
fn quote(bytes: &[u8]) -> String {
    const SHOWN: usize = 40;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN)]);
    let more = if bytes.len() > SHOWN { "…" } else { "" };
    format!("{:?}{more}", text)
}

/// How tower-lsp reads a message: exactly its own (private) `Message` type,
/// so that whatever we forward, it can decode.
#[derive(Deserialize)]
#[serde(untagged)]
enum Incoming {
    Response(#[allow(dead_code)] Response),
    Request(#[allow(dead_code)] Request),
}

/// Which members a message has. tower-lsp takes an object with neither
/// `method` nor `result` nor `error` for a response with a `null` result;
/// JSON-RPC calls it an invalid request, and so do we.
#[derive(Deserialize)]
struct MessageShape {
    #[serde(default)]
    method: Present,
    #[serde(default)]
    result: Present,
    #[serde(default)]
    error: Present,
}

/// Whether a member is there at all (even as `null`).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

/// What to do with a body.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Forward,
    /// Not JSON (or not UTF-8): JSON-RPC -32700.
    ParseError(String),
    /// JSON, but no JSON-RPC request, notification or response: -32600.
    InvalidRequest {
        id: Value,
        why: String,
    },
}

pub fn check_message(body: &[u8]) -> Verdict {
    if let Err(e) = std::str::from_utf8(body) {
        return Verdict::ParseError(format!("message is not UTF-8: {e}"));
    }
    // Syntax first: a data error (wrong shape) would hide trailing garbage.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        return Verdict::ParseError(format!("message is not JSON: {e}"));
    }
    let shape_is_right = serde_json::from_slice::<Incoming>(body).is_ok()
        && serde_json::from_slice::<MessageShape>(body)
            .is_ok_and(|m| m.method.0 || m.result.0 || m.error.0);
    if shape_is_right {
        Verdict::Forward
    } else {
        {
            let id = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get("id").cloned())
                .filter(|id| id.is_string() || id.is_i64())
                .unwrap_or(Value::Null);
            Verdict::InvalidRequest {
                id,
                why: "not a JSON-RPC 2.0 request, notification or response".into(),
            }
        }
    }
}

/// `body` framed the way LSP sends it.
pub fn frame(body: &[u8]) -> Vec<u8> {
    frame_pieces(&[body])
}

/// The frame of a body given in pieces, made in one buffer: a body of
/// megabytes (an answer's result) is copied once.
pub fn frame_pieces(pieces: &[&[u8]]) -> Vec<u8> {
    let len: usize = pieces.iter().map(|p| p.len()).sum();
    let mut out = format!("Content-Length: {len}\r\n\r\n").into_bytes();
    out.reserve_exact(len);
    pieces.iter().for_each(|p| out.extend_from_slice(p));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(body: &str) -> Vec<u8> {
        frame(body.as_bytes())
    }

    fn all_frames(reader: &mut FrameReader) -> Vec<Framed> {
        std::iter::from_fn(|| reader.next_frame()).collect()
    }

    fn body(text: &str) -> Framed {
        Framed::Body(text.as_bytes().to_vec())
    }

    const HOVER: &str = r#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{}}"#;
    const EXIT: &str = r#"{"jsonrpc":"2.0","method":"exit"}"#;

    #[test]
    fn a_message_split_into_single_bytes_comes_out_whole() {
        let mut reader = FrameReader::new(1000);
        let mut got = Vec::new();
        for b in message(HOVER) {
            reader.push(&[b]);
            got.extend(all_frames(&mut reader));
        }
        assert_eq!(got, vec![body(HOVER)]);
        assert_eq!(reader.unfinished(), None);
    }

    #[test]
    fn several_messages_in_one_read_come_out_in_order() {
        let mut reader = FrameReader::new(1000);
        let mut bytes = message(HOVER);
        bytes.extend(message(EXIT));
        bytes.extend(message(HOVER));
        reader.push(&bytes);
        assert_eq!(
            all_frames(&mut reader),
            vec![body(HOVER), body(EXIT), body(HOVER)]
        );
    }

    #[test]
    fn header_names_in_any_case_with_or_without_content_type_and_bare_newlines() {
        let mut reader = FrameReader::new(1000);
        let text = format!(
            "content-length: {n}\r\n\r\n{HOVER}CONTENT-TYPE: application/json\r\nContent-Length:{n}\r\n\r\n{HOVER}Content-Length: {n}\n\n{HOVER}\r\n",
            n = HOVER.len()
        );
        reader.push(text.as_bytes());
        assert_eq!(
            all_frames(&mut reader),
            vec![body(HOVER), body(HOVER), body(HOVER)]
        );
        assert_eq!(
            reader.unfinished(),
            None,
            "trailing blank line is no message"
        );
    }

    #[test]
    fn garbage_between_messages_is_reported_once_and_skipped() {
        let mut reader = FrameReader::new(1000);
        let mut bytes = b"hello there }{ \r\n".to_vec();
        bytes.extend(message(HOVER));
        bytes.extend(b"}}}xContent-Length: 2\r\n\r\n{}");
        reader.push(&bytes);
        let got = all_frames(&mut reader);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(matches!(&got[0], Framed::Garbage { why } if why.contains("hello")));
        assert_eq!(got[1], body(HOVER));
        assert!(matches!(&got[2], Framed::Garbage { .. }));
        assert_eq!(got[3], body("{}"));
    }

    #[test]
    fn bad_headers_are_refused_and_reading_resumes_at_the_next_one() {
        for bad in [
            "Content-Length: ten\r\n\r\n{}",
            "Content-Type: text/plain\r\n\r\n{}",
            "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
            "no colon here\r\n\r\n",
            "Content-Length: 99999999999999999999999\r\n\r\n",
        ] {
            let mut reader = FrameReader::new(1000);
            let mut bytes = bad.as_bytes().to_vec();
            bytes.extend(message(HOVER));
            reader.push(&bytes);
            let got = all_frames(&mut reader);
            assert!(matches!(got[0], Framed::Garbage { .. }), "{bad:?}: {got:?}");
            assert_eq!(got.last(), Some(&body(HOVER)), "{bad:?}: {got:?}");
            assert_eq!(
                got.iter()
                    .filter(|f| matches!(f, Framed::Garbage { .. }))
                    .count(),
                1,
                "{bad:?}: {got:?}"
            );
        }
    }

    #[test]
    fn a_header_split_across_reads_during_resync_is_still_found() {
        let mut reader = FrameReader::new(1000);
        reader.push(b"%%% garbage Cont");
        let first = all_frames(&mut reader);
        assert!(matches!(first[..], [Framed::Garbage { .. }]), "{first:?}");
        let rest = message(HOVER);
        reader.push(&rest[4..]);
        assert_eq!(all_frames(&mut reader), vec![body(HOVER)]);
    }

    #[test]
    fn a_too_long_length_swallows_the_next_header_and_reading_resumes_there() {
        let mut reader = FrameReader::new(1000);
        let mut bytes = format!("Content-Length: {}\r\n\r\n{EXIT}", EXIT.len() + 30).into_bytes();
        bytes.extend(message(HOVER));
        reader.push(&bytes);
        let Some(Framed::Body(swallowed)) = reader.next_frame() else {
            panic!("a body");
        };
        assert!(matches!(check_message(&swallowed), Verdict::ParseError(_)));
        reader.resync_within(&swallowed);
        assert_eq!(all_frames(&mut reader), vec![body(HOVER)]);
    }

    #[test]
    fn a_too_short_length_leaves_garbage_then_the_next_message() {
        let mut reader = FrameReader::new(1000);
        let mut bytes = format!("Content-Length: {}\r\n\r\n{HOVER}", HOVER.len() - 10).into_bytes();
        bytes.extend(message(EXIT));
        reader.push(&bytes);
        let got = all_frames(&mut reader);
        assert!(matches!(&got[0], Framed::Body(b) if b.len() == HOVER.len() - 10));
        assert!(matches!(got[1], Framed::Garbage { .. }), "{got:?}");
        assert_eq!(got[2], body(EXIT));
    }

    #[test]
    fn an_oversized_body_is_dropped_as_it_arrives() {
        let mut reader = FrameReader::new(100);
        reader.push(b"Content-Length: 1000000\r\n\r\n");
        assert_eq!(
            reader.next_frame(),
            Some(Framed::Oversized {
                declared: 1_000_000
            })
        );
        for _ in 0..100 {
            reader.push(&[b'x'; 10_000]);
            assert_eq!(reader.next_frame(), None);
            assert!(reader.buf.len() < 20_000, "not kept: {}", reader.buf.len());
        }
        reader.push(&message(EXIT));
        assert_eq!(all_frames(&mut reader), vec![body(EXIT)]);
    }

    #[test]
    fn an_endless_garbage_stream_is_not_kept() {
        let mut reader = FrameReader::new(1000);
        for _ in 0..1000 {
            reader.push(&[b'#'; 1000]);
            all_frames(&mut reader);
        }
        assert!(reader.buf.len() < 2000, "{}", reader.buf.len());
    }

    #[test]
    fn input_ending_mid_message_is_noticed() {
        let mut reader = FrameReader::new(1000);
        reader.push(&message(HOVER)[..30]);
        assert_eq!(reader.next_frame(), None);
        assert!(reader.unfinished().is_some_and(|u| u.contains("body")));
        let mut header_only = FrameReader::new(1000);
        header_only.push(b"Content-Len");
        assert_eq!(header_only.next_frame(), None);
        assert!(header_only.unfinished().is_some());
    }

    #[test]
    fn bodies_are_checked_the_way_tower_lsp_reads_them() {
        assert_eq!(check_message(HOVER.as_bytes()), Verdict::Forward);
        assert_eq!(check_message(EXIT.as_bytes()), Verdict::Forward);
        let response = br#"{"jsonrpc":"2.0","id":3,"result":null}"#;
        assert_eq!(check_message(response), Verdict::Forward);
        for not_json in [
            &b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"meth"[..],
            b"",
            b"\xff\xfe",
            b"{} x",
        ] {
            assert!(
                matches!(check_message(not_json), Verdict::ParseError(_)),
                "{not_json:?}"
            );
        }
        let invalid = |body: &str| match check_message(body.as_bytes()) {
            Verdict::InvalidRequest { id, .. } => id,
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(invalid("[1, 2]"), Value::Null);
        assert_eq!(invalid("42"), Value::Null);
        assert_eq!(invalid(r#"{"jsonrpc":"2.0","id":7,"foo":1}"#), json!(7));
        assert_eq!(
            invalid(r#"{"jsonrpc":"1.0","id":"a","method":"x"}"#),
            json!("a")
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":{"x":1},"method":"x"}"#),
            Value::Null
        );
        assert_eq!(invalid(r#"{"jsonrpc":"2.0","id":8,"method":3}"#), json!(8));
    }
}
