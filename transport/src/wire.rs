//! Heartbeat 3.0.6's wire format (cluster-glue 1.0.12), as captured in
//! ../shared/heartbeat-wire/.
//!
//! A message is an ordered list of named, typed fields. Two encodings:
//!
//! ```text
//! netstring (what 3.0.6 sends)          classic (still accepted)
//! ###\n                                  >>>\n
//! 11:(0)t=status,                        t=status\n
//! 27:(1)srcuuid=<16 raw bytes>,          (1)srcuuid=7EBLq9iwR5SaL0GpX4ozRA==\n
//! 50:(0)auth=1 6ba4...,                  auth=1 6ba4...\n
//! %%%\n                                  <<<\n
//! 42:1 a883...,        <- trailer
//! ```
//!
//! Two HMACs protect a netstring packet. The `auth` field holds the HMAC
//! of the message's *classic body*: every field but `auth`, in order, as
//! `name=value\n`, binary fields as `(1)name=<base64>`. The trailer is the
//! HMAC of the raw bytes from `###\n` through `%%%\n`. A real node checks
//! only the trailer on netstring packets and only the `auth` field on
//! classic ones ([`Packet::authenticate`] does the same); we write both.
//!
//! Field types are cluster-glue's: 0 string, 1 binary, 2 nested message,
//! 3 list of strings, 4 compressed (kept as raw bytes here; decompression
//! comes with large-message support). Types 2-4 exist only in the
//! netstring encoding here; the captures contain none, and their classic
//! form is not implemented.
//!
//! Decoding never panics: anything malformed is a [`WireError`]. Strings
//! must be UTF-8 without NUL (C strings on the other side), names must not
//! contain `=`, newline or NUL nor start with `(`, and nesting is limited
//! to [`MAX_DEPTH`]. The encoders refuse the same things, so every decoded
//! message encodes again and every encodable message decodes to itself.

use std::fmt;

use crate::authkeys::{AuthToken, Authkeys};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

/// Deepest nesting of messages accepted (cluster-glue's own limit is
/// about this; it also bounds recursion on hostile input).
pub const MAX_DEPTH: usize = 8;

const NS_START: &[u8] = b"###\n";
const NS_END: &[u8] = b"%%%\n";
const CL_START: &[u8] = b">>>\n";
const CL_END: &[u8] = b"<<<\n";

/// Name of the field carrying the inner HMAC.
pub const AUTH_FIELD: &str = "auth";

/// Why bytes are not a message, or a message cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("no message start (###\\n or >>>\\n)")]
    NoStart,
    #[error("message ends early at byte {0}")]
    Truncated(usize),
    #[error("bad netstring length at byte {0}")]
    BadLength(usize),
    #[error("netstring at byte {0} does not end with ','")]
    NoComma(usize),
    #[error("field at byte {0} has no (type) prefix")]
    NoType(usize),
    #[error("field type {ty} at byte {at} is not supported{}", if *.classic { " in the classic format" } else { "" })]
    UnsupportedType { at: usize, ty: u8, classic: bool },
    #[error("field at byte {0} has no '='")]
    NoEquals(usize),
    #[error("bad field name {0:?}")]
    BadName(String),
    #[error("field {0:?}: value is not UTF-8 or contains NUL")]
    BadString(String),
    #[error("field {0:?}: value contains a newline, which the classic format cannot carry")]
    NewlineInClassic(String),
    #[error("field {0:?}: bad base64")]
    BadBase64(String),
    #[error("messages nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("bad trailer authentication string")]
    BadTrailer,
    #[error("{0} unexpected bytes after the message")]
    TrailingBytes(usize),
    #[error("the auth field cannot be computed over field {0:?} (type {1})")]
    CannotSign(String, u8),
}

/// A field value, by cluster-glue type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Type 0.
    Str(String),
    /// Type 1: raw bytes on the wire, base64 in classic text.
    Binary(Vec<u8>),
    /// Type 2: a nested message.
    Struct(Message),
    /// Type 3: a list of strings.
    List(Vec<String>),
    /// Type 4: compressed bytes, kept as they came.
    Compressed(Vec<u8>),
}

