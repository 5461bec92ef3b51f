//! Features run off the async executor: each on a blocking thread, so a
//! scan of a long note or a search of a million papers never stalls the
//! reading of the client's messages. A feature that panics is logged and
//! answered with a JSON-RPC internal error (-32603) that names it — never
//! with an empty answer that would look like "nothing here".

use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};

/// Runs a feature on a blocking thread. A panic in it becomes a JSON-RPC
/// internal error (-32603) naming the feature, and a line in the log.
pub async fn run_feature<T: Send + 'static>(
    name: &str,
    feature: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(feature).await.map_err(|e| {
        let why = match e.try_into_panic() {
            Ok(payload) => payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into()),
            Err(e) => e.to_string(),
        };
        tracing::error!("the {name} feature failed: {why}");
        Error {
            code: ErrorCode::InternalError,
            message: format!(
                "paper-ls: the {name} feature failed (a bug; please report it): {why}"
            )
            .into(),
            data: None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_feature_is_an_internal_error_that_says_so() {
        let answer: Result<()> = run_feature("hover", || panic!("the card broke")).await;
        let error = answer.expect_err("an error, not an empty answer");
        assert_eq!(error.code, ErrorCode::InternalError);
        assert_eq!(error.code.code(), -32603);
        assert!(error.message.contains("hover"), "{}", error.message);
        assert!(
            error.message.contains("the card broke"),
            "{}",
            error.message
        );
        assert_eq!(run_feature("hover", || 7).await.ok(), Some(7));
    }
}
