//! A real DNS server for discovery tests: Debian's dnsmasq serving a throwaway zone on a free loopback
//! port, authoritative for the zone (`--local`, so unknown names get NXDOMAIN), never forwarding
//! anywhere (`--no-resolv`), killed by PID on drop.
//!
//! Include it with `#[path = "support/dnsmasq.rs"] mod dnsmasq;`.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One zone entry, rendered as a dnsmasq option.
#[derive(Clone, Debug)]
pub enum Rr {
    /// `NAPTR owner order preference "flags" "service" "regexp" replacement`
    Naptr {
        owner: String,
        order: u16,
        preference: u16,
        flags: String,
        service: String,
        replacement: String,
    },
    /// `SRV owner priority weight port target`
    Srv {
        owner: String,
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    /// A and/or AAAA for a name.
    Host {
        name: String,
        addresses: Vec<String>,
    },
    /// Any other dnsmasq record option, verbatim (`--cname=a,b`, `--srv-host=_sips._tcp.x` for ".").
    Raw(String),
}

impl Rr {
    pub fn naptr(owner: &str, order: u16, pref: u16, flags: &str, service: &str, to: &str) -> Rr {
        Rr::Naptr {
            owner: owner.into(),
            order,
            preference: pref,
            flags: flags.into(),
            service: service.into(),
            replacement: to.into(),
        }
    }

    pub fn srv(owner: &str, priority: u16, weight: u16, port: u16, target: &str) -> Rr {
        Rr::Srv {
            owner: owner.into(),
            priority,
            weight,
            port,
            target: target.into(),
        }
    }

    pub fn host(name: &str, addresses: &[&str]) -> Rr {
        Rr::Host {
            name: name.into(),
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn arg(&self) -> String {
        match self {
            Rr::Naptr {
                owner,
                order,
                preference,
                flags,
                service,
                replacement,
            } => format!(
                "--naptr-record={owner},{order},{preference},{flags},{service},,{replacement}"
            ),
            Rr::Srv {
                owner,
                priority,
                weight,
                port,
                target,
            } => format!("--srv-host={owner},{target},{port},{priority},{weight}"),
            Rr::Host { name, addresses } => {
                format!("--host-record={name},{}", addresses.join(","))
            }
            Rr::Raw(arg) => arg.clone(),
        }
    }
}

/// A running dnsmasq.
pub struct Dnsmasq {
    child: Child,
    pub port: u16,
    log: tempfile::NamedTempFile,
}

fn free_port() -> u16 {
    use rand::Rng;
    let mut rng = rand::rng();
    for _ in 0..200 {
        let p: u16 = rng.random_range(20_000..60_000);
        let a = SocketAddr::from(([127, 0, 0, 1], p));
        if UdpSocket::bind(a).is_ok() && TcpListener::bind(a).is_ok() {
            return p;
        }
    }
    panic!("no free port for dnsmasq on 127.0.0.1");
}

impl Dnsmasq {
    /// Starts dnsmasq authoritative for `zone` (e.g. `sip.test`) with the given records.
    pub fn start(zone: &str, records: &[Rr]) -> Dnsmasq {
        let mut last_log = String::new();
        // A port found free can be taken before dnsmasq binds it: retry a few times.
        for _ in 0..3 {
            let port = free_port();
            let log = tempfile::NamedTempFile::new().expect("temp file");
            let mut cmd = Command::new("dnsmasq");
            cmd.args([
                "--no-daemon",
                "--conf-file=/dev/null",
                "--pid-file=",
                "--no-resolv",
                "--no-hosts",
                "--no-poll",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--log-facility=-",
                "--cache-size=0",
            ])
            .arg(format!("--port={port}"))
            .arg(format!("--local=/{zone}/"))
            .args(records.iter().map(Rr::arg))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("log file"));
            let mut child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => panic!(
                    "cannot start dnsmasq ({e}): install the Debian package dnsmasq-base (see .ci/run)"
                ),
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    last_log = std::fs::read_to_string(log.path()).unwrap_or_default();
                    break;
                }
                if TcpStream::connect_timeout(
                    &SocketAddr::from(([127, 0, 0, 1], port)),
                    Duration::from_millis(200),
                )
                .is_ok()
                {
                    return Dnsmasq { child, port, log };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "dnsmasq did not come up within 10 s; log:\n{}",
                        std::fs::read_to_string(log.path()).unwrap_or_default()
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("dnsmasq exited at start three times; last log:\n{last_log}");
    }

    /// `127.0.0.1:PORT`, for `--dns-server`.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
