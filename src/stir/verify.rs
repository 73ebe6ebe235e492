//! The ordered check list of a STIR/SHAKEN verification service (ATIS-1000074 §5.3 with RFC 8224,
//! 8225, 8226, 8588), run in full on every Identity header: the first failure names the verdict and
//! the response code a verification service would send; every result stays in the details.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use super::cert::{self, Bundle, CertSummary, TnEntry};
use super::crl::{CrlStore, Status as RevStatus, Subject};
use super::passport::{self, IdentityHeader, Passport, PassportSummary};
use super::profile;
use super::rcd::{self, RcdSummary};
use super::x5u::{Fetched, Scheme, X5uFetcher, X5uUrl};
use crate::sip::Message;

/// RFC 8224 §4.1 / ATIS-1000074: `iat` (and Date) older than this is stale.
pub const FRESHNESS_SECS: i64 = 60;

/// One step of the list, in the order run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Present,
    FullForm,
    InfoParam,
    HeaderParams,
    JoseAlg,
    JoseHeader,
    X5uMatchesInfo,
    X5uPolicy,
    Claims,
    Attest,
    IatFresh,
    DateFresh,
    OrigTn,
    DestTn,
    DivTarget,
    X5uFetch,
    X5uAnswer,
    Certificate,
    CertValidity,
    Chain,
    KeyType,
    TnAuthList,
    CertCn,
    CertSerial,
    CertCdp,
    CertExtensions,
    Revocation,
    Signature,
    Rcd,
    RcdIntegrity,
    RcdName,
}

