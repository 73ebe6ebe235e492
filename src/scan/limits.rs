//! The range of every numeric option, in one place: the command line parses with these and
//! [`ScanOptions::validate`](super::ScanOptions::validate) checks with them, so a value out of range
//! gets the same one-line message (`--dos-max-requests 10001: must be between 1 and 10000`) however
//! far out it is and wherever it was given.

use std::time::Duration;

use crate::error::{Error, Result};

/// The accepted values of one numeric option.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    /// The flag as typed (`--rate`).
    pub flag: &'static str,
    /// Lowest value accepted.
    pub min: f64,
    /// Highest value accepted.
    pub max: f64,
    /// `min` itself is refused (a rate must be more than 0).
    pub above_min: bool,
    /// Only whole numbers.
    pub whole: bool,
    /// What the number counts, said after the bounds (`new requests per second`).
    pub unit: &'static str,
}

const fn whole(flag: &'static str, min: u32, max: u32) -> Range {
    Range {
        flag,
        min: min as f64,
        max: max as f64,
        above_min: false,
        whole: true,
        unit: "",
    }
}

/// `--rate`: new requests per second per address.
pub const RATE: Range = Range {
    flag: "--rate",
    min: 0.0,
    max: 10_000.0,
    above_min: true,
    whole: false,
    unit: "new requests per second",
};
/// `--max-connections`: simultaneous connections per address.
pub const MAX_CONNECTIONS: Range = whole("--max-connections", 1, 64);
/// `--dos-max-requests`: the cap of each flood probe.
pub const DOS_MAX_REQUESTS: Range = whole("--dos-max-requests", 1, 10_000);
/// `--max-calls`: calls one run may place.
pub const MAX_CALLS: Range = whole("--max-calls", 1, 1_000);
/// `--tls-port`.
pub const TLS_PORT: Range = whole("--tls-port", 1, 65_535);
/// `--parallel` (with `-f`): targets probed at once.
pub const PARALLEL: Range = whole("--parallel", 1, 1_024);
/// `listen --max-requests`: inbound requests recorded and answered.
pub const LISTEN_MAX_REQUESTS: Range = whole("--max-requests", 1, 10_000);
/// `--timeout`, in seconds: the longest wait for one answer.
pub const TIMEOUT: Range = Range {
    flag: "--timeout",
    min: 0.001,
    max: 3600.0,
    above_min: false,
    whole: false,
    unit: "",
};
/// `listen --duration`, in seconds.
pub const LISTEN_DURATION: Range = Range {
    flag: "--duration",
    ..TIMEOUT
};

impl Range {
    /// The bounds in words: `between 1 and 10000`, `more than 0 and at most 10000 new requests per
    /// second`, `between 1ms and 1h` for durations.
    pub fn bounds(&self) -> String {
        let n = |v: f64| {
            if self.flag == TIMEOUT.flag || self.flag == LISTEN_DURATION.flag {
                duration_words(v)
            } else {
                format!("{v}")
            }
        };
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        if self.above_min {
            format!(
                "more than {} and at most {}{unit}",
                n(self.min),
                n(self.max)
            )
        } else {
            format!("between {} and {}{unit}", n(self.min), n(self.max))
        }
    }

    /// The one-line message for `given` (as typed or as held).
    pub fn message(&self, given: impl std::fmt::Display) -> String {
        format!("{} {given}: must be {}", self.flag, self.bounds())
    }

    /// Whether `v` is accepted.
    pub fn contains(&self, v: f64) -> bool {
        let low = if self.above_min {
            v > self.min
        } else {
            v >= self.min
        };
        low && v <= self.max && (!self.whole || v.fract() == 0.0)
    }

    /// `Ok` when `v` is accepted, else the option error naming the flag and the bounds.
    pub fn check(&self, v: f64, shown: impl std::fmt::Display) -> Result<()> {
        if self.contains(v) {
            Ok(())
        } else {
            Err(Error::BadOption(self.message(shown)))
        }
    }

    /// Parses a whole number as typed; anything else, however large, gets [`message`](Self::message).
    pub fn parse_whole<T: TryFrom<i128>>(&self, s: &str) -> std::result::Result<T, String> {
        s.trim()
            .parse::<i128>()
            .ok()
            .filter(|&v| self.contains(v as f64))
            .and_then(|v| T::try_from(v).ok())
            .ok_or_else(|| self.message(s))
    }

    /// Parses a number as typed.
    pub fn parse_real(&self, s: &str) -> std::result::Result<f64, String> {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|&v| self.contains(v))
            .ok_or_else(|| self.message(s))
    }

    /// Parses a duration (`5s`, `800ms`, `2m`; a bare number is seconds).
    pub fn parse_duration(&self, s: &str) -> std::result::Result<Duration, String> {
        let t = s.trim();
        let (num, unit) = match t.find(|c: char| !c.is_ascii_digit() && c != '.') {
            Some(i) => (&t[..i], &t[i..]),
            None => (t, "s"),
        };
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => {
                return Err(format!(
                    "{} {s}: not a duration (use ms, s, m or h: 5s, 800ms); must be {}",
                    self.flag,
                    self.bounds()
                ));
            }
        };
        num.parse::<f64>()
            .ok()
            .map(|n| n * scale)
            .filter(|&secs| self.contains(secs))
            .map(Duration::from_secs_f64)
            .ok_or_else(|| self.message(s))
    }
}

fn duration_words(secs: f64) -> String {
    if secs >= 3600.0 && secs % 3600.0 == 0.0 {
        format!("{}h", secs / 3600.0)
    } else if secs >= 1.0 {
        format!("{secs}s")
    } else {
        format!("{}ms", secs * 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_out_and_just_out_get_the_same_words() {
        let far = DOS_MAX_REQUESTS
            .parse_whole::<u32>("99999999999")
            .unwrap_err();
        let near = DOS_MAX_REQUESTS.parse_whole::<u32>("10001").unwrap_err();
        assert_eq!(
            far,
            "--dos-max-requests 99999999999: must be between 1 and 10000"
        );
        assert_eq!(
            near,
            "--dos-max-requests 10001: must be between 1 and 10000"
        );
        assert_eq!(DOS_MAX_REQUESTS.parse_whole::<u32>("600"), Ok(600));
        assert!(DOS_MAX_REQUESTS.parse_whole::<u32>("abc").is_err());
    }

    #[test]
    fn rates_and_durations() {
        assert!(RATE.parse_real("0").unwrap_err().contains("more than 0"));
        assert!(RATE.parse_real("NaN").is_err());
        assert_eq!(RATE.parse_real("0.5"), Ok(0.5));
        assert_eq!(
            TIMEOUT.parse_duration("800ms"),
            Ok(Duration::from_millis(800))
        );
        assert_eq!(
            TIMEOUT.parse_duration("2h").unwrap_err(),
            "--timeout 2h: must be between 1ms and 1h"
        );
        assert!(TIMEOUT.parse_duration("forever").is_err());
    }
}
