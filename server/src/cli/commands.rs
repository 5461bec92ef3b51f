//! The shell commands, each a thin function over a corpus (loaded by the
//! workspace's policy), its index and the features.

use super::output::{card_text, paper_json, problem_json, search_line};
use super::CorpusArgs;
use crate::corpus::{export, Cache, Corpus, Severity};
use crate::index::{PaperIndex, PaperSearch, SearchRequest};
use crate::workspace::corpora::read_selection;
use crate::workspace::selection::CorpusPolicy;
use anyhow::{bail, Context};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// The corpus the user asked for: `--corpus` paths, else the nearest
/// `paper-ls.toml`, else the bundled corpus (the workspace's policy).
pub(super) fn load_corpus(
    args: &CorpusArgs,
    cache: &Cache,
) -> anyhow::Result<std::sync::Arc<Corpus>> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let policy = CorpusPolicy::for_command_line(&args.paths, &cwd).map_err(anyhow::Error::msg)?;
    Ok(read_selection(&policy.workspace_selection(), cache).0)
}

fn warn_about_errors(corpus: &Corpus) {
    let errors = corpus
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if errors > 0 {
        eprintln!(
            "paper-ls: {errors} problem(s) while loading the corpus; `paper-ls stats` lists them"
        );
    }
}

pub(super) fn open_index(corpus: &Corpus, cache: &Cache) -> PaperIndex {
    let (index, warning) = PaperIndex::for_corpus(corpus, cache.dir(), &mut |_, _| {});
    if let Some(w) = warning {
        eprintln!("paper-ls: {w}");
    }
    index
}

/// `paper-ls search`; with `semantic` (`Some(model folder or the default)`)
/// the query's meaning counts too.
pub fn search(
    args: &CorpusArgs,
    cache: &Cache,
    query: &str,
    limit: usize,
    semantic: Option<Option<&Path>>,
    json: bool,
) -> anyhow::Result<i32> {
    let corpus = load_corpus(args, cache)?;
    warn_about_errors(&corpus);
    let meaning = match semantic {
        Some(model) => Some(saved_meaning(&corpus, cache, model).ok_or_else(|| {
            anyhow::anyhow!("--semantic needs the corpus's embeddings: run `paper-ls embed` first")
        })?),
        None => None,
    };
    let index = open_index(&corpus, cache);
    let mut hits = index.search(&SearchRequest {
        text: query,
        limit: if meaning.is_some() {
            limit.max(crate::index::embeddings::SEARCH_CANDIDATES)
        } else {
            limit
        },
        as_you_type: false,
    });
    crate::index::query::favour_exact_forms(&corpus, query, &mut hits);
    if let Some(meaning) = &meaning {
        hits = meaning.search(query, &hits, limit);
    }
    if hits.is_empty() && !json {
        eprintln!(
            "no paper matches `{query}` among {} papers",
            corpus.papers.len()
        );
    }
    print_papers(&corpus, &hits, json)?;
    Ok(if hits.is_empty() { 1 } else { 0 })
}

/// Ranked papers, one line each or as a JSON array.
fn print_papers(corpus: &Corpus, hits: &[crate::index::Hit], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let items: Vec<_> = hits
            .iter()
            .map(|h| paper_json(corpus, &corpus.paper(h.paper)))
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
    } else {
        for (rank, hit) in hits.iter().enumerate() {
            writeln!(out, "{}", search_line(rank + 1, &corpus.paper(hit.paper)))?;
        }
    }
    Ok(())
}

pub fn related(
    args: &CorpusArgs,
    cache: &Cache,
    key: &str,
    limit: usize,
    model: Option<&Path>,
    json: bool,
) -> anyhow::Result<i32> {
    let corpus = load_corpus(args, cache)?;
    let Some(ordinal) = corpus.index_of(key) else {
        bail!(
            "no paper has the key `{key}` among {} papers",
            corpus.papers.len()
        );
    };
    let index = open_index(&corpus, cache);
    let meaning = saved_meaning(&corpus, cache, model);
    let ctx = crate::index::PaperContext {
        corpus: &corpus,
        search: Some(&index),
        meaning: meaning.as_ref().map(|m| &m.vectors),
    };
    let hits: Vec<crate::index::Hit> = ctx
        .related_papers(ordinal, limit)
        .into_iter()
        .map(|paper| crate::index::Hit {
            paper,
            score: 0.0,
            tier: 0,
        })
        .collect();
    print_papers(&corpus, &hits, json)?;
    Ok(0)
}

