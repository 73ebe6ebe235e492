//! A hand-written TLS 1.2 server with the flaws OpenSSL 3 no longer lets a server have, so that
//! sipcheck's verdict on each can be checked against testssl.sh and sslyze in the same test:
//! Heartbleed (a heartbeat answered with as many bytes of "memory" as it claims), ROBOT (a
//! Bleichenbacher oracle: a badly formatted PKCS#1 v1.5 premaster secret is answered with another
//! alert than a well formatted one), no extended master secret (RFC 7627), no renegotiation_info
//! (RFC 5746). Apart from its flaws it completes real handshakes: static-RSA key exchange with
//! TLS_RSA_WITH_AES_128_GCM_SHA256 (0x009c), the RFC 5246 PRF and Finished checks, the extended master
//! secret when it negotiates one, and GCM records (RFC 5288). It resumes no session and answers a
//! renegotiation or any application data by closing.
//!
//! Every connection is served on its own thread with 5-second reads; the accept loop stops when the
//! fake is dropped.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use openssl::pkey::Private;
use openssl::rsa::{Padding, Rsa};
use ring::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::{digest, hmac};

/// The only suite the fake negotiates: TLS_RSA_WITH_AES_128_GCM_SHA256.
pub const SUITE: u16 = 0x009c;
const EXT_HEARTBEAT: u16 = 0x000f;
const EXT_EMS: u16 = 0x0017;
const EXT_RENEGOTIATION_INFO: u16 = 0xff01;
const SCSV: u16 = 0x00ff;
/// The fake's "process memory" a heartbeat leaks.
pub const MEMORY: &[u8] = b"SECRET-KEY-MATERIAL-";

/// What the fake gets wrong.
#[derive(Debug, Clone, Copy)]
pub struct Flaws {
    /// Negotiates the extended master secret when offered (RFC 7627).
    pub ems: bool,
    /// Answers renegotiation_info (RFC 5746) when offered.
    pub renegotiation_info: bool,
    /// Negotiates heartbeat and answers a request with as many bytes as it claims (CVE-2014-0160).
    pub heartbleed: bool,
    /// Answers a badly formatted premaster secret with handshake_failure at once, where a well
    /// formatted one (right or wrong) gets on to the Finished check (a Bleichenbacher oracle).
    pub robot_oracle: bool,
    /// With `robot_oracle`: a block whose first two bytes are wrong gets decrypt_error instead, so
    /// the badly formatted blocks are told apart too (the ROBOT authors' "strong" oracle).
    pub robot_strong: bool,
    /// Serves one connection at a time, as `openssl s_server` does (not a flaw: a way to be slow).
    pub serial: bool,
}

impl Flaws {
    /// A TLS 1.2 server without any of the flaws.
    pub const SOUND: Flaws = Flaws {
        ems: true,
        renegotiation_info: true,
        heartbleed: false,
        robot_oracle: false,
        robot_strong: false,
        serial: false,
    };
}

