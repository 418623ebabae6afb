//! Messages larger than one datagram: split into sequenced `NS_frag`
//! messages and put back together by the receivers.
//!
//! Heartbeat 3.0.6 has no fragmentation (a message had to fit one UDP
//! datagram, up to its 256 KB MAXMSG with the kernel fragmenting the IP
//! packet); this scheme is ours. Each fragment is an ordinary sequenced
//! message, so the messaging core's retransmission recovers lost
//! fragments one by one, and in-order delivery per sender means the
//! fragments of one message arrive consecutively:
//!
//! ```text
//! t=NS_frag [dest=N] fragno=<hex> fragcount=<hex> [fragalgo=zlib|bz2] (1)frag=<bytes>
//! ```
//!
//! The body is the client's message (with `src`, and `dest` when
//! directed) in netstring form, compressed first when it is over the
//! compression threshold, cut into pieces of [`FRAGMENT_PAYLOAD`] bytes:
//! with the sequencing fields and both signatures a fragment stays within
//! one 1500-byte Ethernet frame, so a lost IP fragment never costs a
//! whole large datagram. A receiver keeps at most one message in
//! reassembly per sender and at most [`MAX_REASSEMBLED`] bytes of it; a
//! fragment out of turn (its predecessors were given up) drops the
//! partial message.

use std::collections::BTreeMap;

use crate::compress::{self, Algorithm};
use crate::wire::{self, Message, Value};

pub const T_FRAG: &str = "NS_frag";
/// Client messages whose netstring form is larger than this are
/// fragmented (smaller ones go as one datagram, compressed by the
/// shell past the threshold, as Heartbeat does).
pub const FRAGMENT_ABOVE: usize = 60_000;
/// Body bytes per fragment.
pub const FRAGMENT_PAYLOAD: usize = 1_000;
/// Largest message reassembled (and largest decompressed body).
pub const MAX_REASSEMBLED: usize = compress::MAX_UNCOMPRESSED;

/// The fragments carrying `m`. `compress` applies when the body is
/// larger than `threshold` bytes.
pub fn split(m: &Message, compress: Option<Algorithm>, threshold: usize) -> Result<Vec<Message>, wire::WireError> {
    let mut body = m.to_netstring()?;
    let mut algo = None;
    if let Some(a) = compress.filter(|_| body.len() > threshold) {
        let c = compress::compress_bytes(a, &body);
        if c.len() < body.len() {
            body = c;
            algo = Some(a);
        }
    }
    let count = body.len().div_ceil(FRAGMENT_PAYLOAD);
    let dest = m.get_str("dest");
    Ok(body
        .chunks(FRAGMENT_PAYLOAD)
        .enumerate()
        .map(|(i, chunk)| {
            let mut f = Message::new().with_str("t", T_FRAG);
            if let Some(d) = dest {
                f.push("dest", Value::Str(d.to_string()));
            }
            f.push("fragno", Value::Str(format!("{i:x}")));
            f.push("fragcount", Value::Str(format!("{count:x}")));
            if let Some(a) = algo {
                f.push("fragalgo", Value::Str(a.name().to_string()));
            }
            f.push("frag", Value::Binary(chunk.to_vec()));
            f
        })
        .collect())
}

/// Why a partial message was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FragError {
    /// A fragment arrived out of turn (earlier ones were given up).
    OutOfTurn { expected: u64, got: u64 },
    /// Fields missing or malformed.
    Malformed,
    /// Over [`MAX_REASSEMBLED`].
    TooLarge,
    /// The reassembled body did not decompress or decode.
    BadBody(String),
}

/// The outcome of one fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fragment {
    /// More to come.
    Pending,
    /// The last one: the whole message.
    Complete(Message),
    /// The partial message (if any) is dropped.
    Dropped(FragError),
}

struct Partial {
    count: u64,
    next: u64,
    algo: Option<Algorithm>,
    body: Vec<u8>,
}

