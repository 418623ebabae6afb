//! UDP media: ha.cf's `ucast`, `bcast` and `mcast` lines as sockets
//! (socket2), and the receive path's checks.
//!
//! Each medium becomes a [`LinkSocket`]: one socket that both receives
//! and sends, named for the medium's device (Heartbeat's link name, as in
//! "Link node2:eth1 up."). Media of the same kind on the same device share
//! one socket (`ucast eth0 10.0.0.2` and `ucast eth0 10.0.0.3` are one
//! link with two destinations), since two sockets bound to the same
//! address and port would split the unicast traffic between them.
//!
//! Binding (docs/TRANSPORT.md):
//! - ucast: `HA_BINDADDR:udpport` when set (several nodes on one machine,
//!   127.0.0.1-3), else `0.0.0.0:udpport` tied to the device with
//!   SO_BINDTODEVICE.
//! - bcast: `0.0.0.0:udpport` (a socket bound to a unicast address never
//!   sees broadcasts) with SO_BROADCAST, on the device; sent to the
//!   device's broadcast address (127.255.255.255 on a loopback device,
//!   which has none).
//! - mcast: `0.0.0.0:port` of the mcast line, member of the group on the
//!   device's address (or HA_BINDADDR), with the line's ttl and loop.
//!
//! All sockets set SO_REUSEADDR so nodes sharing a machine can each bind
//! the wildcard address for broadcast and multicast.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

use crate::authkeys::Authkeys;
use crate::hacf::Medium;
use crate::wire::{self, Message, Verdict};

/// Largest datagram we read; bigger ones are truncated and then fail to
/// decode (counted as malformed).
pub const MAX_PACKET: usize = 65_536;

/// Socket buffer size asked for on every medium.
pub const RECV_BUFFER: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{medium}: {source}")]
    Socket { medium: String, source: std::io::Error },
    #[error("{medium}: cannot resolve {peer}")]
    Resolve { medium: String, peer: String },
    #[error("{medium}: device {dev} has no IPv4 address")]
    NoAddress { medium: String, dev: String },
    #[error("serial media are not supported ({0})")]
    Serial(String),
}

/// One open link: a socket and where to send.
#[derive(Debug)]
pub struct LinkSocket {
    /// The link name (the medium's device).
    pub name: String,
    /// What the link was made from, for log lines.
    pub description: String,
    pub socket: UdpSocket,
    pub destinations: Vec<SocketAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Ucast,
    Bcast,
    Mcast(Ipv4Addr, u16),
}

/// Device addresses: (IPv4 address, broadcast) per device name.
fn device_addresses() -> BTreeMap<String, (Option<Ipv4Addr>, Option<Ipv4Addr>, bool)> {
    let mut out: BTreeMap<String, (Option<Ipv4Addr>, Option<Ipv4Addr>, bool)> = BTreeMap::new();
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else { return out };
    for a in addrs {
        let loopback = a.flags.contains(nix::net::if_::InterfaceFlags::IFF_LOOPBACK);
        let e = out.entry(a.interface_name.clone()).or_insert((None, None, loopback));
        if let Some(sin) = a.address.as_ref().and_then(|s| s.as_sockaddr_in()) {
            e.0.get_or_insert(sin.ip());
        }
        if let Some(sin) = a.broadcast.as_ref().and_then(|s| s.as_sockaddr_in()) {
            e.1.get_or_insert(sin.ip());
        }
    }
    out
}

fn io(medium: &str) -> impl Fn(std::io::Error) -> MediaError + '_ {
    move |source| MediaError::Socket { medium: medium.to_string(), source }
}

fn new_socket(medium: &str, dev: &str, bind: SocketAddr, bind_device: bool) -> Result<Socket, MediaError> {
    let s = Socket::new(Domain::for_address(bind), Type::DGRAM, Some(Protocol::UDP)).map_err(io(medium))?;
    s.set_reuse_address(true).map_err(io(medium))?;
    // A burst of fragments or retransmissions must not overflow the
    // default (about 200 KB) buffer; the kernel caps this at rmem_max
    // unless we are root (SO_RCVBUFFORCE is not used: best effort).
    let _ = s.set_recv_buffer_size(RECV_BUFFER);
    let _ = s.set_send_buffer_size(RECV_BUFFER);
    if bind_device {
        s.bind_device(Some(dev.as_bytes())).map_err(io(medium))?;
    }
    s.bind(&bind.into()).map_err(io(medium))?;
    s.set_nonblocking(true).map_err(io(medium))?;
    Ok(s)
}

