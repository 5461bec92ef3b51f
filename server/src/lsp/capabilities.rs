//! What the server announces at `initialize`, and the file watchers it
//! asks a client for.

use super::commands::COMMANDS;
use crate::notes::NOTE_EXTENSIONS;
use crate::text::PositionEncoding;
use tower_lsp_server::ls_types::*;

/// The kind of the "Add all missing papers to refs.bib" source action.
pub const ADD_MISSING_PAPERS_KIND: &str = "source.addMissingPapers";

/// Corpus sources and notes whose changes on disk matter.
fn watched_globs() -> Vec<String> {
    let notes: Vec<String> = NOTE_EXTENSIONS
        .iter()
        .flat_map(|(ext, _)| [ext.to_string(), ext.to_ascii_lowercase()])
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    vec![
        "**/*.{bib,bibtex,biblatex,json,jsonl,ndjson,gz}".to_string(),
        format!("**/*.{{{}}}", notes.join(",")),
        "**/paper-ls.toml".to_string(),
    ]
}

pub fn capabilities(encoding: PositionEncoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match encoding {
            PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
            PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(["@", "{", ",", ";"].map(String::from).to_vec()),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        implementation_provider: Some(ImplementationProviderCapability::Simple(true)),
        inlay_hint_provider: Some(OneOf::Left(true)),
        document_link_provider: Some(DocumentLinkOptions {
            resolve_provider: Some(false),
            work_done_progress_options: Default::default(),
        }),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::new(ADD_MISSING_PAPERS_KIND),
            ]),
            ..CodeActionOptions::default()
        })),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: COMMANDS.iter().map(|c| c.to_string()).collect(),
            ..ExecuteCommandOptions::default()
        }),
        ..ServerCapabilities::default()
    }
}

/// The registration asking the client to report changes to watched files.
pub fn file_watchers() -> Registration {
    let watchers: Vec<FileSystemWatcher> = watched_globs()
        .into_iter()
        .map(|g| FileSystemWatcher {
            glob_pattern: GlobPattern::String(g),
            kind: None,
        })
        .collect();
    let options = DidChangeWatchedFilesRegistrationOptions { watchers };
    Registration {
        id: "paper-ls-watched-files".into(),
        method: "workspace/didChangeWatchedFiles".into(),
        register_options: serde_json::to_value(options).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_note_and_corpus_file_is_watched() {
        let globs = watched_globs();
        let matches = |path: &str| {
            globs.iter().any(|g| {
                globset::Glob::new(g)
                    .unwrap()
                    .compile_matcher()
                    .is_match(path)
            })
        };
        for (ext, _) in NOTE_EXTENSIONS {
            assert!(matches(&format!("notes/a.{ext}")), "{ext}");
            assert!(matches(&format!("a.{}", ext.to_ascii_lowercase())), "{ext}");
        }
        for path in ["refs.bib", "dump.jsonl.gz", "paper-ls.toml", "x/y.json"] {
            assert!(matches(path), "{path}");
        }
        assert!(!matches("style.sty") && !matches("main.pdf"));
    }
}
