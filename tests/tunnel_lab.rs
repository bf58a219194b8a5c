//! `--via kube` against the lab: the Kubernetes API substitute's pod
//! port-forward (proven first with the official Python client), real psql
//! with verify-full through pgconn's tunnel while the admin endpoint drops
//! the client (fault `admin-outside`), one tunnel serving many sessions with
//! failures among them, a pod going away, the errors (doctor through the
//! tunnel: `doctor_lab::fault_admin_outside`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::cli::{bin, repo};
use crate::support::lab::{ADMIN_USER, Lab, Run, run};

fn lab() -> Option<Lab> {
    let lab = Lab::get();
    if lab.is_none() {
        eprintln!("skipped: lab not running");
    }
    lab
}

/// `pgconn ARGS` inside the lab with the lab's catalog and kubeconfig.
fn pgconn(lab: &Lab, args: &[&str]) -> Command {
    let mut cmd = lab.command(bin());
    cmd.args(args)
        .env("PGCONN_CATALOG", lab.catalog())
        .env("KUBECONFIG", kubeconfig(lab))
        .stdin(Stdio::null());
    cmd
}

fn kubeconfig(lab: &Lab) -> String {
    lab.var("PGCONN_LAB_KUBECONFIG")
        .expect("lab.env has PGCONN_LAB_KUBECONFIG")
        .to_string()
}

fn go(cmd: Command) -> Run {
    run(cmd, None, Duration::from_secs(60))
}

/// The admin endpoint of temporal-db, dialled directly, times out (the
/// fault is on): what makes the tunnel necessary.
fn assert_direct_path_closed(lab: &Lab) {
    let direct = lab.query_as(
        "temporal-db",
        "admin",
        ADMIN_USER,
        "select 1",
        "connect_timeout=2",
    );
    assert!(
        direct.stderr.contains("timeout expired"),
        "admin-outside should drop the client: {direct:#?}"
    );
}

/// Changes the substitute's pods/Services/Endpoints (`DIR/kube/core.json`,
/// re-read on change) and restores them when dropped.
struct CoreEdit {
    path: PathBuf,
    original: String,
}

impl CoreEdit {
    fn new(lab: &Lab, edit: impl FnOnce(&mut serde_json::Value)) -> CoreEdit {
        let path = lab.dir().join("kube/core.json");
        let original =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let guard = CoreEdit { path, original };
        guard.apply(edit);
        guard
    }

    fn apply(&self, edit: impl FnOnce(&mut serde_json::Value)) {
        let mut core: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&self.path).unwrap()).unwrap();
        edit(&mut core);
        write_changed(&self.path, &serde_json::to_string_pretty(&core).unwrap());
    }
}

impl Drop for CoreEdit {
    fn drop(&mut self) {
        write_changed(&self.path, &self.original);
    }
}

/// Writes `text` so that the server's mtime check sees a change even within
/// one timestamp tick (the file is replaced, then its mtime set apart).
fn write_changed(path: &Path, text: &str) {
    let before = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    std::fs::write(path, text).unwrap();
    if let Some(before) = before {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        let later = before + Duration::from_millis(10);
        let now = std::time::SystemTime::now().max(later);
        file.set_modified(now).unwrap();
    }
}

/// A copy of the lab catalog with `edit` applied to its text.
fn derived_catalog(lab: &Lab, name: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(lab.catalog()).unwrap();
    let changed = edit(text.clone());
    assert_ne!(changed, text, "the catalog edit for {name} changed nothing");
    let path = lab.dir().join(format!("tunnel-{name}.yaml"));
    std::fs::write(&path, changed).unwrap();
    path
}

/// A running `pgconn tunnel`: its first stdout line, its stderr as it
/// comes; killed when dropped.
struct TunnelProcess {
    child: Child,
    first_line: String,
    stderr: mpsc::Receiver<String>,
}

