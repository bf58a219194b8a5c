//! `pgconn env` output formats, one file each. Every format must survive any
//! password: quotes, `$`, backticks, backslashes, newlines, non-ASCII.

mod dotenv;
mod fish;
mod github;
mod json;
mod powershell;
mod sh;

use crate::pgenv::Var;

pub use dotenv::Refusal as DotenvRefusal;
pub use github::{GithubEnv, delimiter_for};

crate::vocabulary! {
    /// The `--format` values of `pgconn env`.
    pub enum EnvFormat {
        /// POSIX shells: bash, dash, zsh (`eval "$(pgconn env …)"`).
        Sh => "sh",
        /// fish (`pgconn env … --format fish | source`).
        Fish => "fish",
        /// PowerShell (`pgconn env … --format powershell | Invoke-Expression`).
        Powershell => "powershell",
        /// A `.env` file.
        Dotenv => "dotenv",
        /// GitHub Actions: appended to `$GITHUB_ENV`, masks on stdout.
        Github => "github",
        /// A JSON object.
        Json => "json",
    }
}

impl EnvFormat {
    /// One line of help.
    pub fn description(self) -> &'static str {
        match self {
            EnvFormat::Sh => "export lines for bash, dash and zsh: eval \"$(pgconn env …)\"",
            EnvFormat::Fish => "set -gx lines for fish",
            EnvFormat::Powershell => "$env: assignments for PowerShell",
            EnvFormat::Dotenv => {
                "a .env file read back exactly by python-dotenv, Docker Compose and the dotenv npm package (or a refusal naming the character)"
            }
            EnvFormat::Github => "append to $GITHUB_ENV and mask the password",
            EnvFormat::Json => "a JSON object",
        }
    }
}

/// One line per variable, built by `line(name, value)`.
fn lines(vars: &[Var], line: impl Fn(&str, &str) -> String) -> String {
    vars.iter().fold(String::new(), |mut out, v| {
        out.push_str(&line(&v.name, v.value.expose()));
        out.push('\n');
        out
    })
}

/// Renders `vars` for stdout (every format but `github`, which has its own
/// type). Only `dotenv` can refuse a value.
pub fn render(format: EnvFormat, vars: &[Var]) -> Result<String, DotenvRefusal> {
    Ok(match format {
        EnvFormat::Sh => sh::render(vars),
        EnvFormat::Fish => fish::render(vars),
        EnvFormat::Powershell => powershell::render(vars),
        EnvFormat::Dotenv => dotenv::render(vars)?,
        EnvFormat::Json => json::render(vars),
        EnvFormat::Github => GithubEnv::new(vars, &delimiter_for(vars)).masks,
    })
}
