//! Reading a changed `.bib` again by entry: what changed is found by
//! comparing the file's pieces (see `bibtex::Chunks`) with those it had
//! when it was read, only the changed pieces are parsed, and the paper table,
//! the key order and the problems are spliced — a one-character edit of a
//! 72k-entry file costs a read and a hash of the file, not a parse of it.
//!
//! The result must be exactly what reading every file again would give
//! (the tests check it against fresh loads over random edits of real
//! files), so whenever the changed entries are tied to the rest of the load
//! the whole load is read instead: a macro defined or changed, a `crossref`
//! or `xdata` link, a key that another entry has too (in any case, in any
//! source) or that generated keys were built around, an identifier (DOI,
//! arXiv id) another entry shares, a file-level problem (decoding), more
//! than one changed file, or any Zotero library or compressed file.

use super::bibtex::{self, BibSource, Chunks, Links, MacroTable};
use super::paper::{KeyOrigin, Paper, Problem};
use super::{hash_memo, source, Corpus, PaperTable, SourceFile, SourceKind};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// What a load knows of its `.bib` and JSON Lines sources that reloading
/// one entry needs.
#[derive(Clone, Debug)]
pub struct ReloadFacts {
    pub(super) macros: Arc<MacroTable>,
    pub(super) links: Arc<Links>,
    /// Each source's pieces (`None`: not a plain `.bib`).
    pub(super) chunks: Vec<Option<Arc<Chunks>>>,
    /// How many `.bib` papers carry each identifier (by hash of its
    /// normalised form, as the same-paper warning compares them).
    pub(super) ids: Arc<HashMap<u64, u32>>,
    /// Each plain JSON Lines source's length in bytes as read (what it
    /// must still begin with for lines appended to be read alone).
    pub(super) appendable: Vec<Option<u64>>,
}

/// The facts of a load, filled in beside it once the texts are cut into
/// pieces (a background thread, so the first answer does not wait).
pub type FactsSlot = Arc<OnceLock<Arc<ReloadFacts>>>;

/// Where a reload replaced papers: `removed` papers at ordinal `at` of the
/// old corpus became `added` papers at the same ordinal of the new one;
/// papers after them moved by `added - removed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Splice {
    pub at: usize,
    pub removed: usize,
    pub added: usize,
}

impl Splice {
    /// Where the paper at `old` ordinal is now; `None` for a replaced one.
    pub fn new_ordinal(&self, old: usize) -> Option<usize> {
        if old < self.at {
            Some(old)
        } else if old < self.at + self.removed {
            None
        } else {
            Some(old - self.removed + self.added)
        }
    }

    /// The new papers' ordinals.
    pub fn added_ordinals(&self) -> Range<usize> {
        self.at..self.at + self.added
    }
}

impl ReloadFacts {
    /// The facts of a load whose plain `.bib` sources had `texts` (by
    /// source index; `None` for other sources) and whose papers carry the
    /// identifiers `ids` (see [`count_ids`]).
    pub(super) fn gather(
        macros: MacroTable,
        links: Links,
        texts: &[Option<&str>],
        ids: HashMap<u64, u32>,
        appendable: Vec<Option<u64>>,
    ) -> ReloadFacts {
        ReloadFacts {
            appendable,
            macros: Arc::new(macros),
            links: Arc::new(links),
            chunks: texts
                .iter()
                .map(|text| text.and_then(Chunks::of).map(Arc::new))
                .collect(),
            ids: Arc::new(ids),
        }
    }

    /// The load's macros, for copying entries out.
    pub fn macros(&self) -> Arc<MacroTable> {
        self.macros.clone()
    }
}

/// How many `.bib` papers carry each identifier, over papers given as
/// (source index, DOI, arXiv id).
pub(super) fn count_ids<'a>(
    papers: impl Iterator<Item = (usize, Option<&'a str>, Option<&'a str>)>,
    is_bibtex: &[bool],
) -> HashMap<u64, u32> {
    let mut ids = HashMap::new();
    for (file, doi, arxiv) in papers {
        if is_bibtex.get(file).copied().unwrap_or(false) {
            for id in id_hashes(doi, arxiv) {
                *ids.entry(id).or_insert(0) += 1;
            }
        }
    }
    ids
}

