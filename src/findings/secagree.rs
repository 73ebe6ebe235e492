//! Details of `secagree.rfc3329`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::contract::{Contract, Rule, RuleSpec, a_bool, on};

/// One mechanism of a `Security-Server` list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Mechanism {
    pub mechanism: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<f64>,
    /// The other parameters, as written.
    pub params: Vec<String>,
}

/// `secagree.rfc3329`: an OPTIONS requiring sec-agree, the downgrade check and (with credentials) a REGISTER.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SecAgreeDetails {
    /// A 494 with a usable Security-Server list came back.
    pub supported: bool,
    pub mechanisms: Vec<Mechanism>,
    /// The answer's status code, or `none`.
    pub response: String,
    pub unsupported: Vec<String>,
    /// The mismatched Security-Verify check, when supported.
    pub downgrade: Option<Downgrade>,
    /// A media-plane mechanism (`mediasec`) was offered.
    pub mediasec: bool,
    pub security_client: String,
    /// The sec-agree REGISTER, when credentials were given.
    pub register: Option<Register>,
}

/// A request whose Security-Verify does not match what the server offered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Downgrade {
    pub security_verify: String,
    pub response: Option<u16>,
    pub refused: bool,
}

/// The sec-agree REGISTER with the account's credentials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Register {
    pub user: String,
    pub expires: u32,
    pub responses: Vec<RegisterStep>,
    pub security_server: Vec<Mechanism>,
    pub security_verify: Option<String>,
    pub digest_answered: bool,
    #[serde(rename = "final")]
    pub final_code: Option<u16>,
    pub accepted: bool,
    pub completed: bool,
}

/// One REGISTER of the exchange.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RegisterStep {
    pub response: Option<u16>,
    pub security_verify: bool,
    pub digest: bool,
}

/// `secagree.rfc3329`: the `secagree_required` rule.
pub struct SecAgree;

impl Contract for SecAgree {
    type Details = SecAgreeDetails;

    fn policy_rules() -> Vec<Rule<SecAgreeDetails>> {
        vec![Rule {
            spec: RuleSpec {
                name: "secagree_required",
                questions: &[15],
                any: false,
                validate: a_bool,
                active: on,
            },
            check: |_, _, d| {
                Ok(if d.supported {
                    Ok("RFC 3329 sec-agree supported".into())
                } else {
                    Err("RFC 3329 sec-agree not supported".into())
                })
            },
        }]
    }
}
