//! A test STI PKI (root → intermediate → SP leaves with TNAuthList, plus the broken variants the
//! tamper table needs), PASSporT signing, and an x5u HTTPS server (openssl `s_server -HTTP`, which
//! serves each file as a complete HTTP answer, so a file can be a 404).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CustomExtension, DnType,
    IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams,
    SerialNumber,
};

use super::certs::{LeafSpec, TestPki};

const TN_AUTH_LIST: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 26];
pub const ORIG: &str = "12155550100";
pub const DEST: &str = "12155550199";

/// A P-256 key that signs PASSporTs (ES256, raw r‖s).
pub struct Signer {
    pkcs8: Vec<u8>,
    pub key_pem: String,
    pub pub_pem: String,
}

impl Signer {
    fn from(key: &KeyPair) -> Signer {
        Signer {
            pkcs8: key.serialize_der(),
            key_pem: key.serialize_pem(),
            pub_pem: key.public_key_pem(),
        }
    }

    pub fn new() -> Signer {
        Signer::from(&KeyPair::generate().unwrap())
    }

    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let rng = ring::rand::SystemRandom::new();
        let kp =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &self.pkcs8, &rng).unwrap();
        kp.sign(&rng, input).unwrap().as_ref().to_vec()
    }
}

/// A leaf certificate and its key.
pub struct Leaf {
    pub cert_pem: String,
    pub signer: Signer,
}

pub struct StiPki {
    pub dir: tempfile::TempDir,
    pub root_pem: PathBuf,
    pub intermediate_pem: String,
    pub leaves: BTreeMap<&'static str, Leaf>,
    /// The STI-PA root's key and name: it signs the CRL every leaf's CDP names.
    root_issuer: Issuer<'static, KeyPair>,
    /// The CRL URL the leaves name.
    pub crl_url: String,
}

/// A DER TLV with a definite length of any size.
pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = value.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

/// ATIS-1000080 §6.4.1 CRL Distribution Points: one point, the CRL URL as fullName, and a
/// cRLIssuer naming the STI-PA (its DER Name).
pub fn cdp_der(url: &str, crl_issuer_name: &[u8]) -> Vec<u8> {
    let full_name = tlv(0xa0, &tlv(0x86, url.as_bytes()));
    let dp_name = tlv(0xa0, &full_name);
    let issuer = tlv(0xa2, &tlv(0xa4, crl_issuer_name));
    tlv(0x30, &tlv(0x30, &[dp_name, issuer].concat()))
}

/// TNAuthList with one `[0] SPC` entry per code.
pub fn tn_auth_list_spcs(spcs: &[&str]) -> Vec<u8> {
    let entries: Vec<u8> = spcs
        .iter()
        .flat_map(|s| tlv(0xa0, &tlv(0x16, s.as_bytes())))
        .collect();
    tlv(0x30, &entries)
}

/// How a test leaf differs from a compliant one.
#[derive(Clone)]
pub struct LeafOpts {
    pub cn: String,
    pub tn: Option<Vec<u8>>,
    pub days: (i64, i64),
    /// `None`: no CRL Distribution Points extension.
    pub cdp: Option<Vec<u8>>,
    pub serial: Option<Vec<u8>>,
}

fn ca(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, cn);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

/// DER TNAuthList with one entry: `[0] IA5String spc` (the production shape) or `[2] IA5String tn`.
pub fn tn_auth_list(tag: u8, value: &str) -> Vec<u8> {
    let s = value.as_bytes();
    let mut ia5 = vec![0x16, s.len() as u8];
    ia5.extend_from_slice(s);
    let mut entry = vec![tag, ia5.len() as u8];
    entry.extend(ia5);
    let mut list = vec![0x30, entry.len() as u8];
    list.extend(entry);
    list
}

fn leaf(issuer: &Issuer<'_, KeyPair>, o: LeafOpts) -> Leaf {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, o.cn.as_str());
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // rcgen 0.14 writes no extensions at all when Key Usage would be the only one.
    p.is_ca = IsCa::ExplicitNoCa;
    if let Some(der) = o.tn {
        p.custom_extensions
            .push(CustomExtension::from_oid_content(TN_AUTH_LIST, der));
    }
    if let Some(der) = o.cdp {
        p.custom_extensions
            .push(CustomExtension::from_oid_content(&[2, 5, 29, 31], der));
    }
    if let Some(serial) = o.serial {
        p.serial_number = Some(SerialNumber::from_slice(&serial));
    }
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now + time::Duration::days(o.days.0);
    p.not_after = now + time::Duration::days(o.days.1);
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    Leaf {
        cert_pem: cert.pem(),
        signer: Signer::from(&key),
    }
}

impl StiPki {
    /// Leaves whose CRL Distribution Point names a closed loopback port (revocation undetermined).
    pub fn new() -> StiPki {
        StiPki::with_crl_url("http://127.0.0.1:9/sti-pa.crl")
    }

