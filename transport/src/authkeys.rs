//! `authkeys`: the keys that sign and verify every packet.
//!
//! ```text
//! auth 1
//! 1 sha1 SomeKnownSecret
//! 2 md5 OtherSecret
//! 3 crc
//! ```
//!
//! `auth N` names the key used to sign what this node sends; every key
//! listed is accepted on receive (the packet says which one it used), so
//! keys can be rotated node by node. Indexes run 0..=15. The secret is the
//! first word after the method, used as raw bytes. `sha1` and `md5` are
//! HMACs (hex digests, as Heartbeat prints them); `crc` is a CRC-32 of the
//! data with no secret at all, accepted with a warning because it
//! authenticates nothing.
//!
//! Parsing follows Heartbeat 3.0.6 (its messages, quoted in the
//! diagnostics), with two differences: words after the secret are warned
//! about instead of silently dropped, and a `crc` line that carries a key
//! is an error, as in Heartbeat, but says why.
//!
//! The file must not be readable by group or others ([`check_mode`]), the
//! same rule Heartbeat enforced before reading it.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};

use crate::diag::{has_errors, Diagnostic};

/// Heartbeat's MAXAUTH: key indexes are 0..MAX_KEYS.
pub const MAX_KEYS: u32 = 16;

/// Why `authkeys` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthkeysError {
    #[error("cannot read keyfile [{}]: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Readable by group or others: the secret is not secret.
    #[error("Bad permissions on keyfile [{}], 600 recommended (mode is {mode:03o})", .path.display())]
    Permissions { path: PathBuf, mode: u32 },
    /// The file has errors; they are in the diagnostics.
    #[error("Authentication configuration error in [{}]", .path.display())]
    Invalid { path: PathBuf, diagnostics: Vec<Diagnostic> },
}

/// A signing method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Crc,
    Md5,
    Sha1,
}

impl Method {
    fn from_name(s: &str) -> Option<Method> {
        match s {
            "crc" => Some(Method::Crc),
            "md5" => Some(Method::Md5),
            "sha1" => Some(Method::Sha1),
            _ => None,
        }
    }

    fn needs_key(self) -> bool {
        self != Method::Crc
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Crc => "crc",
            Method::Md5 => "md5",
            Method::Sha1 => "sha1",
        }
    }
}

/// One line of the file: a method and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    pub method: Method,
    secret: Vec<u8>,
}

impl fmt::Debug for Key {
    /// Never prints the secret (keys end up in logs through `{:?}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key").field("method", &self.method).field("secret", &"<redacted>").finish()
    }
}

impl Key {
    pub fn new(method: Method, secret: &[u8]) -> Key {
        Key { method, secret: secret.to_vec() }
    }

    /// The digest of `data` under this key, in Heartbeat's text form:
    /// lowercase hex for the HMACs, `%lx` of the CRC for crc.
    pub fn digest(&self, data: &[u8]) -> String {
        match self.method {
            Method::Sha1 => {
                let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&self.secret).expect("HMAC takes any key length");
                mac.update(data);
                hex(&mac.finalize().into_bytes())
            }
            Method::Md5 => {
                let mut mac = Hmac::<md5::Md5>::new_from_slice(&self.secret).expect("HMAC takes any key length");
                mac.update(data);
                hex(&mac.finalize().into_bytes())
            }
            Method::Crc => format!("{:x}", crc32(data)),
        }
    }
}

/// `<index> <digest>`, the text of a packet's `auth` field and of the
/// netstring trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthToken {
    pub index: u32,
    pub digest: String,
}

impl AuthToken {
    /// Parses `1 6ba4...`: a decimal index, one space, a non-empty word.
    pub fn parse(s: &str) -> Option<AuthToken> {
        let (index, digest) = s.split_once(' ')?;
        if index.is_empty() || index.len() > 9 || !index.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if digest.is_empty() || digest.bytes().any(|b| b.is_ascii_whitespace() || b == 0) {
            return None;
        }
        Some(AuthToken { index: index.parse().ok()?, digest: digest.to_string() })
    }
}

