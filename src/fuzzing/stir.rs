//! Properties of the STIR/SHAKEN readers: Identity header values, PASSporTs, x5u PEM bundles.

use crate::sip::{Limits, Message};
use crate::stir::cert::Bundle;
use crate::stir::passport::{
    IdentityHeader, MAX_IDENTITY_LEN, Passport, b64url_decode, b64url_encode, canonical_tn,
    uri_user,
};

/// An Identity header value (or a whole SIP request carrying one): the split is bounded, a decoded
/// PASSporT's signing input is exactly the first two parts, and base64url round-trips.
pub fn stir_identity(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut values = vec![text.to_string()];
    if let Ok(m) = Message::parse(data, &Limits::default()) {
        values.extend(m.headers_named("Identity").map(str::to_string));
        let _ = crate::stir::carrier::indications(&m);
        assert!(crate::stir::rcd::call_info(&m).len() <= 64);
        let _ = crate::stir::rcd::displayed_name(&m);
        assert!(crate::stir::verify::diversion_numbers(&m).len() <= 512);
        let _ = crate::stir::verify::request_uri_number(&m);
        for h in ["From", "To", "P-Asserted-Identity"] {
            if let Some(user) = m.header(h).and_then(uri_user) {
                check_tn(&user);
            }
        }
    }
    for v in values.iter().take(4) {
        let h = IdentityHeader::parse(v);
        assert!(!h.token.contains(';') && h.token.len() <= MAX_IDENTITY_LEN);
        for p in [&h.info, &h.alg, &h.ppt].into_iter().flatten() {
            assert!(p.len() <= MAX_IDENTITY_LEN);
        }
        let Ok(pp) = Passport::decode(&h) else {
            continue;
        };
        let [a, b, c] = h.parts().expect("a decoded PASSporT has three parts");
        assert_eq!(pp.signing_input, format!("{a}.{b}"));
        assert!(pp.header.is_object() && pp.claims.is_object());
        assert_eq!(b64url_decode(c).as_deref(), Some(&pp.signature[..]));
        assert_eq!(
            b64url_decode(&b64url_encode(&pp.signature)),
            Some(pp.signature.clone())
        );
        let _ = crate::stir::rcd::shape(&pp.claims, true);
        let _ = crate::stir::rcd::summary(&pp.claims);
        assert!(
            crate::stir::rcd::referenced(&pp.claims).len() <= crate::stir::rcd::MAX_RCDI_FETCHES
        );
        let s = pp.summary();
        for tn in s.orig_tn.iter().chain(&s.dest_tn) {
            check_tn(tn);
        }
    }
}

/// A canonical number is digits only, bounded, and canonical again.
fn check_tn(s: &str) {
    if let Some(tn) = canonical_tn(s) {
        assert!(!tn.is_empty() && tn.len() <= 32 && tn.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(canonical_tn(&tn).as_deref(), Some(tn.as_str()));
    }
}

/// What an x5u URL served: at most 16 PEM blocks read; each certificate's SHAKEN checks run on
/// whatever DER it holds.
pub fn stir_x5u_pem(data: &[u8]) {
    let b = Bundle::from_pem(data);
    assert!(b.certs.len() + b.other_labels.len() <= 16);
    assert!(b.certs.iter().map(Vec::len).sum::<usize>() <= data.len());
    for der in b.certs.iter().take(4) {
        if let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) {
            let _ = crate::stir::cert::summary(&cert);
            let _ = crate::stir::cert::key_check(&cert);
            let _ = crate::stir::cert::valid_at(&cert, 1_767_225_600);
            if let Ok(entries) = crate::stir::cert::tn_auth_list(&cert) {
                assert!(entries.len() <= der.len());
            }
            let _ = crate::stir::profile::cn_matches_spc(&cert, Some("1234"));
            assert!(crate::stir::profile::serial_bits(&cert) <= 8 * der.len());
            let _ = crate::stir::profile::cdp_ok(&cert);
            let _ = crate::stir::profile::extensions_ok(&cert);
            if let Ok(Some(points)) = crate::stir::profile::cdps(&cert) {
                assert!(points.len() <= 8);
            }
        }
    }
}
