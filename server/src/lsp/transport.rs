//! Our own message framing between the client's stdio and tower-lsp-server.
//!
//! tower-lsp-server 0.23 reads its input through a `FramedRead`, and a
//! `FramedRead` stops for good after its decoder reports one error: a single
//! body that is not JSON, a header it does not expect (`content-length` in
//! lower case, a `Content-Type` without a charset, a third header line) or a
//! body that is JSON but no JSON-RPC message ends the input, and the server
//! with it. So we read stdin ourselves: frames are cut by `Content-Length`
//! (header names in any case, `Content-Type` optional, CRLF or bare LF), each
//! body is checked to be a JSON-RPC message exactly as tower-lsp will read it,
//! and only those are handed on, re-framed canonically, through an in-memory
//! pipe. Everything else is answered here with a JSON-RPC error (`-32700`
//! parse error, `-32600` invalid request), logged, and reading goes on at the
//! next `Content-Length:` header. A message over [`MAX_MESSAGE_BYTES`] is
//! refused as soon as its header is read and skipped as it streams in,
//! never held in memory.
//!
//! tower-lsp writes into a second pipe; one task cuts its output back into
//! frames and writes them, and our error replies, to stdout one whole frame
//! at a time, so the two never interleave. Both pipes are small and bounded:
//! a client that stops reading stalls tower-lsp, then us, then our reading
//! of stdin — memory does not grow with what the client sends.
//!
//! This module does not know what any message means; tower-lsp routes them.
//! The one exception is a hook the server hands in: it sees every message
//! before it is forwarded, on this one reading task, so whatever it does
//! happens in exactly the order the client sent the messages (the server
//! applies text edits there: tower-lsp may run handlers concurrently). The
//! hook may also take a request to answer itself: at once, with the answer
//! frame it returns (the server does for the requests a user waits on
//! while typing), or later through [`Replies`] (for the few whose answers
//! run to megabytes). Either way the request is not forwarded, and its
//! answer is written like our error replies.

/// Sees each well-formed message body, in order, before tower-lsp does.
pub type InOrder = Box<dyn FnMut(&[u8]) -> Handled + Send>;

/// What the [`InOrder`] hook did with a message.
pub enum Handled {
    /// Nothing that answers it: tower-lsp reads it.
    Forward,
    /// A request the hook answers later, through [`Replies`].
    Taken,
    /// A request answered already: the frame to write.
    Answered(Vec<u8>),
}

/// Whole frames for the client beside tower-lsp's output: our error
/// replies, and the answers to requests the [`InOrder`] hook took.
#[derive(Clone)]
pub struct Replies {
    frames: mpsc::Sender<Vec<u8>>,
    /// Answers promised and not yet sent: once tower-lsp's output ends
    /// (`exit`), the writer still waits for these, briefly, so that a
    /// request the client sent before `shutdown` is answered as tower-lsp
    /// answers its own.
    owed: Arc<AtomicUsize>,
}

impl Replies {
    /// Queues a frame for the client; false once the writer is gone.
    pub async fn send(&self, frame: Vec<u8>) -> bool {
        self.frames.send(frame).await.is_ok()
    }

    /// A promise of one answer, kept until it is paid or dropped.
    pub fn owe(&self) -> Owed {
        self.owed.fetch_add(1, Ordering::SeqCst);
        Owed {
            replies: self.clone(),
        }
    }
}

/// One answer owed to the client (see [`Replies::owe`]).
pub struct Owed {
    replies: Replies,
}

impl Owed {
    /// Sends the answer.
    pub async fn pay(self, frame: Vec<u8>) {
        self.replies.send(frame).await;
    }
}