impl fmt::Display for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.index, self.digest)
    }
}

/// The parsed file: every key, and which one signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authkeys {
    active: u32,
    keys: BTreeMap<u32, Key>,
}

impl Authkeys {
    /// A single key, used for signing: what the lab and tests need.
    pub fn single(index: u32, key: Key) -> Authkeys {
        Authkeys { active: index, keys: BTreeMap::from([(index, key)]) }
    }

    /// The index named by `auth N`.
    pub fn active_index(&self) -> u32 {
        self.active
    }

    pub fn active_key(&self) -> &Key {
        &self.keys[&self.active]
    }

    pub fn key(&self, index: u32) -> Option<&Key> {
        self.keys.get(&index)
    }

    /// Signs `data` with the active key.
    pub fn sign(&self, data: &[u8]) -> AuthToken {
        AuthToken { index: self.active, digest: self.active_key().digest(data) }
    }

    /// True when `token` is the digest of `data` under the key it names.
    /// An unknown index is a failure, as in Heartbeat.
    pub fn verify(&self, token: &AuthToken, data: &[u8]) -> bool {
        match self.keys.get(&token.index) {
            Some(key) => constant_time_eq(key.digest(data).as_bytes(), token.digest.as_bytes()),
            None => false,
        }
    }

    /// Parses the text of an authkeys file. `file` names it in the
    /// diagnostics. Returns the keys when there is no error.
    pub fn parse(text: &str, file: &str) -> (Option<Authkeys>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut active: Option<(u32, usize)> = None;
        let mut keys = BTreeMap::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let body = raw.trim_start();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = body.split_ascii_whitespace().collect();
            // Heartbeat: any line starting with 'a' is an auth line.
            if body.starts_with('a') {
                match (words.first(), words.get(1).and_then(|w| leading_int(w))) {
                    (Some(&"auth"), Some(num)) => {
                        if let Some((_, prev)) = active {
                            diags.push(Diagnostic::warning(
                                file,
                                line,
                                format!("auth directive repeated (line {prev}); this one wins"),
                            ));
                        }
                        active = Some((num as u32, line));
                        if words.len() > 2 || words[1].len() != digits_len(words[1]) {
                            diags.push(Diagnostic::warning(file, line, "text after 'auth N' is ignored"));
                        }
                    }
                    _ => diags.push(Diagnostic::error(file, line, format!("Invalid auth line [{}]", raw.trim_end()))),
                }
                continue;
            }
            let Some(index) = words.first().and_then(|w| leading_int(w)).filter(|_| words.len() >= 2) else {
                diags.push(Diagnostic::error(file, line, format!("Auth line [{}] is invalid.", raw.trim_end())));
                continue;
            };
            if index < 0 || index >= MAX_KEYS as i64 {
                diags.push(Diagnostic::error(file, line, format!("Invalid authnum [{index}] (0 to {})", MAX_KEYS - 1)));
                continue;
            }
            let method_name = words[1];
            let Some(method) = Method::from_name(method_name) else {
                diags.push(Diagnostic::error(
                    file,
                    line,
                    format!("Invalid authtype [{method_name}] (expected crc, md5 or sha1)"),
                ));
                continue;
            };
            let secret = words.get(2).copied().unwrap_or("");
            if !secret.is_empty() && !method.needs_key() {
                diags.push(Diagnostic::error(file, line, format!("Auth method [{}] doesn't use a key", method.name())));
                continue;
            }
            if secret.is_empty() && method.needs_key() {
                diags.push(Diagnostic::error(file, line, format!("Auth method [{}] requires a key", method.name())));
                continue;
            }
            if words.len() > 3 {
                diags.push(Diagnostic::warning(
                    file,
                    line,
                    format!("text after the key is ignored: [{}]", words[3..].join(" ")),
                ));
            }
            if method == Method::Crc {
                diags.push(Diagnostic::warning(
                    file,
                    line,
                    "auth method crc authenticates nothing: anyone who can reach udpport can forge packets; use sha1",
                ));
            }
            if keys.insert(index as u32, Key::new(method, secret.as_bytes())).is_some() {
                diags.push(Diagnostic::warning(file, line, format!("key {index} defined again; this one wins")));
            }
        }
        match active {
            None => diags.push(Diagnostic::error(file, 0, format!("Missing auth directive in keyfile [{file}]"))),
            Some((num, line)) if !keys.contains_key(&num) => {
                diags.push(Diagnostic::error(file, line, format!("Auth Key [{num}] not found in keyfile [{file}]")))
            }
            Some(_) => {}
        }
        if has_errors(&diags) {
            return (None, diags);
        }
        let active = active.expect("checked above").0;
        (Some(Authkeys { active, keys }), diags)
    }

    /// Reads `path`, refusing it when group or others can read it, and
    /// parses it. Warnings come back with the keys.
    pub fn load(path: &Path) -> Result<(Authkeys, Vec<Diagnostic>), AuthkeysError> {
        let io = |source| AuthkeysError::Io { path: path.to_path_buf(), source };
        let meta = std::fs::metadata(path).map_err(io)?;
        check_mode(meta.permissions().mode())
            .map_err(|mode| AuthkeysError::Permissions { path: path.to_path_buf(), mode })?;
        let text = std::fs::read(path).map_err(io)?;
        let text = String::from_utf8_lossy(&text);
        match Authkeys::parse(&text, &path.display().to_string()) {
            (Some(keys), diags) => Ok((keys, diags)),
            (None, diagnostics) => Err(AuthkeysError::Invalid { path: path.to_path_buf(), diagnostics }),
        }
    }
}

