//! Every `url` format × role (pooled write, pooled read, direct admin) ×
//! password with every special character, against hand-written expected
//! strings; the libpq forms are also parsed back by the real libpq
//! (`PQconninfoParse`), which must return the original password.

#![allow(unsafe_code)] // FFI to the real libpq's conninfo parser.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::net::IpAddr;
use std::path::PathBuf;

use pgconn::catalog::{RootCert, SslMode};
use pgconn::connstr::{ConnStrError, Format, Params, Rendered, SystemRoots, render};
use pgconn::credentials::Secret;

/// (name, raw password, percent-encoded, libpq keyword form, Npgsql form), by hand.
const PASSWORDS: &[(&str, &str, &str, &str, &str)] = &[
    ("at", "p@ss", "p%40ss", "p@ss", "p@ss"),
    ("colon", "p:ss", "p%3Ass", "p:ss", "p:ss"),
    ("slash", "p/ss", "p%2Fss", "p/ss", "p/ss"),
    ("question", "p?ss", "p%3Fss", "'p?ss'", "p?ss"),
    ("hash", "p#ss", "p%23ss", "'p#ss'", "p#ss"),
    ("percent", "p%ss", "p%25ss", "'p%ss'", "p%ss"),
    ("ampersand", "p&ss", "p%26ss", "'p&ss'", "p&ss"),
    ("plus", "p+ss", "p%2Bss", "p+ss", "p+ss"),
    ("single-quote", "p'ss", "p%27ss", r"'p\'ss'", "\"p'ss\""),
    ("double-quote", "p\"ss", "p%22ss", "'p\"ss'", "'p\"ss'"),
    ("dollar", "p$ss", "p%24ss", "'p$ss'", "p$ss"),
    ("backslash", r"p\ss", "p%5Css", r"'p\\ss'", r"p\ss"),
    ("space", "p ss", "p%20ss", "'p ss'", "\"p ss\""),
    ("newline", "p\nss", "p%0Ass", "'p\nss'", "\"p\nss\""),
    (
        "non-ascii",
        "pässwörd",
        "p%C3%A4ssw%C3%B6rd",
        "'pässwörd'",
        "pässwörd",
    ),
    (
        "semicolon-equals",
        "a;b=c",
        "a%3Bb%3Dc",
        "'a;b=c'",
        "\"a;b=c\"",
    ),
    (
        "all-at-once",
        "@:/?#%&+'\"$\\ \nü",
        "%40%3A%2F%3F%23%25%26%2B%27%22%24%5C%20%0A%C3%BC",
        "'@:/?#%&+\\'\"$\\\\ \nü'",
        "\"@:/?#%&+'\"\"$\\ \nü\"",
    ),
];

const BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn roots(libpq16: bool) -> SystemRoots {
    SystemRoots {
        libpq_knows_system: libpq16,
        bundle: Some(PathBuf::from(BUNDLE)),
    }
}

struct Case {
    role: &'static str,
    pooled: bool,
}

const ROLES: [Case; 3] = [
    Case {
        role: "write",
        pooled: true,
    },
    Case {
        role: "read",
        pooled: true,
    },
    Case {
        role: "admin",
        pooled: false,
    },
];

