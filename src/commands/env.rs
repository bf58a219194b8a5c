//! `pgconn env`: the endpoint's environment in a shell, `.env`, GitHub
//! Actions or JSON form.

use std::io::Write as _;

use super::{Context, Needs, connect};
use crate::cli::EnvArgs;
use crate::connstr::url::component;
use crate::error::{Error, Exit};
use crate::output;
use crate::pgenv::{self, Include};
use crate::shellenv::{self, EnvFormat, GithubEnv, delimiter_for};

/// Runs `env`.
pub fn run(ctx: &Context, args: &EnvArgs) -> Result<Exit, Error> {
    super::check_prefix(args.prefix.as_deref())?;
    let needs = Needs::unless_no_password(args.pin_ip, args.no_password);
    let catalog = ctx.catalog_for(needs)?;
    let conn = connect(ctx, &catalog, &args.target, needs)?;
    let params = conn.params();
    let include = Include {
        password: true,
        url: true,
        prefix: args.prefix.as_deref(),
    };
    let vars = pgenv::variables(&params, include);
    match args.format {
        EnvFormat::Github => github(&vars, params.password.map(|p| component(p.expose()))),
        format => {
            let text = shellenv::render(format, &vars).map_err(|refusal| {
                Error::usage(
                    refusal.to_string(),
                    "use --format sh or json, or a password without these characters",
                )
            })?;
            output::stdout(&text)?;
            Ok(Exit::Success)
        }
    }
}

/// Appends to `$GITHUB_ENV` and prints the masks.
fn github(vars: &[pgenv::Var], encoded_password: Option<String>) -> Result<Exit, Error> {
    let path = std::env::var_os("GITHUB_ENV").filter(|p| !p.is_empty()).ok_or_else(|| {
        Error::usage(
            "$GITHUB_ENV is not set",
            "--format github runs inside a GitHub Actions step; elsewhere use --format sh or dotenv",
        )
    })?;
    let gh = GithubEnv::new(vars, &delimiter_for(vars));
    let io_error = |source| Error::Io {
        context: format!("appending to {}", std::path::Path::new(&path).display()),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(io_error)?;
    file.write_all(gh.file.as_bytes()).map_err(io_error)?;
    let mut masks = gh.masks;
    if let Some(encoded) = encoded_password {
        masks.push_str("::add-mask::");
        masks.push_str(&encoded.replace('%', "%25"));
        masks.push('\n');
    }
    output::stdout(&masks)?;
    Ok(Exit::Success)
}
