//! A real Kamailio for integration tests: rendered config, per-test certificate, free loopback ports,
//! its own process group, stopped (SIGTERM, then SIGKILL) on drop.

#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::certs::{LeafSpec, TestPki};

const CFG: &str = include_str!("../kamailio/kamailio.cfg.tmpl");
const TLS_CFG: &str = include_str!("../kamailio/tls.cfg.tmpl");

/// How to set up a test Kamailio.
#[derive(Clone, Debug)]
pub struct KamailioOptions {
    /// Loopback address to listen on (127.0.0.x).
    pub address: IpAddr,
    /// Also listen on [::1] on the same ports.
    pub ipv6: bool,
    /// Kamailio tls.cfg `method` (TLSv1.2+, TLSv1+, …).
    pub tls_method: String,
    pub leaf: LeafSpec,
    /// Route script inserted before the stock OPTIONS handling.
    pub route: String,
    /// Extra `loadmodule` lines' module names (e.g. "auth.so").
    pub modules: Vec<String>,
    /// Extra raw config lines after the module parameters (modparam(...), route blocks, …).
    pub modparams: String,
    /// Extra global config lines (before listen lines).
    pub globals: String,
    /// Extra environment for the Kamailio process (e.g. SSL_CERT_FILE for secsipid's HTTPS fetches).
    pub env: Vec<(String, String)>,
    /// Mutual TLS: the TLS port requires a client certificate from the test CA
    /// (tls.cfg `verify_certificate` and `require_certificate`, `ca_list`).
    pub require_client_cert: bool,
    /// A certificate and key (PEM paths) to serve instead of the test PKI's ECDSA leaf, e.g. an RSA
    /// one so that static-RSA key exchange is possible.
    pub certificate: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl Default for KamailioOptions {
    fn default() -> Self {
        KamailioOptions {
            address: "127.0.0.1".parse().unwrap(),
            ipv6: true,
            tls_method: "TLSv1.2+".into(),
            leaf: LeafSpec::default(),
            route: String::new(),
            modules: Vec::new(),
            modparams: String::new(),
            globals: String::new(),
            env: Vec::new(),
            require_client_cert: false,
            certificate: None,
        }
    }
}

/// A running Kamailio.
pub struct Kamailio {
    child: Child,
    pub address: IpAddr,
    /// UDP and TCP port.
    pub port: u16,
    /// TLS port (`port + 1`, sipcheck's default for an explicit port).
    pub tls_port: u16,
    pub pki: TestPki,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
}

fn module_dir() -> String {
    for d in [
        "/usr/lib/x86_64-linux-gnu/kamailio/modules/",
        "/usr/lib/aarch64-linux-gnu/kamailio/modules/",
        "/usr/lib/kamailio/modules/",
    ] {
        if std::path::Path::new(d).join("tm.so").exists() {
            return d.to_string();
        }
    }
    panic!(
        "Kamailio modules not found: install the Debian packages kamailio and kamailio-tls-modules (see .ci/run)"
    );
}

/// A base port where UDP `p`, TCP `p` and TCP `p+1` are free on `addr` (and on ::1 when asked).
pub fn free_port_pair(addr: IpAddr, ipv6: bool) -> u16 {
    use rand::Rng;
    let mut rng = rand::rng();
    for _ in 0..200 {
        let p: u16 = rng.random_range(20_000..60_000);
        let mut addrs = vec![addr];
        if ipv6 {
            addrs.push("::1".parse().unwrap());
        }
        let ok = addrs.iter().all(|a| {
            UdpSocket::bind(SocketAddr::new(*a, p)).is_ok()
                && TcpListener::bind(SocketAddr::new(*a, p)).is_ok()
                && TcpListener::bind(SocketAddr::new(*a, p + 1)).is_ok()
        });
        if ok {
            return p;
        }
    }
    panic!("no free port pair found on {addr}");
}

impl Kamailio {
    pub fn start() -> Kamailio {
        Kamailio::start_with(KamailioOptions::default())
    }

