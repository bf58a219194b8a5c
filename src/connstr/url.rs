//! A small URL writer shared by every URL-shaped format, with the one
//! percent-encoding rule that every driver here decodes correctly.
//!
//! Everything outside RFC 3986's unreserved set is encoded in user, password,
//! database and query values; only file paths in query values keep `/` and
//! `:` readable. `+` is always encoded: form-decoders (pgjdbc's `URLDecoder`,
//! Python's `parse_qs`, JavaScript's `URLSearchParams`) read it as a space.

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::Params;

/// Everything but RFC 3986 unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Paths in query values: as [`COMPONENT`], but `/` and `:` stay readable.
const PATH_VALUE: &AsciiSet = &COMPONENT.remove(b'/').remove(b':');

/// Percent-encodes a user, password or database name.
pub fn component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Percent-encodes a file path for a query value.
pub fn path_value(text: &str) -> String {
    utf8_percent_encode(text, PATH_VALUE).to_string()
}

/// A host as it appears in a URL authority (IPv6 literals in brackets).
pub fn host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// A URL being assembled.
#[derive(Debug)]
pub struct Url {
    scheme: &'static str,
    userinfo: bool,
    query: Vec<(&'static str, String)>,
}

impl Url {
    /// A URL with user and password in the authority (`scheme://u:p@h:port/db`).
    pub fn new(scheme: &'static str) -> Self {
        Url {
            scheme,
            userinfo: true,
            query: Vec::new(),
        }
    }

    /// A URL without userinfo (pgjdbc takes credentials only as parameters).
    pub fn without_userinfo(scheme: &'static str) -> Self {
        Url {
            scheme,
            userinfo: false,
            query: Vec::new(),
        }
    }

    /// Adds a query parameter.
    pub fn param(&mut self, key: &'static str, value: &str) -> &mut Self {
        self.query.push((key, component(value)));
        self
    }

    /// Adds a query parameter whose value is a file path (or `system`).
    pub fn path_param(&mut self, key: &'static str, path: &str) -> &mut Self {
        self.query.push((key, path_value(path)));
        self
    }

    /// Adds libpq's parameters, paths kept readable.
    pub fn libpq_params(&mut self, params: Vec<(&'static str, String)>) -> &mut Self {
        for (key, value) in params {
            if key == "sslrootcert" {
                self.path_param(key, &value);
            } else {
                self.param(key, &value);
            }
        }
        self
    }

    /// Writes the URL for `p`. `always_slash` keeps the `/` before an absent
    /// database (pgjdbc needs it).
    pub fn finish(&self, p: &Params<'_>, always_slash: bool) -> String {
        let mut out = format!("{}://", self.scheme);
        if self.userinfo {
            out.push_str(&component(p.user));
            if let Some(pw) = p.password {
                out.push(':');
                out.push_str(&component(pw.expose()));
            }
            out.push('@');
        }
        let _ = write!(out, "{}:{}", host(p.host), p.port);
        match p.database {
            Some(db) => {
                out.push('/');
                out.push_str(&component(db));
            }
            None if always_slash => out.push('/'),
            None => {}
        }
        for (i, (key, value)) in self.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_encodes_everything_but_unreserved() {
        assert_eq!(component("a-b.c_d~e"), "a-b.c_d~e");
        assert_eq!(
            component("@:/?#%&+'\"$\\ \n"),
            "%40%3A%2F%3F%23%25%26%2B%27%22%24%5C%20%0A"
        );
        assert_eq!(component("ü"), "%C3%BC");
    }

    #[test]
    fn paths_stay_readable_but_plus_is_encoded() {
        assert_eq!(path_value("/etc/ssl/a+b.crt"), "/etc/ssl/a%2Bb.crt");
    }
}
