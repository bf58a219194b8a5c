//! `pgconn explain`: classify an error message (argument or stdin) with
//! the shared knowledge base; with a catalog at hand, name the endpoint to
//! use instead. Works without a catalog.

use std::io::{IsTerminal, Read};

use serde::Serialize;

use super::Context;
use crate::catalog;
use crate::cli::ExplainArgs;
use crate::error::{Error, Exit};
use crate::knowledge::{self, Category, sanitize};
use crate::output;

/// The `--json` document of the CLI contract.
#[derive(Debug, Serialize)]
struct Explained {
    category: Category,
    summary: String,
    hint: String,
}

/// Runs `explain`.
pub fn run(ctx: &Context, args: &ExplainArgs) -> Result<Exit, Error> {
    let style = ctx.out;
    let text = input(args)?;
    let diagnosis = knowledge::classify(&text, None);
    let mut hint = diagnosis.hint.clone();
    if let Some(catalog) = quiet_catalog(ctx)
        && let Some(advice) = knowledge::advice::advise(&diagnosis, &text, &catalog)
    {
        hint = format!("{hint}. Here: {advice}");
    }
    let explained = Explained {
        category: diagnosis.category,
        summary: sanitize(&diagnosis.summary),
        hint: sanitize(&hint),
    };
    if args.json {
        output::json(&explained)?;
    } else {
        output::line(&format!("{}: {}", explained.category, explained.summary))?;
        output::line(&format!("{} {}", style.hint("hint:"), explained.hint))?;
    }
    Ok(Exit::Success)
}

/// The catalog when one is found and valid; explain never fails for want of one.
fn quiet_catalog(ctx: &Context) -> Option<catalog::Catalog> {
    ctx.open(catalog::Purpose::Describe).ok().map(|o| o.catalog)
}

/// The message: the arguments, or stdin for `-` or when none are given and
/// stdin is not a terminal.
fn input(args: &ExplainArgs) -> Result<String, Error> {
    let joined = args.text.join(" ");
    let from_stdin = joined == "-" || (args.text.is_empty() && !std::io::stdin().is_terminal());
    let text = if from_stdin {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(1 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| Error::Io {
                context: "reading the message from stdin".into(),
                source: e,
            })?;
        String::from_utf8_lossy(&buf).into_owned()
    } else {
        joined
    };
    if text.trim().is_empty() {
        return Err(Error::usage(
            "no message to explain",
            "pass the error text, e.g. `pgconn explain 'FATAL: password authentication failed'`, or pipe it: `cmd 2>&1 | pgconn explain -`",
        ));
    }
    Ok(text)
}
