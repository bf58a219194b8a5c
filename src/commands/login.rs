//! `pgconn login` / `pgconn logout`: store the endpoint user's password in
//! the OS keyring (the entry the `keyring` source reads: the user's own
//! `keyring` source's service and account, else `pgconn` and
//! `<cluster>/<user>`), and remove it again, together with cached answers
//! and the leases of dynamic Vault credentials.

use std::io::{BufRead, IsTerminal};

use super::{Context, select};
use crate::catalog::SourceSpec;
use crate::cli::{LoginArgs, LogoutArgs};
use crate::credentials::keyring::{self, Choice};
use crate::credentials::{self, CredentialError, Secret};
use crate::error::{Error, Exit};
use crate::output;
use crate::target::Target;

fn keyring_error(message: String) -> Error {
    Error::Credential(CredentialError::Keyring(message))
}

fn choice() -> Result<Choice, Error> {
    Choice::from_env().map_err(keyring_error)
}

/// Whether the target's chain reads the keyring at all.
fn chain_reads_keyring(target: &Target<'_>) -> bool {
    target.sources.is_none_or(|specs| {
        specs
            .iter()
            .any(|s| matches!(s, SourceSpec::Keyring { .. }))
    })
}

fn read_password(args: &LoginArgs, question: &str) -> Result<Secret, Error> {
    let value = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|source| Error::Io {
                context: "reading the password from stdin".into(),
                source,
            })?;
        let trimmed = line
            .strip_suffix("\r\n")
            .or_else(|| line.strip_suffix('\n'))
            .unwrap_or(&line)
            .to_string();
        line.clear();
        trimmed
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        dialoguer::Password::new()
            .with_prompt(question)
            .allow_empty_password(false)
            .interact()
            .map_err(|e| keyring_error(format!("the prompt failed: {e}")))?
    } else {
        return Err(Error::usage(
            "no terminal to ask for the password on",
            "pipe it in with --password-stdin, e.g. `printf %s \"$PW\" | pgconn login CLUSTER --password-stdin`",
        ));
    };
    if value.is_empty() {
        return Err(Error::usage(
            "the password is empty",
            "give the password on stdin (one line) or at the prompt",
        ));
    }
    Ok(Secret::new(value))
}

/// Runs `login`.
pub fn login(ctx: &Context, args: &LoginArgs) -> Result<Exit, Error> {
    let style = ctx.err;
    let catalog = ctx.catalog()?;
    let target = select(&catalog, &args.target)?;
    let choice = choice()?;
    let (service, account) = credentials::keyring_entry(&target);
    let (store, note) = keyring::login_store(choice).map_err(keyring_error)?;
    let password = read_password(
        args,
        &format!("Password for {} on {}", target.user, target.cluster.name),
    )?;
    let endpoints: Vec<(String, u16)> = target
        .cluster
        .endpoints
        .iter()
        .map(|e| (e.host.clone(), e.port))
        .collect();
    let value = keyring::bind(&endpoints, &password);
    store.set(&service, &account, &value).map_err(|e| {
        keyring_error(format!(
            "cannot store the password in {} (service {service}, account {account}): {e}",
            store.name()
        ))
    })?;
    credentials::invalidate(&target, &ctx.credentials(&catalog));
    output::note(
        style,
        &format!(
            "stored the password of {} on {} in {} (service {service}, account {account})",
            target.user,
            target.cluster.name,
            store.name()
        ),
    );
    if let Some(note) = note {
        output::note(style, &note);
    }
    if !chain_reads_keyring(&target) {
        output::warning(
            style,
            &format!(
                "the catalog's credentials of {} do not include `keyring`, so this entry is not read; add `- keyring: {{}}` to them",
                target.user
            ),
        );
    }
    Ok(Exit::Success)
}

/// Runs `logout`.
pub fn logout(ctx: &Context, args: &LogoutArgs) -> Result<Exit, Error> {
    let style = ctx.err;
    let catalog = ctx.catalog()?;
    let target = select(&catalog, &args.target)?;
    let choice = choice()?;
    if choice == Choice::None {
        return Err(keyring_error(
            "PGCONN_KEYRING=none: no keyring (and no cache) to remove anything from".into(),
        ));
    }
    let settings = ctx.credentials(&catalog);
    let mut failed = false;
    for line in credentials::revoke_cached(&target, &settings) {
        failed |= line.starts_with("could not");
        output::note(style, &line);
    }
    let (service, account) = credentials::keyring_entry(&target);
    let (stores, unavailable) = keyring::read_stores(choice);
    let mut removed = false;
    for store in &stores {
        match store.delete(&service, &account) {
            Ok(true) => {
                removed = true;
                output::note(
                    style,
                    &format!(
                        "removed {} on {} from {} (service {service}, account {account})",
                        target.user,
                        target.cluster.name,
                        store.name()
                    ),
                );
            }
            Ok(false) => {}
            Err(e) => {
                failed = true;
                output::warning(style, &format!("{}: {e}", store.name()));
            }
        }
    }
    if !removed {
        output::note(
            style,
            &format!(
                "no stored password for {} on {} (service {service}, account {account})",
                target.user, target.cluster.name
            ),
        );
    }
    if ctx.verbose() {
        for why in unavailable {
            output::note(style, &why);
        }
    }
    Ok(if failed { Exit::Failure } else { Exit::Success })
}
