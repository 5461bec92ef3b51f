//! The client's stdin and stdout, read and written as they become ready.
//!
//! tokio's own stdin and stdout do each read and write on a blocking
//! thread: a message from the client wakes that thread, which then wakes a
//! runtime thread to handle it, and an answer goes out through another
//! blocking thread — three hand-overs for every hover, each a chance to
//! wait for a core when two cores are busy with background work (a
//! timeline of the interleaved benchmark's slowest hovers showed 6–9 ms
//! between the client's write and our first look at it). When stdin and
//! stdout are pipes or sockets — as an editor starts a language server —
//! they are set non-blocking and registered with the runtime's event loop
//! instead: the runtime thread waiting for events wakes with the message,
//! answers it, and writes the answer itself. Anything else (a terminal, a
//! file) is read and written the tokio way, which works for every kind of
//! file; so is every end on systems other than Linux.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The client's messages.
pub fn input() -> Box<dyn AsyncRead + Unpin + Send> {
    #[cfg(target_os = "linux")]
    if let Some(end) = ready::PipeEnd::of(libc::STDIN_FILENO, ready::Interest::READABLE) {
        return Box::new(end);
    }
    Box::new(tokio::io::stdin())
}

/// Where our messages go.
pub fn output() -> Box<dyn AsyncWrite + Unpin + Send> {
    #[cfg(target_os = "linux")]
    if let Some(end) = ready::PipeEnd::of(libc::STDOUT_FILENO, ready::Interest::WRITABLE) {
        return Box::new(end);
    }
    Box::new(tokio::io::stdout())
}

#[cfg(target_os = "linux")]
mod ready {
    use super::*;
    use std::os::fd::RawFd;
    use tokio::io::unix::AsyncFd;
    pub use tokio::io::Interest;

    /// A pipe or socket end, non-blocking, waited on through the runtime.
    pub struct PipeEnd {
        fd: AsyncFd<RawFd>,
    }

    impl PipeEnd {
        /// `fd` set up for readiness, when it is a pipe or a socket (whose
        /// non-blocking flag no terminal or shell shares) and the runtime
        /// takes it.
        pub fn of(fd: RawFd, interest: Interest) -> Option<PipeEnd> {
            // SAFETY: fstat writes into the zeroed struct it is given;
            // fcntl only reads and sets this descriptor's flags.
            unsafe {
                let mut stat: libc::stat = std::mem::zeroed();
                if libc::fstat(fd, &mut stat) != 0 {
                    return None;
                }
                let kind = stat.st_mode & libc::S_IFMT;
                if kind != libc::S_IFIFO && kind != libc::S_IFSOCK {
                    return None;
                }
                let flags = libc::fcntl(fd, libc::F_GETFL);
                if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
                    return None;
                }
                // SAFETY: (register) stdin and stdout stay open for the life
                // of the process, and a test's pipe until its end is dropped.
                match AsyncFd::register_with_interest(fd, interest) {
                    Ok(fd) => Some(PipeEnd { fd }),
                    Err(e) => {
                        tracing::debug!("descriptor {fd} used the blocking way: {e}");
                        libc::fcntl(fd, libc::F_SETFL, flags);
                        None
                    }
                }
            }
        }
    }

    /// One read(2) or write(2), its count or its error.
    fn syscall_result(n: isize) -> io::Result<usize> {
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    impl AsyncRead for PipeEnd {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            loop {
                let mut guard = match self.fd.poll_read_ready(cx) {
                    Poll::Ready(Ok(guard)) => guard,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                };
                let unfilled = buf.initialize_unfilled();
                let read = guard.try_io(|fd| {
                    // SAFETY: read(2) writes at most `unfilled.len()` bytes
                    // into the initialised slice it is given.
                    let n = unsafe {
                        libc::read(*fd.get_ref(), unfilled.as_mut_ptr().cast(), unfilled.len())
                    };
                    syscall_result(n)
                });
                match read {
                    Ok(Ok(n)) => {
                        buf.advance(n);
                        return Poll::Ready(Ok(()));
                    }
                    Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Ok(Err(e)) => return Poll::Ready(Err(e)),
                    // Not ready after all: readiness cleared, wait again.
                    Err(_would_block) => continue,
                }
            }
        }
    }

    impl AsyncWrite for PipeEnd {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bytes: &[u8],
        ) -> Poll<io::Result<usize>> {
            loop {
                let mut guard = match self.fd.poll_write_ready(cx) {
                    Poll::Ready(Ok(guard)) => guard,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                };
                let written = guard.try_io(|fd| {
                    // SAFETY: write(2) reads at most `bytes.len()` bytes
                    // from the slice it is given.
                    let n =
                        unsafe { libc::write(*fd.get_ref(), bytes.as_ptr().cast(), bytes.len()) };
                    syscall_result(n)
                });
                match written {
                    Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Ok(result) => return Poll::Ready(result),
                    Err(_would_block) => continue,
                }
            }
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            // Nothing is buffered here.
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        /// Both ends of a real pipe, read and written by readiness: every
        /// byte arrives in order, including more than the pipe holds at
        /// once (the writer waits for room), and the end of input is seen.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_pipe_carries_everything_in_order_and_ends() {
            let mut fds = [0; 2];
            // SAFETY: pipe(2) fills the two descriptors.
            assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
            let (read_fd, write_fd) = (fds[0], fds[1]);
            let mut reader =
                PipeEnd::of(read_fd, Interest::READABLE).expect("a pipe is read by readiness");
            let mut writer =
                PipeEnd::of(write_fd, Interest::WRITABLE).expect("a pipe is written by readiness");
            let sent: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
            let to_send = sent.clone();
            let writing = tokio::spawn(async move {
                writer.write_all(&to_send).await.unwrap();
                writer.flush().await.unwrap();
                drop(writer);
                // SAFETY: the write end is ours and no longer used.
                unsafe { libc::close(write_fd) };
            });
            let mut received = Vec::new();
            reader.read_to_end(&mut received).await.unwrap();
            writing.await.unwrap();
            assert_eq!(received.len(), sent.len());
            assert!(received == sent, "the bytes arrive as sent");
            drop(reader);
            // SAFETY: as above, for the read end.
            unsafe { libc::close(read_fd) };
        }

        #[tokio::test]
        async fn a_regular_file_is_left_to_the_blocking_way() {
            let file = tempfile::tempfile().unwrap();
            use std::os::fd::AsRawFd;
            assert!(PipeEnd::of(file.as_raw_fd(), Interest::READABLE).is_none());
        }
    }
}
