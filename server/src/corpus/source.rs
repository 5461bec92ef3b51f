//! Reading one corpus file from disk into text: gzip is undone, UTF-8 is
//! checked and Latin-1 is the fallback, and the kind of source is decided from
//! the file name, or from the content when the name says nothing.
//!
//! This module knows nothing of what is *in* a source; the loaders do.

use super::paper::{Problem, Severity};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The formats a corpus file can be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Bibtex,
    CslJson,
    JsonLines,
    Digest,
    /// A Zotero library (`zotero.sqlite`), read by `corpus::zotero`.
    Zotero,
    /// A Hayagriva YAML bibliography (Typst's), read by `corpus::hayagriva_yaml`.
    HayagrivaYaml,
}

impl SourceKind {
    /// The kind named by a file's extension (a trailing `.gz` looked through).
    pub fn from_path(path: &Path) -> Option<SourceKind> {
        let name = path.file_name()?.to_string_lossy().to_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let ext = name.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "bib" | "bibtex" | "biblatex" => Some(SourceKind::Bibtex),
            "json" | "csl" | "csljson" => Some(SourceKind::CslJson),
            "jsonl" | "ndjson" => Some(SourceKind::JsonLines),
            "txt" | "digest" => Some(SourceKind::Digest),
            "sqlite" => Some(SourceKind::Zotero),
            "yml" | "yaml" => Some(SourceKind::HayagrivaYaml),
            _ => None,
        }
    }

    /// A guess from the first non-blank bytes, for files with unhelpful names.
    pub fn sniff(text: &str) -> SourceKind {
        let head = text.trim_start_matches('\u{feff}').trim_start();
        if head.starts_with('[') {
            SourceKind::CslJson
        } else if head.starts_with('{') {
            let first_line = head.lines().next().unwrap_or("");
            if serde_json::from_str::<serde_json::Value>(first_line).is_ok() {
                SourceKind::JsonLines
            } else {
                SourceKind::CslJson
            }
        } else if looks_like_bibtex(head) {
            SourceKind::Bibtex
        } else {
            SourceKind::Digest
        }
    }

    /// Sources whose entries a person reads and edits in place.
    pub fn is_bibtex(self) -> bool {
        self == SourceKind::Bibtex
    }
}

fn looks_like_bibtex(head: &str) -> bool {
    head.lines().take(200).any(|line| {
        let line = line.trim_start();
        line.starts_with('@')
            && line[1..]
                .trim_start()
                .starts_with(|c: char| c.is_ascii_alphabetic())
    })
}

/// A corpus file as read: its decoded text and how it was stored.
#[derive(Debug)]
pub struct ReadSource {
    pub path: PathBuf,
    pub kind: SourceKind,
    pub text: String,
    pub gzipped: bool,
    /// Hash of the raw bytes on disk: the persisted index is keyed by it.
    pub content_hash: u64,
}

/// A corpus file's bytes as they are on disk, with their hash.
pub struct RawSource {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub content_hash: u64,
}

/// Reads, un-gzips and decodes a corpus file. Decoding caveats come back as
/// warnings; only an unreadable file is an error.
pub fn read_source(path: &Path) -> Result<(ReadSource, Vec<Problem>), Problem> {
    decode_source(read_raw(path)?)
}

fn whole_file_problem(path: &Path, message: String) -> Problem {
    Problem {
        file: path.to_path_buf(),
        line: 0,
        severity: Severity::Error,
        message,
    }
}

/// A corpus file's bytes, undecoded: enough to tell whether it changed.
pub fn read_raw(path: &Path) -> Result<RawSource, Problem> {
    let bytes = std::fs::read(path)
        .map_err(|e| whole_file_problem(path, format!("cannot read file: {e}")))?;
    Ok(RawSource {
        path: path.to_path_buf(),
        content_hash: xxhash_rust::xxh3::xxh3_64(&bytes),
        bytes,
    })
}

/// The hash [`read_raw`] gives, read in pieces so a large file is never
/// held whole just to learn whether it changed.
pub fn hash_file(path: &Path) -> Result<u64, Problem> {
    let unreadable = |e: std::io::Error| whole_file_problem(path, format!("cannot read file: {e}"));
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Ok(hasher.digest()),
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(unreadable(e)),
        }
    }
}

