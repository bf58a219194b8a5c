//! Human output of a doctor report, compact: one line per healthy
//! endpoint; endpoints with failures, then with warnings, in full (loud
//! checks first with their detail and hint, then the passing ones, skipped
//! checks folded into one line per reason). `-v` shows every endpoint in
//! full, every check on its own line with its detail and hint. All text in
//! a report is already sanitised.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Check, EndpointReport, Report, Status};
use crate::output::Style;

/// Where a check's detail and hint lines start.
const INDENT: usize = 24;

/// Renders the report.
pub fn human(report: &Report, style: Style, verbose: bool, took: Duration) -> String {
    let mut out = String::new();
    let mut endpoints: Vec<&EndpointReport> = report.endpoints.iter().collect();
    endpoints.sort_by_key(|e| e.worst());
    let mut last_was_block = false;
    for e in &endpoints {
        let full = verbose || e.worst() != Status::Ok;
        if full || last_was_block {
            out.push('\n');
        }
        heading(&mut out, e, style);
        if full {
            block(&mut out, e, style, verbose);
        }
        last_was_block = full;
    }
    out.push('\n');
    footer(&mut out, report, &endpoints, took);
    out.trim_start_matches('\n').to_string()
}

fn mark(status: Status, style: Style) -> String {
    let text = format!("{:<4}", status.as_str());
    match status {
        Status::Fail => style.error(&text),
        Status::Warn => style.warning(&text),
        Status::Ok | Status::Skip => text,
    }
}

fn heading(out: &mut String, e: &EndpointReport, style: Style) {
    let _ = writeln!(
        out,
        "{} {} {}  {}:{}",
        mark(e.worst(), style),
        e.cluster,
        e.role,
        e.host,
        e.port
    );
}

/// Every check of one endpoint: failures, warnings, the passing ones in
/// layer order, then the skips folded by reason (with -v: every check in
/// layer order after the loud ones).
fn block(out: &mut String, e: &EndpointReport, style: Style, verbose: bool) {
    // with -v the passing and skipped checks keep their layer order
    let rank = |c: &Check| match c.status {
        Status::Fail => 0,
        Status::Warn => 1,
        Status::Ok => 2,
        Status::Skip => 2 + u8::from(!verbose),
    };
    let mut checks: Vec<&Check> = e.checks.iter().collect();
    checks.sort_by_key(|c| rank(c));
    let mut folded: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in checks {
        if c.status == Status::Skip && !verbose {
            match folded.iter_mut().find(|(why, _)| *why == c.summary) {
                Some((_, ids)) => ids.push(c.id.as_str()),
                None => folded.push((&c.summary, vec![c.id.as_str()])),
            }
            continue;
        }
        line(out, c, style, verbose);
    }
    for (why, ids) in folded {
        let _ = writeln!(
            out,
            "    {} {why} ({})",
            mark(Status::Skip, style),
            ids.join(", ")
        );
    }
}

fn line(out: &mut String, c: &Check, style: Style, verbose: bool) {
    let _ = writeln!(
        out,
        "    {} {:<14} {}",
        mark(c.status, style),
        c.id,
        c.summary
    );
    let loud = matches!(c.status, Status::Fail | Status::Warn);
    if !c.detail.is_empty() && (loud || verbose) {
        let _ = writeln!(out, "{:INDENT$}{}", "", c.detail);
    }
    if !c.hint.is_empty() && (loud || verbose) {
        let _ = writeln!(out, "{:INDENT$}{} {}", "", style.hint("hint:"), c.hint);
    }
}

fn footer(out: &mut String, report: &Report, endpoints: &[&EndpointReport], took: Duration) {
    let count = |s: Status| endpoints.iter().filter(|e| e.worst() == s).count();
    let client = &report.client;
    let _ = writeln!(
        out,
        "egress IP: {} ({}); libpq: {}",
        client.egress_ip.as_deref().unwrap_or("unknown"),
        client.egress_source,
        client.libpq_version.as_deref().unwrap_or("not found")
    );
    let _ = writeln!(
        out,
        "{} endpoint(s): {} failing, {} with warnings, {} ok ({:.1} s)",
        endpoints.len(),
        count(Status::Fail),
        count(Status::Warn),
        count(Status::Ok),
        took.as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::human;
    use crate::catalog::Role;
    use crate::doctor::{Check, CheckId, Client, EndpointReport, Report};
    use crate::output::Style;
    use std::time::Duration;

    fn endpoint(cluster: &str, checks: Vec<Check>) -> EndpointReport {
        EndpointReport {
            cluster: cluster.into(),
            role: Role::Write,
            host: format!("{cluster}.example"),
            port: 5432,
            checks,
        }
    }

    fn healthy(cluster: &str) -> EndpointReport {
        let checks = CheckId::ALL
            .iter()
            .map(|id| Check::ok(*id, "fine").detail("more").hint("advice"))
            .collect();
        endpoint(cluster, checks)
    }

    fn report(endpoints: Vec<EndpointReport>) -> Report {
        Report {
            schema_version: 1,
            ok: true,
            client: Client {
                egress_ip: None,
                egress_source: "unknown".into(),
                libpq_version: None,
            },
            endpoints,
        }
    }

    #[test]
    fn healthy_endpoints_take_one_line_each() {
        let r = report((0..5).map(|i| healthy(&format!("c{i}"))).collect());
        let text = human(&r, Style::plain(), false, Duration::ZERO);
        assert_eq!(text.lines().count(), 8, "{text}");
        assert!(
            text.starts_with("ok   c0 write  c0.example:5432\nok   c1 write"),
            "{text}"
        );
        assert!(!text.contains("advice"), "{text}");
        let verbose = human(&r, Style::plain(), true, Duration::ZERO);
        assert!(
            verbose.matches("hint: advice").count() == 5 * CheckId::ALL.len(),
            "{verbose}"
        );
    }

    #[test]
    fn failures_come_first_in_full_with_skips_folded() {
        let mut broken = vec![
            Check::ok(CheckId::Dns, "resolves"),
            Check::fail(CheckId::Tcp, "refused").hint("start it"),
        ];
        broken.extend(
            CheckId::ALL[3..]
                .iter()
                .map(|id| Check::skip(*id, "not checked: tcp failed")),
        );
        let r = report(vec![healthy("good"), endpoint("bad", broken)]);
        let text = human(&r, Style::plain(), false, Duration::ZERO);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "fail bad write  bad.example:5432", "{text}");
        assert!(lines[1].contains("fail tcp"), "{text}");
        assert!(lines[2].contains("hint: start it"), "{text}");
        assert!(lines[3].contains("ok   dns"), "{text}");
        assert_eq!(
            lines[4],
            "    skip not checked: tcp failed (tls.negotiate, tls.chain, tls.hostname, tls.expiry, auth, routing, pooler, lag)"
        );
        assert_eq!(lines[5], "");
        assert_eq!(lines[6], "ok   good write  good.example:5432");
    }
}
