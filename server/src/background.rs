//! Work nobody waits for — related papers worked out ahead, the title
//! mentions of a vault's notes, a large corpus indexed beside its first
//! answers, cache files written, memory handed back — runs on threads of
//! its own at a lower CPU priority, so that on a machine with few cores a
//! hover or a completion arriving meanwhile gets the CPU first (against a
//! normal thread, the scheduler gives a nice-10 one about a tenth of a
//! core). An unprivileged thread can lower its priority but never raise it
//! again, so this work never runs on the blocking pool that answers
//! requests, and work a request may have to wait for (a memo it would fill
//! itself) stays on that pool.

use std::io;
use std::sync::{Arc, Condvar, Mutex};
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

/// A thread that runs the newest job it is given: a job handed over while
/// another runs waits, and is replaced by any newer one (each job works from
/// a newer snapshot, so an older one would only repeat work). One thread for
/// a kind of work, however often it is asked for, not one per request.
pub struct Latest {
    pending: Arc<(Mutex<LatestState>, Condvar)>,
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct LatestState {
    job: Option<Job>,
    started: bool,
}

impl Latest {
    pub fn new() -> Latest {
        Latest {
            pending: Arc::new((Mutex::new(LatestState::default()), Condvar::new())),
        }
    }

    /// Runs `job` on this worker's thread (named `name`, started on first
    /// use) after the job it is running, in place of any job still waiting.
    pub fn submit(&self, name: &str, job: impl FnOnce() + Send + 'static) {
        let (state, wake) = &*self.pending;
        let mut guard = crate::workspace::unpoisoned(state);
        guard.job = Some(Box::new(job));
        if !guard.started {
            let pending = self.pending.clone();
            match spawn(name, move || run_latest(&pending)) {
                Ok(_) => guard.started = true,
                Err(e) => {
                    tracing::warn!("cannot start the {name} thread: {e}");
                    guard.job = None;
                }
            }
        }
        wake.notify_one();
    }
}

impl Default for Latest {
    fn default() -> Self {
        Latest::new()
    }
}

fn run_latest(pending: &(Mutex<LatestState>, Condvar)) {
    let (state, wake) = pending;
    loop {
        let job = {
            let mut guard = crate::workspace::unpoisoned(state);
            loop {
                if let Some(job) = guard.job.take() {
                    break job;
                }
                guard = wake.wait(guard).unwrap_or_else(|e| e.into_inner());
            }
        };
        // A job that panics is logged by the panic hook; the worker goes on.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn lower_this_threads_priority() {
    // On Linux a nice value belongs to a thread: PRIO_PROCESS with the
    // thread's own id changes this thread only. The target is the
    // process's niceness + 10, whatever thread starts this one (a
    // background thread starting another must not push it to 19).
    // SAFETY: the syscall and get/setpriority take no pointers and cannot
    // fail in a way that harms the process; a refusal leaves the priority
    // as it was. (gettid(2) through syscall: glibc's wrapper needs 2.30.)
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let process = libc::getpriority(libc::PRIO_PROCESS, libc::getpid() as libc::id_t);
        let target = process.saturating_add(NICENESS).min(19);
        if libc::getpriority(libc::PRIO_PROCESS, tid) < target {
            libc::setpriority(libc::PRIO_PROCESS, tid, target);
        }
    }
}

/// Asks the scheduler to let this thread, which answers requests, take a
/// core from lower-priority work as soon as it wakes.
///
/// Linux's scheduler (EEVDF) lets the thread on a core finish its time
/// slice (~3 ms, scaled up with the cores) before a woken thread of higher
/// priority takes over, whatever their nice values: on two cores busy with
/// background work, a hover's threads waited up to 8.5 ms to run (`perf
/// sched latency` over the interleaved workload), which is the whole hover
/// tail. A thread that asks for a shorter slice (Linux 6.12+; older kernels
/// ignore the request) preempts at wakeup instead. Its nice value is kept.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn prefer_quick_wakeups() {
    /// `struct sched_attr`, as sched_setattr(2) reads it (version 1, 56 bytes).
    #[repr(C)]
    struct SchedAttr {
        size: u32,
        policy: u32,
        flags: u64,
        nice: i32,
        priority: u32,
        runtime: u64,
        deadline: u64,
        period: u64,
        util_min: u32,
        util_max: u32,
    }
    /// The shortest slice the kernel accepts.
    const SLICE_NS: u64 = 100_000;
    // SAFETY: sched_setattr reads `attr` (its size given) for this thread
    // (pid 0); getpriority and gettid take no pointers. A refusal leaves
    // the thread as it was.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let attr = SchedAttr {
            size: std::mem::size_of::<SchedAttr>() as u32,
            policy: libc::SCHED_OTHER as u32,
            flags: 0,
            nice: libc::getpriority(libc::PRIO_PROCESS, tid),
            priority: 0,
            runtime: SLICE_NS,
            deadline: 0,
            period: 0,
            util_min: 0,
            util_max: 0,
        };
        libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn prefer_quick_wakeups() {}

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
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::getpriority(libc::PRIO_PROCESS, tid)
        }
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
        // Started from a background thread: the same niceness, not 10 more.
        let nested = spawn("test-outer", || {
            spawn("test-inner", this_threads_niceness)
                .unwrap()
                .join()
                .unwrap()
        })
        .unwrap()
        .join()
        .unwrap();
        assert_eq!(nested, background);
    }

    /// The slice is read back from the scheduler where it says it
    /// (`/proc/…/sched` with `se.slice`, Linux 6.12+); the nice value of a
    /// background thread that asks is kept either way.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_request_thread_gets_a_short_slice_and_keeps_its_nice_value() {
        let slice_of_this_thread = || {
            let tid = unsafe { libc::syscall(libc::SYS_gettid) };
            let sched = std::fs::read_to_string(format!("/proc/self/task/{tid}/sched")).ok()?;
            let line = sched.lines().find(|l| l.starts_with("se.slice"))?;
            line.split(':').nth(1)?.trim().parse::<u64>().ok()
        };
        let (slice, niceness) = std::thread::spawn(move || {
            prefer_quick_wakeups();
            (slice_of_this_thread(), this_threads_niceness())
        })
        .join()
        .unwrap();
        match slice {
            Some(ns) => assert_eq!(ns, 100_000),
            None => eprintln!("this kernel does not show a thread's slice: not checked"),
        }
        assert_eq!(niceness, this_threads_niceness());
        let background = spawn("test-background", || {
            prefer_quick_wakeups();
            this_threads_niceness()
        })
        .unwrap()
        .join()
        .unwrap();
        assert_eq!(background, (this_threads_niceness() + NICENESS).min(19));
    }

    #[test]
    fn latest_runs_the_job_under_way_then_only_the_newest_of_those_waiting() {
        use std::sync::mpsc::channel;
        let worker = Latest::new();
        let (gate_open, gate) = channel::<()>();
        let (done, finished) = channel::<u32>();
        // The first job holds the worker until the gate opens; of the three
        // handed over meanwhile only the last runs.
        let (started, has_started) = channel::<()>();
        let first = done.clone();
        let first_started = started.clone();
        worker.submit("test-latest", move || {
            first_started.send(()).unwrap();
            gate.recv().unwrap();
            first.send(0).unwrap();
        });
        let wait = std::time::Duration::from_secs(10);
        has_started.recv_timeout(wait).unwrap();
        for n in 1..=3 {
            let done = done.clone();
            worker.submit("test-latest", move || done.send(n).unwrap());
        }
        gate_open.send(()).unwrap();
        assert_eq!(finished.recv_timeout(wait).unwrap(), 0);
        assert_eq!(finished.recv_timeout(wait).unwrap(), 3);
        // A job that panics does not end the worker.
        worker.submit("test-latest", move || {
            started.send(()).unwrap();
            panic!("on purpose")
        });
        has_started.recv_timeout(wait).unwrap();
        worker.submit("test-latest", move || done.send(4).unwrap());
        assert_eq!(finished.recv_timeout(wait).unwrap(), 4);
        assert!(finished
            .recv_timeout(std::time::Duration::from_millis(100))
            .is_err());
    }

    #[tokio::test]
    async fn run_gives_the_answer_or_none_after_a_panic() {
        assert_eq!(run("test-answer", || 6 * 7).await, Some(42));
        let panicked: Option<()> = run("test-panic", || panic!("on purpose")).await;
        assert_eq!(panicked, None);
    }
}