/// Un-gzips and decodes a file read by [`read_raw`].
pub fn decode_source(raw: RawSource) -> Result<(ReadSource, Vec<Problem>), Problem> {
    let RawSource {
        path,
        bytes: raw,
        content_hash,
    } = raw;
    let gzipped = raw.starts_with(&[0x1f, 0x8b]);
    let bytes = if gzipped {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| whole_file_problem(&path, format!("cannot decompress gzip data: {e}")))?;
        out
    } else {
        raw
    };
    if let Some(what) = binary_kind(&bytes) {
        return Err(whole_file_problem(
            &path,
            format!(
                "not a corpus file paper-ls can read: it is {what}; corpus files are BibTeX \
                 (.bib), CSL-JSON (.json), JSON Lines (.jsonl) or paper digests (.txt), each \
                 possibly gzipped"
            ),
        ));
    }
    let mut problems = Vec::new();
    let text = decode_text(bytes, &path, &mut problems);
    let kind = SourceKind::from_path(&path).unwrap_or_else(|| SourceKind::sniff(&text));
    let source = ReadSource {
        path,
        kind,
        text,
        gzipped,
        content_hash,
    };
    Ok((source, problems))
}

/// What a file is when its first bytes show it is no text at all (text
/// corpora never hold a NUL byte); `None` for text.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(&[u8], &str); 3] = [
        (
            b"SQLite format 3\0",
            "an SQLite database (a Zotero library's zotero.sqlite is one)",
        ),
        (b"%PDF-", "a PDF"),
        (b"PK\x03\x04", "a zip archive"),
    ];
    if let Some((_, what)) = SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
    {
        return Some(what);
    }
    let head = &bytes[..bytes.len().min(8192)];
    head.contains(&0).then_some("binary data")
}

/// UTF-8 when valid (a BOM dropped), Latin-1 otherwise: real bibliographies
/// from older tools are often Latin-1, and every byte sequence is valid Latin-1.
pub fn decode_text(bytes: Vec<u8>, path: &Path, problems: &mut Vec<Problem>) -> String {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..3);
            }
            text
        }
        Err(err) => {
            let bad_at = err.utf8_error().valid_up_to();
            let bytes = err.into_bytes();
            let line = 1 + bytes[..bad_at].iter().filter(|&&b| b == b'\n').count() as u32;
            problems.push(Problem {
                file: path.to_path_buf(),
                line,
                severity: Severity::Warning,
                message: "file is not valid UTF-8; read it as Latin-1 (ISO-8859-1)".into(),
            });
            bytes.iter().map(|&b| b as char).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_from_extension_looks_through_gz() {
        let kind = |p: &str| SourceKind::from_path(Path::new(p));
        assert_eq!(kind("refs.bib"), Some(SourceKind::Bibtex));
        assert_eq!(kind("a/arxiv.jsonl.gz"), Some(SourceKind::JsonLines));
        assert_eq!(kind("zotero.JSON"), Some(SourceKind::CslJson));
        assert_eq!(kind("digest.txt"), Some(SourceKind::Digest));
        assert_eq!(kind("noext"), None);
    }

    #[test]
    fn sniffing_tells_formats_apart() {
        assert_eq!(SourceKind::sniff("  [{\"id\": 1}]"), SourceKind::CslJson);
        assert_eq!(
            SourceKind::sniff("{\"id\": \"1\"}\n{\"id\": \"2\"}"),
            SourceKind::JsonLines
        );
        assert_eq!(
            SourceKind::sniff("% c\n@article{x, title={T}}"),
            SourceKind::Bibtex
        );
        assert_eq!(
            SourceKind::sniff("A Title\nAn abstract."),
            SourceKind::Digest
        );
    }

    #[test]
    fn latin1_falls_back_with_a_warning_on_the_right_line() {
        let mut problems = Vec::new();
        let text = decode_text(
            b"line one\nM\xfcller".to_vec(),
            Path::new("x.bib"),
            &mut problems,
        );
        assert_eq!(text, "line one\nMüller");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 2);
    }

    #[test]
    fn binary_files_are_refused_with_what_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = dir.path().join("zotero.sqlite");
        let mut bytes = b"SQLite format 3\0".to_vec();
        bytes.extend(std::iter::repeat_n(0u8, 4000));
        bytes.extend_from_slice(b"Some Title\nAn abstract.\n");
        std::fs::write(&sqlite, &bytes).unwrap();
        let problem = read_source(&sqlite).unwrap_err();
        assert!(
            problem.message.contains("an SQLite database"),
            "{}",
            problem.message
        );
        assert_eq!(problem.severity, Severity::Error);
        let odd = dir.path().join("papers.dat");
        std::fs::write(&odd, b"Title\n\0\x01\x02binary").unwrap();
        assert!(read_source(&odd)
            .unwrap_err()
            .message
            .contains("binary data"));
        let corpus = crate::corpus::Corpus::load(&[sqlite]);
        assert_eq!(corpus.papers.len(), 0);
        assert_eq!(corpus.problems.len(), 1);
    }

    #[test]
    fn gzip_is_undone() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("refs.bib.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"@misc{k, title={T}}").unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let (source, problems) = read_source(&path).unwrap();
        assert!(problems.is_empty());
        assert!(source.gzipped);
        assert_eq!(source.kind, SourceKind::Bibtex);
        assert_eq!(source.text, "@misc{k, title={T}}");
    }
}