impl Value {
    /// The digit written in `(N)`.
    pub fn type_code(&self) -> u8 {
        match self {
            Value::Str(_) => 0,
            Value::Binary(_) => 1,
            Value::Struct(_) => 2,
            Value::List(_) => 3,
            Value::Compressed(_) => 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: Value,
}

/// An ordered list of fields; names may repeat, order matters (it is
/// part of what the HMACs cover).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub fields: Vec<Field>,
}

impl Message {
    pub fn new() -> Message {
        Message::default()
    }

    /// Appends a field; builder style.
    pub fn with(mut self, name: &str, value: Value) -> Message {
        self.push(name, value);
        self
    }

    pub fn with_str(self, name: &str, value: &str) -> Message {
        self.with(name, Value::Str(value.to_string()))
    }

    pub fn push(&mut self, name: &str, value: Value) {
        self.fields.push(Field { name: name.to_string(), value });
    }

    /// The first field called `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|f| f.name == name).map(|f| &f.value)
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn get_binary(&self, name: &str) -> Option<&[u8]> {
        match self.get(name) {
            Some(Value::Binary(b)) => Some(b),
            _ => None,
        }
    }

    /// Removes every field called `name`.
    pub fn remove(&mut self, name: &str) {
        self.fields.retain(|f| f.name != name);
    }

    /// Checks what both encodings need; the classic one also needs
    /// [`check_classic`](Self::check_classic).
    pub fn check(&self) -> Result<(), WireError> {
        self.check_depth(1)
    }

    fn check_depth(&self, depth: usize) -> Result<(), WireError> {
        if depth > MAX_DEPTH {
            return Err(WireError::TooDeep);
        }
        for f in &self.fields {
            check_name(&f.name)?;
            match &f.value {
                Value::Str(s) if s.contains('\0') => return Err(WireError::BadString(f.name.clone())),
                Value::List(items) if items.iter().any(|s| s.contains('\0')) => {
                    return Err(WireError::BadString(f.name.clone()))
                }
                Value::Struct(m) => m.check_depth(depth + 1)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// The classic text carries only strings without newlines and binary.
    pub fn check_classic(&self) -> Result<(), WireError> {
        self.check()?;
        for f in &self.fields {
            match &f.value {
                Value::Str(s) if s.contains('\n') => return Err(WireError::NewlineInClassic(f.name.clone())),
                Value::Str(_) | Value::Binary(_) => {}
                v => return Err(WireError::UnsupportedType { at: 0, ty: v.type_code(), classic: true }),
            }
        }
        Ok(())
    }

    /// `###\n` fields `%%%\n`, no trailer.
    pub fn to_netstring(&self) -> Result<Vec<u8>, WireError> {
        self.check()?;
        let mut out = Vec::new();
        self.write_netstring(&mut out);
        Ok(out)
    }

    fn write_netstring(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(NS_START);
        for f in &self.fields {
            let mut item = format!("({})", f.value.type_code()).into_bytes();
            item.extend_from_slice(f.name.as_bytes());
            item.push(b'=');
            match &f.value {
                Value::Str(s) => item.extend_from_slice(s.as_bytes()),
                Value::Binary(b) | Value::Compressed(b) => item.extend_from_slice(b),
                Value::Struct(m) => m.write_netstring(&mut item),
                Value::List(items) => {
                    for s in items {
                        write_netstring_item(&mut item, s.as_bytes());
                    }
                }
            }
            write_netstring_item(out, &item);
        }
        out.extend_from_slice(NS_END);
    }

    /// `>>>\n` lines `<<<\n` (no NUL).
    pub fn to_classic(&self) -> Result<Vec<u8>, WireError> {
        self.check_classic()?;
        let mut out = CL_START.to_vec();
        out.extend_from_slice(&self.classic_body(false)?);
        out.extend_from_slice(CL_END);
        Ok(out)
    }

    /// The lines of the classic format, optionally without `auth`: what
    /// the inner HMAC covers when `skip_auth`.
    fn classic_body(&self, skip_auth: bool) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::new();
        for f in &self.fields {
            if skip_auth && f.name == AUTH_FIELD {
                continue;
            }
            match &f.value {
                Value::Str(s) => out.extend_from_slice(format!("{}={}\n", f.name, s).as_bytes()),
                Value::Binary(b) => out.extend_from_slice(format!("(1){}={}\n", f.name, BASE64.encode(b)).as_bytes()),
                v => return Err(WireError::CannotSign(f.name.clone(), v.type_code())),
            }
        }
        Ok(out)
    }

    /// The bytes the inner `auth` field's HMAC covers.
    pub fn inner_auth_data(&self) -> Result<Vec<u8>, WireError> {
        self.check()?;
        self.classic_body(true)
    }

    /// The message with a fresh `auth` field, encoded as Heartbeat 3.0.6
    /// sends it: netstring with trailer.
    pub fn sign(&self, keys: &Authkeys) -> Result<Vec<u8>, WireError> {
        let mut m = self.clone();
        m.remove(AUTH_FIELD);
        let inner = keys.sign(&m.inner_auth_data()?);
        m.push(AUTH_FIELD, Value::Str(inner.to_string()));
        let mut out = m.to_netstring()?;
        let trailer = keys.sign(&out);
        write_netstring_item(&mut out, trailer.to_string().as_bytes());
        Ok(out)
    }

    /// The message with a fresh `auth` field in the classic format, as
    /// older nodes (and `msgfmt classic`) send it.
    pub fn sign_classic(&self, keys: &Authkeys) -> Result<Vec<u8>, WireError> {
        let mut m = self.clone();
        m.remove(AUTH_FIELD);
        let inner = keys.sign(&m.inner_auth_data()?);
        m.push(AUTH_FIELD, Value::Str(inner.to_string()));
        m.to_classic()
    }
}

fn check_name(name: &str) -> Result<(), WireError> {
    if name.is_empty() || name.starts_with('(') || name.contains(['=', '\n', '\0']) {
        return Err(WireError::BadName(name.to_string()));
    }
    Ok(())
}

fn write_netstring_item(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(data);
    out.push(b',');
}

/// Which encoding a packet used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Netstring,
    Classic,
}

/// A decoded packet: the message and what authenticates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub format: Format,
    pub message: Message,
    /// The netstring trailer, if the packet had one.
    pub trailer: Option<AuthToken>,
    /// Bytes `###\n` .. `%%%\n` as received: what the trailer covers.
    signed: Vec<u8>,
    /// A NUL after the message (C senders may include the terminator).
    pub nul_terminated: bool,
}

/// The outcome of checking a packet's authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Authentic,
    /// No `auth` field (classic) or no trailer (netstring).
    Missing,
    /// The `auth` field or trailer is not `N digest`.
    Malformed,
    /// Wrong digest, or a key index we do not have.
    Mismatch,
}

