//! `tls.versions`, `tls.cipher_suites`, `tls.mismatch`, `tls.certificate`, `tls.groups`: the TLS scan
//! of every SIP-TLS endpoint with hand-made ClientHellos (see [`crate::tls::scan`]).

use serde_json::{Map, Value, json};

use super::tls_certificate;
use crate::probe::{BoxFuture, Context, Probe, Safety};
use crate::report::{Evidence, Finding, Severity, Status};
use crate::target::{Endpoint, Transport};
use crate::tls::scan::{Logged, ScanResult, Scanner};
use crate::tls::suites::{self, Grade};
use crate::tls::version::Version;
use crate::tls::{answer::Answer, groups};

pub struct TlsScan;

const IDS: [&str; 5] = [
    "tls.versions",
    "tls.cipher_suites",
    "tls.mismatch",
    "tls.certificate",
    "tls.groups",
];

impl Probe for TlsScan {
    fn id(&self) -> &'static str {
        "tls.scan"
    }
    fn title(&self) -> &'static str {
        "TLS scan: versions, cipher suites, mismatch handling, certificate, groups"
    }
    fn safety(&self) -> Safety {
        Safety::Safe
    }
    fn questions(&self) -> &'static [u8] {
        &[1, 2, 3, 4, 10]
    }
    fn finding_ids(&self) -> Vec<&'static str> {
        IDS.to_vec()
    }
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let eps: Vec<Endpoint> = ctx.endpoints_on(Transport::Tls).cloned().collect();
            if eps.is_empty() {
                return crate::probe::skipped(
                    self,
                    "no TLS endpoint (TLS not selected, or not published in DNS: see dns.srv)",
                );
            }
            let mut out = Vec::new();
            for ep in eps {
                out.extend(scan_endpoint(ctx, &ep).await);
            }
            out
        })
    }
}

pub(crate) fn base(id: &str, title: &str, ep: &Endpoint, q: &[u8], rfcs: &[&str]) -> Finding {
    Finding::new(id, title, Status::Info, "")
        .endpoint(ep)
        .questions(q)
        .rfcs(rfcs)
}

pub(crate) fn with(f: Finding, status: Status, summary: String, details: Value) -> Finding {
    let severity = match status {
        Status::Fail => Severity::High,
        Status::Warn => Severity::Medium,
        Status::Error | Status::Blocked => Severity::Low,
        _ => Severity::None,
    };
    Finding {
        status,
        severity,
        summary,
        details,
        ..f
    }
}

fn evidence(
    ctx: &Context,
    ep: &Endpoint,
    r: &ScanResult,
    pick: impl Fn(&Logged) -> bool,
) -> Vec<Evidence> {
    let offset = ctx.elapsed().saturating_sub(r.elapsed);
    r.log
        .iter()
        .filter(|l| pick(l))
        .take(12)
        .map(|l| Evidence {
            transport: Transport::Tls,
            remote: ep.socket_addr().to_string(),
            local: None,
            at_ms: (offset + l.at).as_millis() as u64,
            rtt_ms: None,
            sent: format!("{} ({})", l.sent, l.purpose),
            received: l.answer.clone(),
            note: None,
        })
        .collect()
}

async fn scan_endpoint(ctx: &Context, ep: &Endpoint) -> Vec<Finding> {
    ctx.let_light_probes_go_first(ep).await;
    let domain = ctx.config.domain.clone();
    let scanner = Scanner::new(
        ep.socket_addr(),
        Some(domain.clone()),
        ctx.config.timers.timeout,
        &ctx.limiter,
    );
    let r = scanner.run().await;
    ctx.mark_reached(ep, r.reached());
    let title = |id: &str| match id {
        "tls.versions" => "TLS protocol versions accepted and refused",
        "tls.cipher_suites" => "TLS cipher suites per version, in server preference order",
        "tls.mismatch" => "TLS version mismatch and downgrade protection",
        "tls.certificate" => "TLS certificate chain and TLS policy",
        _ => "TLS key-exchange groups",
    };
    if !r.reached() {
        let why = r
            .versions
            .values()
            .next()
            .map(|v| v.answer.refusal())
            .unwrap_or_default();
        return IDS
            .iter()
            .map(|id| {
                with(
                    base(id, title(id), ep, &[1, 2, 3, 4, 10], &[]),
                    Status::Error,
                    format!("no TLS answer from {} ({why})", ep.socket_addr()),
                    json!({ "error": why }),
                )
            })
            .collect();
    }
    let blocked = r.blocked.clone();
    let mut out = vec![
        versions_finding(ctx, ep, &r, title("tls.versions")),
        suites_finding(ctx, ep, &r, title("tls.cipher_suites")),
        mismatch_finding(ctx, ep, &r, title("tls.mismatch")),
        tls_certificate::finding(ctx, ep, &r, title("tls.certificate")).await,
        groups_finding(ctx, ep, &r, title("tls.groups")),
    ];
    if let Some(why) = blocked {
        for f in out.iter_mut().skip(1) {
            if f.id != "tls.certificate" {
                f.status = Status::Blocked;
                f.severity = Severity::Low;
                f.summary = format!(
                    "target stopped answering mid-scan ({why}); partial: {}",
                    f.summary
                );
            }
        }
    }
    out
}

