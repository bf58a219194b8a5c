//! Shared helpers for the integration tests.

pub mod cli;
pub mod compose_dotenv;
pub mod lab;
pub mod run;