    /// The PKI with every compliant leaf naming `crl_url` as its CRL (ATIS-1000080 §6.4.1).
    pub fn with_crl_url(crl_url: &str) -> StiPki {
        let dir = tempfile::tempdir().unwrap();
        let root_params = ca("sipcheck test STI-PA root");
        let root_key = KeyPair::generate().unwrap();
        let root = root_params.self_signed(&root_key).unwrap();
        let root_issuer = Issuer::new(root_params, root_key);
        let root_name = {
            use x509_parser::prelude::FromDer;
            let (_, c) = x509_parser::certificate::X509Certificate::from_der(root.der()).unwrap();
            c.subject().as_raw().to_vec()
        };
        let mut inter_params = ca("sipcheck test STI-CA intermediate");
        inter_params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[2, 5, 29, 31],
                cdp_der(crl_url, &root_name),
            ));
        let inter_key = KeyPair::generate().unwrap();
        let inter = inter_params.signed_by(&inter_key, &root_issuer).unwrap();
        let inter_issuer = Issuer::new(inter_params, inter_key);
        let other_params = ca("some other CA");
        let other_key = KeyPair::generate().unwrap();
        let other_issuer = Issuer::new(other_params, other_key);

        let good = LeafOpts {
            cn: "SHAKEN 1234".into(),
            tn: Some(tn_auth_list(0xa0, "1234")),
            days: (-1, 30),
            cdp: Some(cdp_der(crl_url, &root_name)),
            serial: None,
        };
        let with = |f: &dyn Fn(&mut LeafOpts)| {
            let mut o = good.clone();
            f(&mut o);
            o
        };
        let mut leaves = BTreeMap::new();
        leaves.insert("good", leaf(&inter_issuer, good.clone()));
        leaves.insert("other_ca", leaf(&other_issuer, good.clone()));
        leaves.insert(
            "expired",
            leaf(&inter_issuer, with(&|o| o.days = (-60, -30))),
        );
        leaves.insert("not_yet", leaf(&inter_issuer, with(&|o| o.days = (10, 40))));
        leaves.insert("no_tnauth", leaf(&inter_issuer, with(&|o| o.tn = None)));
        leaves.insert(
            "tn_entry",
            leaf(
                &inter_issuer,
                with(&|o| o.tn = Some(tn_auth_list(0xa2, ORIG))),
            ),
        );
        leaves.insert("revoked", leaf(&inter_issuer, good.clone()));
        leaves.insert("no_cdp", leaf(&inter_issuer, with(&|o| o.cdp = None)));
        leaves.insert(
            "crl_down",
            leaf(
                &inter_issuer,
                with(&|o| o.cdp = Some(cdp_der("http://127.0.0.1:9/down.crl", &root_name))),
            ),
        );
        leaves.insert(
            "third_party",
            leaf(
                &inter_issuer,
                with(&|o| {
                    o.cn = "SHAKEN 5678".into();
                    o.tn = Some(tn_auth_list(0xa0, "5678"));
                }),
            ),
        );
        leaves.insert(
            "cn_mismatch",
            leaf(&inter_issuer, with(&|o| o.cn = "SHAKEN 9999".into())),
        );
        leaves.insert(
            "two_spc",
            leaf(
                &inter_issuer,
                with(&|o| o.tn = Some(tn_auth_list_spcs(&["1234", "5678"]))),
            ),
        );
        leaves.insert(
            "short_serial",
            leaf(&inter_issuer, with(&|o| o.serial = Some(vec![0x01, 0x02]))),
        );
        let root_pem = dir.path().join("sti-root.pem");
        std::fs::write(&root_pem, root.pem()).unwrap();
        StiPki {
            dir,
            root_pem,
            intermediate_pem: inter.pem(),
            leaves,
            root_issuer,
            crl_url: crl_url.to_string(),
        }
    }

    pub fn leaf(&self, name: &str) -> &Leaf {
        &self.leaves[name]
    }

    /// The x5u file of a leaf: the leaf, then the intermediate.
    pub fn chain(&self, name: &str) -> String {
        format!("{}{}", self.leaf(name).cert_pem, self.intermediate_pem)
    }

    /// The serial number of a leaf, as DER integer content.
    pub fn serial(&self, name: &str) -> Vec<u8> {
        use x509_parser::prelude::FromDer;
        let der = x509_parser::pem::parse_x509_pem(self.leaf(name).cert_pem.as_bytes())
            .unwrap()
            .1
            .contents;
        let (_, c) = x509_parser::certificate::X509Certificate::from_der(&der).unwrap();
        c.raw_serial().to_vec()
    }

    /// The intermediate's serial number, as DER integer content.
    pub fn intermediate_serial(&self) -> Vec<u8> {
        use x509_parser::prelude::FromDer;
        let der = x509_parser::pem::parse_x509_pem(self.intermediate_pem.as_bytes())
            .unwrap()
            .1
            .contents;
        let (_, c) = x509_parser::certificate::X509Certificate::from_der(&der).unwrap();
        c.raw_serial().to_vec()
    }

    /// The STI-PA CRL (DER), signed by the root, revoking these leaves; next update in a day.
    pub fn crl(&self, revoked: &[&str]) -> Vec<u8> {
        let serials: Vec<Vec<u8>> = revoked.iter().map(|n| self.serial(n)).collect();
        self.crl_of(&serials)
    }

    /// The STI-PA CRL revoking these serial numbers.
    pub fn crl_of(&self, serials: &[Vec<u8>]) -> Vec<u8> {
        let now = time::OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now - time::Duration::hours(1),
            next_update: now + time::Duration::days(1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|serial| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(serial),
                    revocation_time: now - time::Duration::hours(2),
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&self.root_issuer).unwrap().der().to_vec()
    }
}