impl Check {
    pub fn id(self) -> &'static str {
        match self {
            Check::Present => "present",
            Check::FullForm => "full_form",
            Check::InfoParam => "info_param",
            Check::HeaderParams => "header_params",
            Check::JoseAlg => "jose_alg",
            Check::JoseHeader => "jose_header",
            Check::X5uMatchesInfo => "x5u_matches_info",
            Check::X5uPolicy => "x5u_policy",
            Check::Claims => "claims",
            Check::Attest => "attest",
            Check::IatFresh => "iat_fresh",
            Check::DateFresh => "date_fresh",
            Check::OrigTn => "orig_tn",
            Check::DestTn => "dest_tn",
            Check::DivTarget => "div_target",
            Check::X5uFetch => "x5u_fetch",
            Check::X5uAnswer => "x5u_answer",
            Check::Certificate => "certificate",
            Check::CertValidity => "cert_validity",
            Check::Chain => "chain",
            Check::KeyType => "key_type",
            Check::TnAuthList => "tn_auth_list",
            Check::CertCn => "cert_cn",
            Check::CertSerial => "cert_serial",
            Check::CertCdp => "cert_cdp",
            Check::CertExtensions => "cert_extensions",
            Check::Revocation => "revocation",
            Check::Signature => "signature",
            Check::Rcd => "rcd",
            Check::RcdIntegrity => "rcd_integrity",
            Check::RcdName => "rcd_name",
        }
    }

    /// Every check, in the order run.
    pub const ALL: &'static [Check] = &[
        Check::Present,
        Check::FullForm,
        Check::InfoParam,
        Check::HeaderParams,
        Check::JoseAlg,
        Check::JoseHeader,
        Check::X5uMatchesInfo,
        Check::X5uPolicy,
        Check::Claims,
        Check::Attest,
        Check::IatFresh,
        Check::DateFresh,
        Check::OrigTn,
        Check::DestTn,
        Check::DivTarget,
        Check::X5uFetch,
        Check::X5uAnswer,
        Check::Certificate,
        Check::CertValidity,
        Check::Chain,
        Check::KeyType,
        Check::TnAuthList,
        Check::CertCn,
        Check::CertSerial,
        Check::CertCdp,
        Check::CertExtensions,
        Check::Revocation,
        Check::Signature,
        Check::Rcd,
        Check::RcdIntegrity,
        Check::RcdName,
    ];

    /// The clause the check applies, and whether a miss is a fail ("shall"/MUST) or a warn ("should").
    pub fn clause(self) -> &'static str {
        match self {
            Check::Present => "RFC 8224 §6.2.2 (428 when Identity is required)",
            Check::FullForm => "RFC 8588 §3: SHAKEN PASSporTs use the full form",
            Check::InfoParam => "RFC 8224 §4: info=<URI> names the credential",
            Check::HeaderParams => {
                "RFC 8224 §4, RFC 8588 §3, RFC 8946 §3, RFC 9795 §4: alg=ES256; ppt shaken, div or rcd"
            }
            Check::JoseAlg => "RFC 8588 §3, ATIS-1000074 §5.3.1: ES256 only",
            Check::JoseHeader => "RFC 8225 §4: typ passport, ppt matching the Identity, x5u",
            Check::X5uMatchesInfo => "ATIS-1000074 §5.3.1: x5u equals the info parameter",
            Check::X5uPolicy => "RFC 8224 §7.2, STI-CR rules: https, no userinfo, no query (warn)",
            Check::Claims => {
                "RFC 8225 §5, RFC 8588 §4, RFC 8946 §3, RFC 9795 §4: the claims of the ppt"
            }
            Check::Attest => "RFC 8588 §4: attest A, B or C",
            Check::IatFresh => "RFC 8224 §6.2.2 / ATIS-1000074 §5.3.1: iat within 60 s",
            Check::DateFresh => "RFC 8224 §4.1: Date within 60 s",
            Check::OrigTn => "RFC 8224 §6.2.2, §8.3: orig.tn is the caller",
            Check::DestTn => {
                "RFC 8224 §6.2.2 (To); RFC 8946 §3 (div: the new target, the Request-URI)"
            }
            Check::DivTarget => {
                "RFC 8946 §3: the div claim is the earlier destination (a shaken dest, History-Info/Diversion or To); warn"
            }
            Check::X5uFetch => "RFC 8224 §6.2.2 (436 when the credential cannot be fetched)",
            Check::X5uAnswer => {
                "STI-CR answer rules: a caching directive, application/pem-certificate-chain, no redirect (warn)"
            }
            Check::Certificate => "RFC 8226 §9, ATIS-1000080 §5.3.1: a PEM certificate chain",
            Check::CertValidity => "RFC 5280 §6.1.3: valid at iat and now",
            Check::Chain => "ATIS-1000080 §5.3.1: chains to an STI-PA trusted root",
            Check::KeyType => "ATIS-1000080 §6.4.1: EC P-256, digitalSignature",
            Check::TnAuthList => "ATIS-1000080 §6.4.1, RFC 8226 §9: exactly one SPC",
            Check::CertCn => {
                "ATIS-1000080 v004 §6.4.1: subject CN `SHAKEN <SPC>` with the TNAuthList SPC"
            }
            Check::CertSerial => "ATIS-1000080 v005 §6.4.1: serial with at least 64 random bits",
            Check::CertCdp => {
                "ATIS-1000080 §6.4.1: CRL Distribution Point with the STI-PA CRL URL and cRLIssuer"
            }
            Check::CertExtensions => {
                "ATIS-1000080 v005 §6.4.1: no extension outside the profile, only BC and KU critical (warn)"
            }
            Check::Revocation => {
                "ATIS-1000080 §5.3.1, RFC 5280 §6.3: leaf and intermediate not on the STI-PA CRL (unreachable CRL: warn)"
            }
            Check::Signature => "RFC 8225 §6, RFC 7515: the ES256 signature verifies",
            Check::Rcd => "RFC 9795 §5-§6: rcd claim shape",
            Check::RcdIntegrity => "RFC 9795 §7: rcdi digests match the referenced content",
            Check::RcdName => {
                "RFC 9795 §6.1.1, RFC 9796: the displayed name is the signed nam, a Call-Info jCard the signed jcl (warn)"
            }
        }
    }

    /// The response a verification service sends when this check fails (RFC 8224 §6.2.2, §13).
    pub fn response(self) -> (u16, &'static str) {
        match self {
            Check::Present => (428, "Use Identity Header"),
            Check::InfoParam
            | Check::X5uMatchesInfo
            | Check::X5uPolicy
            | Check::X5uFetch
            | Check::X5uAnswer => (436, "Bad Identity Info"),
            Check::JoseAlg
            | Check::Certificate
            | Check::CertValidity
            | Check::Chain
            | Check::KeyType
            | Check::TnAuthList
            | Check::CertCn
            | Check::CertSerial
            | Check::CertCdp
            | Check::CertExtensions
            | Check::Revocation => (437, "Unsupported Credential"),
            Check::IatFresh | Check::DateFresh => (403, "Stale Date"),
            Check::FullForm
            | Check::HeaderParams
            | Check::JoseHeader
            | Check::Claims
            | Check::Attest
            | Check::OrigTn
            | Check::DestTn
            | Check::DivTarget
            | Check::Signature
            | Check::Rcd
            | Check::RcdIntegrity
            | Check::RcdName => (438, "Invalid Identity Header"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
    /// Not run: an earlier check left nothing to check.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub check: Check,
    pub outcome: Outcome,
    pub detail: String,
    /// The clause the check applies, on a warn or fail (the evidence of why).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub clause: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed, the chain included.
    Valid,
    /// Nothing failed, but no STI roots were given, so the certificate chain is unverified.
    ChainNotVerified,
    Invalid,
}

/// The first failing check and the answer it maps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub check: Check,
    pub code: u16,
    pub reason: String,
    pub detail: String,
}

/// The verification of one Identity header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityResult {
    /// 0-based position among the request's Identity headers.
    pub index: usize,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    pub checks: Vec<CheckResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passport: Option<PassportSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertSummary>,
    /// Whether the x5u answer came from this run's cache.
    #[serde(default)]
    pub x5u_cached: bool,
    /// The Rich Call Data the PASSporT signed (RFC 9795), when it carries an `rcd` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcd: Option<RcdSummary>,
}

impl IdentityResult {
    pub fn outcome(&self, c: Check) -> Option<Outcome> {
        self.checks.iter().find(|r| r.check == c).map(|r| r.outcome)
    }

