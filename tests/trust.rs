//! A catalog is code: a working-directory catalog runs nothing and reaches
//! nothing until the user trusts it, an edit untrusts it, files others could
//! write are refused wherever they are, and shell completion never reads an
//! untrusted catalog.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::cli::{Pgconn, Scratch};
use crate::support::run::Run;

/// A TCP listener on loopback that counts the connections it is offered
/// (and closes them), until dropped.
struct Listener {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Listener {
    fn start() -> Listener {
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let port = socket.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, done) = (accepted.clone(), stop.clone());
        thread::spawn(move || {
            let start = Instant::now();
            while !done.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(300) {
                match socket.accept() {
                    Ok(_) => {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Listener {
            port,
            accepted,
            stop,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What a hostile repository would ship: a `command` source that leaves a
/// marker, and an endpoint on a listener of the attacker's, without TLS.
fn hostile_catalog(marker: &Path, port: u16) -> String {
    format!(
        "version: 1\ndomain: example.test\nsslmode: disable\nconnect_timeout: 2\n\
         clusters:\n  app:\n    port: {port}\n    database: app\n    \
         endpoints: {{ write: {{ host: 127.0.0.1, pooled: false }} }}\n    users:\n      app:\n        \
         roles: [write]\n        credentials:\n          - command: {{ argv: [sh, -c, \"touch {}; printf stolen\"] }}\n",
        marker.display()
    )
}

/// `pgconn ARGS` in the repository `repo`, as the user whose home is `home`.
fn in_repo(home: &Scratch, repo: &Path, args: &[&str]) -> Run {
    Pgconn::new(args)
        .user_in(home.path())
        .current_dir(repo)
        .stdin("pw\n")
        .run()
}

#[test]
fn a_working_directory_catalog_runs_nothing_and_reaches_nothing_until_trusted() {
    let home = Scratch::new();
    let repo = Scratch::new();
    let listener = Listener::start();
    let marker = repo.path().join("ran");
    let catalog = repo.write("pgconn.yaml", &hostile_catalog(&marker, listener.port));

    // describing works, and says the catalog is untrusted
    let ls = in_repo(&home, repo.path(), &["ls"]);
    assert!(ls.success().contains("app"), "{ls:#?}");
    assert!(ls.stderr.contains("is not trusted"), "{ls:#?}");
    assert!(ls.stderr.contains("pgconn catalog trust"), "{ls:#?}");
    in_repo(&home, repo.path(), &["url", "app", "--no-password"]).success();

    // everything that would run, fetch, connect or write: exit 2, naming the fix
    let acting: &[&[&str]] = &[
        &["url", "app"],
        &["env", "app"],
        &["creds", "app"],
        &["psql", "app"],
        &["run", "app", "--", "true"],
        &["doctor"],
        &["doctor", "app", "--timeout", "1"],
        &["login", "app", "--password-stdin"],
        &["logout", "app"],
        &["service", "sync"],
    ];
    for args in acting {
        let out = in_repo(&home, repo.path(), args);
        let err = out.fails_with(2, &["is not trusted", "pgconn catalog trust"]);
        assert!(
            err.contains(&catalog.display().to_string()),
            "{args:?}: {err}"
        );
    }
    assert!(!marker.exists(), "an untrusted catalog ran its command");
    assert_eq!(
        listener.accepted(),
        0,
        "an untrusted catalog reached its host"
    );
    assert!(
        !home.path().join(".pg_service.conf").exists(),
        "an untrusted catalog wrote files"
    );

    // trusting says what it allows, then the catalog is used
    let trusted = in_repo(&home, repo.path(), &["catalog", "trust"]);
    assert!(trusted.success().starts_with("trusted "), "{trusted:#?}");
    assert!(
        trusted.stderr.contains("touch"),
        "names the command: {trusted:#?}"
    );
    assert!(
        trusted
            .stderr
            .contains(&format!("127.0.0.1:{}", listener.port)),
        "names the host: {trusted:#?}"
    );
    let url = in_repo(&home, repo.path(), &["url", "app"]);
    assert!(url.success().contains(":stolen@"), "{url:#?}");
    assert!(marker.exists());
    in_repo(&home, repo.path(), &["doctor", "app", "--timeout", "1"]);
    assert!(listener.accepted() > 0, "a trusted catalog is used");

    // any edit untrusts it; untrust forgets it
    std::fs::remove_file(&marker).unwrap();
    let text = std::fs::read_to_string(&catalog).unwrap();
    std::fs::write(&catalog, format!("{text}# edited\n")).unwrap();
    in_repo(&home, repo.path(), &["url", "app"])
        .fails_with(2, &["changed since it was trusted", "pgconn catalog trust"]);
    assert!(!marker.exists(), "an edited catalog ran its command");
    in_repo(&home, repo.path(), &["catalog", "trust", "pgconn.yaml"]).success();
    in_repo(&home, repo.path(), &["url", "app"]).success();
    let untrust = in_repo(&home, repo.path(), &["catalog", "untrust"]);
    assert!(untrust.success().contains("untrusted"), "{untrust:#?}");
    in_repo(&home, repo.path(), &["url", "app"]).fails_with(2, &["is not trusted"]);
}

#[test]
fn trust_is_per_user_and_per_path() {
    let (alice, bob) = (Scratch::new(), Scratch::new());
    let repo = Scratch::new();
    let clone = Scratch::new();
    let marker = repo.path().join("ran");
    let text = hostile_catalog(&marker, 9);
    repo.write("pgconn.yaml", &text);
    clone.write("pgconn.yaml", &text);
    in_repo(&alice, repo.path(), &["catalog", "trust"]).success();
    in_repo(&alice, repo.path(), &["url", "app"]).success();
    in_repo(&bob, repo.path(), &["url", "app"]).fails_with(2, &["is not trusted"]);
    in_repo(&alice, clone.path(), &["url", "app"]).fails_with(2, &["is not trusted"]);
}

#[test]
fn catalogs_others_could_write_are_refused_wherever_they_are() {
    let home = Scratch::new();
    let dir = home.path().join(".config/pgconn");
    std::fs::create_dir_all(&dir).unwrap();
    let catalog = dir.join("catalog.yaml");
    std::fs::write(
        &catalog,
        "version: 1\ndomain: example.test\nclusters:\n  app:\n    endpoints: { write: {} }\n",
    )
    .unwrap();
    let set_mode = |mode| std::fs::set_permissions(&catalog, std::fs::Permissions::from_mode(mode));
    set_mode(0o664).unwrap();
    let elsewhere = Scratch::new();
    for args in [
        &["ls"][..],
        &["url", "app", "--no-password"],
        &["catalog", "validate"],
    ] {
        Pgconn::new(args)
            .user_in(home.path())
            .current_dir(elsewhere.path())
            .run()
            .fails_with(2, &["writable by group", "chmod go-w"]);
    }
    Pgconn::new(&["ls"])
        .user_in(home.path())
        .args(["--catalog"])
        .args([&catalog])
        .run()
        .fails_with(2, &["writable by group", "chmod go-w"]);
    set_mode(0o646).unwrap();
    Pgconn::new(&["ls"])
        .user_in(home.path())
        .current_dir(elsewhere.path())
        .run()
        .fails_with(2, &["writable by others"]);
    set_mode(0o644).unwrap();
    Pgconn::new(&["ls"])
        .user_in(home.path())
        .current_dir(elsewhere.path())
        .run()
        .success();
}

#[test]
fn completion_never_reads_an_untrusted_catalog() {
    let home = Scratch::new();
    let repo = Scratch::new();
    repo.write("pgconn.yaml", &hostile_catalog(&repo.path().join("x"), 9));
    let complete = || {
        Pgconn::new(&["--", "pgconn", "url", ""])
            .user_in(home.path())
            .current_dir(repo.path())
            .env("COMPLETE", "zsh")
            .env("_CLAP_COMPLETE_INDEX", "2")
            .env("_CLAP_IFS", "\n")
            .run()
    };
    let before = complete();
    assert!(!before.success().contains("app"), "{before:#?}");
    in_repo(&home, repo.path(), &["catalog", "trust"]).success();
    let after = complete();
    assert!(after.success().contains("app"), "{after:#?}");
}

#[test]
fn describing_an_untrusted_catalog_fetches_none_of_its_remote_includes() {
    let home = Scratch::new();
    let repo = Scratch::new();
    let listener = Listener::start();
    let include = format!("https://127.0.0.1:{}/org.yaml", listener.port);
    repo.write(
        "pgconn.yaml",
        &format!("version: 1\ninclude: [\"{include}\", \"k8s:platform/pgconn-catalog\"]\n"),
    );
    for args in [
        &["ls"][..],
        &["show", "app"],
        &["url", "app", "--no-password"],
        &["catalog", "validate"],
        &["catalog", "path", "-v"],
    ] {
        // each says the include was not fetched (nothing to describe without it)
        in_repo(&home, repo.path(), args).fails_with(2, &["not fetched"]);
    }
    in_repo(&home, repo.path(), &["ls"])
        .fails_with(2, &[&include, "not fetched", "pgconn catalog trust"]);
    in_repo(
        &home,
        repo.path(),
        &["explain", "FATAL: password authentication failed"],
    )
    .success();
    assert_eq!(
        listener.accepted(),
        0,
        "an untrusted catalog made pgconn connect to its include"
    );
}
