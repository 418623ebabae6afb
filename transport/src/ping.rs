//! Heartbeat's `ping` medium: ICMP echo to the addresses of `ping` and
//! `ping_group` lines, as its ping plugin does, through a raw ICMP socket
//! (root, or CAP_NET_RAW). An answer is a heartbeat from the pseudo-node;
//! the engine turns answers into node status `ping` / `dead`.
//!
//! ```text
//! engine Command::Ping(addr) --echo_request()--> raw socket
//! raw socket --parse_reply()--> Some(addr) --> engine Input::PingReply
//! ```
//!
//! Packets: ICMP type 8 (echo request) with our identifier (the low 16
//! bits of the pid), a sequence number and an 8-byte payload naming the
//! project; replies (type 0) with another identifier are other programs'
//! pings and are ignored. The raw socket delivers the IP header too.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use socket2::{Domain, Protocol, Socket, Type};

const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;
const PAYLOAD: &[u8; 8] = b"hb-rs-pg";

/// The Internet checksum (RFC 1071).
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = if chunk.len() == 2 { u16::from_be_bytes([chunk[0], chunk[1]]) } else { u16::from(chunk[0]) << 8 };
        sum += u32::from(word);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ICMP echo request (without IP header).
pub fn echo_request(ident: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![ECHO_REQUEST, 0, 0, 0];
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(PAYLOAD);
    let c = checksum(&p);
    p[2..4].copy_from_slice(&c.to_be_bytes());
    p
}

/// The source address of an echo reply to `ident`, from a raw-socket
/// datagram (IPv4 header + ICMP). Anything else is `None`.
pub fn parse_reply(datagram: &[u8], ident: u16) -> Option<Ipv4Addr> {
    let first = *datagram.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 || datagram.len() < ihl + 8 {
        return None;
    }
    let src = Ipv4Addr::new(datagram[12], datagram[13], datagram[14], datagram[15]);
    let icmp = &datagram[ihl..];
    if icmp[0] != ECHO_REPLY || icmp[1] != 0 || checksum(icmp) != 0 {
        return None;
    }
    (u16::from_be_bytes([icmp[4], icmp[5]]) == ident).then_some(src)
}

/// Our identifier in echo requests.
pub fn ident() -> u16 {
    (std::process::id() & 0xffff) as u16
}

/// The raw ICMP socket, non-blocking.
pub fn open() -> io::Result<Socket> {
    let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot open a raw ICMP socket for ping nodes: {e}")))?;
    s.set_nonblocking(true)?;
    Ok(s)
}

/// Sends one echo request to `addr`.
pub fn send(s: &Socket, addr: Ipv4Addr, ident: u16, seq: u16) -> io::Result<()> {
    let to: SocketAddr = SocketAddrV4::new(addr, 0).into();
    s.send_to(&echo_request(ident, seq), &to.into()).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071's example words 0001 f203 f4f5 f6f7 sum to ddf2.
        assert_eq!(checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), !0xddf2);
        let p = echo_request(0x1234, 7);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        assert_eq!(&p[..2], &[8, 0]);
    }

    fn reply(src: [u8; 4], ident: u16, kind: u8) -> Vec<u8> {
        let mut icmp = echo_request(ident, 1);
        icmp[0] = kind;
        icmp[2] = 0;
        icmp[3] = 0;
        let c = checksum(&icmp);
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0];
        ip.extend_from_slice(&src);
        ip.extend_from_slice(&[127, 0, 0, 1]);
        ip.extend_from_slice(&icmp);
        ip
    }

    #[test]
    fn replies_to_us_are_recognised_and_others_ignored() {
        assert_eq!(parse_reply(&reply([10, 0, 0, 9], 77, 0), 77), Some(Ipv4Addr::new(10, 0, 0, 9)));
        assert_eq!(parse_reply(&reply([10, 0, 0, 9], 78, 0), 77), None, "another program's ping");
        assert_eq!(parse_reply(&reply([10, 0, 0, 9], 77, 8), 77), None, "our own request looping back");
        let mut bad = reply([10, 0, 0, 9], 77, 0);
        bad[25] ^= 1;
        assert_eq!(parse_reply(&bad, 77), None, "bad checksum");
        assert_eq!(parse_reply(&[0x45, 0, 0], 77), None);
        assert_eq!(parse_reply(&[], 77), None);
    }

    #[test]
    fn loopback_answers_our_echo() {
        // Needs root (raw socket); the project's machines and CI run as root.
        let s = open().expect("raw ICMP socket (root needed)");
        let id = ident();
        send(&s, Ipv4Addr::new(127, 0, 0, 7), id, 1).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1500];
        loop {
            assert!(std::time::Instant::now() < deadline, "no echo reply from 127.0.0.7");
            match s.recv(&mut buf) {
                Ok(n) => {
                    // SAFETY: recv initialised the first n bytes.
                    let data: Vec<u8> = buf[..n].iter().map(|b| unsafe { b.assume_init() }).collect();
                    if parse_reply(&data, id) == Some(Ipv4Addr::new(127, 0, 0, 7)) {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(std::time::Duration::from_millis(5)),
                Err(e) => panic!("{e}"),
            }
        }
    }
}
