//! Speaking to a PostgreSQL port the way libpq starts TLS: the `SSLRequest`
//! (Int32 8, Int32 80877103; the server answers `S` or `N`), then a rustls
//! handshake that accepts any certificate so that the chain can be looked
//! at and judged afterwards, piece by piece.

use std::io;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::{TlsError, Verify, client_config};

/// The `SSLRequest` packet.
pub const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// How the server answered the `SSLRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SslAnswer {
    /// `S`: a TLS handshake follows.
    Accepted,
    /// `N`: the server does not do TLS.
    Refused,
    /// An `ErrorResponse` instead of an answer (message, SQLSTATE).
    ServerError {
        /// The `M` field.
        message: String,
        /// The `C` field.
        code: Option<String>,
    },
    /// Another byte: not PostgreSQL (or a proxy in the way).
    Unexpected(u8),
    /// The server closed the connection without answering.
    Closed,
}

/// Sends the `SSLRequest` and reads the answer.
pub async fn ssl_request(stream: &mut TcpStream) -> io::Result<SslAnswer> {
    stream.write_all(&SSL_REQUEST).await?;
    let mut first = [0u8; 1];
    if stream.read(&mut first).await? == 0 {
        return Ok(SslAnswer::Closed);
    }
    Ok(match first[0] {
        b'S' => SslAnswer::Accepted,
        b'N' => SslAnswer::Refused,
        b'E' => read_error(stream).await?,
        other => SslAnswer::Unexpected(other),
    })
}

async fn read_error(stream: &mut TcpStream) -> io::Result<SslAnswer> {
    let len = stream.read_u32().await?;
    let body_len = usize::try_from(len.saturating_sub(4))
        .unwrap_or(0)
        .min(8192);
    let mut body = vec![0u8; body_len];
    stream.read_exact(&mut body).await?;
    let (message, code) = parse_error_fields(&body);
    Ok(SslAnswer::ServerError { message, code })
}

/// The `M` and `C` fields of an `ErrorResponse` body.
pub fn parse_error_fields(body: &[u8]) -> (String, Option<String>) {
    let mut message = String::new();
    let mut code = None;
    for field in body.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let value = String::from_utf8_lossy(&field[1..]).into_owned();
        match field[0] {
            b'M' => message = value,
            b'C' => code = Some(value),
            _ => {}
        }
    }
    (message, code)
}

/// What a finished handshake showed.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// Leaf first, then what the server sent along.
    pub chain: Vec<CertificateDer<'static>>,
    /// e.g. `TLSv1.3`.
    pub version: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
}

/// Why the handshake failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HandshakeError {
    /// Our side could not be set up.
    #[error(transparent)]
    Config(#[from] TlsError),
    /// The host is not a valid TLS server name.
    #[error("`{0}` is not a valid TLS server name")]
    Name(String),
    /// The handshake itself failed.
    #[error("{0}")]
    Failed(String),
}

/// Completes a handshake on a stream whose `SSLRequest` was accepted,
/// accepting any certificate; returns what the server showed and the open
/// TLS stream. Nothing on it is verified yet: the caller judges [`Handshake::chain`] as its sslmode says
/// before it sends anything secret (a password) over it.
pub async fn handshake(
    stream: TcpStream,
    host: &str,
) -> Result<(Handshake, TlsStream<TcpStream>), HandshakeError> {
    let config = client_config(None, Verify::Nothing)?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| HandshakeError::Name(host.to_string()))?;
    let tls = TlsConnector::from(Arc::new(config))
        .connect(name, stream)
        .await
        .map_err(|e| HandshakeError::Failed(e.to_string()))?;
    let (_, conn) = tls.get_ref();
    let chain = conn
        .peer_certificates()
        .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
        .unwrap_or_default();
    let version = conn
        .protocol_version()
        .map(|v| version_name(v.as_str().unwrap_or("unknown")))
        .unwrap_or_default();
    let cipher = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    let shown = Handshake {
        chain,
        version,
        cipher,
    };
    Ok((shown, tls))
}

/// `TLSv1_3` → `TLSv1.3`.
fn version_name(raw: &str) -> String {
    raw.replace('_', ".")
}

#[cfg(test)]
mod tests {
    use super::{parse_error_fields, version_name};

    #[test]
    fn error_fields_are_read() {
        let body = b"SFATAL\0VFATAL\0C08P01\0Mno more connections allowed\0\0";
        let (m, c) = parse_error_fields(body);
        assert_eq!(m, "no more connections allowed");
        assert_eq!(c.as_deref(), Some("08P01"));
        assert_eq!(version_name("TLSv1_3"), "TLSv1.3");
    }
}