/// The corpus's embeddings saved by the server or `paper-ls embed` for the
/// model in `model` (default: the default model's folder in the cache), if
/// every paper has one; else related papers are ranked by words, and the
/// user is told how to change that.
fn saved_meaning(
    corpus: &Corpus,
    cache: &Cache,
    model: Option<&Path>,
) -> Option<crate::index::embeddings::Meaning> {
    use crate::index::embeddings::{model_identity, CorpusVectors, Encoder, Meaning};
    let folder = model
        .map(Path::to_path_buf)
        .unwrap_or_else(|| crate::workspace::semantic::default_model_dir(cache.dir()));
    if model.is_none() && !folder.join("model.safetensors").is_file() {
        return None;
    }
    let found = Encoder::load(&folder).and_then(|encoder| {
        let identity = model_identity(&folder)?;
        let vectors = CorpusVectors::restore(corpus, &encoder, identity, cache.dir());
        Ok((vectors, encoder))
    });
    match found {
        Ok((vectors, encoder)) if vectors.missing.is_empty() => Some(Meaning::new(
            vectors.vectors,
            crate::index::embeddings::LazyEncoder::new(&folder, encoder.max_tokens()),
        )),
        Ok((vectors, _)) => {
            eprintln!(
                "paper-ls: ranked by shared words: {} of {} papers have no embedding yet (`paper-ls embed --model {}` computes them)",
                vectors.missing.len(),
                corpus.papers.len(),
                folder.display()
            );
            None
        }
        Err(e) => {
            eprintln!(
                "paper-ls: ranked by shared words: cannot use the model in {}: {e:#}",
                folder.display()
            );
            None
        }
    }
}

/// `paper-ls format`: the references of keys, or of what notes cite.
pub fn format(
    args: &CorpusArgs,
    cache: &Cache,
    style: Option<&str>,
    items: &[String],
) -> anyhow::Result<i32> {
    use crate::features::reference;
    use crate::notes::{citations_in, Language};
    let corpus = load_corpus(args, cache)?;
    let mut keys: Vec<String> = Vec::new();
    let mut named_style = None;
    let mut style_dir = std::path::PathBuf::from(".");
    for item in items {
        let path = std::path::Path::new(item);
        match Language::from_path(path).filter(|_| path.is_file()) {
            Some(lang) => {
                let text = std::fs::read_to_string(path)?;
                if named_style.is_none() {
                    named_style = reference::style_named_by(&text, lang);
                    style_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
                }
                keys.extend(citations_in(&text, lang).into_iter().map(|c| c.key));
            }
            None => keys.push(item.clone()),
        }
    }
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    let style_name = match (style, named_style) {
        (Some(s), _) => {
            style_dir = std::path::PathBuf::from(".");
            s.to_string()
        }
        (None, Some(s)) => s,
        (None, None) => reference::DEFAULT_STYLE.to_string(),
    };
    let style = reference::style(&style_name, &style_dir).map_err(anyhow::Error::msg)?;
    let mut unknown = 0;
    let mut papers = Vec::new();
    for key in &keys {
        match corpus.get(key) {
            Some(paper) => papers.push(paper),
            None => {
                eprintln!("no paper has the key `{key}`");
                unknown += 1;
            }
        }
    }
    let mut out = std::io::stdout().lock();
    for entry in reference::reference_list(&papers, &style) {
        writeln!(out, "{entry}")?;
    }
    Ok(i32::from(unknown > 0))
}

pub fn show(args: &CorpusArgs, cache: &Cache, key: &str, json: bool) -> anyhow::Result<i32> {
    let corpus = load_corpus(args, cache)?;
    let Some(paper) = corpus.get(key) else {
        let index = open_index(&corpus, cache);
        let near: Vec<String> = index
            .search(&SearchRequest {
                text: key,
                limit: 3,
                as_you_type: true,
            })
            .iter()
            .map(|h| corpus.paper(h.paper).key.to_string())
            .collect();
        let hint = if near.is_empty() {
            String::new()
        } else {
            format!("; did you mean {}?", near.join(", "))
        };
        bail!(
            "no paper has the key `{key}` among {} papers{hint}",
            corpus.papers.len()
        );
    };
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&paper_json(&corpus, &paper))?
        )?;
    } else {
        write!(out, "{}", card_text(&corpus, &paper))?;
    }
    Ok(0)
}

