//! Where features run. Most run off the async executor, each on a blocking
//! thread, so a scan of a long note or a search of a million papers never
//! stalls the reading of the client's messages; the few a user waits on
//! while typing run where their request is read (`quick_answers`). A
//! feature that panics is logged and answered with a JSON-RPC internal
//! error (-32603) that names it — never with an empty answer that would
//! look like "nothing here".

use std::any::Any;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};

/// Runs a feature on a blocking thread. A panic in it becomes a JSON-RPC
/// internal error (-32603) naming the feature, and a line in the log.
pub async fn run_feature<T: Send + 'static>(
    name: &str,
    feature: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(feature)
        .await
        .map_err(|e| match e.try_into_panic() {
            Ok(payload) => failed(name, &describe(payload)),
            Err(e) => failed(name, &e.to_string()),
        })
}

/// Runs a feature on this thread, with a panic answered as in
/// [`run_feature`].
pub fn run_feature_here<T>(name: &str, feature: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(feature))
        .map_err(|payload| failed(name, &describe(payload)))
}

fn describe(payload: Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

fn failed(name: &str, why: &str) -> Error {
    tracing::error!("the {name} feature failed: {why}");
    Error {
        code: ErrorCode::InternalError,
        message: format!("paper-ls: the {name} feature failed (a bug; please report it): {why}")
            .into(),
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_feature_is_an_internal_error_that_says_so() {
        let answer: Result<()> = run_feature("hover", || panic!("the card broke")).await;
        let here: Result<()> = run_feature_here("hover", || panic!("the card broke"));
        for answer in [answer, here] {
            let error = answer.expect_err("an error, not an empty answer");
            assert_eq!(error.code, ErrorCode::InternalError);
            assert_eq!(error.code.code(), -32603);
            assert!(error.message.contains("hover"), "{}", error.message);
            assert!(
                error.message.contains("the card broke"),
                "{}",
                error.message
            );
        }
        assert_eq!(run_feature("hover", || 7).await.ok(), Some(7));
        assert_eq!(run_feature_here("hover", || 7).ok(), Some(7));
    }
}
