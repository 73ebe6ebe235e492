//! A real rtpengine (Debian `rtpengine-daemon`) as a carrier's media relay in tests: userspace only
//! (`table = -1`, no kernel module), media on 127.0.0.1 from a port range of its own, its `ng` control
//! and its CLI on loopback, its own config file (never /etc/rtpengine), in the foreground, in its own
//! process group, stopped by PID on drop. Its own view of the calls is read with `rtpengine-ctl`.
//!
//! Facts this relies on (measured with rtpengine 10.5.3.5): a deleted call stays listed for
//! `delete-delay` seconds, so a test reads the call after sipcheck hung up; `list sessions all` prints
//! one `callid: …` line per call, `list sessions CALLID` the call's streams with their negotiated
//! protocol, learned endpoint and packet counters; at `log-level = 7` its log names every change of a
//! learned endpoint (`Peer address changed from A to B`) and every forward (`-> remote B (RTP`).

#![allow(dead_code)]

use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How rtpengine learns a stream's endpoint (its `endpoint-learning` setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learning {
    /// The default: follows the newest source for 3 s, then commits.
    Delayed,
    /// Commits to the first source seen.
    Immediate,
    /// As delayed, but prefers a source matching the SDP address.
    Heuristic,
}

impl Learning {
    fn word(self) -> &'static str {
        match self {
            Learning::Delayed => "delayed",
            Learning::Immediate => "immediate",
            Learning::Heuristic => "heuristic",
        }
    }
}

pub struct Rtpengine {
    child: Child,
    /// `ng` control port (UDP) on 127.0.0.1, for Kamailio's `rtpengine_sock`.
    pub ng_port: u16,
    /// CLI port (TCP) on 127.0.0.1, for `rtpengine-ctl`.
    pub cli_port: u16,
    /// First and last media port.
    pub ports: (u16, u16),
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
}

/// A port whose UDP `p` and TCP `p + 1` are free on 127.0.0.1, and a free-looking media range.
fn free_ports() -> (u16, u16, u16) {
    use rand::Rng;
    let mut rng = rand::rng();
    for _ in 0..200 {
        let p: u16 = rng.random_range(20_000..40_000);
        if UdpSocket::bind(("127.0.0.1", p)).is_ok()
            && TcpListener::bind(("127.0.0.1", p + 1)).is_ok()
        {
            let media: u16 = rng.random_range(40_000..60_000) & !1;
            return (p, p + 1, media);
        }
    }
    panic!("no free ports for rtpengine on 127.0.0.1");
}

impl Rtpengine {
    /// Starts rtpengine with `learning`, retrying on fresh ports when another test took the chosen ones.
    pub fn start(learning: Learning) -> Rtpengine {
        let mut last = String::new();
        for _ in 0..4 {
            match Rtpengine::try_start(learning) {
                Ok(r) => return r,
                Err(e) => last = e,
            }
        }
        panic!("rtpengine could not start after 4 tries: {last}");
    }

    fn try_start(learning: Learning) -> Result<Rtpengine, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ng_port, cli_port, media) = free_ports();
        let ports = (media, media + 99);
        let config = format!(
            "[rtpengine]\n\
             table = -1\n\
             interface = 127.0.0.1\n\
             listen-ng = 127.0.0.1:{ng_port}\n\
             listen-cli = 127.0.0.1:{cli_port}\n\
             foreground = true\n\
             log-stderr = true\n\
             log-level = 7\n\
             port-min = {}\n\
             port-max = {}\n\
             delete-delay = 30\n\
             timeout = 20\n\
             endpoint-learning = {}\n",
            ports.0,
            ports.1,
            learning.word()
        );
        let conf = dir.path().join("rtpengine.conf");
        std::fs::write(&conf, config).unwrap();
        let log = dir.path().join("rtpengine.log");
        let logf = std::fs::File::create(&log).unwrap();
        use std::os::unix::process::CommandExt;
        let child = Command::new("rtpengine")
            .arg(format!("--config-file={}", conf.display()))
            .arg(format!("--pidfile={}", dir.path().join("rtpengine.pid").display()))
            .stdin(Stdio::null())
            .stdout(logf.try_clone().unwrap())
            .stderr(logf)
            .process_group(0)
            .spawn()
            .expect(
                "cannot start rtpengine: install the Debian package rtpengine-daemon (scripts/setup-test-rig.sh)",
            );
        let mut r = Rtpengine {
            child,
            ng_port,
            cli_port,
            ports,
            dir,
            log,
        };
        r.wait_ready()?;
        Ok(r)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Err(format!(
                    "rtpengine exited early ({st}):\n{}",
                    self.log_text()
                ));
            }
            if self.log_text().contains("Startup complete") && self.ng_ping() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "rtpengine not ready within 10 s:\n{}",
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One `ng` ping (bencode over UDP): `d7:command4:pinge` answered by `d6:result4:ponge`.
    pub fn ng_ping(&self) -> bool {
        let Ok(s) = UdpSocket::bind("127.0.0.1:0") else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
        if s.send_to(b"c1 d7:command4:pinge", ("127.0.0.1", self.ng_port))
            .is_err()
        {
            return false;
        }
        let mut buf = [0u8; 512];
        matches!(s.recv(&mut buf), Ok(n) if buf[..n].windows(4).any(|w| w == b"pong"))
    }

    /// `rtpengine-ctl` against this instance's CLI, its output.
    pub fn ctl(&self, args: &[&str]) -> String {
        let out = Command::new("rtpengine-ctl")
            .arg("-ip")
            .arg(format!("127.0.0.1:{}", self.cli_port))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("cannot run rtpengine-ctl: install the Debian package rtpengine-utils");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The Call-IDs of the calls rtpengine holds (including deleted ones within `delete-delay`).
    pub fn call_ids(&self) -> Vec<String> {
        self.ctl(&["list", "sessions", "all"])
            .lines()
            .filter_map(|l| l.trim().strip_prefix("callid:"))
            .map(|s| s.split_whitespace().next().unwrap_or_default().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// rtpengine's own listing of one call.
    pub fn session(&self, call_id: &str) -> String {
        self.ctl(&["list", "sessions", call_id])
    }

    /// Every call's listing, one after another.
    pub fn sessions(&self) -> Vec<String> {
        self.call_ids().iter().map(|c| self.session(c)).collect()
    }

    /// How many `ng` commands named `command` (`Offer`, `Answer`, `Delete`, …) rtpengine has handled,
    /// from the control statistics of `list totals` (one row per proxy that spoke to it).
    pub fn ng_commands(&self, command: &str) -> u64 {
        let totals = self.ctl(&["list", "totals"]);
        let cells = |l: &str| {
            l.split('|')
                .map(|c| c.trim().to_string())
                .collect::<Vec<_>>()
        };
        let mut lines = totals
            .lines()
            .skip_while(|l| !l.contains("Control statistics"));
        let Some(header) = lines.find(|l| l.trim_start().starts_with("Proxy")) else {
            return 0;
        };
        let Some(col) = cells(header).iter().position(|c| c == command) else {
            panic!("no {command} column in rtpengine's control statistics:\n{totals}");
        };
        lines
            .map(cells)
            .filter(|row| row.len() > col)
            .filter_map(|row| row[col].parse::<u64>().ok())
            .sum()
    }

    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Rtpengine {
    fn drop(&mut self) {
        // rtpengine takes about a second to shut its threads down on SIGTERM.
        crate::support::stop_group(&mut self.child, Duration::from_secs(3));
    }
}