impl TunnelProcess {
    fn start(lab: &Lab, args: &[&str]) -> TunnelProcess {
        let mut cmd = pgconn(lab, &[&["tunnel"], args].concat());
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start pgconn tunnel");
        let (line_tx, line_rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let (err_tx, err_rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let first_line = line_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_default();
        let mut process = TunnelProcess {
            child,
            first_line: first_line.trim().to_string(),
            stderr: err_rx,
        };
        if process.first_line.is_empty() {
            let status = process.child.wait().ok();
            panic!(
                "pgconn tunnel printed no connection string (exit {status:?}); stderr: {:?}",
                process.stderr_so_far()
            );
        }
        process
    }

    /// Everything on stderr until now.
    fn stderr_so_far(&self) -> Vec<String> {
        std::iter::from_fn(|| self.stderr.recv_timeout(Duration::from_millis(200)).ok()).collect()
    }

    /// The local port, from `hostaddr=127.0.0.1` and the URI's port.
    fn port(&self) -> u16 {
        let after_host = self
            .first_line
            .split('@')
            .nth(1)
            .expect("a URI with user@host");
        let port = after_host
            .split(['/', '?'])
            .next()
            .and_then(|hp| hp.rsplit(':').next())
            .expect("host:port");
        port.parse().expect("a port number")
    }

    /// SIGINT, then the exit status (bounded).
    fn interrupt(&mut self) -> Option<i32> {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for TunnelProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// psql inside the lab on `conninfo` with the admin password.
fn psql_on(lab: &Lab, conninfo: &str, password: &str, sql: &str) -> Run {
    lab.psql(
        &["-At", "-c", sql, conninfo],
        &[("PGPASSWORD", password), ("PGCONNECT_TIMEOUT", "5")],
    )
}

/// A client that connects to the port and closes at once.
fn connect_and_close(lab: &Lab, port: u16) {
    let mut cmd = lab.command("bash");
    cmd.args([
        "-c",
        &format!("exec 3<>/dev/tcp/127.0.0.1/{port}; exec 3>&-"),
    ]);
    go(cmd).expect_ok();
}

#[test]
fn the_official_python_client_forwards_through_the_substitute_to_real_postgres() {
    let Some(lab) = lab() else { return };
    let python = std::env::var_os("PGCONN_LAB_DRIVERS")
        .map_or_else(|| repo().join("lab/.drivers"), PathBuf::from)
        .join("venv/bin/python");
    assert!(
        python.exists(),
        "{} missing: run lab/lab install (it installs kubernetes from PyPI)",
        python.display()
    );
    let _lock = lab.lock();
    let check = |pod: &str, port: &str| {
        let mut cmd = lab.command(python.to_str().unwrap());
        cmd.arg(repo().join("lab/kube_portforward_check.py"))
            .arg(kubeconfig(&lab))
            .args(["lab", "temporal", pod, port])
            .arg(lab.ca_cert())
            .args([&lab.host("temporal-db", "admin"), ADMIN_USER]);
        go(cmd)
    };
    // SSLRequest answered S, a verify-full TLS handshake, and the server asks for SCRAM
    let through = check("temporal-db-0", "5432");
    assert!(through.ok(), "{through:#?}");
    assert!(
        through.stdout.starts_with("S TLSv1.") && through.stdout.trim_end().ends_with("R10"),
        "{through:#?}"
    );
    // nothing listens: the error channel says so, as the kubelet's does
    let refused = check("temporal-db-0", "5999");
    assert!(!refused.ok(), "{refused:#?}");
    assert!(
        refused
            .stderr
            .contains("error forwarding port 5999 to pod temporal-db-0"),
        "{refused:#?}"
    );
}

#[test]
fn the_real_kubectl_reads_the_substitutes_pods_services_and_endpoints() {
    let Some(lab) = lab() else { return };
    let kubectl = lab.var("PGCONN_LAB_KUBECTL").unwrap_or_default();
    assert!(!kubectl.is_empty(), "no kubectl: run lab/lab install");
    let _lock = lab.lock();
    let get = |args: &[&str]| {
        let mut cmd = lab.command(kubectl);
        cmd.args(["--kubeconfig", &kubeconfig(&lab)]).args(args);
        go(cmd).expect_ok()
    };
    let all = get(&[
        "get",
        "pods,services,endpoints",
        "-n",
        "temporal",
        "-o",
        "jsonpath={range .items[*]}{.kind}/{.metadata.name} {end}",
    ]);
    for want in [
        "Pod/temporal-db-0",
        "Service/temporal-db",
        "Endpoints/temporal-db",
    ] {
        assert!(all.split(' ').any(|w| w == want), "{want} in {all}");
    }
    let replicas = get(&[
        "get",
        "pods",
        "-n",
        "temporal",
        "-l",
        "spilo-role=replica",
        "-o",
        "name",
    ]);
    assert_eq!(replicas, "pod/temporal-db-1");
    let pod = get(&[
        "get",
        "endpoints",
        "temporal-db",
        "-n",
        "temporal",
        "-o",
        "jsonpath={.subsets[0].addresses[0].targetRef.name}",
    ]);
    assert_eq!(pod, "temporal-db-0");
}

#[test]
fn psql_and_run_via_kube_reach_an_admin_endpoint_that_drops_the_client() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("admin-outside");
    assert_direct_path_closed(&lab);
    // pgconn psql without the tunnel times out, and its note names the way around
    let out = go(pgconn(
        &lab,
        &["psql", "temporal-db", "--admin", "--", "-c", "select 1"],
    ));
    assert!(!out.ok(), "{out:#?}");
    assert!(
        out.stderr
            .contains("`pgconn psql temporal-db --admin --via kube`"),
        "{out:#?}"
    );
    let sql = "select inet_client_addr(), (select ssl from pg_stat_ssl where pid = pg_backend_pid()), pg_is_in_recovery()";
    let out = go(pgconn(
        &lab,
        &[
            "psql",
            "temporal-db",
            "--admin",
            "--via",
            "kube",
            "--",
            "-Atc",
            sql,
        ],
    ));
    // the server saw the cluster's inside, over TLS, on the primary
    assert_eq!(out.expect_ok(), "127.21.0.100|t|f", "{out:#?}");

    // run: PGHOST keeps the name (TLS verifies it), PGHOSTADDR/PGPORT dial the tunnel
    let script = "echo \"$PGHOST $PGHOSTADDR $PGSSLMODE\"; psql -XAtc 'select current_user'";
    let out = go(pgconn(
        &lab,
        &[
            "run",
            "temporal-db",
            "--admin",
            "--via",
            "kube",
            "--",
            "sh",
            "-c",
            script,
        ],
    ));
    let text = out.expect_ok();
    let host = lab.host("temporal-db", "admin");
    assert_eq!(
        text,
        format!("{host} 127.0.0.1 verify-full\n{ADMIN_USER}"),
        "{out:#?}"
    );
}

#[test]
fn services_resolve_through_endpoints_endpointslices_or_their_selector() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    // temporal-db-repl has neither selector nor Endpoints: only its EndpointSlice names the replica
    let catalog = derived_catalog(&lab, "slices", |t| {
        t.replace(
            "service: temporal/temporal-db-pooler-repl\n",
            "service: temporal/temporal-db-repl\n",
        )
    });
    let sql = "select pg_is_in_recovery(), inet_server_addr()";
    let mut cmd = pgconn(
        &lab,
        &[
            "psql",
            "temporal-db",
            "--read",
            "--via",
            "kube",
            "--",
            "-Atc",
            sql,
        ],
    );
    cmd.env("PGCONN_CATALOG", &catalog);
    let out = go(cmd);
    assert_eq!(out.expect_ok(), "t|127.21.1.2", "{out:#?}");
    // platform-db-rw: a selector and a named targetPort, no Endpoints stored
    let out = go(pgconn(
        &lab,
        &[
            "psql",
            "platform-db",
            "--admin",
            "--via",
            "kube",
            "--",
            "-Atc",
            sql,
        ],
    ));
    assert_eq!(out.expect_ok(), "f|127.21.2.1", "{out:#?}");
}

#[test]
fn a_wrong_name_certificate_behind_the_tunnel_still_fails() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("cert-wrong-name");
    // the write pooler's pod behind a Service the derived catalog names
    let _core = CoreEdit::new(&lab, |core| {
        let pod = serde_json::json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "temporal-db-pooler-0", "namespace": "temporal", "uid": "pooler-0"},
            "status": {"phase": "Running", "podIP": "127.20.0.1",
                       "conditions": [{"type": "Ready", "status": "True"}]}
        });
        let ns = &mut core["temporal"];
        ns["pods"]["temporal-db-pooler-0"] = pod;
        ns["services"]["temporal-db-pooler"] = serde_json::json!({
            "kind": "Service", "apiVersion": "v1",
            "metadata": {"name": "temporal-db-pooler", "namespace": "temporal"},
            "spec": {"ports": [{"name": "postgresql", "port": 5432, "targetPort": 5432}]}
        });
        ns["endpoints"]["temporal-db-pooler"] = serde_json::json!({
            "kind": "Endpoints", "apiVersion": "v1",
            "metadata": {"name": "temporal-db-pooler", "namespace": "temporal"},
            "subsets": [{"addresses": [{"ip": "127.20.0.1", "targetRef": {"kind": "Pod", "name": "temporal-db-pooler-0", "namespace": "temporal"}}],
                         "ports": [{"name": "postgresql", "port": 5432}]}]
        });
    });
    let catalog = derived_catalog(&lab, "wrong-name", |t| {
        t.replacen(
            "      write: {}\n      read:",
            "      write:\n        service: temporal/temporal-db-pooler\n      read:",
            1,
        )
    });
    let mut cmd = pgconn(
        &lab,
        &[
            "psql",
            "temporal-db",
            "--write",
            "--via",
            "kube",
            "--",
            "-Atc",
            "select 1",
        ],
    );
    cmd.env("PGCONN_CATALOG", &catalog);
    let out = go(cmd);
    assert!(
        !out.ok(),
        "a wrong-name certificate must fail through the tunnel: {out:#?}"
    );
    assert!(
        out.stderr.contains("does not match host name"),
        "psql's verify-full refusal: {out:#?}"
    );
}

