//! SIP messages: building requests and parsing what comes back.

pub mod digest;
pub mod parse;
pub mod request;
pub mod sdp;

pub use parse::{Limits, Message, StartLine};
pub use request::Request;