impl Packet {
    /// The `auth` field, parsed.
    pub fn inner_auth(&self) -> Option<Option<AuthToken>> {
        self.message.get_str(AUTH_FIELD).map(AuthToken::parse)
    }

    /// Checks the `auth` field against the message's classic body.
    pub fn verify_inner(&self, keys: &Authkeys) -> Verdict {
        match self.inner_auth() {
            None => Verdict::Missing,
            Some(None) => Verdict::Malformed,
            Some(Some(tok)) => match self.message.inner_auth_data() {
                Ok(data) if keys.verify(&tok, &data) => Verdict::Authentic,
                _ => Verdict::Mismatch,
            },
        }
    }

    /// Checks the netstring trailer against the bytes received.
    pub fn verify_trailer(&self, keys: &Authkeys) -> Verdict {
        match &self.trailer {
            None => Verdict::Missing,
            Some(tok) if keys.verify(tok, &self.signed) => Verdict::Authentic,
            Some(_) => Verdict::Mismatch,
        }
    }

    /// Heartbeat's rule: the trailer for netstring packets, the `auth`
    /// field for classic ones.
    pub fn authenticate(&self, keys: &Authkeys) -> Verdict {
        match self.format {
            Format::Netstring => self.verify_trailer(keys),
            Format::Classic => self.verify_inner(keys),
        }
    }

