//! Running child processes connected to an endpoint: `psql` and any command
//! (`run`). Secrets travel in the child's environment or a private passfile,
//! never in argv; signals reach the child; its exit status becomes ours.

mod child;
mod passfile;
mod psql;

pub use child::{ChildError, run_child, run_child_teeing_stderr};
pub use passfile::{Passfile, escape_field};
pub use psql::{Psql, PsqlError};