pub fn stats(args: &CorpusArgs, cache: &Cache, json: bool) -> anyhow::Result<i32> {
    let corpus = load_corpus(args, cache)?;
    let mut out = std::io::stdout().lock();
    if json {
        let sources: Vec<_> = corpus
            .sources
            .iter()
            .map(|s| serde_json::json!({"path": s.path, "kind": s.kind, "papers": s.papers, "gzipped": s.gzipped}))
            .collect();
        let value = serde_json::json!({
            "papers": corpus.papers.len(),
            "with_abstract": corpus.with_abstract(),
            "sources": sources,
            "problems": corpus.problems.iter().map(problem_json).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(0);
    }
    writeln!(out, "papers:        {}", corpus.papers.len())?;
    writeln!(out, "with abstract: {}", corpus.with_abstract())?;
    for s in &corpus.sources {
        writeln!(
            out,
            "source:        {} ({:?}{}, {} papers)",
            s.path.display(),
            s.kind,
            if s.gzipped { ", gzip" } else { "" },
            s.papers
        )?;
    }
    writeln!(out, "problems:      {}", corpus.problems.len())?;
    for p in &corpus.problems {
        let severity = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(
            out,
            "{}:{}: {severity}: {}",
            p.file.display(),
            p.line,
            p.message
        )?;
    }
    Ok(0)
}

pub fn import(file: &Path, output: Option<&Path>) -> anyhow::Result<i32> {
    if !file.exists() {
        bail!("{}: no such file", file.display());
    }
    let corpus = Corpus::load(&[file.to_path_buf()]);
    for p in &corpus.problems {
        eprintln!("{}:{}: {}", p.file.display(), p.line, p.message);
    }
    if corpus.papers.is_empty() {
        bail!("{}: found no papers to import", file.display());
    }
    let papers: Vec<_> = corpus.papers.iter().map(|p| p.to_paper()).collect();
    let bibtex = export::to_bibtex(&papers);
    match output {
        Some(path) => std::fs::write(path, bibtex)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(bibtex.as_bytes())?,
    }
    eprintln!("imported {} papers", corpus.papers.len());
    Ok(0)
}

pub fn index(args: &CorpusArgs, cache: &Cache) -> anyhow::Result<i32> {
    let started = Instant::now();
    let corpus = load_corpus(args, cache)?;
    warn_about_errors(&corpus);
    let loaded = started.elapsed();
    let bar = indicatif::ProgressBar::new(corpus.papers.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "indexing {bar:40} {pos}/{len} papers ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let indexing = Instant::now();
    let index = PaperIndex::persisted(&corpus, cache.dir(), &mut |done, _| {
        bar.set_position(done as u64)
    })
    .context("cannot build the persisted index")?;
    bar.finish_and_clear();
    let secs = indexing.elapsed().as_secs_f64();
    eprintln!(
        "{} papers: loaded in {:.2}s, index {:?} in {:.2}s ({:.0} papers/s)",
        corpus.papers.len(),
        loaded.as_secs_f64(),
        index.origin,
        secs,
        corpus.papers.len() as f64 / secs.max(1e-9)
    );
    Ok(0)
}

pub fn embed(
    args: &CorpusArgs,
    cache: &Cache,
    model: Option<&Path>,
    threads: Option<usize>,
    max_tokens: Option<usize>,
) -> anyhow::Result<i32> {
    use crate::index::embeddings::{fetch, model_identity, CorpusVectors, Encoder};
    let default_model = crate::workspace::semantic::default_model_dir(cache.dir());
    let model = model.unwrap_or(&default_model);
    if model == default_model && !fetch::is_complete(model) {
        let from = fetch::source();
        eprintln!("fetching the model all-MiniLM-L6-v2 (90 MB) from {from}");
        fetch::fetch_default_model(model, &from).context(
            "cannot fetch the model (point --model at a local copy on an offline machine)",
        )?;
    }
    let corpus = load_corpus(args, cache)?;
    warn_about_errors(&corpus);
    let mut encoder = Encoder::load(model)
        .with_context(|| format!("cannot load the model in {}", model.display()))?;
    if let Some(n) = max_tokens {
        encoder = encoder.with_max_tokens(n);
    }
    let identity = model_identity(model)?;
    let mut vectors = CorpusVectors::restore(&corpus, &encoder, identity, cache.dir());
    let reused = corpus.papers.len() - vectors.missing.len();
    let to_embed = vectors.missing.len();
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let bar = indicatif::ProgressBar::new(to_embed as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "embedding {bar:40} {pos}/{len} papers ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    // Saved every few thousand papers, so that an interrupted run resumes.
    loop {
        let before = to_embed - vectors.missing.len();
        vectors.embed_missing(&corpus, &encoder, threads, 4096, &|n| {
            bar.set_position((before + n) as u64);
            true
        });
        vectors.save().context("cannot save the embeddings")?;
        if vectors.missing.is_empty() {
            break;
        }
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} papers: {reused} embedded before, {to_embed} embedded now in {secs:.1}s ({:.1} papers/s on {threads} thread(s), {} tokens); {} bytes per paper in {}",
        corpus.papers.len(),
        to_embed as f64 / secs.max(1e-9),
        encoder.max_tokens(),
        encoder.dimensions() + 12,
        vectors.path.display()
    );
    Ok(0)
}

/// Corpus paths given on the command line, relative to where it runs.
fn corpus_from_command_line(corpus: &[String]) -> anyhow::Result<Vec<String>> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    Ok(corpus
        .iter()
        .map(|c| {
            if Path::new(c).is_absolute() {
                c.clone()
            } else {
                cwd.join(c).to_string_lossy().into_owned()
            }
        })
        .collect())
}

pub fn check(
    corpus: &[String],
    paths: &[std::path::PathBuf],
    cache: &Cache,
) -> anyhow::Result<i32> {
    let configured = corpus_from_command_line(corpus)?;
    let report = crate::features::check::check_paths(paths, &configured, None, cache);
    for w in &report.warnings {
        eprintln!("paper-ls: {w}");
    }
    let mut out = std::io::stdout().lock();
    for p in &report.problems {
        writeln!(out, "{p}")?;
    }
    eprintln!(
        "checked {} citation(s) in {} note(s): {} problem(s)",
        report.citations_checked,
        report.notes_checked,
        report.problems.len()
    );
    Ok(if report.problems.is_empty() { 0 } else { 1 })
}

pub fn bib(
    corpus: &[String],
    paths: &[std::path::PathBuf],
    output: Option<&Path>,
    update: bool,
    cache: &Cache,
) -> anyhow::Result<i32> {
    let configured = corpus_from_command_line(corpus)?;
    let existing = match output {
        Some(path) if update && path.exists() => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                anyhow::anyhow!(
                    "{} is not UTF-8; convert it first, or write a new file",
                    path.display()
                )
            })?;
            Some(text)
        }
        Some(_) if update => Some(String::new()),
        _ => None,
    };
    let existing_text = existing
        .as_deref()
        .map(|t| t.strip_prefix('\u{feff}').unwrap_or(t));
    let export =
        crate::features::bib_export::export_bibliography(paths, &configured, existing_text, cache);
    for w in &export.warnings {
        eprintln!("paper-ls: {w}");
    }
    for problem in &export.unknown {
        eprintln!("{problem}");
    }
    for reason in &export.refused {
        eprintln!("paper-ls: {reason}");
    }
    match output {
        Some(path) if update => {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            file.write_all(export.text.as_bytes())?;
        }
        Some(path) => std::fs::write(path, &export.text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(export.text.as_bytes())?,
    }
    eprintln!(
        "{} entr{} written{}, from {} note(s); {} unknown key(s)",
        export.written.len(),
        if export.written.len() == 1 {
            "y"
        } else {
            "ies"
        },
        if update {
            format!(", {} already there", export.kept.len())
        } else {
            String::new()
        },
        export.notes_read,
        export.unknown.len()
    );
    Ok(if export.unknown.is_empty() && export.refused.is_empty() {
        0
    } else {
        1
    })
}
