//! `tls.robot`: whether a server that accepts static-RSA key exchange is a Bleichenbacher oracle
//! (ROBOT, CVE-2017-13099 and its family). Five ClientKeyExchange variants, one well formatted and four
//! not, each sent on its own handshake; a server that follows RFC 5246 §7.4.7.1 answers them all
//! alike, an oracle tells them apart by its alert, by closing, by a reset or by silence.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::verdict::{Kind, RuleCheck, Verdict, flip};
use crate::findings::Status;

/// The five premaster-secret blocks, in the order they are sent (the ROBOT paper's, as in sslyze and
/// testssl.sh).
pub const PAYLOADS: [&str; 5] = [
    "valid",
    "wrong_first_two_bytes",
    "wrong_position_00",
    "no_00",
    "wrong_version",
];

/// Most handshakes the check opens: one to read the certificate, five per round, at most three
/// rounds (a flow's round is repeated only when its answers differ; the flow without
/// ChangeCipherSpec/Finished runs only when the first flow's answers did not), and five retries of
/// attempts that never got as far as the key exchange.
pub const MAX_HANDSHAKES: usize = 1 + 5 * 3 + 5;

/// Whether an answer says what the server did with the key exchange; otherwise the attempt never
/// sent it (`hello timeout`, `no connection: …`, `not sent: …`, `reset before the ServerHello`).
pub fn measured(answer: &str) -> bool {
    !["hello ", "no connection", "not sent", "reset before"]
        .iter()
        .any(|p| answer.starts_with(p))
}

/// Every variant of the round reached the server's key exchange.
pub fn complete(r: &RobotRound) -> bool {
    r.answers.iter().all(|(_, a)| measured(a))
}

/// One round: each payload's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RobotRound {
    /// `ClientKeyExchange, ChangeCipherSpec, Finished` or `ClientKeyExchange only`.
    pub flow: String,
    /// (payload, answer: `alert:NAME`, `closed`, `reset`, `timeout`, `record type N`), in [`PAYLOADS`] order.
    pub answers: Vec<(String, String)>,
}

impl RobotRound {
    /// The answers differ between payloads.
    pub fn differs(&self) -> bool {
        self.answers.windows(2).any(|w| w[0].1 != w[1].1)
    }

    fn answer_of(&self, payload: &str) -> Option<&str> {
        self.answers
            .iter()
            .find(|(p, _)| p == payload)
            .map(|(_, a)| a.as_str())
    }
}

/// `tls.robot` details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RobotDetails {
    /// How a TLS ≤ 1.2 hello offering only static-RSA key exchange suites was answered.
    pub hello: String,
    /// A static-RSA key exchange suite was accepted: only then is the oracle looked for.
    pub rsa_key_exchange: bool,
    pub version: Option<String>,
    pub suite: Option<String>,
    /// The certificate's RSA modulus size.
    pub key_bits: Option<usize>,
    pub rounds: Vec<RobotRound>,
    /// Handshakes opened, the certificate's included (at most `max_handshakes`).
    pub handshakes: usize,
    pub max_handshakes: usize,
    /// `Some(true)`: an oracle, the same in two rounds; `None`: not measured or inconsistent.
    pub vulnerable: Option<bool>,
    /// `strong` (a badly formatted block is told from a good one) or `weak` (only a well formatted
    /// block with a wrong version or length is), as the ROBOT authors grade it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oracle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The verdict of a pair of rounds of one flow: `Some(true)` an oracle seen twice alike, `Some(false)`
/// no difference, `None` the two rounds disagree.
pub fn oracle_of(first: &RobotRound, second: Option<&RobotRound>) -> Option<bool> {
    if !complete(first) || second.is_some_and(|s| !complete(s)) {
        return None;
    }
    if !first.differs() {
        return Some(false);
    }
    let second = second?;
    (first.answers == second.answers).then_some(true)
}

/// `strong` when the first-two-bytes, wrong-0x00 and missing-0x00 blocks are not all answered alike
/// (the ROBOT authors' rule, also sslyze's), else `weak`.
pub fn grade(r: &RobotRound) -> &'static str {
    let a = [PAYLOADS[1], PAYLOADS[2], PAYLOADS[3]].map(|p| r.answer_of(p));
    if a[0] == a[1] && a[1] == a[2] {
        "weak"
    } else {
        "strong"
    }
}

