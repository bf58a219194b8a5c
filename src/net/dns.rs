//! Name resolution two ways:
//!
//! - [`resolve`]: getaddrinfo (through `tokio::net::lookup_host`, which runs
//!   it on a blocking thread), exactly what libpq and so psql will see,
//!   `/etc/hosts` and NSS included;
//! - [`query_a`]: one A query sent straight to a chosen nameserver over UDP,
//!   to say *which* resolver answered what (split-horizon DNS, stale caches,
//!   a hosts-file entry).
//!
//! The direct query is a minimal hand-written DNS client (one question, A
//! records, no retries over TCP, no DNSSEC). hickory-resolver would do it
//! too, but brings a dozen crates and its own runtime glue for one diagnostic
//! question; a truncated answer is reported as such instead of retried.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;

/// Why getaddrinfo gave no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveFailure {
    /// The name does not exist for this resolver (NXDOMAIN, no address).
    NotFound(String),
    /// The resolver could not be asked or did not answer (SERVFAIL, timeout).
    Temporary(String),
    /// No answer within the timeout.
    TimedOut,
    /// Anything else.
    Other(String),
}

impl fmt::Display for ResolveFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveFailure::NotFound(m)
            | ResolveFailure::Temporary(m)
            | ResolveFailure::Other(m) => f.write_str(m),
            ResolveFailure::TimedOut => f.write_str("the resolver did not answer in time"),
        }
    }
}

/// Resolves `host` as libpq does (getaddrinfo), addresses in the order
/// returned, duplicates removed.
pub async fn resolve(host: &str, timeout: Duration) -> Result<Vec<IpAddr>, ResolveFailure> {
    let lookup = tokio::net::lookup_host((host, 0));
    match tokio::time::timeout(timeout, lookup).await {
        Err(_) => Err(ResolveFailure::TimedOut),
        Ok(Err(e)) => Err(classify_gai(&e.to_string())),
        Ok(Ok(addrs)) => {
            let mut out: Vec<IpAddr> = Vec::new();
            for a in addrs {
                if !out.contains(&a.ip()) {
                    out.push(a.ip());
                }
            }
            Ok(out)
        }
    }
}

/// Sorts getaddrinfo's message (glibc, musl, macOS wording) into a kind.
pub fn classify_gai(message: &str) -> ResolveFailure {
    let lower = message.to_ascii_lowercase();
    let text = message.to_string();
    if [
        "not known",
        "no address associated",
        "nodename nor servname",
        "no such host",
    ]
    .iter()
    .any(|n| lower.contains(n))
    {
        ResolveFailure::NotFound(text)
    } else if lower.contains("temporary failure") || lower.contains("try again") {
        ResolveFailure::Temporary(text)
    } else {
        ResolveFailure::Other(text)
    }
}

/// The first `nameserver` of `/etc/resolv.conf`, port 53.
pub fn system_nameserver() -> Option<SocketAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    nameserver_from_resolv_conf(&text)
}

fn nameserver_from_resolv_conf(text: &str) -> Option<SocketAddr> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().split('%').next()?.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .next()
}

/// Parses `IP` or `IP:PORT` (`[v6]:PORT`) as a nameserver address.
pub fn parse_nameserver(text: &str) -> Result<SocketAddr, String> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    text.parse::<SocketAddr>()
        .map_err(|_| format!("`{text}` is not an IP address or IP:PORT"))
}

/// What a nameserver said about a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Addresses, with the smallest TTL among them.
    Addresses {
        /// The A records.
        ips: Vec<Ipv4Addr>,
        /// Seconds the answer may be cached.
        ttl: u32,
    },
    /// The name exists but has no A record (e.g. only a CNAME to nowhere, or AAAA).
    NoData,
    /// NXDOMAIN.
    NxDomain,
    /// Any other response code (2 SERVFAIL, 5 REFUSED, …).
    Error(u8),
    /// The answer did not fit in UDP and was not retried over TCP.
    Truncated,
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Addresses { ips, ttl } => {
                let list: Vec<String> = ips.iter().map(ToString::to_string).collect();
                write!(f, "{} (ttl {ttl} s)", list.join(", "))
            }
            Answer::NoData => f.write_str("no A record"),
            Answer::NxDomain => f.write_str("NXDOMAIN (no such name)"),
            Answer::Error(2) => f.write_str("SERVFAIL"),
            Answer::Error(5) => f.write_str("REFUSED"),
            Answer::Error(code) => write!(f, "response code {code}"),
            Answer::Truncated => f.write_str("truncated answer"),
        }
    }
}

/// Asks `server` for the A records of `name` (one UDP query).
pub async fn query_a(server: SocketAddr, name: &str, timeout: Duration) -> Result<Answer, String> {
    let id = query_id();
    let packet = build_query(id, name)?;
    let bind: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let exchange = async {
        let socket = UdpSocket::bind(bind).await.map_err(|e| e.to_string())?;
        socket.connect(server).await.map_err(|e| e.to_string())?;
        socket.send(&packet).await.map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 1500];
        loop {
            let n = socket.recv(&mut buf).await.map_err(|e| e.to_string())?;
            if let Some(answer) = parse_response(id, &buf[..n])? {
                return Ok(answer);
            }
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer from {server} in time"))?
}

fn query_id() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    // the low bits of the clock are random enough for a one-shot diagnostic query
    u16::try_from(nanos & 0xffff).unwrap_or(0)
        ^ u16::try_from(std::process::id() & 0xffff).unwrap_or(0)
}

