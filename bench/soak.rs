//! The soak run: the release `paper-ls` for a long time (10 minutes unless
//! told otherwise) under a day of writing compressed — incremental edits with
//! a completion after each keystroke, hovers, definitions, implementations,
//! and every so often the corpus `.bib` rewritten on disk (in one go, or
//! truncated first and written a moment later, as some tools do). It reports
//! errors, request latency percentiles per minute, resident memory, open
//! file descriptors and the size of the cache directory over time, and how
//! long each rewrite took to be answered, to `bench/SOAK.md`.
//!
//! `cargo bench -p paper-ls --bench soak -- --minutes 10` (`--out FILE`
//! writes the report elsewhere). Not a CI test: it takes as long as it says.

mod measure;
#[path = "../tests/support/mod.rs"]
mod support;

use measure::{cores, cpu_model, ms, percentile};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{file_uri, memory_mb, LspClient};

/// Papers in the generated corpus: above the size at which the index is
/// persisted and built beside the parsed papers, so rewrites go through the
/// whole large-corpus path (re-read, index swap, old index removed).
const PAPERS: usize = 6_000;
/// Papers the note cites, one per line.
const CITED: usize = 200;
const REWRITE_EVERY: Duration = Duration::from_secs(45);
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// A rewrite not answered within this long counts as an error.
const REWRITE_PATIENCE: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Completion,
    Hover,
    Definition,
    Implementation,
}

const KINDS: [Kind; 4] = [
    Kind::Completion,
    Kind::Hover,
    Kind::Definition,
    Kind::Implementation,
];

impl Kind {
    fn method(self) -> &'static str {
        match self {
            Kind::Completion => "textDocument/completion",
            Kind::Hover => "textDocument/hover",
            Kind::Definition => "textDocument/definition",
            Kind::Implementation => "textDocument/implementation",
        }
    }
}

#[derive(Default)]
struct Minute {
    latencies: BTreeMap<Kind, Vec<f64>>,
    errors: Vec<String>,
    edits: usize,
    rss_mb: Vec<f64>,
    fds: Vec<usize>,
    cache_mb: Vec<f64>,
}

struct Rewrite {
    at_s: f64,
    truncated_first: bool,
    answered_ms: Option<f64>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let minutes: u64 = flag(&args, "--minutes")
        .map(|m| m.parse().expect("--minutes takes a number"))
        .unwrap_or(10);
    let out = flag(&args, "--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/SOAK.md"));
    let workspace = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let bib = workspace.path().join("refs.bib");
    let papers = papers_from_the_bundled_corpus();
    std::fs::write(&bib, bibtex(&papers, 0)).unwrap();
    let mut client = LspClient::start(cache.path());
    client.initialize(workspace.path(), json!({"corpus": ["refs.bib"]}), false);
    let note_path = workspace.path().join("note.md");
    let note: String = (0..CITED)
        .map(|i| format!("See [@soak{}].\n", i * (PAPERS / CITED)))
        .collect::<String>()
        + "\n";
    let uri = client.open(&note_path, "markdown", &note);
    assert!(
        client.wait_until_indexed(Duration::from_secs(300)),
        "the corpus was never indexed"
    );
    eprintln!("soaking for {minutes} minute(s) …");
    let mut soak = Soak {
        client,
        uri,
        typing_line: CITED as u32,
        typed: String::new(),
        version: 1,
        started: Instant::now(),
        minutes: (0..minutes).map(|_| Minute::default()).collect(),
        step: 0,
    };
    let cache_dir = cache.path().to_path_buf();
    let mut rewrites: Vec<Rewrite> = Vec::new();
    let mut revision: usize = 0;
    let mut next_rewrite = soak.started + REWRITE_EVERY;
    let mut next_sample = soak.started;
    let deadline = soak.started + Duration::from_secs(60 * minutes);
    let mut waiting_for: Option<(Instant, usize)> = None;
    while Instant::now() < deadline {
        let now = Instant::now();
        if now >= next_sample {
            soak.sample(&cache_dir);
            next_sample += SAMPLE_EVERY;
        }
        if now >= next_rewrite && waiting_for.is_none() {
            revision += 1;
            let truncated_first = revision.is_multiple_of(3);
            rewrite(&bib, &papers, revision, truncated_first);
            soak.client.notify(
                "workspace/didChangeWatchedFiles",
                json!({"changes": [{"uri": file_uri(&bib), "type": 2}]}),
            );
            rewrites.push(Rewrite {
                at_s: soak.started.elapsed().as_secs_f64(),
                truncated_first,
                answered_ms: None,
            });
            waiting_for = Some((Instant::now(), revision));
            next_rewrite = Instant::now() + REWRITE_EVERY;
        }
        soak.cycle();
        if let Some((since, revision)) = waiting_for {
            if soak.sees_revision(revision) {
                if let Some(r) = rewrites.last_mut() {
                    r.answered_ms = Some(ms(since.elapsed()));
                }
                waiting_for = None;
            } else if since.elapsed() > REWRITE_PATIENCE {
                soak.error(format!(
                    "rewrite {revision} not answered within {REWRITE_PATIENCE:?}"
                ));
                waiting_for = None;
            }
        }
    }
    soak.sample(&cache_dir);
    let status = soak.client.shutdown_and_exit();
    if status.code() != Some(0) {
        soak.error(format!("the server ended with {status:?}"));
    }
    let report = report(&soak.minutes, &rewrites, minutes);
    print!("{report}");
    std::fs::write(&out, report).unwrap_or_else(|e| panic!("write {}: {e}", out.display()));
    eprintln!("written to {}", out.display());
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// (title, abstract) pairs: the bundled papers, recombined into `PAPERS`.
fn papers_from_the_bundled_corpus() -> Vec<(String, String)> {
    let bundled =
        paper_ls::corpus::bundled::load_bundled(paper_ls::corpus::Cache::from_environment().dir());
    let n = bundled.papers.len();
    (0..PAPERS)
        .map(|i| {
            let title = bundled.paper(i % n).title;
            let abstract_text = bundled
                .paper((i * 7 + 3) % n)
                .abstract_text()
                .unwrap_or_default()
                .to_string();
            (format!("{title}, part {i}"), abstract_text)
        })
        .collect()
}

