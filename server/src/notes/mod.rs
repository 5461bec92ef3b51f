//! TEMPORARY stand-in until the scanners land.
use std::ops::Range;
pub struct Citation { pub key: String, pub range: Range<usize> }