/// The length of the plain JSON Lines `source` when it still holds what
/// the corpus read from it: from its stamp when its remembered hash is the
/// one it was read with, else by checking it in one pass — a file written
/// less than the hash memo's margin before the start has no trusted memo,
/// and its first append would otherwise be read whole. (A file grown since
/// its length was taken still begins with what was read.)
fn read_length(source: &SourceFile, cache_dir: &Path) -> Option<u64> {
    let len = std::fs::metadata(&source.path).ok()?.len();
    if hash_memo::remembered_hash(&source.path, cache_dir) == Some(source.content_hash) {
        return Some(len);
    }
    match source::growth_of(&source.path, len, source.content_hash).ok()? {
        source::Growth::Unchanged | source::Growth::Appended(_) => Some(len),
        source::Growth::Changed => None,
    }
}

/// Hashes of the identifiers that make two entries the same paper, in the
/// forms `same_paper::warn_same_paper_twice` compares.
fn id_hashes<'a>(doi: Option<&'a str>, arxiv: Option<&'a str>) -> impl Iterator<Item = u64> + 'a {
    let doi = doi.map(|d| format!("doi:{}", d.to_lowercase()));
    let arxiv = arxiv.map(|a| {
        format!(
            "arxiv:{}",
            super::same_paper::without_version(a).to_lowercase()
        )
    });
    [doi, arxiv]
        .into_iter()
        .flatten()
        .map(|id| xxhash_rust::xxh3::xxh3_64(id.as_bytes()))
}

impl Corpus {
    /// Gathers the reload facts of a corpus that has none (read back from
    /// the parsed-corpus cache) by reading its plain `.bib` sources again,
    /// if they still hold what the corpus was read from (blocking: a
    /// fraction of a second per 100k entries, run beside).
    pub fn gather_reload_facts(&self, cache_dir: &Path) {
        let plain = |s: &SourceFile| {
            !s.gzipped && matches!(s.kind, SourceKind::Bibtex | SourceKind::JsonLines)
        };
        if self.reload_facts.get().is_some()
            || !self.sources.iter().any(plain)
            || self.sources.iter().any(|s| s.kind == SourceKind::Zotero)
        {
            return;
        }
        let appendable = self
            .sources
            .iter()
            .map(|s| {
                (s.kind == SourceKind::JsonLines && !s.gzipped)
                    .then(|| read_length(s, cache_dir))?
            })
            .collect();
        let mut texts = Vec::with_capacity(self.sources.len());
        for src in &self.sources {
            if !src.kind.is_bibtex() {
                texts.push(None);
                continue;
            }
            match source::read_source(&src.path) {
                Ok((read, _)) if read.content_hash == src.content_hash => {
                    texts.push(Some((read.text, read.gzipped)));
                }
                _ => return,
            }
        }
        let bib: Vec<BibSource<'_>> = texts
            .iter()
            .zip(&self.sources)
            .enumerate()
            .filter_map(|(file, (text, src))| {
                Some(BibSource {
                    file,
                    path: &src.path,
                    text: &text.as_ref()?.0,
                })
            })
            .collect();
        let (macros, links) = bibtex::load_links(&bib);
        let is_bibtex: Vec<bool> = self.sources.iter().map(|s| s.kind.is_bibtex()).collect();
        let ids = count_ids(
            self.papers
                .iter()
                .map(|p| (p.origin.file, p.ids.doi, p.ids.arxiv)),
            &is_bibtex,
        );
        let plain: Vec<Option<&str>> = texts
            .iter()
            .map(|t| {
                t.as_ref()
                    .filter(|(_, gzipped)| !gzipped)
                    .map(|(t, _)| t.as_str())
            })
            .collect();
        let facts = ReloadFacts::gather(macros, links, &plain, ids, appendable);
        drop(plain);
        drop(bib);
        drop(texts);
        super::release_freed_memory();
        let _ = self.reload_facts.set(Arc::new(facts));
    }

