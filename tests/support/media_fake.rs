//! An in-process UDP fake trunk for call behaviours no packaged server shows: answering an
//! unauthenticated INVITE, claiming SRTP while sending plain RTP, answering with a crypto suite it was
//! not offered, MD5-only or SHA-256 challenges, a 180 after the 200. A handler returns any number of
//! datagrams per request; every request is recorded.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use sipcheck::sip::sdp::Sdp;
use sipcheck::sip::{Limits, Message};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

pub type Handler = Arc<dyn Fn(&Message) -> Vec<Vec<u8>> + Send + Sync>;

pub struct CallFake {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Message>>>,
    task: JoinHandle<()>,
}

impl Drop for CallFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CallFake {
    pub async fn start(handler: Handler) -> CallFake {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let rec = requests.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 70_000];
            for _ in 0..10_000 {
                let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                    return;
                };
                let Ok(m) = Message::parse(&buf[..n], &Limits::default()) else {
                    continue;
                };
                if m.method().is_none() {
                    continue;
                }
                rec.lock().unwrap().push(m.clone());
                for d in handler(&m) {
                    let _ = sock.send_to(&d, from).await;
                }
            }
        });
        CallFake {
            addr,
            requests,
            task,
        }
    }

    pub fn methods(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter_map(|m| m.method().map(str::to_string))
            .collect()
    }

    pub fn count(&self, method: &str) -> usize {
        self.methods().iter().filter(|m| *m == method).count()
    }

    pub fn target(&self) -> String {
        self.addr.to_string()
    }
}

/// A response copying Via, From, To (tagged), Call-ID and CSeq.
pub fn response(
    req: &Message,
    code: u16,
    reason: &str,
    extra: &[String],
    sdp: Option<&str>,
) -> Vec<u8> {
    // fk1: one To tag for every response, so the 180 and the 200 belong to one dialog.
    let mut s = crate::support::fake::response_head(req, code, reason, "fk1", extra);
    match sdp {
        Some(b) => {
            s.push_str(&format!(
                "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            ));
        }
        None => s.push_str("Content-Length: 0\r\n\r\n"),
    }
    s.into_bytes()
}

/// The offer's audio address (where the fake would send media).
pub fn offer_rtp(req: &Message) -> Option<SocketAddr> {
    let sdp = Sdp::parse(&String::from_utf8_lossy(&req.body));
    let m = sdp.audio()?;
    sdp.rtp_target(m)
}

/// An SDES answer with one crypto line (any tag/suite, a fixed 30-byte key).
pub fn sdes_answer(port: u16, crypto: &str) -> String {
    format!(
        "v=0\r\no=fake 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n{crypto}"
    )
}

/// A valid 30-byte key for AES_CM_128 suites, base64.
pub const KEY30: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

/// Sends `n` unencrypted 20 ms PCMU packets to `to` from a fresh socket, on a thread (fire and forget).
pub fn blast_plain_rtp(to: SocketAddr, n: u16) {
    std::thread::spawn(move || {
        let Ok(s) = std::net::UdpSocket::bind("127.0.0.1:0") else {
            return;
        };
        for i in 0..n {
            let p = sipcheck::media::rtp::rtp_packet(4242, i, u32::from(i) * 160);
            let _ = s.send_to(&p, to);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
}