    /// Encodes the packet again, trailer and NUL included, as received.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let mut out = match self.format {
            Format::Netstring => {
                let mut out = self.message.to_netstring()?;
                if let Some(t) = &self.trailer {
                    write_netstring_item(&mut out, t.to_string().as_bytes());
                }
                out
            }
            Format::Classic => self.message.to_classic()?,
        };
        if self.nul_terminated {
            out.push(0);
        }
        Ok(out)
    }
}

/// Decodes one UDP payload in either format.
pub fn decode(bytes: &[u8]) -> Result<Packet, WireError> {
    if bytes.starts_with(NS_START) {
        decode_netstring(bytes)
    } else if bytes.starts_with(CL_START) {
        decode_classic(bytes)
    } else {
        Err(WireError::NoStart)
    }
}

/// Whatever may follow a message: nothing, or a single NUL.
fn finish(bytes: &[u8], at: usize) -> Result<bool, WireError> {
    match &bytes[at..] {
        [] => Ok(false),
        [0] => Ok(true),
        rest => Err(WireError::TrailingBytes(rest.len())),
    }
}

fn decode_netstring(bytes: &[u8]) -> Result<Packet, WireError> {
    let mut cur = Cursor { bytes, at: 0 };
    let message = parse_ns_message(&mut cur, 1)?;
    let signed = bytes[..cur.at].to_vec();
    let mut trailer = None;
    if cur.at < bytes.len() && bytes[cur.at] != 0 {
        let item = cur.netstring()?;
        let text = std::str::from_utf8(item).map_err(|_| WireError::BadTrailer)?;
        trailer = Some(AuthToken::parse(text).ok_or(WireError::BadTrailer)?);
    }
    let nul_terminated = finish(bytes, cur.at)?;
    Ok(Packet { format: Format::Netstring, message, trailer, signed, nul_terminated })
}

/// A read position in the input; all reads are bounds-checked.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at..]
    }

    fn eat(&mut self, tag: &[u8]) -> bool {
        if self.rest().starts_with(tag) {
            self.at += tag.len();
            true
        } else {
            false
        }
    }

    /// `<len>:<data>,` -> data.
    fn netstring(&mut self) -> Result<&'a [u8], WireError> {
        let start = self.at;
        let rest = self.rest();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 10 {
            return Err(if rest.is_empty() { WireError::Truncated(start) } else { WireError::BadLength(start) });
        }
        let len: usize = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(WireError::BadLength(start))?;
        match rest.get(digits) {
            Some(b':') => {}
            Some(_) => return Err(WireError::BadLength(start)),
            None => return Err(WireError::Truncated(start)),
        }
        let data_start = digits + 1;
        let Some(data_end) = data_start.checked_add(len).filter(|&e| e < rest.len()) else {
            return Err(WireError::Truncated(start));
        };
        if rest[data_end] != b',' {
            return Err(WireError::NoComma(start));
        }
        self.at += data_end + 1;
        Ok(&rest[data_start..data_end])
    }
}

fn parse_ns_message(cur: &mut Cursor<'_>, depth: usize) -> Result<Message, WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError::TooDeep);
    }
    if !cur.eat(NS_START) {
        return Err(WireError::NoStart);
    }
    let mut m = Message::new();
    loop {
        if cur.eat(NS_END) {
            return Ok(m);
        }
        let at = cur.at;
        let item = cur.netstring()?;
        m.fields.push(parse_ns_field(item, at, depth)?);
    }
}

fn parse_ns_field(item: &[u8], at: usize, depth: usize) -> Result<Field, WireError> {
    let (ty, body) = match item {
        [b'(', t, b')', body @ ..] if t.is_ascii_digit() => (t - b'0', body),
        _ => return Err(WireError::NoType(at)),
    };
    let eq = body.iter().position(|&b| b == b'=').ok_or(WireError::NoEquals(at))?;
    let name = std::str::from_utf8(&body[..eq]).map_err(|_| WireError::BadName(String::from_utf8_lossy(&body[..eq]).into_owned()))?;
    check_name(name)?;
    let raw = &body[eq + 1..];
    let value = match ty {
        0 => Value::Str(c_string(raw, name)?),
        1 => Value::Binary(raw.to_vec()),
        2 => {
            let mut cur = Cursor { bytes: raw, at: 0 };
            let m = parse_ns_message(&mut cur, depth + 1)?;
            if cur.at != raw.len() {
                return Err(WireError::TrailingBytes(raw.len() - cur.at));
            }
            Value::Struct(m)
        }
        3 => {
            let mut cur = Cursor { bytes: raw, at: 0 };
            let mut items = Vec::new();
            while cur.at < raw.len() {
                items.push(c_string(cur.netstring()?, name)?);
            }
            Value::List(items)
        }
        4 => Value::Compressed(raw.to_vec()),
        ty => return Err(WireError::UnsupportedType { at, ty, classic: false }),
    };
    Ok(Field { name: name.to_string(), value })
}

