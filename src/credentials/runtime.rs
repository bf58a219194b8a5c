//! A current-thread async runtime started only by the network sources that
//! need one, and a bound on every network step.

use std::future::Future;
use std::time::Duration;

/// Runs `fut` to completion on a fresh current-thread runtime; `Err` with a
/// message naming `what` when it takes longer than `timeout`.
pub fn block_on<F: Future>(what: &str, timeout: Duration, fut: F) -> Result<F::Output, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(async { tokio::time::timeout(timeout, fut).await })
        .map_err(|_| format!("{what}: no answer within {} s", timeout.as_secs_f32()))
}

pub use crate::kubeapi::install_crypto_provider;

/// Runs a blocking call on its own thread and gives up after `timeout`
/// (D-Bus calls to a Secret Service that does not answer). The thread is
/// left behind when it times out; the process ends soon after.
pub fn bounded<T: Send + 'static>(
    what: &str,
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("pgconn-bounded".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| format!("{what}: cannot start a thread: {e}"))?;
    rx.recv_timeout(timeout)
        .map_err(|_| format!("{what}: no answer within {} s", timeout.as_secs_f32()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_on_times_out() {
        let r = block_on("a sleep", Duration::from_millis(50), async {
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        assert!(r.unwrap_err().contains("a sleep: no answer"));
        assert_eq!(block_on("x", Duration::from_secs(1), async { 7 }), Ok(7));
    }

    #[test]
    fn bounded_gives_up() {
        let r = bounded("a hang", Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_secs(2));
        });
        assert!(r.is_err());
        assert_eq!(bounded("x", Duration::from_secs(1), || 3), Ok(3));
    }
}
