//! The `paper-ls` command line: the language server (`serve`, the default)
//! and the same engine from the shell (`search`, `show`, `stats`, `related`,
//! `import`, `index`, `check`, `bib`, `generate`, `eval-related`). Argument parsing
//! lives here; each command is a small function that loads its corpus
//! through the workspace's policy and runs the index or a feature over it,
//! printing text or `--json`.

mod commands;
mod eval;
mod generate;
mod output;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "paper-ls", version = crate::VERSION, about = "A language server that makes a corpus of research papers present in your Markdown and LaTeX notes.", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Accepted for clients that pass it (vscode-languageclient): stdio is the only transport.
    #[arg(long, hide = true, global = true)]
    pub stdio: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the language server on stdin/stdout (the default).
    Serve,
    /// Search the corpus by any words: title, authors, abstract, key.
    Search {
        #[command(flatten)]
        corpus: CorpusArgs,
        /// Print JSON (one array of papers) instead of text.
        #[arg(long)]
        json: bool,
        /// How many papers to show.
        #[arg(long, short = 'n', default_value_t = 10)]
        limit: usize,
        /// Also rank by meaning: the query's embedding against the corpus's
        /// (computed by `paper-ls embed` or the server), fused with the
        /// ranking by words. For a sentence: "papers that speed up grokking".
        #[arg(long)]
        semantic: bool,
        /// The embedding model's folder (default: all-MiniLM-L6-v2 in the cache).
        #[arg(long, value_name = "DIR", requires = "semantic")]
        model: Option<PathBuf>,
        /// The words to search for.
        #[arg(required = true)]
        query: Vec<String>,
    },
    /// Show one paper's card: title, authors, year, venue, abstract, links, source.
    Show {
        #[command(flatten)]
        corpus: CorpusArgs,
        #[arg(long)]
        json: bool,
        /// The paper's citation key.
        key: String,
    },
    /// Format papers as references in a citation style (CSL, by hayagriva): the keys given, or the papers notes cite (in order of first citation), sorted as the style sorts, one Markdown line each
    Format {
        #[command(flatten)]
        corpus: CorpusArgs,
        /// A CSL style (apa, ieee, chicago-author-date, nature, modern-language-association, … or a .csl file); default: the note's own (`csl:`, `#bibliography(style:)`, `\bibliographystyle`), else apa
        #[arg(long)]
        style: Option<String>,
        /// Citation keys, or notes (.md, .tex, .typ) whose citations to format
        #[arg(required = true)]
        items: Vec<String>,
    },
    /// List the papers most related to one (by title and abstract), best
    /// first: by meaning once the corpus's embeddings are computed (by the
    /// server or `paper-ls embed`), else by shared words.
    Related {
        #[command(flatten)]
        corpus: CorpusArgs,
        #[arg(long)]
        json: bool,
        #[arg(long, short = 'n', default_value_t = 10)]
        limit: usize,
        /// The embedding model's folder (default: all-MiniLM-L6-v2 in the cache).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// The paper's citation key.
        key: String,
    },
    /// Measure related-papers quality on a corpus with arXiv categories: the
    /// share of each sampled paper's top 5 related papers that have its
    /// primary category, and the latency of one related-papers query.
    EvalRelated {
        #[command(flatten)]
        corpus: CorpusArgs,
        /// How many papers to sample (deterministically); 0: every paper
        /// with a category.
        #[arg(long, default_value_t = 500)]
        sample: usize,
        /// Also rank by this model's embeddings (computed by `paper-ls
        /// embed`) and by their fusion with tf-idf, side by side.
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// With `--model`: the embeddings' rankings only, without tf-idf
        /// and the fusions (a query by words takes ~17 ms at 75,000 papers,
        /// so that every paper can be a query in minutes).
        #[arg(long, requires = "model")]
        meaning_only: bool,
        /// The embeddings computed with `paper-ls embed --max-tokens N`
        /// (default: the model's).
        #[arg(long)]
        max_tokens: Option<usize>,
        /// Also write the figures as JSON to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Compute the corpus's sentence embeddings (related papers and search by
    /// meaning) into the cache the server reads; papers embedded before are
    /// reused.
    Embed {
        #[command(flatten)]
        corpus: CorpusArgs,
        /// The model's folder (config.json, tokenizer.json, model.safetensors
        /// of a sentence-transformers BERT model); default: all-MiniLM-L6-v2
        /// in the cache, fetched on first use.
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Threads to run on (default: every core).
        #[arg(long)]
        threads: Option<usize>,
        /// Cut each paper's text to this many tokens (default: the model's).
        #[arg(long)]
        max_tokens: Option<usize>,
    },
    /// Say what was loaded: papers, how many have abstracts, and every problem (file:line).
    Stats {
        #[command(flatten)]
        corpus: CorpusArgs,
        #[arg(long)]
        json: bool,
    },
    /// Convert a corpus source (a paper digest, CSL-JSON, JSON Lines, BibTeX) to BibTeX.
    Import {
        /// The file to convert (`.gz` is read too).
        file: PathBuf,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Report every citation in the notes under PATH that matches no paper
    /// (file:line:col: message); exit 1 if there is any. For a thesis's CI.
    Check {
        /// Corpus files, folders or globs to check against, instead of the
        /// workspace's `paper-ls.toml` (the notes' own bibliographies still count).
        #[arg(long = "corpus", short = 'c', value_name = "PATH")]
        corpus: Vec<String>,
        /// Notes or folders of notes (.md .markdown .qmd .Rmd .tex).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Write the BibTeX entries the notes under PATH cite, from the library
    /// (sorted by key, macros expanded, crossref parents merged in); unknown
    /// keys go to standard error as file:line:col and make the exit status 1.
    Bib {
        /// The library to take entries from, instead of the workspace's
        /// `paper-ls.toml` (else the bundled corpus).
        #[arg(long = "corpus", short = 'c', value_name = "PATH")]
        corpus: Vec<String>,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Add only the entries the output file lacks, leaving its own as they are.
        #[arg(long, requires = "output")]
        update: bool,
        /// Notes or folders of notes (.md .markdown .qmd .Rmd .tex).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Generate a large deterministic corpus for benchmarks by recombining the
    /// real titles, abstract sentences and author names of source corpora.
    Generate {
        /// Source corpora to recombine (repeatable).
        #[arg(long = "from", required = true, value_name = "PATH")]
        from: Vec<PathBuf>,
        /// How many papers to write.
        #[arg(long, default_value_t = 1_000_000)]
        papers: usize,
        /// The same seed writes the same corpus.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write JSON Lines (arXiv field names) here.
        #[arg(long)]
        jsonl: Option<PathBuf>,
        /// Write BibTeX here.
        #[arg(long)]
        bibtex: Option<PathBuf>,
    },
    /// Build the persisted search index for a corpus, with a progress bar.
    Index {
        #[command(flatten)]
        corpus: CorpusArgs,
    },
}

#[derive(Args, Debug, Clone, Default)]
pub struct CorpusArgs {
    /// A corpus file or folder (.bib, .json, .jsonl, digest .txt, and .gz of each); repeatable.
    /// Without it: `corpus` in the nearest paper-ls.toml, else the bundled corpus.
    #[arg(long = "corpus", short = 'c', value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Runs a shell command with its cache; the exit code is the process's.
pub fn run(command: Command, cache: &crate::corpus::Cache) -> i32 {
    let result = match command {
        Command::Serve => unreachable!("serve is dispatched by main"),
        Command::Search {
            corpus,
            json,
            limit,
            semantic,
            model,
            query,
        } => {
            let meaning = semantic.then_some(model.as_deref());
            commands::search(&corpus, cache, &query.join(" "), limit, meaning, json)
        }
        Command::Show { corpus, json, key } => commands::show(&corpus, cache, &key, json),
        Command::Format {
            corpus,
            style,
            items,
        } => commands::format(&corpus, cache, style.as_deref(), &items),
        Command::Stats { corpus, json } => commands::stats(&corpus, cache, json),
        Command::Related {
            corpus,
            json,
            limit,
            model,
            key,
        } => commands::related(&corpus, cache, &key, limit, model.as_deref(), json),
        Command::EvalRelated {
            corpus,
            sample,
            model,
            meaning_only,
            max_tokens,
            out,
        } => eval::eval_related(
            &corpus,
            cache,
            sample,
            model.as_deref().map(|folder| (folder, max_tokens)),
            meaning_only,
            out.as_deref(),
        ),
        Command::Embed {
            corpus,
            model,
            threads,
            max_tokens,
        } => commands::embed(&corpus, cache, model.as_deref(), threads, max_tokens),
        Command::Import { file, output } => commands::import(&file, output.as_deref()),
        Command::Index { corpus } => commands::index(&corpus, cache),
        Command::Check { corpus, paths } => commands::check(&corpus, &paths, cache),
        Command::Bib {
            corpus,
            output,
            update,
            paths,
        } => commands::bib(&corpus, &paths, output.as_deref(), update, cache),
        Command::Generate {
            from,
            papers,
            seed,
            jsonl,
            bibtex,
        } => generate::generate(&from, papers, seed, jsonl.as_deref(), bibtex.as_deref()),
    };
    match result {
        Ok(code) => code,
        // `paper-ls search … | head` closes the pipe early: not an error.
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!("paper-ls: {e:#}");
            2
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
