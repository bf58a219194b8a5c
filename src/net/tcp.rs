//! TCP connects with a timeout, classified as refused, timed out,
//! unreachable or other: the difference tells a stopped server from a
//! firewall that drops packets.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

/// Why a connect failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpFailure {
    /// An RST came back: the host is there, nothing listens on the port.
    Refused,
    /// No answer within the timeout: packets are dropped on the way.
    TimedOut,
    /// No route to the host or network.
    Unreachable(String),
    /// Anything else, with the OS's words.
    Other(String),
}

impl fmt::Display for TcpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpFailure::Refused => f.write_str("connection refused"),
            TcpFailure::TimedOut => f.write_str("timed out"),
            TcpFailure::Unreachable(m) | TcpFailure::Other(m) => f.write_str(m),
        }
    }
}

/// Classifies an I/O error from `connect`.
pub fn classify(e: &io::Error) -> TcpFailure {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => TcpFailure::Refused,
        io::ErrorKind::TimedOut => TcpFailure::TimedOut,
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            TcpFailure::Unreachable(e.to_string())
        }
        _ => TcpFailure::Other(e.to_string()),
    }
}

/// Connects to `addr`, giving up after `timeout`.
pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, TcpFailure> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(e)) => Err(classify(&e)),
        Err(_) => Err(TcpFailure::TimedOut),
    }
}

/// Whether anything answers on `addr` within `timeout` (a refusal counts:
/// the host is reachable). Used to tell an allowlist drop from a dead host.
pub async fn answers(addr: SocketAddr, timeout: Duration) -> bool {
    matches!(
        connect(addr, timeout).await,
        Ok(_) | Err(TcpFailure::Refused)
    )
}

#[cfg(test)]
mod tests {
    use super::{TcpFailure, classify};
    use std::io;

    #[test]
    fn io_errors_are_classified() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(classify(&refused), TcpFailure::Refused);
        let timed = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(classify(&timed), TcpFailure::TimedOut);
        let unreach = io::Error::from(io::ErrorKind::HostUnreachable);
        assert!(matches!(classify(&unreach), TcpFailure::Unreachable(_)));
    }
}