    /// Starts Kamailio, retrying on fresh ports when another test took the chosen ones between the
    /// free-port check and Kamailio's bind (the machine runs many tests at once).
    pub fn start_with(opts: KamailioOptions) -> Kamailio {
        let mut last = String::new();
        for _ in 0..4 {
            match Kamailio::try_start(&opts) {
                Ok(k) => return k,
                Err(e) if e.contains("exited early") => last = e,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("kamailio could not start after 4 tries: {last}");
    }

    fn try_start(opts: &KamailioOptions) -> Result<Kamailio, String> {
        let mpath = module_dir();
        let pki = TestPki::new(&opts.leaf);
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port_pair(opts.address, opts.ipv6);
        let tls_port = port + 1;
        let fmt_addr = |a: IpAddr| match a {
            IpAddr::V6(v) => format!("[{v}]"),
            v => v.to_string(),
        };
        let mut listen = String::new();
        let mut addrs = vec![opts.address];
        if opts.ipv6 {
            addrs.push("::1".parse().unwrap());
        }
        for a in &addrs {
            let a = fmt_addr(*a);
            listen.push_str(&format!(
                "listen=udp:{a}:{port}\nlisten=tcp:{a}:{port}\nlisten=tls:{a}:{tls_port}\n"
            ));
        }
        let modules: String = opts
            .modules
            .iter()
            .map(|m| format!("loadmodule \"{m}\"\n"))
            .collect();
        let (cert, key) = opts
            .certificate
            .clone()
            .unwrap_or_else(|| (pki.cert_pem.clone(), pki.key_pem.clone()));
        let tls_cfg = dir.path().join("tls.cfg");
        std::fs::write(
            &tls_cfg,
            TLS_CFG
                .replace("@@TLS_METHOD@@", &opts.tls_method)
                .replace("@@CERT@@", &cert.display().to_string())
                .replace("@@KEY@@", &key.display().to_string())
                .replace(
                    "@@VERIFY_CLIENT@@",
                    if opts.require_client_cert {
                        "yes"
                    } else {
                        "no"
                    },
                )
                .replace(
                    "@@CA_LIST@@",
                    &if opts.require_client_cert {
                        format!("ca_list = {}", pki.ca_pem.display())
                    } else {
                        String::new()
                    },
                ),
        )
        .unwrap();
        let cfg = CFG
            .replace("@@MPATH@@", &mpath)
            .replace("@@LISTEN@@", &format!("{}\n{listen}", opts.globals))
            .replace("@@MODULES@@", &modules)
            .replace("@@TLSCFG@@", &tls_cfg.display().to_string())
            .replace("@@MODPARAMS@@", &opts.modparams)
            .replace("@@ROUTE@@", &opts.route);
        let cfg_path = dir.path().join("kamailio.cfg");
        std::fs::write(&cfg_path, cfg).unwrap();
        let log = dir.path().join("kamailio.log");
        let logf = std::fs::File::create(&log).unwrap();
        use std::os::unix::process::CommandExt;
        let child = Command::new("kamailio")
            .arg("-f")
            .arg(&cfg_path)
            .args(["-DD", "-E", "-m", "64", "-M", "8"])
            .arg("-Y")
            .arg(dir.path())
            .arg("-w")
            .arg(dir.path())
            .envs(opts.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(logf.try_clone().unwrap())
            .stderr(logf)
            .process_group(0)
            .spawn()
            .expect("cannot start kamailio: install the Debian package kamailio (see .ci/run)");
        let mut k = Kamailio {
            child,
            address: opts.address,
            port,
            tls_port,
            pki,
            dir,
            log,
        };
        k.wait_ready()?;
        Ok(k)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "kamailio exited early ({status}); log:\n{}",
                    self.log_text()
                ));
            }
            let up = TcpStream::connect_timeout(
                &SocketAddr::new(self.address, self.port),
                Duration::from_millis(200),
            )
            .is_ok()
                && TcpStream::connect_timeout(
                    &SocketAddr::new(self.address, self.tls_port),
                    Duration::from_millis(200),
                )
                .is_ok();
            if up && self.udp_answers() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "kamailio did not come up within 15 s; log:\n{}",
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn udp_answers(&self) -> bool {
        let bind = if self.address.is_ipv6() {
            "[::1]:0"
        } else {
            "127.0.0.1:0"
        };
        let Ok(s) = UdpSocket::bind(bind) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
        let msg = format!(
            "OPTIONS sip:{a}:{p} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bK-ready-{p}\r\nMax-Forwards: 5\r\nFrom: <sip:ready@test>;tag=r\r\nTo: <sip:{a}>\r\nCall-ID: ready-{p}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
            a = self.address,
            p = self.port,
            l = s.local_addr().unwrap()
        );
        if s.send_to(msg.as_bytes(), SocketAddr::new(self.address, self.port))
            .is_err()
        {
            return false;
        }
        let mut buf = [0u8; 4096];
        matches!(s.recv(&mut buf), Ok(n) if buf[..n].starts_with(b"SIP/2.0 200"))
    }

    /// `address:port` for sipcheck (TLS is then found on port + 1).
    pub fn target(&self) -> String {
        match self.address {
            IpAddr::V6(a) => format!("[{a}]:{}", self.port),
            a => format!("{a}:{}", self.port),
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The lines of its log that say our traffic hurt it: its allocator catching a double free, a
    /// worker killed by a signal, or its allocator finding a fragment overwritten.
    pub fn damage(&self) -> Vec<String> {
        const DAMAGE: [&str; 3] = [
            "freeing already freed",
            "exited by a signal",
            "beginning overwritten",
        ];
        self.log_text()
            .lines()
            .filter(|l| DAMAGE.iter().any(|d| l.contains(d)))
            .map(str::to_string)
            .collect()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // Kamailio's main process stops its children on SIGTERM; the process group catches stragglers.
        crate::support::stop_group(&mut self.child, Duration::from_secs(3));
    }
}
