//! Files a feature needs besides the notes and the parsed corpus: a corpus
//! source read again (rename checks the `.bib` it edits is the one it read),
//! whether a source is still there (go to paper), and cards generated for
//! papers whose source no one would read (written into the cache). Features
//! reach the disk only through this, so they can be tested on files in
//! memory and the layer that owns the disk stays the workspace.

use crate::corpus::Cache;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub trait FileSystem: Send + Sync {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    /// Bytes `range` of a file (fewer at its end).
    fn read_range(&self, path: &Path, range: Range<usize>) -> std::io::Result<Vec<u8>>;
    fn is_file(&self, path: &Path) -> bool;
    /// Writes a generated file (a paper card) under `folder` of the cache
    /// and returns where it is; an unchanged file is left as it is.
    fn write_generated(&self, folder: &str, name: &str, text: &str) -> std::io::Result<PathBuf>;
    /// Writes a new file (its folder made if missing) unless one is there;
    /// whether it was written.
    fn write_new(&self, path: &Path, text: &str) -> std::io::Result<bool>;
    /// The cache directory, which holds files paper-ls made (the bundled
    /// corpus's `.bib`, generated cards).
    fn cache_dir(&self) -> &Path;
    /// Where `path` really is: links followed, `.` and `..` gone; an error
    /// when it does not exist.
    fn canonical(&self, path: &Path) -> std::io::Result<PathBuf>;
    /// Whether the file is marked read-only (its permissions say so, even
    /// where the user could override them).
    fn is_read_only(&self, path: &Path) -> bool;
}

/// The real disk.
pub struct Disk {
    cache: Arc<Cache>,
}

impl Disk {
    pub fn new(cache: Arc<Cache>) -> Disk {
        Disk { cache }
    }
}

impl Disk {
    fn is_marked_read_only(path: &Path) -> bool {
        std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly())
    }
}

impl FileSystem for Disk {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn read_range(&self, path: &Path, range: Range<usize>) -> std::io::Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(path)?;
        file.seek(SeekFrom::Start(range.start as u64))?;
        let mut bytes = Vec::with_capacity(range.len());
        file.take(range.len() as u64).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn write_generated(&self, folder: &str, name: &str, text: &str) -> std::io::Result<PathBuf> {
        let dir = self.cache.dir().join(folder);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(name);
        if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
            return Ok(path);
        }
        crate::corpus::bundled::write_atomically(&path, text.as_bytes())?;
        Ok(path)
    }

    fn write_new(&self, path: &Path, text: &str) -> std::io::Result<bool> {
        if path.exists() {
            return Ok(false);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)?;
        Ok(true)
    }

    fn cache_dir(&self) -> &Path {
        self.cache.dir()
    }

    fn canonical(&self, path: &Path) -> std::io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }

    fn is_read_only(&self, path: &Path) -> bool {
        Disk::is_marked_read_only(path)
    }
}

/// Files in memory over the real disk: reads see what was put here first,
/// generated files stay here. For tests of features.
pub struct InMemory {
    cache_dir: PathBuf,
    files: Mutex<HashMap<PathBuf, Vec<u8>>>,
}

impl InMemory {
    pub fn new(cache_dir: impl Into<PathBuf>) -> InMemory {
        InMemory {
            cache_dir: cache_dir.into(),
            files: Mutex::default(),
        }
    }

    pub fn put(&self, path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) {
        super::unpoisoned(&self.files).insert(path.into(), bytes.into());
    }

    /// A file written or put here.
    pub fn get(&self, path: &Path) -> Option<Vec<u8>> {
        super::unpoisoned(&self.files).get(path).cloned()
    }
}

impl FileSystem for InMemory {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.get(path) {
            Some(bytes) => Ok(bytes),
            None => std::fs::read(path),
        }
    }

    fn read_range(&self, path: &Path, range: Range<usize>) -> std::io::Result<Vec<u8>> {
        let bytes = self.read(path)?;
        let end = range.end.min(bytes.len());
        Ok(bytes
            .get(range.start.min(end)..end)
            .unwrap_or_default()
            .to_vec())
    }

    fn is_file(&self, path: &Path) -> bool {
        self.get(path).is_some() || path.is_file()
    }

    fn write_generated(&self, folder: &str, name: &str, text: &str) -> std::io::Result<PathBuf> {
        let path = self.cache_dir.join(folder).join(name);
        self.put(path.clone(), text.as_bytes().to_vec());
        Ok(path)
    }

    fn write_new(&self, path: &Path, text: &str) -> std::io::Result<bool> {
        if self.is_file(path) {
            return Ok(false);
        }
        self.put(path.to_path_buf(), text.as_bytes().to_vec());
        Ok(true)
    }

    fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    fn canonical(&self, path: &Path) -> std::io::Result<PathBuf> {
        match self.get(path) {
            Some(_) => Ok(path.to_path_buf()),
            None => std::fs::canonicalize(path),
        }
    }

    fn is_read_only(&self, path: &Path) -> bool {
        self.get(path).is_none() && Disk::is_marked_read_only(path)
    }
}