    pub fn detail(&self, c: Check) -> Option<&str> {
        self.checks
            .iter()
            .find(|r| r.check == c)
            .map(|r| r.detail.as_str())
    }

    /// The PASSporT type: the JOSE `ppt`, `shaken` when it says none.
    pub fn ppt(&self) -> &str {
        self.passport
            .as_ref()
            .and_then(|p| p.ppt.as_deref())
            .unwrap_or("shaken")
    }
}

/// What a verification needs besides the request.
#[derive(Clone)]
pub struct VerifyContext {
    /// Unix seconds taken as "now" (`--at`, or the time the request arrived).
    pub now: i64,
    /// DER roots of the STI-PA (`--sti-ca-file`); `None` leaves the chain unverified.
    pub sti_roots: Option<Arc<Vec<Vec<u8>>>>,
    /// Fetches the certificate an Identity's `x5u` names.
    pub fetcher: X5uFetcher,
    /// The CRLs fetched in this run.
    pub crls: CrlStore,
    /// The carrier's own SPCs (`--expect-spc`); another signing SPC is a finding.
    pub expect_spc: Vec<String>,
}

impl VerifyContext {
    /// No STI roots, the web roots for x5u, public addresses only: what a loop call uses when the
    /// user named nothing.
    pub fn bare(now: i64) -> VerifyContext {
        VerifyContext {
            now,
            sti_roots: None,
            fetcher: X5uFetcher::with_web_roots(),
            crls: CrlStore::default(),
            expect_spc: Vec::new(),
        }
    }
}

/// The results so far; whatever is not recorded by the end is skipped with `skip_reason`.
struct Recorder {
    results: Vec<CheckResult>,
    skip_reason: String,
}

impl Recorder {
    fn new() -> Recorder {
        Recorder {
            results: Vec::new(),
            skip_reason: String::new(),
        }
    }
    fn put(&mut self, check: Check, outcome: Outcome, detail: impl Into<String>) {
        let clause = match outcome {
            Outcome::Warn | Outcome::Fail => check.clause().to_string(),
            _ => String::new(),
        };
        self.results.push(CheckResult {
            check,
            outcome,
            detail: detail.into(),
            clause,
        });
    }
    fn pass(&mut self, c: Check, d: impl Into<String>) {
        self.put(c, Outcome::Pass, d)
    }
    fn fail(&mut self, c: Check, d: impl Into<String>) {
        self.put(c, Outcome::Fail, d)
    }
    fn warn(&mut self, c: Check, d: impl Into<String>) {
        self.put(c, Outcome::Warn, d)
    }
    fn skip(&mut self, c: Check, d: impl Into<String>) {
        self.put(c, Outcome::Skipped, d)
    }
    /// Every check not run from here on is skipped for this reason.
    fn stop(&mut self, why: impl Into<String>) {
        self.skip_reason = why.into();
    }
    fn check(&mut self, c: Check, r: Result<String, String>) -> bool {
        match r {
            Ok(d) => {
                self.pass(c, d);
                true
            }
            Err(d) => {
                self.fail(c, d);
                false
            }
        }
    }
    /// A "should": a miss is a warn.
    fn should(&mut self, c: Check, r: Result<String, String>) {
        match r {
            Ok(d) => self.pass(c, d),
            Err(d) => self.warn(c, d),
        }
    }
}

/// The caller's number as a verifier compares it with `orig.tn`: P-Asserted-Identity, else From.
pub fn caller_number(msg: &Message) -> Option<String> {
    msg.header("P-Asserted-Identity")
        .and_then(passport::uri_user)
        .or_else(|| msg.header("From").and_then(passport::uri_user))
}

/// The called number as compared with `dest.tn`: the To URI's user.
pub fn called_number(msg: &Message) -> Option<String> {
    msg.header("To").and_then(passport::uri_user)
}

/// The number the request is now addressed to: the Request-URI's user (a retargeted call's new
/// target; RFC 8946 §3 puts it in the div PASSporT's `dest`).
pub fn request_uri_number(msg: &Message) -> Option<String> {
    match &msg.start {
        crate::sip::StartLine::Request { uri, .. } => passport::uri_user(uri),
        _ => None,
    }
}

/// The numbers the diversion headers name: every History-Info (RFC 7044) and Diversion (RFC 5806)
/// entry's user part.
pub fn diversion_numbers(msg: &Message) -> Vec<String> {
    let mut out = Vec::new();
    for h in ["History-Info", "Diversion"] {
        for v in msg.headers_named(h).take(16) {
            for entry in v.split(',').take(16) {
                if let Some(u) = passport::uri_user(entry) {
                    out.push(u);
                }
            }
        }
    }
    out
}

/// The result for a request without any Identity header.
pub fn absent() -> IdentityResult {
    let mut r = Recorder::new();
    r.fail(Check::Present, "the request carries no Identity header");
    r.stop("no Identity header");
    finish(0, r, None, None, false)
}