fn c_string(raw: &[u8], name: &str) -> Result<String, WireError> {
    match std::str::from_utf8(raw) {
        Ok(s) if !s.contains('\0') => Ok(s.to_string()),
        _ => Err(WireError::BadString(name.to_string())),
    }
}

fn decode_classic(bytes: &[u8]) -> Result<Packet, WireError> {
    let mut at = CL_START.len();
    let mut message = Message::new();
    loop {
        let rest = &bytes[at..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            return Err(WireError::Truncated(at));
        };
        let line = &rest[..nl];
        let line_at = at;
        at += nl + 1;
        if line == &CL_END[..3] {
            break;
        }
        let (ty, body) = match line {
            [b'(', t, b')', body @ ..] if t.is_ascii_digit() => (t - b'0', body),
            _ => (0, line),
        };
        let eq = body.iter().position(|&b| b == b'=').ok_or(WireError::NoEquals(line_at))?;
        let name = std::str::from_utf8(&body[..eq])
            .map_err(|_| WireError::BadName(String::from_utf8_lossy(&body[..eq]).into_owned()))?;
        check_name(name)?;
        let raw = &body[eq + 1..];
        let value = match ty {
            0 => Value::Str(c_string(raw, name)?),
            1 => Value::Binary(BASE64.decode(raw).map_err(|_| WireError::BadBase64(name.to_string()))?),
            ty => return Err(WireError::UnsupportedType { at: line_at, ty, classic: true }),
        };
        message.fields.push(Field { name: name.to_string(), value });
    }
    let nul_terminated = finish(bytes, at)?;
    Ok(Packet { format: Format::Classic, message, trailer: None, signed: Vec::new(), nul_terminated })
}

