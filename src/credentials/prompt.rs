//! The `prompt` source: ask on the terminal, never in CI or without one.

use std::io::IsTerminal;

use super::{Found, Outcome, Secret, Source};

/// Asks for the password on the controlling terminal.
#[derive(Debug)]
pub struct PromptSource {
    question: String,
}

impl PromptSource {
    /// A prompt for `user` on `cluster`.
    pub fn new(cluster: &str, user: &str) -> Self {
        PromptSource {
            question: format!("Password for {user} on {cluster}"),
        }
    }
}

impl Source for PromptSource {
    fn label(&self) -> String {
        "prompt".into()
    }

    fn fetch(&self) -> Outcome {
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false") {
            return Outcome::Skipped("not prompting in CI".into());
        }
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Outcome::Skipped("no terminal to ask on".into());
        }
        match dialoguer::Password::new()
            .with_prompt(&self.question)
            .allow_empty_password(false)
            .interact()
        {
            Ok(value) => Outcome::Found(Found::password(Secret::new(value))),
            Err(e) => Outcome::Failed(format!("the prompt failed: {e}")),
        }
    }
}