/// The PASSporT type a header and its token state: the JOSE `ppt`, else the header's `ppt`.
fn kind(h: &IdentityHeader, p: Option<&Passport>) -> String {
    p.and_then(|p| p.header_str("ppt"))
        .or(h.ppt.as_deref())
        .unwrap_or("shaken")
        .to_ascii_lowercase()
}

/// Runs every check on one Identity header value of `msg`.
pub async fn verify_one(
    index: usize,
    value: &str,
    msg: &Message,
    ctx: &VerifyContext,
) -> IdentityResult {
    let mut r = Recorder::new();
    r.pass(Check::Present, "Identity header present");
    let h = IdentityHeader::parse(value);
    let pp = match Passport::decode(&h) {
        Ok(p) => {
            r.pass(Check::FullForm, "full form: header.payload.signature");
            Some(p)
        }
        Err(e) => {
            r.fail(Check::FullForm, e.to_string());
            None
        }
    };
    let info = h.info.clone().filter(|i| !i.trim().is_empty());
    r.check(
        Check::InfoParam,
        info.as_ref()
            .map(|i| format!("info=<{i}>"))
            .ok_or_else(|| "no info=<URI> parameter".to_string()),
    );
    let ppt_param = h.ppt.clone().unwrap_or_default();
    r.check(Check::HeaderParams, header_params(&h));
    let summary = pp.as_ref().map(Passport::summary);
    let Some(p) = pp else {
        date_fresh(&mut r, msg, ctx.now);
        r.stop("no decodable PASSporT");
        return finish(index, r, None, None, false);
    };
    let s = summary.clone().unwrap_or_default();
    let kind = kind(&h, Some(&p));
    r.check(
        Check::JoseAlg,
        match p.header_str("alg") {
            Some("ES256") => Ok("alg ES256".into()),
            Some(a) => Err(format!("JOSE alg {a:?}; SHAKEN signs with ES256 only")),
            None => Err("JOSE header has no alg".into()),
        },
    );
    r.check(Check::JoseHeader, jose_header(&p, &ppt_param));
    let x5u = p.header_str("x5u").map(str::to_string);
    match (&x5u, &info) {
        (Some(x), Some(i)) if x == i => r.pass(Check::X5uMatchesInfo, "x5u equals info"),
        (Some(x), Some(i)) => r.fail(
            Check::X5uMatchesInfo,
            format!("x5u {x:?} differs from info {i:?}"),
        ),
        _ => r.skip(Check::X5uMatchesInfo, "x5u or info missing"),
    }
    x5u_policy(&mut r, x5u.as_deref());
    r.check(Check::Claims, claims(&p, &kind));
    match (kind.as_str(), s.attest.as_deref()) {
        ("div", _) => r.skip(Check::Attest, "ppt=div carries no attest (RFC 8946 §3)"),
        ("rcd", None) => r.skip(Check::Attest, "ppt=rcd needs no attest (RFC 9795 §4)"),
        (_, a) => {
            r.check(
                Check::Attest,
                match a {
                    Some(a @ ("A" | "B" | "C")) => Ok(format!("attestation {a}")),
                    Some(a) => Err(format!("attest {a:?} is not A, B or C")),
                    None => Err("no attest claim".into()),
                },
            );
        }
    }
    match s.iat {
        Some(iat) if iat > ctx.now => r.fail(
            Check::IatFresh,
            format!("iat is {} s in the future", iat - ctx.now),
        ),
        Some(iat) if ctx.now - iat > FRESHNESS_SECS => r.fail(
            Check::IatFresh,
            format!("iat is {} s old (limit {FRESHNESS_SECS} s)", ctx.now - iat),
        ),
        Some(iat) => r.pass(Check::IatFresh, format!("iat {} s old", ctx.now - iat)),
        None => r.skip(Check::IatFresh, "no iat claim"),
    }
    date_fresh(&mut r, msg, ctx.now);
    tn_checks(&mut r, &s, msg, kind == "div");
    if kind == "div" {
        r.should(Check::DivTarget, div_target(&p, msg));
    } else {
        r.skip(Check::DivTarget, "not a div PASSporT");
    }
    let (cert, cached) = match x5u.as_deref() {
        Some(url) => certificate_checks(&mut r, url, &p, &s, ctx).await,
        None => {
            r.stop("no x5u to fetch a certificate from");
            (None, false)
        }
    };
    let rcd = rcd_checks(&mut r, &p, &kind, msg, ctx).await;
    let mut result = finish(index, r, summary, cert, cached);
    result.rcd = rcd;
    result
}

fn x5u_policy(r: &mut Recorder, x5u: Option<&str>) {
    match x5u.map(X5uUrl::parse) {
        Some(Ok(u)) if u.https && !u.userinfo && !u.query => {
            r.pass(Check::X5uPolicy, "https, no userinfo, no query")
        }
        Some(Ok(u)) => {
            let mut why = Vec::new();
            if !u.https {
                why.push("not https");
            }
            if u.userinfo {
                why.push("userinfo in the URL");
            }
            if u.query {
                why.push("a query in the URL");
            }
            r.warn(Check::X5uPolicy, why.join(", "))
        }
        Some(Err(e)) => r.fail(Check::X5uPolicy, format!("x5u is not a URL: {e}")),
        None => r.skip(Check::X5uPolicy, "no x5u"),
    }
}

