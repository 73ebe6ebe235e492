//! Details of the `auth.*` findings.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::contract::{Contract, Rule, RuleSpec, a_bool, on};
use super::{Severity, Status};

/// One Digest challenge as received.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ChallengeSeen {
    /// `WWW-Authenticate` or `Proxy-Authenticate`.
    pub header: String,
    pub realm: String,
    /// The `algorithm=` value as written (`MD5` when absent).
    pub algorithm: String,
    pub qop: Vec<String>,
    pub stale: bool,
    /// An `opaque` value was present.
    pub opaque: bool,
}

/// `auth.challenge`: the Digest challenges an OPTIONS, REGISTER or INVITE drew.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ChallengeDetails {
    /// The request that drew them (`OPTIONS`, `REGISTER`, `INVITE`); none when nothing was challenged.
    pub source: Option<String>,
    /// The status line of the challenging response.
    pub response: Option<String>,
    pub challenges: Vec<ChallengeSeen>,
    /// The algorithms sipcheck can compute (`MD5`, `SHA-256`, `SHA-512-256`), sorted.
    pub algorithms: Vec<String>,
    pub md5_only: bool,
    pub plaintext_transport: bool,
}

impl ChallengeDetails {
    /// Whether every offered algorithm is MD5 (`None` when no algorithm was offered).
    pub fn offers_md5_only(&self) -> Option<bool> {
        if self.algorithms.is_empty() {
            return self.source.is_some().then_some(self.md5_only);
        }
        Some(
            self.algorithms
                .iter()
                .all(|a| a.eq_ignore_ascii_case("md5") || a.eq_ignore_ascii_case("md5-sess")),
        )
    }
}

/// `auth.invite_unauthenticated`: an INVITE without credentials and what became of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct InviteUnauthenticatedDetails {
    pub request_uri: String,
    /// The media offer of the call that was judged (`plain`, `sdes`, `dtls`).
    pub offer: String,
    /// Provisional status codes received.
    pub provisional: Vec<u16>,
    /// The final response's status line.
    #[serde(rename = "final")]
    pub final_response: Option<String>,
    pub challenges: Vec<ChallengeSeen>,
    /// The CANCEL's outcome, when the call was cancelled.
    pub cancelled: Option<String>,
    pub teardown: Teardown,
}

/// How an unexpectedly answered call was ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Teardown {
    pub established: bool,
    pub bye_response: Option<u16>,
    pub ended_by_peer: bool,
    pub clean: bool,
}

/// `auth.challenge`: the `md5_only_forbidden` rule; a warning is a medium weakness.
pub struct Challenge;

impl Contract for Challenge {
    type Details = ChallengeDetails;

    fn severity(status: Status, _: &ChallengeDetails) -> Option<Severity> {
        Some(if status == Status::Warn {
            Severity::Medium
        } else {
            Severity::None
        })
    }

    fn policy_rules() -> Vec<Rule<ChallengeDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "md5_only_forbidden",
                questions: &[],
                any: false,
                validate: a_bool,
                active: on,
            },
            check: |_, f, d| {
                let md5_only = d
                    .offers_md5_only()
                    .ok_or_else(|| format!("`{}`: no digest challenge was seen", f.id))?;
                Ok(if md5_only {
                    Err("digest challenges offer MD5 only".into())
                } else {
                    Ok("digest challenges offer more than MD5".into())
                })
            },
        }]
    }
}

/// `auth.invite_unauthenticated`: a call accepted without credentials is open to abuse now.
pub struct InviteUnauthenticated;

impl Contract for InviteUnauthenticated {
    type Details = InviteUnauthenticatedDetails;

    fn severity(status: Status, _: &InviteUnauthenticatedDetails) -> Option<Severity> {
        Some(if status == Status::Fail {
            Severity::Critical
        } else {
            Severity::None
        })
    }
}
