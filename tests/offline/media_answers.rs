//! The answer sheet's SRTP questions (5 and 7) on reports the real media probe wrote against an
//! in-process trunk: they say what was accepted, on sipcheck's own leg to the trunk's media address,
//! and that what lies beyond it cannot be seen from here; never end-to-end.

#[allow(unused_imports)]
use crate::{probed_media, support};

use probed_media::Accepts;

/// The markdown answer sheet's rows for questions 5 and 7 of `r`, rendered by `sipcheck report`.
fn rows(r: &sipcheck::Report) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    std::fs::write(&path, serde_json::to_string(r).unwrap()).unwrap();
    let out = support::sipcheck(&["report", &path.display().to_string(), "--format", "md"]);
    let md = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!md.to_lowercase().contains("end-to-end"), "{md}");
    let row = |q: &str| {
        md.lines()
            .find(|l| l.starts_with(q))
            .unwrap_or_else(|| panic!("no row {q}:\n{md}"))
            .to_string()
    };
    (row("| 5 |"), row("| 7 |"))
}

#[tokio::test(flavor = "multi_thread")]
async fn srtp_answers_keep_to_our_own_leg() {
    let r = probed_media::report(Accepts {
        sdes: true,
        dtls: false,
        plain: false,
    })
    .await;
    let (q5, q7) = rows(&r);
    for row in [&q5, &q7] {
        assert!(
            row.contains("on sipcheck's own leg to the trunk's media address 127.0.0.1:")
                && row.contains("what lies beyond it cannot be seen from here"),
            "{row}"
        );
        // The fake answers from its media address: no relay to name.
        assert!(!row.contains("relay"), "{row}");
    }
    assert!(
        q5.contains("SRTP accepted via SDES (") && q5.contains("plain RTP refused"),
        "{q5}"
    );
    assert!(q7.contains("Accepted: SDES ("), "{q7}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_only_trunk_is_answered_no_srtp() {
    let r = probed_media::report(Accepts {
        sdes: false,
        dtls: false,
        plain: true,
    })
    .await;
    let (q5, q7) = rows(&r);
    assert!(
        q5.contains("No SRTP: only plain RTP was accepted, on sipcheck's own leg"),
        "{q5}"
    );
    // No SRTP call was answered, so no leg carried SRTP: the refusal itself answers.
    assert!(q7.contains("refused") && !q7.contains("own leg"), "{q7}");
}