fn header_params(h: &IdentityHeader) -> Result<String, String> {
    let alg = h.alg.as_deref();
    let ppt = h.ppt.as_deref();
    let mut bad = Vec::new();
    match alg {
        Some("ES256") => {}
        Some(a) => bad.push(format!("alg={a}")),
        None => bad.push("no alg parameter".into()),
    }
    match ppt {
        Some("shaken" | "div" | "rcd") => {}
        Some(p) => bad.push(format!("ppt={p}")),
        None => bad.push("no ppt parameter".into()),
    }
    if bad.is_empty() {
        Ok(format!("alg=ES256;ppt={}", ppt.unwrap_or_default()))
    } else {
        Err(format!(
            "{} (expected alg=ES256 and ppt shaken, div or rcd)",
            bad.join(", ")
        ))
    }
}

fn jose_header(p: &Passport, ppt_param: &str) -> Result<String, String> {
    let mut bad = Vec::new();
    match p.header_str("typ") {
        Some("passport") => {}
        Some(t) => bad.push(format!("typ {t:?}")),
        None => bad.push("no typ".into()),
    }
    match p.header_str("ppt") {
        Some(v) if v == ppt_param => {}
        Some(v) => bad.push(format!("ppt {v:?} (Identity says {ppt_param:?})")),
        None => bad.push("no ppt".into()),
    }
    if p.header_str("x5u").is_none() {
        bad.push("no x5u".into());
    }
    if bad.is_empty() {
        Ok("typ passport, ppt and x5u present".into())
    } else {
        Err(format!("JOSE header: {}", bad.join(", ")))
    }
}

/// The claims each PASSporT type must carry: RFC 8225 §5 (orig, dest, iat), RFC 8588 §4 (shaken:
/// attest, origid), RFC 8946 §3 (div: div), RFC 9795 §4 (rcd: rcd).
fn claims(p: &Passport, kind: &str) -> Result<String, String> {
    let c = &p.claims;
    let mut missing = Vec::new();
    if !c
        .get("orig")
        .and_then(|o| o.get("tn"))
        .is_some_and(|t| t.is_string())
    {
        missing.push("orig.tn");
    }
    if !c
        .get("dest")
        .and_then(|d| d.get("tn"))
        .and_then(|t| t.as_array())
        .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x.is_string()))
    {
        missing.push("dest.tn[]");
    }
    if !c.get("iat").is_some_and(|v| v.is_i64()) {
        missing.push("iat");
    }
    let need: &[&str] = match kind {
        "div" => &["div"],
        "rcd" => &["rcd"],
        _ => &["attest", "origid"],
    };
    for k in need {
        if c.get(*k).is_none() {
            missing.push(k);
        }
    }
    if kind == "div"
        && !c
            .get("div")
            .and_then(|d| d.get("tn"))
            .is_some_and(|t| t.is_string())
    {
        missing.push("div.tn");
    }
    if missing.is_empty() {
        Ok(format!("all claims ppt={kind} requires present"))
    } else {
        Err(format!("missing or malformed: {}", missing.join(", ")))
    }
}

fn date_fresh(r: &mut Recorder, msg: &Message, now: i64) {
    match msg.header("Date") {
        None => r.skip(Check::DateFresh, "no Date header"),
        Some(d) => match parse_http_date(d) {
            Some(t) if (now - t).abs() <= FRESHNESS_SECS => {
                r.pass(Check::DateFresh, format!("Date {} s from now", now - t))
            }
            Some(t) => r.fail(
                Check::DateFresh,
                format!(
                    "Date is {} s away from now (limit {FRESHNESS_SECS} s)",
                    now - t
                ),
            ),
            None => r.fail(Check::DateFresh, "Date does not parse"),
        },
    }
}

/// RFC 3261 §20.17 SIP-date (RFC 1123: `Wed, 02 Dec 2026 00:53:11 GMT`), as Unix seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let f = ::time::format_description::well_known::Rfc2822;
    ::time::OffsetDateTime::parse(s.trim(), &f)
        .ok()
        .map(|t| t.unix_timestamp())
}

fn same_tn(a: &str, b: &str) -> bool {
    let a = passport::canonical_tn(a);
    a.is_some() && a == passport::canonical_tn(b)
}

