//! Evidence capture: `--pcap` (what sipcheck sent and received, as a pcap Wireshark opens) and
//! `--keylog` (TLS secrets in the NSS key log format, so the TLS in that pcap can be decrypted).

mod keylog;
mod pcap;

pub use keylog::KeyLogFile;
pub use pcap::PcapWriter;
