//! Vault and the Kubernetes API against real local HTTP servers that
//! misbehave: a redirect to another origin (127.0.0.2) never carries the
//! token there and fails with a clear message; error bodies full of escape
//! sequences reach the terminal sanitised.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::support::cli::{pgconn, repo, run, stderr, tool_available};

/// The servers of `tests/support/hostile_http.py`, stopped on drop.
struct Servers {
    child: Child,
    origin: u16,
    log: PathBuf,
}

impl Servers {
    fn start(dir: &Path, mode: &str) -> Servers {
        Servers::start_with(dir, mode, &[])
    }

    fn start_with(dir: &Path, mode: &str, extra: &[&str]) -> Servers {
        let log = dir.join("other-origin.log");
        let mut child = Command::new("python3")
            .arg(repo().join("tests/support/hostile_http.py"))
            .args([log.to_str().unwrap(), mode])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let origin = line.split_whitespace().next().unwrap().parse().unwrap();
        Servers { child, origin, log }
    }

    /// What the other origin received (JSON lines), empty if nothing.
    fn other_saw(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const TOKEN: &str = "tok-must-stay-home-1234";

/// `pgconn url c1` with one credential source and no other configuration.
fn url_with_source(dir: &Path, source: &str, env: &[(&str, String)]) -> Output {
    let catalog = dir.join("pgconn.yaml");
    std::fs::write(
        &catalog,
        format!(
            "version: 1\ndomain: example.test\nsslmode: verify-full\nclusters:\n  c1:\n    \
             port: 5432\n    endpoints: {{ write: {{}} }}\n    users:\n      app:\n        \
             roles: [write]\n        credentials: [{source}]\n"
        ),
    )
    .unwrap();
    let mut cmd = pgconn(&["url", "c1"]);
    for k in [
        "VAULT_ADDR",
        "VAULT_TOKEN",
        "KUBECONFIG",
        "KUBERNETES_SERVICE_HOST",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("PGCONN_CATALOG", &catalog)
        .env("HOME", dir)
        .env("PGCONN_KEYRING", "none");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

fn vault_env(servers: &Servers) -> Vec<(&'static str, String)> {
    vec![
        ("VAULT_ADDR", format!("http://127.0.0.1:{}", servers.origin)),
        ("VAULT_TOKEN", TOKEN.to_string()),
    ]
}

fn kube_env(dir: &Path, servers: &Servers) -> Vec<(&'static str, String)> {
    let config = dir.join("kubeconfig");
    std::fs::write(
        &config,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
             clusters: [{{name: c, cluster: {{server: \"http://127.0.0.1:{}\"}}}}]\n\
             users: [{{name: u, user: {{token: {TOKEN}}}}}]\n\
             contexts: [{{name: c, context: {{cluster: c, user: u, namespace: db}}}}]\n",
            servers.origin
        ),
    )
    .unwrap();
    vec![("KUBECONFIG", config.display().to_string())]
}

#[test]
fn vault_redirect_to_another_origin_is_refused_without_sending_the_token() {
    if !tool_available("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let servers = Servers::start(dir.path(), "redirect");
    let out = url_with_source(dir.path(), "vault: { path: kv1/app }", &vault_env(&servers));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        !servers.other_saw().contains(TOKEN),
        "the token reached the other origin: {}",
        servers.other_saw()
    );
    assert!(
        err.contains("redirect pgconn does not follow") && err.contains("127.0.0.2"),
        "{err}"
    );
    assert!(!err.contains("stolen"), "{err}");
}

#[test]
fn vault_https_never_follows_a_redirect_to_http_on_the_same_host_and_port() {
    if !tool_available("python3") || !tool_available("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // a CA and a leaf for 127.0.0.1 (webpki refuses a self-signed leaf)
    let script = "set -e
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout ca.key -out ca.pem
        openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout key.pem -out leaf.csr
        printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > leaf.ext
        openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \\
            -extfile leaf.ext -out cert.pem";
    let made = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir.path())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success());
    let (ca, cert, key) = (
        dir.path().join("ca.pem"),
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
    );
    let servers = Servers::start_with(
        dir.path(),
        "downgrade",
        &[cert.to_str().unwrap(), key.to_str().unwrap()],
    );
    let env = [
        (
            "VAULT_ADDR",
            format!("https://127.0.0.1:{}", servers.origin),
        ),
        ("VAULT_TOKEN", TOKEN.to_string()),
        ("VAULT_CACERT", ca.display().to_string()),
    ];
    let out = url_with_source(dir.path(), "vault: { path: kv1/app }", &env);
    let err = stderr(&out);
    assert_eq!(
        servers.other_saw(),
        "",
        "a plaintext request carried the token"
    );
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("redirect pgconn does not follow") && err.contains("http://127.0.0.1"),
        "{err}"
    );
}

#[test]
fn kubernetes_redirect_is_not_followed_and_says_so() {
    if !tool_available("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let servers = Servers::start(dir.path(), "redirect");
    let env = kube_env(dir.path(), &servers);
    let out = url_with_source(dir.path(), "kubernetes: { secret: s }", &env);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(servers.other_saw(), "", "kube-client follows no redirect");
    assert!(
        err.contains("redirect") && err.contains("127.0.0.2"),
        "the error names the redirect: {err}"
    );
}

/// No escape sequence or other control character but the line breaks.
fn assert_no_controls(text: &str) {
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters reached the terminal: {text:?}"
    );
}

#[test]
fn escape_sequences_in_a_vault_error_body_never_reach_the_terminal() {
    if !tool_available("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let servers = Servers::start(dir.path(), "escape");
    let out = url_with_source(dir.path(), "vault: { path: kv1/app }", &vault_env(&servers));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("permission denied"), "{err}");
    assert_no_controls(&err);
}

#[test]
fn escape_sequences_in_a_kubernetes_error_body_never_reach_the_terminal() {
    if !tool_available("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let servers = Servers::start(dir.path(), "escape");
    let env = kube_env(dir.path(), &servers);
    let out = url_with_source(dir.path(), "kubernetes: { secret: s }", &env);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("permission denied"), "{err}");
    assert_no_controls(&err);
}

#[test]
fn escape_sequences_in_a_command_sources_stderr_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out = url_with_source(
        dir.path(),
        r#"command: { argv: [sh, -c, "printf '\033]0;pwned\007\033[2J\033[31mvault login needed\r\n' >&2; exit 1"] }"#,
        &[],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("vault login needed"), "{err}");
    assert_no_controls(&err);
}

#[test]
fn show_never_prints_control_characters_from_catalog_values() {
    let dir = tempfile::tempdir().unwrap();
    let out = url_with_source(
        dir.path(),
        "vault: { path: \"kv/\\e]0;pwned\\a\\e[2Japp\" }",
        &[],
    );
    drop(out);
    let mut cmd = pgconn(&["show", "c1"]);
    cmd.env("PGCONN_CATALOG", dir.path().join("pgconn.yaml"));
    let out = run(&mut cmd);
    let text = crate::support::cli::stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("kv/") && text.contains("app"), "{text}");
    assert_no_controls(&text);
}
