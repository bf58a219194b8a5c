//! Bad input never panics the catalog reader: every truncation of the good
//! catalogs, and every position replaced by YAML/TOML/JSON's special
//! characters, gives a catalog or an error — never a panic.

use std::path::Path;

use crate::support::cli::repo;

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
