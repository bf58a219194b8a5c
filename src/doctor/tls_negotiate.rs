//! Check `tls.negotiate`: send the `SSLRequest`, expect `S`, complete a TLS
//! handshake (any certificate accepted here: the certificate is judged by
//! the three checks after this one). The TLS stream is handed on: once the
//! certificate passed, the login runs on it.

use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::sheet::CheckId;
use super::{Check, Ctx};
use crate::catalog::Endpoint;
use crate::knowledge;
use crate::tls::probe::{self, Handshake, SslAnswer};

/// What an established TLS connection showed, and the connection.
pub type Established = (Handshake, TlsStream<TcpStream>);

/// Runs the check; the handshake and stream when TLS was established.
pub async fn run(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    mut stream: TcpStream,
) -> (Check, Option<Established>) {
    let timeout = ctx.layer_timeout();
    let answer = match tokio::time::timeout(timeout, probe::ssl_request(&mut stream)).await {
        Err(_) => return (no_answer(timeout.as_secs_f64()), None),
        Ok(Err(e)) => {
            let check = Check::fail(
                CheckId::TlsNegotiate,
                format!("the connection broke at the SSLRequest: {e}"),
            );
            return (check, None);
        }
        Ok(Ok(answer)) => answer,
    };
    match answer {
        SslAnswer::Accepted => handshake(ctx, ep, stream).await,
        other => (refused(&other), None),
    }
}

fn no_answer(secs: f64) -> Check {
    Check::fail(CheckId::TlsNegotiate, format!("no answer to the SSLRequest within {secs:.1} s"))
        .hint("something accepts TCP there but does not speak PostgreSQL: a proxy or load balancer without a backend, or another service on that port")
}

fn refused(answer: &SslAnswer) -> Check {
    match answer {
        SslAnswer::Refused => {
            let rule = knowledge::rule("tls_not_offered");
            Check::fail(CheckId::TlsNegotiate, "the server answered N to the SSLRequest: it does not speak TLS")
                .detail(rule.summary)
                .hint(rule.hint)
        }
        SslAnswer::ServerError { message, code } => {
            let d = knowledge::classify(message, code.as_deref());
            Check::fail(CheckId::TlsNegotiate, format!("the server refused before TLS: {message}"))
                .detail(format!("SQLSTATE {}; {}", code.as_deref().unwrap_or("none"), d.summary))
                .hint(d.hint)
        }
        SslAnswer::Unexpected(byte) => Check::fail(
            CheckId::TlsNegotiate,
            format!("the server answered byte 0x{byte:02x} to the SSLRequest: this is not PostgreSQL"),
        )
        .hint("check the port: another service (or a TLS-terminating proxy expecting direct TLS) answers there"),
        SslAnswer::Closed | SslAnswer::Accepted => Check::fail(
            CheckId::TlsNegotiate,
            "the server closed the connection instead of answering the SSLRequest",
        )
        .hint("a pooler or proxy that rejects this client early (limits, bans), or not PostgreSQL: check its log"),
    }
}

async fn handshake(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    stream: TcpStream,
) -> (Check, Option<Established>) {
    let timeout = ctx.layer_timeout();
    match tokio::time::timeout(timeout, probe::handshake(stream, &ep.host)).await {
        Err(_) => (
            Check::fail(
                CheckId::TlsNegotiate,
                "the server answered S but the TLS handshake did not finish in time",
            ),
            None,
        ),
        Ok(Err(e)) => {
            let d = knowledge::classify(&e.to_string(), None);
            let check = Check::fail(
                CheckId::TlsNegotiate,
                format!("the TLS handshake failed: {e}"),
            );
            let hint = if d.category == knowledge::Category::Unknown {
                "client and server share no TLS version or cipher, or the server's TLS setup is broken: check its log".to_string()
            } else {
                d.hint
            };
            (check.hint(hint), None)
        }
        Ok(Ok((h, tls))) => {
            let check = Check::ok(
                CheckId::TlsNegotiate,
                format!("TLS established ({}, {})", h.version, h.cipher),
            )
            .detail(format!(
                "the server answered S to the SSLRequest and sent {} certificate(s)",
                h.chain.len()
            ));
            (check, Some((h, tls)))
        }
    }
}
