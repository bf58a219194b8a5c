//! One catalog for a whole organisation: `include:` of local files and
//! `https://` catalogs (a real TLS server of the test's own, with its own CA),
//! merged key by key with the including file winning, every value traced to
//! its document, cached with revalidation, pinned, and never allowed to run
//! code unless the including file says so.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::cli::{Pgconn, Scratch, repo};
use crate::support::run::Run;

const BASE: &str = "version: 1
domain: example.test
clusters:
  app-db:
    port: 5432
    database: app
    endpoints: { write: {}, admin: {} }
    users:
      app:
        roles: [write]
        credentials: [ { env: { var: APP_FROM_BASE } } ]
      admin:
        roles: [admin]
        credentials: [ { env: { var: ADMIN_FROM_BASE } } ]
";

/// `pgconn ARGS` as a user whose home is `home`, from `dir`.
fn pgconn(home: &Scratch, dir: &Path, args: &[&str]) -> Run {
    Pgconn::new(args)
        .user_in(home.path())
        .current_dir(dir)
        .env("APP_FROM_BASE", "base-pw")
        .env("APP_FROM_OVERLAY", "overlay-pw")
        .env("ADMIN_FROM_BASE", "admin-pw")
        .run()
}

#[test]
fn an_overlay_changes_one_user_and_show_names_where_each_came_from() {
    let home = Scratch::new();
    let dir = Scratch::new();
    let base = dir.write("base.yaml", BASE);
    let overlay = dir.write(
        "mine.yaml",
        "version: 1\ninclude: [./base.yaml]\nclusters:\n  app-db:\n    users:\n      app:\n        \
         credentials: [ { env: { var: APP_FROM_OVERLAY } } ]\n",
    );
    let catalog = overlay.to_str().unwrap();
    let url = pgconn(&home, dir.path(), &["--catalog", catalog, "url", "app-db"]).success();
    assert!(
        url.contains(":overlay-pw@app-db-write.example.test"),
        "{url}"
    );
    let admin = pgconn(
        &home,
        dir.path(),
        &["--catalog", catalog, "url", "app-db", "--admin"],
    );
    assert!(admin.success().contains(":admin-pw@"), "{admin:#?}");
    let show = pgconn(&home, dir.path(), &["--catalog", catalog, "show", "app-db"]).success();
    assert!(
        show.contains(&format!("defined at   {}:4", base.display())),
        "{show}"
    );
    assert!(
        show.contains(&format!(
            "app (default for write; from {}:7)",
            overlay.display()
        )),
        "{show}"
    );
    assert!(
        show.contains(&format!(
            "admin (default for admin; from {}:14)",
            base.display()
        )),
        "{show}"
    );
    let path = pgconn(
        &home,
        dir.path(),
        &["--catalog", catalog, "catalog", "path", "-v"],
    );
    assert!(
        path.stderr
            .contains(&format!("includes {}", base.display())),
        "{path:#?}"
    );
}

#[test]
fn a_problem_in_an_included_file_is_reported_at_its_file_and_line() {
    let home = Scratch::new();
    let dir = Scratch::new();
    let base = dir.write("base.yaml", &BASE.replace("port: 5432", "port: 99999"));
    let overlay = dir.write("mine.yaml", "version: 1\ninclude: [base.yaml]\n");
    pgconn(
        &home,
        dir.path(),
        &["--catalog", overlay.to_str().unwrap(), "ls"],
    )
    .fails_with(
        2,
        &[&format!("{}:5:", base.display()), "clusters.app-db.port"],
    );
}

#[test]
fn include_cycles_are_an_error_naming_the_chain() {
    let home = Scratch::new();
    let dir = Scratch::new();
    dir.write("a.yaml", "version: 1\ninclude: [b.yaml]\n");
    dir.write("b.yaml", "version: 1\ninclude: [a.yaml]\nclusters: {}\n");
    let a = dir.path().join("a.yaml");
    pgconn(&home, dir.path(), &["--catalog", a.to_str().unwrap(), "ls"])
        .fails_with(2, &["includes form a cycle", "a.yaml → ", "b.yaml → "]);
}

#[test]
fn an_included_catalog_may_not_run_commands_unless_the_including_file_allows_it() {
    let home = Scratch::new();
    let dir = Scratch::new();
    let marker = dir.path().join("ran");
    dir.write(
        "shared.yaml",
        &BASE.replace(
            "[ { env: { var: APP_FROM_BASE } } ]",
            &format!(
                "[ {{ command: {{ argv: [touch, {}] }} }} ]",
                marker.display()
            ),
        ),
    );
    let mine = dir.write("mine.yaml", "version: 1\ninclude: [shared.yaml]\n");
    pgconn(
        &home,
        dir.path(),
        &["--catalog", mine.to_str().unwrap(), "url", "app-db"],
    )
    .fails_with(
        2,
        &[
            "shared.yaml:11:",
            "`command` credential source in a remote or included catalog is refused",
            "trust_remote_commands: true",
        ],
    );
    assert!(!marker.exists(), "the command ran");
    let allowing = dir.write(
        "allowing.yaml",
        "version: 1\ntrust_remote_commands: true\ninclude: [shared.yaml]\n",
    );
    pgconn(
        &home,
        dir.path(),
        &["--catalog", allowing.to_str().unwrap(), "url", "app-db"],
    );
    assert!(marker.exists(), "allowed by the including file");
}