/// A query packet: header (recursion desired), one question IN A.
fn build_query(id: u16, name: &str) -> Result<Vec<u8>, String> {
    let mut p = Vec::with_capacity(32 + name.len());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|l| (1..=63).contains(l))
            .ok_or_else(|| format!("`{name}` is not a valid DNS name"))?;
        p.push(len);
        p.extend_from_slice(label.as_bytes());
    }
    p.extend_from_slice(&[0, 0, 1, 0, 1]);
    Ok(p)
}

/// Parses a response; `None` when it is not the answer to query `id`.
fn parse_response(id: u16, msg: &[u8]) -> Result<Option<Answer>, String> {
    let bad = || "malformed DNS response".to_string();
    if msg.len() < 12 {
        return Err(bad());
    }
    if u16::from_be_bytes([msg[0], msg[1]]) != id || msg[2] & 0x80 == 0 {
        return Ok(None);
    }
    if msg[2] & 0x02 != 0 {
        return Ok(Some(Answer::Truncated));
    }
    match msg[3] & 0x0f {
        0 => {}
        3 => return Ok(Some(Answer::NxDomain)),
        code => return Ok(Some(Answer::Error(code))),
    }
    let qdcount = u16::from_be_bytes([msg[4], msg[5]]);
    let ancount = u16::from_be_bytes([msg[6], msg[7]]);
    let mut pos = 12;
    for _ in 0..qdcount {
        pos = skip_name(msg, pos).ok_or_else(bad)? + 4;
    }
    let mut ips = Vec::new();
    let mut ttl = u32::MAX;
    for _ in 0..ancount {
        pos = skip_name(msg, pos).ok_or_else(bad)?;
        let rr = msg.get(pos..pos + 10).ok_or_else(bad)?;
        let rtype = u16::from_be_bytes([rr[0], rr[1]]);
        let rttl = u32::from_be_bytes([rr[4], rr[5], rr[6], rr[7]]);
        let len = usize::from(u16::from_be_bytes([rr[8], rr[9]]));
        let data = msg.get(pos + 10..pos + 10 + len).ok_or_else(bad)?;
        if rtype == 1 && len == 4 {
            ips.push(Ipv4Addr::new(data[0], data[1], data[2], data[3]));
            ttl = ttl.min(rttl);
        }
        pos += 10 + len;
    }
    Ok(Some(if ips.is_empty() {
        Answer::NoData
    } else {
        Answer::Addresses { ips, ttl }
    }))
}

/// The position after a (possibly compressed) name starting at `pos`.
fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)?;
        match len {
            0 => return Some(pos + 1),
            l if l & 0xc0 == 0xc0 => return Some(pos + 2),
            l => pos += 1 + usize::from(l),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(id: u16, rcode: u8, answers: &[([u8; 4], u32)]) -> Vec<u8> {
        let mut q = build_query(id, "a.example").unwrap();
        q[2] = 0x81;
        q[3] = 0x80 | rcode;
        q[7] = u8::try_from(answers.len()).unwrap();
        for (ip, ttl) in answers {
            q.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
            q.extend_from_slice(&ttl.to_be_bytes());
            q.extend_from_slice(&[0, 4]);
            q.extend_from_slice(ip);
        }
        q
    }

    #[test]
    fn answers_are_parsed() {
        let r = response(7, 0, &[([10, 0, 0, 1], 60), ([10, 0, 0, 2], 30)]);
        let want = Answer::Addresses {
            ips: vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)],
            ttl: 30,
        };
        assert_eq!(parse_response(7, &r).unwrap(), Some(want));
        assert_eq!(parse_response(8, &r).unwrap(), None, "other id");
        assert_eq!(
            parse_response(7, &response(7, 3, &[])).unwrap(),
            Some(Answer::NxDomain)
        );
        assert_eq!(
            parse_response(7, &response(7, 0, &[])).unwrap(),
            Some(Answer::NoData)
        );
        assert_eq!(
            parse_response(7, &response(7, 2, &[])).unwrap(),
            Some(Answer::Error(2))
        );
        assert!(parse_response(7, &r[..r.len() - 2]).is_err(), "cut short");
    }

    #[test]
    fn queries_reject_bad_names() {
        assert!(build_query(1, "ok.example.").is_ok());
        assert!(build_query(1, "a..b").is_err());
        assert!(build_query(1, &"x".repeat(64)).is_err());
    }

    #[test]
    fn resolv_conf_and_flags_parse() {
        let conf = "# c\nsearch x\nnameserver 127.0.0.53\nnameserver 1.1.1.1\n";
        assert_eq!(
            nameserver_from_resolv_conf(conf),
            Some("127.0.0.53:53".parse().unwrap())
        );
        assert_eq!(
            parse_nameserver("10.0.0.2").unwrap(),
            "10.0.0.2:53".parse().unwrap()
        );
        assert_eq!(
            parse_nameserver("10.0.0.2:5353").unwrap(),
            "10.0.0.2:5353".parse().unwrap()
        );
        assert!(parse_nameserver("dns.example").is_err());
    }

    #[test]
    fn getaddrinfo_messages_are_sorted() {
        assert!(matches!(
            classify_gai("failed to lookup address information: Name or service not known"),
            ResolveFailure::NotFound(_)
        ));
        assert!(matches!(
            classify_gai(
                "failed to lookup address information: Temporary failure in name resolution"
            ),
            ResolveFailure::Temporary(_)
        ));
    }
}
