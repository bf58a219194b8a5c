//! Completion scripts work in the real shells: flags complete, and cluster
//! names come from the catalog (the one on the command line, or the usual
//! discovery).

use std::process::Command;

use crate::support::cli::{bin, repo, tool_available};

fn path_with_pgconn() -> String {
    let dir = std::path::Path::new(bin())
        .parent()
        .unwrap()
        .display()
        .to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

fn shell(program: &str, script: &str) -> String {
    let out = Command::new(program)
        .args(["-c", script])
        .current_dir(repo())
        .env("PATH", path_with_pgconn())
        .env("PGCONN_CATALOG", repo().join("examples/pgconn.yaml"))
        .output()
        .expect("shell runs");
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bash_completes_cluster_names_and_flags() {
    if !tool_available("bash") {
        return;
    }
    let script = r#"
        source completions/pgconn.bash
        complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_TYPE=9
            _clap_complete_pgconn pgconn "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\n' "${COMPREPLY[@]}"; }
        echo "--clusters"; complete_words pgconn url ""
        echo "--prefix"; complete_words pgconn url tem
        echo "--flag"; complete_words pgconn url temporal-db --pin
        echo "--other-catalog"; complete_words pgconn --catalog tests/catalogs/good/contract.toml show ""
    "#;
    let out = shell("bash", script);
    let section = |name: &str| -> Vec<&str> {
        out.split("--")
            .find(|s| s.starts_with(name))
            .unwrap_or("")
            .lines()
            .skip(1)
            .collect()
    };
    assert_eq!(
        section("clusters"),
        ["temporal-db", "platform-db", "applications-db"],
        "{out}"
    );
    assert_eq!(section("prefix"), ["temporal-db"], "{out}");
    assert!(out.contains("--pin-ip"), "{out}");
    assert_eq!(
        section("other-catalog"),
        ["temporal-db", "platform-db"],
        "{out}"
    );
}

#[test]
fn fish_completes_cluster_names_with_their_roles() {
    if !tool_available("fish") {
        return;
    }
    let out = shell(
        "fish",
        "source completions/pgconn.fish; complete -C 'pgconn url pla'",
    );
    assert_eq!(out.trim(), "platform-db\twrite, admin", "{out}");
    let out = shell(
        "fish",
        "source completions/pgconn.fish; complete -C 'pgconn url temporal-db --f'",
    );
    assert!(out.contains("--format"), "{out}");
}

#[test]
fn zsh_loads_the_script_and_the_binary_answers_its_protocol() {
    if !tool_available("zsh") {
        return;
    }
    shell(
        "zsh",
        "autoload -U compinit && compinit -u && source completions/_pgconn",
    );
    let out = Command::new(bin())
        .args(["--", "pgconn", "url", "app"])
        .env("COMPLETE", "zsh")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .env("_CLAP_IFS", "\n")
        .env("PGCONN_CATALOG", repo().join("examples/pgconn.yaml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.trim(), "applications-db:write, read, admin", "{text}");
}

/// Asks the binary for cluster-name completions (zsh protocol) from the
/// catalog `dir/pgconn.yaml`, named by `$PGCONN_CATALOG` (trusted by its
/// place, so what declines is the caps), with memory capped.
fn complete_in(dir: &std::path::Path) -> std::process::Output {
    Command::new("sh")
        .args([
            "-c",
            "ulimit -v 1048576; exec \"$0\" -- pgconn url ''",
            bin(),
        ])
        .current_dir(dir)
        .env("PGCONN_CATALOG", dir.join("pgconn.yaml"))
        .env("COMPLETE", "zsh")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .env("_CLAP_IFS", "\n")
        .output()
        .unwrap()
}

/// No cluster names among the candidates: only flags.
fn only_flags(out: &std::process::Output) -> bool {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .all(|l| l.starts_with("--"))
}

#[test]
fn completion_ignores_a_hostile_or_oversized_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("pgconn.yaml");
    let good = std::fs::read_to_string(repo().join("examples/pgconn.yaml")).unwrap();
    std::fs::write(&catalog, &good).unwrap();
    let out = complete_in(dir.path());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("temporal-db"),
        "the control case completes: {out:?}"
    );

    std::fs::write(&catalog, crate::catalog_robustness::BILLION_LAUGHS).unwrap();
    let out = complete_in(dir.path());
    assert!(out.status.success() && only_flags(&out), "{out:?}");

    // a valid catalog, padded past the completion cap with comments
    let padding = "# padding\n".repeat(120_000);
    std::fs::write(&catalog, format!("{good}{padding}")).unwrap();
    let out = complete_in(dir.path());
    assert!(out.status.success() && only_flags(&out), "{out:?}");
    let ls = crate::support::cli::run(
        crate::support::cli::pgconn(&["ls", "--catalog", catalog.to_str().unwrap()]).arg("--json"),
    );
    assert!(ls.status.success(), "commands still read it: {ls:?}");
}
