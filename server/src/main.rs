//! The `paper-ls` binary: parses arguments and hands off to the language
//! server or to a shell command. Logs go to stderr; stdout belongs to the
//! protocol (or to a command's output).

use clap::Parser;
use paper_ls::cli::{self, Cli, Command};
use paper_ls::corpus::Cache;
use std::sync::Arc;

fn main() {
    limit_malloc_arenas();
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

/// Two glibc malloc arenas per core at most (glibc's own limit is eight),
/// set before any thread starts, unless `MALLOC_ARENA_MAX` says otherwise.
///
/// A reload runs on a pool thread and builds its title matcher and its
/// index update on threads of their own, started afresh each time; with
/// eight arenas per core each reload's buffers went to yet another arena,
/// and the memory they left there stayed resident (`malloc_trim` did not
/// give it back): 24 lines appended one at a time to the 74,728-paper
/// arXiv dump took the server from 62 to 218 MB of anonymous memory. With
/// two per core (four here) it stays at 58–73 MB over 16 appends. One per
/// core held memory as well but made requests wait on the background's
/// allocations (interleaved hover p99 5.3–7.0 ms against 2.9–4.9); two per
/// core measured within noise of eight (5.9–7.5 against 4.0–7.7).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let arenas = libc::c_int::try_from((2 * cores).max(4)).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets an allocator parameter; called before
        // any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}