/// Opens every UDP medium of ha.cf. `bind` is HA_BINDADDR.
pub fn open(media: &[Medium], udpport: u16, bind: Option<IpAddr>) -> Result<Vec<LinkSocket>, MediaError> {
    let devices = device_addresses();
    let mut groups: BTreeMap<(String, Kind), LinkSocket> = BTreeMap::new();
    for m in media {
        match m {
            Medium::Serial { dev } => return Err(MediaError::Serial(dev.clone())),
            Medium::Ucast { dev, peer } => {
                let desc = format!("ucast {dev} {peer}");
                let dest = (peer.as_str(), udpport)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut a| a.find(|a| a.is_ipv4() || bind.is_some_and(|b| b.is_ipv6())))
                    .ok_or_else(|| MediaError::Resolve { medium: desc.clone(), peer: peer.clone() })?;
                // Sending to ourselves is pointless (a shared ha.cf names
                // every node); the packet would be dropped on receipt.
                if bind == Some(dest.ip()) {
                    continue;
                }
                let key = (dev.clone(), Kind::Ucast);
                if let Some(link) = groups.get_mut(&key) {
                    link.destinations.push(dest);
                    link.description.push_str(&format!(", {peer}"));
                    continue;
                }
                let addr = SocketAddr::new(bind.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)), udpport);
                let s = new_socket(&desc, dev, addr, bind.is_none())?;
                groups.insert(
                    key,
                    LinkSocket { name: dev.clone(), description: desc, socket: s.into(), destinations: vec![dest] },
                );
            }
            Medium::Bcast { dev } => {
                let desc = format!("bcast {dev}");
                let (_, brd, loopback) = devices.get(dev).copied().unwrap_or((None, None, false));
                let brd = brd
                    .or(loopback.then_some(Ipv4Addr::new(127, 255, 255, 255)))
                    .ok_or_else(|| MediaError::NoAddress { medium: desc.clone(), dev: dev.clone() })?;
                let s = new_socket(&desc, dev, SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), udpport), !loopback)?;
                s.set_broadcast(true).map_err(io(&desc))?;
                let dest = SocketAddr::new(brd.into(), udpport);
                groups.insert(
                    (dev.clone(), Kind::Bcast),
                    LinkSocket { name: dev.clone(), description: desc, socket: s.into(), destinations: vec![dest] },
                );
            }
            Medium::Mcast { dev, group, port, ttl, loopback } => {
                let desc = format!("mcast {dev} {group} {port}");
                let iface = match bind {
                    Some(IpAddr::V4(a)) => Some(a),
                    _ => devices.get(dev).and_then(|d| d.0),
                }
                .ok_or_else(|| MediaError::NoAddress { medium: desc.clone(), dev: dev.clone() })?;
                let s = new_socket(&desc, dev, SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), *port), false)?;
                s.join_multicast_v4(group, &iface).map_err(io(&desc))?;
                s.set_multicast_if_v4(&iface).map_err(io(&desc))?;
                s.set_multicast_ttl_v4(u32::from(*ttl)).map_err(io(&desc))?;
                s.set_multicast_loop_v4(*loopback).map_err(io(&desc))?;
                let dest = SocketAddr::new((*group).into(), *port);
                groups.insert(
                    (dev.clone(), Kind::Mcast(*group, *port)),
                    LinkSocket { name: dev.clone(), description: desc, socket: s.into(), destinations: vec![dest] },
                );
            }
        }
    }
    Ok(groups.into_values().collect())
}

/// Why a received datagram was dropped before reaching the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// Not a message (truncated, garbled, oversized...).
    Malformed,
    /// Authentication missing, malformed or wrong.
    Unauthenticated,
}

/// Counters of datagrams dropped on receipt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecvCounters {
    pub received: u64,
    pub malformed: u64,
    pub rejected: u64,
}

