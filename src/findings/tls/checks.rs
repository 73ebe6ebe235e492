//! The contracts of the TLS checks beside the scan (extensions, resumption, early data, Heartbleed,
//! SNI, profile): each details type already carries its diff (`changes`), its seed-question answer and
//! its policy readings; the contracts hand them to the reports.

use super::{
    EarlyDataDetails, ExtensionsDetails, HeartbleedDetails, ProfileDetails, ResumptionDetails,
    RobotDetails, SniDetails,
};
use crate::findings::contract::{Contract, Read, Rule, RuleSpec, Table, a_bool, on};
use crate::findings::run::Kind;
use crate::findings::{Finding, Report};

/// The contract of a TLS check whose details say their own diff and answers.
macro_rules! own_contract {
    ($name:ident, $details:ty, [$($rule:expr),*]) => {
        own_contract!($name, $details, [$($rule),*], |_d: &$details| Vec::new());
    };
    ($name:ident, $details:ty, [$($rule:expr),*], $tables:expr) => {
        #[doc = concat!("The contract of `", stringify!($details), "`.")]
        pub struct $name;

        impl Contract for $name {
            type Details = $details;

            fn diff(old: &$details, new: &$details) -> Vec<(Kind, String)> {
                old.changes(new)
            }

            fn answer(question: u8, _r: &Report, measured: &[Read<$details>]) -> Option<String> {
                measured.iter().find_map(|m| m.details.answer(question))
            }

            fn policy_rules() -> Vec<Rule<$details>> {
                vec![$($rule),*]
            }

            fn tables(_r: &Report, _f: &Finding, d: &$details) -> Vec<Table> {
                ($tables)(d)
            }
        }
    };
}

own_contract!(Extensions, ExtensionsDetails, [
    Rule {
        spec: RuleSpec { name: "require_ems", questions: &[14], any: false, validate: a_bool, active: on },
        check: |_, _, d: &ExtensionsDetails| d.require_ems(),
    },
    Rule {
        spec: RuleSpec {
            name: "forbid_client_renegotiation",
            questions: &[14],
            any: false,
            validate: a_bool,
            active: on,
        },
        check: |_, _, d: &ExtensionsDetails| d.forbid_client_renegotiation(),
    }
]);
own_contract!(EarlyData, EarlyDataDetails, [
    Rule {
        spec: RuleSpec { name: "forbid_early_data", questions: &[14], any: false, validate: a_bool, active: on },
        check: |_, _, d: &EarlyDataDetails| d.forbid_early_data(),
    }
]);
own_contract!(Resumption, ResumptionDetails, []);
own_contract!(Heartbleed, HeartbleedDetails, []);
own_contract!(Sni, SniDetails, []);
own_contract!(Robot, RobotDetails, [
    Rule {
        spec: RuleSpec { name: "forbid_robot", questions: &[10, 14], any: false, validate: a_bool, active: on },
        check: |_, _, d: &RobotDetails| d.forbid_robot(),
    }
]);
own_contract!(Profile, ProfileDetails, [
    Rule {
        spec: RuleSpec {
            name: "profile",
            questions: &[1, 2, 10],
            any: false,
            validate: a_profile,
            active: |v| v.is_string(),
        },
        // The scan measures the profile the policy names; a `tls.profile` finding of another
        // profile (an older report, another --profile) cannot tell.
        check: |setting, _, d: &ProfileDetails| {
            if Some(d.profile.as_str()) != setting.as_str() {
                return Err(format!("the report judged profile {}, not {setting}", d.profile));
            }
            d.policy()
        },
    }
], |d: &ProfileDetails| vec![d.table()]);

/// A built-in profile name (`bcp195`, `mozilla-intermediate`, `mozilla-modern`).
fn a_profile(v: &serde_json::Value) -> Result<(), String> {
    match v.as_str() {
        Some(name) => super::profile::builtin(name).map(|_| ()),
        None => Err(format!("profile {v}: give a profile name")),
    }
}
