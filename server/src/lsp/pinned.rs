//! The version of its document each request was sent against.
//!
//! Text changes are applied as the transport reads them (`text_sync`), but
//! tower-lsp may start a request's handler only after it has read further
//! messages — so a handler that took the document as it is *then* could
//! answer a hover or a completion against edits the client sent *after* the
//! request, at positions that meant something else. As in rust-analyzer's
//! main loop, the document is taken when the request is read: `text_sync`
//! pins the current version here under the request's method, URI and
//! position (or range), and the handler takes it back by the same key.
//!
//! Identical requests (same method, URI and position) are taken back first
//! in, first out. A pin no handler takes (a request tower-lsp refused, or
//! one the client cancelled before it ran) is dropped after a while, so
//! this never grows.

use crate::workspace::documents::DocumentSnapshot;
use crate::workspace::unpoisoned;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// At most this many pins are kept; the oldest go first.
const MAX_PINNED: usize = 256;
/// A pin older than this is dropped: its request is not coming.
const PIN_LIFETIME: Duration = Duration::from_secs(30);

/// What identifies a request's document and place: the method, the URI as
/// sent, and the position (`[line, character, line, character]`) or range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestKey {
    pub method: String,
    pub uri: String,
    pub at: [u32; 4],
}

impl RequestKey {
    pub fn at_position(method: &str, uri: &str, line: u32, character: u32) -> RequestKey {
        RequestKey {
            method: method.to_string(),
            uri: uri.to_string(),
            at: [line, character, line, character],
        }
    }

    pub fn at_range(method: &str, uri: &str, start: (u32, u32), end: (u32, u32)) -> RequestKey {
        RequestKey {
            method: method.to_string(),
            uri: uri.to_string(),
            at: [start.0, start.1, end.0, end.1],
        }
    }
}

#[derive(Default)]
pub struct PinnedDocuments {
    pins: Mutex<VecDeque<(RequestKey, Arc<DocumentSnapshot>, Instant)>>,
}

impl PinnedDocuments {
    pub fn pin(&self, key: RequestKey, document: Arc<DocumentSnapshot>) {
        let now = Instant::now();
        let mut pins = unpoisoned(&self.pins);
        while pins.len() >= MAX_PINNED
            || pins
                .front()
                .is_some_and(|(_, _, at)| now.duration_since(*at) > PIN_LIFETIME)
        {
            pins.pop_front();
        }
        pins.push_back((key, document, now));
    }

    /// The document pinned for a request with `key`, if one was.
    pub fn take(&self, key: &RequestKey) -> Option<Arc<DocumentSnapshot>> {
        let mut pins = unpoisoned(&self.pins);
        let found = pins.iter().position(|(k, _, _)| k == key)?;
        pins.remove(found).map(|(_, document, _)| document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::Language;

    fn doc(version: i32) -> Arc<DocumentSnapshot> {
        Arc::new(DocumentSnapshot::new(
            None,
            Language::Markdown,
            version,
            Arc::from("text"),
        ))
    }

    #[test]
    fn pins_are_taken_back_by_key_first_in_first_out() {
        let pinned = PinnedDocuments::default();
        let hover = RequestKey::at_position("textDocument/hover", "file:///a.md", 1, 2);
        let other = RequestKey::at_position("textDocument/hover", "file:///a.md", 1, 3);
        pinned.pin(hover.clone(), doc(1));
        pinned.pin(other.clone(), doc(2));
        pinned.pin(hover.clone(), doc(3));
        assert_eq!(pinned.take(&hover).map(|d| d.version), Some(1));
        assert_eq!(pinned.take(&hover).map(|d| d.version), Some(3));
        assert_eq!(pinned.take(&hover).map(|d| d.version), None);
        assert_eq!(pinned.take(&other).map(|d| d.version), Some(2));
    }

    #[test]
    fn pins_nobody_takes_do_not_pile_up() {
        let pinned = PinnedDocuments::default();
        for line in 0..(MAX_PINNED as u32 * 4) {
            pinned.pin(
                RequestKey::at_position("textDocument/hover", "file:///a.md", line, 0),
                doc(1),
            );
        }
        assert_eq!(unpoisoned(&pinned.pins).len(), MAX_PINNED);
    }
}
