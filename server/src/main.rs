//! The `paper-ls` binary: parses arguments and hands off to the language
//! server or to a shell command. Logs go to stderr; stdout belongs to the
//! protocol (or to a command's output).

use clap::Parser;
use paper_ls::cli::{self, Cli, Command};
use paper_ls::corpus::Cache;
use std::sync::Arc;

fn main() {
    tune_malloc();
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

/// Buffers of a megabyte or more come from their own memory mappings, so
/// that freeing one hands it back to the system at once — set before any
/// thread starts, unless `MALLOC_MMAP_THRESHOLD_` says otherwise.
///
/// glibc's threshold starts at 128 KB but rises to the size of the largest
/// mapped buffer freed (up to 32 MB), after which a reload's tables, title
/// matcher and index buffers are served from the arenas and what they free
/// stays resident there (`malloc_trim` did not give it back): 24 lines
/// appended one at a time to the 74,728-paper arXiv dump took the server
/// from 62 to 218 MB of anonymous memory. A fixed 1 MB threshold keeps it
/// flat (own memory 46 → 45 MB over 8 appends from a cold start, 117 →
/// 109 with the arena limit that was here before), and lets glibc keep its
/// eight arenas per core: limiting them to two per core had bounded the
/// memory too, but made requests wait on the background's allocations
/// (interleaved hover p99 median of 10 runs ~6.5 ms against ~4.5 now).
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; called before
        // any other thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        }
    }
}