impl RecvCounters {
    /// Decodes and authenticates one datagram (Heartbeat's rule: the
    /// trailer on netstring packets, the `auth` field on classic ones),
    /// counting it. Never panics on any input (see [`crate::fuzzing`]).
    pub fn accept(&mut self, bytes: &[u8], keys: &Authkeys) -> Result<Message, Drop> {
        self.received += 1;
        let packet = match wire::decode(bytes) {
            Ok(p) => p,
            Err(_) => {
                self.malformed += 1;
                return Err(Drop::Malformed);
            }
        };
        if packet.authenticate(keys) != Verdict::Authentic {
            self.rejected += 1;
            return Err(Drop::Unauthenticated);
        }
        let mut m = packet.message;
        m.remove(wire::AUTH_FIELD);
        // Heartbeat's compressed form: authenticated as the wrapper, the
        // message itself is inside.
        if crate::compress::is_compressed(&m) {
            return match crate::compress::unwrap(&m, crate::compress::MAX_UNCOMPRESSED) {
                Ok(inner) => Ok(inner),
                Err(_) => {
                    self.malformed += 1;
                    Err(Drop::Malformed)
                }
            };
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authkeys::{Key, Method};

    fn keys(secret: &[u8]) -> Authkeys {
        Authkeys::single(1, Key::new(Method::Sha1, secret))
    }

    #[test]
    fn compressed_packets_are_unwrapped_after_authentication() {
        let k = keys(b"SomeKnownSecret");
        let m = Message::new().with_str("t", "big").with_str("src", "n2").with_str("x", &"y".repeat(5000));
        let w = crate::compress::wrap(&m, crate::compress::Algorithm::Zlib).unwrap();
        let mut c = RecvCounters::default();
        assert_eq!(c.accept(&w.sign(&k).unwrap(), &k), Ok(m));
        let bad = Message::new()
            .with(crate::compress::COMPRESSED_FIELD, crate::wire::Value::Binary(b"junk".to_vec()))
            .with_str(crate::compress::COMPRESS_NAME, "zlib");
        assert_eq!(c.accept(&bad.sign(&k).unwrap(), &k), Err(Drop::Malformed));
        assert_eq!(c.accept(&w.sign(&keys(b"other")).unwrap(), &k), Err(Drop::Unauthenticated));
        assert_eq!((c.received, c.malformed, c.rejected), (3, 1, 1));
    }

    #[test]
    fn accept_counts_every_kind_of_bad_packet() {
        let good = keys(b"SomeKnownSecret");
        let m = Message::new().with_str("t", "x").with_str("src", "n2");
        let signed = m.sign(&good).unwrap();
        let mut c = RecvCounters::default();
        assert_eq!(c.accept(&signed, &good).unwrap(), m);
        assert_eq!(c.accept(&signed, &keys(b"other")), Err(Drop::Unauthenticated));
        assert_eq!(c.accept(&signed[..signed.len() - 5], &good), Err(Drop::Malformed));
        assert_eq!(c.accept(b"", &good), Err(Drop::Malformed));
        assert_eq!(c.accept(&vec![b'#'; MAX_PACKET], &good), Err(Drop::Malformed));
        let mut garbled = signed.clone();
        garbled[20] ^= 1;
        assert!(c.accept(&garbled, &good).is_err());
        assert_eq!(c.received, 6);
        assert_eq!(c.malformed + c.rejected, 5);
    }

    /// ucast between two loopback addresses, with the same port.
    #[test]
    fn ucast_on_loopback() {
        let port = 47_301;
        let a = open(&[Medium::Ucast { dev: "lo".into(), peer: "127.0.0.2".into() }], port, Some("127.0.0.1".parse().unwrap()))
            .unwrap();
        let b = open(&[Medium::Ucast { dev: "lo".into(), peer: "127.0.0.1".into() }], port, Some("127.0.0.2".parse().unwrap()))
            .unwrap();
        assert_eq!((a.len(), a[0].name.as_str()), (1, "lo"));
        a[0].socket.send_to(b"ping", a[0].destinations[0]).unwrap();
        b[0].socket.set_nonblocking(false).unwrap();
        b[0].socket.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = b[0].socket.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], "127.0.0.1:47301".parse().unwrap()));
    }

    /// A shared ha.cf names every node: the line naming ourselves is skipped
    /// and lines on one device share a socket.
    #[test]
    fn ucast_lines_on_one_device_share_a_link() {
        let media: Vec<_> = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
            .iter()
            .map(|p| Medium::Ucast { dev: "lo".into(), peer: p.to_string() })
            .collect();
        let links = open(&media, 47_302, Some("127.0.0.1".parse().unwrap())).unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].destinations, ["127.0.0.2:47302".parse().unwrap(), "127.0.0.3:47302".parse().unwrap()]);
    }

    #[test]
    fn bcast_and_mcast_on_loopback() {
        let recv = |links: &[LinkSocket]| {
            let s = &links[0].socket;
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
            let mut buf = [0u8; 16];
            let (n, _) = s.recv_from(&mut buf).unwrap();
            buf[..n].to_vec()
        };
        let b1 = open(&[Medium::Bcast { dev: "lo".into() }], 47_303, None).unwrap();
        let b2 = open(&[Medium::Bcast { dev: "lo".into() }], 47_303, None).unwrap();
        assert_eq!(b1[0].destinations, ["127.255.255.255:47303".parse().unwrap()]);
        b1[0].socket.send_to(b"bc", b1[0].destinations[0]).unwrap();
        assert_eq!(recv(&b2), b"bc");
        let mc = |a: &str| {
            let m = Medium::Mcast { dev: "lo".into(), group: "239.0.0.43".parse().unwrap(), port: 47_304, ttl: 1, loopback: true };
            open(&[m], 0, Some(a.parse().unwrap())).unwrap()
        };
        let m1 = mc("127.0.0.1");
        let m2 = mc("127.0.0.2");
        m1[0].socket.send_to(b"mc", m1[0].destinations[0]).unwrap();
        assert_eq!(recv(&m2), b"mc");
    }

    #[test]
    fn unresolvable_peer_is_an_error() {
        let e = open(&[Medium::Ucast { dev: "lo".into(), peer: "no-such-host.invalid".into() }], 47_305, None).unwrap_err();
        assert!(e.to_string().contains("cannot resolve no-such-host.invalid"), "{e}");
    }
}