impl Drop for Owed {
    fn drop(&mut self) {
        self.replies.owed.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How long answers still owed are waited for after tower-lsp's output ends.
const OWED_PATIENCE: Duration = Duration::from_secs(1);

mod framing;

pub use framing::{check_message, frame, frame_pieces, FrameReader, Framed, Verdict};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

/// The largest message body read. LSP bodies are JSON; the largest a real
/// client sends is a whole document in `didOpen` or a full-text `didChange`.
/// The spec's bad inputs include a 50 MB single-line file, which must still
/// open: with JSON escaping of quotes, backslashes and control characters its
/// body can reach ~60 MB, so the limit sits just above that. A larger body is
/// refused and skipped unread; the server stays within its memory budget.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// How much is read from stdin (and from tower-lsp's output) at once.
const READ_CHUNK_BYTES: usize = 64 << 10;
/// Capacity of each in-memory pipe to and from tower-lsp. Small, so that a
/// client that does not read its responses stops us reading its requests.
const PIPE_BYTES: usize = 64 << 10;
/// Error replies waiting for stdout.
const PENDING_REPLIES: usize = 16;

/// JSON-RPC's code for a body that is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC's code for JSON that is no request, notification or response.
pub const INVALID_REQUEST: i64 = -32600;

fn error_reply(id: Value, code: i64, message: &str) -> Vec<u8> {
    let body = json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": id});
    frame(body.to_string().as_bytes())
}

/// The ends of the pipes tower-lsp-server is served on, and the task that
/// writes its output to the client.
pub struct ServerPipes {
    /// Well-formed messages from the client, for tower-lsp to read.
    pub input: DuplexStream,
    /// Where tower-lsp writes its messages.
    pub output: DuplexStream,
    /// Ends once tower-lsp's output is closed and all of it was written.
    pub written: JoinHandle<()>,
}

/// Starts reading `client_input` and writing `client_output`; `input_closed`
/// is notified when the client's input ends. `in_order` makes the hook
/// from where it may send whole reply frames.
pub fn start(
    client_input: impl AsyncRead + Unpin + Send + 'static,
    client_output: impl AsyncWrite + Unpin + Send + 'static,
    input_closed: Arc<Notify>,
    in_order: impl FnOnce(Replies) -> InOrder,
) -> ServerPipes {
    let (to_server, server_input) = tokio::io::duplex(PIPE_BYTES);
    let (server_output, from_server) = tokio::io::duplex(PIPE_BYTES);
    let (frames, pending_replies) = mpsc::channel(PENDING_REPLIES);
    let owed = Arc::new(AtomicUsize::new(0));
    let replies = Replies {
        frames,
        owed: owed.clone(),
    };
    let in_order = in_order(replies.clone());
    tokio::spawn(forward_client_messages(
        client_input,
        to_server,
        replies,
        input_closed,
        in_order,
    ));
    let written = tokio::spawn(write_client_output(
        from_server,
        pending_replies,
        owed,
        client_output,
    ));
    ServerPipes {
        input: server_input,
        output: server_output,
        written,
    }
}

/// Reads the client's input, forwards the messages tower-lsp can read and
/// answers the rest.
async fn forward_client_messages(
    mut client_input: impl AsyncRead + Unpin,
    mut to_server: DuplexStream,
    replies: Replies,
    input_closed: Arc<Notify>,
    mut in_order: InOrder,
) {
    let mut frames = FrameReader::new(MAX_MESSAGE_BYTES);
    let mut chunk = vec![0; READ_CHUNK_BYTES];
    // The rest of a refused body shows up as garbage: it was answered once.
    let mut last_was_refused = false;
    let mut server_reading = true;
    loop {
        let read = match client_input.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("cannot read the client's input: {e}");
                break;
            }
        };
        frames.push(&chunk[..read]);
        while let Some(piece) = frames.next_frame() {
            let reply = match piece {
                Framed::Body(body) => match check_message(&body) {
                    Verdict::Forward => {
                        last_was_refused = false;
                        match in_order(&body) {
                            Handled::Forward => {
                                // After `exit` tower-lsp stops reading; the rest is dropped.
                                if server_reading {
                                    server_reading =
                                        to_server.write_all(&frame(&body)).await.is_ok();
                                }
                                continue;
                            }
                            Handled::Taken => continue,
                            Handled::Answered(frame) => frame,
                        }
                    }
                    Verdict::ParseError(why) => {
                        tracing::warn!("refused a message: {why}");
                        frames.resync_within(&body);
                        last_was_refused = true;
                        error_reply(Value::Null, PARSE_ERROR, &format!("Parse error: {why}"))
                    }
                    Verdict::InvalidRequest { id, why } => {
                        tracing::warn!("refused a message (id {id}): {why}");
                        last_was_refused = false;
                        error_reply(id, INVALID_REQUEST, &format!("Invalid request: {why}"))
                    }
                },
                Framed::Garbage { why } => {
                    tracing::warn!("skipping input up to the next `Content-Length:` header: {why}");
                    if std::mem::replace(&mut last_was_refused, true) {
                        continue;
                    }
                    error_reply(Value::Null, PARSE_ERROR, &format!("Parse error: {why}"))
                }
                Framed::Oversized { declared } => {
                    let why = format!(
                        "message of {declared} bytes is over the {MAX_MESSAGE_BYTES}-byte limit; skipped"
                    );
                    tracing::warn!("refused a message: {why}");
                    last_was_refused = false;
                    error_reply(
                        Value::Null,
                        INVALID_REQUEST,
                        &format!("Invalid request: {why}"),
                    )
                }
            };
            if !replies.send(reply).await {
                break;
            }
        }
    }
    if let Some(place) = frames.unfinished() {
        tracing::warn!("the client's input ended {place}");
    }
    input_closed.notify_one();
    // Dropping `to_server` here tells tower-lsp the input ended.
}