/// Reassembly state, one partial message per sender.
#[derive(Default)]
pub struct Reassembler {
    partial: BTreeMap<String, Partial>,
}

impl std::fmt::Debug for Reassembler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.partial.iter().map(|(k, p)| (k, (p.next, p.count, p.body.len())))).finish()
    }
}

impl Clone for Reassembler {
    fn clone(&self) -> Self {
        Reassembler {
            partial: self
                .partial
                .iter()
                .map(|(k, p)| (k.clone(), Partial { count: p.count, next: p.next, algo: p.algo, body: p.body.clone() }))
                .collect(),
        }
    }
}

fn hex(m: &Message, name: &str) -> Option<u64> {
    u64::from_str_radix(m.get_str(name)?, 16).ok()
}

impl Reassembler {
    /// The next fragment from `src`, in sequence order.
    pub fn accept(&mut self, src: &str, m: &Message) -> Fragment {
        let (Some(no), Some(count), Some(data)) = (hex(m, "fragno"), hex(m, "fragcount"), m.get_binary("frag")) else {
            self.partial.remove(src);
            return Fragment::Dropped(FragError::Malformed);
        };
        let algo = match m.get_str("fragalgo") {
            None => None,
            Some(a) => match Algorithm::from_name(a) {
                Ok(a) => Some(a),
                Err(_) => {
                    self.partial.remove(src);
                    return Fragment::Dropped(FragError::Malformed);
                }
            },
        };
        if count == 0 || no >= count || count > (MAX_REASSEMBLED as u64) {
            self.partial.remove(src);
            return Fragment::Dropped(FragError::Malformed);
        }
        if no == 0 {
            // A new message; a partial one before it cannot complete.
            let dropped = self.partial.remove(src).map(|p| FragError::OutOfTurn { expected: p.next, got: 0 });
            self.partial.insert(src.to_string(), Partial { count, next: 0, algo, body: Vec::new() });
            if let Some(e) = dropped {
                // Keep the new one; report the old one's loss.
                let r = self.continue_with(src, data);
                return match r {
                    Fragment::Complete(_) => r,
                    _ => Fragment::Dropped(e),
                };
            }
        }
        let Some(p) = self.partial.get(src) else {
            return Fragment::Dropped(FragError::OutOfTurn { expected: 0, got: no });
        };
        if p.next != no || p.count != count || p.algo != algo {
            let expected = p.next;
            self.partial.remove(src);
            return Fragment::Dropped(FragError::OutOfTurn { expected, got: no });
        }
        self.continue_with(src, data)
    }

    fn continue_with(&mut self, src: &str, data: &[u8]) -> Fragment {
        let p = self.partial.get_mut(src).expect("present");
        if p.body.len() + data.len() > MAX_REASSEMBLED {
            self.partial.remove(src);
            return Fragment::Dropped(FragError::TooLarge);
        }
        p.body.extend_from_slice(data);
        p.next += 1;
        if p.next < p.count {
            return Fragment::Pending;
        }
        let p = self.partial.remove(src).expect("present");
        let body = match p.algo {
            None => p.body,
            Some(a) => match compress::decompress_bytes(a, &p.body, MAX_REASSEMBLED) {
                Ok(b) => b,
                Err(e) => return Fragment::Dropped(FragError::BadBody(e.to_string())),
            },
        };
        match wire::decode(&body) {
            Ok(packet) => Fragment::Complete(packet.message),
            Err(e) => Fragment::Dropped(FragError::BadBody(e.to_string())),
        }
    }

    /// The sender died or restarted: its partial message will not complete.
    pub fn forget(&mut self, src: &str) {
        self.partial.remove(src);
    }