    /// This corpus with the one changed `.bib` among `files` read again by
    /// entry (see the module documentation), and where its papers moved;
    /// `None` when it must be read whole (or nothing changed).
    pub fn reloaded_by_entry(
        &self,
        files: &[PathBuf],
        cache_dir: &Path,
    ) -> Option<(Corpus, Splice)> {
        let facts = self.reload_facts.get()?;
        let files = super::expand_paths(files);
        let same_files = files.len() == self.sources.len()
            && files.iter().zip(&self.sources).all(|(f, s)| *f == s.path);
        if !same_files || facts.chunks.len() != self.sources.len() {
            return None;
        }
        // Sources whose remembered hash still holds are unchanged; the
        // others are read (once: the changed one's text is what is parsed).
        let mut changed = None;
        let mut appended = None;
        for (i, src) in self.sources.iter().enumerate() {
            if src.kind == SourceKind::Zotero {
                return None;
            }
            if hash_memo::remembered_hash(&src.path, cache_dir) == Some(src.content_hash) {
                continue;
            }
            // A dump that grows is checked by its growth, never held whole.
            if let Some(&Some(old_len)) = facts.appendable.get(i) {
                match source::growth_of(&src.path, old_len, src.content_hash).ok()? {
                    source::Growth::Unchanged => continue,
                    source::Growth::Changed => return None,
                    source::Growth::Appended(text) => {
                        if appended.is_some() || changed.is_some() {
                            return None;
                        }
                        appended = Some((i, text));
                        continue;
                    }
                }
            }
            let (read, warnings) = source::read_source(&src.path).ok()?;
            if read.content_hash == src.content_hash {
                continue;
            }
            if changed.is_some() || appended.is_some() || !warnings.is_empty() {
                return None;
            }
            changed = Some((i, read));
        }
        if let Some((file, text)) = appended {
            return self.lines_appended(facts, file, text);
        }
        let (file, read) = changed?;
        let old_source = &self.sources[file];
        if old_source.gzipped || read.gzipped || old_source.kind != read.kind {
            return None;
        }
        match read.kind {
            SourceKind::Bibtex => self.bib_reloaded_by_entry(facts, file, &read),
            _ => None,
        }
    }

    /// [`Corpus::reloaded_by_entry`] of the `.bib` source `file`, read now as `read`.
    fn bib_reloaded_by_entry(
        &self,
        facts: &ReloadFacts,
        file: usize,
        read: &source::ReadSource,
    ) -> Option<(Corpus, Splice)> {
        let old_source = &self.sources[file];
        let old_chunks = facts.chunks[file].as_deref()?;
        let new_chunks = Chunks::of(&read.text)?;
        let region = old_chunks.changed_region(&new_chunks)?;
        // Past this much, a whole read costs about the same.
        let changed_bytes = region.old_bytes.len().max(region.new_bytes.len());
        if changed_bytes > (read.text.len() / 8).max(1 << 20) {
            return None;
        }
        if old_chunks.define_strings(region.old_chunks.clone())
            || new_chunks.define_strings(region.new_chunks.clone())
        {
            return None;
        }
        let bib = BibSource {
            file,
            path: &old_source.path,
            text: &read.text,
        };
        let (mut papers, region_problems) = bibtex::reload_region(
            &bib,
            region.new_bytes.clone(),
            region.lines_before,
            &facts.macros,
            &facts.links,
        )?;
        let old_papers = self.ordinals_in(file, region.old_bytes.clone());
        if !self.replaceable(old_papers.clone(), &facts.links)
            || !self.keys_stand_apart(&papers, old_papers.clone())
        {
            return None;
        }
        let ids = updated_ids(&facts.ids, self, old_papers.clone(), &papers)?;
        for paper in &mut papers {
            paper.origin.key_columns = super::key_columns_in(&read.text, &paper.origin);
        }
        // Lines from the old region's end on move by the change in lines;
        // a region that runs to the end of the text ends no line.
        let old_end_line = if region.old_bytes.end < old_chunks.text_len() {
            region.lines_before + region.old_newlines + 1
        } else {
            u32::MAX
        };
        let lines = LineShift {
            file: &old_source.path,
            region_start: region.lines_before + 1,
            region_end: old_end_line,
            delta: i64::from(region.new_newlines) - i64::from(region.old_newlines),
        };
        let mut chunks = facts.chunks.clone();
        chunks[file] = Some(Arc::new(new_chunks));
        let kept = ReloadFacts {
            chunks,
            ids: Arc::new(ids),
            ..facts.clone()
        };
        let bytes = region.new_bytes.len() as i64 - region.old_bytes.len() as i64;
        self.spliced(
            file,
            read.content_hash,
            old_papers,
            papers,
            region_problems,
            (bytes, lines),
            kept,
        )
    }