/// The running fake; stops accepting when dropped.
pub struct Tls12Fake {
    pub port: u16,
    /// Connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    /// Handshakes that got as far as a ClientKeyExchange.
    pub key_exchanges: Arc<AtomicUsize>,
    /// The flaws each new connection gets: [`Tls12Fake::set_flaws`] changes them on the same port.
    flaws: Arc<std::sync::Mutex<Flaws>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

struct Keys {
    rsa: Rsa<Private>,
    cert_der: Vec<u8>,
}

fn make_keys() -> Keys {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::x509::extension::SubjectAlternativeName;
    use openssl::x509::{X509, X509NameBuilder};
    let rsa = Rsa::generate(2048).unwrap();
    let key = PKey::from_rsa(rsa.clone()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "localhost").unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .ip("127.0.0.1")
        .build(&b.x509v3_context(None, None))
        .unwrap();
    b.append_extension(san).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    Keys {
        rsa,
        cert_der: b.build().to_der().unwrap(),
    }
}

impl Tls12Fake {
    /// Starts the fake on a free loopback port.
    pub fn start(flaws: Flaws) -> Tls12Fake {
        let keys = Arc::new(make_keys());
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let key_exchanges = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(std::sync::Mutex::new(flaws));
        let (st, cn, kx, fl) = (
            stop.clone(),
            connections.clone(),
            key_exchanges.clone(),
            shared.clone(),
        );
        let accept = std::thread::spawn(move || {
            // Bounded: stops when dropped, or after ten minutes at most.
            let until = std::time::Instant::now() + Duration::from_secs(600);
            while !st.load(Ordering::Relaxed) && std::time::Instant::now() < until {
                match l.accept() {
                    Ok((s, _)) => {
                        cn.fetch_add(1, Ordering::Relaxed);
                        let (keys, kx) = (keys.clone(), kx.clone());
                        let flaws = *fl.lock().unwrap();
                        let serve = move || {
                            let _ = s.set_nonblocking(false);
                            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                            let _ = Conn::new(s, flaws, &keys, &kx).serve();
                        };
                        if flaws.serial {
                            serve();
                        } else {
                            std::thread::spawn(serve);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Tls12Fake {
            port,
            connections,
            key_exchanges,
            flaws: shared,
            stop,
            accept: Some(accept),
        }
    }

    /// Gives the connections from now on other flaws (the same server, patched or broken).
    pub fn set_flaws(&self, flaws: Flaws) {
        *self.flaws.lock().unwrap() = flaws;
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

impl Drop for Tls12Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// The RFC 5246 §5 PRF with SHA-256.
pub fn prf(secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut label_seed = label.to_vec();
    label_seed.extend_from_slice(seed);
    let mut a = hmac::sign(&key, &label_seed).as_ref().to_vec();
    let mut out = Vec::with_capacity(len + 32);
    while out.len() < len {
        let mut input = a.clone();
        input.extend_from_slice(&label_seed);
        out.extend_from_slice(hmac::sign(&key, &input).as_ref());
        a = hmac::sign(&key, &a).as_ref().to_vec();
    }
    out.truncate(len);
    out
}

fn record(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![kind, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let mut m = vec![kind, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    m.extend_from_slice(body);
    m
}

fn alert(desc: u8) -> Vec<u8> {
    record(21, &[2, desc])
}

/// What the fake reads of a ClientHello.
#[derive(Default)]
struct ClientHello {
    version: u16,
    random: [u8; 32],
    suites: Vec<u16>,
    extensions: Vec<u16>,
}

fn parse_client_hello(b: &[u8]) -> Option<ClientHello> {
    let mut h = ClientHello {
        version: u16::from_be_bytes([*b.first()?, *b.get(1)?]),
        ..Default::default()
    };
    h.random.copy_from_slice(b.get(2..34)?);
    let mut at = 34;
    at += 1 + *b.get(at)? as usize;
    let n = u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]) as usize;
    h.suites = b
        .get(at + 2..at + 2 + n)?
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    at += 2 + n;
    at += 1 + *b.get(at)? as usize;
    if b.len() >= at + 2 {
        at += 2;
        while let Some(e) = b.get(at..at + 4) {
            h.extensions.push(u16::from_be_bytes([e[0], e[1]]));
            at += 4 + u16::from_be_bytes([e[2], e[3]]) as usize;
        }
    }
    Some(h)
}

/// The 48-byte premaster secret inside a PKCS#1 v1.5 block, if the block is well formatted
/// (RFC 8017 §7.2.2); the version is not checked here.
fn unpad(em: &[u8]) -> Option<&[u8]> {
    if em.len() < 11 + 48 || em[0] != 0 || em[1] != 2 {
        return None;
    }
    let zero = em[2..].iter().position(|b| *b == 0)? + 2;
    (zero >= 10 && em.len() - zero - 1 == 48).then(|| &em[zero + 1..])
}

struct Conn<'a> {
    s: TcpStream,
    flaws: Flaws,
    keys: &'a Keys,
    key_exchanges: &'a AtomicUsize,
    buf: Vec<u8>,
    hs: Vec<u8>,
    transcript: Vec<u8>,
}

enum Got {
    Handshake(u8, Vec<u8>),
    Heartbeat(Vec<u8>),
    Other(u8, Vec<u8>),
}

impl<'a> Conn<'a> {
    fn new(s: TcpStream, flaws: Flaws, keys: &'a Keys, key_exchanges: &'a AtomicUsize) -> Self {
        Conn {
            s,
            flaws,
            keys,
            key_exchanges,
            buf: Vec::new(),
            hs: Vec::new(),
            transcript: Vec::new(),
        }
    }

    fn read_record(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            // Not TLS (an HTTP probe, say): close at once, as a TLS server does.
            if self.buf.first().is_some_and(|t| !(20..=24).contains(t)) {
                return None;
            }
            if self.buf.len() >= 5 {
                let len = u16::from_be_bytes([self.buf[3], self.buf[4]]) as usize;
                if self.buf.len() >= 5 + len {
                    let body = self.buf[5..5 + len].to_vec();
                    let kind = self.buf[0];
                    self.buf.drain(..5 + len);
                    return Some((kind, body));
                }
            }
            let mut chunk = [0u8; 8192];
            let n = self.s.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The next handshake message (plaintext), or another record.
    fn next(&mut self) -> Option<Got> {
        loop {
            if self.hs.len() >= 4 {
                let len = u32::from_be_bytes([0, self.hs[1], self.hs[2], self.hs[3]]) as usize;
                if self.hs.len() >= 4 + len {
                    let msg: Vec<u8> = self.hs.drain(..4 + len).collect();
                    self.transcript.extend_from_slice(&msg);
                    return Some(Got::Handshake(msg[0], msg[4..].to_vec()));
                }
            }
            match self.read_record()? {
                (22, b) => self.hs.extend_from_slice(&b),
                (24, b) => return Some(Got::Heartbeat(b)),
                (k, b) => return Some(Got::Other(k, b)),
            }
        }
    }

    fn send(&mut self, b: &[u8]) -> Option<()> {
        self.s.write_all(b).ok()
    }

    /// A fatal alert, then a lingering close: our FIN, and the client's remaining records read
    /// (at most two seconds) so that the close sends no reset that would cost the client the alert.
    fn fail(&mut self, desc: u8) -> Option<()> {
        self.send(&alert(desc))?;
        let _ = self.s.shutdown(std::net::Shutdown::Write);
        let _ = self.s.set_read_timeout(Some(Duration::from_secs(2)));
        let mut sink = [0u8; 4096];
        while matches!(self.s.read(&mut sink), Ok(n) if n > 0) {}
        None
    }

    fn heartbeat(&mut self, req: &[u8]) -> Option<()> {
        if !self.flaws.heartbleed || req.len() < 3 || req[0] != 1 {
            return Some(());
        }
        // The flaw: the claimed length, not the received one, decides what is copied back: the
        // payload received, then whatever lies behind it.
        let claimed = u16::from_be_bytes([req[1], req[2]]) as usize;
        let mut body = vec![2];
        body.extend_from_slice(&(claimed as u16).to_be_bytes());
        body.extend(req[3..].iter().chain(MEMORY.iter().cycle()).take(claimed));
        body.extend_from_slice(&[0; 16]);
        self.send(&record(24, &body))
    }

    fn serve(&mut self) -> Option<()> {
        let Got::Handshake(1, b) = self.next()? else {
            return None;
        };
        let ch = parse_client_hello(&b)?;
        if ch.version < 0x0303 {
            return self.fail(70);
        }
        if !ch.suites.contains(&SUITE) {
            return self.fail(40);
        }
        let offers = |e: u16| ch.extensions.contains(&e);
        let ems = self.flaws.ems && offers(EXT_EMS);
        let mut exts = Vec::new();
        if self.flaws.renegotiation_info
            && (offers(EXT_RENEGOTIATION_INFO) || ch.suites.contains(&SCSV))
        {
            exts.extend_from_slice(&[0xff, 0x01, 0, 1, 0]);
        }
        if ems {
            exts.extend_from_slice(&[0, 0x17, 0, 0]);
        }
        if self.flaws.heartbleed && offers(EXT_HEARTBEAT) {
            exts.extend_from_slice(&[0, 0x0f, 0, 1, 1]);
        }
        let server_random: [u8; 32] = rand::random();
        let mut sh = vec![3, 3];
        sh.extend_from_slice(&server_random);
        sh.push(0);
        sh.extend_from_slice(&SUITE.to_be_bytes());
        sh.push(0);
        if !exts.is_empty() {
            sh.extend_from_slice(&(exts.len() as u16).to_be_bytes());
            sh.extend_from_slice(&exts);
        }
        let der = &self.keys.cert_der;
        let mut certs = Vec::new();
        let n = der.len() + 3;
        certs.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        certs.extend_from_slice(&[
            (der.len() >> 16) as u8,
            (der.len() >> 8) as u8,
            der.len() as u8,
        ]);
        certs.extend_from_slice(der);
        let mut flight = handshake(2, &sh);
        flight.extend(handshake(11, &certs));
        flight.extend(handshake(14, &[]));
        self.transcript.extend_from_slice(&flight);
        self.send(&record(22, &flight))?;
        let cke = loop {
            match self.next()? {
                Got::Handshake(16, b) => break b,
                Got::Heartbeat(b) => self.heartbeat(&b)?,
                _ => return self.fail(10),
            }
        };
        self.key_exchanges.fetch_add(1, Ordering::Relaxed);
        let enc = cke.get(2..)?;
        let mut em = vec![0u8; self.keys.rsa.size() as usize];
        let pms = match self.keys.rsa.private_decrypt(enc, &mut em, Padding::NONE) {
            Ok(_) => match unpad(&em) {
                Some(p) if p[..2] == ch.version.to_be_bytes() => p.to_vec(),
                // RFC 5246 §7.4.7.1: a wrong version is treated like a bad block, silently.
                Some(_) => rand::random::<[u8; 48]>().to_vec(),
                None if self.flaws.robot_oracle => {
                    let strong = self.flaws.robot_strong && em[..2] != [0, 2];
                    return self.fail(if strong { 51 } else { 40 });
                }
                None => rand::random::<[u8; 48]>().to_vec(),
            },
            Err(_) if self.flaws.robot_oracle => return self.fail(40),
            Err(_) => rand::random::<[u8; 48]>().to_vec(),
        };
        let ms = if ems {
            let hash = digest::digest(&digest::SHA256, &self.transcript);
            prf(&pms, b"extended master secret", hash.as_ref(), 48)
        } else {
            let mut seed = ch.random.to_vec();
            seed.extend_from_slice(&server_random);
            prf(&pms, b"master secret", &seed, 48)
        };
        let mut seed = server_random.to_vec();
        seed.extend_from_slice(&ch.random);
        let kb = prf(&ms, b"key expansion", &seed, 40);
        let client_key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &kb[..16]).ok()?);
        let server_key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &kb[16..32]).ok()?);
        let (client_salt, server_salt) = (&kb[32..36], &kb[36..40]);
        // ChangeCipherSpec, then the encrypted Finished.
        match self.read_record()? {
            (20, _) => {}
            (24, b) => {
                self.heartbeat(&b)?;
                return None;
            }
            _ => return self.fail(10),
        }
        let (kind, rec) = self.read_record()?;
        if kind != 22 || rec.len() < 8 + 16 {
            return self.fail(20);
        }
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(client_salt);
        nonce[4..].copy_from_slice(&rec[..8]);
        let mut ct = rec[8..].to_vec();
        let plain_len = ct.len() - 16;
        let plain = client_key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(0, 22, plain_len)),
                &mut ct,
            )
            .ok();
        let Some(plain) = plain else {
            return self.fail(20);
        };
        let want = prf(
            &ms,
            b"client finished",
            digest::digest(&digest::SHA256, &self.transcript).as_ref(),
            12,
        );
        if plain.len() != 16 || plain[0] != 20 || plain[4..] != want[..] {
            return self.fail(51);
        }
        self.transcript.extend_from_slice(plain);
        let verify = prf(
            &ms,
            b"server finished",
            digest::digest(&digest::SHA256, &self.transcript).as_ref(),
            12,
        );
        let fin = handshake(20, &verify);
        let explicit = [0u8; 8];
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(server_salt);
        nonce[4..].copy_from_slice(&explicit);
        let mut body = fin.clone();
        server_key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(0, 22, fin.len())),
                &mut body,
            )
            .ok()?;
        let mut payload = explicit.to_vec();
        payload.extend(body);
        let mut out = record(20, &[1]);
        out.extend(record(22, &payload));
        self.send(&out)?;
        // Application data, close_notify or a renegotiation: the fake has nothing more to say.
        let _ = self.read_record();
        let _ = self.s.shutdown(std::net::Shutdown::Both);
        Some(())
    }
}

/// A scan of the fake with `selectors`, bounded in time.
pub async fn scan_fake(fake: &Tls12Fake, selectors: &[&str], intrusive: bool) -> sipcheck::Report {
    scan_addr(fake.addr(), selectors, intrusive, None).await
}

/// A scan of any TLS server on loopback, with an optional policy (`[rules]` TOML).
pub async fn scan_addr(
    addr: std::net::SocketAddr,
    selectors: &[&str],
    intrusive: bool,
    rules: Option<&str>,
) -> sipcheck::Report {
    use sipcheck::probe::Config;
    use sipcheck::scan::{ScanOptions, scan};
    use sipcheck::{Target, Transport};
    let mut o = ScanOptions::new(Target::parse(&addr.to_string()).unwrap());
    o.transports = Some(vec![Transport::Tls]);
    o.tls_port = sipcheck::Port::new(addr.port());
    o.selectors = selectors.iter().map(|s| s.to_string()).collect();
    o.config = Config::default();
    o.config.timers.timeout = Duration::from_secs(2);
    o.config.intrusive = intrusive;
    o.policy = rules.map(|r| {
        sipcheck::report::policy::parse(
            &format!("name = \"test\"\ndescription = \"test\"\n[rules]\n{r}\n"),
            "test.toml",
        )
        .unwrap()
    });
    tokio::time::timeout(Duration::from_secs(60), scan(o))
        .await
        .expect("scan hung")
        .expect("scan")
}

fn aad(seq: u64, kind: u8, len: usize) -> [u8; 13] {
    let mut a = [0u8; 13];
    a[..8].copy_from_slice(&seq.to_be_bytes());
    a[8] = kind;
    a[9] = 3;
    a[10] = 3;
    a[11..].copy_from_slice(&(len as u16).to_be_bytes());
    a
}