/// `orig.tn` against the caller; `dest.tn` against To, or for a div PASSporT against the
/// Request-URI: RFC 8946 §3 makes the new target the div PASSporT's `dest`, while To keeps the
/// original called party.
fn tn_checks(r: &mut Recorder, s: &PassportSummary, msg: &Message, is_div: bool) {
    let caller = caller_number(msg);
    match (&s.orig_tn, caller.as_deref()) {
        (None, _) => r.skip(Check::OrigTn, "no orig.tn"),
        (Some(_), None) => r.fail(
            Check::OrigTn,
            "no caller number in P-Asserted-Identity or From",
        ),
        (Some(o), Some(raw)) if same_tn(o, raw) => {
            r.pass(Check::OrigTn, format!("orig.tn {o} is the caller {raw}"))
        }
        (Some(o), Some(raw)) => r.fail(
            Check::OrigTn,
            format!("orig.tn {o:?} is not the caller {raw:?}"),
        ),
    }
    let (called, place) = if is_div {
        (request_uri_number(msg), "the Request-URI")
    } else {
        (called_number(msg), "To")
    };
    match (s.dest_tn.is_empty(), called.as_deref()) {
        (true, _) => r.skip(Check::DestTn, "no dest.tn"),
        (false, None) => r.fail(Check::DestTn, format!("no called number in {place}")),
        (false, Some(raw)) if s.dest_tn.iter().any(|d| same_tn(d, raw)) => r.pass(
            Check::DestTn,
            format!("dest.tn contains the called {raw} ({place})"),
        ),
        (false, Some(raw)) => r.fail(
            Check::DestTn,
            format!(
                "dest.tn {:?} does not contain the called {raw:?} ({place})",
                s.dest_tn
            ),
        ),
    }
}

/// RFC 8946 §3: a div PASSporT's `div` is the destination the call had before it was retargeted:
/// the `dest` of the shaken PASSporT beside it, an entry of History-Info or Diversion, or To.
fn div_target(p: &Passport, msg: &Message) -> Result<String, String> {
    let Some(div) = p
        .claims
        .get("div")
        .and_then(|d| d.get("tn"))
        .and_then(|t| t.as_str())
    else {
        return Err("no div.tn".into());
    };
    let mut earlier: Vec<(String, &str)> = Vec::new();
    for v in msg.headers_named("Identity").take(super::MAX_IDENTITIES) {
        let h = IdentityHeader::parse(v);
        if let Ok(other) = Passport::decode(&h)
            && kind(&h, Some(&other)) != "div"
        {
            for d in other.summary().dest_tn {
                earlier.push((d, "a shaken PASSporT's dest"));
            }
        }
    }
    for n in diversion_numbers(msg) {
        earlier.push((n, "History-Info/Diversion"));
    }
    if let Some(to) = called_number(msg) {
        earlier.push((to, "To"));
    }
    match earlier.iter().find(|(n, _)| same_tn(n, div)) {
        Some((n, place)) => Ok(format!("div.tn {div} is {n} in {place}")),
        None if diversion_numbers(msg).is_empty() => Err(format!(
            "div.tn {div} is neither To nor a shaken dest, and the request carries no History-Info or Diversion"
        )),
        None => Err(format!(
            "div.tn {div} is not among the earlier destinations the request names"
        )),
    }
}