    /// [`Corpus::reloaded_by_entry`] of the JSON Lines source `file`, which
    /// grew by `appended` (a dump that grows): the new lines are read alone.
    fn lines_appended(
        &self,
        facts: &ReloadFacts,
        file: usize,
        appended: source::AppendedText,
    ) -> Option<(Corpus, Splice)> {
        let old_len = usize::try_from((*facts.appendable.get(file)?)?).ok()?;
        let lines_before = appended.lines_before;
        let path = &self.sources[file].path;
        let (mut papers, mut problems) =
            super::jsonl::read_lines(file, path, &appended.text, old_len, lines_before);
        // Keys are generated as a whole load generates them when no paper
        // has a key their generated keys would start from.
        let paths: Vec<PathBuf> = self.sources.iter().map(|s| s.path.clone()).collect();
        let bases_free = papers.iter().all(|p| {
            !p.key.is_empty()
                || self
                    .keys_starting_with(&super::keys::base_key(p))
                    .next()
                    .is_none()
        });
        if !bases_free {
            return None;
        }
        super::keys::assign_keys(&mut papers, &paths, &mut problems);
        let end = self.ordinals_in(file, 0..usize::MAX).end;
        if !self.keys_stand_apart(&papers, end..end) {
            return None;
        }
        let lines = LineShift {
            file: path,
            region_start: lines_before as u32 + 1,
            region_end: u32::MAX,
            delta: 0,
        };
        let mut appendable = facts.appendable.clone();
        appendable[file] = Some((old_len + appended.text.len()) as u64);
        let kept = ReloadFacts {
            appendable,
            ..facts.clone()
        };
        let hash = appended.content_hash;
        self.spliced(file, hash, end..end, papers, problems, (0, lines), kept)
    }

    /// The corpus with the papers at `replaced` (of source `file`, whose
    /// content now hashes to `content_hash`) given way to `papers` and their
    /// problems, the entries after them moved by `(bytes, lines)`, keeping
    /// `facts`.
    #[allow(clippy::too_many_arguments)]
    fn spliced(
        &self,
        file: usize,
        content_hash: u64,
        replaced: Range<usize>,
        papers: Vec<Paper>,
        region_problems: Vec<Problem>,
        (bytes, lines): (i64, LineShift<'_>),
        facts: ReloadFacts,
    ) -> Option<(Corpus, Splice)> {
        let splice = Splice {
            at: replaced.start,
            removed: replaced.len(),
            added: papers.len(),
        };
        let problems = lines.problems(&self.problems, region_problems, &self.sources)?;
        let table = self
            .papers
            .spliced(replaced, &papers, file, bytes, lines.delta)?;
        let mut sources = self.sources.clone();
        let old_source = &self.sources[file];
        sources[file] = SourceFile {
            content_hash,
            papers: old_source.papers - splice.removed + splice.added,
            ..old_source.clone()
        };
        let sorted_keys = spliced_key_order(&self.sorted_keys, splice, &table);
        let mut corpus = Corpus::with_sorted_keys(table, sources, problems, sorted_keys);
        corpus.library_links = self
            .library_links
            .iter()
            .filter_map(|(&ordinal, links)| {
                Some((splice.new_ordinal(ordinal as usize)? as u32, links.clone()))
            })
            .collect();
        let _ = corpus.reload_facts.set(Arc::new(facts));
        Some((corpus, splice))
    }

    /// The ordinals of the papers of `file` whose entries start in `bytes`
    /// (papers are ordered by file, then place).
    fn ordinals_in(&self, file: usize, bytes: Range<usize>) -> Range<usize> {
        let before = |offset: usize| {
            self.papers
                .partition_point(|origin_file, start| (origin_file, start) < (file, offset))
        };
        before(bytes.start)..before(bytes.end)
    }

    /// Whether the papers at `ordinals` can go without touching others: no
    /// generated key, no key with duplicates or named as a parent, and no
    /// generated key elsewhere built around theirs (which would change).
    fn replaceable(&self, ordinals: Range<usize>, links: &Links) -> bool {
        ordinals.into_iter().all(|i| {
            let paper = self.papers.paper(i);
            paper.key_origin == KeyOrigin::Source
                && !links.duplicated_keys.contains(paper.key)
                && !links.parent_keys.contains(&paper.key.to_lowercase())
                && !self
                    .keys_starting_with(paper.key)
                    .any(|j| self.papers.paper(j).key_origin == KeyOrigin::Generated)
        })
    }

    /// Whether no key of `papers` is taken by a paper outside `replaced`,
    /// in any case, nor begins a generated key (which was built avoiding
    /// the keys it knew).
    fn keys_stand_apart(&self, papers: &[Paper], replaced: Range<usize>) -> bool {
        papers.iter().all(|paper| {
            self.keys_starting_with(&paper.key).all(|j| {
                let other = self.papers.paper(j);
                (replaced.contains(&j) || !super::keys_equal_folded(other.key, &paper.key))
                    && other.key_origin != KeyOrigin::Generated
            })
        })
    }
}

/// The identifier counts after `removed` papers of `corpus` gave way to
/// `added`; `None` when an identifier of either is carried by another
/// paper (a same-paper warning would appear or go).
fn updated_ids(
    ids: &HashMap<u64, u32>,
    corpus: &Corpus,
    removed: Range<usize>,
    added: &[Paper],
) -> Option<HashMap<u64, u32>> {
    let mut counts = ids.clone();
    for i in removed {
        let paper = corpus.papers.paper(i);
        for id in id_hashes(paper.ids.doi, paper.ids.arxiv) {
            let count = counts.get_mut(&id)?;
            if *count != 1 {
                return None;
            }
            counts.remove(&id);
        }
    }
    for paper in added {
        for id in id_hashes(paper.ids.doi.as_deref(), paper.ids.arxiv.as_deref()) {
            let count = counts.entry(id).or_insert(0);
            *count += 1;
            if *count > 1 {
                return None;
            }
        }
    }
    Some(counts)
}

/// How the lines of the changed file moved.
struct LineShift<'a> {
    file: &'a Path,
    /// The old region's first line, and the first line after it.
    region_start: u32,
    region_end: u32,
    delta: i64,
}

