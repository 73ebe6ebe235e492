//! Normalising volatile fields (times, ports, durations, branches, tags, Call-IDs, certificate dates)
//! out of rendered reports, so golden snapshots of real runs are stable.

#![allow(dead_code)]

use regex::Regex;

pub fn normalise(text: &str) -> String {
    let rules: &[(&str, &str)] = &[
        (
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "<TIME>",
        ),
        (r"(127\.0\.0\.\d+|\[::1\]|::1|0\.0\.0\.0):\d+", "$1:<PORT>"),
        (r"(127\.0\.0\.\d+|\[::1\]) \| \d+ \|", "$1 | <PORT> |"),
        (r#""(duration_ms|at_ms|port)": \d+"#, r#""$1": 0"#),
        (r#""rtt_ms": [\d.]+"#, r#""rtt_ms": 0"#),
        (r"in [\d.]+ ms", "in <N> ms"),
        (r"\+\d+ ms", "+<N> ms"),
        (r"answered in [\d.]+ ms", "answered in <N> ms"),
        (r#"time="[\d.]+""#, r#"time="0""#),
        (r"branch=[\w.\-]+", "branch=<BRANCH>"),
        (r"tag=[\w.\-]+", "tag=<TAG>"),
        (r"(?i)(call-id|i): [^\s\\]+", "$1: <CALLID>"),
        (r"rport=\d+", "rport=<PORT>"),
        (r"received=[\d.]+", "received=<ADDR>"),
        (r"to-tag=[\w.\-]+", "to-tag=<TAG>"),
        (r"expired \d+ days ago", "expired <N> days ago"),
        (r#""days_left": -?\d+"#, r#""days_left": 0"#),
        (r"/tmp/[\w.\-/]+\.pem", "<TMP>/ca.pem"),
        (
            r"(verification time|not valid after|not valid before|after) \d{9,}",
            "$1 <UNIX>",
        ),
    ];
    let v = env!("CARGO_PKG_VERSION");
    let mut s = text
        .replace(&format!("sipcheck/{v}"), "sipcheck/<VERSION>")
        .replace(&format!("sipcheck {v}"), "sipcheck <VERSION>")
        .replace(&format!("\"{v}\""), "\"<VERSION>\"");
    for (re, with) in rules {
        s = Regex::new(re).unwrap().replace_all(&s, *with).into_owned();
    }
    s
}
