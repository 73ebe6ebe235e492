//! TLS analysis: certificates now; hand-made hellos and the cipher-suite registry for the TLS scan.

pub mod cert;