impl LineShift<'_> {
    fn moved(&self, line: u32) -> u32 {
        (i64::from(line) + self.delta).clamp(0, i64::from(u32::MAX)) as u32
    }

    /// The corpus's problems after the change: those of the old region
    /// give way to the new region's, later ones move, and so do the lines
    /// other problems name in the changed file. `None` when a problem
    /// concerns the whole file, or names a line of the old region.
    fn problems(
        &self,
        old: &[Problem],
        region: Vec<Problem>,
        sources: &[SourceFile],
    ) -> Option<Vec<Problem>> {
        let mut out = Vec::with_capacity(old.len() + region.len());
        let mut region = Some(region);
        for problem in old {
            let here = problem.file == self.file;
            if here && problem.line == 0 {
                return None;
            }
            let in_region = here && (self.region_start..self.region_end).contains(&problem.line);
            if here && problem.line >= self.region_start {
                if let Some(new) = region.take() {
                    out.extend(new);
                }
            }
            if in_region {
                continue;
            }
            let mut problem = problem.clone();
            if here && problem.line >= self.region_end {
                problem.line = self.moved(problem.line);
            }
            problem.message = self.shift_mentions(&problem.message, here, sources)?;
            out.push(problem);
        }
        out.extend(region.into_iter().flatten());
        Some(out)
    }

    /// `message` with each `line N` it names in the changed file moved:
    /// a bare `line N` names the problem's own file, `PATH line N` names
    /// PATH (the forms the readers write).
    fn shift_mentions(&self, message: &str, own: bool, sources: &[SourceFile]) -> Option<String> {
        const WORD: &str = "line ";
        let mut out = String::with_capacity(message.len());
        let mut rest = message;
        while let Some(at) = rest.find(WORD) {
            let digits = rest[at + WORD.len()..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let (before, after) = rest.split_at(at + WORD.len());
            out.push_str(before);
            rest = after;
            if digits == 0 {
                continue;
            }
            let named_here = match sources
                .iter()
                .find(|s| before.ends_with(&format!("{} {WORD}", s.path.display())))
            {
                Some(source) => source.path == self.file,
                None => own,
            };
            let (number, after) = rest.split_at(digits);
            rest = after;
            let line: u32 = number.parse().ok()?;
            if named_here && (self.region_start..self.region_end).contains(&line) {
                return None;
            }
            if named_here && line >= self.region_end {
                out.push_str(&self.moved(line).to_string());
            } else {
                out.push_str(number);
            }
        }
        out.push_str(rest);
        Some(out)
    }
}

/// The key order after `splice`: the replaced papers' ordinals dropped,
/// later ones moved, and the new papers' put in place (ordered as
/// `sort_by_key_text` orders them: folded key, then ordinal).
fn spliced_key_order(old: &[u32], splice: Splice, table: &PaperTable) -> Vec<u32> {
    let order = old
        .iter()
        .filter_map(|&i| splice.new_ordinal(i as usize).map(|i| i as u32));
    let mut added: Vec<u32> = splice.added_ordinals().map(|i| i as u32).collect();
    let cmp = |a: u32, b: u32| {
        super::folded_cmp(table.key(a as usize), table.key(b as usize)).then(a.cmp(&b))
    };
    added.sort_by(|&a, &b| cmp(a, b));
    // Merged rather than inserted one by one: a dump may grow by thousands.
    let mut merged = Vec::with_capacity(old.len() + added.len());
    let mut kept = order.peekable();
    for new in added {
        while let Some(old) = kept.next_if(|&old| cmp(old, new) == std::cmp::Ordering::Less) {
            merged.push(old);
        }
        merged.push(new);
    }
    merged.extend(kept);
    merged
}

#[cfg(test)]
mod tests;
