//! Which paper each indexed document is. A document carries a number of its
//! own (the schema's `ordinal` field): the paper's ordinal when the index
//! was built, and a new number for each paper indexed since. When a `.bib`
//! edit adds or removes an entry, every later paper's ordinal moves by one;
//! rather than re-index them all, the index keeps a table from document
//! number to the paper's ordinal now (and back), persisted beside it.
//! A freshly built index needs none: numbers are ordinals.

use std::path::Path;
use std::sync::Arc;

/// The file the table is persisted in, in the index's folder.
pub(super) const FILE: &str = "paper-ls-doc-numbers.bin";
/// A document number whose paper is gone (its document is deleted).
const GONE: u32 = u32::MAX;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocNumbers {
    /// Paper ordinal by document number; empty when numbers are ordinals.
    to_paper: Arc<Vec<u32>>,
    /// Document number by paper ordinal (the inverse), or empty.
    to_doc: Arc<Vec<u32>>,
}

/// What an index update does to documents: the numbers to delete, the
/// papers to add with their new numbers, and the table afterwards.
#[derive(Debug, PartialEq, Eq)]
pub struct Renumbering {
    pub deletes: Vec<u64>,
    pub adds: Vec<(usize, u64)>,
    pub numbers: DocNumbers,
}

impl DocNumbers {
    /// The paper of document number `number`, if it has one now.
    pub fn paper(&self, number: u64) -> Option<usize> {
        if self.to_paper.is_empty() {
            return usize::try_from(number).ok();
        }
        let paper = *self.to_paper.get(usize::try_from(number).ok()?)?;
        (paper != GONE).then_some(paper as usize)
    }

    /// The document number of paper `ordinal`.
    pub fn number(&self, ordinal: usize) -> u64 {
        match self.to_doc.get(ordinal) {
            Some(&number) => u64::from(number),
            None => ordinal as u64,
        }
    }

    /// The numbers after an update of an index of `old_papers` papers to
    /// `new_papers`: `removed` papers (old ordinals) lose their documents,
    /// the others move to `moved(old ordinal)`, and `added` papers (new
    /// ordinals) get documents numbered after every number used so far.
    pub fn renumbered(
        &self,
        old_papers: usize,
        new_papers: usize,
        removed: &[usize],
        moved: impl Fn(usize) -> Option<usize>,
        added: &[usize],
    ) -> Option<Renumbering> {
        let mut to_paper: Vec<u32> = if self.to_paper.is_empty() {
            (0..u32::try_from(old_papers).ok()?).collect()
        } else {
            self.to_paper.to_vec()
        };
        let deletes = removed.iter().map(|&o| self.number(o)).collect();
        for paper in to_paper.iter_mut().filter(|p| **p != GONE) {
            *paper = match moved(*paper as usize) {
                Some(new) => u32::try_from(new).ok()?,
                None => GONE,
            };
        }
        let mut adds = Vec::with_capacity(added.len());
        for &ordinal in added {
            adds.push((ordinal, to_paper.len() as u64));
            to_paper.push(u32::try_from(ordinal).ok()?);
        }
        let numbers = DocNumbers::from_table(to_paper, new_papers)?;
        Some(Renumbering {
            deletes,
            adds,
            numbers,
        })
    }

    /// The table `to_paper` for an index of `papers` papers; `None` when it
    /// does not give each paper exactly one document.
    fn from_table(to_paper: Vec<u32>, papers: usize) -> Option<DocNumbers> {
        let identity =
            to_paper.len() == papers && to_paper.iter().enumerate().all(|(n, &p)| p as usize == n);
        if identity {
            return Some(DocNumbers::default());
        }
        let mut to_doc = vec![GONE; papers];
        for (number, &paper) in to_paper.iter().enumerate() {
            if paper == GONE {
                continue;
            }
            let slot = to_doc.get_mut(paper as usize)?;
            if *slot != GONE {
                return None;
            }
            *slot = u32::try_from(number).ok()?;
        }
        if to_doc.contains(&GONE) {
            return None;
        }
        Some(DocNumbers {
            to_paper: Arc::new(to_paper),
            to_doc: Arc::new(to_doc),
        })
    }

    /// Writes the table into the index folder `dir` (nothing when numbers
    /// are ordinals).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        if self.to_paper.is_empty() {
            return Ok(());
        }
        let bytes: Vec<u8> = self.to_paper.iter().flat_map(|n| n.to_le_bytes()).collect();
        std::fs::write(dir.join(FILE), bytes)
    }

    /// The table saved in the index folder `dir` for an index of `papers`
    /// papers (numbers are ordinals when there is none); an error when it
    /// is damaged.
    pub fn load(dir: &Path, papers: usize) -> std::io::Result<DocNumbers> {
        let bytes = match std::fs::read(dir.join(FILE)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(DocNumbers::default()),
            Err(e) => return Err(e),
        };
        let damaged =
            || std::io::Error::new(std::io::ErrorKind::InvalidData, "damaged document numbers");
        if bytes.len() % 4 != 0 {
            return Err(damaged());
        }
        let to_paper = bytes
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        DocNumbers::from_table(to_paper, papers).ok_or_else(damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_added_early_moves_the_later_papers_not_their_documents() {
        let numbers = DocNumbers::default();
        // Five papers; a new one at ordinal 1, the old 3 removed.
        let moved = |o: usize| match o {
            0 => Some(0),
            3 => None,
            o => Some(o + 1).map(|n| if o > 3 { n - 1 } else { n }),
        };
        let r = numbers.renumbered(5, 5, &[3], moved, &[1]).unwrap();
        assert_eq!(r.deletes, [3]);
        assert_eq!(r.adds, [(1, 5)]);
        let paper_of: Vec<Option<usize>> = (0..6).map(|n| r.numbers.paper(n)).collect();
        assert_eq!(
            paper_of,
            [Some(0), Some(2), Some(3), None, Some(4), Some(1)]
        );
        assert_eq!(r.numbers.number(1), 5);
        assert_eq!(r.numbers.number(4), 4);

        let dir = tempfile::tempdir().unwrap();
        r.numbers.save(dir.path()).unwrap();
        assert_eq!(DocNumbers::load(dir.path(), 5).unwrap(), r.numbers);
        assert!(
            DocNumbers::load(dir.path(), 6).is_err(),
            "a paper without a document"
        );
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            DocNumbers::load(empty.path(), 3).unwrap(),
            DocNumbers::default()
        );
    }

    #[test]
    fn numbers_that_come_back_to_ordinals_need_no_table() {
        let r = DocNumbers::default()
            .renumbered(3, 3, &[2], |o| (o < 2).then_some(o), &[2])
            .unwrap();
        assert_eq!(r.adds, [(2, 3)]);
        assert_ne!(r.numbers, DocNumbers::default());
        let same = DocNumbers::default()
            .renumbered(3, 4, &[], Some, &[3])
            .unwrap();
        assert_eq!(same.numbers, DocNumbers::default());
    }
}