/// The corpus as BibTeX; `revision` shows in the title of paper 0.
fn bibtex(papers: &[(String, String)], revision: usize) -> String {
    let clean = |s: &str| s.replace(['{', '}', '\\'], "");
    papers
        .iter()
        .enumerate()
        .map(|(i, (title, abstract_text))| {
            let title = if i == 0 {
                format!("Revision {revision} of {}", clean(title))
            } else {
                clean(title)
            };
            format!(
                "@article{{soak{i},\n  title = {{{title}}},\n  author = {{Author{} Person}},\n  year = {{{}}},\n  abstract = {{{}}}\n}}\n\n",
                i % 97,
                2000 + i % 25,
                clean(abstract_text)
            )
        })
        .collect()
}

/// Writes a new revision: in one go, or truncated first and written whole
/// 100 ms later (a writer the server must not read half-way).
fn rewrite(bib: &Path, papers: &[(String, String)], revision: usize, truncated_first: bool) {
    let text = bibtex(papers, revision);
    if truncated_first {
        std::fs::write(bib, &text[..text.len() / 3]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::write(bib, text).unwrap();
}

struct Soak {
    client: LspClient,
    uri: String,
    /// The empty line at the end where citations are typed.
    typing_line: u32,
    typed: String,
    version: i64,
    started: Instant,
    minutes: Vec<Minute>,
    step: usize,
}

impl Soak {
    fn minute(&mut self) -> &mut Minute {
        let i = (self.started.elapsed().as_secs() / 60) as usize;
        let last = self.minutes.len() - 1;
        &mut self.minutes[i.min(last)]
    }

    fn error(&mut self, what: String) {
        eprintln!("error: {what}");
        self.minute().errors.push(what);
    }

    /// One round of an editor's traffic: a keystroke and its completion,
    /// and every few keystrokes a hover, a definition and an implementation
    /// on a cited paper.
    fn cycle(&mut self) {
        self.step += 1;
        self.keystroke();
        let cited_line = (self.step * 37 % CITED) as u32;
        if self.step.is_multiple_of(3) {
            self.request(Kind::Hover, cited_line, 8);
        }
        if self.step.is_multiple_of(5) {
            self.request(Kind::Definition, cited_line, 8);
        }
        if self.step.is_multiple_of(7) {
            self.request(Kind::Implementation, cited_line, 8);
        }
        // Drop what the client kept of the server's notifications.
        if self.step.is_multiple_of(500) {
            self.client.notifications.clear();
            self.client.server_requests.clear();
        }
    }

    /// Types the next character of a citation at the end of the note (an
    /// incremental change), completes, and clears the line once it is done.
    fn keystroke(&mut self) {
        let target = format!("[@soak{}", self.step * 131 % PAPERS);
        let line = self.typing_line;
        self.version += 1;
        let change = if self.typed.len() >= target.len().min(5 + self.step % 6) {
            let end = self.typed.encode_utf16().count() as u32;
            self.typed.clear();
            json!({"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": end}}, "text": ""})
        } else {
            let next = &target[self.typed.len()..self.typed.len() + 1];
            let at = self.typed.len() as u32;
            self.typed.push_str(next);
            json!({"range": {"start": {"line": line, "character": at}, "end": {"line": line, "character": at}}, "text": next})
        };
        let uri = self.uri.clone();
        self.client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": self.version}, "contentChanges": [change]}),
        );
        self.minute().edits += 1;
        if self.typed.len() >= 2 {
            self.request(Kind::Completion, line, self.typed.len() as u32);
        }
    }

    fn request(&mut self, kind: Kind, line: u32, character: u32) {
        let at = LspClient::at(&self.uri, line, character);
        let started = Instant::now();
        let response = self.client.request_raw(kind.method(), at);
        let took = ms(started.elapsed());
        self.minute().latencies.entry(kind).or_default().push(took);
        if let Some(error) = response.get("error") {
            self.error(format!("{} at {line}:{character}: {error}", kind.method()));
        } else if kind != Kind::Completion && response["result"].is_null() {
            self.error(format!(
                "{} at {line}:{character} found nothing on a cited paper",
                kind.method()
            ));
        }
    }

    /// Whether a hover on paper 0 shows this revision of its title.
    fn sees_revision(&mut self, revision: usize) -> bool {
        let uri = self.uri.clone();
        let hover = self
            .client
            .request("textDocument/hover", LspClient::at(&uri, 0, 8));
        hover["contents"]["value"]
            .as_str()
            .is_some_and(|c| c.contains(&format!("Revision {revision} of")))
    }

    fn sample(&mut self, cache: &Path) {
        let pid = self.client.pid();
        let (rss, _) = memory_mb(pid);
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count())
            .unwrap_or(0);
        let cache_mb = dir_size(cache) as f64 / (1024.0 * 1024.0);
        let minute = self.minute();
        minute.rss_mb.push(rss);
        minute.fds.push(fds);
        minute.cache_mb.push(cache_mb);
    }
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn report(minutes: &[Minute], rewrites: &[Rewrite], planned: u64) -> String {
    let mut out = String::from("# paper-ls soak run\n\n");
    let total: usize = minutes
        .iter()
        .map(|m| m.latencies.values().map(Vec::len).sum::<usize>())
        .sum();
    let errors: usize = minutes.iter().map(|m| m.errors.len()).sum();
    let edits: usize = minutes.iter().map(|m| m.edits).sum();
    out.push_str(&format!(
        "Machine: {} cores, {}; release build; {planned} minutes against one server over LSP stdio, requests sequential.\n\
         Corpus: a generated `refs.bib` of {PAPERS} papers (the bundled papers' titles and abstracts recombined), rewritten on disk every {}s \
         (every third time truncated to a third first, then written whole 100 ms later); a note citing {CITED} of them.\n\
         Traffic: an incremental `didChange` per keystroke typing citations at the end of the note, a completion after each \
         keystroke from the second character, a hover every 3rd keystroke, a definition every 5th, an implementation every 7th.\n\
         Times in milliseconds, measured by the client. Memory is the server's VmRSS; fds its open file descriptors; cache the size of its cache directory (persisted indexes).\n\
         Regenerate: `cargo bench -p paper-ls --bench soak -- --minutes {planned}`.\n\n\
         **{total} requests, {edits} edits, {errors} errors.**\n\n",
        cores(),
        cpu_model(),
        REWRITE_EVERY.as_secs()
    ));
    out.push_str("| minute | requests | errors | completion p50 / p99 / max | hover p50 / p99 / max | definition p50 / p99 / max | implementation p50 / p99 / max | RSS MB (end / max) | fds | cache MB |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (i, m) in minutes.iter().enumerate() {
        let figures = |kind: Kind| match m.latencies.get(&kind) {
            Some(s) if !s.is_empty() => format!(
                "{:.2} / {:.2} / {:.2}",
                percentile(s, 50.0),
                percentile(s, 99.0),
                percentile(s, 100.0)
            ),
            _ => "–".into(),
        };
        let last = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
        let max = |v: &[f64]| v.iter().copied().fold(f64::NAN, f64::max);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} / {:.0} | {} | {:.1} |\n",
            i + 1,
            m.latencies.values().map(Vec::len).sum::<usize>(),
            m.errors.len(),
            figures(KINDS[0]),
            figures(KINDS[1]),
            figures(KINDS[2]),
            figures(KINDS[3]),
            last(&m.rss_mb),
            max(&m.rss_mb),
            m.fds.last().copied().unwrap_or(0),
            last(&m.cache_mb),
        ));
    }
    out.push_str(
        "\nCorpus rewrites (time after the start → first hover showing the new revision):\n\n",
    );
    for r in rewrites {
        out.push_str(&format!(
            "- {:.0}s{}: {}\n",
            r.at_s,
            if r.truncated_first {
                ", truncated first"
            } else {
                ""
            },
            r.answered_ms
                .map_or("not answered".to_string(), |t| format!("{t:.0} ms"))
        ));
    }
    let listed: Vec<&String> = minutes.iter().flat_map(|m| &m.errors).take(20).collect();
    if !listed.is_empty() {
        out.push_str("\nErrors (first 20):\n\n");
        for e in listed {
            out.push_str(&format!("- {e}\n"));
        }
    }
    out
}
