//! What a server certificate says (names, issuer, validity) and separate
//! verdicts on its chain and its host name, so a user learns *which* is
//! wrong where libpq says only "certificate verify failed".

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::RootCertStore;
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::der::oid::db::{rfc4519, rfc5280};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use super::provider;

/// Facts read from one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// Subject common name.
    pub subject_cn: Option<String>,
    /// Issuer common name.
    pub issuer_cn: Option<String>,
    /// subjectAltName DNS names.
    pub dns_names: Vec<String>,
    /// subjectAltName IP addresses.
    pub ip_names: Vec<IpAddr>,
    /// notBefore, seconds since the epoch.
    pub not_before: u64,
    /// notAfter, seconds since the epoch.
    pub not_after: u64,
    /// notAfter as text (`2026-12-01T00:00:00Z`).
    pub not_after_text: String,
}

impl CertFacts {
    /// Every name the certificate carries, SANs first, CN last if not among them.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.dns_names.clone();
        names.extend(self.ip_names.iter().map(ToString::to_string));
        if let Some(cn) = &self.subject_cn
            && !names.contains(cn)
            && names.is_empty()
        {
            names.push(format!("CN={cn}"));
        }
        names
    }

    /// Whole days from `now` to notAfter (negative once expired).
    pub fn days_left(&self, now: SystemTime) -> i64 {
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let secs = i128::from(self.not_after) - i128::from(now);
        i64::try_from(secs.div_euclid(86_400)).unwrap_or(i64::MIN)
    }
}

/// Reads the facts of a DER certificate.
pub fn facts(der: &CertificateDer<'_>) -> Result<CertFacts, String> {
    let cert = Certificate::from_der(der.as_ref()).map_err(|e| e.to_string())?;
    let tbs = &cert.tbs_certificate;
    let (dns_names, ip_names) = san(&cert);
    Ok(CertFacts {
        subject_cn: common_name(&tbs.subject),
        issuer_cn: common_name(&tbs.issuer),
        dns_names,
        ip_names,
        not_before: tbs.validity.not_before.to_unix_duration().as_secs(),
        not_after: tbs.validity.not_after.to_unix_duration().as_secs(),
        not_after_text: tbs.validity.not_after.to_string(),
    })
}

fn common_name(name: &Name) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == rfc4519::CN)
        .map(|atv| String::from_utf8_lossy(atv.value.value()).into_owned())
}

fn san(cert: &Certificate) -> (Vec<String>, Vec<IpAddr>) {
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    let exts = cert
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default();
    for ext in exts
        .iter()
        .filter(|e| e.extn_id == rfc5280::ID_CE_SUBJECT_ALT_NAME)
    {
        let Ok(SubjectAltName(names)) = SubjectAltName::from_der(ext.extn_value.as_bytes()) else {
            continue;
        };
        for name in names {
            match name {
                GeneralName::DnsName(n) => dns.push(n.as_str().to_string()),
                GeneralName::IpAddress(octets) => {
                    if let Some(ip) = ip_from_octets(octets.as_bytes()) {
                        ips.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    (dns, ips)
}

fn ip_from_octets(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(b).ok()?)),
        _ => None,
    }
}

/// Whether the chain leads to one of `roots`, judged at `at`.
pub fn verify_chain(
    chain: &[CertificateDer<'_>],
    roots: &RootCertStore,
    at: SystemTime,
) -> Result<(), rustls::Error> {
    let (leaf, intermediates) = chain
        .split_first()
        .ok_or(rustls::Error::NoCertificatesPresented)?;
    let parsed = ParsedCertificate::try_from(leaf)?;
    let secs = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    verify_server_cert_signed_by_trust_anchor(
        &parsed,
        roots,
        intermediates,
        UnixTime::since_unix_epoch(secs),
        provider().signature_verification_algorithms.all,
    )
}

/// Whether the leaf names `host` (DNS name or IP address).
pub fn verify_name(leaf: &CertificateDer<'_>, host: &str) -> Result<(), rustls::Error> {
    let parsed = ParsedCertificate::try_from(leaf)?;
    let name = ServerName::try_from(host)
        .map_err(|_| rustls::Error::General(format!("`{host}` is not a valid server name")))?;
    verify_server_name(&parsed, &name)
}