/// A plain-HTTP server on loopback answering every request with one of `files` (path → complete
/// answer), or 404; it counts the requests it got. Stopped when dropped.
pub struct HttpFiles {
    pub port: u16,
    files: std::sync::Arc<std::sync::Mutex<BTreeMap<String, Vec<u8>>>>,
    pub hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpFiles {
    pub fn start() -> HttpFiles {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let files: std::sync::Arc<std::sync::Mutex<BTreeMap<String, Vec<u8>>>> = Default::default();
        let hits: std::sync::Arc<std::sync::atomic::AtomicUsize> = Default::default();
        let stop: std::sync::Arc<std::sync::atomic::AtomicBool> = Default::default();
        let (f, h, st) = (files.clone(), hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            // Bounded: the test drops the server within its own time limit.
            let deadline = Instant::now() + Duration::from_secs(300);
            while !st.load(Ordering::SeqCst) && Instant::now() < deadline {
                let Ok((mut s, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                h.fetch_add(1, Ordering::SeqCst);
                let answer = f.lock().unwrap().get(&path).cloned().unwrap_or_else(|| {
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()
                });
                let _ = s.write_all(&answer);
            }
        });
        HttpFiles {
            port,
            files,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Serves `body` at `path` with a 200 and `content_type`.
    pub fn put(&self, path: &str, content_type: &str, body: &[u8]) {
        let mut a = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        a.extend_from_slice(body);
        self.files.lock().unwrap().insert(path.to_string(), a);
    }

    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for HttpFiles {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// openssl `s_server -HTTP` on a free loopback port serving `files` (name → complete HTTP answer).
pub struct X5uServer {
    child: Child,
    pub port: u16,
    pub web: TestPki,
    _www: tempfile::TempDir,
}

/// The answer an STI-CR gives: the PEM chain content type and a caching directive.
pub fn ok_answer(body: &str) -> String {
    format!(
        "HTTP/1.0 200 OK\r\nContent-Type: application/pem-certificate-chain\r\nCache-Control: max-age=3600\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The loopback blocks the tests' own servers use (`--fetch-allow`).
pub const FETCH_ALLOW: &str = "127.0.0.0/8";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl X5uServer {
    pub fn start(files: &[(&str, String)]) -> X5uServer {
        let web = TestPki::new(&LeafSpec::default());
        let www = tempfile::tempdir().unwrap();
        for (name, body) in files {
            std::fs::write(www.path().join(name), body).unwrap();
        }
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = Command::new("openssl");
            cmd.args(["s_server", "-HTTP", "-quiet", "-accept"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("-cert")
                .arg(&web.cert_pem)
                .arg("-key")
                .arg(&web.key_pem)
                .current_dir(www.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let mut child = cmd.spawn().expect("openssl s_server");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return X5uServer {
                        child,
                        port,
                        web,
                        _www: www,
                    };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            super::stop_group(&mut child, Duration::from_secs(1));
        }
        panic!("openssl s_server did not start");
    }

    pub fn url(&self, name: &str) -> String {
        format!("https://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for X5uServer {
    fn drop(&mut self) {
        super::stop_group(&mut self.child, Duration::from_secs(2));
    }
}

/// A loopback TCP port that accepts and never answers: the slow x5u host.
pub fn silent_listener() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

pub fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn jose(x5u: &str) -> serde_json::Value {
    serde_json::json!({"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": x5u})
}

pub fn claims(attest: &str, iat: i64) -> serde_json::Value {
    serde_json::json!({
        "attest": attest,
        "dest": {"tn": [DEST]},
        "iat": iat,
        "orig": {"tn": ORIG},
        "origid": "4437c7eb-8f7a-4f0e-a863-f53a0e60251a"
    })
}

/// `header.payload.signature` signed by `signer`.
pub fn token(header: &serde_json::Value, claims: &serde_json::Value, signer: &Signer) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = signer.sign(input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

pub fn identity(token: &str, info: &str) -> String {
    format!("{token};info=<{info}>;alg=ES256;ppt=shaken")
}

/// An INVITE as a trunk delivers it; Identity last, after Content-Length, as secsipid puts it.
pub fn invite(from_tn: &str, to_tn: &str, extra: &[String]) -> String {
    let mut s = format!(
        "INVITE sip:+{to_tn}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-sti1\r\nMax-Forwards: 69\r\nFrom: <sip:+{from_tn}@127.0.0.1>;tag=f1\r\nTo: <sip:+{to_tn}@127.0.0.1>\r\nCall-ID: sti-test@127.0.0.1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n"
    );
    for h in extra {
        s.push_str(h);
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    s
}