fn versions_finding(ctx: &Context, ep: &Endpoint, r: &ScanResult, title: &str) -> Finding {
    let mut d = Map::new();
    for (v, res) in &r.versions {
        let mut o = Map::new();
        o.insert("accepted".into(), json!(res.accepted));
        if let Some(why) = &res.refusal {
            o.insert("refusal".into(), json!(why));
        }
        d.insert(v.label().into(), Value::Object(o));
    }
    let acc = r.accepted();
    let names = |vs: &[Version]| vs.iter().map(|v| v.label()).collect::<Vec<_>>().join(", ");
    let refused: Vec<String> = r
        .versions
        .iter()
        .filter(|(_, x)| !x.accepted)
        .map(|(v, x)| format!("{} ({})", v.label(), x.refusal.clone().unwrap_or_default()))
        .collect();
    let bad: Vec<Version> = acc.iter().copied().filter(|v| v.deprecated()).collect();
    let status = if acc.is_empty() || !bad.is_empty() {
        Status::Fail
    } else {
        Status::Pass
    };
    let summary = if acc.is_empty() {
        format!("no TLS version accepted; refused {}", refused.join(", "))
    } else if !bad.is_empty() {
        format!(
            "accepts {} including {} which RFC 9325/RFC 8996 forbid; refuses {}",
            names(&acc),
            names(&bad),
            refused.join(", ")
        )
    } else {
        format!("accepts {}; refuses {}", names(&acc), refused.join(", "))
    };
    with(
        base(
            "tls.versions",
            title,
            ep,
            &[1, 2],
            &["RFC 8996", "RFC 9325 §3.1", "RFC 8446"],
        ),
        status,
        summary,
        Value::Object(d),
    )
    .evidence(evidence(ctx, ep, r, |l| l.purpose.ends_with("support")))
}

fn suites_finding(ctx: &Context, ep: &Endpoint, r: &ScanResult, title: &str) -> Finding {
    let mut d = Map::new();
    let mut worst = Grade::Recommended;
    let mut bad: Vec<String> = Vec::new();
    let mut total = 0;
    for (v, list) in &r.suites {
        let names: Vec<String> = list.suites.iter().map(|c| suites::name(*c)).collect();
        let mut classes = Map::new();
        for n in &names {
            let c = suites::classify(n);
            worst = worst.min(c.grade);
            if c.grade <= Grade::Weak && !bad.contains(n) {
                bad.push(n.clone());
            }
            classes.insert(n.clone(), json!(c));
        }
        total += names.len();
        d.insert(
            v.label().into(),
            json!({
                "server_order": list.server_order.unwrap_or(false),
                "order_tested": list.server_order.is_some(),
                "suites": names,
                "classification": classes,
            }),
        );
    }
    let status = match worst {
        Grade::Insecure => Status::Fail,
        Grade::Weak => Status::Warn,
        _ => Status::Pass,
    };
    let insecure: Vec<&String> = bad
        .iter()
        .filter(|n| suites::classify(n).grade == Grade::Insecure)
        .collect();
    let order: Vec<String> = r
        .suites
        .iter()
        .map(|(v, l)| {
            format!(
                "{} {}{}",
                v.label(),
                l.suites.len(),
                match l.server_order {
                    Some(true) => " server order",
                    Some(false) => " client order",
                    None => "",
                }
            )
        })
        .collect();
    let summary = format!(
        "{total} suites accepted ({}); {} insecure, {} weak; {} hellos",
        order.join(", "),
        insecure.len(),
        bad.len() - insecure.len(),
        r.connections
    );
    with(
        base(
            "tls.cipher_suites",
            title,
            ep,
            &[10, 2],
            &["RFC 9325 §4", "RFC 8446 §B.4"],
        ),
        status,
        summary,
        Value::Object(d),
    )
    .evidence(evidence(ctx, ep, r, |l| l.purpose.contains("order")))
}

