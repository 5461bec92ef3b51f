//! The cache directory, as a value handed down from `main`: where parsed
//! corpora, persisted indexes, the bundled corpus's file and generated paper
//! cards live, and the parsed-corpus writes still under way there.
//!
//! The directory is chosen once (`$PAPER_LS_CACHE_DIR`, else the platform's
//! cache folder) by [`Cache::from_environment`]; nothing below `main` reads
//! the environment for it. Writes of parsed corpora run beside the load that
//! made them; a command about to exit waits for them with
//! [`Cache::finish_writes`] (the server just lets them finish).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;

pub struct Cache {
    dir: PathBuf,
    pending_writes: Mutex<Vec<JoinHandle<()>>>,
}

impl Cache {
    /// A cache in `dir` (made when first written to).
    pub fn at(dir: impl Into<PathBuf>) -> Cache {
        Cache {
            dir: dir.into(),
            pending_writes: Mutex::default(),
        }
    }

    /// `$PAPER_LS_CACHE_DIR`, else the platform cache directory
    /// (`~/.cache/paper-ls`), else the temp directory.
    pub fn from_environment() -> Cache {
        let dir = std::env::var_os("PAPER_LS_CACHE_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                dirs::cache_dir()
                    .unwrap_or_else(std::env::temp_dir)
                    .join("paper-ls")
            });
        Cache::at(dir)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps a background write to wait for in [`Cache::finish_writes`].
    pub(super) fn write_started(&self, handle: JoinHandle<()>) {
        let mut pending = self
            .pending_writes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pending.retain(|h| !h.is_finished());
        pending.push(handle);
    }

    /// Waits for parsed corpora still being written (a command about to exit).
    pub fn finish_writes(&self) {
        let pending = std::mem::take(
            &mut *self
                .pending_writes
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for handle in pending {
            let _ = handle.join();
        }
    }
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("dir", &self.dir).finish()
    }
}
