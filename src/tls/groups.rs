//! Named groups (RFC 8446 §4.2.7, RFC 8422, RFC 7919, the IANA registry) offered and reported.

/// (code, name) of the groups sipcheck asks about, in the order it offers them.
pub const GROUPS: &[(u16, &str)] = &[
    (0x001D, "x25519"),
    (0x0017, "secp256r1"),
    (0x0018, "secp384r1"),
    (0x0019, "secp521r1"),
    (0x001E, "x448"),
    (0x11EC, "X25519MLKEM768"),
    (0x11EB, "SecP256r1MLKEM768"),
    (0x11ED, "SecP384r1MLKEM1024"),
    (0x6399, "X25519Kyber768Draft00"),
    (0x0200, "MLKEM512"),
    (0x0201, "MLKEM768"),
    (0x0202, "MLKEM1024"),
    (0x001A, "brainpoolP256r1"),
    (0x001B, "brainpoolP384r1"),
    (0x001C, "brainpoolP512r1"),
    (0x001F, "brainpoolP256r1tls13"),
    (0x0020, "brainpoolP384r1tls13"),
    (0x0021, "brainpoolP512r1tls13"),
    (0x0100, "ffdhe2048"),
    (0x0101, "ffdhe3072"),
    (0x0102, "ffdhe4096"),
    (0x0103, "ffdhe6144"),
    (0x0104, "ffdhe8192"),
    (0x0016, "secp256k1"),
    (0x0015, "secp224r1"),
    (0x0014, "secp224k1"),
    (0x0013, "secp192r1"),
    (0x0012, "secp192k1"),
    (0x0011, "secp160r2"),
    (0x0010, "secp160r1"),
    (0x000F, "secp160k1"),
    (0x000E, "sect571r1"),
    (0x000D, "sect571k1"),
    (0x000C, "sect409r1"),
    (0x000B, "sect409k1"),
    (0x000A, "sect283r1"),
    (0x0009, "sect283k1"),
    (0x0008, "sect239k1"),
    (0x0007, "sect233r1"),
    (0x0006, "sect233k1"),
    (0x0005, "sect193r2"),
    (0x0004, "sect193r1"),
    (0x0003, "sect163r2"),
    (0x0002, "sect163r1"),
    (0x0001, "sect163k1"),
];

pub const X25519: u16 = 0x001D;

/// A group's name, or `0xNNNN`.
pub fn name(code: u16) -> String {
    GROUPS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("0x{code:04x}"))
}

/// Groups usable with TLS 1.3 (RFC 8446 deprecates the binary and small prime curves).
pub fn tls13_groups() -> Vec<u16> {
    GROUPS
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| !(0x0001..=0x0016).contains(c) && !(0x001A..=0x001C).contains(c))
        .collect()
}

/// Elliptic curves usable with ECDHE in TLS 1.0–1.2 (no finite-field or post-quantum groups).
pub fn tls12_curves() -> Vec<u16> {
    GROUPS
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| *c <= 0x001E)
        .collect()
}

/// Every group code, for the hellos of the version and suite scans.
pub fn all() -> Vec<u16> {
    GROUPS.iter().map(|(c, _)| *c).collect()
}

/// Curves RFC 8446 dropped (binary and small prime curves); ffdhe2048 and up are fine (RFC 9325 §4.1).
pub fn weak(code: u16) -> bool {
    (0x0001..=0x0016).contains(&code)
}
