//! What the client hears about corpus loads: a line in its log per load, the
//! problems of each corpus file published as that file's diagnostics, a
//! message when a re-read is refused to keep the last good corpus, and
//! `$/progress` while a large corpus is indexed (when the client creates
//! progress tokens for us).
//!
//! The workspace reports loads through `LoadHooks` on whatever thread loads;
//! the hooks here turn each report into a [`Notice`] of plain data, and one
//! task sends the notices to the client in order.

use super::to_proto::source_diagnostic;
use crate::corpus::{Corpus, Severity};
use crate::index::IndexWarning;
use crate::workspace::corpora::{LoadEvent, LoadHooks, Task};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tower_lsp_server::ls_types::notification::Progress;
use tower_lsp_server::ls_types::request::WorkDoneProgressCreate;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

/// Each corpus file with its diagnostics (an empty list clears what an
/// earlier load published).
type FileDiagnostics = Vec<(Uri, Vec<Diagnostic>)>;

pub enum Notice {
    Loaded {
        label: String,
        message: String,
        files: FileDiagnostics,
    },
    Kept {
        label: String,
        why: String,
        files: FileDiagnostics,
    },
    IndexWarning(IndexWarning),
    Progress(LoadEvent),
}

/// What is published on each corpus file: the problems of its load and,
/// for a file some open document names as its bibliography, hints on the
/// entries no note cites. The two come at their own times (a load, a
/// diagnostics run); each publish sends both, and only when they changed.
#[derive(Default)]
pub struct SourceFileDiagnostics {
    files: std::sync::Mutex<HashMap<Uri, SourceFileState>>,
}

#[derive(Default)]
struct SourceFileState {
    problems: Vec<Diagnostic>,
    hints: Vec<Diagnostic>,
    published: Option<Vec<Diagnostic>>,
}

impl SourceFileDiagnostics {
    /// The file's load problems; what to publish, if that changed.
    pub fn set_problems(&self, uri: &Uri, problems: Vec<Diagnostic>) -> Option<Vec<Diagnostic>> {
        self.update(uri, |state| state.problems = problems)
    }

    /// The file's hints; what to publish, if that changed.
    pub fn set_hints(&self, uri: &Uri, hints: Vec<Diagnostic>) -> Option<Vec<Diagnostic>> {
        self.update(uri, |state| state.hints = hints)
    }

    fn update(
        &self,
        uri: &Uri,
        change: impl FnOnce(&mut SourceFileState),
    ) -> Option<Vec<Diagnostic>> {
        let mut files = crate::workspace::unpoisoned(&self.files);
        let state = files.entry(uri.clone()).or_default();
        change(state);
        let all: Vec<Diagnostic> = state.problems.iter().chain(&state.hints).cloned().collect();
        if state.published.as_ref() == Some(&all) {
            return None;
        }
        state.published = Some(all.clone());
        Some(all)
    }
}

/// What the client has told us it can do, and what it was told already.
#[derive(Default)]
pub struct ClientFlags {
    /// The client shows `$/progress` for tokens it created on our request.
    pub shows_progress: AtomicBool,
    /// The client can register file watchers for us.
    pub watches_files: AtomicBool,
    /// The client shows code actions that cannot be applied, with the reason.
    pub shows_disabled_actions: AtomicBool,
    /// The user was told the cache directory cannot be used.
    pub cache_trouble_told: AtomicBool,
}

/// The hooks for the workspace, and the notices they send.
pub fn load_hooks() -> (LoadHooks, UnboundedReceiver<Notice>) {
    let (notices, receiver) = unbounded_channel();
    let send = move |notice| {
        let _ = notices.send(notice);
    };
    let send = Arc::new(send) as Arc<dyn Fn(Notice) + Send + Sync>;
    let (on_load, on_kept, on_index, on_progress) =
        (send.clone(), send.clone(), send.clone(), send);
    let hooks = LoadHooks {
        report: Box::new(move |corpus: &Corpus, label: &str| on_load(loaded(corpus, label))),
        kept: Box::new(move |corpus: &Corpus, label: &str, why: &str| {
            tracing::warn!("{why}");
            on_kept(Notice::Kept {
                label: label.to_string(),
                why: why.to_string(),
                files: source_diagnostics(corpus),
            })
        }),
        index_warning: Box::new(move |warning| on_index(Notice::IndexWarning(warning))),
        progress: Box::new(move |event| on_progress(Notice::Progress(event))),
    };
    (hooks, receiver)
}

fn loaded(corpus: &Corpus, label: &str) -> Notice {
    let errors = corpus
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let message = format!(
        "loaded {} papers ({} with abstracts) from {label}; {} problem(s), {errors} error(s)",
        corpus.papers.len(),
        corpus.with_abstract(),
        corpus.problems.len()
    );
    tracing::info!("{message}");
    for p in corpus.problems.iter().take(20) {
        tracing::info!("{}:{}: {}", p.file.display(), p.line, p.message);
    }
    Notice::Loaded {
        label: label.to_string(),
        message,
        files: source_diagnostics(corpus),
    }
}

