//! Every packet of the real Heartbeat 3.0.6 captures in
//! ../shared/heartbeat-wire decodes, both HMACs verify with the documented
//! key, and re-encoding gives back the exact bytes. The forged packets
//! (hand-made, sent to a real node) get the verdicts the real node gave.

use std::path::PathBuf;

use transport::authkeys::{Authkeys, Key, Method};
use transport::status::Status;
use transport::wire::{decode, Format, Verdict};

fn wire_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/heartbeat-wire")
}

fn keys() -> Authkeys {
    Authkeys::single(1, Key::new(Method::Sha1, b"SomeKnownSecret"))
}

/// UDP payloads of a classic pcap file (ethernet, cooked v1/v2).
fn pcap_udp_payloads(path: &PathBuf) -> Vec<Vec<u8>> {
    let d = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let le = match &d[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        m => panic!("not a pcap: {m:?}"),
    };
    let u32_at = |o: usize| {
        let b = [d[o], d[o + 1], d[o + 2], d[o + 3]];
        if le { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) }
    };
    let linktype = u32_at(20);
    let mut off = 24;
    let mut out = Vec::new();
    while off + 16 <= d.len() {
        let incl = u32_at(off + 8) as usize;
        let pkt = &d[off + 16..off + 16 + incl];
        off += 16 + incl;
        let ip = match linktype {
            1 if pkt[12..14] == [8, 0] => &pkt[14..],
            113 => &pkt[16..],
            276 => &pkt[20..],
            _ => continue,
        };
        if ip[9] != 17 {
            continue;
        }
        let ihl = (ip[0] & 15) as usize * 4;
        let ulen = u16::from_be_bytes([ip[ihl + 4], ip[ihl + 5]]) as usize;
        out.push(ip[ihl + 8..ihl + ulen].to_vec());
    }
    out
}

fn check_capture(name: &str, expected: usize) {
    let packets = pcap_udp_payloads(&wire_dir().join(name));
    assert_eq!(packets.len(), expected, "{name}: packet count (see the SUMMARY line of the .txt)");
    let mut statuses = 0;
    for (i, raw) in packets.iter().enumerate() {
        let p = decode(raw).unwrap_or_else(|e| panic!("{name} #{}: {e}", i + 1));
        assert_eq!(p.format, Format::Netstring);
        assert_eq!(p.verify_inner(&keys()), Verdict::Authentic, "{name} #{}", i + 1);
        assert_eq!(p.verify_trailer(&keys()), Verdict::Authentic, "{name} #{}", i + 1);
        assert_eq!(&p.encode().unwrap(), raw, "{name} #{}: re-encoding differs", i + 1);
        // Signing the message again with the same key reproduces the
        // packet: both HMACs are computed exactly as Heartbeat does.
        assert_eq!(&p.message.sign(&keys()).unwrap(), raw, "{name} #{}: re-signing differs", i + 1);
        if p.message.get_str("t") == Some("status") {
            let s = Status::from_message(&p.message).unwrap();
            assert_eq!(s.ttl, 3);
            let mut again = s.to_message();
            again.fields.push(p.message.fields.last().unwrap().clone());
            assert_eq!(again, p.message, "{name} #{}: typed status round trip", i + 1);
            statuses += 1;
        }
    }
    assert!(statuses > expected / 2, "{name}: only {statuses} status packets");
}

#[test]
fn steady_state_kill_failback_capture() {
    check_capture("hb-packets.pcap", 145);
}

#[test]
fn cold_start_capture() {
    check_capture("hb-packets-coldstart.pcap", 330);
}

/// The raw payloads of hb-forged.txt, which prints them with
/// non-printable bytes as `\xNN`; each is checked against its stated size.
fn forged_payloads() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(wire_dir().join("hb-forged.txt")).unwrap();
    let mut out = Vec::new();
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let Some(size) = line.strip_suffix(" bytes").and_then(|l| l.rsplit(' ').next()).and_then(|n| n.parse::<usize>().ok()) else {
            continue;
        };
        assert!(lines.next().unwrap().starts_with("--- raw payload"));
        let mut shown = Vec::new();
        while !lines.peek().unwrap().starts_with("--- decoded") {
            shown.push(lines.next().unwrap());
        }
        let shown = shown.join("\n");
        let mut bytes = Vec::new();
        let b = shown.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 4 <= b.len() {
                if let Ok(v) = u8::from_str_radix(&shown[i + 2..i + 4], 16) {
                    bytes.push(v);
                    i += 4;
                    continue;
                }
            }
            bytes.push(b[i]);
            i += 1;
        }
        assert_eq!(bytes.len(), size, "payload {} of hb-forged.txt unescaped to the wrong size", out.len() + 1);
        out.push(bytes);
    }
    out
}

#[test]
fn forged_packets_get_the_real_nodes_verdicts() {
    let packets = forged_payloads();
    assert_eq!(packets.len(), 87);
    let mut classic = 0;
    let mut verdicts = std::collections::BTreeMap::new();
    for raw in &packets {
        let p = decode(raw).expect("every forged packet is well-formed");
        assert_eq!(&p.encode().unwrap(), raw);
        if p.format == Format::Classic {
            classic += 1;
            assert!(p.nul_terminated);
        }
        *verdicts.entry((p.format == Format::Classic, p.verify_inner(&keys()), p.authenticate(&keys()))).or_insert(0) += 1;
    }
    assert_eq!(classic, 8);
    // hbdecode.py's summary: 79 inner matches, 75 trailer matches. Per
    // forge-results.txt the real node accepted classic packets with a good
    // auth field, rejected them with a zeroed one ("failed
    // authentication"), accepted netstring packets whose inner auth was
    // zeroed (it checks only the trailer), and rejected zeroed trailers.
    let inner_ok: usize = verdicts.iter().filter(|((_, inner, _), _)| *inner == Verdict::Authentic).map(|(_, n)| n).sum();
    assert_eq!(inner_ok, 79, "{verdicts:?}");
    let accepted_classic = verdicts.get(&(true, Verdict::Authentic, Verdict::Authentic)).copied().unwrap_or(0);
    let rejected_classic = verdicts.get(&(true, Verdict::Mismatch, Verdict::Mismatch)).copied().unwrap_or(0);
    assert_eq!((accepted_classic, rejected_classic), (4, 4), "{verdicts:?}");
    let netstring_accepted: usize = verdicts.iter().filter(|((c, _, a), _)| !c && *a == Verdict::Authentic).map(|(_, n)| n).sum();
    assert_eq!(netstring_accepted, 75, "{verdicts:?}");
    let badinner_accepted = verdicts.get(&(false, Verdict::Mismatch, Verdict::Authentic)).copied().unwrap_or(0);
    assert_eq!(badinner_accepted, 4, "netstring packets with a zeroed inner auth that the real node accepted");
}
