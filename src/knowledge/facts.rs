//! Names, addresses and codes found in an error message, and the
//! `{key|fallback}` templates of the rules that use them.

use super::sanitize;

/// What a message says about whom and where (all sanitised).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// `user "x"`.
    pub user: Option<String>,
    /// `database "x"`, `no such database: x`.
    pub database: Option<String>,
    /// `role "x"`.
    pub role: Option<String>,
    /// The address the server saw (`for host "x"` of `pg_hba` messages).
    pub host: Option<String>,
    /// The host the client was connecting to (`server at "x"`, `host name "x"`).
    pub target: Option<String>,
    /// The name a certificate carries (`server certificate for "x"`).
    pub cert: Option<String>,
    /// `unsupported startup parameter: x`.
    pub param: Option<String>,
    /// `prepared statement "x"`.
    pub statement: Option<String>,
    /// A SQLSTATE found in the text (`SQLSTATE 28P01`, `28P01: …`).
    pub sqlstate: Option<String>,
}

impl Facts {
    /// Reads the facts of a message.
    pub fn extract(text: &str) -> Facts {
        Facts {
            user: quoted_after(text, "user "),
            database: quoted_after(text, "database ")
                .or_else(|| word_after(text, "no such database: ")),
            role: quoted_after(text, "role "),
            host: quoted_after(text, "for host "),
            target: quoted_after(text, "host name ").or_else(|| quoted_after(text, "server at ")),
            cert: quoted_after(text, "server certificate for "),
            param: word_after(text, "unsupported startup parameter in options: ")
                .or_else(|| word_after(text, "unsupported startup parameter: ")),
            statement: quoted_after(text, "prepared statement "),
            sqlstate: sqlstate(text),
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "user" => self.user.as_deref(),
            "database" => self.database.as_deref(),
            "role" => self.role.as_deref(),
            "host" => self.host.as_deref(),
            "target" => self.target.as_deref(),
            "cert" => self.cert.as_deref(),
            "param" => self.param.as_deref(),
            "statement" => self.statement.as_deref(),
            _ => None,
        }
    }

    /// Fills `{key}` (quoted value) and `{key|fallback}` (fallback when the
    /// message did not carry it); `{key?text}` inserts `text` with `$` as
    /// the quoted value, or nothing.
    pub fn fill(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let token = &rest[start + 1..start + len];
            out.push_str(&self.expand(token));
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }

    fn expand(&self, token: &str) -> String {
        if token == "pool_safe" {
            return super::rules::pool_safe_settings().to_string();
        }
        if let Some((key, text)) = token.split_once('?') {
            return self
                .get(key)
                .map_or_else(String::new, |v| text.replace('$', &format!("\"{v}\"")));
        }
        let (key, fallback) = token.split_once('|').unwrap_or((token, ""));
        self.get(key)
            .map_or_else(|| fallback.to_string(), |v| format!("\"{v}\""))
    }
}

/// The value after `key` when it is quoted with `"`, `'` or a backtick.
fn quoted_after(text: &str, key: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase(); // same byte offsets as `text`
    let mut from = 0;
    while let Some(found) = lower.get(from..)?.find(key) {
        let at = from + found + key.len();
        let mut chars = text.get(at..)?.chars();
        if let Some(q @ ('"' | '\'' | '`')) = chars.next() {
            let body = &text[at + 1..];
            if let Some(end) = body.find(q) {
                return Some(sanitize(&body[..end])).filter(|v| !v.is_empty());
            }
        }
        from = at;
    }
    None
}

/// The word after `key` (up to whitespace or a quote).
fn word_after(text: &str, key: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase(); // same byte offsets as `text`
    let at = lower.find(key)? + key.len();
    let word: String = text
        .get(at..)?
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | ','))
        .collect();
    Some(sanitize(&word)).filter(|w| !w.is_empty())
}

/// A SQLSTATE in the text: after the word `SQLSTATE` / `code`, or a
/// five-character code followed by `:` (Npgsql, `28P01: …`).
fn sqlstate(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    for key in ["SQLSTATE", "CODE"] {
        if let Some(at) = upper.find(key) {
            let code: String = upper[at + key.len()..]
                .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
                .chars()
                .take(5)
                .collect();
            if is_sqlstate(&code) {
                return Some(code);
            }
        }
    }
    upper
        .split(|c: char| !c.is_ascii_alphanumeric() && c != ':')
        .filter_map(|w| w.strip_suffix(':'))
        .find(|w| is_sqlstate(w))
        .map(str::to_string)
}

/// Five characters of `[0-9A-Z]`, the class being two of them with a digit
/// first (PostgreSQL's classes: `08`, `28`, `3D`, `57`, …).
fn is_sqlstate(code: &str) -> bool {
    code.len() == 5
        && code
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && code.starts_with(|c: char| c.is_ascii_digit())
        && code.chars().filter(char::is_ascii_digit).count() >= 2
}

#[cfg(test)]
mod tests {
    use super::Facts;

    #[test]
    fn facts_come_from_quoted_names() {
        let f = Facts::extract(
            "FATAL:  no pg_hba.conf entry for host \"10.1.2.3\", user \"app\", database \"db\", SSL encryption",
        );
        assert_eq!(f.host.as_deref(), Some("10.1.2.3"));
        assert_eq!(f.user.as_deref(), Some("app"));
        assert_eq!(f.database.as_deref(), Some("db"));
        let f = Facts::extract("ERROR: no such database: shop");
        assert_eq!(f.database.as_deref(), Some("shop"));
        let f = Facts::extract("unsupported startup parameter: extra_float_digits");
        assert_eq!(f.param.as_deref(), Some("extra_float_digits"));
        let f = Facts::extract("user \"\x1b[31mevil\"");
        assert_eq!(f.user.as_deref(), Some("evil"), "values are sanitised");
    }

    #[test]
    fn sqlstates_are_found() {
        assert_eq!(
            Facts::extract("failed (SQLSTATE 28P01)")
                .sqlstate
                .as_deref(),
            Some("28P01")
        );
        assert_eq!(
            Facts::extract("28P01: password authentication failed")
                .sqlstate
                .as_deref(),
            Some("28P01")
        );
        assert_eq!(
            Facts::extract("code: '3D000'").sqlstate.as_deref(),
            Some("3D000")
        );
        assert_eq!(Facts::extract("at 12:30: nothing").sqlstate, None);
    }

    #[test]
    fn templates_fill_or_fall_back() {
        let f = Facts {
            user: Some("app".into()),
            ..Facts::default()
        };
        assert_eq!(
            f.fill("for {user|the user} on {database|its database}"),
            "for \"app\" on its database"
        );
        assert_eq!(f.fill("x{host? (seen as $)}y{user? as $}"), "xy as \"app\"");
    }
}
