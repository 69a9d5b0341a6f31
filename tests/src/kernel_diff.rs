//! Comparing ctc's replay of a gateway with the kernel's recording of it,
//! where the two may differ in values the kernel picked at random: shared
//! by the oracle test (`../shared/oracle`) and the live harness
//! ([`crate::live`]).
//!
//! - NAT choices: on a clash the kernel picks a port or ICMP id at random.
//!   [`remaps`] finds the flows whose reply tuple the kernel and ctc chose
//!   differently (from a first replay's events), and [`consistent_case`]
//!   makes a copy of the case where the server's replies and the kernel's
//!   records use ctc's choice; ctc's choices must then be consistent
//!   everywhere.
//! - The IPv4 id of packets the gateway itself originates (echo replies,
//!   ICMP errors: ip_select_ident) is random: [`compare_out`] masks it.
//! - The kernel forwards packets on both CPUs, so frames of different
//!   flows, and now and then two of one flow, may leave in another order
//!   than they came: [`compare_out`] compares the frames of each flow, in
//!   order where the frames differ.

use ctc_conntrack::{Manip, Tuple, mangle};
use ctc_datapath::capture::{self, Link, Writer};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// The tuple words of an event or table line: (original, reply), each as
/// `key=value` strings of the tuple keys.
pub fn tuple_words(line: &str) -> (Vec<String>, Vec<String>) {
    const KEYS: &[&str] = &["src", "dst", "sport", "dport", "type", "code", "id"];
    let (mut orig, mut reply) = (Vec::new(), Vec::new());
    for w in line.split_whitespace() {
        let Some((k, _)) = w.split_once('=') else { continue };
        if !KEYS.contains(&k) {
            continue;
        }
        if k == "src" && !orig.is_empty() {
            if !reply.is_empty() {
                break;
            }
            reply.push(w.to_string());
            continue;
        }
        if reply.is_empty() { orig.push(w.to_string()) } else { reply.push(w.to_string()) }
    }
    // A trailing conntrack id is not part of the reply tuple.
    if reply.len() > orig.len() {
        reply.truncate(orig.len());
    }
    (orig, reply)
}

fn word_value<'a>(words: &'a [String], key: &str) -> Option<&'a str> {
    words.iter().find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// An event line without its time prefix and conntrack id.
pub fn event_text(line: &str) -> String {
    let body = line.split_once(']').map_or(line, |(_, rest)| rest).trim_start_matches(['\t', ' ']);
    let body = match body.rfind(" id=") {
        Some(i) if body[i + 4..].chars().all(|c| c.is_ascii_digit()) => &body[..i],
        _ => body,
    };
    body.trim_end().to_string()
}

/// An expectation event line without its time prefix (the kernel's
/// listener prints the microseconds unpadded: parse the bracket loosely).
pub fn expect_text(line: &str) -> String {
    line.split_once(']').map_or(line, |(_, rest)| rest).trim_start_matches(['\t', ' ']).trim_end().to_string()
}

/// The expectation events of an `--expect-events` file or a kernel
/// `conntrack -E expect` recording, without times (the listener's own
/// lines, such as its closing tally, left out).
pub fn expect_events(text: &str) -> Vec<String> {
    text.lines().filter(|l| l.contains("proto=")).map(expect_text).collect()
}

/// A flow whose translated port (or ICMP id) the kernel picked at random.
#[derive(Debug, Clone)]
pub struct Remap {
    orig: Vec<String>,
    proto: u8,
    server: Ipv4Addr,
    nat: Ipv4Addr,
    /// `dport` of the reply tuple, or `id` for ICMP.
    key: &'static str,
    kernel: u16,
    ctc: u16,
}

/// The IPv4 flows whose reply tuple the kernel and ctc chose differently,
/// from the NEW events of each.
pub fn remaps(kernel_events: &str, ctc_events: &str) -> Vec<Remap> {
    let news = |t: &str| -> Vec<(Vec<String>, Vec<String>, String)> {
        t.lines()
            .filter(|l| l.contains("[NEW]"))
            .map(|l| {
                let (o, r) = tuple_words(&event_text(l));
                let proto = l.split_whitespace().find(|w| w.parse::<u8>().is_ok()).unwrap_or("0").to_string();
                (o, r, proto)
            })
            .collect()
    };
    let ctc = news(ctc_events);
    let mut out = Vec::new();
    for (orig, reply, proto) in news(kernel_events) {
        let Some((_, creply, _)) = ctc.iter().find(|(o, _, _)| *o == orig) else { continue };
        if *creply == reply {
            continue;
        }
        let key = if word_value(&reply, "id").is_some() { "id" } else { "dport" };
        let num = |w: &[String], k: &str| word_value(w, k).and_then(|v| v.parse::<u16>().ok());
        let addr = |w: &[String], k: &str| word_value(w, k).and_then(|v| v.parse::<Ipv4Addr>().ok());
        let (Some(kernel), Some(c), Some(server), Some(nat)) =
            (num(&reply, key), num(creply, key), addr(&reply, "src"), addr(&reply, "dst"))
        else {
            continue;
        };
        out.push(Remap { orig, proto: proto.parse().unwrap_or(0), server, nat, key, kernel, ctc: c });
    }
    out
}