async fn certificate_checks(
    r: &mut Recorder,
    url: &str,
    p: &Passport,
    s: &PassportSummary,
    ctx: &VerifyContext,
) -> (Option<CertSummary>, bool) {
    let fetched = match ctx.fetcher.fetch(url).await {
        Ok(f) => {
            r.pass(
                Check::X5uFetch,
                format!(
                    "{} bytes{}",
                    f.body.len(),
                    if f.cached { " (cached)" } else { "" }
                ),
            );
            f
        }
        Err(e) => {
            r.fail(Check::X5uFetch, e.to_string());
            r.stop("no certificate fetched");
            return (None, false);
        }
    };
    r.should(Check::X5uAnswer, x5u_answer(&fetched));
    let bundle = Bundle::from_pem(&fetched.body);
    let parsed: Vec<X509Certificate<'_>> = bundle
        .certs
        .iter()
        .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
        .collect();
    let Some(leaf) = parsed.first() else {
        let why = if !bundle.other_labels.is_empty() {
            format!(
                "x5u holds {} instead of a certificate",
                bundle.other_labels.join(", ")
            )
        } else if bundle.certs.is_empty() {
            "x5u holds no PEM certificate".into()
        } else {
            "the PEM certificate does not parse".into()
        };
        r.fail(Check::Certificate, why);
        r.stop("no certificate");
        return (None, fetched.cached);
    };
    let mut summary = cert::summary(leaf);
    r.pass(
        Check::Certificate,
        format!("{} certificate(s); leaf {}", parsed.len(), summary.subject),
    );
    let iat = s.iat.unwrap_or(ctx.now);
    r.check(
        Check::CertValidity,
        match (cert::valid_at(leaf, iat), cert::valid_at(leaf, ctx.now)) {
            (true, true) => Ok("valid at iat and now".into()),
            (a, b) => Err(format!(
                "not valid {} (valid {} to {})",
                match (a, b) {
                    (false, false) => "at iat nor now",
                    (false, true) => "at iat",
                    _ => "now",
                },
                leaf.validity().not_before,
                leaf.validity().not_after
            )),
        },
    );
    let roots: Vec<X509Certificate<'_>> = ctx
        .sti_roots
        .iter()
        .flat_map(|r| r.iter())
        .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
        .collect();
    if ctx.sti_roots.is_none() {
        r.warn(Check::Chain, "chain not verified: no STI roots given");
    } else {
        match cert::chain_to_roots(leaf, &parsed[1..], &roots, ctx.now) {
            Ok(path) => {
                r.pass(
                    Check::Chain,
                    format!("chains to {}", path.last().cloned().unwrap_or_default()),
                );
                summary.chain = path;
            }
            Err(e) => r.fail(Check::Chain, e),
        }
    }
    r.check(
        Check::KeyType,
        cert::key_check(leaf).map(|()| "EC P-256, digitalSignature".to_string()),
    );
    let tn = cert::tn_auth_list(leaf).and_then(|entries| match entries.as_slice() {
        [TnEntry::Spc(spc)] if !spc.is_empty() => Ok(spc.clone()),
        [TnEntry::Spc(_)] => Err("the SPC is empty".into()),
        [] => Err("TNAuthList is empty".into()),
        [one] => Err(format!("TNAuthList holds {one:?}, not an SPC")),
        many => Err(format!(
            "TNAuthList holds {} entries ({}), not exactly one SPC",
            many.len(),
            many.iter()
                .map(|e| match e {
                    TnEntry::Spc(s) => format!("SPC {s}"),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        )),
    });
    match tn {
        Ok(spc) => {
            r.pass(Check::TnAuthList, format!("SPC {spc}"));
            summary.spc = Some(spc);
        }
        Err(e) => r.fail(Check::TnAuthList, e),
    }
    profile_checks(r, leaf, &parsed, &mut summary);
    // A chain that does not verify is already fatal: no CRL its certificates name is fetched.
    let chain_failed = r
        .results
        .iter()
        .any(|c| c.check == Check::Chain && c.outcome == Outcome::Fail);
    if chain_failed {
        r.skip(
            Check::Revocation,
            "not checked: the chain does not verify, so the CRLs its certificates name are not fetched",
        );
    } else {
        revocation(r, leaf, &parsed, &roots, ctx, &mut summary).await;
    }
    r.check(Check::Signature, signature(leaf, p));
    (Some(summary), fetched.cached)
}

/// The STI-CR answer: a caching directive, the PEM chain content type, no redirect.
fn x5u_answer(f: &Fetched) -> Result<String, String> {
    let mut bad = Vec::new();
    if f.cache_control.is_none() {
        bad.push("no Cache-Control".to_string());
    }
    let ct = f.content_type.as_deref().unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/pem-certificate-chain") {
        bad.push(if ct.is_empty() {
            "no Content-Type (expected application/pem-certificate-chain)".to_string()
        } else {
            format!("Content-Type {ct:?} (expected application/pem-certificate-chain)")
        });
    }
    if !f.redirects.is_empty() {
        bad.push(format!("redirected to {}", f.redirects.join(" -> ")));
    }
    if bad.is_empty() {
        Ok(format!(
            "Cache-Control {:?}, Content-Type {ct}",
            f.cache_control.as_deref().unwrap_or_default()
        ))
    } else {
        Err(bad.join("; "))
    }
}

/// ATIS-1000080 §6.4.1 lints on the leaf; the facts go into the summary.
fn profile_checks(
    r: &mut Recorder,
    leaf: &X509Certificate<'_>,
    served: &[X509Certificate<'_>],
    summary: &mut CertSummary,
) {
    summary.cn = profile::common_name(leaf);
    summary.cn_spc = summary
        .cn
        .as_deref()
        .and_then(profile::cn_spc)
        .map(str::to_string);
    summary.serial_bits = profile::serial_bits(leaf);
    r.check(
        Check::CertCn,
        profile::cn_matches_spc(leaf, summary.spc.as_deref()),
    );
    r.check(Check::CertSerial, profile::serial_ok(leaf));
    r.check(Check::CertCdp, profile::cdp_ok(leaf));
    let cas = served.iter().skip(1).take(4);
    r.should(
        Check::CertExtensions,
        profile::extensions_ok(leaf).and_then(|fact| {
            let with: Vec<String> = cas
                .filter(|c| profile::has_tn_auth_list(c))
                .map(|c| c.subject().to_string())
                .collect();
            if with.is_empty() {
                Ok(fact)
            } else {
                Err(format!(
                    "intermediate {} carries a TNAuthList (ATIS-1000080 v005 allows it in end-entity certificates only)",
                    with.join(", ")
                ))
            }
        }),
    );
}

/// The leaf and every served intermediate against their CRLs. Revoked: fail; undetermined: warn.
async fn revocation(
    r: &mut Recorder,
    leaf: &X509Certificate<'_>,
    served: &[X509Certificate<'_>],
    roots: &[X509Certificate<'_>],
    ctx: &VerifyContext,
    summary: &mut CertSummary,
) {
    let signers: Vec<X509Certificate<'_>> = roots.iter().chain(served).cloned().collect();
    let mut subjects = vec![Subject {
        cert: leaf,
        role: "leaf",
    }];
    for c in served.iter().skip(1).take(3) {
        subjects.push(Subject {
            cert: c,
            role: "intermediate",
        });
    }
    let mut revoked = Vec::new();
    let mut unknown = Vec::new();
    let mut good = Vec::new();
    for s in &subjects {
        match ctx.crls.status(s, &signers, &ctx.fetcher, ctx.now).await {
            RevStatus::Good(d) => good.push(d),
            RevStatus::Revoked(d) => revoked.push(d),
            RevStatus::Undetermined(d) => unknown.push(d),
        }
    }
    summary.revocation = Some(
        if !revoked.is_empty() {
            "revoked"
        } else if !unknown.is_empty() {
            "undetermined"
        } else {
            "good"
        }
        .to_string(),
    );
    if !revoked.is_empty() {
        r.fail(Check::Revocation, revoked.join("; "));
    } else if !unknown.is_empty() {
        unknown.extend(good);
        r.warn(Check::Revocation, unknown.join("; "));
    } else {
        r.pass(Check::Revocation, good.join("; "));
    }
}

/// ES256 as JWS uses it (RFC 7518 §3.4): the 64-byte r‖s over `header.payload`.
fn signature(leaf: &X509Certificate<'_>, p: &Passport) -> Result<String, String> {
    if p.signature.len() != 64 {
        return Err(format!(
            "signature is {} bytes; ES256 is 64 (r||s)",
            p.signature.len()
        ));
    }
    let key = &leaf.public_key().subject_public_key.data;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, key)
        .verify(p.signing_input.as_bytes(), &p.signature)
        .map(|()| "ES256 signature verifies under the x5u certificate".to_string())
        .map_err(|_| "ES256 signature does not verify under the x5u certificate".to_string())
}

/// RFC 9795: the rcd claim's shape, the rcdi digests of referenced content (fetched like x5u), and
/// the displayed name against the signed `nam`.
async fn rcd_checks(
    r: &mut Recorder,
    p: &Passport,
    kind: &str,
    msg: &Message,
    ctx: &VerifyContext,
) -> Option<RcdSummary> {
    let summary = rcd::summary(&p.claims);
    if summary.is_none() && kind != "rcd" {
        for c in [Check::Rcd, Check::RcdIntegrity, Check::RcdName] {
            r.skip(c, "no rcd claim");
        }
        return None;
    }
    r.check(Check::Rcd, rcd::shape(&p.claims, kind == "rcd"));
    let refs = rcd::referenced(&p.claims);
    if refs.is_empty() {
        r.skip(
            Check::RcdIntegrity,
            "no rcdi digest over referenced content",
        );
    } else {
        let mut bad = Vec::new();
        let mut ok = Vec::new();
        for (ptr, url, digest) in refs {
            match ctx.fetcher.fetch_cached(&url, Scheme::Https).await {
                Ok(f) => match rcd::digest_matches(&digest, &f.body) {
                    Ok(()) => ok.push(format!("{ptr} matches")),
                    Err(e) => bad.push(format!("{ptr} ({url}): {e}")),
                },
                Err(e) => bad.push(format!("{ptr} ({url}): {e}")),
            }
        }
        if bad.is_empty() {
            r.pass(Check::RcdIntegrity, ok.join(", "));
        } else {
            r.fail(Check::RcdIntegrity, bad.join("; "));
        }
    }
    let displayed = rcd::displayed_name(msg);
    let name = rcd::name_matches(
        summary.as_ref().and_then(|s| s.nam.as_deref()),
        displayed.as_deref(),
    );
    let card = rcd::call_info_matches(summary.as_ref(), &rcd::call_info(msg));
    r.should(
        Check::RcdName,
        match (name, card) {
            (Ok(a), Ok(b)) => Ok(format!("{a}; {b}")),
            (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
            (Err(a), Err(b)) => Err(format!("{a}; {b}")),
        },
    );
    summary
}

fn finish(
    index: usize,
    r: Recorder,
    passport: Option<PassportSummary>,
    certificate: Option<CertSummary>,
    x5u_cached: bool,
) -> IdentityResult {
    let checks: Vec<CheckResult> = Check::ALL
        .iter()
        .map(|c| {
            r.results
                .iter()
                .find(|x| x.check == *c)
                .cloned()
                .unwrap_or_else(|| CheckResult {
                    check: *c,
                    outcome: Outcome::Skipped,
                    detail: r.skip_reason.clone(),
                    clause: String::new(),
                })
        })
        .collect();
    let failure = checks.iter().find(|c| c.outcome == Outcome::Fail).map(|c| {
        let (code, reason) = c.check.response();
        Failure {
            check: c.check,
            code,
            reason: reason.into(),
            detail: c.detail.clone(),
        }
    });
    let verdict = if failure.is_some() {
        Verdict::Invalid
    } else if checks
        .iter()
        .any(|c| c.check == Check::Chain && c.outcome != Outcome::Pass)
    {
        Verdict::ChainNotVerified
    } else {
        Verdict::Valid
    };
    IdentityResult {
        index,
        verdict,
        failure,
        checks,
        passport,
        certificate,
        x5u_cached,
        rcd: None,
    }
}
