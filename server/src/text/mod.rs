//! Plain-text facts that every layer above shares and none owns: how text is
//! cut into words and folded (`words`: the one spelling that corpus titles
//! and a note's prose agree on, and the English word list), and where lines
//! start (`line_index`: byte offsets ↔ line and column, in UTF-8 or UTF-16,
//! the one conversion the whole server uses).
//!
//! This is a leaf: it depends on no other module of paper-ls, and knows
//! nothing of papers, notes or the protocol.

pub mod line_index;
pub mod words;

pub use line_index::{LineIndex, PositionEncoding};