/// The expected string, from literal templates.
fn expected(format: Format, host: &str, pct: &str, kw: &str, npg: &str, pooled: bool) -> String {
    let (base, pool_suffix) = match format {
        Format::Uri => (
            format!(
                "postgresql://temporal:{pct}@{host}:5432/temporal?sslmode=verify-full&sslrootcert={BUNDLE}&connect_timeout=5"
            ),
            "",
        ),
        Format::Keyword => (
            format!(
                "host={host} port=5432 dbname=temporal user=temporal password={kw} sslmode=verify-full sslrootcert={BUNDLE} connect_timeout=5"
            ),
            "",
        ),
        Format::Jdbc => (
            format!(
                "jdbc:postgresql://{host}:5432/temporal?user=temporal&password={pct}&sslmode=verify-full&sslfactory=org.postgresql.ssl.DefaultJavaSSLFactory&connectTimeout=5"
            ),
            "&prepareThreshold=0",
        ),
        Format::Sqlalchemy => (
            format!(
                "postgresql+psycopg://temporal:{pct}@{host}:5432/temporal?sslmode=verify-full&sslrootcert={BUNDLE}&connect_timeout=5"
            ),
            "",
        ),
        Format::SqlalchemyAsyncpg => (
            format!("postgresql+asyncpg://temporal:{pct}@{host}:5432/temporal?ssl=verify-full"),
            "&prepared_statement_cache_size=0",
        ),
        Format::Asyncpg => (
            format!(
                "postgresql://temporal:{pct}@{host}:5432/temporal?sslmode=verify-full&sslrootcert={BUNDLE}"
            ),
            "",
        ),
        Format::Pgx => (
            format!(
                "postgres://temporal:{pct}@{host}:5432/temporal?sslmode=verify-full&connect_timeout=5"
            ),
            "&default_query_exec_mode=exec",
        ),
        Format::Node => (
            format!("postgres://temporal:{pct}@{host}:5432/temporal?sslmode=verify-full"),
            "",
        ),
        Format::Prisma => (
            format!(
                "postgresql://temporal:{pct}@{host}:5432/temporal?sslmode=require&sslaccept=strict&connect_timeout=5"
            ),
            "&pgbouncer=true",
        ),
        Format::Npgsql => (
            format!(
                "Host={host};Port=5432;Database=temporal;Username=temporal;Password={npg};SSL Mode=VerifyFull;Timeout=5"
            ),
            ";No Reset On Close=true;Max Auto Prepare=0",
        ),
    };
    if pooled {
        format!("{base}{pool_suffix}")
    } else {
        base
    }
}

fn params<'a>(
    host: &'a str,
    pw: Option<&'a Secret>,
    root: &'a RootCert,
    sys: &'a SystemRoots,
    pooled: bool,
) -> Params<'a> {
    Params {
        host,
        port: 5432,
        hostaddr: None,
        database: Some("temporal"),
        user: "temporal",
        password: pw,
        sslmode: SslMode::VerifyFull,
        sslrootcert: root,
        system_roots: sys,
        connect_timeout: 5,
        pool_safe: pooled,
    }
}

