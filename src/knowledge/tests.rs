//! The knowledge base against messages from the reference file and from
//! each driver's wording.

use super::{Category, classify, rule, rules::RULES};

fn cat(text: &str) -> Category {
    classify(text, None).category
}

#[test]
fn rule_ids_are_unique_and_known_ids_resolve() {
    for (i, r) in RULES.iter().enumerate() {
        assert!(
            RULES[..i].iter().all(|o| o.id != r.id),
            "duplicate id {}",
            r.id
        );
        assert!(
            r.any.iter().chain(r.also).all(|n| *n == n.to_lowercase()),
            "{}: needles must be lower case",
            r.id
        );
    }
    for id in ["tls_not_offered", "tls_untrusted", "dns_not_found"] {
        assert_eq!(rule(id).id, id);
    }
}

#[test]
fn libpq_messages() {
    let cases = [
        (
            "could not translate host name \"x.example\" to address: Name or service not known",
            Category::Dns,
        ),
        (
            "connection to server at \"h\" (1.2.3.4), port 5432 failed: Connection refused",
            Category::Tcp,
        ),
        (
            "connection to server at \"h\" (1.2.3.4), port 5432 failed: timeout expired",
            Category::Tcp,
        ),
        (
            "server does not support SSL, but SSL was required",
            Category::TlsNegotiate,
        ),
        ("FATAL:  SSL required", Category::TlsNegotiate),
        ("SSL error: certificate verify failed", Category::TlsChain),
        (
            "server certificate for \"a.example\" (and 1 other name) does not match host name \"1.2.3.4\"",
            Category::TlsHostname,
        ),
        (
            "FATAL:  password authentication failed for user \"u\"",
            Category::Auth,
        ),
        (
            "FATAL:  no pg_hba.conf entry for host \"10.0.0.9\", user \"u\", database \"d\", SSL encryption",
            Category::Auth,
        ),
        (
            "FATAL:  pg_hba.conf rejects connection for host \"10.0.0.9\", user \"u\", database \"d\", no encryption",
            Category::TlsNegotiate,
        ),
        ("FATAL:  database \"d\" does not exist", Category::Database),
        ("FATAL:  role \"r\" does not exist", Category::Role),
        (
            "FATAL:  sorry, too many clients already",
            Category::TooManyConnections,
        ),
        (
            "FATAL:  remaining connection slots are reserved for non-replication superuser connections",
            Category::TooManyConnections,
        ),
        (
            "FATAL:  too many connections for role \"r\"",
            Category::TooManyConnections,
        ),
        ("FATAL:  the database system is starting up", Category::Auth),
        (
            "ERROR:  cannot execute INSERT in a read-only transaction",
            Category::ReadOnly,
        ),
        (
            "ERROR:  canceling statement due to conflict with recovery",
            Category::RecoveryConflict,
        ),
        (
            "channel binding is required, but server did not offer an authentication method that supports channel binding",
            Category::ChannelBinding,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(cat(text), want, "{text}");
    }
}

#[test]
fn pgbouncer_messages() {
    let cases = [
        (
            "FATAL:  unsupported startup parameter: extra_float_digits",
            Category::StartupParameter,
        ),
        (
            "FATAL: unsupported startup parameter in options: search_path",
            Category::StartupParameter,
        ),
        (
            "FATAL:  no more connections allowed (max_client_conn)",
            Category::TooManyConnections,
        ),
        ("ERROR:  query_wait_timeout", Category::Pooler),
        (
            "ERROR:  server login has been failing, cached error: password authentication failed",
            Category::Pooler,
        ),
        ("FATAL:  SASL authentication failed", Category::Auth),
        ("FATAL:  no such database: shop", Category::Database),
        (
            "ERROR:  prepared statement \"S_1\" does not exist",
            Category::PreparedStatement,
        ),
        (
            "ERROR:  prepared statement \"__asyncpg_stmt_1__\" already exists",
            Category::PreparedStatement,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(cat(text), want, "{text}");
    }
}

/// What each driver prints, as users paste it.
const DRIVER_CASES: &[(&str, Category)] = &[
    // psycopg
    (
        "psycopg.OperationalError: connection failed: FATAL:  password authentication failed for user \"app\"",
        Category::Auth,
    ),
    // asyncpg
    (
        "asyncpg.exceptions.InvalidPasswordError: password authentication failed for user \"app\"",
        Category::Auth,
    ),
    (
        "socket.gaierror: [Errno -2] Name or service not known",
        Category::Dns,
    ),
    (
        "ConnectionRefusedError: [Errno 111] Connect call failed ('10.0.0.1', 5432)",
        Category::Tcp,
    ),
    (
        "asyncpg.exceptions.DuplicatePreparedStatementError: prepared statement \"__asyncpg_stmt_a__\" already exists",
        Category::PreparedStatement,
    ),
    (
        "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for '10.0.0.1'",
        Category::TlsHostname,
    ),
    (
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)",
        Category::TlsChain,
    ),
    (
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)",
        Category::TlsExpiry,
    ),
    // pgjdbc
    (
        "org.postgresql.util.PSQLException: Connection to db:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.",
        Category::Tcp,
    ),
    (
        "org.postgresql.util.PSQLException: The server does not support SSL.",
        Category::TlsNegotiate,
    ),
    (
        "javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException",
        Category::TlsChain,
    ),
    ("java.net.UnknownHostException: db.example", Category::Dns),
    (
        "java.net.SocketTimeoutException: connect timed out",
        Category::Tcp,
    ),
    // node-postgres
    ("Error: getaddrinfo ENOTFOUND db.example", Category::Dns),
    ("Error: connect ECONNREFUSED 10.0.0.1:5432", Category::Tcp),
    (
        "Error: self-signed certificate in certificate chain",
        Category::TlsChain,
    ),
    (
        "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list",
        Category::TlsHostname,
    ),
    (
        "Error: Connection terminated due to connection timeout",
        Category::Tcp,
    ),
    // pgx / lib/pq
    (
        "failed to connect to `user=app database=app`: 10.0.0.1:5432 (db): dial error: dial tcp 10.0.0.1:5432: connect: connection refused",
        Category::Tcp,
    ),
    (
        "failed to connect to `host=db user=app`: hostname resolving error (lookup db on 127.0.0.53:53: no such host)",
        Category::Dns,
    ),
    (
        "tls error (x509: certificate signed by unknown authority)",
        Category::TlsChain,
    ),
    (
        "x509: certificate is valid for a.example, not b.example",
        Category::TlsHostname,
    ),
    (
        "ERROR: prepared statement \"stmtcache_19\" does not exist (SQLSTATE 26000)",
        Category::PreparedStatement,
    ),
    ("dial tcp 10.0.0.1:5432: i/o timeout", Category::Tcp),
    // Npgsql
    (
        "Npgsql.PostgresException (0x80004005): 28P01: password authentication failed for user \"app\"",
        Category::Auth,
    ),
    (
        "System.Security.Authentication.AuthenticationException: The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot",
        Category::TlsChain,
    ),
    (
        "Npgsql.NpgsqlException: Failed to connect to 10.0.0.1:5432 ---> System.Net.Sockets.SocketException (110): Connection timed out",
        Category::Tcp,
    ),
    // Prisma
    (
        "Error: P1001: Can't reach database server at `db`:`5432`",
        Category::Tcp,
    ),
    (
        "Error: P1000: Authentication failed against database server at `db`, the provided database credentials for `app` are not valid.",
        Category::Auth,
    ),
    (
        "Error: P1003: Database `shop` does not exist on the database server at `db:5432`.",
        Category::Database,
    ),
    // sqlx
    (
        "error returned from database: password authentication failed for user \"app\"",
        Category::Auth,
    ),
    (
        "error communicating with database: failed to lookup address information: Name or service not known",
        Category::Dns,
    ),
    (
        "error with configuration: invalid peer certificate: UnknownIssuer",
        Category::TlsChain,
    ),
    // Rails
    (
        "ActiveRecord::ConnectionNotEstablished: connection to server at \"10.0.0.1\", port 5432 failed: FATAL:  database \"shop\" does not exist",
        Category::Database,
    ),
    (
        "PG::ReadOnlySqlTransaction: ERROR:  cannot execute UPDATE in a read-only transaction",
        Category::ReadOnly,
    ),
    (
        "ActiveRecord::StatementInvalid: PG::DuplicatePstatement: ERROR:  prepared statement \"a1\" already exists",
        Category::PreparedStatement,
    ),
    (
        "ActiveRecord::ConcurrentMigrationError: Failed to release advisory lock",
        Category::Pooler,
    ),
];

