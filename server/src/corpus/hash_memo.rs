//! Content hashes of corpus files remembered by the file's stamp, so a warm
//! start does not read a large source whole just to learn that it did not
//! change. A million papers of JSON Lines are 1.1 GB: hashing them took
//! half a second, half of everything a warm start did before its first
//! answer.
//!
//! Each file's hash is kept in the cache directory (`hashes/`) with the
//! stamp it had when hashed: length, modification time (nanoseconds), and
//! on Unix the inode and status-change time, which every write and rename
//! moves. A stamp that matches gives the hash back without reading, the way
//! make, git's index and ccache trust a file's stamp. The one gap, a write
//! in the same instant as the hashing, is closed as git closes it: a hash
//! taken less than [`RACY_MARGIN`] after the file's modification time is
//! never trusted, only kept until the file has aged.

use super::source::hash_file;
use super::Problem;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Timestamps on some file systems are coarse (two seconds on FAT).
const RACY_MARGIN: Duration = Duration::from_secs(2);
const FORMAT: &str = "paper-ls-hash-v1";

/// What a file looked like when it was hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified_ns: u128,
    inode: u64,
    changed_ns: i128,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        let modified_ns = meta
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos();
        #[cfg(unix)]
        let (inode, changed_ns) = {
            use std::os::unix::fs::MetadataExt;
            (
                meta.ino(),
                i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            )
        };
        #[cfg(not(unix))]
        let (inode, changed_ns) = (0, 0);
        Some(Stamp {
            len: meta.len(),
            modified_ns,
            inode,
            changed_ns,
        })
    }
}

/// The hash [`hash_file`] gives for `path`, from the memo in `cache_dir`
/// when the file's stamp says it is unchanged since it was hashed; else
/// hashed now (and remembered, if the file held still meanwhile).
pub fn content_hash(path: &Path, cache_dir: &Path) -> Result<u64, Problem> {
    let memo = memo_path(path, cache_dir);
    let before = Stamp::of(path);
    if let Some(stamp) = before {
        if let Some(hash) = remembered(&memo, path, stamp) {
            return Ok(hash);
        }
    }
    let hash = hash_file(path)?;
    if let Some(stamp) = before.filter(|&s| Stamp::of(path) == Some(s)) {
        remember(&memo, path, stamp, hash);
    }
    Ok(hash)
}

/// The hash of `path` remembered in `cache_dir` for its present stamp,
/// without reading the file; `None` when there is none to trust.
pub fn remembered_hash(path: &Path, cache_dir: &Path) -> Option<u64> {
    remembered(&memo_path(path, cache_dir), path, Stamp::of(path)?)
}

