//! The properties `transport/fuzz` checks, kept here so the corpus replay
//! test (tests/fuzz_corpus.rs) checks exactly the same thing.
//!
//! 1. `wire::decode` on any bytes returns, never panics; a decoded packet
//!    encodes again and decodes to the same packet.
//! 2. A message built from the bytes (see [`message_from_bytes`]) encodes
//!    and decodes to itself in both formats where it is representable,
//!    and signing then authenticating it succeeds.
//! 3. The bytes as a compressed payload (zlib and bz2) or as fragments
//!    never panic the receive path, and never make it hold more than its
//!    bounds (decompression limit, reassembly limit).

use crate::authkeys::{Authkeys, Key, Method};
use crate::wire::{decode, Format, Message, Value, Verdict};

pub fn check_wire(data: &[u8]) {
    if let Ok(p) = decode(data) {
        let again = p.encode().expect("a decoded packet encodes");
        let q = decode(&again).expect("an encoded packet decodes");
        assert_eq!(p.message, q.message);
        assert_eq!(p.trailer, q.trailer);
        assert_eq!(p.format, q.format);
        assert_eq!(q.encode().unwrap(), again, "encoding is stable");
    }

    let m = message_from_bytes(data);
    let ns = m.to_netstring().expect("built messages are valid");
    let p = decode(&ns).expect("netstring decodes");
    assert_eq!(p.format, Format::Netstring);
    assert_eq!(p.message, m);
    if let Ok(cl) = m.to_classic() {
        assert_eq!(decode(&cl).expect("classic decodes").message, m);
    }
    let keys = Authkeys::single(1, Key::new(Method::Sha1, b"fuzz"));
    if let Ok(signed) = m.sign(&keys) {
        let p = decode(&signed).expect("signed message decodes");
        assert_eq!(p.authenticate(&keys), Verdict::Authentic);
        assert_eq!(p.verify_inner(&keys), Verdict::Authentic);
    }
    check_large_message_paths(data, &keys);
}

fn check_large_message_paths(data: &[u8], keys: &Authkeys) {
    use crate::compress::{self, Algorithm};
    use crate::fragment::{Fragment, Reassembler, MAX_REASSEMBLED, T_FRAG};
    for algo in ["zlib", "bz2", "x"] {
        let wrapper = Message::new()
            .with(compress::COMPRESSED_FIELD, Value::Binary(data.to_vec()))
            .with_str(compress::COMPRESS_NAME, algo);
        let signed = wrapper.sign(keys).expect("a wrapper signs");
        let mut counters = crate::media::RecvCounters::default();
        let _ = counters.accept(&signed, keys);
        if let Ok(a) = Algorithm::from_name(algo) {
            if let Ok(out) = compress::decompress_bytes(a, data, 1 << 16) {
                assert!(out.len() <= 1 << 16);
            }
        }
    }
    // Fragments whose numbers and contents come from the bytes.
    let mut r = Reassembler::default();
    for chunk in data.chunks(5) {
        let (no, count) = (u64::from(chunk[0] % 4), u64::from(chunk.get(1).copied().unwrap_or(1) % 5));
        let f = Message::new()
            .with_str("t", T_FRAG)
            .with_str("fragno", &format!("{no:x}"))
            .with_str("fragcount", &format!("{count:x}"))
            .with("frag", Value::Binary(chunk.to_vec()));
        if let Fragment::Complete(m) = r.accept("n1", &f) {
            let _ = m.to_netstring();
        }
        assert!(r.held_bytes() <= MAX_REASSEMBLED);
    }
}

/// A valid message shaped by `data`: each step takes an opcode byte and a
/// length byte and turns the next bytes into one field.
pub fn message_from_bytes(data: &[u8]) -> Message {
    build(data, 1).0
}

fn build(mut data: &[u8], depth: usize) -> (Message, &[u8]) {
    let mut m = Message::new();
    while data.len() >= 2 && m.fields.len() < 32 {
        let (op, len) = (data[0], data[1] as usize);
        data = &data[2..];
        if op == 0xff {
            break; // end of a nested message
        }
        let take = len.min(data.len());
        let (chunk, rest) = data.split_at(take);
        data = rest;
        let name = format!("f{}", op % 7);
        let text = || String::from_utf8_lossy(chunk).replace('\0', "");
        let value = match op % 6 {
            0 | 1 => Value::Str(text()),
            2 => Value::Binary(chunk.to_vec()),
            3 if depth < crate::wire::MAX_DEPTH => {
                let (inner, rest) = build(data, depth + 1);
                data = rest;
                Value::Struct(inner)
            }
            4 => Value::List(text().split(',').map(str::to_string).collect()),
            _ => Value::Compressed(chunk.to_vec()),
        };
        m.push(&name, value);
    }
    (m, data)
}

#[cfg(test)]
mod tests {
    #[test]
    fn properties_hold_on_a_few_inputs() {
        for input in [&b""[..], b"###\n%%%\n", b"\x00\x03abc\x02\x02\xff\xfe\x03\x00\x01\x01z\xff\x00", b">>>\na=b\n<<<\n\0"] {
            super::check_wire(input);
        }
    }
}
