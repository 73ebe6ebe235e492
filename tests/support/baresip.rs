//! A real, headless baresip (Debian `baresip-core`) as the far end of test calls: a config directory
//! the test owns, one account that auto-answers, audio from the `ausine` generator, and one of three
//! media set-ups. Started in its own process group and stopped by PID (SIGTERM, then SIGKILL) on drop.
//!
//! Facts this relies on (measured with baresip 1.0.0): it auto-answers only when the Request-URI carries
//! the account's user part (else 404); it sends media to the offer's `c=` address; `ausine` only
//! produces 48 kHz stereo, hence the resampler settings.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The media set-up of the far end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaMode {
    /// `mediaenc=srtp-mand`: SDES, SRTP mandatory.
    SdesMandatory,
    /// `mediaenc=dtls_srtp`.
    Dtls,
    /// No media encryption module at all.
    Plain,
}

pub struct Baresip {
    child: Child,
    pub mode: MediaMode,
    /// The account's user part (put it in the Request-URI or baresip answers 404).
    pub user: String,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
}

fn free_port(ip: &str) -> u16 {
    use rand::Rng;
    let mut rng = rand::rng();
    for _ in 0..200 {
        let p: u16 = rng.random_range(20_000..60_000);
        // baresip also listens for SIP over TLS on port + 1.
        if UdpSocket::bind((ip, p)).is_ok()
            && TcpListener::bind((ip, p)).is_ok()
            && TcpListener::bind((ip, p + 1)).is_ok()
        {
            return p;
        }
    }
    panic!("no free port for baresip on {ip}");
}

fn module_dir() -> &'static str {
    for d in [
        "/usr/lib/baresip/modules",
        "/usr/lib/x86_64-linux-gnu/baresip/modules",
        "/usr/lib/aarch64-linux-gnu/baresip/modules",
    ] {
        if std::path::Path::new(d).join("g711.so").exists() {
            return d;
        }
    }
    panic!("baresip modules not found: install the Debian package baresip-core (see .ci/run)");
}

impl Baresip {
    /// Starts baresip on `ip` (a 127.0.0.x address) with `mode`, RTCP on its own port.
    pub fn start(mode: MediaMode, ip: &str) -> Baresip {
        Baresip::start_with(mode, ip, false)
    }

    /// As [`start`](Self::start), with `rtcp_mux` choosing whether baresip accepts RTCP multiplexing.
    /// Ports are free when chosen but other tests run concurrently, so a lost race is retried.
    pub fn start_with(mode: MediaMode, ip: &str, rtcp_mux: bool) -> Baresip {
        for _ in 0..4 {
            match Baresip::try_start(mode, ip, rtcp_mux) {
                Ok(b) => return b,
                Err(log) if log.contains("Address already in use") => continue,
                Err(log) => panic!("baresip exited early; log:\n{log}"),
            }
        }
        panic!("baresip could not bind free ports on {ip} in 4 attempts");
    }

    fn try_start(mode: MediaMode, ip: &str, rtcp_mux: bool) -> Result<Baresip, String> {
        let mpath = module_dir();
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port(ip);
        let rtp_base: u16 = {
            use rand::Rng;
            rand::rng().random_range(10_000..19_000) & !1
        };
        let (mediaenc, module) = match mode {
            MediaMode::SdesMandatory => (";mediaenc=srtp-mand", "module\t\t\tsrtp.so\n"),
            MediaMode::Dtls => (";mediaenc=dtls_srtp", "module\t\t\tdtls_srtp.so\n"),
            MediaMode::Plain => ("", ""),
        };
        let config = format!(
            "poll_method\t\tepoll\n\
             sip_listen\t\t{ip}:{port}\n\
             net_interface\t\t{ip}\n\
             audio_source\t\tausine,440\n\
             ausrc_srate\t\t48000\nausrc_channels\t\t2\n\
             auplay_srate\t\t48000\nauplay_channels\t\t2\n\
             rtp_ports\t\t{rtp_base}-{}\n\
             rtcp_mux\t\t{}\n\
             module_path\t\t{mpath}\n\
             module\t\t\tg711.so\n\
             module\t\t\tausine.so\n\
             {module}\
             module_app\t\taccount.so\n\
             module_app\t\tmenu.so\n",
            rtp_base + 200,
            if rtcp_mux { "yes" } else { "no" }
        );
        std::fs::write(dir.path().join("config"), config).unwrap();
        let user = "bob".to_string();
        std::fs::write(
            dir.path().join("accounts"),
            format!("<sip:{user}@{ip}:{port}>;regint=0;answermode=auto{mediaenc}\n"),
        )
        .unwrap();
        std::fs::write(dir.path().join("contacts"), "").unwrap();
        let log = dir.path().join("baresip.log");
        let logf = std::fs::File::create(&log).unwrap();
        use std::os::unix::process::CommandExt;
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .arg("-v")
            .stdin(Stdio::null())
            .stdout(logf.try_clone().unwrap())
            .stderr(logf)
            .process_group(0)
            .spawn()
            .expect("cannot start baresip: install the Debian package baresip-core (see .ci/run)");
        let mut b = Baresip {
            child,
            mode,
            user,
            addr: SocketAddr::new(ip.parse().unwrap(), port),
            dir,
            log,
        };
        b.wait_ready()?;
        Ok(b)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Err(format!("exit {st}\n{}", self.log_text()));
            }
            if self.log_text().contains("baresip is ready") {
                return Ok(());
            }
            if Instant::now() > deadline {
                panic!("baresip not ready within 10 s; log:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `address:port` for sipcheck.
    pub fn target(&self) -> String {
        self.addr.to_string()
    }

    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// Calls baresip set up (answered) and calls it saw end, from its log.
    pub fn calls_answered_and_closed(&self) -> (usize, usize) {
        let log = self.log_text();
        (
            log.matches("answering call").count(),
            log.matches("session closed:").count(),
        )
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        // baresip can linger on SIGTERM while it closes sessions; it is ours, so make sure it is gone.
        crate::support::stop_group(&mut self.child, Duration::from_secs(2));
    }
}