/// Removes the memos of files that are gone (each memo is a few dozen
/// bytes, but a cache folder outlives many corpora).
pub fn remove_memos_of_missing_files(cache_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(cache_dir.join("hashes")) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let mut lines = text.lines();
        let named = (lines.next() == Some(FORMAT))
            .then(|| lines.next())
            .flatten()
            .map(Path::new);
        // Another format's memo, or one whose file is gone: never used again.
        if named.is_none_or(|file| !file.exists()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn memo_path(path: &Path, cache_dir: &Path) -> PathBuf {
    let name = xxhash_rust::xxh3::xxh3_64(path.as_os_str().as_encoded_bytes());
    cache_dir.join("hashes").join(format!("{name:016x}"))
}

/// The remembered hash, if the memo is for this file, in this stamp, and
/// was taken safely after the file's last write.
fn remembered(memo: &Path, path: &Path, stamp: Stamp) -> Option<u64> {
    let text = std::fs::read_to_string(memo).ok()?;
    let mut lines = text.lines();
    if lines.next()? != FORMAT || Path::new(lines.next()?) != path {
        return None;
    }
    let mut numbers = lines.next()?.split(' ');
    let mut next = || numbers.next();
    let kept = Stamp {
        len: next()?.parse().ok()?,
        modified_ns: next()?.parse().ok()?,
        inode: next()?.parse().ok()?,
        changed_ns: next()?.parse().ok()?,
    };
    let hashed_ns: u128 = next()?.parse().ok()?;
    let hash = u64::from_str_radix(next()?, 16).ok()?;
    let aged = hashed_ns >= stamp.modified_ns + RACY_MARGIN.as_nanos();
    (kept == stamp && aged).then_some(hash)
}

/// Keeps `hash` for `path` in `stamp` (best effort: a cache that cannot be
/// written only means hashing again next time).
fn remember(memo: &Path, path: &Path, stamp: Stamp, hash: u64) {
    let (Some(dir), Some(path_text)) = (memo.parent(), path.to_str()) else {
        return;
    };
    if path_text.contains('\n') {
        return;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let text = format!(
        "{FORMAT}\n{path_text}\n{} {} {} {} {now} {hash:016x}\n",
        stamp.len, stamp.modified_ns, stamp.inode, stamp.changed_ns
    );
    // Written aside and renamed, so a reader never sees half a memo.
    let aside = memo.with_extension(format!("{}.tmp", std::process::id()));
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&aside, text))
        .and_then(|()| std::fs::rename(&aside, memo));
    if written.is_err() {
        let _ = std::fs::remove_file(&aside);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sets a file's modification time `ago` in the past.
    fn age(path: &Path, ago: Duration) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - ago).unwrap();
    }

    /// A folder with a `.bib` just written and a cache folder path.
    fn a_file_and_a_cache() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let file = dir.path().join("refs.bib");
        std::fs::write(&file, "@misc{a, title={One}}\n").unwrap();
        (dir, cache, file)
    }

    #[test]
    fn memos_of_files_that_are_gone_are_removed() {
        let (dir, cache, file) = a_file_and_a_cache();
        let other = dir.path().join("other.bib");
        std::fs::write(&other, "@misc{b, title={Two}}\n").unwrap();
        age(&file, Duration::from_secs(60));
        age(&other, Duration::from_secs(60));
        content_hash(&file, &cache).unwrap();
        content_hash(&other, &cache).unwrap();
        std::fs::remove_file(&other).unwrap();
        std::fs::write(cache.join("hashes").join("stray"), "not a memo").unwrap();
        remove_memos_of_missing_files(&cache);
        assert!(memo_path(&file, &cache).exists());
        assert!(!memo_path(&other, &cache).exists());
        assert!(!cache.join("hashes").join("stray").exists());
    }

    #[test]
    fn an_unchanged_file_is_not_read_again_and_any_change_is_seen() {
        let (_dir, cache, file) = a_file_and_a_cache();
        age(&file, Duration::from_secs(60));
        let first = content_hash(&file, &cache).unwrap();
        assert_eq!(first, hash_file(&file).unwrap());
        let memo = memo_path(&file, &cache);
        assert!(memo.exists(), "remembered");
        // A memo with a made-up hash for the same stamp is believed: the
        // file was not read.
        let text = std::fs::read_to_string(&memo).unwrap();
        let forged = text.replace(&format!("{first:016x}"), &format!("{:016x}", 42));
        std::fs::write(&memo, forged).unwrap();
        assert_eq!(content_hash(&file, &cache).unwrap(), 42);
        // Same length, new content, an old modification time: the inode's
        // change time (or, elsewhere, the modification time) gives it away.
        std::fs::write(&file, "@misc{b, title={Two}}\n").unwrap();
        age(&file, Duration::from_secs(60));
        let second = content_hash(&file, &cache).unwrap();
        assert_eq!(second, hash_file(&file).unwrap());
        assert_ne!(second, first);
    }

    #[test]
    fn a_hash_taken_right_after_a_write_is_not_trusted() {
        let (_dir, cache, file) = a_file_and_a_cache();
        let hash = content_hash(&file, &cache).unwrap();
        let memo = memo_path(&file, &cache);
        let text = std::fs::read_to_string(&memo).unwrap();
        std::fs::write(
            &memo,
            text.replace(&format!("{hash:016x}"), &format!("{:016x}", 42)),
        )
        .unwrap();
        assert_eq!(
            content_hash(&file, &cache).unwrap(),
            hash,
            "hashed within the racy margin of the write: read again"
        );
    }

    #[test]
    fn a_damaged_or_foreign_memo_is_ignored() {
        let (dir, cache, file) = a_file_and_a_cache();
        age(&file, Duration::from_secs(60));
        let memo = memo_path(&file, &cache);
        std::fs::create_dir_all(memo.parent().unwrap()).unwrap();
        for junk in [
            "",
            "paper-ls-hash-v1\n/elsewhere.bib\n1 2 3 4 5 2a\n",
            "\u{0}\u{1}",
        ] {
            std::fs::write(&memo, junk).unwrap();
            assert_eq!(
                content_hash(&file, &cache).unwrap(),
                hash_file(&file).unwrap()
            );
        }
        let missing = dir.path().join("missing.bib");
        assert!(content_hash(&missing, &cache).is_err());
    }
}
