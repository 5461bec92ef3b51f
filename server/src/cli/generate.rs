//! `paper-ls generate`: a deterministic large corpus for benchmarks, made by
//! recombining the real titles, abstract sentences, author names and
//! categories of source corpora (so word statistics stay real): each paper's
//! title joins the first half of one real title to the second half of
//! another, its abstract strings together real sentences, its authors are
//! real names. Writes JSON Lines (arXiv field names) and/or BibTeX, streaming.

use crate::corpus::{export, keys, Corpus, Paper, Person, PersonRef};
use anyhow::{bail, Context};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A small fast generator (xorshift64*): the same seed gives the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What papers are recombined from.
struct Pools<'a> {
    titles: Vec<&'a str>,
    sentences: Vec<String>,
    people: Vec<PersonRef<'a>>,
    categories: Vec<&'a str>,
}

impl<'a> Pools<'a> {
    fn of(corpus: &'a Corpus) -> Pools<'a> {
        let papers = &corpus.papers;
        Pools {
            titles: papers
                .iter()
                .map(|p| p.title)
                .filter(|t| t.split_whitespace().count() >= 3)
                .collect(),
            sentences: papers
                .iter()
                .filter_map(|p| p.abstract_text())
                .flat_map(|a| {
                    a.split_inclusive(". ")
                        .map(str::trim)
                        .filter(|s| s.len() > 20)
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .collect(),
            people: papers
                .iter()
                .flat_map(|p| p.authors.iter())
                .filter(|a| !a.given.is_empty())
                .collect(),
            categories: papers.iter().filter_map(|p| p.categories.first()).collect(),
        }
    }

    fn paper(&self, rng: &mut Rng, i: usize) -> Paper {
        let (a, b) = (
            self.titles[rng.below(self.titles.len())],
            self.titles[rng.below(self.titles.len())],
        );
        let (a_words, b_words): (Vec<&str>, Vec<&str>) = (
            a.split_whitespace().collect(),
            b.split_whitespace().collect(),
        );
        let title = [
            &a_words[..a_words.len().div_ceil(2)],
            &b_words[b_words.len() / 2..],
        ]
        .concat()
        .join(" ");
        let mut paper = Paper::titled(title, "article");
        paper.authors = (0..1 + rng.below(5))
            .map(|_| {
                let person = self.people[rng.below(self.people.len())];
                Person {
                    given: person.given.to_string(),
                    family: person.family.to_string(),
                }
            })
            .collect();
        let sentences: Vec<&str> = (0..3 + rng.below(6))
            .map(|_| self.sentences[rng.below(self.sentences.len())].as_str())
            .collect();
        paper.abstract_text = Some(sentences.join(" "));
        paper.year = Some(1995 + rng.below(31) as i32);
        if !self.categories.is_empty() {
            paper.categories = vec![self.categories[rng.below(self.categories.len())].to_string()];
        }
        paper.ids.arxiv = Some(format!("gen/{i:07}"));
        paper.key = format!("{}-{i}", keys::base_key(&paper));
        paper
    }
}

fn jsonl_line(p: &Paper) -> String {
    let authors: Vec<String> = p.authors.iter().map(Person::display).collect();
    serde_json::json!({
        "id": p.ids.arxiv,
        "title": p.title,
        "authors": authors.join(", "),
        "abstract": p.abstract_text,
        "categories": p.categories.join(" "),
        "update_date": format!("{}-01-01", p.year.unwrap_or(2000)),
    })
    .to_string()
}

fn create(path: &Path) -> anyhow::Result<BufWriter<std::fs::File>> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 20, file))
}

pub fn generate(
    from: &[PathBuf],
    papers: usize,
    seed: u64,
    jsonl: Option<&Path>,
    bibtex: Option<&Path>,
) -> anyhow::Result<i32> {
    if jsonl.is_none() && bibtex.is_none() {
        bail!("say where to write: --jsonl FILE and/or --bibtex FILE");
    }
    let source = Corpus::load(from);
    let pools = Pools::of(&source);
    if pools.titles.is_empty() || pools.sentences.is_empty() || pools.people.is_empty() {
        bail!("the source corpora need titles, abstracts and authors to recombine (e.g. an arXiv JSON Lines dump)");
    }
    let mut rng = Rng(seed.max(1));
    let mut jsonl_out = jsonl.map(create).transpose()?;
    let mut bib_out = bibtex.map(create).transpose()?;
    let bar = indicatif::ProgressBar::new(papers as u64);
    for i in 0..papers {
        let paper = pools.paper(&mut rng, i);
        if let Some(out) = jsonl_out.as_mut() {
            writeln!(out, "{}", jsonl_line(&paper))?;
        }
        if let Some(out) = bib_out.as_mut() {
            out.write_all(export::to_bibtex(std::slice::from_ref(&paper)).as_bytes())?;
        }
        if i % 10_000 == 0 {
            bar.set_position(i as u64);
        }
    }
    bar.finish_and_clear();
    for out in [jsonl_out.as_mut(), bib_out.as_mut()].into_iter().flatten() {
        out.flush()?;
    }
    eprintln!(
        "generated {papers} papers from {} titles, {} sentences and {} names of {} source papers",
        pools.titles.len(),
        pools.sentences.len(),
        pools.people.len(),
        source.papers.len()
    );
    Ok(0)
}
