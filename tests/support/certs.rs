//! Per-test certificates: a throwaway CA and a leaf for the test SIP domain, written as PEM files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};

/// The SIP domain the test certificates are issued for.
pub const DOMAIN: &str = "sip.test";

/// What to put in a leaf certificate.
#[derive(Clone, Debug)]
pub struct LeafSpec {
    pub dns: Vec<String>,
    pub ips: Vec<std::net::IpAddr>,
    pub sip_uris: Vec<String>,
    /// Days from now; negative for an already expired certificate.
    pub not_after_days: i64,
    /// The leaf's extended key usages; none (no EKU extension) when empty.
    pub eku: Vec<ExtendedKeyUsagePurpose>,
}

impl Default for LeafSpec {
    fn default() -> Self {
        LeafSpec {
            dns: vec![DOMAIN.into()],
            ips: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
            sip_uris: vec![format!("sip:{DOMAIN}")],
            not_after_days: 90,
            eku: Vec::new(),
        }
    }
}

/// PEM files of a CA and a leaf it signed.
pub struct TestPki {
    pub dir: tempfile::TempDir,
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
    /// The leaf and CA, for servers that want the chain in one file.
    pub chain_pem: PathBuf,
    /// A client certificate (EKU clientAuth, CN sipcheck-client) from the same CA, and its key.
    pub client_cert_pem: PathBuf,
    pub client_key_pem: PathBuf,
}

impl TestPki {
    pub fn new(spec: &LeafSpec) -> TestPki {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "sipcheck test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.distinguished_name.push(DnType::CommonName, DOMAIN);
        for d in &spec.dns {
            leaf.subject_alt_names
                .push(SanType::DnsName(d.as_str().try_into().unwrap()));
        }
        for ip in &spec.ips {
            leaf.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        for u in &spec.sip_uris {
            leaf.subject_alt_names
                .push(SanType::URI(u.as_str().try_into().unwrap()));
        }
        let now = time::OffsetDateTime::now_utc();
        if spec.not_after_days < 0 {
            leaf.not_before = now + time::Duration::days(spec.not_after_days - 30);
        } else {
            leaf.not_before = now - time::Duration::days(1);
        }
        leaf.not_after = now + time::Duration::days(spec.not_after_days);
        leaf.extended_key_usages = spec.eku.clone();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();

        let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
        client
            .distinguished_name
            .push(DnType::CommonName, "sipcheck-client");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        client.not_before = now - time::Duration::days(1);
        client.not_after = now + time::Duration::days(30);
        let client_key = KeyPair::generate().unwrap();
        let client_cert = client.signed_by(&client_key, &issuer).unwrap();

        let write = |name: &str, text: &str| -> PathBuf {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let ca_pem = write("ca.pem", &ca_cert.pem());
        let cert_pem = write("cert.pem", &leaf_cert.pem());
        let key_pem = write("key.pem", &leaf_key.serialize_pem());
        let chain_pem = write(
            "chain.pem",
            &format!("{}{}", leaf_cert.pem(), ca_cert.pem()),
        );
        let client_cert_pem = write("client.pem", &client_cert.pem());
        let client_key_pem = write("client-key.pem", &client_key.serialize_pem());
        TestPki {
            dir,
            ca_pem,
            cert_pem,
            key_pem,
            chain_pem,
            client_cert_pem,
            client_key_pem,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}
