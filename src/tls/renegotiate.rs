//! Client-initiated renegotiation (RFC 5746), tested once per endpoint on a completed TLS 1.2
//! session: rustls finishes the handshake and hands over its record keys; this module decrypts our
//! own Finished to learn its verify_data, sends a new ClientHello carrying it in renegotiation_info,
//! encrypted under the session's keys, and reads one record back: a ServerHello is an accepted
//! renegotiation, an alert (`no_renegotiation`) or a close is a refusal. The session is then closed;
//! no renegotiation is ever completed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ring::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use rustls::ClientConnection;
use rustls::ConnectionTrafficSecrets;

use super::answer::alert_name;
use super::hello::Hello;
use super::session::Renegotiation;
use super::version::Version;

/// AES-GCM record protection of one direction (RFC 5288): 4-byte salt, 8-byte explicit nonce.
struct Gcm {
    key: LessSafeKey,
    iv: [u8; 12],
    seq: u64,
}

impl Gcm {
    fn of(seq: u64, s: ConnectionTrafficSecrets) -> Option<Gcm> {
        let (alg, key, iv) = match s {
            ConnectionTrafficSecrets::Aes128Gcm { key, iv } => (&AES_128_GCM, key, iv),
            ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (&AES_256_GCM, key, iv),
            _ => return None,
        };
        let key = LessSafeKey::new(UnboundKey::new(alg, key.as_ref()).ok()?);
        Some(Gcm {
            key,
            iv: iv.as_ref().try_into().ok()?,
            seq,
        })
    }

    fn aad(seq: u64, kind: u8, len: usize) -> [u8; 13] {
        let mut a = [0u8; 13];
        a[..8].copy_from_slice(&seq.to_be_bytes());
        a[8] = kind;
        a[9..11].copy_from_slice(&[3, 3]);
        a[11..].copy_from_slice(&(len as u16).to_be_bytes());
        a
    }

    fn seal(&mut self, kind: u8, plain: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        let mut body = plain.to_vec();
        let aad = Gcm::aad(self.seq, kind, plain.len());
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .ok()?;
        self.seq += 1;
        let mut rec = vec![kind, 3, 3];
        rec.extend_from_slice(&((8 + body.len()) as u16).to_be_bytes());
        rec.extend_from_slice(&nonce[4..]);
        rec.extend_from_slice(&body);
        Some(rec)
    }

    /// Opens one record body (explicit nonce, ciphertext, tag) of type `kind` at sequence `seq`.
    fn open_at(&self, seq: u64, kind: u8, body: &[u8]) -> Option<Vec<u8>> {
        if body.len() < 8 + 16 {
            return None;
        }
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.iv[..4]);
        nonce[4..].copy_from_slice(&body[..8]);
        let mut ct = body[8..].to_vec();
        let aad = Gcm::aad(seq, kind, ct.len() - 16);
        let plain = self
            .key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut ct)
            .ok()?;
        Some(plain.to_vec())
    }
}

/// The records of a byte stream: (type, body).
fn records(mut b: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 5 {
        let len = u16::from_be_bytes([b[3], b[4]]) as usize;
        if b.len() < 5 + len {
            break;
        }
        out.push((b[0], &b[5..5 + len]));
        b = &b[5 + len..];
    }
    out
}

/// The body of the first handshake record after the first ChangeCipherSpec: the encrypted Finished.
fn finished_record(stream: &[u8]) -> Option<&[u8]> {
    records(stream)
        .into_iter()
        .skip_while(|(k, _)| *k != 20)
        .find(|(k, _)| *k == 22)
        .map(|(_, b)| b)
}

/// Tries one renegotiation on a completed TLS 1.2 session. `sent` is every byte we sent on it.
/// The session is then closed, waiting up to `close_bound` for the server's FIN.
pub(super) fn attempt(
    mut sock: TcpStream,
    tls: ClientConnection,
    sent: &[u8],
    _got: &[u8],
    deadline: Instant,
    close_bound: Duration,
) -> Renegotiation {
    let result = renegotiate(&mut sock, tls, sent, deadline);
    crate::transport::closing::server_closed_blocking(&mut sock, close_bound);
    result
}

fn renegotiate(
    sock: &mut TcpStream,
    tls: ClientConnection,
    sent: &[u8],
    deadline: Instant,
) -> Renegotiation {
    let not = |why: &str| Renegotiation::NotTested(why.to_string());
    let secrets = match tls.dangerous_extract_secrets() {
        Ok(s) => s,
        Err(e) => return not(&format!("record keys unavailable: {e}")),
    };
    let (Some(mut tx), Some(mut rx)) = (
        Gcm::of(secrets.tx.0, secrets.tx.1),
        Gcm::of(secrets.rx.0, secrets.rx.1),
    ) else {
        return not("the session's suite is not AES-GCM");
    };
    let Some(fin) = finished_record(sent) else {
        return not("our Finished was not found in what we sent");
    };
    let Some(plain) = tx.open_at(0, 22, fin) else {
        return not("our Finished did not decrypt");
    };
    if plain.len() != 16 || plain[0] != 20 {
        return not("our Finished is not 12 bytes of verify_data");
    }
    let mut h = Hello::new(
        Version::Tls12,
        vec![
            0xC02F, 0xC030, 0xC02B, 0xC02C, 0x009C, 0x009D, 0x002F, 0x0035,
        ],
        None,
    );
    h.offer_compression = false;
    h.renegotiation_info = Some(plain[4..].to_vec());
    let record = h.encode();
    let Some(out) = tx.seal(22, &record[5..]) else {
        return not("the new ClientHello could not be encrypted");
    };
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    };
    let Some(w) = left() else {
        return Renegotiation::Dropped("timeout".into());
    };
    sock.set_write_timeout(Some(w)).ok();
    if let Err(e) = sock.write_all(&out) {
        return Renegotiation::Dropped(e.to_string());
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Some(w) = left() else {
            break Renegotiation::Dropped("no answer before the timeout".into());
        };
        sock.set_read_timeout(Some(w)).ok();
        match sock.read(&mut chunk) {
            Ok(0) => break Renegotiation::Dropped("closed".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break Renegotiation::Dropped("no answer before the timeout".into());
            }
            Err(e) => break Renegotiation::Dropped(e.to_string()),
        }
        if let Some((kind, body)) = records(&buf).into_iter().next() {
            let seq = rx.seq;
            rx.seq += 1;
            break match (kind, rx.open_at(seq, kind, body)) {
                (22, Some(p)) if p.first() == Some(&2) => Renegotiation::Accepted,
                (21, Some(p)) if p.len() == 2 => {
                    Renegotiation::Refused(format!("alert:{}", alert_name(p[1])))
                }
                (k, _) => Renegotiation::Dropped(format!(
                    "record type {k} that did not decrypt as an answer"
                )),
            };
        }
        if buf.len() > 64 * 1024 {
            break Renegotiation::Dropped("no whole record in 64 KB".into());
        }
    }
}
