//! What a corpus's source files looked like when they were read: their
//! modification time and length. A reload compares stamps to tell that a
//! file changed (and has since held still), and the last-good policy to tell
//! that it shrank.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Modification time and length; `None` when the file is missing.
pub type Stamp = Option<(SystemTime, u64)>;

pub fn stamp(path: &Path) -> Stamp {
    if let Some(library) = crate::corpus::zotero::ZoteroSource::from_path(path) {
        return library_stamp(&library);
    }
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// A Zotero library changes in its database and in its write-ahead log
/// (where writes stay until a checkpoint): the later time, the total length.
fn library_stamp(library: &crate::corpus::zotero::ZoteroSource) -> Stamp {
    let [database, wal] = library.watched_files();
    let meta = std::fs::metadata(database).ok()?;
    let (mut time, mut len) = (meta.modified().ok()?, meta.len());
    if let Ok(wal) = std::fs::metadata(wal) {
        time = time.max(wal.modified().unwrap_or(time));
        len += wal.len();
    }
    Some((time, len))
}

/// Each source of a corpus with its stamp at the time it was read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceStamps(pub Vec<(PathBuf, Stamp)>);

impl SourceStamps {
    /// Looks at every file of `files` now.
    pub fn take(files: &[PathBuf]) -> SourceStamps {
        SourceStamps(files.iter().map(|p| (p.clone(), stamp(p))).collect())
    }

    /// The stamps as they were, in source order.
    pub fn as_read(&self) -> Vec<Stamp> {
        self.0.iter().map(|(_, s)| *s).collect()
    }

    /// The same files looked at again now.
    pub fn now(&self) -> Vec<Stamp> {
        self.0.iter().map(|(p, _)| stamp(p)).collect()
    }

    /// The length `path` had when it was read.
    pub fn size_of(&self, path: &Path) -> Option<u64> {
        self.0
            .iter()
            .find(|(p, _)| p == path)
            .and_then(|(_, stamp)| stamp.map(|(_, size)| size))
    }
}