/// Each corpus file's problems as diagnostics on that file.
fn source_diagnostics(corpus: &Corpus) -> FileDiagnostics {
    let mut by_file: HashMap<&std::path::Path, Vec<Diagnostic>> = corpus
        .sources
        .iter()
        .map(|s| (s.path.as_path(), Vec::new()))
        .collect();
    for p in &corpus.problems {
        by_file
            .entry(p.file.as_path())
            .or_default()
            .push(source_diagnostic(p));
    }
    by_file
        .into_iter()
        .filter_map(|(path, diags)| Some((Uri::from_file_path(path)?, diags)))
        .collect()
}

/// Sends the notices to the client, in order, until the workspace is gone.
pub async fn forward(
    client: Client,
    flags: Arc<ClientFlags>,
    source_files: Arc<SourceFileDiagnostics>,
    mut notices: UnboundedReceiver<Notice>,
) {
    // Progress waits for the client to create each token: on a task of its
    // own, so that it never holds up the load reports behind it.
    let (progress, mut progress_events) = unbounded_channel::<LoadEvent>();
    let (progress_client, progress_flags) = (client.clone(), flags.clone());
    tokio::spawn(async move {
        let mut tokens = ProgressTokens::default();
        while let Some(event) = progress_events.recv().await {
            let shows = progress_flags.shows_progress.load(Ordering::SeqCst);
            tokens.forward(&progress_client, shows, event).await;
        }
    });
    let mut kept_told = std::collections::HashSet::new();
    while let Some(notice) = notices.recv().await {
        match notice {
            Notice::Loaded {
                label,
                message,
                files,
            } => {
                kept_told.remove(&label);
                client.log_message(MessageType::INFO, message).await;
                publish(&client, &source_files, files).await;
            }
            // A library that stays damaged is refused again at each change
            // (Zotero writes many times a minute): told once, then logged,
            // until it reads well again.
            Notice::Kept { label, why, files } => {
                publish(&client, &source_files, files).await;
                let message = format!("paper-ls: {why}.");
                if kept_told.insert(label) {
                    client.show_message(MessageType::WARNING, message).await;
                } else {
                    client.log_message(MessageType::WARNING, message).await;
                }
            }
            Notice::IndexWarning(IndexWarning::Rebuilt(why)) => {
                client.log_message(MessageType::WARNING, why).await;
            }
            // Usually the check at start-up already said so: once is enough.
            Notice::IndexWarning(IndexWarning::CacheUnusable(why)) => {
                if !flags.cache_trouble_told.swap(true, Ordering::SeqCst) {
                    client
                        .show_message(MessageType::WARNING, format!("paper-ls: {why}."))
                        .await;
                }
            }
            Notice::Progress(event) => {
                let _ = progress.send(event);
            }
        }
    }
}

async fn publish(client: &Client, source_files: &SourceFileDiagnostics, files: FileDiagnostics) {
    for (uri, problems) in files {
        if let Some(all) = source_files.set_problems(&uri, problems) {
            client.publish_diagnostics(uri, all, None).await;
        }
    }
}

/// `$/progress` tokens, one per run of long work on a corpus.
#[derive(Default)]
struct ProgressTokens {
    tokens: HashMap<(Task, String), NumberOrString>,
    next: u32,
}

impl ProgressTokens {
    async fn forward(&mut self, client: &Client, shows: bool, event: LoadEvent) {
        match event {
            LoadEvent::Begin { label, task } => {
                let (title, kind) = match task {
                    Task::Indexing => ("Indexing papers", "indexing"),
                    Task::Embedding => {
                        ("Embedding papers (related papers by meaning)", "embedding")
                    }
                };
                tracing::info!("{kind} {label}");
                if !shows {
                    return;
                }
                self.next += 1;
                let token = NumberOrString::String(format!("paper-ls/{kind}/{}", self.next));
                let create =
                    client.send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                        token: token.clone(),
                    });
                if !matches!(
                    tokio::time::timeout(Duration::from_secs(5), create).await,
                    Ok(Ok(()))
                ) {
                    return;
                }
                let begin = WorkDoneProgressBegin {
                    title: title.into(),
                    message: Some(label.clone()),
                    percentage: Some(0),
                    cancellable: Some(false),
                };
                send(client, &token, WorkDoneProgress::Begin(begin)).await;
                self.tokens.insert((task, label), token);
            }
            LoadEvent::Progress {
                label,
                task,
                percent,
            } => {
                if let Some(token) = self.tokens.get(&(task, label)) {
                    let report = WorkDoneProgressReport {
                        percentage: Some(percent),
                        message: Some(format!("{percent}%")),
                        cancellable: None,
                    };
                    send(client, token, WorkDoneProgress::Report(report)).await;
                }
            }
            LoadEvent::End { label, task } => {
                if let Some(token) = self.tokens.remove(&(task, label.clone())) {
                    let done = match task {
                        Task::Indexing => "indexed",
                        Task::Embedding => "embedded",
                    };
                    let end = WorkDoneProgressEnd {
                        message: Some(format!("{done} {label}")),
                    };
                    send(client, &token, WorkDoneProgress::End(end)).await;
                }
            }
        }
    }
}

async fn send(client: &Client, token: &NumberOrString, value: WorkDoneProgress) {
    let params = ProgressParams {
        token: token.clone(),
        value: ProgressParamsValue::WorkDone(value),
    };
    client.send_notification::<Progress>(params).await;
}
