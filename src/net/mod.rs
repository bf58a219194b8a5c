//! Low network layer for `doctor`: name resolution ([`dns`]) and TCP
//! connects ([`tcp`]), each outcome classified the way a user needs it.
//! No policy lives here: the checks in `doctor` decide what is ok.

pub mod dns;
pub mod echo;
pub mod tcp;
