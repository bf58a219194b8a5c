//! Asking an "IP echo" HTTP service which address we come from, for the
//! allowlist check. Only when the user configures one (`--echo-url`,
//! `$PGCONN_ECHO_URL`): doctor never trusts a website it chose itself, and a
//! direct server's `inet_client_addr()` is preferred when there is one.
//! Plain `http://` only: the answer is a hint, not a credential.

use std::net::IpAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest answer read.
const MAX_RESPONSE: u64 = 16 * 1024;

/// The parts of an `http://host[:port]/path` URL.
#[derive(Debug, PartialEq, Eq)]
pub struct EchoUrl {
    host: String,
    port: u16,
    path: String,
}

/// Parses an echo URL; the error says what is wrong.
pub fn parse(url: &str) -> Result<EchoUrl, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}`: only http:// echo URLs are supported"))?;
    let (authority, path) = rest
        .find('/')
        .map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.ends_with(']') => (
            h,
            p.parse().map_err(|_| format!("`{url}`: bad port `{p}`"))?,
        ),
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("`{url}`: no host"));
    }
    Ok(EchoUrl {
        host: host.to_string(),
        port,
        path: path.to_string(),
    })
}

/// Pulls the address out of an HTTP/1.x response whose body is the IP
/// (plain text, or any text whose first word that parses as an IP is it).
pub fn address_in(response: &str) -> Result<IpAddr, String> {
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or("the answer is not HTTP")?;
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!(
            "the echo service answered `{}`",
            crate::knowledge::sanitize(status)
        ));
    }
    // Plain text or JSON: split on what cannot be part of an address (not `:`, for IPv6).
    body.split(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '{' | '}' | '=' | '<' | '>')
    })
    .find_map(|word| word.parse().ok())
    .ok_or_else(|| "the echo service's answer holds no IP address".into())
}

/// Asks the echo service, within `timeout`.
pub async fn egress_ip(url: &EchoUrl, timeout: Duration) -> Result<IpAddr, String> {
    let ask = async {
        let mut stream = TcpStream::connect((url.host.as_str(), url.port))
            .await
            .map_err(|e| format!("cannot reach {}:{}: {e}", url.host, url.port))?;
        let request = format!(
            "GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: pgconn\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
            url.path, url.host
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        stream
            .take(MAX_RESPONSE)
            .read_to_end(&mut response)
            .await
            .map_err(|e| e.to_string())?;
        address_in(&String::from_utf8_lossy(&response))
    };
    tokio::time::timeout(timeout, ask)
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_and_without_port_and_path() {
        assert_eq!(
            parse("http://ifconfig.example/ip").unwrap(),
            EchoUrl {
                host: "ifconfig.example".into(),
                port: 80,
                path: "/ip".into()
            }
        );
        assert_eq!(parse("http://127.0.0.1:8080").unwrap().port, 8080);
        assert_eq!(parse("http://[::1]:81/").unwrap().host, "::1");
        assert!(parse("https://x/").unwrap_err().contains("only http://"));
    }

    #[test]
    fn the_address_comes_from_plain_or_json_bodies() {
        let plain = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n203.0.113.7\n";
        assert_eq!(
            address_in(plain).unwrap(),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        let json = "HTTP/1.0 200 OK\r\n\r\n{\"ip\":\"2001:db8::1\"}";
        assert_eq!(
            address_in(json).unwrap(),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        assert!(
            address_in("HTTP/1.1 503 Busy\r\n\r\n")
                .unwrap_err()
                .contains("503")
        );
        assert!(address_in("HTTP/1.1 200 OK\r\n\r\nhello").is_err());
    }
}
