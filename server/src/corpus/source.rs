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

/// How a file read before as `old_len` bytes hashing to `old_hash` (plain
/// UTF-8 without a byte-order mark) stands now.
#[derive(Debug, PartialEq, Eq)]
pub enum Growth {
    /// Byte for byte what was read.
    Unchanged,
    /// What was read, followed by whole lines more.
    Appended(AppendedText),
    /// Anything else: shortened, edited, re-encoded, or ending mid-character.
    Changed,
}

/// The lines a file grew by, and what the whole file is now.
#[derive(Debug, PartialEq, Eq)]
pub struct AppendedText {
    pub text: String,
    /// Lines before the appended text.
    pub lines_before: usize,
    /// The hash [`read_raw`] gives the whole file now.
    pub content_hash: u64,
}

/// How the file at `path` grew since it was `old_len` bytes hashing to
/// `old_hash`, told in one pass over it in pieces that stay in the
/// processor's cache: a JSON Lines dump of 125 MB that gained a line is
/// checked and its new line taken in a few tens of milliseconds, where
/// reading it whole into memory again cost five times that.
pub fn growth_of(path: &Path, old_len: u64, old_hash: u64) -> std::io::Result<Growth> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut file = std::fs::File::open(path)?;
    if file.metadata()?.len() < old_len {
        return Ok(Growth::Changed);
    }
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut prefix_holds = old_len == 0 && hasher.digest() == old_hash;
    // Lines appended to a last line without its newline would lengthen it.
    let mut ends_a_line = old_len == 0;
    let mut buffer = vec![0u8; 1 << 20];
    // The start of a character cut by the last piece, before the new bytes.
    let mut carried = 0;
    let mut at = 0u64;
    let mut lines_before = 0;
    let mut tail = Vec::new();
    loop {
        let n = match file.read(&mut buffer[carried..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let piece = &buffer[carried..carried + n];
        if at == 0 && piece.starts_with(BOM) {
            return Ok(Growth::Changed);
        }
        let in_prefix = usize::try_from(old_len.saturating_sub(at)).map_or(n, |left| left.min(n));
        if in_prefix > 0 {
            let prefix = &piece[..in_prefix];
            hasher.update(prefix);
            lines_before += memchr::memchr_iter(b'\n', prefix).count();
            if at + in_prefix as u64 == old_len {
                prefix_holds = hasher.digest() == old_hash;
                ends_a_line = prefix.last() == Some(&b'\n');
                if !prefix_holds {
                    return Ok(Growth::Changed);
                }
            }
        }
        let past = &piece[in_prefix..];
        if !past.is_empty() {
            if !prefix_holds || !ends_a_line {
                return Ok(Growth::Changed);
            }
            hasher.update(past);
            tail.extend_from_slice(past);
        }
        let checked = carried + n;
        carried = match std::str::from_utf8(&buffer[..checked]) {
            Ok(_) => 0,
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buffer.copy_within(valid..checked, 0);
                checked - valid
            }
            Err(_) => return Ok(Growth::Changed),
        };
        at += n as u64;
    }
    if carried > 0 || at < old_len || !prefix_holds {
        return Ok(Growth::Changed);
    }
    if tail.is_empty() {
        return Ok(Growth::Unchanged);
    }
    let Ok(text) = String::from_utf8(tail) else {
        return Ok(Growth::Changed);
    };
    Ok(Growth::Appended(AppendedText {
        text,
        lines_before,
        content_hash: hasher.digest(),
    }))
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

    #[test]
    fn growth_is_told_from_one_pass_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dump.jsonl");
        // Over a read piece long, with a character cut by a piece's end.
        let mut before = String::new();
        while before.len() < (1 << 20) - 100 {
            before.push_str("{\"title\": \"Graphen\"}\n");
        }
        let pad = (1 << 20) - 1 - before.len() - "{\"title\": \"".len();
        before.push_str(&format!("{{\"title\": \"{}é\"}}\n", "x".repeat(pad)));
        assert!(!before.is_char_boundary(1 << 20));
        std::fs::write(&path, &before).unwrap();
        let (old_len, old_hash) = (
            before.len() as u64,
            xxhash_rust::xxh3::xxh3_64(before.as_bytes()),
        );
        let growth = |path: &Path| growth_of(path, old_len, old_hash).unwrap();
        assert_eq!(growth(&path), Growth::Unchanged);

        let more = "{\"title\": \"Añadido\"}\n{\"title\": \"Two\"}\n";
        let after = format!("{before}{more}");
        std::fs::write(&path, &after).unwrap();
        let Growth::Appended(appended) = growth(&path) else {
            panic!("an append was not seen as one");
        };
        assert_eq!(appended.text, more);
        assert_eq!(appended.lines_before, before.matches('\n').count());
        assert_eq!(appended.content_hash, read_raw(&path).unwrap().content_hash);

        let changed = |text: &[u8]| {
            std::fs::write(&path, text).unwrap();
            growth(&path)
        };
        let edited = after.replacen("Graphen", "Graphes", 1);
        assert_eq!(changed(edited.as_bytes()), Growth::Changed, "an edit");
        assert_eq!(
            changed(&before.as_bytes()[..100]),
            Growth::Changed,
            "shortened"
        );
        let bom = [b"\xEF\xBB\xBF".as_slice(), after.as_bytes()].concat();
        assert_eq!(changed(&bom), Growth::Changed, "a byte-order mark");
        let latin1 = [before.as_bytes(), b"{\"title\": \"\xE9\"}\n"].concat();
        assert_eq!(changed(&latin1), Growth::Changed, "no longer UTF-8");
        let cut = &after.as_bytes()[..after.len() - 3];
        assert!(
            matches!(changed(cut), Growth::Appended(_)),
            "a last line cut short is still read"
        );
        let mid_char = &after.as_bytes()[..before.len() + 13];
        assert_eq!(
            changed(mid_char),
            Growth::Changed,
            "ends inside a character"
        );

        // A last line without its newline is lengthened by what follows.
        let open = &before[..before.len() - 1];
        let open_hash = xxhash_rust::xxh3::xxh3_64(open.as_bytes());
        std::fs::write(&path, &before).unwrap();
        assert_eq!(
            growth_of(&path, open.len() as u64, open_hash).unwrap(),
            Growth::Changed
        );
        std::fs::write(&path, "{}\n").unwrap();
        let empty = xxhash_rust::xxh3::xxh3_64(b"");
        assert!(
            matches!(growth_of(&path, 0, empty).unwrap(), Growth::Appended(a) if a.lines_before == 0)
        );
    }
}
