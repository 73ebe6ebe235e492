//! The per-endpoint view of a multi-server trunk for the markdown report: each seed question's verdict
//! per endpoint (the answer sheet above it shows the weakest), and how each endpoint was discovered.
//! Nothing is rendered for a trunk with one endpoint per transport, where it would repeat the sheet.

use std::fmt::Write;

use super::View;

/// The markdown section, or an empty string when it would add nothing.
pub fn render_md(v: &View) -> String {
    let r = v.report;
    let mut s = String::new();
    if let Some(m) = &v.matrix {
        let _ = writeln!(
            s,
            "### Per endpoint\n\nThe verdicts above are the weakest endpoint's; here is each endpoint's own.\n"
        );
        let head: Vec<String> = m.labels.iter().map(|l| format!("`{l}`")).collect();
        let _ = writeln!(s, "| # | {} |", head.join(" | "));
        let _ = writeln!(s, "|---|{}", "---|".repeat(m.labels.len()));
        for (q, cells) in &m.rows {
            let cells: Vec<String> = cells
                .iter()
                .map(|c| c.map_or_else(|| "—".to_string(), |s| s.to_string()))
                .collect();
            let _ = writeln!(s, "| {q} | {} |", cells.join(" | "));
        }
        s.push('\n');
    }
    let chains: Vec<_> = r
        .endpoints
        .iter()
        .filter(|e| !e.discovered_by.is_empty() && e.discovered_by != ["literal"])
        .collect();
    if !chains.is_empty() {
        let _ = writeln!(s, "### How the endpoints were found\n");
        for e in chains {
            let _ = writeln!(
                s,
                "- `{}`: {}",
                e.label(),
                super::escape::md(&e.discovered_by.join(" ⇒ "))
            );
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Finding, Report, Status};
    use crate::target::{Endpoint, Port, Transport};

    fn report(endpoints: Vec<Endpoint>, findings: Vec<Finding>) -> Report {
        Report::of("sip.test", endpoints, findings)
    }

    #[test]
    fn per_endpoint_verdicts_and_chains() {
        let mut a = Endpoint::new(Transport::Tls, "127.0.0.2".parse().unwrap(), Port::SIPS);
        a.discovered_by = vec![
            "SRV _sips._tcp.sip.test 10 10 5061 → a".into(),
            "A a → 127.0.0.2".into(),
        ];
        let mut b = Endpoint::new(Transport::Tls, "127.0.0.3".parse().unwrap(), Port::SIPS);
        b.discovered_by = vec![
            "SRV _sips._tcp.sip.test 20 10 5061 → b".into(),
            "A b → 127.0.0.3".into(),
        ];
        let fs = vec![
            Finding::new("sips.options", "t", Status::Pass, "ok").endpoint(&a),
            Finding::new("sips.options", "t", Status::Warn, "bad").endpoint(&b),
        ];
        let r = report(vec![a, b], fs);
        let md = render_md(&View::of(&r));
        assert!(
            md.contains("| `tls:127.0.0.2:5061` | `tls:127.0.0.3:5061` |"),
            "{md}"
        );
        assert!(md.contains("| 4 | pass | warn |"), "{md}");
        assert!(
            md.contains(
                "- `tls:127.0.0.3:5061`: SRV \\_sips.\\_tcp.sip.test 20 10 5061 → b ⇒ A b → 127.0.0.3"
            ),
            "{md}"
        );
    }

    #[test]
    fn nothing_for_one_literal_endpoint_per_transport() {
        let mut a = Endpoint::new(Transport::Tls, "127.0.0.2".parse().unwrap(), Port::SIPS);
        a.discovered_by = vec!["literal".into()];
        let mut b = Endpoint::new(Transport::Udp, "127.0.0.2".parse().unwrap(), Port::SIP);
        b.discovered_by = vec!["literal".into()];
        let fs = vec![Finding::new("sips.options", "t", Status::Pass, "ok").endpoint(&a)];
        let r = report(vec![a, b], fs);
        assert_eq!(render_md(&View::of(&r)), "");
    }
}