fn mismatch_finding(ctx: &Context, ep: &Endpoint, r: &ScanResult, title: &str) -> Finding {
    let acc = r.accepted();
    let min = acc.first().copied();
    let mut below = Map::new();
    let mut quiet = Vec::new();
    if let Some(min) = min {
        for (v, x) in r.versions.iter().filter(|(v, _)| **v < min) {
            let why = x.refusal.clone().unwrap_or_default();
            if !matches!(x.answer, Answer::Alert { .. }) {
                quiet.push(format!("{} ({why})", v.label()));
            }
            below.insert(v.label().into(), json!(why));
        }
    }
    let m = &r.mismatch;
    let mut problems = Vec::new();
    if m.fallback_scsv_honoured == Some(false) {
        problems.push(format!(
            "TLS_FALLBACK_SCSV ignored at {} (RFC 7507)",
            m.fallback_scsv_tested_with.clone().unwrap_or_default()
        ));
    }
    let missing: Vec<&String> = m
        .downgrade_sentinel
        .iter()
        .filter(|(_, s)| s.is_none())
        .map(|(v, _)| v)
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "no TLS 1.3 downgrade sentinel in the ServerHello.random of {missing:?} (RFC 8446 §4.1.3)"
        ));
    }
    let status = if !problems.is_empty() {
        Status::Fail
    } else if !quiet.is_empty() {
        Status::Warn
    } else {
        Status::Pass
    };
    let fallback = match m.fallback_scsv_honoured {
        Some(true) => "TLS_FALLBACK_SCSV honoured".to_string(),
        Some(false) => "TLS_FALLBACK_SCSV ignored".to_string(),
        None if m.fallback_scsv_tested_with.is_some() => format!(
            "TLS_FALLBACK_SCSV answered {}",
            m.fallback_scsv_answer.clone().unwrap_or_default()
        ),
        None => "TLS_FALLBACK_SCSV not applicable (one version)".to_string(),
    };
    let below_text = if below.is_empty() {
        "no version below the minimum to test".to_string()
    } else {
        format!(
            "below {}: {}",
            min.map(|v| v.label()).unwrap_or("?"),
            below
                .iter()
                .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let summary = if problems.is_empty() {
        format!(
            "{below_text}; {fallback}{}",
            if m.downgrade_sentinel.is_empty() {
                String::new()
            } else {
                "; TLS 1.3 downgrade sentinel present".into()
            }
        )
    } else {
        format!("{}; {below_text}", problems.join("; "))
    };
    with(
        base(
            "tls.mismatch",
            title,
            ep,
            &[3],
            &["RFC 7507", "RFC 8446 §4.1.3", "RFC 8446 §D"],
        ),
        status,
        summary,
        json!({
            "minimum_version": min.map(|v| v.label()),
            "below_minimum": below,
            "silent_refusals": quiet,
            "fallback_scsv": {
                "applicable": m.fallback_scsv_tested_with.is_some(),
                "tested_with": m.fallback_scsv_tested_with,
                "answer": m.fallback_scsv_answer,
                "honoured": m.fallback_scsv_honoured,
            },
            "downgrade_sentinel": {
                "applicable": !m.downgrade_sentinel.is_empty(),
                "seen": m.downgrade_sentinel,
            },
        }),
    )
    .evidence(evidence(ctx, ep, r, |l| l.purpose.contains("FALLBACK")))
}

fn groups_finding(ctx: &Context, ep: &Endpoint, r: &ScanResult, title: &str) -> Finding {
    let g = &r.groups;
    let names: Vec<String> = g.groups.iter().map(|c| groups::name(*c)).collect();
    let weak: Vec<String> = g
        .groups
        .iter()
        .filter(|c| groups::weak(**c))
        .map(|c| groups::name(*c))
        .collect();
    let pq: Vec<String> = names
        .iter()
        .filter(|n| n.contains("MLKEM") || n.contains("Kyber"))
        .cloned()
        .collect();
    let small_dh: Vec<usize> = g.dh_bits.iter().copied().filter(|b| *b < 2048).collect();
    let status = if g.method.is_none() {
        Status::Info
    } else if small_dh.iter().any(|b| *b < 1024) {
        Status::Fail
    } else if !weak.is_empty() || !small_dh.is_empty() {
        Status::Warn
    } else if names.is_empty() {
        Status::Info
    } else {
        Status::Pass
    };
    let summary = if g.method.is_none() {
        "no version allowed a group test".to_string()
    } else {
        format!(
            "groups {}{}{}",
            if names.is_empty() {
                "none found".to_string()
            } else {
                names.join(", ")
            },
            if g.dh_bits.is_empty() {
                String::new()
            } else {
                format!("; DHE primes of {:?} bits", g.dh_bits)
            },
            if pq.is_empty() {
                "; no post-quantum hybrid"
            } else {
                ""
            }
        )
    };
    with(
        base(
            "tls.groups",
            title,
            ep,
            &[10],
            &["RFC 8446 §4.2.7", "RFC 7919", "RFC 9325 §4.4"],
        ),
        status,
        summary,
        json!({
            "method": g.method,
            "groups": names,
            "weak": weak,
            "post_quantum": pq,
            "dh_bits": g.dh_bits,
        }),
    )
    .evidence(evidence(ctx, ep, r, |l| {
        l.purpose.contains("groups") || l.purpose.contains("curves")
    }))
}
