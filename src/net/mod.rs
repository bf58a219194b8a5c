//! Low network layer: name resolution ([`dns`]) and TCP connects ([`tcp`])
//! for `doctor`, each outcome classified the way a user needs it, and the
//! bounded async [`runtime`] the network credential sources and remote
//! catalogs start. No policy lives here.

pub mod dns;
pub mod echo;
pub mod runtime;
pub mod tcp;
