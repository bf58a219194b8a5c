//! A PostgreSQL session for the checks after login, through tokio-postgres:
//! either on the very connection the TLS checks ran on (its certificate
//! already judged as the endpoint's sslmode says), or on a new one with the
//! same rustls verification. Only the
//! simple query protocol is used: `query` would prepare *named* statements,
//! which is exactly what breaks behind a transaction-mode pooler.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_postgres::config::SslMode as PgSslMode;
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage};
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_rustls::client::TlsStream;

use crate::catalog::SslMode;
use crate::tls::{self, Roots, TlsError, Verify};

/// How a session speaks TLS.
#[derive(Clone)]
pub enum Tls {
    /// sslmode=disable.
    Off,
    /// rustls, verifying as the sslmode says.
    Rustls(MakeRustlsConnect),
}

impl Tls {
    /// The TLS side for an endpoint's sslmode (libpq's `allow`/`prefer` are
    /// tried as `require`: doctor checks whether TLS works).
    pub fn for_mode(mode: SslMode, roots: Option<&Roots>) -> Result<Tls, TlsError> {
        let verify = match mode {
            SslMode::Disable => return Ok(Tls::Off),
            SslMode::Allow | SslMode::Prefer | SslMode::Require => Verify::Nothing,
            SslMode::VerifyCa => Verify::Ca,
            SslMode::VerifyFull => Verify::Full,
        };
        let config = tls::client_config(roots, verify)?;
        Ok(Tls::Rustls(MakeRustlsConnect::new(config)))
    }
}

/// Why a session could not be had or a query failed.
#[derive(Debug)]
pub enum SessionError {
    /// No answer in time.
    Timeout(Duration),
    /// What tokio-postgres said.
    Pg(tokio_postgres::Error),
}

impl SessionError {
    /// The server's message and SQLSTATE, when the server sent one.
    pub fn server_error(&self) -> Option<(String, String)> {
        match self {
            SessionError::Pg(e) => e
                .as_db_error()
                .map(|db| (db.message().to_string(), db.code().code().to_string())),
            SessionError::Timeout(_) => None,
        }
    }
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Timeout(t) => write!(f, "no answer within {:.1} s", t.as_secs_f64()),
            SessionError::Pg(e) => {
                if let Some(db) = e.as_db_error() {
                    return write!(f, "{}: {}", db.severity(), db.message());
                }
                f.write_str(&crate::net::error_chain(e))
            }
        }
    }
}

/// A logged-in session.
pub struct Session {
    /// The client.
    pub client: Client,
    /// The process id the server announced at login (`BackendKeyData`), on
    /// sessions opened over a checked stream. PostgreSQL announces its own
    /// backend's; a pooler hands every client a random cancel key.
    pub announced_pid: Option<i32>,
    config: Config,
    tls: Tls,
}

/// Where and as whom to log in.
pub struct Login<'a> {
    /// The TLS name (the catalog's host).
    pub host: &'a str,
    /// The address that answered the TCP check.
    pub addr: SocketAddr,
    /// The user.
    pub user: &'a str,
    /// The password.
    pub password: &'a str,
    /// The database.
    pub database: &'a str,
}

impl Login<'_> {
    fn config(&self, tls: &Tls, timeout: Duration) -> Config {
        let mut config = Config::new();
        config
            .host(self.host)
            .hostaddr(self.addr.ip())
            .port(self.addr.port())
            .user(self.user)
            .password(self.password)
            .dbname(self.database)
            .application_name("pgconn doctor")
            .connect_timeout(timeout)
            .ssl_mode(match tls {
                Tls::Off => PgSslMode::Disable,
                Tls::Rustls(_) => PgSslMode::Require,
            });
        config
    }
}

