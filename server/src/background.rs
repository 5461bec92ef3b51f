//! Work nobody waits for — related papers worked out ahead, the title
//! mentions of a vault's notes, a large corpus indexed beside its first
//! answers, cache files written, memory handed back — runs on threads of
//! its own at a lower CPU priority, so that on a machine with few cores a
//! hover or a completion arriving meanwhile gets the CPU first (against a
//! normal thread, the scheduler gives a nice-10 one about a tenth of a
//! core). An unprivileged thread can lower its priority but never raise it
//! again, so this work never runs on the blocking pool that answers
//! requests. Nothing is held locked while it works that a request waits for.

use std::io;
use std::thread::JoinHandle;

/// How much lower than requests background work runs (a nice value).
const NICENESS: i32 = 10;

/// Starts `work` on a new background thread named `name`.
pub fn spawn<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            lower_this_threads_priority();
            work()
        })
}

/// Runs `work` on a background thread and waits for it without holding an
/// executor thread; `None` when the thread could not start or `work`
/// panicked (logged).
pub async fn run<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    let started = spawn(name, move || {
        let _ = done.send(work());
    });
    if let Err(e) = started {
        tracing::warn!("cannot start the {name} thread: {e}");
        return None;
    }
    match result.await {
        Ok(value) => Some(value),
        Err(_) => {
            tracing::error!("the {name} work stopped without an answer (a panic)");
            None
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn lower_this_threads_priority() {
    // On Linux a nice value belongs to a thread: PRIO_PROCESS with the
    // thread's own id changes this thread only.
    // SAFETY: gettid and setpriority take no pointers and cannot fail in a
    // way that harms the process; a refusal leaves the priority as it was.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        libc::setpriority(
            libc::PRIO_PROCESS,
            tid,
            now.saturating_add(NICENESS).min(19),
        );
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn lower_this_threads_priority() {
    // Elsewhere background work runs at the normal priority.
    let _ = NICENESS;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn this_threads_niceness() -> i32 {
        // SAFETY: as above; getpriority only reads.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn background_threads_run_lower_than_the_thread_that_starts_them() {
        let caller = this_threads_niceness();
        let background = spawn("test-background", this_threads_niceness)
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(background, (caller + NICENESS).min(19));
        assert_eq!(
            this_threads_niceness(),
            caller,
            "the caller's thread is unchanged"
        );
    }

    #[tokio::test]
    async fn run_gives_the_answer_or_none_after_a_panic() {
        assert_eq!(run("test-answer", || 6 * 7).await, Some(42));
        let panicked: Option<()> = run("test-panic", || panic!("on purpose")).await;
        assert_eq!(panicked, None);
    }
}
