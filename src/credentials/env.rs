//! The `env` source: a password in an environment variable, including the
//! `PGCONN_PASSWORD_<CLUSTER>_<USER>` override.

use super::{Found, Outcome, Secret, Source};

/// Reads one environment variable.
#[derive(Debug)]
pub struct EnvSource {
    var: String,
}

impl EnvSource {
    /// A source reading `var`.
    pub fn new(var: impl Into<String>) -> Self {
        EnvSource { var: var.into() }
    }

    /// The `PGCONN_PASSWORD_<CLUSTER>_<USER>` source for a cluster and user.
    pub fn override_for(cluster: &str, user: &str) -> Self {
        EnvSource::new(override_var(cluster, user))
    }
}

/// `PGCONN_PASSWORD_<CLUSTER>_<USER>`, upper-cased, every character that
/// cannot stand in a variable name (`-`, `.`) turned into `_`.
pub fn override_var(cluster: &str, user: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("PGCONN_PASSWORD_{}_{}", clean(cluster), clean(user))
}

impl Source for EnvSource {
    fn label(&self) -> String {
        format!("env {}", self.var)
    }

    fn fetch(&self) -> Outcome {
        match std::env::var(&self.var) {
            Ok(value) if !value.is_empty() => Outcome::Found(Found::password(Secret::new(value))),
            Ok(_) => Outcome::Skipped("set but empty".into()),
            Err(std::env::VarError::NotPresent) => Outcome::Skipped("not set".into()),
            Err(std::env::VarError::NotUnicode(_)) => Outcome::Failed("not valid UTF-8".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::override_var;

    #[test]
    fn override_var_is_upper_cased_with_underscores() {
        assert_eq!(
            override_var("temporal-db", "temporal"),
            "PGCONN_PASSWORD_TEMPORAL_DB_TEMPORAL"
        );
        assert_eq!(
            override_var("a.b-c", "platform_admin"),
            "PGCONN_PASSWORD_A_B_C_PLATFORM_ADMIN"
        );
    }
}
