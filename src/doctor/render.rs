//! Human output of a doctor report: one block per endpoint, endpoints with
//! failures first, failures first within a block with their hint; details
//! of passing checks only with `-v`. All text in a report is already
//! sanitised.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Check, EndpointReport, Report, Status};
use crate::output::Style;

/// Renders the report.
pub fn human(report: &Report, style: Style, verbose: bool, took: Duration) -> String {
    let mut out = String::new();
    let mut endpoints: Vec<&EndpointReport> = report.endpoints.iter().collect();
    endpoints.sort_by_key(|e| e.worst());
    for e in &endpoints {
        block(&mut out, e, style, verbose);
        out.push('\n');
    }
    footer(&mut out, report, &endpoints, took);
    out
}

fn mark(status: Status, style: Style) -> String {
    let text = format!("{:<4}", status.as_str());
    match status {
        Status::Fail => style.error(&text),
        Status::Warn => style.warning(&text),
        Status::Ok | Status::Skip => text,
    }
}

fn block(out: &mut String, e: &EndpointReport, style: Style, verbose: bool) {
    let _ = writeln!(
        out,
        "{} {} {}  {}:{}",
        mark(e.worst(), style),
        e.cluster,
        e.role,
        e.host,
        e.port
    );
    let mut checks: Vec<&Check> = e.checks.iter().collect();
    // failures and warnings first, the rest in layer order
    checks.sort_by_key(|c| match c.status {
        Status::Fail => 0,
        Status::Warn => 1,
        Status::Ok | Status::Skip => 2,
    });
    for c in checks {
        let _ = writeln!(
            out,
            "    {} {:<14} {}",
            mark(c.status, style),
            c.id,
            c.summary
        );
        let loud = matches!(c.status, Status::Fail | Status::Warn);
        if !c.detail.is_empty() && (loud || verbose) {
            let _ = writeln!(out, "{:24}{}", "", c.detail);
        }
        if !c.hint.is_empty() && (loud || verbose) {
            let _ = writeln!(out, "{:24}{} {}", "", style.hint("hint:"), c.hint);
        }
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