#[test]
fn trusting_a_working_directory_catalog_covers_its_local_includes() {
    let home = Scratch::new();
    let repo_dir = Scratch::new();
    repo_dir.write("team.yaml", BASE);
    repo_dir.write("pgconn.yaml", "version: 1\ninclude: [./team.yaml]\n");
    pgconn(&home, repo_dir.path(), &["catalog", "trust"]).success();
    pgconn(&home, repo_dir.path(), &["url", "app-db"]).success();
    repo_dir.write("team.yaml", &BASE.replace("example.test", "elsewhere.test"));
    pgconn(&home, repo_dir.path(), &["url", "app-db"])
        .fails_with(2, &["changed since it was trusted"]);
}

/// The test's HTTPS server (`tests/support/https_catalog_server.py`).
struct Server {
    child: Child,
    port: u16,
    dir: Scratch,
}

impl Server {
    fn start(root: &Path) -> Server {
        let dir = Scratch::new();
        let mut child = Command::new("/usr/bin/python3")
            .arg(repo().join("tests/support/https_catalog_server.py"))
            .arg(root)
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the test server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the server prints its port");
        Server { child, port, dir }
    }

    fn url(&self, name: &str) -> String {
        format!("https://127.0.0.1:{}/{name}", self.port)
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn https(home: &Scratch, server: &Server, args: &[&str]) -> Run {
    Pgconn::new(args)
        .user_in(home.path())
        .env("PGCONN_CATALOG_CACERT", server.ca())
        .env("APP_FROM_BASE", "base-pw")
        .env("APP_FROM_OVERLAY", "overlay-pw")
        .run()
}

fn sha256(text: &str) -> String {
    let out = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().unwrap().write_all(text.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

#[test]
fn an_https_catalog_is_verified_cached_revalidated_and_pinned() {
    let docs = Scratch::new();
    docs.write("org.yaml", BASE);
    let mut server = Server::start(docs.path());
    let home = Scratch::new();
    let url = server.url("org.yaml");

    // TLS is verified: without the CA the fetch fails and says what to set
    Pgconn::new(&["--catalog", &url, "ls"])
        .user_in(home.path())
        .run()
        .fails_with(2, &["UnknownIssuer", "PGCONN_CATALOG_CACERT"]);
    // http:// is refused outright
    https(
        &home,
        &server,
        &["--catalog", &url.replace("https", "http"), "ls"],
    )
    .fails_with(2, &["only fetched over https://"]);

    let ls = https(&home, &server, &["--catalog", &url, "ls"]);
    assert!(ls.success().contains("app-db"), "{ls:#?}");
    // a second run within `refresh` answers from the cache, without a request
    let before = server.requests().len();
    https(&home, &server, &["--catalog", &url, "url", "app-db"]).success();
    assert_eq!(server.requests().len(), before, "{:?}", server.requests());
    // `catalog path -v` says where it came from and how old the copy is
    let path = https(
        &home,
        &server,
        &["--catalog", &url, "catalog", "path", "-v"],
    );
    assert!(
        path.stderr
            .contains("found through --catalog; trusted by its place")
            && path
                .stderr
                .contains(&format!("{url}: cached copy confirmed ")),
        "{path:#?}"
    );
    // `catalog refresh` revalidates: a conditional request answered 304
    let refreshed = https(&home, &server, &["--catalog", &url, "catalog", "refresh"]);
    assert!(
        refreshed.success().contains(&format!("refreshed {url}")),
        "{refreshed:#?}"
    );
    assert_eq!(
        server.requests().last().map(String::as_str),
        Some("GET /org.yaml conditional")
    );

    // a pin that matches works; one that does not is an error, never the cache
    let pinned = format!("{url}#sha256={}", sha256(BASE));
    https(&home, &server, &["--catalog", &pinned, "ls"]).success();
    let wrong = format!("{url}#sha256={}", "0".repeat(64));
    https(&home, &server, &["--catalog", &wrong, "ls"]).fails_with(2, &["not the pinned"]);

    // an overlay including the organisation's catalog, revalidating at once
    let mine = home.write(
        "mine.yaml",
        &format!(
            "version: 1\nrefresh: 0s\ninclude: [\"{url}\"]\nclusters:\n  app-db:\n    users:\n      app:\n        \
             credentials: [ {{ env: {{ var: APP_FROM_OVERLAY }} }} ]\n"
        ),
    );
    let mine = mine.to_str().unwrap();
    let out = https(&home, &server, &["--catalog", mine, "url", "app-db"]).success();
    assert!(out.contains(":overlay-pw@"), "{out}");

    // the server goes away: the last good copy, with one line giving its age
    server.stop();
    let stale = https(&home, &server, &["--catalog", mine, "url", "app-db"]);
    assert!(stale.success().contains(":overlay-pw@"), "{stale:#?}");
    assert!(stale.stderr.contains("cannot be reached"), "{stale:#?}");
    assert!(
        stale.stderr.contains("using the copy confirmed"),
        "{stale:#?}"
    );
    assert_eq!(stale.stderr.lines().count(), 1, "{stale:#?}");
    // a source never fetched, unreachable: an error naming it
    let never = home.write(
        "never.yaml",
        &format!("version: 1\ninclude: [\"{}\"]\n", server.url("other.yaml")),
    );
    https(
        &home,
        &server,
        &["--catalog", never.to_str().unwrap(), "ls"],
    )
    .fails_with(2, &[&server.url("other.yaml")]);
}

#[test]
fn a_remote_catalog_with_a_command_source_is_refused_and_the_command_never_runs() {
    let docs = Scratch::new();
    let marker = docs.path().join("ran");
    docs.write(
        "org.yaml",
        &BASE.replace(
            "[ { env: { var: APP_FROM_BASE } } ]",
            &format!(
                "[ {{ command: {{ argv: [touch, {}] }} }} ]",
                marker.display()
            ),
        ),
    );
    let server = Server::start(docs.path());
    let home = Scratch::new();
    https(
        &home,
        &server,
        &["--catalog", &server.url("org.yaml"), "url", "app-db"],
    )
    .fails_with(
        2,
        &["`command` credential source in a remote or included catalog is refused"],
    );
    assert!(!marker.exists(), "the remote catalog's command ran");
}

#[test]
fn a_config_map_catalog_is_read_with_the_users_kubeconfig_and_logs_in() {
    let Some(lab) = crate::support::lab::Lab::get() else {
        eprintln!("skipped: lab not running");
        return;
    };
    let kubeconfig = lab.var("PGCONN_LAB_KUBECONFIG").expect("lab kubeconfig");
    // the object, as the real kubectl reads it
    let kubectl = lab.var("PGCONN_LAB_KUBECTL").expect("kubectl in the lab");
    let mut cmd = Command::new(kubectl);
    cmd.args([
        "get",
        "configmap",
        "pgconn-catalog",
        "-n",
        "platform",
        "-o",
        "jsonpath={.data.catalog\\.yaml}",
    ])
    .env("KUBECONFIG", kubeconfig)
    .env("HOME", std::env::temp_dir());
    let published =
        crate::support::run::run(cmd, None, std::time::Duration::from_secs(60)).success();
    assert!(published.contains("temporal-db"), "{published}");

    // my overlay: the organisation's catalog plus my credential and CA
    let home = Scratch::new();
    let mine = home.write(
        "mine.yaml",
        &format!(
            "version: 1\ninclude: [\"k8s:platform/pgconn-catalog\"]\nsslrootcert: \"{}\"\nclusters:\n  temporal-db:\n    users:\n      \
             temporal: {{ roles: [write, read], credentials: [ {{ env: {{ var: MY_PW }} }} ] }}\n",
            lab.ca_cert().display()
        ),
    );
    let pgconn = |args: &[&str], context: Option<&str>| {
        let mut p = Pgconn::new(&["--catalog", mine.to_str().unwrap()])
            .args(args)
            .user_in(home.path())
            .env("KUBECONFIG", kubeconfig)
            .env("MY_PW", lab.password("temporal-db", "temporal"));
        if let Some(c) = context {
            p = p.args(["--context", c]);
        }
        p.run()
    };
    let show = pgconn(&["show", "temporal-db"], None).success();
    assert!(
        show.contains("defined at   k8s:platform/pgconn-catalog:6"),
        "{show}"
    );
    assert!(
        show.contains("temporal (default for write, read; from ") && show.contains("mine.yaml:"),
        "{show}"
    );
    // psql logs in with the URL built from the ConfigMap's endpoints
    let url = pgconn(&["url", "temporal-db", "--read"], None).success();
    let r = lab.psql(&[url.trim(), "-tAc", "select pg_is_in_recovery()"], &[]);
    assert_eq!(
        r.expect_ok(),
        "t",
        "the read endpoint of the published catalog: {r:#?}"
    );
    // a context that may not read the platform namespace: a clear error, no fallback
    pgconn(&["ls"], Some("lab-expired")).fails_with(2, &["k8s:platform/pgconn-catalog", "401"]);
}
