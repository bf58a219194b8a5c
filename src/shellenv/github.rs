//! GitHub Actions: each variable appended to `$GITHUB_ENV` as
//! `NAME<<DELIMITER`, value, `DELIMITER` (multi-line safe; the delimiter is
//! random and checked against every value), and `::add-mask::` lines on
//! stdout for every line of every secret value, so the runner hides them.

use std::fmt::Write as _;

use crate::pgenv::Var;

/// What `env --format github` writes.
#[derive(Debug)]
pub struct GithubEnv {
    /// Text to append to `$GITHUB_ENV`.
    pub file: String,
    /// `::add-mask::` workflow commands for stdout.
    pub masks: String,
}

/// Escapes a workflow command's data (`%`, CR and LF).
fn command_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A delimiter that occurs in no value.
pub fn delimiter_for(vars: &[Var]) -> String {
    let mut seed = random_seed();
    loop {
        let candidate = format!("ghadelimiter_{seed:016x}");
        if vars.iter().all(|v| !v.value.expose().contains(&candidate)) {
            return candidate;
        }
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    }
}

fn random_seed() -> u64 {
    use std::io::Read as _;
    let mut bytes = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok()
    {
        return u64::from_le_bytes(bytes);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // Truncation is fine: any 64 bits of the clock make a seed.
    #[allow(clippy::cast_possible_truncation)]
    let low = nanos as u64;
    low ^ u64::from(std::process::id())
}

impl GithubEnv {
    /// Builds both parts with `delimiter`.
    pub fn new(vars: &[Var], delimiter: &str) -> Self {
        let mut file = String::new();
        let mut masks = String::new();
        for v in vars {
            let value = v.value.expose();
            let _ = write!(file, "{}<<{delimiter}\n{value}\n{delimiter}\n", v.name);
            if v.value.is_secret() {
                for line in value.lines().filter(|l| !l.trim().is_empty()) {
                    let _ = writeln!(masks, "::add-mask::{}", command_data(line));
                }
            }
        }
        GithubEnv { file, masks }
    }
}
