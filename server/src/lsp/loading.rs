//! What the client hears about corpus loads: a line in its log per load, the
//! problems of each corpus file published as that file's diagnostics, and
//! `$/progress` while a large corpus is indexed (when the client creates
//! progress tokens for us).

use super::corpora::{LoadEvent, LoadHooks};
use super::state::ServerState;
use crate::corpus::{Corpus, Severity};
use crate::index::IndexWarning;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tower_lsp_server::ls_types::notification::Progress;
use tower_lsp_server::ls_types::request::WorkDoneProgressCreate;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

pub fn load_hooks(client: Client, state: Arc<ServerState>) -> Arc<LoadHooks> {
    let (events, receiver) = unbounded_channel();
    tokio::spawn(forward_progress(client.clone(), state.clone(), receiver));
    let (for_kept, for_index) = (client.clone(), client.clone());
    Arc::new(LoadHooks {
        report: Box::new(move |corpus: &Corpus, label: &str| report_load(&client, corpus, label)),
        kept: Box::new(move |corpus: &Corpus, why: &str| report_kept(&for_kept, corpus, why)),
        index_warning: Box::new(move |warning| report_index_warning(&for_index, &state, warning)),
        progress: Box::new(move |event| {
            let _ = events.send(event);
        }),
    })
}

/// A re-read refused to keep the last good corpus: the file's problems as it
/// is now, and a message saying which file and why.
fn report_kept(client: &Client, corpus: &Corpus, why: &str) {
    tracing::warn!("{why}");
    let diagnostics = source_diagnostics(corpus);
    let (client, message) = (client.clone(), format!("paper-ls: {why}."));
    tokio::spawn(async move {
        for (uri, diags) in diagnostics {
            client.publish_diagnostics(uri, diags, None).await;
        }
        client.show_message(MessageType::WARNING, message).await;
    });
}

/// A persisted index rebuilt goes to the client's log. A cache directory
/// that cannot be used is shown, once: usually the check at start-up
/// already said so.
fn report_index_warning(client: &Client, state: &ServerState, warning: IndexWarning) {
    let client = client.clone();
    match warning {
        IndexWarning::Rebuilt(why) => {
            tokio::spawn(async move { client.log_message(MessageType::WARNING, why).await });
        }
        IndexWarning::CacheUnusable(why) => {
            if !state.cache_trouble_told.swap(true, Ordering::SeqCst) {
                let message = format!("paper-ls: {why}.");
                tokio::spawn(
                    async move { client.show_message(MessageType::WARNING, message).await },
                );
            }
        }
    }
}

fn report_load(client: &Client, corpus: &Corpus, label: &str) {
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
    let diagnostics = source_diagnostics(corpus);
    let client = client.clone();
    tokio::spawn(async move {
        client.log_message(MessageType::INFO, message).await;
        for (uri, diags) in diagnostics {
            client.publish_diagnostics(uri, diags, None).await;
        }
    });
}

/// Each corpus file's problems as diagnostics on that file (an empty list
/// clears what an earlier load published).
fn source_diagnostics(corpus: &Corpus) -> Vec<(Uri, Vec<Diagnostic>)> {
    let mut by_file: HashMap<&std::path::Path, Vec<Diagnostic>> = corpus
        .sources
        .iter()
        .map(|s| (s.path.as_path(), Vec::new()))
        .collect();
    for p in &corpus.problems {
        let line = p.line.saturating_sub(1);
        let diagnostic = Diagnostic {
            range: Range::new(
                Position::new(line, 0),
                Position::new(line + u32::from(p.line > 0), 0),
            ),
            severity: Some(match p.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            source: Some("paper-ls".into()),
            message: p.message.clone(),
            ..Diagnostic::default()
        };
        by_file
            .entry(p.file.as_path())
            .or_default()
            .push(diagnostic);
    }
    by_file
        .into_iter()
        .filter_map(|(path, diags)| Some((Uri::from_file_path(path)?, diags)))
        .collect()
}

/// Turns load events into `$/progress`, one token per indexing run.
async fn forward_progress(
    client: Client,
    state: Arc<ServerState>,
    mut events: UnboundedReceiver<LoadEvent>,
) {
    let mut tokens: HashMap<String, NumberOrString> = HashMap::new();
    let mut next = 0u32;
    while let Some(event) = events.recv().await {
        let shows = state.client_shows_progress.load(Ordering::SeqCst);
        match event {
            LoadEvent::Begin { label } => {
                tracing::info!("indexing {label}");
                if !shows {
                    continue;
                }
                next += 1;
                let token = NumberOrString::String(format!("paper-ls/indexing/{next}"));
                let create =
                    client.send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                        token: token.clone(),
                    });
                if !matches!(
                    tokio::time::timeout(Duration::from_secs(5), create).await,
                    Ok(Ok(()))
                ) {
                    continue;
                }
                let begin = WorkDoneProgressBegin {
                    title: "Indexing papers".into(),
                    message: Some(label.clone()),
                    percentage: Some(0),
                    cancellable: Some(false),
                };
                send(&client, &token, WorkDoneProgress::Begin(begin)).await;
                tokens.insert(label, token);
            }
            LoadEvent::Indexing { label, percent } => {
                if let Some(token) = tokens.get(&label) {
                    let report = WorkDoneProgressReport {
                        percentage: Some(percent),
                        message: Some(format!("{percent}%")),
                        cancellable: None,
                    };
                    send(&client, token, WorkDoneProgress::Report(report)).await;
                }
            }
            LoadEvent::End { label } => {
                if let Some(token) = tokens.remove(&label) {
                    let end = WorkDoneProgressEnd {
                        message: Some(format!("indexed {label}")),
                    };
                    send(&client, &token, WorkDoneProgress::End(end)).await;
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