#[test]
fn one_tunnel_serves_many_sessions_through_failures_and_sigint_frees_the_port() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("admin-outside");
    let mut tunnel = TunnelProcess::start(&lab, &["temporal-db", "--admin", "--no-password"]);
    let url = tunnel.first_line.clone();
    let host = lab.host("temporal-db", "admin");
    assert!(
        url.contains(&format!("@{host}:"))
            && url.contains("hostaddr=127.0.0.1")
            && url.contains("sslmode=verify-full"),
        "the name for TLS, the tunnel to dial: {url}"
    );
    let password = lab.password("temporal-db", ADMIN_USER);
    assert!(!url.contains(&password), "--no-password: {url}");
    for i in 0..100 {
        match i {
            40 => {
                let wrong = psql_on(&lab, &url, "wrong-password", "select 1");
                assert!(
                    wrong.stderr.contains("password authentication failed"),
                    "{wrong:#?}"
                );
            }
            70 => connect_and_close(&lab, tunnel.port()),
            _ => {}
        }
        let out = psql_on(&lab, &url, &password, &format!("select {i}"));
        assert_eq!(out.expect_ok(), i.to_string(), "session {i}: {out:#?}");
    }
    let port = tunnel.port();
    assert_eq!(tunnel.interrupt(), Some(0), "{:?}", tunnel.stderr_so_far());
    // the port is free: nothing accepts there any more
    let mut cmd = lab.command("bash");
    cmd.args(["-c", &format!("exec 3<>/dev/tcp/127.0.0.1/{port}")]);
    assert!(!go(cmd).ok(), "port {port} still accepts after SIGINT");
}

