//! The catalog's JSON Schema, for editors (`pgconn catalog schema`).
//!
//! The schema is kept beside the walker in `parse.rs`; tests validate the
//! README's example catalog and the broken test catalogs against it so the two
//! cannot drift apart unnoticed.

/// The JSON Schema (draft 2020-12) of catalog version 1.
pub const JSON_SCHEMA: &str = include_str!("catalog.schema.json");
