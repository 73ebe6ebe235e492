//! Markdown tables for table-shaped findings: the case table of `robustness.malformed`.

use std::fmt::Write;

use super::Finding;

fn cell(v: &serde_json::Value) -> String {
    let s = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    super::escape::md(&s)
}

/// A catalog case id as inline code; ids are sipcheck's own, anything else in them is dropped.
fn code_id(v: &serde_json::Value) -> String {
    let id: String = v
        .as_str()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect();
    format!("`{id}`")
}

/// The table for a finding whose details hold one, or `None`.
pub(super) fn render(f: &Finding) -> Option<String> {
    if f.id != "robustness.malformed" {
        return None;
    }
    let cases = f.details.get("cases")?.as_array()?;
    if cases.is_empty() {
        return None;
    }
    let mut s = String::from(
        "\n| Case | RFC | Expected | Observed | Verdict | Status | Liveness after |\n|---|---|---|---|---|---|---|\n",
    );
    for c in cases {
        let verdict = match c["verdict"].as_str().unwrap_or_default() {
            "expected" => "as expected".to_string(),
            "different_safe" => "handled differently but safely".to_string(),
            "accepted_invalid" => "**accepted something invalid**".to_string(),
            "rejected_valid" => "valid message not accepted".to_string(),
            other => cell(&serde_json::Value::String(other.replace('_', " "))),
        };
        let _ = writeln!(
            s,
            "| {} {} | {} | {} | {} | {} | {} | {} |",
            code_id(&c["id"]),
            cell(&c["title"]),
            cell(&c["rfc"]),
            cell(&c["expected"]),
            cell(&c["observed"]),
            verdict,
            cell(&c["status"]),
            cell(&c["liveness"]),
        );
    }
    if let Some(skipped) = f.details.get("skipped").and_then(|v| v.as_array())
        && !skipped.is_empty()
    {
        let list: Vec<String> = skipped
            .iter()
            .map(|x| format!("{} ({})", code_id(&x["id"]), cell(&x["reason"])))
            .collect();
        let _ = writeln!(s, "\nNot run: {}.", list.join(", "));
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    #[test]
    fn renders_cases_and_escapes_cells() {
        let f = Finding::new("robustness.malformed", "t", Status::Warn, "s").details(serde_json::json!({
            "cases": [{"id": "a", "title": "A", "rfc": "RFC 1", "expected": "400 | drop",
                       "observed": "no answer", "verdict": "different_safe", "status": "warn", "liveness": "ok"}],
            "skipped": [{"id": "big", "reason": "intrusive"}],
        }));
        let t = render(&f).unwrap();
        assert!(
            t.contains("| `a` A | RFC 1 | 400 \\| drop | no answer | handled differently but safely | warn | ok |"),
            "{t}"
        );
        assert!(t.contains("`big` (intrusive)"));
        assert!(render(&Finding::new("sip.allow", "t", Status::Info, "s")).is_none());
    }
}
