//! The integration tests: one binary (linked once), one module per area.
//!
//! Lab tests skip without a lab (`PGCONN_LAB_DIR`) unless `PGCONN_REQUIRE_LAB=1`;
//! `lab/test` runs all of them inside a fresh lab, e.g. `lab/test lab_faults::`.

mod support;

mod catalog_errors;
mod catalog_robustness;
mod cli_contract;
mod completions;
mod connstr_matrix;
mod credentials_lab;
mod credentials_local;
mod doctor_lab;
mod dotenv;
mod drivers;
mod explain;
mod generated;
mod import_lab;
mod lab_faults;
mod launch_lab;
mod picker;
mod remote_http;
mod shared_catalogs;
mod trust;
mod tunnel_lab;
mod user_files;
mod wait_lab;
