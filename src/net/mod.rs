//! Low network layer: name resolution ([`dns`]) and TCP connects ([`tcp`])
//! for `doctor`, each outcome classified the way a user needs it, and the
//! bounded async [`runtime`] the network credential sources and remote
//! catalogs start. No policy lives here.

pub mod dns;
pub mod echo;
pub mod runtime;
pub mod tcp;

/// An error with its chain of causes on one line (`a: b: c`): network
/// errors come wrapped several deep, and the useful part is the last.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}
