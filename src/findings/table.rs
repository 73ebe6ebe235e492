//! The registry table: one row per finding id. Rows are in report order; the "What is measured"
//! table of `docs/measured.md` is checked against this file by a test.

use super::auth::{ChallengeDetails, InviteUnauthenticatedDetails};
#[allow(unused_imports)]
use super::call::{CallReferDetails, ReplacesDetails, RtpBleedDetails};
#[allow(unused_imports)]
use super::dns::{AaaaDetails, DnssecDetails, NaptrDetails, SrvDetails};
use super::dos::FloodDetails;
#[allow(unused_imports)]
use super::listen::{ListenCallDetails, ListenSummaryDetails};
use super::media::{
    DtlsSrtpDetails, RtpPlainDetails, SdesCleartextDetails, SdesDetails, SrtpFlowDetails,
};
#[allow(unused_imports)]
use super::robustness::MalformedDetails;
use super::run::{BaselineDetails, ParityDetails, PolicyRuleDetails};
use super::secagree::SecAgreeDetails;
use super::sip::{
    AllowDetails, PlaintextDetails, ReferDetails, ReferPolicyDetails, ServerHeaderDetails,
    SipsDetails, TransportDetails, UnknownHeaderDetails, UnknownRequireDetails,
};
#[allow(unused_imports)]
use super::stir::{
    BlockingNoticeDetails, CallRateDetails, LoopCallDetails, RcdDetails, SignerDetails,
};
#[allow(unused_imports)]
use super::tls::{
    CertificateDetails, CipherSuitesDetails, EarlyDataDetails, ExtensionsDetails, GroupsDetails,
    HeartbleedDetails, MismatchDetails, ProfileDetails, ResumptionDetails, SniDetails,
    VersionsDetails,
};