    /// Bytes held in partial messages (for tests and counters).
    pub fn held_bytes(&self) -> usize {
        self.partial.values().map(|p| p.body.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(n: usize, seed: u64) -> Message {
        let mut x = seed | 1;
        let data: Vec<u8> = (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        Message::new().with_str("t", "app").with_str("src", "n1").with("data", Value::Binary(data))
    }

    #[test]
    fn split_and_reassemble_random_and_compressible_bodies() {
        let random = big(300_000, 7);
        let frags = split(&random, Some(Algorithm::Zlib), 2048).unwrap();
        // Random data does not compress: sent as is.
        assert!(frags.iter().all(|f| f.get_str("fragalgo").is_none()));
        assert_eq!(frags.len(), random.to_netstring().unwrap().len().div_ceil(FRAGMENT_PAYLOAD));
        let mut r = Reassembler::default();
        for f in &frags[..frags.len() - 1] {
            assert_eq!(r.accept("n1", f), Fragment::Pending);
        }
        assert_eq!(r.accept("n1", frags.last().unwrap()), Fragment::Complete(random));
        assert_eq!(r.held_bytes(), 0);

        let text = Message::new().with_str("t", "cib").with_str("dest", "n3").with_str("xml", &"<node id=\"x\"/>".repeat(20_000));
        let frags = split(&text, Some(Algorithm::Zlib), 2048).unwrap();
        assert!(frags.len() < 10, "{} fragments", frags.len());
        assert!(frags.iter().all(|f| f.get_str("fragalgo") == Some("zlib") && f.get_str("dest") == Some("n3")));
        let mut out = Fragment::Pending;
        for f in &frags {
            out = r.accept("n2", f);
        }
        assert_eq!(out, Fragment::Complete(text));
    }

    #[test]
    fn fragments_fit_one_ethernet_frame_when_signed() {
        let frags = split(&big(5_000, 3), None, 0).unwrap();
        let mut f = frags[0].clone();
        for (k, v) in [("src", "node-with-a-long-name"), ("seq", "ffffffff"), ("hg", "ffffffff"), ("ts", "ffffffff"), ("ttl", "3")] {
            f.push(k, Value::Str(v.into()));
        }
        f.push("srcuuid", Value::Binary(vec![0xff; 16]));
        f.push("destuuid", Value::Binary(vec![0xff; 16]));
        let keys = crate::authkeys::Authkeys::single(1, crate::authkeys::Key::new(crate::authkeys::Method::Sha1, b"k"));
        let bytes = f.sign(&keys).unwrap();
        assert!(bytes.len() + 28 <= 1500, "{} bytes", bytes.len());
    }

    #[test]
    fn out_of_turn_and_bad_fragments_drop_the_partial_message() {
        let frags = split(&big(5_000, 9), None, 0).unwrap();
        let mut r = Reassembler::default();
        assert_eq!(r.accept("n1", &frags[0]), Fragment::Pending);
        assert_eq!(r.accept("n1", &frags[2]), Fragment::Dropped(FragError::OutOfTurn { expected: 1, got: 2 }));
        assert_eq!(r.held_bytes(), 0);
        // The rest of that message is out of turn too.
        assert!(matches!(r.accept("n1", &frags[3]), Fragment::Dropped(_)));
        // A new message restarts cleanly, reporting the abandoned one.
        assert_eq!(r.accept("n1", &frags[0]), Fragment::Pending);
        assert_eq!(r.accept("n1", &frags[0]), Fragment::Dropped(FragError::OutOfTurn { expected: 1, got: 0 }));
        assert_eq!(r.held_bytes(), FRAGMENT_PAYLOAD, "the new one is kept");
        let mut bad = frags[1].clone();
        bad.remove("fragcount");
        assert_eq!(r.accept("n1", &bad), Fragment::Dropped(FragError::Malformed));
        let huge = Message::new()
            .with_str("t", T_FRAG)
            .with_str("fragno", "0")
            .with_str("fragcount", "ffffffffff")
            .with("frag", Value::Binary(vec![0]));
        assert_eq!(r.accept("n1", &huge), Fragment::Dropped(FragError::Malformed));
        r.forget("n1");
        assert_eq!(r.held_bytes(), 0);
    }
}
