//! The ordered check list of a STIR/SHAKEN verification service (ATIS-1000074 §5.3 with RFC 8224,
//! 8225, 8226, 8588), run in full on every Identity header: the first failure names the verdict and
//! the response code a verification service would send; every result stays in the details.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use super::cert::{self, Bundle, CertSummary, TnEntry};
use super::passport::{self, IdentityHeader, Passport, PassportSummary};
use super::x5u::{X5uFetcher, X5uUrl};
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
    X5uFetch,
    Certificate,
    CertValidity,
    Chain,
    KeyType,
    TnAuthList,
    Signature,
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
            Check::X5uFetch => "x5u_fetch",
            Check::Certificate => "certificate",
            Check::CertValidity => "cert_validity",
            Check::Chain => "chain",
            Check::KeyType => "key_type",
            Check::TnAuthList => "tn_auth_list",
            Check::Signature => "signature",
        }
    }

    /// The response a verification service sends when this check fails (RFC 8224 §6.2.2, §13).
    pub fn response(self) -> (u16, &'static str) {
        match self {
            Check::Present => (428, "Use Identity Header"),
            Check::InfoParam | Check::X5uMatchesInfo | Check::X5uPolicy | Check::X5uFetch => {
                (436, "Bad Identity Info")
            }
            Check::JoseAlg
            | Check::Certificate
            | Check::CertValidity
            | Check::Chain
            | Check::KeyType
            | Check::TnAuthList => (437, "Unsupported Credential"),
            Check::IatFresh | Check::DateFresh => (403, "Stale Date"),
            Check::FullForm
            | Check::HeaderParams
            | Check::JoseHeader
            | Check::Claims
            | Check::Attest
            | Check::OrigTn
            | Check::DestTn
            | Check::Signature => (438, "Invalid Identity Header"),
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
}

impl IdentityResult {
    pub fn outcome(&self, c: Check) -> Option<Outcome> {
        self.checks.iter().find(|r| r.check == c).map(|r| r.outcome)
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
}

struct Recorder(Vec<CheckResult>);

impl Recorder {
    fn put(&mut self, check: Check, outcome: Outcome, detail: impl Into<String>) {
        self.0.push(CheckResult {
            check,
            outcome,
            detail: detail.into(),
        });
    }
    fn pass(&mut self, c: Check, d: impl Into<String>) {
        self.put(c, Outcome::Pass, d)
    }
    fn fail(&mut self, c: Check, d: impl Into<String>) {
        self.put(c, Outcome::Fail, d)
    }
    fn skip(&mut self, c: Check, d: impl Into<String>) {
        self.put(c, Outcome::Skipped, d)
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

/// The result for a request without any Identity header.
pub fn absent() -> IdentityResult {
    let mut r = Recorder(Vec::new());
    r.fail(Check::Present, "the request carries no Identity header");
    finish(0, r, None, None, false)
}

/// Runs every check on one Identity header value of `msg`.
pub async fn verify_one(
    index: usize,
    value: &str,
    msg: &Message,
    ctx: &VerifyContext,
) -> IdentityResult {
    let mut r = Recorder(Vec::new());
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
        for c in [
            Check::JoseAlg,
            Check::JoseHeader,
            Check::X5uMatchesInfo,
            Check::X5uPolicy,
            Check::Claims,
            Check::Attest,
            Check::IatFresh,
        ] {
            r.skip(c, "no decodable PASSporT");
        }
        date_fresh(&mut r, msg, ctx.now);
        for c in [
            Check::OrigTn,
            Check::DestTn,
            Check::X5uFetch,
            Check::Certificate,
            Check::CertValidity,
            Check::Chain,
            Check::KeyType,
            Check::TnAuthList,
            Check::Signature,
        ] {
            r.skip(c, "no decodable PASSporT");
        }
        return finish(index, r, None, None, false);
    };
    let s = summary.clone().unwrap_or_default();
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
    match x5u.as_deref().map(X5uUrl::parse) {
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
            r.put(Check::X5uPolicy, Outcome::Warn, why.join(", "))
        }
        Some(Err(e)) => r.fail(Check::X5uPolicy, format!("x5u is not a URL: {e}")),
        None => r.skip(Check::X5uPolicy, "no x5u"),
    }
    let is_div = ppt_param.eq_ignore_ascii_case("div") || s.ppt.as_deref() == Some("div");
    r.check(Check::Claims, claims(&p, is_div));
    if is_div {
        r.skip(Check::Attest, "ppt=div carries no attest");
    } else {
        r.check(
            Check::Attest,
            match s.attest.as_deref() {
                Some(a @ ("A" | "B" | "C")) => Ok(format!("attestation {a}")),
                Some(a) => Err(format!("attest {a:?} is not A, B or C")),
                None => Err("no attest claim".into()),
            },
        );
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
    tn_checks(&mut r, &s, msg);
    let (cert, cached) = match x5u.as_deref() {
        Some(url) => certificate_checks(&mut r, url, &p, &s, ctx).await,
        None => {
            for c in [
                Check::X5uFetch,
                Check::Certificate,
                Check::CertValidity,
                Check::Chain,
                Check::KeyType,
                Check::TnAuthList,
                Check::Signature,
            ] {
                r.skip(c, "no x5u to fetch a certificate from");
            }
            (None, false)
        }
    };
    finish(index, r, summary, cert, cached)
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
        Some("shaken" | "div") => {}
        Some(p) => bad.push(format!("ppt={p}")),
        None => bad.push("no ppt parameter".into()),
    }
    if bad.is_empty() {
        Ok(format!("alg=ES256;ppt={}", ppt.unwrap_or_default()))
    } else {
        Err(format!(
            "{} (expected alg=ES256;ppt=shaken)",
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

fn claims(p: &Passport, is_div: bool) -> Result<String, String> {
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
    let need: &[&str] = if is_div {
        &["div"]
    } else {
        &["attest", "origid"]
    };
    for k in need {
        if c.get(*k).is_none() {
            missing.push(k);
        }
    }
    if missing.is_empty() {
        Ok("all required claims present".into())
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

fn tn_checks(r: &mut Recorder, s: &PassportSummary, msg: &Message) {
    let caller = caller_number(msg);
    match (
        &s.orig_tn,
        caller.as_deref().map(|c| (c, passport::canonical_tn(c))),
    ) {
        (None, _) => r.skip(Check::OrigTn, "no orig.tn"),
        (Some(_), None) => r.fail(
            Check::OrigTn,
            "no caller number in P-Asserted-Identity or From",
        ),
        (Some(o), Some((raw, canon))) => {
            if passport::canonical_tn(o).is_some_and(|o| Some(o) == canon) {
                r.pass(Check::OrigTn, format!("orig.tn {o} is the caller {raw}"))
            } else {
                r.fail(
                    Check::OrigTn,
                    format!("orig.tn {o:?} is not the caller {raw:?}"),
                )
            }
        }
    }
    let called = called_number(msg);
    match (
        s.dest_tn.is_empty(),
        called.as_deref().map(|c| (c, passport::canonical_tn(c))),
    ) {
        (true, _) => r.skip(Check::DestTn, "no dest.tn"),
        (false, None) => r.fail(Check::DestTn, "no called number in To"),
        (false, Some((raw, canon))) => {
            if s.dest_tn
                .iter()
                .any(|d| canon.is_some() && passport::canonical_tn(d) == canon)
            {
                r.pass(Check::DestTn, format!("dest.tn contains the called {raw}"))
            } else {
                r.fail(
                    Check::DestTn,
                    format!(
                        "dest.tn {:?} does not contain the called {raw:?}",
                        s.dest_tn
                    ),
                )
            }
        }
    }
}

async fn certificate_checks(
    r: &mut Recorder,
    url: &str,
    p: &Passport,
    s: &PassportSummary,
    ctx: &VerifyContext,
) -> (Option<CertSummary>, bool) {
    let rest = [
        Check::Certificate,
        Check::CertValidity,
        Check::Chain,
        Check::KeyType,
        Check::TnAuthList,
        Check::Signature,
    ];
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
            for c in rest {
                r.skip(c, "no certificate fetched");
            }
            return (None, false);
        }
    };
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
        for c in &rest[1..] {
            r.skip(*c, "no certificate");
        }
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
    match &ctx.sti_roots {
        None => r.put(
            Check::Chain,
            Outcome::Warn,
            "chain not verified: no STI roots given",
        ),
        Some(roots) => {
            let roots: Vec<X509Certificate<'_>> = roots
                .iter()
                .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
                .collect();
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
            "TNAuthList holds {} entries, not exactly one SPC",
            many.len()
        )),
    });
    match tn {
        Ok(spc) => {
            r.pass(Check::TnAuthList, format!("SPC {spc}"));
            summary.spc = Some(spc);
        }
        Err(e) => r.fail(Check::TnAuthList, e),
    }
    r.check(Check::Signature, signature(leaf, p));
    (Some(summary), fetched.cached)
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

fn finish(
    index: usize,
    r: Recorder,
    passport: Option<PassportSummary>,
    certificate: Option<CertSummary>,
    x5u_cached: bool,
) -> IdentityResult {
    let checks = r.0;
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
    }
}
