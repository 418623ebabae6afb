//! Base64 as cluster-glue writes binary fields in the classic format and
//! in the inner HMAC: the standard alphabet with `=` padding. Decoding is
//! strict (no white space, canonical padding bits) so that decoding then
//! encoding gives back the same text.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// `None` unless `text` is canonical padded base64.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    #[allow(clippy::manual_is_multiple_of)] // is_multiple_of is newer than rust-version 1.85
    if text.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let quads = text.len() / 4;
    for (q, chunk) in text.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && q + 1 != quads) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = n << 6 | value(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = 3 - pad;
        // Bits below the kept bytes must be zero, or two texts would
        // decode to the same bytes.
        if bytes[keep..].iter().any(|&b| b != 0) {
            return None;
        }
        out.extend_from_slice(&bytes[..keep]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        for (raw, text) in [(&b""[..], ""), (b"f", "Zg=="), (b"fo", "Zm8="), (b"foo", "Zm9v"), (b"foob", "Zm9vYg==")] {
            assert_eq!(encode(raw), text);
            assert_eq!(decode(text.as_bytes()).unwrap(), raw);
        }
        // node2's srcuuid in the captures.
        let uuid = [0xec, 0x40, 0x4b, 0xab, 0xd8, 0xb0, 0x47, 0x94, 0x9a, 0x2f, 0x41, 0xa9, 0x5f, 0x8a, 0x33, 0x44];
        assert_eq!(encode(&uuid), "7EBLq9iwR5SaL0GpX4ozRA==");
    }

    #[test]
    fn strict() {
        for bad in ["Zg=", "Zh==", "Z===", "Zg==Zg==", "Zm 9", "Zm9v\n"] {
            assert_eq!(decode(bad.as_bytes()), None, "{bad}");
        }
    }
}
