//! The committed completions and man pages are what the clap definitions
//! generate now. Regenerate with:
//! `PGCONN_REGENERATE=1 cargo test --test integration generated::`

use std::path::Path;

use crate::support::cli::{pgconn, repo, run, stdout};

const REGENERATE: &str = "PGCONN_REGENERATE=1 cargo test --test integration generated::";

/// Completion script file per shell, as each shell's conventions name them.
const COMPLETIONS: &[(&str, &str)] = &[
    ("bash", "pgconn.bash"),
    ("zsh", "_pgconn"),
    ("fish", "pgconn.fish"),
    ("powershell", "_pgconn.ps1"),
    ("elvish", "pgconn.elv"),
];

fn check_or_write(path: &Path, generated: &str, stale: &mut Vec<String>) {
    if std::env::var_os("PGCONN_REGENERATE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != generated {
        stale.push(
            path.strip_prefix(repo())
                .unwrap_or(path)
                .display()
                .to_string(),
        );
    }
}

#[test]
fn committed_completions_match_the_binary() {
    let mut stale = Vec::new();
    for (shell, file) in COMPLETIONS {
        let out = run(&mut pgconn(&["completions", shell]));
        assert_eq!(out.status.code(), Some(0), "{shell}");
        check_or_write(
            &repo().join("completions").join(file),
            &stdout(&out),
            &mut stale,
        );
    }
    assert!(
        stale.is_empty(),
        "stale: {stale:?}; regenerate with `{REGENERATE}`"
    );
}

#[test]
fn committed_man_pages_match_the_binary() {
    let pages = pgconn::commands::man::pages().unwrap();
    assert!(pages.iter().any(|p| p.file == "pgconn-url.1"));
    let mut stale = Vec::new();
    for page in &pages {
        check_or_write(&repo().join("man").join(&page.file), &page.roff, &mut stale);
    }
    assert!(
        stale.is_empty(),
        "stale: {stale:?}; regenerate with `{REGENERATE}`"
    );
    // And the binary prints the same pages.
    let out = run(&mut pgconn(&["man", "url"]));
    assert_eq!(
        stdout(&out),
        std::fs::read_to_string(repo().join("man/pgconn-url.1")).unwrap()
    );
    let out = run(&mut pgconn(&["man", "catalog", "validate"]));
    assert!(stdout(&out).contains("pgconn\\-catalog\\-validate"));
}
