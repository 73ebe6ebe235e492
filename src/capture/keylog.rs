//! TLS secrets in the NSS key log format, written to a file the user names. rustls' own `KeyLogFile`
//! only honours `SSLKEYLOGFILE`; this writes where `--keylog` says.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// An NSS key log file (`CLIENT_RANDOM …`, `CLIENT_TRAFFIC_SECRET_0 …`, one secret per line).
#[derive(Debug)]
pub struct KeyLogFile {
    file: Mutex<File>,
}

impl KeyLogFile {
    /// Creates (or truncates) the file, readable by its owner only: it unlocks the captured TLS.
    pub fn create(path: &str) -> Result<KeyLogFile> {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let file = o
            .open(path)
            .map_err(|e| Error::io(format!("cannot create key log {path}"), e))?;
        Ok(KeyLogFile {
            file: Mutex::new(file),
        })
    }

}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = format!("{label} {} {}\n", hex(client_random), hex(secret));
        if let Ok(mut f) = self.file.lock() {
            // A failed write loses decryptability, not measurements; the pcap stays valid.
            let _ = f.write_all(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use rustls::KeyLog;

    #[test]
    fn writes_nss_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keys.log");
        let k = super::KeyLogFile::create(p.to_str().unwrap()).unwrap();
        k.log("CLIENT_RANDOM", &[0xab, 0x01], &[0xff]);
        k.log("SERVER_HANDSHAKE_TRAFFIC_SECRET", &[0x00], &[0x10, 0x20]);
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "CLIENT_RANDOM ab01 ff\nSERVER_HANDSHAKE_TRAFFIC_SECRET 00 1020\n"
        );
    }
}