/// A kernel record line with a remapped flow's reply value replaced.
pub fn remap_line(line: &str, maps: &[Remap]) -> String {
    for m in maps {
        if tuple_words(line).0 != m.orig {
            continue;
        }
        // The reply tuple starts at the second `src=`.
        let Some(first) = line.find("src=") else { continue };
        let Some(second) = line[first + 4..].find("src=").map(|i| i + first + 4) else { continue };
        let (head, tail) = line.split_at(second);
        let from = format!(" {}={}", m.key, m.kernel);
        let to = format!(" {}={}", m.key, m.ctc);
        return format!("{head}{}", tail.replacen(&from, &to, 1));
    }
    line.to_string()
}

/// The IP packet of an Ethernet frame: (protocol, src, dst, transport
/// offset). IPv6 extension headers are not walked (the next header is the
/// protocol).
fn ip(frame: &[u8]) -> Option<(u8, IpAddr, IpAddr, usize)> {
    match frame.get(12..14)? {
        [0x08, 0x00] if frame.len() >= 34 => {
            let ip = &frame[14..];
            let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
            let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
            Some((ip[9], src.into(), dst.into(), 14 + usize::from(ip[0] & 0xf) * 4))
        }
        [0x86, 0xdd] if frame.len() >= 54 => {
            let a = |at: usize| -> IpAddr {
                let b: [u8; 16] = frame[at..at + 16].try_into().expect("16 bytes");
                Ipv6Addr::from(b).into()
            };
            Some((frame[20], a(22), a(38), 54))
        }
        _ => None,
    }
}