super::registry! {
    TRANSPORT_UDP: TransportDetails = "transport.udp" {
        title: "SIP over UDP answers OPTIONS",
        probe: "transport.udp", safety: Safe, opt_in: "",
        questions: [], rfcs: ["RFC 3261 §11", "RFC 3261 §18"],
        meaning: "Whether the trunk answers plain SIP over UDP, and how fast.",
        remedy: "Ask which transports the carrier supports and whether plaintext UDP can be turned off for your account.",
    },
    TRANSPORT_TCP: TransportDetails = "transport.tcp" {
        title: "SIP over TCP answers OPTIONS",
        probe: "transport.tcp", safety: Safe, opt_in: "",
        questions: [], rfcs: ["RFC 3261 §11", "RFC 3261 §18"],
        meaning: "Whether the trunk answers plain SIP over TCP, and how fast.",
        remedy: "Ask which transports the carrier supports and whether plaintext TCP can be turned off for your account.",
    },
    TRANSPORT_TLS: TransportDetails = "transport.tls" {
        title: "SIP over TLS answers OPTIONS",
        probe: "transport.tls", safety: Safe, opt_in: "",
        questions: [1, 4, 10, 14], rfcs: ["RFC 3261 §11", "RFC 3261 §18", "RFC 3261 §26.2"],
        meaning: "Whether the trunk answers SIP over TLS, with the TLS version and suite it negotiated.",
        remedy: "Ask the carrier to offer SIP over TLS (port 5061) on every signalling address.",
    },
    TRANSPORT_PLAINTEXT_OPEN: PlaintextDetails = "transport.plaintext_open" {
        title: "Plaintext SIP still accepted",
        probe: "transport.plaintext_open", safety: Safe, opt_in: "",
        questions: [14], rfcs: ["RFC 3261 §26.2", "RFC 5630", "RFC 9325"],
        meaning: "TLS is offered but plaintext SIP still answers: an attacker on the path can downgrade or tamper with signalling.",
        remedy: "Ask the carrier to refuse plaintext SIP for TLS customers, or to restrict it to your own addresses.",
    },
    SIP_ALLOW: AllowDetails = "sip.allow" {
        title: "Methods allowed and extensions supported",
        probe: "sip.allow", safety: Safe, opt_in: "",
        questions: [], rfcs: ["RFC 3261 §11.2", "RFC 3261 §20.5", "RFC 3261 §20.37"],
        meaning: "The SIP methods and extensions the trunk advertises.",
        remedy: "Compare with the methods your PBX needs; ask the carrier about any that are missing.",
    },
    SIP_REFER: ReferDetails = "sip.refer" {
        title: "REFER (call transfer) advertised",
        probe: "sip.refer", safety: Safe, opt_in: "",
        questions: [], rfcs: ["RFC 3515", "RFC 3891", "RFC 4488"],
        meaning: "Whether the trunk advertises REFER (call transfer) and Replaces; advertising is not performing a transfer.",
        remedy: "If you need transfers, ask the carrier whether REFER is honoured in a dialog or handled by their B2BUA.",
    },
    SIP_SERVER_HEADER: ServerHeaderDetails as crate::findings::sip::ServerHeader = "sip.server_header" {
        title: "Server software disclosure",
        probe: "sip.server_header", safety: Safe, opt_in: "",
        questions: [], rfcs: ["RFC 3261 §20.35", "RFC 3261 §26.4.4"],
        meaning: "The product and version the trunk discloses help an attacker pick known exploits.",
        remedy: "Ask the carrier to remove or genericise the Server and User-Agent headers on its SBCs.",
    },
    SIPS_OPTIONS: SipsDetails as crate::findings::sip::Sips = "sips.options" {
        title: "SIPS (SIP over TLS) with a certificate for the SIP domain",
        probe: "sips.options", safety: Safe, opt_in: "",
        questions: [4, 14], rfcs: ["RFC 3261 §26.2.2", "RFC 5630", "RFC 5922 §7"],
        meaning: "Whether a sips: request is answered over TLS with a trusted certificate that proves the SIP domain.",
        remedy: "Ask the carrier for a certificate from a public CA naming the SIP domain (RFC 5922), and for sips: support.",
    },
    TLS_VERSIONS: VersionsDetails as crate::findings::tls::contract::Versions = "tls.versions" {
        title: "TLS protocol versions accepted and refused",
        probe: "tls.scan", safety: Safe, opt_in: "",
        questions: [1, 2], rfcs: ["RFC 8996", "RFC 9325 §3.1", "RFC 8446"],
        meaning: "Which TLS versions the trunk negotiates; anything below TLS 1.2 is forbidden by RFC 8996.",
        remedy: "Ask the carrier to disable SSLv3, TLS 1.0 and TLS 1.1 and to offer TLS 1.2 and 1.3.",
    },
    TLS_CIPHER_SUITES: CipherSuitesDetails as crate::findings::tls::contract::CipherSuites = "tls.cipher_suites" {
        title: "TLS cipher suites per version, in server preference order",
        probe: "tls.scan", safety: Safe, opt_in: "",
        questions: [10], rfcs: ["RFC 9325 §4", "RFC 8446 §B.4"],
        meaning: "Every cipher suite the trunk accepts, classed by RFC 9325; insecure suites let a network attacker read or alter calls.",
        remedy: "Ask the carrier to accept only ECDHE suites with AES-GCM or ChaCha20-Poly1305 (and TLS 1.3), in server order.",
    },
    TLS_MISMATCH: MismatchDetails as crate::findings::tls::contract::Mismatch = "tls.mismatch" {
        title: "TLS version mismatch and downgrade protection",
        probe: "tls.scan", safety: Safe, opt_in: "",
        questions: [3], rfcs: ["RFC 7507", "RFC 8446 §4.1.3", "RFC 8446 §D"],
        meaning: "How the trunk answers a hello below its minimum version, and whether it resists downgrade attacks.",
        remedy: "Ask the carrier to answer old hellos with a protocol_version alert and to honour TLS_FALLBACK_SCSV.",
    },
    TLS_CERTIFICATE: CertificateDetails as crate::findings::tls::contract::Certificate = "tls.certificate" {
        title: "TLS certificate chain and TLS policy",
        probe: "tls.scan", safety: Safe, opt_in: "",
        questions: [4], rfcs: ["RFC 5922 §7", "RFC 5924", "RFC 6066 §8", "RFC 5746", "RFC 9325"],
        meaning: "The certificate chains the trunk presents: expiry, key, signature, identity of the SIP domain, and TLS policy facts.",
        remedy: "Ask the carrier to renew or replace the certificate named, from a public CA, for the SIP domain.",
    },
    TLS_GROUPS: GroupsDetails = "tls.groups" {
        title: "TLS key-exchange groups",
        probe: "tls.scan", safety: Safe, opt_in: "",
        questions: [10], rfcs: ["RFC 8446 §4.2.7", "RFC 7919", "RFC 9325 §4.4"],
        meaning: "The key-exchange groups the trunk accepts; small Diffie-Hellman primes can be broken.",
        remedy: "Ask the carrier to offer X25519 and P-256 (and a post-quantum hybrid) and DHE primes of at least 2048 bits.",
    },
    TLS_EXTENSIONS: ExtensionsDetails as crate::findings::tls::checks::Extensions = "tls.extensions" {
        title: "TLS 1.2 extended master secret, encrypt-then-MAC and renegotiation",
        probe: "tls.scan", safety: Safe, opt_in: "",
        questions: [10, 14], rfcs: ["RFC 7627", "RFC 7366", "RFC 5746", "RFC 9325 §3.5"],
        meaning: "Whether TLS 1.2 sessions are bound to their handshake (extended master secret), CBC records are MAC'd after encryption, and a client may renegotiate (a CPU-exhaustion lever).",
        remedy: "Ask the carrier to enable the extended master secret and encrypt-then-MAC (or drop CBC suites) and to refuse client-initiated renegotiation.",
    },
    TLS_RESUMPTION: ResumptionDetails as crate::findings::tls::checks::Resumption = "tls.resumption" {
        title: "TLS session resumption: session ids, tickets, TLS 1.3 PSK",
        probe: "tls.scan", safety: Safe, opt_in: "",
        questions: [14], rfcs: ["RFC 5077", "RFC 8446 §2.2", "RFC 8446 §4.6.1", "RFC 5923"],
        meaning: "How the trunk lets a client resume a TLS session (cheap reconnections for RFC 5923 connection reuse), and how long its tickets live: a ticket key protects every session it sealed.",
        remedy: "Ask the carrier to keep ticket lifetimes short (hours, not weeks) and to rotate ticket keys.",
    },
    TLS_EARLY_DATA: EarlyDataDetails as crate::findings::tls::checks::EarlyData = "tls.early_data" {
        title: "TLS 1.3 early data (0-RTT) refused",
        probe: "tls.scan", safety: Safe, opt_in: "",
        questions: [14], rfcs: ["RFC 8446 §2.3", "RFC 8446 Appendix E.5", "RFC 9325 §3.10"],
        meaning: "Whether the trunk takes TLS 1.3 0-RTT data, which an attacker can replay; no SIP profile defines 0-RTT, so it must not be used.",
        remedy: "Ask the carrier to disable TLS 1.3 early data (max_early_data 0) on its SIP listeners.",
    },
    TLS_HEARTBLEED: HeartbleedDetails as crate::findings::tls::checks::Heartbleed = "tls.heartbleed" {
        title: "Heartbleed (CVE-2014-0160)",
        probe: "tls.scan", safety: Safe, opt_in: "",
        questions: [14], rfcs: ["RFC 6520 §4", "CVE-2014-0160"],
        meaning: "Whether the trunk answers an oversized heartbeat with its own memory (keys, passwords, calls); checked with one request, never keeping what leaked.",
        remedy: "Ask the carrier to patch OpenSSL at once, revoke and replace the certificate, and rotate every secret the server held.",
    },
    TLS_SNI: SniDetails as crate::findings::tls::checks::Sni = "tls.sni" {
        title: "Certificate by SNI: none, the SIP domain, an unknown name",
        probe: "tls.scan", safety: Safe, opt_in: "",
        questions: [4, 14], rfcs: ["RFC 6066 §3", "RFC 5922 §7.1", "RFC 9325 §3.7"],
        meaning: "Which certificate a (multi-tenant) server shows to clients that send no SNI, the SIP domain, or another name; SIP clients that send no SNI must still get a certificate proving the domain.",
        remedy: "Ask the carrier to present the SIP domain's certificate by default (without SNI) on the addresses your trunk uses.",
    },
    TLS_PROFILE: ProfileDetails as crate::findings::tls::checks::Profile = "tls.profile" {
        title: "TLS judged against a profile (BCP 195, Mozilla)",
        probe: "tls.scan", safety: Safe, opt_in: "--profile NAME",
        questions: [1, 2, 10], rfcs: ["RFC 9325", "RFC 3261 §26.3.1"],
        meaning: "Clause by clause, whether the trunk's TLS meets the chosen profile, with what was measured for each clause and the SIP mandatory suite explained.",
        remedy: "Ask the carrier to change what each clause not met names.",
    },
    DNS_NAPTR: NaptrDetails = "dns.naptr" {
        title: "NAPTR records of the SIP domain",
        probe: "dns.naptr", safety: Safe, opt_in: "",
        questions: [4], rfcs: ["RFC 3263 §4.1", "RFC 3403", "RFC 7118"],
        meaning: "Which transports the SIP domain advertises to RFC 3263 clients, and in which preference.",
        remedy: "Ask the carrier to publish SIPS+D2T first in NAPTR, pointing at an existing _sips._tcp SRV record.",
    },
    DNS_SRV: SrvDetails = "dns.srv" {
        title: "SRV records of the SIP domain",
        probe: "dns.srv", safety: Safe, opt_in: "",
        questions: [4], rfcs: ["RFC 3263 §4.1", "RFC 2782"],
        meaning: "The SIP servers the domain publishes per transport.",
        remedy: "Ask the carrier to publish _sips._tcp SRV records for its TLS servers.",
    },
    DNS_AAAA: AaaaDetails = "dns.aaaa" {
        title: "IPv6 (AAAA) for the SIP servers",
        probe: "dns.aaaa", safety: Safe, opt_in: "",
        questions: [], rfcs: ["RFC 3263 §4.2", "RFC 3596"],
        meaning: "Whether the SIP servers are reachable over IPv6, and whether published IPv6 addresses answer.",
        remedy: "Ask the carrier to answer on every address it publishes, or to withdraw AAAA records that do not.",
    },
    DNS_DNSSEC: DnssecDetails = "dns.dnssec" {
        title: "DNSSEC validation of the discovery answers",
        probe: "dns.dnssec", safety: Safe, opt_in: "",
        questions: [], rfcs: ["RFC 4033", "RFC 6840 §5.7"],
        meaning: "Whether the discovery answers were DNSSEC-validated; without it a DNS attacker can redirect signalling.",
        remedy: "Ask the carrier to sign its SIP domain with DNSSEC.",
    },
    AUTH_CHALLENGE: ChallengeDetails as crate::findings::auth::Challenge = "auth.challenge" {
        title: "Digest challenge",
        probe: "auth", safety: Safe, opt_in: "",
        questions: [], rfcs: ["RFC 3261", "RFC 7616", "RFC 8760"],
        meaning: "How the trunk challenges for credentials, and with which digest algorithms; MD5 alone is weak.",
        remedy: "Ask the carrier to offer SHA-256 digest (RFC 8760) and to challenge every request from unknown sources.",
    },
    AUTH_INVITE_UNAUTHENTICATED: InviteUnauthenticatedDetails as crate::findings::auth::InviteUnauthenticated = "auth.invite_unauthenticated" {
        title: "Unauthenticated INVITE refused",
        probe: "auth", safety: Calls, opt_in: "--allow-calls --call-to URI",
        questions: [11], rfcs: ["RFC 3261", "RFC 7616", "RFC 8760"],
        meaning: "Whether a call without credentials is refused; accepting it is toll fraud waiting to happen.",
        remedy: "Ask the carrier to challenge or refuse every INVITE that is neither authenticated nor from your addresses.",
    },
    MEDIA_SDES: SdesDetails as crate::findings::media::Sdes = "media.sdes" {
        title: "SDES-SRTP offer (RFC 4568)",
        probe: "media", safety: Calls, opt_in: "--allow-calls --call-to URI",
        questions: [5, 7], rfcs: ["RFC 4568", "RFC 3711"],
        meaning: "Whether a call offering SRTP keyed with SDES is accepted with SRTP.",
        remedy: "Ask the carrier to support SRTP (AES_CM_128_HMAC_SHA1_80 at least) on TLS signalling.",
    },
    MEDIA_DTLS_SRTP: DtlsSrtpDetails as crate::findings::media::DtlsSrtp = "media.dtls_srtp" {
        title: "DTLS-SRTP offer (RFC 5763/5764)",
        probe: "media", safety: Calls, opt_in: "--allow-calls --call-to URI",
        questions: [7], rfcs: ["RFC 5763", "RFC 5764"],
        meaning: "Whether a call offering DTLS-SRTP is accepted, and with which fingerprint and role.",
        remedy: "Ask the carrier whether DTLS-SRTP (RFC 5764) is available for trunks.",
    },
    MEDIA_RTP_PLAIN: RtpPlainDetails as crate::findings::media::RtpPlain = "media.rtp_plain" {
        title: "Plain RTP offer (downgrade)",
        probe: "media", safety: Calls, opt_in: "--allow-calls --call-to URI",
        questions: [5], rfcs: ["RFC 3711", "RFC 3550"],
        meaning: "Whether the trunk accepts unencrypted media, which anyone on the path can listen to.",
        remedy: "Ask the carrier to refuse plain RTP for accounts that require SRTP.",
    },
    MEDIA_SDES_CLEARTEXT: SdesCleartextDetails = "media.sdes_cleartext" {
        title: "SDES keys over plaintext signalling",
        probe: "media", safety: Calls, opt_in: "--allow-calls --call-to URI",
        questions: [7], rfcs: ["RFC 4568 §8.3", "RFC 3261 §26"],
        meaning: "SDES keys sent over plaintext signalling are readable by anyone on the path, so the SRTP protects nothing.",
        remedy: "Ask the carrier to refuse a=crypto offers that do not arrive over TLS.",
    },
    MEDIA_SRTP_FLOW: SrtpFlowDetails as crate::findings::media::SrtpFlow = "media.srtp_flow" {
        title: "SRTP and SRTCP flow",
        probe: "media", safety: Calls, opt_in: "--allow-calls --call-to URI",
        questions: [5], rfcs: ["RFC 3711", "RFC 5761"],
        meaning: "Whether SRTP and SRTCP packets actually flowed both ways and authenticated with the negotiated keys.",
        remedy: "Ask the carrier why media did not flow encrypted in both directions on the negotiated keys.",
    },
    MEDIA_RTP_BLEED: RtpBleedDetails = "media.rtp_bleed" {
        title: "RTP bleed (media relay latching)",
        probe: "media.rtp_bleed", safety: Calls, opt_in: "--allow-calls --call-to URI --rtp-bleed",
        questions: [], rfcs: ["RFC 3550", "RFC 4961"],
        meaning: "Whether the far end's media relay starts sending a call's audio to whoever sends it RTP from another address (RTP bleed).",
        remedy: "Ask the carrier to stop its media relay from re-latching onto new sources mid-call: for rtpengine, endpoint-learning immediate with strict-source (strict-source alone acts only after the 3 s learning window).",
    },
    CALL_REFER: CallReferDetails = "call.refer" {
        title: "REFER carried out in a call",
        probe: "call.refer", safety: Calls, opt_in: "--allow-calls --call-to URI --refer-to URI",
        questions: [], rfcs: ["RFC 3515", "RFC 3420", "RFC 3891", "RFC 6665"],
        meaning: "Whether a transfer (REFER) inside a real call is refused, carried out, never completed, or handled by the trunk itself.",
        remedy: "If transfers matter to you, ask the carrier how REFER is handled on trunks and why it did not complete.",
    },
    CALL_REFER_REPLACES: ReplacesDetails = "call.refer_replaces" {
        title: "Attended transfer (REFER with Replaces)",
        probe: "call.refer", safety: Calls, opt_in: "--allow-calls --call-to URI --refer-to URI, and --max-calls leaving two calls",
        questions: [], rfcs: ["RFC 3891", "RFC 5589", "RFC 3515"],
        meaning: "Whether an attended transfer works: a REFER whose Refer-To carries Replaces of a second call makes the target replace that call.",
        remedy: "If attended transfers matter to you, ask the carrier whether Replaces (RFC 3891) is passed through and honoured.",
    },
    ROBUSTNESS_MALFORMED: MalformedDetails as crate::findings::robustness::Malformed = "robustness.malformed" {
        title: "Reaction to malformed messages, with liveness after each",
        probe: "robustness.malformed", safety: Safe, opt_in: "",
        questions: [9], rfcs: ["RFC 3261", "RFC 4475", "RFC 5118"],
        meaning: "How the trunk answers malformed SIP (RFC 4475 torture cases), and whether it stays alive.",
        remedy: "Ask the carrier to reject invalid messages with 400 and to patch any SBC that stopped answering.",
    },
    ROBUSTNESS_UNKNOWN_HEADER: UnknownHeaderDetails = "robustness.unknown_header" {
        title: "Unknown header fields are ignored",
        probe: "robustness.unknown_header", safety: Safe, opt_in: "",
        questions: [9], rfcs: ["RFC 3261 §7.3", "RFC 3261 §8.2.2"],
        meaning: "Whether the trunk ignores header fields it does not know, as RFC 3261 requires.",
        remedy: "Ask the carrier why a request with an unknown header was refused.",
    },
    ROBUSTNESS_UNKNOWN_REQUIRE: UnknownRequireDetails = "robustness.unknown_require" {
        title: "Unknown Require option tags are refused with 420",
        probe: "robustness.unknown_require", safety: Safe, opt_in: "",
        questions: [9], rfcs: ["RFC 3261 §8.2.2.3", "RFC 3261 §20.32", "RFC 3261 §16.3"],
        meaning: "Whether the trunk refuses extensions it does not support with 420, instead of silently ignoring them.",
        remedy: "Ask the carrier to answer unsupported Require option tags with 420 Bad Extension.",
    },
    SECAGREE_RFC3329: SecAgreeDetails as crate::findings::secagree::SecAgree = "secagree.rfc3329" {
        title: "RFC 3329 security agreement",
        probe: "secagree.rfc3329", safety: Safe, opt_in: "",
        questions: [15], rfcs: ["RFC 3329", "3GPP TS 33.203", "3GPP TS 24.229"],
        meaning: "Whether the trunk supports RFC 3329 security agreement (Security-Client / Security-Server).",
        remedy: "Ask the carrier whether sec-agree is supported, and if not, that it answer Require: sec-agree with 420.",
    },
    SIP_REFER_POLICY: ReferPolicyDetails = "sip.refer_policy" {
        title: "REFER to an outside URI is refused; unknown dialogs get 481",
        probe: "sip.refer_policy", safety: Safe, opt_in: "",
        questions: [], rfcs: ["RFC 3515", "RFC 3891 §3", "RFC 3261 §12.2.2", "RFC 4488"],
        meaning: "Whether an out-of-dialog REFER to an outside number is refused; accepting it enables toll fraud.",
        remedy: "Ask the carrier to refuse REFER outside a dialog and to answer unknown dialogs with 481.",
    },
    DOS_OPTIONS_FLOOD: FloodDetails as crate::findings::dos::Flood = "dos.options_flood" {
        title: "Rate limiting of an OPTIONS flood from one source",
        probe: "dos.options_flood", safety: Dos, opt_in: "--dos",
        questions: [8], rfcs: ["RFC 5390", "RFC 7339", "RFC 3261 §21.5.4"],
        meaning: "Whether, and at which rate, the trunk starts limiting a flood of requests from one source.",
        remedy: "Ask the carrier how floods are detected and limited, and how fast.",
    },
    DOS_REGISTER_STORM: FloodDetails as crate::findings::dos::Flood = "dos.register_storm" {
        title: "Rate limiting of a registration storm from one source",
        probe: "dos.register_storm", safety: Dos, opt_in: "--dos",
        questions: [6], rfcs: ["RFC 5390", "RFC 7339", "RFC 3261 §21.5.4"],
        meaning: "Whether, and at which rate, the trunk starts limiting a burst of REGISTER requests from one source.",
        remedy: "Ask the carrier how registration storms are detected and remediated.",
    },
    ENDPOINTS_PARITY: ParityDetails = "endpoints.parity" {
        title: "Endpoints of the trunk behave alike",
        probe: "endpoints.parity", safety: Safe, opt_in: "",
        questions: [], rfcs: [],
        meaning: "Whether every server of the trunk behaves like the others; one left behind is the weakest link.",
        remedy: "Ask the carrier to bring the named server in line with the others.",
    },
    STIR_ATTESTATION: LoopCallDetails as crate::findings::stir::Attestation = "stir.attestation" {
        title: "STIR/SHAKEN attestation of your own number, as delivered",
        probe: "stir.loop", safety: Calls, opt_in: "--allow-calls --loop-call NUMBER --listen ADDR:PORT --caller-id NUMBER",
        questions: [12], rfcs: ["RFC 8224", "RFC 8225", "RFC 8588", "RFC 8226"],
        meaning: "What a call from your own number carried when it reached the far end: an Identity that verifies with attestation A, a weaker one, only the carrier's verstat, or nothing.",
        remedy: "Ask the carrier to sign your calls with full attestation (A) for the numbers assigned to you, and to deliver Identity (or a verstat it verified) on calls to you.",
    },
    STIR_SIGNER: SignerDetails as crate::findings::stir::Signer = "stir.signer" {
        title: "Who signed your call: SPC, certificate, revocation",
        probe: "stir.loop", safety: Calls, opt_in: "--allow-calls --loop-call NUMBER --listen ADDR:PORT --caller-id NUMBER",
        questions: [12], rfcs: ["RFC 8226", "ATIS-1000080", "FCC 24-120"],
        meaning: "The Service Provider Code (TNAuthList and CN) and certificate that signed the call from your own number, whether it is revoked, and whether it is the carrier's own SPC (--expect-spc).",
        remedy: "Ask the carrier to sign with its own SPC token certificate (FCC 24-120: since 2025-09-18 a third party may sign only with the provider's own certificate) and to keep it off the STI-PA CRL.",
    },
    STIR_RCD: RcdDetails as crate::findings::stir::Rcd = "stir.rcd" {
        title: "Rich Call Data: the displayed name against the signed one",
        probe: "stir.loop", safety: Calls, opt_in: "--allow-calls --loop-call NUMBER --listen ADDR:PORT --caller-id NUMBER",
        questions: [11], rfcs: ["RFC 9795", "RFC 9796"],
        meaning: "Whether a delivered call's display name is the one its rcd PASSporT signed (nam), and whether rcdi integrity over referenced content holds.",
        remedy: "Ask the carrier to sign Rich Call Data (RFC 9795) and not to pass unsigned display names or Call-Info RCD as if verified.",
    },
    SPOOF_CALLER_ID: LoopCallDetails as crate::findings::stir::Spoof = "spoof.caller_id" {
        title: "A caller ID you do not own (From)",
        probe: "stir.loop", safety: Calls, opt_in: "--allow-calls --loop-call NUMBER --listen ADDR:PORT --caller-id NUMBER",
        questions: [11], rfcs: ["RFC 8224", "RFC 8588", "RFC 3325"],
        meaning: "Whether the trunk lets a call out with a caller ID that is not yours, and whether the far end can tell (attestation B/C) or not (unsigned, or A).",
        remedy: "Ask the carrier to refuse (403/608) or attest C for caller IDs not assigned to your account.",
    },
    SPOOF_ASSERTED_IDENTITY: LoopCallDetails as crate::findings::stir::Spoof = "spoof.asserted_identity" {
        title: "A P-Asserted-Identity you do not own",
        probe: "stir.loop", safety: Calls, opt_in: "--allow-calls --loop-call NUMBER --listen ADDR:PORT --caller-id NUMBER",
        questions: [11], rfcs: ["RFC 8224", "RFC 8588", "RFC 3325"],
        meaning: "Whether the trunk trusts a P-Asserted-Identity from you that names a number you do not own.",
        remedy: "Ask the carrier to check P-Asserted-Identity against your numbers, or to replace it.",
    },
    SPIT_ANONYMOUS: LoopCallDetails = "spit.anonymous" {
        title: "Anonymous calls",
        probe: "stir.loop", safety: Calls, opt_in: "--allow-calls --loop-call NUMBER --listen ADDR:PORT --caller-id NUMBER",
        questions: [13], rfcs: ["RFC 5079", "RFC 3323", "RFC 3325"],
        meaning: "What happens to an anonymous call (Privacy: id): refused (433 Anonymity Disallowed) or delivered, and with what identity.",
        remedy: "Ask the carrier whether anonymous-call rejection is available for your numbers.",
    },
    SPIT_CALL_RATE: CallRateDetails = "spit.call_rate" {
        title: "Call-attempt rate cap",
        probe: "stir.loop", safety: Dos, opt_in: "--dos --allow-calls --loop-call NUMBER --listen ADDR:PORT --caller-id NUMBER",
        questions: [13], rfcs: ["RFC 3261"],
        meaning: "Whether the trunk caps call attempts from one account (503 + Retry-After, 403, 486), the robocall throttle.",
        remedy: "Ask the carrier for a calls-per-second limit on your account.",
    },
    SPIT_BLOCKING_NOTICE: BlockingNoticeDetails = "spit.blocking_notice" {
        title: "Blocking notices (RFC 8688, ATIS 603+, RFC 9410)",
        probe: "stir.loop", safety: Calls, opt_in: "--allow-calls --loop-call NUMBER --listen ADDR:PORT --caller-id NUMBER",
        questions: [13], rfcs: ["RFC 8688", "RFC 9410"],
        meaning: "Whether a refused call says why: 608 with a jwscard Call-Info, 603 Network Blocked, or a STIR Reason.",
        remedy: "Ask the carrier to send RFC 8688 / RFC 9410 notices when it blocks calls, so callers can seek redress.",
    },
    LISTEN_CALL: ListenCallDetails as crate::findings::listen::ListenCall = "listen.call" {
        title: "Identity of an inbound call",
        probe: "listen", safety: Safe, opt_in: "sipcheck listen",
        questions: [11, 12], rfcs: ["RFC 8224", "RFC 8225", "RFC 8588", "RFC 8226", "RFC 8946", "RFC 9795"],
        meaning: "What caller identity (STIR/SHAKEN Identity, verstat, vendor headers) an inbound call carried, whether it verifies, who signed it (SPC, --expect-spc), and whether its displayed name is the signed RCD name.",
        remedy: "Ask the carrier to deliver the Identity header (or a verstat it verified) on calls to you.",
    },
    LISTEN_SUMMARY: ListenSummaryDetails = "listen.summary" {
        title: "What reached the listener",
        probe: "listen", safety: Safe, opt_in: "sipcheck listen",
        questions: [], rfcs: ["RFC 3261"],
        meaning: "How many requests reached the listener, and of which kinds.",
        remedy: "If nothing arrived, check that the DID routes to the listener and the firewall lets SIP in.",
    },
    POLICY_RULE: PolicyRuleDetails = "policy.*" {
        title: "Policy rule",
        probe: "policy", safety: Safe, opt_in: "--policy",
        questions: [], rfcs: [],
        meaning: "A rule of the policy given with --policy was violated.",
        remedy: "Fix the finding the rule names, or change the policy.",
    },
    BASELINE_DIFF: BaselineDetails = "baseline.diff" {
        title: "Changes since the baseline report",
        probe: "baseline", safety: Safe, opt_in: "--baseline",
        questions: [], rfcs: [],
        meaning: "What got worse, better, new or gone since the baseline report given with --baseline.",
        remedy: "Look at each finding that got worse.",
    },
}