/// Heartbeat's rule: refuse a keyfile readable by group or others.
/// Returns the permission bits when they are too open.
pub fn check_mode(mode: u32) -> Result<(), u32> {
    if mode & 0o044 != 0 {
        Err(mode & 0o7777)
    } else {
        Ok(())
    }
}

/// `sscanf("%d")` on a word: optional sign and leading digits.
fn leading_int(w: &str) -> Option<i64> {
    let (neg, rest) = match w.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, w.strip_prefix('+').unwrap_or(w)),
    };
    let d = digits_len(rest);
    if d == 0 || d > 9 {
        return None;
    }
    let v: i64 = rest[..d].parse().ok()?;
    Some(if neg { -v } else { v })
}

fn digits_len(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Heartbeat's `crc` method: CRC-32 with polynomial 0x04C11DB7, MSB
/// first, initial value 0, final complement, no length appended.
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = (i as u32) << 24;
            for _ in 0..8 {
                c = if c & 0x8000_0000 != 0 { (c << 1) ^ 0x04C1_1DB7 } else { c << 1 };
            }
            *slot = c;
        }
        t
    });
    let mut crc = 0u32;
    for &b in data {
        crc = (crc << 8) ^ table[(((crc >> 24) as u8) ^ b) as usize];
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(d: &[Diagnostic]) -> Vec<String> {
        d.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn lab_key_signs_like_heartbeat() {
        // Packet #1 of heartbeat-wire/hb-packets.txt: inner auth over the
        // classic body.
        let (keys, d) = Authkeys::parse("auth 1\n1 sha1 SomeKnownSecret\n", "authkeys");
        assert!(d.is_empty(), "{d:?}");
        let keys = keys.unwrap();
        let body = "t=status\nst=active\ndt=1388\nprotocol=1\nsrc=node2\n(1)srcuuid=7EBLq9iwR5SaL0GpX4ozRA==\nseq=b0\nhg=6b02c875\nts=6b02cc88\nld=1.83 1.84 1.74 4/122 18193\nttl=3\n";
        let tok = keys.sign(body.as_bytes());
        assert_eq!(tok.to_string(), "1 6ba4bd03812c2d3427b43281908ccd81a85404e2");
        assert!(keys.verify(&tok, body.as_bytes()));
        assert!(!keys.verify(&AuthToken { index: 2, digest: tok.digest.clone() }, body.as_bytes()));
        assert!(!keys.verify(&tok, b"other"));
    }

    #[test]
    fn md5_is_hmac_md5() {
        // RFC 2104 test case 2.
        let k = Key::new(Method::Md5, b"Jefe");
        assert_eq!(k.digest(b"what do ya want for nothing?"), "750c783e6ab0b503eaa86e310a5db738");
        let k = Key::new(Method::Sha1, b"Jefe");
        assert_eq!(k.digest(b"what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn crc_matches_posix_cksum_core() {
        // The same CRC as POSIX cksum before it appends the length:
        // CRC of "" is !0, of "123456789" is 0x765e7680 (CRC-32/POSIX).
        assert_eq!(crc32(b""), 0xffff_ffff);
        assert_eq!(crc32(b"123456789"), 0x765e_7680);
        assert_eq!(Key::new(Method::Crc, b"").digest(b"123456789"), "765e7680");
    }

    #[test]
    fn several_keys_rotate() {
        let (keys, d) = Authkeys::parse("# comment\n\n  auth 2\n1 md5 old\n2 sha1 new\n", "k");
        assert!(d.is_empty());
        let keys = keys.unwrap();
        let old = AuthToken { index: 1, digest: Key::new(Method::Md5, b"old").digest(b"x") };
        assert!(keys.verify(&old, b"x"));
        assert_eq!(keys.sign(b"x").index, 2);
    }

    #[test]
    fn heartbeat_errors() {
        let (k, d) = Authkeys::parse("auth 2\n2 shal keys\n", "authkeys");
        assert!(k.is_none());
        assert_eq!(
            msgs(&d),
            [
                "authkeys:2: error: Invalid authtype [shal] (expected crc, md5 or sha1)",
                "authkeys:1: error: Auth Key [2] not found in keyfile [authkeys]",
            ]
        );
        let (_, d) = Authkeys::parse("1 sha1\n3 crc x\n16 md5 k\nauthx\nfoo\n", "a");
        assert_eq!(
            msgs(&d),
            [
                "a:1: error: Auth method [sha1] requires a key",
                "a:2: error: Auth method [crc] doesn't use a key",
                "a:3: error: Invalid authnum [16] (0 to 15)",
                "a:4: error: Invalid auth line [authx]",
                "a:5: error: Auth line [foo] is invalid.",
                "a: error: Missing auth directive in keyfile [a]",
            ]
        );
    }

    #[test]
    fn crc_is_a_warning() {
        let (k, d) = Authkeys::parse("auth 1\n1 crc\n", "a");
        assert!(k.is_some());
        assert_eq!(d.len(), 1);
        assert!(d[0].message.starts_with("auth method crc authenticates nothing"), "{}", d[0]);
    }

    #[test]
    fn mode_check() {
        assert!(check_mode(0o100600).is_ok());
        assert!(check_mode(0o400).is_ok());
        assert!(check_mode(0o700).is_ok());
        assert_eq!(check_mode(0o100644), Err(0o644));
        assert_eq!(check_mode(0o640), Err(0o640));
        assert_eq!(check_mode(0o604), Err(0o604));
        // Write or execute for others is not Heartbeat's concern.
        assert!(check_mode(0o622).is_ok());
    }

    #[test]
    fn load_refuses_readable_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("authkeys");
        std::fs::write(&p, "auth 1\n1 sha1 s\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Authkeys::load(&p).unwrap_err();
        assert!(matches!(e, AuthkeysError::Permissions { mode: 0o644, .. }), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (k, d) = Authkeys::load(&p).unwrap();
        assert!(d.is_empty());
        assert_eq!(k.active_key().method, Method::Sha1);
        assert!(!format!("{k:?}").contains("\"s\""), "secret must not show in Debug");
    }

    #[test]
    fn token_parse() {
        assert_eq!(AuthToken::parse("1 abc"), Some(AuthToken { index: 1, digest: "abc".into() }));
        for bad in ["", "1", "1 ", " 1 abc", "x abc", "1 a b", "1  abc", "9999999999 a"] {
            assert_eq!(AuthToken::parse(bad), None, "{bad:?}");
        }
    }
}