fn ipv4(frame: &[u8]) -> Option<(u8, Ipv4Addr, Ipv4Addr, usize)> {
    match ip(frame)? {
        (p, IpAddr::V4(s), IpAddr::V4(d), th) => Some((p, s, d, th)),
        _ => None,
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Rewrite a frame of a remapped flow: towards the NAT address (`inbound`:
/// the server's replies, destination port or echo-reply id) or from it
/// (the translated packets leaving, source port or echo-request id).
pub fn remap_frame(frame: &mut [u8], maps: &[Remap], inbound: bool) {
    let Some((proto, src, dst, th)) = ipv4(frame) else { return };
    for m in maps {
        let (server, nat) = if inbound { (src, dst) } else { (dst, src) };
        if proto != m.proto || server != m.server || nat != m.nat {
            continue;
        }
        let value = match (proto, inbound) {
            (1, _) => be16(frame, th + 4),
            (_, true) => be16(frame, th + 2),
            (_, false) => be16(frame, th),
        };
        if value != Some(m.kernel) {
            continue;
        }
        let end = 14 + usize::from(be16(frame, 16).unwrap_or(0));
        let (s, d) = (IpAddr::V4(src), IpAddr::V4(dst));
        let (sp, dp) = (be16(frame, th).unwrap_or(0), be16(frame, th + 2).unwrap_or(0));
        let (target, manip) = match (proto, inbound) {
            (1, _) => (Tuple::new(s, d, 1, m.ctc, dp), if inbound { Manip::Dst } else { Manip::Src }),
            (_, true) => (Tuple::new(s, d, proto, sp, m.ctc), Manip::Dst),
            (_, false) => (Tuple::new(s, d, proto, m.ctc, dp), Manip::Src),
        };
        assert!(mangle::manip_pkt(frame, 14, end, &target, manip), "remap a frame of {m:?}");
        return;
    }
}

/// Frames of a capture file (time, bytes).
pub fn frames(path: &Path) -> Vec<(u64, Vec<u8>)> {
    capture::read(path, 0)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .into_iter()
        .map(|f| (f.time_ns, f.data))
        .collect()
}

/// Write frames to an Ethernet pcap file.
pub fn write_frames(path: &Path, frames: &[(u64, Vec<u8>)]) {
    let mut w = Writer::create(path, Link::Ethernet).expect("create capture");
    for (t, d) in frames {
        w.write(*t, d).expect("write frame");
    }
}

/// A copy of the case directory `case` in `scratch` with the kernel's
/// random NAT choices replaced by ctc's: the server side's captures
/// (`pub_captures`: file name and whether its frames travel towards the NAT
/// address) and the kernel's event and table records (`records`). The case
/// itself when there is nothing to map.
pub fn consistent_case(
    case: &Path,
    scratch: &Path,
    maps: &[Remap],
    pub_captures: &[(&str, bool)],
    records: &[&str],
) -> PathBuf {
    if maps.is_empty() {
        return case.to_path_buf();
    }
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).expect("scratch directory");
    for e in std::fs::read_dir(case).expect("read case") {
        let p = e.expect("entry").path();
        if p.is_file() {
            std::fs::copy(&p, scratch.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    for (file, inbound) in pub_captures {
        if !case.join(file).exists() {
            continue;
        }
        let mut f = frames(&case.join(file));
        for (_, d) in &mut f {
            remap_frame(d, maps, *inbound);
        }
        write_frames(&scratch.join(file), &f);
    }
    for file in records {
        let Ok(text) = std::fs::read_to_string(case.join(file)) else { continue };
        let mapped: Vec<String> = text.lines().map(|l| remap_line(l, maps)).collect();
        std::fs::write(scratch.join(file), mapped.join("\n") + "\n").expect("write record");
    }
    scratch.to_path_buf()
}

/// The captures and records [`settle`] rewrites: the server side's
/// captures (towards the NAT address, from it) and the kernel's records.
pub const PUB_CAPTURES: [(&str, bool); 2] = [("in-gw-pub.pcap", true), ("out-gw-pub.pcap", false)];
pub const RECORDS: [&str; 2] = ["events.txt", "table.txt"];

/// Make a case consistent with ctc's random NAT choices. `replay(dir)`
/// replays a case directory and returns ctc's event text with whatever
/// else the caller wants of that run. A replay of a case with some choices
/// mapped may choose differently for a later flow (the first replay saw the
/// server answer the kernel's port of an earlier flow, not ctc's): the
/// choices are mapped again until ctc's are the case's (each round fixes
/// at least the earliest remaining flow; 8 rounds at most). The rounds'
/// copies are `scratch(round)`. Returns the consistent directory (`case`
/// itself when nothing was mapped), how many choices were mapped, and the
/// last replay's result.
pub fn settle<R>(
    case: &Path,
    scratch: impl Fn(usize) -> PathBuf,
    mut replay: impl FnMut(&Path) -> Result<(String, R), String>,
) -> Result<(PathBuf, usize, R), String> {
    let mut dir = case.to_path_buf();
    let (mut events, mut run) = replay(&dir)?;
    let mut mapped = 0;
    for round in 0..8 {
        let kernel = std::fs::read_to_string(dir.join("events.txt")).map_err(|e| format!("{}: {e}", dir.display()))?;
        let maps = remaps(&kernel, &events);
        if maps.is_empty() {
            break;
        }
        mapped += maps.len();
        dir = consistent_case(&dir, &scratch(round), &maps, &PUB_CAPTURES, &RECORDS);
        (events, run) = replay(&dir)?;
    }
    Ok((dir, mapped, run))
}

/// The flow of a frame: protocol, addresses, ports (or ICMP type and id
/// word), to compare the frames of each flow.
pub fn flow_of(frame: &[u8]) -> (u8, IpAddr, IpAddr, u16, u16) {
    match ip(frame) {
        Some((proto, src, dst, th)) => {
            (proto, src, dst, be16(frame, th).unwrap_or(0), be16(frame, th + 2).unwrap_or(0))
        }
        None => (0, Ipv4Addr::UNSPECIFIED.into(), Ipv4Addr::UNSPECIFIED.into(), 0, 0),
    }
}

/// Compare the frames ctc sent out of an interface (`got`) with the
/// kernel's (`want`), byte for byte and in order within each flow, except
/// the IPv4 id (and so the header checksum) of packets the gateway
/// originated: from one of `gateway`'s addresses, not an echo request and
/// not TCP or UDP (forwarded and translated packets keep their id).
pub fn compare_out(
    name: &str,
    iface: &str,
    gateway: &[IpAddr],
    want: &[(u64, Vec<u8>)],
    got: &[(u64, Vec<u8>)],
) -> Vec<String> {
    let mut fails = Vec::new();
    if want.len() != got.len() {
        fails.push(format!("{name}: {iface}: kernel sent {} frames, ctc {}", want.len(), got.len()));
    }
    let mut got: Vec<Vec<u8>> = got.iter().map(|(_, g)| g.clone()).collect();
    // ctc's frame as compared with `w`: the IPv4 id and header checksum of
    // a packet the gateway originated taken from `w` (ctc's own header
    // checksum checked first), and the IPv6 flow label of one (the kernel
    // derives it from the flow's hash, whose key is random per boot).
    let masked = |w: &[u8], g: &[u8]| -> (Vec<u8>, bool) {
        let mut g = g.to_vec();
        let own = ipv4(w).is_some_and(|(proto, src, _, th)| {
            gateway.contains(&src.into()) && !(proto == 1 && w.get(th) == Some(&8)) && !matches!(proto, 6 | 17)
        });
        let own6 = matches!(ip(w), Some((_, src @ IpAddr::V6(_), _, _)) if gateway.contains(&src));
        if own6 && g.len() == w.len() && flow_of(&g) == flow_of(w) {
            g[15] = (g[15] & 0xf0) | (w[15] & 0x0f);
            g[16..18].copy_from_slice(&w[16..18]);
        }
        let mut csum_ok = true;
        if own && g.len() == w.len() && g.len() >= 34 {
            let ihl = usize::from(g[14] & 0xf) * 4;
            csum_ok = g.len() >= 14 + ihl && ctc_wire::checksum::checksum(&g[14..14 + ihl]) == 0;
            g[18..20].copy_from_slice(&w[18..20]);
            g[24..26].copy_from_slice(&w[24..26]);
        }
        (g, csum_ok)
    };
    for (i, (_, w)) in want.iter().enumerate() {
        let flow = flow_of(w);
        // The frames of one flow in order; the kernel may still swap two
        // of a flow (a client's ACK and its data sent from two CPUs are
        // forwarded in parallel): an identical frame later in the flow is
        // taken first.
        let same: Vec<usize> = (0..got.len()).filter(|&j| flow_of(&got[j]) == flow).collect();
        let Some(&first) = same.first() else {
            fails.push(format!("{name}: {iface} frame {i}: ctc sent nothing more of flow {flow:?}"));
            continue;
        };
        let j = same.iter().copied().find(|&j| masked(w, &got[j]).0 == *w).unwrap_or(first);
        let g = got.remove(j);
        let (g, csum_ok) = masked(w, &g);
        if !csum_ok {
            fails.push(format!("{name}: {iface} frame {i} of flow {flow:?}: bad IPv4 header checksum"));
        }
        if *w != g {
            let diff: Vec<usize> = (0..w.len().min(g.len())).filter(|&j| w[j] != g[j]).take(8).collect();
            fails.push(format!(
                "{name}: {iface} frame {i} of flow {flow:?} differs (len {} vs {}, bytes {diff:?})",
                w.len(),
                g.len()
            ));
        }
    }
    for g in &got {
        fails.push(format!("{name}: {iface}: ctc sent a frame the kernel did not: flow {:?}", flow_of(g)));
    }
    fails
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "[1.0]\t    [NEW] tcp      6 120 SYN_SENT src=192.0.2.3 dst=203.0.113.47 sport=40100 dport=80 [UNREPLIED] src=203.0.113.47 dst=198.51.100.32 sport=80 dport=51234 id=7\n";
    const C: &str = "[1.0]\t    [NEW] tcp      6 120 SYN_SENT src=192.0.2.3 dst=203.0.113.47 sport=40100 dport=80 [UNREPLIED] src=203.0.113.47 dst=198.51.100.32 sport=80 dport=60001 id=1\n";

    #[test]
    fn a_random_port_choice_is_mapped_in_records() {
        let maps = remaps(K, C);
        assert_eq!(maps.len(), 1, "{maps:?}");
        assert_eq!((maps[0].kernel, maps[0].ctc), (51234, 60001));
        let line = remap_line(K.trim_end(), &maps);
        assert!(line.contains("dport=60001 id=7") && line.contains("sport=40100 dport=80"), "{line}");
        assert!(remaps(K, K).is_empty());
    }

    #[test]
    fn ipv6_frames_are_told_apart_by_flow() {
        let mut a = vec![0u8; 74];
        a[12..14].copy_from_slice(&[0x86, 0xdd]);
        a[20] = 17;
        a[54..56].copy_from_slice(&1000u16.to_be_bytes());
        let mut b = a.clone();
        b[54..56].copy_from_slice(&1001u16.to_be_bytes());
        assert_ne!(flow_of(&a), flow_of(&b));
        let want = vec![(0, a.clone()), (1, b.clone())];
        let got = vec![(0, b), (1, a)];
        assert!(compare_out("t", "x", &[], &want, &got).is_empty());
        let fails = compare_out("t", "x", &[], &want, &got[..1]);
        assert_eq!(fails.len(), 2, "{fails:?}");
    }
}
