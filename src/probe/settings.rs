//! What the run allows probes to do beyond safe requests: the call policy (who may be called, how
//! many calls) and what loop calls need. The probes that place calls read these from the
//! [`Config`](super::Config); they live here so the probe framework needs nothing from those probes.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::listen::ListenConfig;
use crate::sip::digest::Credentials;
use crate::stir::VerifyContext;

/// The default `--max-calls`: the unauthenticated INVITE (twice when the first offer is refused on
/// media grounds), SDES, DTLS-SRTP, plain RTP, and SDES again over plaintext when the first went over TLS.
pub const DEFAULT_MAX_CALLS: u32 = 7;

/// Whether, where and how often calls may be placed during a run.
#[derive(Debug, Clone)]
pub struct CallPolicy {
    /// `--call-to`: a user part / number, or a full `sip:` URI.
    pub call_to: Option<String>,
    /// `--allow-calls`.
    pub allow: bool,
    /// `--max-calls`.
    pub max_calls: u32,
    /// `--user` plus the password from `SIPCHECK_PASSWORD` or `--password-file`.
    pub credentials: Option<Credentials>,
    /// `--caller-id`: the calling number (From and Contact user) instead of the account user.
    pub caller_id: Option<String>,
    /// `--refer-to`: where the REFER test transfers the call (never guessed).
    pub refer_to: Option<String>,
    /// `--rtp-bleed`: run the RTP bleed test in one more call.
    pub rtp_bleed: bool,
    placed: Arc<AtomicU32>,
    serial: Arc<tokio::sync::Mutex<()>>,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            call_to: None,
            allow: false,
            max_calls: DEFAULT_MAX_CALLS,
            credentials: None,
            caller_id: None,
            refer_to: None,
            rtp_bleed: false,
            placed: Arc::new(AtomicU32::new(0)),
            serial: Arc::new(tokio::sync::Mutex::new(())),
        }
    }
}

impl CallPolicy {
    /// `Err(reason)` when calls are not allowed in this run, for a `skipped` finding.
    pub fn permitted(&self) -> Result<&str, String> {
        match (&self.call_to, self.allow) {
            (Some(to), true) if !to.trim().is_empty() => Ok(to.trim()),
            (None, false) => Err(
                "places a call: give --call-to (a number or URI that is safe to call) and --allow-calls"
                    .into(),
            ),
            (Some(_), false) => Err("places a call: --allow-calls was not given".into()),
            _ => Err("places a call: --call-to was not given (never guessed)".into()),
        }
    }

    /// Takes one call from the run's budget; false when `--max-calls` is used up.
    pub fn take_call(&self) -> bool {
        self.placed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max_calls).then_some(n + 1)
            })
            .is_ok()
    }

    /// The user part our calls come from: `--caller-id`, else the account user (a trunk that checks
    /// the authenticated user against From, as Kamailio's `auth_check(..., 1)` does, refuses any
    /// other), else `sipcheck`.
    pub fn calling_user(&self) -> &str {
        self.caller_id
            .as_deref()
            .or(self.credentials.as_ref().map(|c| c.user.as_str()))
            .unwrap_or("sipcheck")
    }

    /// Takes `n` calls at once (for calls that must be up together), or none when fewer are left.
    pub fn take_calls(&self, n: u32) -> bool {
        self.placed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |p| {
                (p.saturating_add(n) <= self.max_calls).then_some(p + n)
            })
            .is_ok()
    }

    /// Calls placed so far.
    pub fn placed(&self) -> u32 {
        self.placed.load(Ordering::SeqCst)
    }

    /// Held while a call is up, so probes running concurrently never overlap calls.
    pub async fn one_at_a_time(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.serial.lock().await
    }
}

/// `--spoof-caller-id` default: 202-555-0123 lies in 555-0100…0199, reserved for fiction by NANPA.
pub const DEFAULT_SPOOF: &str = "+12025550123";

/// What the loop calls need besides the call policy.
#[derive(Clone, Default)]
pub struct LoopSettings {
    /// `--loop-call`: the DID routed back to the listener.
    pub number: Option<String>,
    /// `--listen` (with `--listen-cert/--listen-key`).
    pub listen: Option<ListenConfig>,
    /// `--loop-via-register`: the calls come back over a REGISTERed TCP/TLS flow, no listener.
    pub via_register: bool,
    /// `--spoof-caller-id`, else [`DEFAULT_SPOOF`].
    pub spoof_caller_id: Option<String>,
    /// STI roots and the x5u client (`--sti-ca-file`, `--x5u-ca-file`).
    pub verify: Option<VerifyContext>,
}

impl fmt::Debug for LoopSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopSettings")
            .field("number", &self.number)
            .field("listen", &self.listen.as_ref().map(|l| l.at.to_string()))
            .field("via_register", &self.via_register)
            .field("spoof_caller_id", &self.spoof_caller_id)
            .finish()
    }
}

impl LoopSettings {
    pub fn spoof(&self) -> &str {
        self.spoof_caller_id.as_deref().unwrap_or(DEFAULT_SPOOF)
    }
}
