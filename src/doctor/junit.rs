//! `doctor --format junit`: the report as a `JUnit` XML test report, the
//! format CI systems (GitLab, Jenkins, GitHub test-report actions, Azure)
//! read. Valid against the common Jenkins/Surefire `JUnit` schema
//! (`tests/junit/junit.xsd` writes down the subset used):
//!
//! - `<testsuites>`: the whole run; `<testsuite name="cluster/role">` per
//!   endpoint, with `host`, `port` and `warnings` as `<properties>`;
//! - `<testcase classname="cluster/role" name="CHECK-ID">` per check;
//! - `fail` → `<failure message="summary" type="CHECK-ID">` with summary,
//!   detail and hint as its text; `skip` → `<skipped message="why"/>`;
//! - `warn` passes (a warning is not a failure: doctor exits 0) and says so in
//!   `<system-out>` starting with `warning:`, with the hint; `ok` checks tell
//!   their summary in `<system-out>` too.
//!
//! All text is already sanitised; here it is XML-escaped, and characters
//! XML 1.0 cannot carry are dropped.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Check, EndpointReport, Report, Status};

/// Renders the report; `took` is the whole run's time.
pub fn render(report: &Report, took: Duration) -> String {
    let count = |s: Status| {
        report
            .endpoints
            .iter()
            .flat_map(|e| &e.checks)
            .filter(|c| c.status == s)
            .count()
    };
    let tests: usize = report.endpoints.iter().map(|e| e.checks.len()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"pgconn doctor\" tests=\"{tests}\" failures=\"{}\" errors=\"0\" time=\"{:.3}\">",
        count(Status::Fail),
        took.as_secs_f64()
    );
    for endpoint in &report.endpoints {
        suite(&mut out, endpoint);
    }
    out.push_str("</testsuites>\n");
    out
}

fn suite(out: &mut String, e: &EndpointReport) {
    let name = attr(&format!("{}/{}", e.cluster, e.role));
    let count = |s: Status| e.checks.iter().filter(|c| c.status == s).count();
    let ms: u64 = e.checks.iter().map(|c| c.ms).sum();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\">",
        e.checks.len(),
        count(Status::Fail),
        count(Status::Skip),
        seconds(ms)
    );
    out.push_str("    <properties>\n");
    for (key, value) in [
        ("host", e.host.clone()),
        ("port", e.port.to_string()),
        ("warnings", count(Status::Warn).to_string()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{key}\" value=\"{}\"/>",
            attr(&value)
        );
    }
    out.push_str("    </properties>\n");
    for check in &e.checks {
        case(out, &name, check);
    }
    out.push_str("  </testsuite>\n");
}

fn case(out: &mut String, classname: &str, c: &Check) {
    let _ = write!(
        out,
        "    <testcase classname=\"{classname}\" name=\"{}\" time=\"{}\">",
        attr(c.id.as_str()),
        seconds(c.ms)
    );
    match c.status {
        Status::Fail => {
            let _ = write!(
                out,
                "\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    ",
                attr(&c.summary),
                attr(c.id.as_str()),
                text(&explained(c, ""))
            );
        }
        Status::Skip => {
            let _ = write!(
                out,
                "\n      <skipped message=\"{}\"/>\n    ",
                attr(&c.summary)
            );
        }
        Status::Warn => {
            let _ = write!(
                out,
                "\n      <system-out>{}</system-out>\n    ",
                text(&explained(c, "warning: "))
            );
        }
        Status::Ok => {
            let _ = write!(
                out,
                "\n      <system-out>{}</system-out>\n    ",
                text(&explained(c, "ok: "))
            );
        }
    }
    out.push_str("</testcase>\n");
}

/// Summary, detail and hint, one per line.
fn explained(c: &Check, prefix: &str) -> String {
    let mut s = format!("{prefix}{}", c.summary);
    if !c.detail.is_empty() {
        let _ = write!(s, "\n{}", c.detail);
    }
    if !c.hint.is_empty() {
        let _ = write!(s, "\nhint: {}", c.hint);
    }
    s
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Whether XML 1.0 can carry the character at all.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Element text: `&`, `<`, `>` escaped.
fn text(s: &str) -> String {
    escape(s, false)
}

/// An attribute value in double quotes: also `"`, `'`, and whitespace a
/// parser would otherwise normalise to spaces.
fn attr(s: &str) -> String {
    escape(s, true)
}

/// Characters XML cannot carry dropped, markup escaped (more in attributes).
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|c| xml_char(*c)) {
        match (c, attribute) {
            ('&', _) => out.push_str("&amp;"),
            ('<', _) => out.push_str("&lt;"),
            ('>', _) => out.push_str("&gt;"),
            ('"', true) => out.push_str("&quot;"),
            ('\'', true) => out.push_str("&apos;"),
            ('\n', true) => out.push_str("&#10;"),
            ('\r', true) => out.push_str("&#13;"),
            ('\t', true) => out.push_str("&#9;"),
            (c, _) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{attr, render, text};
    use crate::catalog::Role;
    use crate::doctor::{Check, CheckId, Client, EndpointReport, Report};
    use std::time::Duration;

    fn report() -> Report {
        let mut failed = Check::fail(CheckId::Tcp, "refused by <10.0.0.1> & \"friends\"")
            .hint("start the 'pooler'");
        failed.ms = 1234;
        Report {
            schema_version: 1,
            ok: false,
            client: Client {
                egress_ip: None,
                egress_source: "unknown".into(),
                libpq_version: None,
            },
            endpoints: vec![EndpointReport {
                cluster: "db".into(),
                role: Role::Write,
                host: "db-write.example".into(),
                port: 5432,
                checks: vec![
                    Check::ok(CheckId::Dns, "resolves"),
                    failed,
                    Check::warn(CheckId::Allowlist, "egress IP unknown").hint("pass --egress-ip"),
                    Check::skip(CheckId::Auth, "not checked: tcp failed"),
                ],
            }],
        }
    }

    #[test]
    fn one_suite_per_endpoint_one_case_per_check() {
        let xml = render(&report(), Duration::from_millis(1500));
        assert!(xml.contains(r#"<testsuites name="pgconn doctor" tests="4" failures="1" errors="0" time="1.500">"#), "{xml}");
        assert!(xml.contains(r#"<testsuite name="db/write" tests="4" failures="1" errors="0" skipped="1" time="1.234">"#), "{xml}");
        assert!(
            xml.contains(r#"<property name="warnings" value="1"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase classname="db/write" name="tcp" time="1.234">"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<failure message="refused by &lt;10.0.0.1&gt; &amp; &quot;friends&quot;" type="tcp">refused by &lt;10.0.0.1&gt; &amp; "friends"
hint: start the 'pooler'</failure>"#), "{xml}");
        assert!(
            xml.contains(
                "<system-out>warning: egress IP unknown\nhint: pass --egress-ip</system-out>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<skipped message="not checked: tcp failed"/>"#),
            "{xml}"
        );
    }

    #[test]
    fn escaping_drops_what_xml_cannot_carry() {
        assert_eq!(text("a\u{0}b\u{1b}c\u{FFFE}"), "abc");
        assert_eq!(attr("x\ny\t'"), "x&#10;y&#9;&apos;");
    }
}
