//! `doctor --format github`: a GitHub Actions workflow command per failing
//! check (`::error title=…::…`) and per warning (`::warning title=…::…`),
//! so they show as annotations on the run, then the human report.
//!
//! Escaping follows the runner's rules (actions/toolkit `command.ts`): in
//! the message `%`, `\r`, `\n` become `%25`, `%0D`, `%0A`; in a property
//! value also `:` and `,` become `%3A`, `%2C`. The human report is wrapped
//! in `::stop-commands::TOKEN` … `::TOKEN::` with a random token, so no
//! server text in it can be taken for a workflow command.

use std::fmt::Write as _;

use super::backoff::random_u64;
use super::{Check, EndpointReport, Report, Status};

/// The annotations, then `human` with command processing stopped.
pub fn render(report: &Report, human: &str) -> String {
    let mut out = annotations(report);
    let token = format!("pgconn-{:016x}", random_u64());
    let _ = writeln!(out, "::stop-commands::{token}");
    out.push_str(human);
    if !human.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(out, "::{token}::");
    out
}

/// One workflow command per failing or warning check, in report order.
pub fn annotations(report: &Report) -> String {
    let mut out = String::new();
    for endpoint in &report.endpoints {
        for check in &endpoint.checks {
            let level = match check.status {
                Status::Fail => "error",
                Status::Warn => "warning",
                Status::Ok | Status::Skip => continue,
            };
            let _ = writeln!(
                out,
                "::{level} title={}::{}",
                property(&title(endpoint, check)),
                data(&message(check))
            );
        }
    }
    out
}

fn title(e: &EndpointReport, c: &Check) -> String {
    format!("pgconn doctor {}/{} {}", e.cluster, e.role, c.id)
}

fn message(c: &Check) -> String {
    let mut s = c.summary.clone();
    if !c.detail.is_empty() {
        let _ = write!(s, "\n{}", c.detail);
    }
    if !c.hint.is_empty() {
        let _ = write!(s, "\nhint: {}", c.hint);
    }
    s
}

/// A command's message.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::{data, property};

    #[test]
    fn escapes_as_the_runner_unescapes() {
        assert_eq!(
            data("100% done\r\nnext: a, b"),
            "100%25 done%0D%0Anext: a, b"
        );
        assert_eq!(property("db/write: tcp, 5%"), "db/write%3A tcp%2C 5%25");
    }
}
