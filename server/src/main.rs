//! The `paper-ls` binary: parses arguments and hands off to the language
//! server or to a shell command. Logs go to stderr; stdout belongs to the
//! protocol (or to a command's output).

use clap::Parser;
use paper_ls::cli::{self, Cli, Command};
use paper_ls::corpus::Cache;
use std::sync::Arc;

fn main() {
    let cli = Cli::parse();
    let serving = matches!(cli.command, None | Some(Command::Serve));
    init_logging(if serving { "info" } else { "warn" });
    // The one place the cache directory is read from the environment.
    let cache = Arc::new(Cache::from_environment());
    let code = match cli.command {
        None | Some(Command::Serve) => paper_ls::lsp::serve(cache),
        Some(command) => {
            let code = cli::run(command, &cache);
            cache.finish_writes();
            code
        }
    };
    std::process::exit(code);
}

/// `PAPER_LS_LOG` (an env-filter directive such as `debug`) overrides the default level.
fn init_logging(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAPER_LS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}