impl RobotDetails {
    fn distinction(&self) -> String {
        self.rounds
            .iter()
            .find(|r| r.differs())
            .map(|r| {
                r.answers
                    .iter()
                    .map(|(p, a)| format!("{p} → {a}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    }

    fn same_answer(&self) -> String {
        self.rounds
            .iter()
            .map(|r| {
                format!(
                    "{}: {}",
                    r.flow,
                    r.answers.first().map(|(_, a)| a.as_str()).unwrap_or("-")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn judge(&self) -> Verdict {
        if let Some(e) = &self.error {
            return (Status::Error, e.clone());
        }
        if !self.rsa_key_exchange {
            return (
                Status::Pass,
                format!(
                    "not applicable: no static-RSA key exchange accepted (the RSA-only hello got {})",
                    self.hello
                ),
            );
        }
        let suite = self.suite.as_deref().unwrap_or("static RSA");
        match self.vulnerable {
            Some(true) => (
                Status::Fail,
                format!(
                    "vulnerable to ROBOT: a {} Bleichenbacher oracle over {suite} ({}), the same in two rounds; {} handshakes",
                    self.oracle.as_deref().unwrap_or("strong"),
                    self.distinction(),
                    self.handshakes
                ),
            ),
            Some(false) => (
                Status::Pass,
                format!(
                    "not vulnerable to ROBOT: five ClientKeyExchange variants over {suite} got the same answer ({}); {} handshakes",
                    self.same_answer(),
                    self.handshakes
                ),
            ),
            None if self.rounds.is_empty() => (
                Status::Error,
                format!("not measured: the RSA-only hello got {}", self.hello),
            ),
            None if !self.rounds.iter().all(complete) => (
                Status::Warn,
                format!(
                    "inconclusive: not every ClientKeyExchange variant reached the server ({}); {} handshakes",
                    self.distinction(),
                    self.handshakes
                ),
            ),
            None => (
                Status::Warn,
                format!(
                    "inconclusive: the answers to the same ClientKeyExchange variants changed between rounds ({}); {} handshakes",
                    self.distinction(),
                    self.handshakes
                ),
            ),
        }
    }

    pub fn changes(&self, new: &RobotDetails) -> Vec<(Kind, String)> {
        flip(
            self.vulnerable,
            new.vulnerable,
            true,
            "now vulnerable to ROBOT",
            "no longer vulnerable to ROBOT",
        )
        .into_iter()
        .chain(flip(
            Some(self.rsa_key_exchange),
            Some(new.rsa_key_exchange),
            true,
            "static-RSA key exchange now accepted",
            "static-RSA key exchange no longer accepted",
        ))
        .collect()
    }

    /// Q10 (ciphers) and Q14 (integrity): a Bleichenbacher oracle lets an attacker decrypt recorded
    /// static-RSA sessions and sign as the server.
    pub fn answer(&self, question: u8) -> Option<String> {
        if !matches!(question, 10 | 14) || self.error.is_some() {
            return None;
        }
        if !self.rsa_key_exchange {
            return Some("ROBOT: not applicable (no static-RSA key exchange)".into());
        }
        self.vulnerable.map(|v| {
            format!(
                "ROBOT: {} over static-RSA key exchange",
                if v {
                    "vulnerable (a Bleichenbacher oracle)"
                } else {
                    "not vulnerable"
                }
            )
        })
    }

    /// Policy `forbid_robot`.
    pub fn forbid_robot(&self) -> RuleCheck {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if !self.rsa_key_exchange {
            return Ok(Ok("no static-RSA key exchange".into()));
        }
        match self.vulnerable {
            Some(true) => Ok(Err(format!(
                "a {} Bleichenbacher oracle (ROBOT)",
                self.oracle.as_deref().unwrap_or("strong")
            ))),
            Some(false) => Ok(Ok("no Bleichenbacher oracle".into())),
            None => Err("ROBOT inconclusive or not measured".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(answers: [&str; 5]) -> RobotRound {
        RobotRound {
            flow: "ClientKeyExchange, ChangeCipherSpec, Finished".into(),
            answers: PAYLOADS
                .iter()
                .zip(answers)
                .map(|(p, a)| (p.to_string(), a.to_string()))
                .collect(),
        }
    }

    #[test]
    fn an_oracle_needs_the_same_difference_twice() {
        let same = round(["alert:bad_record_mac"; 5]);
        assert_eq!(oracle_of(&same, None), Some(false));
        let odd = round([
            "alert:bad_record_mac",
            "alert:handshake_failure",
            "alert:handshake_failure",
            "alert:handshake_failure",
            "alert:bad_record_mac",
        ]);
        assert_eq!(oracle_of(&odd, None), None, "one round proves nothing");
        assert_eq!(oracle_of(&odd, Some(&odd)), Some(true));
        assert_eq!(oracle_of(&odd, Some(&same)), None, "inconsistent");
        assert_eq!(grade(&odd), "weak", "the three bad blocks alike");
        let strong = round([
            "alert:bad_record_mac",
            "alert:handshake_failure",
            "timeout",
            "alert:handshake_failure",
            "alert:bad_record_mac",
        ]);
        assert_eq!(grade(&strong), "strong");
        let late = round([
            "alert:bad_record_mac",
            "hello timeout",
            "alert:bad_record_mac",
            "alert:bad_record_mac",
            "alert:bad_record_mac",
        ]);
        assert!(!complete(&late));
        assert_eq!(
            oracle_of(&late, Some(&late)),
            None,
            "a hello answered too late is no answer to the key exchange"
        );
    }

    #[test]
    fn verdicts_and_policy() {
        let mut d = RobotDetails {
            hello: "accepted".into(),
            rsa_key_exchange: true,
            suite: Some("TLS_RSA_WITH_AES_128_GCM_SHA256".into()),
            rounds: vec![round(["alert:bad_record_mac"; 5])],
            handshakes: 11,
            max_handshakes: MAX_HANDSHAKES,
            vulnerable: Some(false),
            ..Default::default()
        };
        assert_eq!(d.judge().0, Status::Pass);
        assert!(d.forbid_robot().unwrap().is_ok());
        let old = d.clone();
        d.vulnerable = Some(true);
        d.oracle = Some("strong".into());
        assert_eq!(d.judge().0, Status::Fail);
        assert!(d.judge().1.contains("11 handshakes"), "{}", d.judge().1);
        assert!(d.forbid_robot().unwrap().is_err());
        assert_eq!(old.changes(&d)[0].0, Kind::Worse);
        d.vulnerable = None;
        assert_eq!(d.judge().0, Status::Warn, "never a pass when inconsistent");
        assert!(d.forbid_robot().is_err());
        d.rounds.clear();
        assert_eq!(d.judge().0, Status::Error);
        let none = RobotDetails {
            hello: "alert:handshake_failure".into(),
            ..Default::default()
        };
        assert_eq!(none.judge().0, Status::Pass, "no static RSA, no oracle");
        assert!(none.answer(10).unwrap().contains("not applicable"));
    }
}