#[test]
fn a_chosen_port_is_used_and_a_taken_one_is_an_error() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let mut first = TunnelProcess::start(&lab, &["temporal-db", "--admin", "--no-password"]);
    let port = first.port().to_string();
    let taken = go(pgconn(
        &lab,
        &["tunnel", "temporal-db", "--admin", "--port", &port],
    ));
    assert_eq!(taken.code, Some(1), "{taken:#?}");
    assert!(
        taken
            .stderr
            .contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{taken:#?}"
    );
    assert_eq!(first.interrupt(), Some(0));
    let again = TunnelProcess::start(
        &lab,
        &["temporal-db", "--admin", "--no-password", "--port", &port],
    );
    assert_eq!(again.port().to_string(), port, "{}", again.first_line);
}

#[test]
fn a_pod_that_goes_away_is_replaced_by_another_ready_pod() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("admin-outside");
    // a second ready pod behind the master Service: temporal-db-2 at the
    // primary's other address (what the in-cluster Service would list)
    let core = CoreEdit::new(&lab, |core| {
        let ns = &mut core["temporal"];
        let mut second = ns["pods"]["temporal-db-0"].clone();
        second["metadata"]["name"] = "temporal-db-2".into();
        second["metadata"]["uid"] = "temporal-db-2".into();
        second["status"]["podIP"] = lab.var("PGCONN_LAB_ADMIN_IP").unwrap().into();
        ns["pods"]["temporal-db-2"] = second;
        let address = serde_json::json!({"ip": lab.var("PGCONN_LAB_ADMIN_IP").unwrap(),
            "targetRef": {"kind": "Pod", "name": "temporal-db-2", "namespace": "temporal"}});
        ns["endpoints"]["temporal-db"]["subsets"][0]["addresses"]
            .as_array_mut()
            .unwrap()
            .push(address);
    });
    let mut tunnel = TunnelProcess::start(&lab, &["temporal-db", "--admin", "--no-password"]);
    let url = tunnel.first_line.clone();
    let password = lab.password("temporal-db", ADMIN_USER);
    let where_ = "select inet_server_addr()";
    assert_eq!(
        psql_on(&lab, &url, &password, where_).expect_ok(),
        "127.21.1.1"
    );
    // the pod goes; its Endpoints entry lingers (as it does for a moment in a real cluster)
    core.apply(|core| {
        core["temporal"]["pods"]
            .as_object_mut()
            .unwrap()
            .remove("temporal-db-0");
    });
    let out = psql_on(&lab, &url, &password, where_);
    assert_eq!(
        out.expect_ok(),
        lab.var("PGCONN_LAB_ADMIN_IP").unwrap(),
        "the next session goes to the other ready pod"
    );
    assert_eq!(tunnel.interrupt(), Some(0));
    let said = tunnel.stderr_so_far().join("\n");
    assert!(
        said.contains("temporal-db-0 is gone")
            && said.contains("now via pod temporal/temporal-db-2"),
        "{said}"
    );
}

