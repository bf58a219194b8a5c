//! The `file` source: a mounted secret file (Docker, Kubernetes), one
//! trailing newline stripped.

use std::path::PathBuf;

use super::{Found, Outcome, Secret, Source};

/// Reads a password file.
#[derive(Debug)]
pub struct FileSource {
    path: PathBuf,
}

impl FileSource {
    /// A source reading `path`.
    pub fn new(path: PathBuf) -> Self {
        FileSource { path }
    }
}

impl Source for FileSource {
    fn label(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn fetch(&self) -> Outcome {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Outcome::Skipped("no such file".into());
            }
            Err(e) => return Outcome::Failed(format!("cannot read it: {e}")),
        };
        let value = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        if value.is_empty() {
            return Outcome::Failed("the file is empty".into());
        }
        Outcome::Found(Found::password(Secret::new(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetch(content: &str) -> Outcome {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, content).unwrap();
        FileSource::new(path).fetch()
    }

    #[test]
    fn strips_exactly_one_trailing_newline() {
        let Outcome::Found(f) = fetch("a b\n\n") else {
            panic!()
        };
        assert_eq!(f.password.expose(), "a b\n");
        let Outcome::Found(f) = fetch("x\r\n") else {
            panic!()
        };
        assert_eq!(f.password.expose(), "x");
    }

    #[test]
    fn empty_file_is_a_failure_and_missing_file_is_skipped() {
        assert!(matches!(fetch("\n"), Outcome::Failed(_)));
        let missing = FileSource::new("/nonexistent/pgconn/pw".into()).fetch();
        assert!(matches!(missing, Outcome::Skipped(_)));
    }
}
