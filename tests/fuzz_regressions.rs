//! The fuzz targets' saved inputs as ordinary tests: for every target in
//! `paper_ls::fuzzing::TARGETS`, every file of `fuzz/seeds/<target>/` (the
//! small real inputs fuzzing starts from) and of `fuzz/regressions/<target>/`
//! (each a minimised input that once crashed the target) goes through the
//! same check the fuzz target runs. A bug the fuzzer found stays fixed
//! without running the fuzzer.
//!
//! To replay one file: `FUZZ_INPUT=fuzz/regressions/bibtex/name cargo test
//! --test fuzz_regressions -- --nocapture` (the path from the repository root).

use paper_ls::fuzzing::TARGETS;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files of one saved-input folder, sorted; none when it is absent.
fn inputs_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` over every file; returns the files that failed, each with
/// its panic message.
fn failures(check: fn(&[u8]), files: &[PathBuf]) -> Vec<String> {
    let mut failed = Vec::new();
    for file in files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {message}", file.display()));
        }
    }
    failed
}

#[test]
fn saved_fuzz_inputs_pass_their_checks() {
    if let Ok(one) = std::env::var("FUZZ_INPUT") {
        let path = repo_root().join(&one);
        let target = path
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let (_, check) = TARGETS
            .iter()
            .find(|(name, _)| *name == target)
            .unwrap_or_else(|| panic!("{one}: its folder names no fuzz target"));
        check(&std::fs::read(&path).expect("read FUZZ_INPUT"));
        return;
    }
    let fuzz = repo_root().join("fuzz");
    let mut failed = Vec::new();
    let mut replayed = 0;
    for (target, check) in TARGETS {
        let mut files = inputs_in(&fuzz.join("seeds").join(target));
        assert!(!files.is_empty(), "fuzz/seeds/{target}/ has no seeds");
        files.extend(inputs_in(&fuzz.join("regressions").join(target)));
        replayed += files.len();
        failed.extend(failures(*check, &files));
    }
    assert!(
        failed.is_empty(),
        "{} of {replayed} saved fuzz inputs fail:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
