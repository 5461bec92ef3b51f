//! The bundled corpus: the seed's papers, imported once into
//! `corpus/papers.bib` and embedded in the binary, so the server is useful the
//! minute it is installed. Go-to-paper must land in a real file even for an
//! installed binary, so the text is written out to the cache directory.

use super::{Corpus, Problem, Severity};
use std::path::{Path, PathBuf};

pub const BUNDLED_BIBTEX: &str = include_str!("../../../corpus/papers.bib");

/// Whether files can be written in the cache directory (made if missing).
pub fn check_cache_dir_writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// The bundled `.bib` on disk, written there (atomically) if it is not yet.
pub fn bundled_bib_path(cache_dir: &Path) -> std::io::Result<PathBuf> {
    let hash = xxhash_rust::xxh3::xxh3_64(BUNDLED_BIBTEX.as_bytes());
    let dir = cache_dir.join("bundled");
    let path = dir.join(format!("papers-{hash:016x}.bib"));
    if std::fs::read(&path).is_ok_and(|b| b == BUNDLED_BIBTEX.as_bytes()) {
        return Ok(path);
    }
    std::fs::create_dir_all(&dir)?;
    write_atomically(&path, BUNDLED_BIBTEX.as_bytes())?;
    Ok(path)
}

/// Writes through a temporary sibling and a rename, so a reader never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The bundled corpus, loaded from its file in the cache directory; when that
/// cannot be written it is read from memory and says so.
pub fn load_bundled(cache_dir: &Path) -> Corpus {
    match bundled_bib_path(cache_dir) {
        Ok(path) => Corpus::load(&[path]),
        Err(e) => {
            let path = PathBuf::from("<bundled>/papers.bib");
            let problem = Problem {
                file: cache_dir.to_path_buf(),
                line: 0,
                severity: Severity::Warning,
                message: format!("cannot write the bundled corpus to the cache directory ({e}); go-to-paper will show cards instead"),
            };
            let source = super::source::ReadSource {
                path,
                kind: super::SourceKind::Bibtex,
                text: BUNDLED_BIBTEX.to_string(),
                gzipped: false,
                content_hash: xxhash_rust::xxh3::xxh3_64(BUNDLED_BIBTEX.as_bytes()),
            };
            Corpus::from_sources(vec![source], vec![problem])
        }
    }
}
