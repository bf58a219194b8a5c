//! pgconn: from a cluster catalog to a working, verified PostgreSQL connection.
//!
//! Layers point down only (see ARCHITECTURE.md):
//! [`cli`] → [`commands`] → [`catalog`], [`target`], [`credentials`],
//! [`connstr`] → [`platform`]. Errors meet in [`error`]; output in [`output`].
//! `doctor` and `explain`: [`commands`] → [`doctor`], [`knowledge`] → [`net`], [`tls`] → [`platform`].

pub mod atomic_file;
pub mod catalog;
pub mod cli;
pub mod commands;
pub mod connstr;
pub mod credentials;
pub mod doctor;
pub mod error;
pub mod import;
pub mod knowledge;
pub mod kube_client;
pub mod launch;
pub mod managed_block;
pub mod net;
pub mod output;
pub mod pgenv;
pub mod picker;
pub mod platform;
pub mod shellenv;
pub mod suggest;
pub mod target;
pub mod tls;
pub mod tunnel;
pub mod vocab;

use clap::Parser;

use crate::error::Exit;

/// Runs pgconn with the process arguments and returns the exit status.
pub fn run() -> i32 {
    match commands::completions::complete_from_env() {
        Ok(true) => return Exit::Success.code(),
        Ok(false) => {}
        Err(e) => {
            let _ = e.print();
            return Exit::Usage.code();
        }
    }
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.code()
            } else {
                Exit::Success.code()
            };
        }
    };
    let ctx = commands::Context::from_cli(&cli);
    match commands::dispatch(&ctx, &cli.command) {
        Ok(exit) => exit.code(),
        Err(e) => {
            eprintln!("{}", e.render(ctx.err));
            e.exit().code()
        }
    }
}
