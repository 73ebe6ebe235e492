//! A test STI PKI (root → intermediate → SP leaves with TNAuthList, plus the broken variants the
//! tamper table needs), PASSporT signing, and an x5u HTTPS server (openssl `s_server -HTTP`, which
//! serves each file as a complete HTTP answer, so a file can be a 404).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
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

fn leaf(issuer: &Issuer<'_, KeyPair>, cn: &str, tn: Option<Vec<u8>>, days: (i64, i64)) -> Leaf {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // rcgen 0.14 writes no extensions at all when Key Usage would be the only one.
    p.is_ca = IsCa::ExplicitNoCa;
    if let Some(der) = tn {
        p.custom_extensions
            .push(CustomExtension::from_oid_content(TN_AUTH_LIST, der));
    }
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now + time::Duration::days(days.0);
    p.not_after = now + time::Duration::days(days.1);
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    Leaf {
        cert_pem: cert.pem(),
        signer: Signer::from(&key),
    }
}

impl StiPki {
    pub fn new() -> StiPki {
        let dir = tempfile::tempdir().unwrap();
        let root_params = ca("sipcheck test STI-PA root");
        let root_key = KeyPair::generate().unwrap();
        let root = root_params.self_signed(&root_key).unwrap();
        let root_issuer = Issuer::new(root_params, root_key);
        let inter_params = ca("sipcheck test STI-CA intermediate");
        let inter_key = KeyPair::generate().unwrap();
        let inter = inter_params.signed_by(&inter_key, &root_issuer).unwrap();
        let inter_issuer = Issuer::new(inter_params, inter_key);
        let other_params = ca("some other CA");
        let other_key = KeyPair::generate().unwrap();
        let other_issuer = Issuer::new(other_params, other_key);

        let spc = || Some(tn_auth_list(0xa0, "1234"));
        let mut leaves = BTreeMap::new();
        leaves.insert("good", leaf(&inter_issuer, "SHAKEN 1234", spc(), (-1, 30)));
        leaves.insert(
            "other_ca",
            leaf(&other_issuer, "SHAKEN 1234", spc(), (-1, 30)),
        );
        leaves.insert(
            "expired",
            leaf(&inter_issuer, "SHAKEN 1234", spc(), (-60, -30)),
        );
        leaves.insert(
            "not_yet",
            leaf(&inter_issuer, "SHAKEN 1234", spc(), (10, 40)),
        );
        leaves.insert(
            "no_tnauth",
            leaf(&inter_issuer, "SHAKEN 1234", None, (-1, 30)),
        );
        leaves.insert(
            "tn_entry",
            leaf(
                &inter_issuer,
                "SHAKEN 1234",
                Some(tn_auth_list(0xa2, ORIG)),
                (-1, 30),
            ),
        );
        let root_pem = dir.path().join("sti-root.pem");
        std::fs::write(&root_pem, root.pem()).unwrap();
        StiPki {
            dir,
            root_pem,
            intermediate_pem: inter.pem(),
            leaves,
        }
    }

    pub fn leaf(&self, name: &str) -> &Leaf {
        &self.leaves[name]
    }

    /// The x5u file of a leaf: the leaf, then the intermediate.
    pub fn chain(&self, name: &str) -> String {
        format!("{}{}", self.leaf(name).cert_pem, self.intermediate_pem)
    }
}

/// openssl `s_server -HTTP` on a free loopback port serving `files` (name → complete HTTP answer).
pub struct X5uServer {
    child: Child,
    pub port: u16,
    pub web: TestPki,
    _www: tempfile::TempDir,
}

pub fn ok_answer(body: &str) -> String {
    format!(
        "HTTP/1.0 200 OK\r\nContent-Type: application/pem-certificate-chain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

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