#[test]
fn every_format_role_and_password_gives_the_exact_expected_string() {
    let sys = roots(false);
    let mut checked = 0;
    for &format in Format::ALL {
        for case in &ROLES {
            let host = format!("temporal-db-{}.pnats.cloud", case.role);
            for (name, raw, pct, kw, npg) in PASSWORDS {
                let secret = Secret::new(*raw);
                let p = params(&host, Some(&secret), &RootCert::System, &sys, case.pooled);
                let got = render(format, &p).unwrap().text;
                assert_eq!(
                    got,
                    expected(format, &host, pct, kw, npg, case.pooled),
                    "format {} role {} password {name}",
                    format.as_str(),
                    case.role
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 10 * 3 * PASSWORDS.len());
}

/// What the real libpq makes of a conninfo string (URI or keyword form).
fn libpq_parse(conninfo: &str) -> Result<HashMap<String, String>, String> {
    let c = CString::new(conninfo).unwrap();
    let mut err: *mut std::os::raw::c_char = std::ptr::null_mut();
    // SAFETY: PQconninfoParse reads a NUL-terminated string and returns an
    // array terminated by an entry with a NULL keyword, freed below.
    unsafe {
        let opts = pq_sys::PQconninfoParse(c.as_ptr(), &raw mut err);
        if opts.is_null() {
            let msg = if err.is_null() {
                "out of memory".to_string()
            } else {
                CStr::from_ptr(err).to_string_lossy().into_owned()
            };
            pq_sys::PQfreemem(err.cast());
            return Err(msg);
        }
        let mut out = HashMap::new();
        let mut i = 0;
        loop {
            let opt = &*opts.add(i);
            if opt.keyword.is_null() {
                break;
            }
            if !opt.val.is_null() {
                out.insert(
                    CStr::from_ptr(opt.keyword).to_string_lossy().into_owned(),
                    CStr::from_ptr(opt.val).to_string_lossy().into_owned(),
                );
            }
            i += 1;
        }
        pq_sys::PQconninfoFree(opts);
        Ok(out)
    }
}

#[test]
fn libpq_reads_back_every_password_from_uri_keyword_and_pinned_forms() {
    let sys = roots(false);
    let ip: IpAddr = "103.110.174.21".parse().unwrap();
    for format in [Format::Uri, Format::Keyword] {
        for pin in [None, Some(ip)] {
            for (name, raw, ..) in PASSWORDS {
                let secret = Secret::new(*raw);
                let mut p = params(
                    "temporal-db-admin.pnats.cloud",
                    Some(&secret),
                    &RootCert::System,
                    &sys,
                    false,
                );
                p.hostaddr = pin;
                let text = render(format, &p).unwrap().text;
                let parsed = libpq_parse(&text).unwrap_or_else(|e| {
                    panic!("libpq rejects {} for {name}: {e}\n{text}", format.as_str())
                });
                assert_eq!(parsed["password"], *raw, "{} {name}", format.as_str());
                assert_eq!(parsed["host"], "temporal-db-admin.pnats.cloud");
                assert_eq!(parsed["port"], "5432");
                assert_eq!(parsed["dbname"], "temporal");
                assert_eq!(parsed["user"], "temporal");
                assert_eq!(parsed["sslmode"], "verify-full");
                assert_eq!(parsed["sslrootcert"], BUNDLE);
                assert_eq!(parsed["connect_timeout"], "5");
                assert_eq!(
                    parsed.get("hostaddr").map(String::as_str),
                    pin.map(|_| "103.110.174.21")
                );
            }
        }
    }
}

#[test]
fn libpq_16_gets_sslrootcert_system_and_older_gets_the_bundle() {
    let secret = Secret::new("x");
    for (libpq16, want) in [
        (true, "sslrootcert=system"),
        (false, "sslrootcert=/etc/ssl/certs/ca-certificates.crt"),
    ] {
        let sys = roots(libpq16);
        for format in [Format::Uri, Format::Keyword, Format::Sqlalchemy] {
            let p = params("h.example", Some(&secret), &RootCert::System, &sys, false);
            let text = render(format, &p).unwrap().text;
            assert!(text.contains(want), "{}: {text}", format.as_str());
        }
    }
}

#[test]
fn a_private_ca_file_is_named_the_way_each_driver_reads_it() {
    let sys = roots(false);
    let root = RootCert::File(PathBuf::from("/lab/ca.crt"));
    let secret = Secret::new("x");
    let want = [
        (Format::Uri, "sslrootcert=/lab/ca.crt"),
        (Format::Keyword, "sslrootcert=/lab/ca.crt"),
        (Format::Jdbc, "sslrootcert=/lab/ca.crt"),
        (Format::Sqlalchemy, "sslrootcert=/lab/ca.crt"),
        (Format::Asyncpg, "sslrootcert=/lab/ca.crt"),
        (Format::Pgx, "sslrootcert=/lab/ca.crt"),
        (Format::Node, "sslrootcert=/lab/ca.crt"),
        (Format::Prisma, "sslcert=/lab/ca.crt"),
        (Format::Npgsql, "Root Certificate=/lab/ca.crt"),
    ];
    for (format, fragment) in want {
        let p = params("h.example", Some(&secret), &root, &sys, false);
        let text = render(format, &p).unwrap().text;
        assert!(text.contains(fragment), "{}: {text}", format.as_str());
        assert!(
            !text.contains("DefaultJavaSSLFactory"),
            "{}: {text}",
            format.as_str()
        );
    }
    // SQLAlchemy+asyncpg cannot name it in the URL: a note says how.
    let p = params("h.example", Some(&secret), &root, &sys, false);
    let r = render(Format::SqlalchemyAsyncpg, &p).unwrap();
    assert!(!r.text.contains("ca.crt"));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("PGSSLROOTCERT=/lab/ca.crt")),
        "{:?}",
        r.notes
    );
}

#[test]
fn system_roots_are_left_to_drivers_whose_default_is_the_system_store() {
    let sys = roots(false);
    let secret = Secret::new("x");
    for format in [Format::Pgx, Format::Node, Format::Prisma, Format::Npgsql] {
        let p = params("h.example", Some(&secret), &RootCert::System, &sys, false);
        let text = render(format, &p).unwrap().text;
        // node-postgres would *replace* its roots with the bundle; the others need nothing.
        assert!(
            !text.contains("ca-certificates"),
            "{}: {text}",
            format.as_str()
        );
    }
}

#[test]
fn pin_ip_works_for_libpq_forms_and_is_a_clear_error_elsewhere() {
    let sys = roots(false);
    let secret = Secret::new("x");
    for &format in Format::ALL {
        let mut p = params("h.example", Some(&secret), &RootCert::System, &sys, false);
        p.hostaddr = Some("127.20.0.3".parse().unwrap());
        let result = render(format, &p);
        match format {
            Format::Uri | Format::Sqlalchemy => {
                assert!(result.unwrap().text.contains("hostaddr=127.20.0.3"));
            }
            Format::Keyword => assert!(result.unwrap().text.contains(" hostaddr=127.20.0.3")),
            other => assert_eq!(result, Err(ConnStrError::PinIpUnsupported(other.as_str()))),
        }
    }
}

#[test]
fn no_password_leaves_the_password_out_entirely() {
    let sys = roots(false);
    for &format in Format::ALL {
        let p = params("h.example", None, &RootCert::System, &sys, true);
        let text = render(format, &p).unwrap().text;
        assert!(
            !text.to_lowercase().contains("password"),
            "{}: {text}",
            format.as_str()
        );
        assert!(!text.contains("temporal:"), "{}: {text}", format.as_str());
    }
}

#[test]
fn pooled_endpoints_get_notes_where_the_url_cannot_say_it() {
    let sys = roots(false);
    let secret = Secret::new("x");
    let notes = |format, pooled| -> Rendered {
        render(
            format,
            &params("h.example", Some(&secret), &RootCert::System, &sys, pooled),
        )
        .unwrap()
    };
    for (format, needle) in [
        (Format::Uri, "prepare_threshold=None"),
        (Format::Keyword, "prepare_threshold=None"),
        (Format::Sqlalchemy, "prepare_threshold"),
        (Format::Asyncpg, "statement_cache_size=0"),
        (Format::SqlalchemyAsyncpg, "statement_cache_size"),
        (Format::Prisma, "directUrl"),
    ] {
        let r = notes(format, true);
        assert!(
            r.notes.iter().any(|n| n.contains(needle)),
            "{}: {:?}",
            format.as_str(),
            r.notes
        );
    }
    for &format in Format::ALL {
        let r = notes(format, false);
        assert!(
            r.notes.iter().all(|n| !n.contains("pooler")),
            "{}: direct endpoints need no pooler note: {:?}",
            format.as_str(),
            r.notes
        );
    }
}

#[test]
fn jdbc_warns_that_pgjdbc_cannot_take_a_control_character_password() {
    let sys = roots(false);
    let secret = Secret::new("new\nline");
    let r = render(
        Format::Jdbc,
        &params("h.example", Some(&secret), &RootCert::System, &sys, false),
    )
    .unwrap();
    assert!(
        r.notes.iter().any(|n| n.contains("SASLprep")),
        "{:?}",
        r.notes
    );
    let plain = Secret::new("plain");
    let r = render(
        Format::Jdbc,
        &params("h.example", Some(&plain), &RootCert::System, &sys, false),
    )
    .unwrap();
    assert!(r.notes.is_empty());
}

#[test]
fn weaker_modes_asked_for_by_name_are_expressed_per_driver() {
    let sys = roots(false);
    let secret = Secret::new("x");
    let mut p = params("h.example", Some(&secret), &RootCert::System, &sys, false);
    p.sslmode = SslMode::Require;
    let text = |f| render(f, &p).unwrap().text;
    assert!(
        text(Format::Uri).contains("sslmode=require&connect_timeout"),
        "no root file with require"
    );
    assert!(text(Format::Node).contains("sslmode=no-verify"));
    assert!(text(Format::Prisma).contains("sslmode=require&sslaccept=accept_invalid_certs"));
    assert!(text(Format::Npgsql).contains("SSL Mode=Require"));
    assert!(!text(Format::Jdbc).contains("sslfactory"));
}