/// Writes tower-lsp's messages and our error replies to the client, one
/// whole frame at a time, until tower-lsp's output closes.
async fn write_client_output(
    mut from_server: DuplexStream,
    mut replies: mpsc::Receiver<Vec<u8>>,
    owed: Arc<AtomicUsize>,
    mut client_output: impl AsyncWrite + Unpin,
) {
    let mut frames = FrameReader::new(usize::MAX);
    let mut chunk = vec![0; READ_CHUNK_BYTES];
    let mut replies_open = true;
    loop {
        tokio::select! {
            read = from_server.read(&mut chunk) => {
                let read = match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                frames.push(&chunk[..read]);
                while let Some(piece) = frames.next_frame() {
                    // tower-lsp frames its own output correctly; only bodies come out.
                    if let Framed::Body(body) = piece {
                        if !write_frame(&mut client_output, &frame(&body)).await {
                            return;
                        }
                    }
                }
            }
            reply = replies.recv(), if replies_open => match reply {
                Some(reply) => {
                    if !write_frame(&mut client_output, &reply).await {
                        return;
                    }
                }
                None => replies_open = false,
            },
        }
    }
    while let Ok(reply) = replies.try_recv() {
        if !write_frame(&mut client_output, &reply).await {
            return;
        }
    }
    let deadline = tokio::time::Instant::now() + OWED_PATIENCE;
    while owed.load(Ordering::SeqCst) > 0 {
        // Polled: a promise dropped unpaid (its task aborted) sends nothing.
        let wait = tokio::time::Duration::from_millis(10);
        match tokio::time::timeout(wait, replies.recv()).await {
            Ok(Some(reply)) => {
                if !write_frame(&mut client_output, &reply).await {
                    return;
                }
            }
            Ok(None) => return,
            Err(_) if tokio::time::Instant::now() >= deadline => return,
            Err(_) => {}
        }
    }
}

async fn write_frame(out: &mut (impl AsyncWrite + Unpin), frame: &[u8]) -> bool {
    let written = async {
        out.write_all(frame).await?;
        out.flush().await
    };
    match written.await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("cannot write to the client: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOVER: &str = r#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{}}"#;
    const EXIT: &str = r#"{"jsonrpc":"2.0","method":"exit"}"#;

    fn message(body: &str) -> Vec<u8> {
        frame(body.as_bytes())
    }

    #[tokio::test]
    async fn refused_input_is_answered_and_good_messages_pass_through() {
        let (mut client, client_side) = tokio::io::duplex(1 << 16);
        let (client_reads, client_writes) = tokio::io::split(client_side);
        let closed = Arc::new(Notify::new());
        let pipes = start(client_reads, client_writes, closed.clone(), |_| {
            Box::new(|_| Handled::Forward)
        });
        let mut input = Vec::new();
        input.extend(message("{not json"));
        input.extend(message(HOVER));
        client.write_all(&input).await.unwrap();
        let mut server_input = pipes.input;
        let mut forwarded = vec![0; message(HOVER).len()];
        server_input.read_exact(&mut forwarded).await.unwrap();
        assert_eq!(forwarded, message(HOVER));
        let mut server_output = pipes.output;
        server_output.write_all(&message(EXIT)).await.unwrap();
        drop(server_output);
        client.shutdown().await.unwrap();
        let mut answered = Vec::new();
        client.read_to_end(&mut answered).await.unwrap();
        let text = String::from_utf8(answered).unwrap();
        assert!(text.contains("-32700"), "{text}");
        assert!(text.contains(EXIT), "{text}");
        closed.notified().await;
    }
}
