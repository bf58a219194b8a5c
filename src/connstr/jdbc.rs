//! pgjdbc URL. Credentials go in parameters (pgjdbc has no userinfo), values
//! are form-decoded (`+` must be `%2B`), system roots are the JVM trust
//! store via `DefaultJavaSSLFactory`, which still checks the host name.

use super::url::Url;
use super::{Params, Rendered};
use crate::catalog::RootCert;

/// Writes the JDBC URL.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut url = Url::without_userinfo("jdbc:postgresql");
    url.param("user", p.user);
    if let Some(pw) = p.password {
        url.param("password", pw.expose());
    }
    url.param("sslmode", p.sslmode.as_str());
    if p.sslmode.verifies_chain() {
        match p.sslrootcert {
            RootCert::System => {
                url.param("sslfactory", "org.postgresql.ssl.DefaultJavaSSLFactory");
            }
            RootCert::File(path) => {
                url.path_param("sslrootcert", &path.display().to_string());
            }
        }
    }
    url.param("connectTimeout", &p.connect_timeout.to_string());
    if p.pool_safe {
        url.param("prepareThreshold", "0");
    }
    let mut notes = Vec::new();
    if p.password
        .is_some_and(|pw| pw.expose().chars().any(char::is_control))
    {
        notes.push(
            "pgjdbc's SCRAM client rejects passwords with control characters (SASLprep); \
             this password will not work with pgjdbc"
                .into(),
        );
    }
    Rendered {
        text: url.finish(p, true),
        notes,
    }
}
