//! The checks behind the fuzz targets in `fuzz/`: each function takes
//! arbitrary bytes, feeds them to one reader of the library (the corpus
//! loaders, the note scanners, the title matcher, the position conversions),
//! and asserts what must hold of the answer — ranges inside the text and on
//! char boundaries, results in order, conversions that round-trip — so a
//! panic, inside the library or here, is a finding.
//!
//! The fuzz targets are one line each, calling these by name through
//! [`TARGETS`]; `tests/fuzz_regressions.rs` replays the saved seeds and
//! every minimised crash through the same functions, so a fixed bug stays
//! fixed without the fuzzer. `server` plays the input as a script of
//! client messages against the whole server (see `fuzzing/server.rs`).
//! This is test machinery: the server never calls
//! it, and it is public only so that those two can.

mod corpus;
mod notes;
mod position;
mod server;

pub use corpus::{bibtex, csl_json, digest, jsonl};
pub use notes::{latex, markdown, title_matcher};
pub use position::position;
pub use server::server;

use std::ops::Range;

/// Every check, by the name of its fuzz target (and of its folders under
/// `fuzz/seeds/` and `fuzz/regressions/`).
/// A fuzz check: takes the fuzzer's bytes, panics on a finding.
pub type Check = fn(&[u8]);

pub const TARGETS: &[(&str, Check)] = &[
    ("bibtex", bibtex),
    ("csl_json", csl_json),
    ("jsonl", jsonl),
    ("digest", digest),
    ("markdown", markdown),
    ("latex", latex),
    ("title_matcher", title_matcher),
    ("position", position),
    ("server", server),
];

/// Asserts that `range` is a non-reversed range of `text` on char
/// boundaries: one the text can be sliced by.
#[track_caller]
fn assert_slices(text: &str, range: &Range<usize>, what: &str) {
    assert!(
        range.start <= range.end
            && text.is_char_boundary(range.start)
            && text.is_char_boundary(range.end),
        "{what} {range:?} does not slice a text of {} bytes",
        text.len()
    );
}

/// Asserts that `inner` lies within `outer`.
#[track_caller]
fn assert_within(inner: &Range<usize>, outer: &Range<usize>, what: &str) {
    assert!(
        outer.start <= inner.start && inner.end <= outer.end,
        "{what} {inner:?} is not within {outer:?}"
    );
}

/// Offsets of `text` worth probing, all char boundaries: both ends, `spread`
/// more spread evenly, and the offsets before and after the first 32 of the
/// `marks` bytes (where the interesting answers are), so that a check that
/// rescans the text for every offset stays fast on long input.
fn probe_offsets(text: &str, spread: usize, marks: &[u8]) -> Vec<usize> {
    let spread = spread.max(1);
    let mut offsets: Vec<usize> = (0..=spread).map(|k| text.len() * k / spread).collect();
    offsets.extend(
        text.bytes()
            .enumerate()
            .filter(|(_, b)| marks.contains(b))
            .take(32)
            .flat_map(|(i, _)| [i, i + 1]),
    );
    offsets.retain(|&i| text.is_char_boundary(i));
    offsets.sort_unstable();
    offsets.dedup();
    offsets
}
