//! An attended transfer (RFC 5589 §7, `Replaces` RFC 3891): a call to the transferee and one to the
//! transfer target are both answered, then a REFER in the first carries a Refer-To naming the target
//! with `?Replaces=` of the second dialog. A target that honours it replaces our second call with the
//! transferee's (and hangs that call up on us). Both calls are always ended.

use std::time::Duration;

use super::{CallLeg, InviteOptions, InviteOutcome, Teardown, place::dial_plain};
use crate::findings::Evidence;
use crate::findings::call::AttendedTransfer;
use crate::probe::Context;
use crate::sip::digest::DigestClient;
use crate::target::Endpoint;

/// What the attended transfer came to: what the finding reports, and how our calls ended.
#[derive(Debug, Clone, Default)]
pub struct Attended {
    pub data: AttendedTransfer,
    pub teardown: Vec<Teardown>,
    pub evidence: Vec<Evidence>,
    pub transferee_outcome: InviteOutcome,
}

/// `%`-escapes what may not stand in a URI header value (RFC 3261 §25.1 `hnv-unreserved` and
/// unreserved characters stay).
fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
                (b as char).to_string()
            }
            b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The Refer-To for replacing `leg`'s dialog at `target` (tags from the target's point of view: its
/// own tag is the to-tag, ours the from-tag, RFC 3891 §3).
pub fn replaces_uri(target: &str, leg: &CallLeg) -> Option<String> {
    let (call_id, ours, theirs) = leg.dialog_id()?;
    let sep = if target.contains('?') { '&' } else { '?' };
    Some(format!(
        "{target}{sep}Replaces={}",
        escape(&format!("{call_id};to-tag={theirs};from-tag={ours}"))
    ))
}

async fn end(leg: CallLeg, out: &mut Attended) {
    let mut leg = leg;
    out.teardown.push(leg.hangup().await);
    out.evidence.extend(leg.evidence());
    leg.close().await;
}

/// Calls `transferee` then `target` (both must answer), REFERs the first to the second with Replaces
/// and follows it for `follow`; ends both calls whatever happened. Two calls of the budget: the caller
/// takes them. `Err` only when the first call could not be placed at all.
pub async fn attended(
    ctx: &Context,
    ep: &Endpoint,
    transferee: &str,
    target: &str,
    mut auth: Option<&mut DigestClient>,
    follow: Duration,
) -> Result<Attended, String> {
    let opts = InviteOptions {
        exchange_media: false,
        ..InviteOptions::default()
    };
    let mut out = Attended::default();
    let (mut first, _media1, o1) =
        dial_plain(ctx, ep, transferee, auth.as_deref_mut(), &opts).await?;
    out.data.transferee_call = o1.final_response.as_ref().map(|m| m.first_line());
    let answered = o1.answer().is_some();
    out.transferee_outcome = o1;
    if !answered {
        end(first, &mut out).await;
        return Ok(out);
    }
    let second = dial_plain(ctx, ep, target, auth.as_deref_mut(), &opts).await;
    let (mut second, _media2) = match second {
        Ok((leg, media, o2)) => {
            out.data.target_call = o2.final_response.as_ref().map(|m| m.first_line());
            if o2.answer().is_none() {
                end(leg, &mut out).await;
                end(first, &mut out).await;
                return Ok(out);
            }
            (leg, media)
        }
        Err(e) => {
            out.data.target_call = Some(e);
            end(first, &mut out).await;
            return Ok(out);
        }
    };
    let Some(refer_to) = replaces_uri(target, &second) else {
        end(second, &mut out).await;
        end(first, &mut out).await;
        return Ok(out);
    };
    let by = first.our_from().to_string();
    // The target's BYE on our second call (the replacement) is answered while the REFER is followed.
    let refer = {
        let refer = first.refer(&refer_to, &by, auth, follow);
        tokio::pin!(refer);
        tokio::select! {
            r = &mut refer => r,
            // The target hung up our second call: the REFER still runs to its end.
            _ = second.hold(follow + Duration::from_secs(2)) => refer.await,
        }
    };
    // The replacing INVITE reaches the target around the final NOTIFY; give its BYE a moment.
    second.hold(Duration::from_secs(2)).await;
    out.data.refer = Some(refer);
    out.data.target_call_replaced = second.ended_by_peer();
    end(second, &mut out).await;
    end(first, &mut out).await;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_is_escaped_into_a_uri_header() {
        assert_eq!(
            super::escape("a1@x;to-tag=b;from-tag=c"),
            "a1%40x%3Bto-tag%3Db%3Bfrom-tag%3Dc"
        );
    }
}
