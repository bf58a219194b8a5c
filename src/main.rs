//! The `pgconn` binary: everything lives in the library; this only maps the
//! outcome to the process exit status.

fn main() {
    std::process::exit(pgconn::run());
}
