//! The hasher of the hash maps built while loading and indexing, whose keys
//! are short strings (citation keys, macro names, words) looked up hundreds
//! of thousands to millions of times per load.
//!
//! A one-shot xxh3 per string: std's SipHash is several times slower on
//! such keys, and xxh3's streaming hasher spends more on setting up and
//! finishing its state than on the bytes. Nothing hashed here needs
//! resistance to chosen collisions: a source file that collided on purpose
//! would make its own load slower, nothing else.

use std::hash::{BuildHasherDefault, Hasher};

#[derive(Clone, Copy, Default)]
pub struct ShortKeyHasher(u64);

impl Hasher for ShortKeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }

    // `str`'s `Hash` ends each string with one 0xff byte: mixed in with a
    // multiplication rather than another pass of xxh3.
    fn write_u8(&mut self, byte: u8) {
        self.0 = (self.0 ^ u64::from(byte))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type ShortKeys = BuildHasherDefault<ShortKeyHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn equal_strings_hash_alike_and_neighbours_apart() {
        let build = ShortKeys::default();
        let hash = |s: &str| build.hash_one(s);
        assert_eq!(hash("C:AJMMS23"), hash(&String::from("C:AJMMS23")));
        let mut seen: std::collections::HashSet<u64> = std::collections::HashSet::new();
        for i in 0..10_000 {
            assert!(seen.insert(hash(&format!("key{i}"))), "key{i}");
        }
        // A string's end counts: ("ab", "c") and ("a", "bc") differ as pairs.
        assert_ne!(build.hash_one(("ab", "c")), build.hash_one(("a", "bc")));
    }
}
