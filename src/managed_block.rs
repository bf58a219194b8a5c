//! A block of lines pgconn owns inside a user's file (`pg_service.conf`,
//! `.pgpass`): replaced in place on every sync, never touching a byte
//! outside it, and removable so the file is restored exactly as it was.
//!
//! The BEGIN marker remembers what pgconn changed besides the block: that it
//! created the file, or that it added a final newline the file lacked.

const BEGIN: &str = "# BEGIN pgconn managed block: do not edit; `pgconn service rm` removes it";
const END: &str = "# END pgconn managed block";
const CREATED: &str = " [created file]";
const ADDED_NEWLINE: &str = " [added newline]";

/// Where an existing block sits, and its flags.
struct Found {
    start: usize,
    end: usize,
    created: bool,
    added_newline: bool,
}

fn find(text: &str) -> Option<Found> {
    let start = line_start_of(text, BEGIN)?;
    let begin_line_end = text[start..]
        .find('\n')
        .map_or(text.len(), |i| start + i + 1);
    let flags = &text[start + BEGIN.len()..begin_line_end];
    let end_start = start + line_start_of(&text[start..], END)?;
    let end = text[end_start..]
        .find('\n')
        .map_or(text.len(), |i| end_start + i + 1);
    Some(Found {
        start,
        end,
        created: flags.contains(CREATED),
        added_newline: flags.contains(ADDED_NEWLINE),
    })
}

/// The byte offset of the first line that starts with `marker`.
fn line_start_of(text: &str, marker: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with(marker) {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

fn block(body: &str, created: bool, added_newline: bool) -> String {
    let mut out = String::from(BEGIN);
    if created {
        out.push_str(CREATED);
    }
    if added_newline {
        out.push_str(ADDED_NEWLINE);
    }
    out.push('\n');
    out.push_str(body);
    if !body.is_empty() && !body.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// The file's new text with `body` as the managed block. `original` is
/// `None` when the file does not exist yet.
pub fn upsert(original: Option<&str>, body: &str) -> String {
    let Some(text) = original else {
        return block(body, true, false);
    };
    if let Some(found) = find(text) {
        let mut out = String::with_capacity(text.len() + body.len());
        out.push_str(&text[..found.start]);
        out.push_str(&block(body, found.created, found.added_newline));
        out.push_str(&text[found.end..]);
        return out;
    }
    let added_newline = !text.is_empty() && !text.ends_with('\n');
    let mut out = text.to_string();
    if added_newline {
        out.push('\n');
    }
    out.push_str(&block(body, false, added_newline));
    out
}

/// What removing the block leaves.
#[derive(Debug, PartialEq, Eq)]
pub enum Removed {
    /// There was no block.
    NoBlock,
    /// pgconn created the file and nothing else is in it: delete it.
    DeleteFile,
    /// The file's original text.
    Text(String),
}

/// Removes the managed block.
pub fn remove(text: &str) -> Removed {
    let Some(found) = find(text) else {
        return Removed::NoBlock;
    };
    let mut start = found.start;
    if found.added_newline && text[..start].ends_with('\n') {
        start -= 1;
    }
    let rest = format!("{}{}", &text[..start], &text[found.end..]);
    if found.created && rest.is_empty() {
        Removed::DeleteFile
    } else {
        Removed::Text(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_twice_is_idempotent_and_rm_restores_bytes() {
        for original in ["", "[mine]\nhost=x\n", "[mine]\nhost=x", "# only a comment"] {
            let once = upsert(Some(original), "[a]\nhost=h\n");
            assert!(once.starts_with(original), "{once:?}");
            let twice = upsert(Some(&once), "[a]\nhost=h\n");
            assert_eq!(once, twice);
            assert_eq!(remove(&twice), Removed::Text(original.to_string()));
        }
    }

    #[test]
    fn a_created_file_is_deleted_on_rm() {
        let text = upsert(None, "x\n");
        assert_eq!(remove(&text), Removed::DeleteFile);
    }

    #[test]
    fn lines_after_the_block_survive_a_resync() {
        let text = upsert(Some("a\n"), "old\n") + "user line\n";
        let resynced = upsert(Some(&text), "new\n");
        assert!(resynced.contains("new\n") && !resynced.contains("old\n"));
        assert!(resynced.ends_with("user line\n"));
        assert_eq!(remove(&resynced), Removed::Text("a\nuser line\n".into()));
    }

    #[test]
    fn no_block_is_reported() {
        assert_eq!(remove("a\n"), Removed::NoBlock);
    }
}