/// A connection the TLS checks already ran on: plain TCP (sslmode=disable)
/// or TLS whose certificate was judged good enough for the sslmode.
pub enum Checked {
    /// sslmode=disable.
    Plain(TcpStream),
    /// TLS, past the certificate checks.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Session {
    /// Logs in on a new connection (TLS verified by rustls as `tls` says).
    pub async fn open(
        login: &Login<'_>,
        tls: Tls,
        timeout: Duration,
    ) -> Result<Session, SessionError> {
        let config = login.config(&tls, timeout);
        let client = connect(&config, &tls, timeout).await?;
        Ok(Session {
            client,
            announced_pid: None,
            config,
            tls,
        })
    }

    /// Logs in on the connection the TLS checks ran on: no second TCP
    /// connection or TLS handshake. `tls` is kept for [`Session::another`].
    pub async fn open_on(
        stream: Checked,
        login: &Login<'_>,
        tls: Tls,
        timeout: Duration,
    ) -> Result<Session, SessionError> {
        let config = login.config(&tls, timeout);
        let mut raw = config.clone();
        raw.ssl_mode(PgSslMode::Disable);
        let attempt = async {
            match stream {
                Checked::Plain(s) => Ok(spawned(raw.connect_raw(s, NoTls).await?)),
                Checked::Tls(s) => Ok(spawned(raw.connect_raw(*s, NoTls).await?)),
            }
        };
        let client = tokio::time::timeout(timeout, Box::pin(attempt))
            .await
            .map_err(|_| SessionError::Timeout(timeout))?
            .map_err(SessionError::Pg)?;
        let announced_pid = announced_pid(&client).await;
        Ok(Session {
            client,
            announced_pid,
            config,
            tls,
        })
    }

    /// Another session like this one, to `database` when given.
    pub async fn another(
        &self,
        database: Option<&str>,
        timeout: Duration,
    ) -> Result<Session, SessionError> {
        let mut config = self.config.clone();
        if let Some(db) = database {
            config.dbname(db);
        }
        let client = connect(&config, &self.tls, timeout).await?;
        Ok(Session {
            client,
            announced_pid: None,
            config,
            tls: self.tls.clone(),
        })
    }

    /// The first row of a simple query, each column as text (`None` = NULL).
    pub async fn row(
        &self,
        sql: &str,
        timeout: Duration,
    ) -> Result<Vec<Option<String>>, SessionError> {
        let messages = tokio::time::timeout(timeout, self.client.simple_query(sql))
            .await
            .map_err(|_| SessionError::Timeout(timeout))?
            .map_err(SessionError::Pg)?;
        Ok(first_row(&messages))
    }
}

/// Runs the connection's I/O in a task of its own.
fn spawned<S, T>((client, conn): (Client, tokio_postgres::Connection<S, T>)) -> Client
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move { drop(conn.await) });
    client
}

/// The process id of the `BackendKeyData` the server sent at login, read
/// from the cancel request tokio-postgres would send (written to memory,
/// never to the network).
async fn announced_pid(client: &Client) -> Option<i32> {
    let (mut ours, theirs) = tokio::io::duplex(64);
    client
        .cancel_token()
        .cancel_query_raw(theirs, NoTls)
        .await
        .ok()?;
    let mut request = [0u8; 16];
    ours.read_exact(&mut request).await.ok()?;
    let pid: [u8; 4] = request[8..12].try_into().ok()?;
    Some(i32::from_be_bytes(pid))
}

fn first_row(messages: &[SimpleQueryMessage]) -> Vec<Option<String>> {
    messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default()
}

async fn connect(config: &Config, tls: &Tls, timeout: Duration) -> Result<Client, SessionError> {
    let attempt = async {
        match tls {
            Tls::Off => Ok(spawned(config.connect(NoTls).await?)),
            Tls::Rustls(make) => Ok(spawned(config.connect(make.clone()).await?)),
        }
    };
    tokio::time::timeout(timeout, Box::pin(attempt))
        .await
        .map_err(|_| SessionError::Timeout(timeout))?
        .map_err(SessionError::Pg)
}