#[test]
fn no_service_no_ready_pod_forbidden_and_refused_port_exit_1() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let select = ["--", "-Atc", "select 1"];
    let via = |catalog: Option<&Path>, extra: &[&str], role: &str| {
        let mut cmd = pgconn(
            &lab,
            &[
                extra,
                &["psql", "temporal-db", role, "--via", "kube"],
                &select[..],
            ]
            .concat(),
        );
        if let Some(c) = catalog {
            cmd.env("PGCONN_CATALOG", c);
        }
        go(cmd)
    };

    let out = via(None, &[], "--write");
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert!(
        out.stderr.contains("names no in-cluster Service")
            && out.stderr.contains("service: NAMESPACE/NAME"),
        "{out:#?}"
    );

    let idle = derived_catalog(&lab, "no-ready-pod", |t| {
        t.replace(
            "service: temporal/temporal-db\n",
            "service: temporal/temporal-db-config\n",
        )
    });
    let out = via(Some(&idle), &[], "--admin");
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert!(
        out.stderr
            .contains("no ready pod behind service temporal/temporal-db-config"),
        "{out:#?}"
    );

    let out = via(None, &["--context", "lab-viewer"], "--admin");
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert!(
        out.stderr.contains("403") && out.stderr.contains("`create` on `pods/portforward`"),
        "{out:#?}"
    );

    let _core = CoreEdit::new(&lab, |core| {
        core["temporal"]["endpoints"]["temporal-db"]["subsets"][0]["ports"][0]["port"] =
            5999.into();
    });
    let out = via(None, &[], "--admin");
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert!(
        out.stderr
            .contains("pod temporal/temporal-db-0 refused port 5999")
            && out.stderr.contains("error forwarding port 5999"),
        "{out:#?}"
    );
}

#[test]
fn a_format_whose_driver_cannot_dial_apart_is_refused() {
    let Some(lab) = lab() else { return };
    for format in ["jdbc", "asyncpg", "pgx", "node", "prisma", "npgsql"] {
        let out = go(pgconn(
            &lab,
            &["tunnel", "temporal-db", "--admin", "--format", format],
        ));
        assert_eq!(out.code, Some(2), "{format}: {out:#?}");
        assert!(
            out.stderr.contains("does not weaken verification"),
            "{out:#?}"
        );
    }
}
