//! Heartbeat's message compression ("traditional" mode of cluster-glue's
//! cl_compress.c): a message whose packet would exceed
//! `compression_threshold` is sent as another message with exactly two
//! fields,
//!
//! ```text
//! (1)_compressed_payload=<zlib or bzip2 of the whole message's netstring form, no auth>
//! (0)_compression_algorithm=zlib|bz2
//! ```
//!
//! signed like any message. Receivers authenticate the wrapper, then
//! decompress and decode the inner message (sequence numbers and all are
//! inside), so compression is invisible to the messaging core. Heartbeat's
//! zlib plugin uses zlib's `compress2` (the zlib format, RFC 1950); its
//! bz2 plugin `BZ2_bzBuffToBuffCompress`.

use std::io::Read;

use crate::wire::{self, Message, Value};

pub const COMPRESSED_FIELD: &str = "_compressed_payload";
pub const COMPRESS_NAME: &str = "_compression_algorithm";

/// Heartbeat refused to decompress past 2 MB (MAXUNCOMPRESSED); ours
/// allows room for one reassembled large message.
pub const MAX_UNCOMPRESSED: usize = 16 << 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompressError {
    #[error("unknown compression algorithm {0:?}")]
    UnknownAlgorithm(String),
    #[error("no {COMPRESS_NAME} field")]
    NoAlgorithm,
    #[error("corrupt compressed data: {0}")]
    Corrupt(String),
    #[error("decompressed data over {0} bytes")]
    TooLarge(usize),
    #[error("bad inner message: {0}")]
    Inner(String),
}

/// A compression module (ha.cf `compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Zlib,
    Bz2,
}

impl Algorithm {
    pub fn from_name(name: &str) -> Result<Algorithm, CompressError> {
        match name {
            "zlib" => Ok(Algorithm::Zlib),
            "bz2" => Ok(Algorithm::Bz2),
            other => Err(CompressError::UnknownAlgorithm(other.to_string())),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Zlib => "zlib",
            Algorithm::Bz2 => "bz2",
        }
    }
}

pub fn compress_bytes(algo: Algorithm, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    match algo {
        Algorithm::Zlib => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).expect("writing to a Vec cannot fail");
            e.finish().expect("writing to a Vec cannot fail")
        }
        Algorithm::Bz2 => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            e.write_all(data).expect("writing to a Vec cannot fail");
            e.finish().expect("writing to a Vec cannot fail")
        }
    }
}

/// Decompresses at most `limit` bytes; more is an error (a small packet
/// must not expand into unbounded memory).
pub fn decompress_bytes(algo: Algorithm, data: &[u8], limit: usize) -> Result<Vec<u8>, CompressError> {
    let mut out = Vec::new();
    let reader: Box<dyn Read + '_> = match algo {
        Algorithm::Zlib => Box::new(flate2::read::ZlibDecoder::new(data)),
        Algorithm::Bz2 => Box::new(bzip2::read::BzDecoder::new(data)),
    };
    reader.take(limit as u64 + 1).read_to_end(&mut out).map_err(|e| CompressError::Corrupt(e.to_string()))?;
    if out.len() > limit {
        return Err(CompressError::TooLarge(limit));
    }
    Ok(out)
}

/// Whether `m` is a compressed wrapper.
pub fn is_compressed(m: &Message) -> bool {
    m.get_binary(COMPRESSED_FIELD).is_some()
}

/// The wrapper carrying `m` compressed.
pub fn wrap(m: &Message, algo: Algorithm) -> Result<Message, wire::WireError> {
    let inner = m.to_netstring()?;
    Ok(Message::new()
        .with(COMPRESSED_FIELD, Value::Binary(compress_bytes(algo, &inner)))
        .with_str(COMPRESS_NAME, algo.name()))
}

/// The message inside a wrapper.
pub fn unwrap(m: &Message, limit: usize) -> Result<Message, CompressError> {
    let data = m.get_binary(COMPRESSED_FIELD).ok_or_else(|| CompressError::Corrupt("no payload".into()))?;
    let algo = Algorithm::from_name(m.get_str(COMPRESS_NAME).ok_or(CompressError::NoAlgorithm)?)?;
    let inner = decompress_bytes(algo, data, limit)?;
    let p = wire::decode(&inner).map_err(|e| CompressError::Inner(e.to_string()))?;
    if is_compressed(&p.message) {
        return Err(CompressError::Inner("compressed twice".into()));
    }
    Ok(p.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Message {
        Message::new()
            .with_str("t", "cib")
            .with_str("src", "n1")
            .with_str("seq", "2a")
            .with_str("xml", &"<primitive id=\"r\" class=\"ocf\"/>".repeat(300))
            .with("bin", Value::Binary((0..=255).collect()))
    }

    #[test]
    fn wrapper_has_heartbeats_two_fields_and_round_trips() {
        for algo in [Algorithm::Zlib, Algorithm::Bz2] {
            let m = sample();
            let w = wrap(&m, algo).unwrap();
            assert_eq!(w.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), [COMPRESSED_FIELD, COMPRESS_NAME]);
            assert_eq!(w.get_str(COMPRESS_NAME), Some(algo.name()));
            assert!(is_compressed(&w) && !is_compressed(&m));
            assert!(w.to_netstring().unwrap().len() < m.to_netstring().unwrap().len() / 5);
            assert_eq!(unwrap(&w, MAX_UNCOMPRESSED).unwrap(), m);
        }
    }

    #[test]
    fn zlib_payload_is_the_zlib_format() {
        let w = wrap(&sample(), Algorithm::Zlib).unwrap();
        let p = w.get_binary(COMPRESSED_FIELD).unwrap();
        // RFC 1950 header: CM=8 (deflate), header checksum multiple of 31.
        assert_eq!(p[0] & 0x0f, 8);
        assert_eq!((u16::from(p[0]) << 8 | u16::from(p[1])) % 31, 0);
    }

    #[test]
    fn bad_wrappers_are_errors_not_panics() {
        let m = sample();
        let mut w = wrap(&m, Algorithm::Zlib).unwrap();
        assert_eq!(unwrap(&w, 100), Err(CompressError::TooLarge(100)));
        w.remove(COMPRESS_NAME);
        assert_eq!(unwrap(&w, MAX_UNCOMPRESSED), Err(CompressError::NoAlgorithm));
        let w = Message::new().with(COMPRESSED_FIELD, Value::Binary(b"garbage".to_vec())).with_str(COMPRESS_NAME, "zlib");
        assert!(matches!(unwrap(&w, MAX_UNCOMPRESSED), Err(CompressError::Corrupt(_))));
        let w = Message::new().with(COMPRESSED_FIELD, Value::Binary(vec![])).with_str(COMPRESS_NAME, "lz4");
        assert_eq!(unwrap(&w, MAX_UNCOMPRESSED), Err(CompressError::UnknownAlgorithm("lz4".into())));
        // A bomb: 64 MB of zeros compresses to little; refused at the limit.
        let bomb = compress_bytes(Algorithm::Zlib, &vec![0u8; 64 << 20]);
        assert!(bomb.len() < 200_000);
        assert_eq!(decompress_bytes(Algorithm::Zlib, &bomb, 1 << 20), Err(CompressError::TooLarge(1 << 20)));
    }
}