impl fmt::Display for Message {
    /// One `name=value` per line, binary as hex: for logs and tests.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for field in &self.fields {
            match &field.value {
                Value::Str(s) => writeln!(f, "{}={}", field.name, s)?,
                Value::Binary(b) => writeln!(f, "(1){}={}", field.name, crate::authkeys::hex(b))?,
                Value::Struct(m) => write!(f, "(2){}=[\n{m}]\n", field.name)?,
                Value::List(l) => writeln!(f, "(3){}={:?}", field.name, l)?,
                Value::Compressed(b) => writeln!(f, "(4){}=<{} bytes>", field.name, b.len())?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `base64` crate's STANDARD engine as the classic format needs it:
    /// padded, and strict (non-canonical trailing bits, missing padding and
    /// white space are refused), so decode-then-encode gives the same text.
    #[test]
    fn base64_known_values_and_strictness() {
        for (raw, text) in [(&b""[..], ""), (b"f", "Zg=="), (b"fo", "Zm8="), (b"foo", "Zm9v"), (b"foob", "Zm9vYg==")] {
            assert_eq!(BASE64.encode(raw), text);
            assert_eq!(BASE64.decode(text.as_bytes()).unwrap(), raw);
        }
        // node2's srcuuid in the captures.
        let uuid = [0xec, 0x40, 0x4b, 0xab, 0xd8, 0xb0, 0x47, 0x94, 0x9a, 0x2f, 0x41, 0xa9, 0x5f, 0x8a, 0x33, 0x44];
        assert_eq!(BASE64.encode(uuid), "7EBLq9iwR5SaL0GpX4ozRA==");
        for bad in ["Zg=", "Zh==", "Z===", "Zg==Zg==", "Zm 9", "Zm9v\n"] {
            assert!(BASE64.decode(bad.as_bytes()).is_err(), "{bad}");
        }
    }
    use crate::authkeys::{Key, Method};

    fn keys() -> Authkeys {
        Authkeys::single(1, Key::new(Method::Sha1, b"SomeKnownSecret"))
    }

    #[test]
    fn signed_netstring_shape() {
        let m = Message::new().with_str("t", "status").with("srcuuid", Value::Binary(vec![0, 1, 2]));
        let wire = m.sign(&keys()).unwrap();
        let text = String::from_utf8_lossy(&wire);
        assert!(text.starts_with("###\n11:(0)t=status,14:(1)srcuuid=\0\u{1}\u{2},50:(0)auth=1 "), "{text}");
        let p = decode(&wire).unwrap();
        assert_eq!(p.verify_inner(&keys()), Verdict::Authentic);
        assert_eq!(p.verify_trailer(&keys()), Verdict::Authentic);
        assert_eq!(p.encode().unwrap(), wire);
        let other = Authkeys::single(1, Key::new(Method::Sha1, b"Other"));
        assert_eq!(p.authenticate(&other), Verdict::Mismatch);
    }

    #[test]
    fn classic_round_trip() {
        let m = Message::new().with_str("t", "status").with("u", Value::Binary(b"\xff\n=".to_vec()));
        let wire = m.sign_classic(&keys()).unwrap();
        let p = decode(&wire).unwrap();
        assert_eq!(p.format, Format::Classic);
        assert_eq!(p.authenticate(&keys()), Verdict::Authentic);
        assert_eq!(p.encode().unwrap(), wire);
        let mut nul = wire.clone();
        nul.push(0);
        assert!(decode(&nul).unwrap().nul_terminated);
    }

    #[test]
    fn nested_and_lists() {
        let inner = Message::new().with_str("a", "x,y:z").with("l", Value::List(vec!["1".into(), "".into()]));
        let m = Message::new().with("s", Value::Struct(inner)).with("c", Value::Compressed(vec![9; 3]));
        let wire = m.to_netstring().unwrap();
        assert_eq!(decode(&wire).unwrap().message, m);
        assert!(m.to_classic().is_err());
        assert!(matches!(m.sign(&keys()), Err(WireError::CannotSign(..))));
        let mut deep = Message::new().with_str("x", "y");
        for _ in 0..MAX_DEPTH {
            deep = Message::new().with("s", Value::Struct(deep));
        }
        assert_eq!(deep.to_netstring(), Err(WireError::TooDeep));
    }

    #[test]
    fn garbage_is_an_error() {
        let cases: &[&[u8]] = &[
            b"",
            b"hello",
            b"###\n",
            b"###\n5:(0)a=b,%%%\n",
            b"###\n99999999999:(0)a,%%%\n",
            b"###\n5:(0)a=b,",
            b"###\n6:(0)a=bc;%%%\n",
            b"###\n5:(9)a=b,%%%\n",
            b"###\n4:(0)ab,%%%\n",
            b"###\n4:(0)=b,%%%\n",
            b"###\n%%%\nxx",
            b"###\n%%%\n3:abc,",
            b"###\n%%%\n5:1 abc,\0\0",
            b"###\n5:(2)a=b,%%%\n",
            b">>>\nt=x\n",
            b">>>\nt\n<<<\n",
            b">>>\n(1)b=Zg=\n<<<\n",
            b">>>\n(2)b=x\n<<<\n",
            b">>>\n<<<\nx",
        ];
        for c in cases {
            assert!(decode(c).is_err(), "{:?} decoded", String::from_utf8_lossy(c));
        }
        assert_eq!(decode(b"###\n%%%\n").unwrap().message, Message::new());
    }

    #[test]
    fn encoders_refuse_what_decoders_refuse() {
        for name in ["", "a=b", "a\nb", "(1)x", "nul\0"] {
            assert!(Message::new().with_str(name, "v").to_netstring().is_err(), "{name:?}");
        }
        assert!(Message::new().with_str("a", "x\0").to_netstring().is_err());
        assert!(Message::new().with_str("a", "x\ny").to_classic().is_err());
        assert!(Message::new().with_str("a", "x\ny").to_netstring().is_ok());
    }
}