#[test]
fn driver_messages() {
    for (text, want) in DRIVER_CASES {
        assert_eq!(cat(text), *want, "{text}");
    }
}

#[test]
fn unknown_text_is_never_guessed() {
    for text in [
        "the coffee machine is empty",
        "",
        "ERROR: relation \"users\" does not exist",
        "segmentation fault",
    ] {
        let d = classify(text, None);
        assert_eq!(d.category, Category::Unknown, "{text}");
        assert!(d.rule.is_none());
    }
    let ambiguous = classify("server closed the connection unexpectedly", None);
    assert_eq!(
        ambiguous.category,
        Category::Unknown,
        "known but ambiguous stays unknown"
    );
    assert!(ambiguous.summary.contains("does not say why"));
}

#[test]
fn sqlstate_alone_classifies() {
    assert_eq!(
        classify("something odd", Some("28P01")).category,
        Category::Auth
    );
    assert_eq!(
        classify("something odd (SQLSTATE 3D000)", None).category,
        Category::Database
    );
    assert_eq!(
        classify("something odd", Some("XX000")).category,
        Category::Unknown
    );
}

#[test]
fn summaries_carry_the_names_and_the_address_the_server_saw() {
    let d = classify(
        "FATAL:  no pg_hba.conf entry for host \"10.0.0.9\", user \"app\", database \"shop\", SSL encryption",
        None,
    );
    assert!(
        d.summary.contains("\"app\"") && d.summary.contains("\"shop\""),
        "{}",
        d.summary
    );
    assert!(d.hint.contains("\"10.0.0.9\""), "{}", d.hint);
    let d = classify("prepared statement \"S_1\" does not exist", None);
    assert!(d.hint.contains("prepareThreshold=0"), "{}", d.hint);
}

#[test]
fn login_refusals_name_the_known_user_and_never_send_to_doctor() {
    let d = super::classify_login("FATAL:  no such user", None, "app", "shop");
    assert_eq!(d.category, Category::Role);
    assert!(d.summary.contains("\"app\""), "{}", d.summary);
    let d = super::classify_login(
        "FATAL:  role \"grp\" is not permitted to log in",
        Some("28000"),
        "app",
        "shop",
    );
    assert_eq!(d.rule, Some("role_nologin"));
    assert!(
        d.summary.contains("\"grp\""),
        "the message's name wins: {}",
        d.summary
    );
    // doctor shows these hints itself: none may say "run doctor"
    for r in RULES
        .iter()
        .filter(|r| matches!(r.category, Category::Auth | Category::Role))
    {
        assert!(!r.hint.contains("pgconn doctor"), "{}: {}", r.id, r.hint);
    }
}
