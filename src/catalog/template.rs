//! The `hostname_template`: `{cluster}-{role}.{domain}` and friends.

use super::model::Role;

/// The template used when the catalog gives none.
pub const DEFAULT: &str = "{cluster}-{role}.{domain}";

const PLACEHOLDERS: &[&str] = &["cluster", "role", "domain", "namespace"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Placeholder(&'static str),
}

/// A parsed host name template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses a template; the error names the unknown or unclosed placeholder.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in host name template `{text}`"))?;
            let name = &after[..close];
            let known = PLACEHOLDERS
                .iter()
                .find(|p| **p == name)
                .ok_or_else(|| format!("unknown placeholder `{{{name}}}` in `{text}`"))?;
            pieces.push(Piece::Placeholder(known));
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("stray `}}` in host name template `{text}`"));
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template { pieces })
    }

    /// Renders the host for one endpoint; the error names a placeholder
    /// whose value is not set (`domain` or `namespace`).
    pub fn render(
        &self,
        cluster: &str,
        role: Role,
        domain: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<String, &'static str> {
        let mut host = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => host.push_str(t),
                Piece::Placeholder("cluster") => host.push_str(cluster),
                Piece::Placeholder("role") => host.push_str(role.as_str()),
                Piece::Placeholder("domain") => host.push_str(domain.ok_or("domain")?),
                Piece::Placeholder(_) => host.push_str(namespace.ok_or("namespace")?),
            }
        }
        Ok(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_template_renders_cluster_role_domain() {
        let t = Template::parse(DEFAULT).unwrap();
        assert_eq!(
            t.render("temporal-db", Role::Admin, Some("pnats.cloud"), None),
            Ok("temporal-db-admin.pnats.cloud".to_string())
        );
    }

    #[test]
    fn namespace_placeholder_needs_a_namespace() {
        let t = Template::parse("{cluster}.{namespace}.{domain}").unwrap();
        assert_eq!(
            t.render("a", Role::Write, Some("d"), None),
            Err("namespace")
        );
        assert_eq!(
            t.render("a", Role::Write, Some("d"), Some("ns")),
            Ok("a.ns.d".to_string())
        );
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_rejected() {
        assert!(
            Template::parse("{cluster}-{rol}.x")
                .unwrap_err()
                .contains("{rol}")
        );
        assert!(
            Template::parse("{cluster")
                .unwrap_err()
                .contains("unclosed")
        );
        assert!(Template::parse("a}b").unwrap_err().contains("stray"));
    }
}
