//! Bad input never panics the catalog reader: every truncation of the good
//! catalogs, and every position replaced by YAML/TOML/JSON's special
//! characters, gives a catalog or an error — never a panic.

use std::path::Path;

use crate::support::cli::{bin, repo};

const SPECIALS: &[char] = &[
    ':', '{', '}', '[', ']', '&', '*', '!', '"', '\'', '\t', '\n', '#', '-', '\\', '\0', '<', '=',
    '.',
];

fn check_all_mutations(name: &str) {
    let path = repo().join("tests/catalogs/good").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let as_if = Path::new("/nonexistent").join(name);
    let boundaries: Vec<usize> = (0..=text.len())
        .filter(|i| text.is_char_boundary(*i))
        .collect();
    let mut checked = 0;
    for &end in &boundaries {
        let _ = pgconn::catalog::load_str(&as_if, &text[..end]);
        checked += 1;
    }
    for window in boundaries.windows(2) {
        let (start, end) = (window[0], window[1]);
        for special in SPECIALS {
            let mutated = format!("{}{special}{}", &text[..start], &text[end..]);
            let _ = pgconn::catalog::load_str(&as_if, &mutated);
            checked += 1;
        }
    }
    assert!(checked > text.len() * SPECIALS.len(), "{name}: {checked}");
}

#[test]
fn yaml_mutations_never_panic() {
    check_all_mutations("contract.yaml");
}

#[test]
fn toml_mutations_never_panic() {
    check_all_mutations("contract.toml");
}

#[test]
fn json_mutations_never_panic() {
    check_all_mutations("contract.json");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let cases = [
        (
            "deep.yaml",
            format!("version: 1\nclusters: {}", "[".repeat(depth)),
        ),
        (
            "deep.json",
            format!(
                "{{\"clusters\": {}{}}}",
                "[".repeat(depth),
                "]".repeat(depth)
            ),
        ),
        (
            "deep.toml",
            format!("x = {}{}", "[".repeat(depth), "]".repeat(depth)),
        ),
    ];
    for (name, text) in cases {
        let result = pgconn::catalog::load_str(&Path::new("/nonexistent").join(name), &text);
        assert!(result.is_err(), "{name} is not a valid catalog");
    }
}

/// About 500 bytes of YAML whose aliases expand to 9^9 (387 million) nodes.
pub const BILLION_LAUGHS: &str = "version: 1
a: &a [x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
clusters: {}
";

/// Runs `pgconn ARGS` in `dir` with its address space capped at 1 GiB, so an
/// unbounded expansion fails the test instead of swapping the machine.
pub fn pgconn_with_memory_cap(dir: &Path, args: &str) -> std::process::Output {
    std::process::Command::new("sh")
        .args([
            "-c",
            &format!("ulimit -v 1048576; exec \"$0\" {args}"),
            bin(),
        ])
        .current_dir(dir)
        .env_remove("PGCONN_CATALOG")
        .output()
        .expect("sh runs")
}

#[test]
fn a_billion_laughs_is_a_clear_exit_2_naming_the_alias_and_line() {
    assert!(BILLION_LAUGHS.len() < 600);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pgconn.yaml");
    std::fs::write(&file, BILLION_LAUGHS).unwrap();
    let out = pgconn_with_memory_cap(dir.path(), "ls");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    // 9^6 nodes pass the cap first while line 7 (`f:`) expands `*e`
    assert!(
        err.contains(&format!("{}:7:", file.display())) && err.contains("alias `*e`"),
        "{err}"
    );
    assert!(err.contains("billion laughs"), "{err}");
}

#[test]
fn many_alias_uses_are_capped_with_the_alias_named() {
    let uses = "*u, ".repeat(20_000);
    let text = format!("version: 1\nu: &u x\nv: [{uses}]\nclusters: {{}}\n");
    let err = pgconn::catalog::load_str(Path::new("/x/c.yaml"), &text)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/x/c.yaml:3:") && err.contains("too many alias uses") && err.contains("`*u`"),
        "{err}"
    );
}

#[test]
fn ordinary_aliases_and_merge_keys_still_read() {
    let text = "version: 1
domain: example.org
sslmode: verify-full
sslrootcert: system
x-creds: &creds
  roles: [write]
  credentials: [{env: {var: DB_PASSWORD}}]
clusters:
  a:
    port: 5432
    endpoints: {write: {}}
    users:
      app: *creds
  b:
    port: 5433
    endpoints: {write: {}}
    users:
      app:
        <<: *creds
";
    let loaded = pgconn::catalog::load_str(Path::new("/x/c.yaml"), text);
    assert!(loaded.is_ok(), "{}", loaded.unwrap_err());
}

#[test]
fn a_catalog_past_the_size_cap_is_refused_without_reading_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pgconn.yaml");
    let size = pgconn::catalog::MAX_BYTES + 1;
    std::fs::File::create(&file).unwrap().set_len(size).unwrap();
    let out = pgconn_with_memory_cap(dir.path(), "ls");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is larger than 16 MiB"), "{err}");
}
