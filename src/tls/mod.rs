//! TLS analysis: certificates, the cipher-suite registry, hand-made hellos and the scan built on them.

pub mod answer;
pub mod cert;
pub mod groups;
pub mod heartbeat;
pub mod hello;
mod line;
mod renegotiate;
pub mod robot;
pub mod scan;
pub mod session;
pub mod sslv2;
pub use crate::findings::tls::suites;
pub mod tls13_cert;
pub use crate::findings::tls::version;
pub mod wire;
