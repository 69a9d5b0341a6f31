//! ClassBench filter sets as nft rulesets, replayed: every packet must be
//! decided by exactly the rule a straightforward linear scan picks.
//!
//! For each file of `../shared/corpus/classbench` (skipped with a message
//! when `../shared` is absent):
//!
//! 1. Convert: one rule per filter line, in order, in the forward base chain
//!    of `table ip cb` with `policy accept`: `ip saddr P ip daddr P
//!    meta l4proto N th sport LO-HI th dport LO-HI VERDICT`, leaving out a
//!    field that matches anything (/0, 0-65535, protocol mask 0x00). Rule i
//!    (0-based) is on line 4 + i and its verdict alternates, accept for even
//!    i and drop for odd i. Every file ends with a default (0/0 with any
//!    protocol and port; in fw2 and ipc1 preceded by the /1 halves of the
//!    space); that trailing block is left out so that packets matching no
//!    filter reach the policy. The address space is relabelled so that
//!    packets can be forwarded at all (see `relabel_key`). The conversion is written here, independently of the one in
//!    `benches/` (the reference reads the filters, not the generated text).
//! 2. Generate packets (deterministic xorshift seeded per file and rule):
//!    for each filter of the sample, a packet at a random point of its match
//!    space (address inside both prefixes, protocol, ports inside the
//!    ranges); then near misses (one field just outside the filter) and
//!    random packets, which often match no filter at all.
//! 3. Replay through the pipeline (captures written with `capture::Writer`,
//!    read back by `replay::prepare`) on a router: in0 192.0.2.1/30 (frames
//!    enter), out0 198.51.100.1/30, `--route 0.0.0.0/0=out0`. No address is
//!    local, a broadcast, or a martian the kernel would never forward
//!    (0/8, 127/8, 224/3 as source or destination), and the TTL is 64, so
//!    every packet reaches the forward chain.
//! 4. Reference: the first filter, in file order, whose prefixes contain the
//!    addresses, whose protocol (if any) equals the packet's, and whose port
//!    ranges contain `th sport` / `th dport`. `th` is nft's raw transport
//!    header (`th sport` = the first two bytes after the IP header, `th
//!    dport` the next two) whatever the protocol: nft adds no protocol
//!    dependency for `th`, so on ICMP `th sport` reads type and code and
//!    `th dport` the checksum, on GRE the flags and the protocol type (checked
//!    on Linux 6.18: `th sport 2048` counts ICMP echo requests). Packets of
//!    non-port protocols are built so these bytes carry the chosen values
//!    (an ICMP message keeps a valid checksum through two compensating
//!    payload bytes). Every packet has at least 8 transport bytes, so `th`
//!    loads never fail.
//! 5. Check each verdict line: `FILE:LINE` of that rule and its verdict, or
//!    `policy` and accept. Mismatches are listed with the packet and both
//!    answers. fw1_1k is also replayed by the `ctc` binary, whose verdict
//!    file must equal the in-process lines.
//!
//! Sizes (the interpreter runs unoptimised in debug builds; two cores):
//! every file is converted whole (all ~850 to ~9,700 rules). The 1k files
//! (fw1_1k, acl1_1k) get one packet per filter, plus 400 near misses and
//! 200 random packets; the 10k files one packet for every second filter (a
//! deterministic sample of 5,000 spread over the whole file, so every depth
//! is hit), 400 near misses and 300 random packets. About 20 s in all in a
//! debug build on two cores (each 10k file about 9 s).

use ctc_datapath::replay::ReplayOptions;
use ctc_tests::packets::{self, L4, XorShift, tcp_flags};
use ctc_tests::replay::{Replay, TempDir, VerdictLine, ctc_binary};
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

const IFACES: [&str; 2] = ["in0=192.0.2.1/30", "out0=198.51.100.1/30"];
const ROUTES: [&str; 1] = ["0.0.0.0/0=out0"];
/// Lines before the first rule: `table`, `chain`, `type ...`.
const HEADER_LINES: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Filter {
    src: (u32, u8),
    dst: (u32, u8),
    sport: (u16, u16),
    dport: (u16, u16),
    proto: Option<u8>,
}

fn mask(len: u8) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) }
}

fn parse_prefix(s: &str) -> (u32, u8) {
    let (a, l) = s.split_once('/').unwrap_or_else(|| panic!("prefix {s:?}"));
    let a: Ipv4Addr = a.parse().unwrap_or_else(|_| panic!("address {a:?}"));
    let l: u8 = l.parse().unwrap_or_else(|_| panic!("length {l:?}"));
    assert!(l <= 32, "{s}");
    (u32::from(a) & mask(l), l)
}

fn parse_ports(s: &str) -> (u16, u16) {
    let (lo, hi) = s.split_once(':').unwrap_or_else(|| panic!("ports {s:?}"));
    let (lo, hi): (u16, u16) = (lo.trim().parse().unwrap(), hi.trim().parse().unwrap());
    assert!(lo <= hi, "{s}");
    (lo, hi)
}

fn hex(s: &str) -> u8 {
    u8::from_str_radix(s.trim().trim_start_matches("0x"), 16).unwrap_or_else(|_| panic!("hex {s:?}"))
}

impl Filter {
    /// `@SRC/LEN\tDST/LEN\tSLO : SHI\tDLO : DHI\tPROTO/MASK\tFLAGS/MASK`
    fn parse(line: &str) -> Filter {
        let f: Vec<&str> = line.trim_start_matches('@').split('\t').map(str::trim).collect();
        assert!(f.len() >= 5, "short filter line {line:?}");
        let (pv, pm) = f[4].split_once('/').unwrap();
        let proto = match hex(pm) {
            0 => None,
            0xff => Some(hex(pv)),
            m => panic!("protocol mask {m:#x} in {line:?}"),
        };
        Filter {
            src: parse_prefix(f[0]),
            dst: parse_prefix(f[1]),
            sport: parse_ports(f[2]),
            dport: parse_ports(f[3]),
            proto,
        }
    }

    /// The filter with addresses relabelled by `a ^ key` (see [`relabel_key`]).
    fn relabel(self, key: u32) -> Filter {
        let r = |(net, len): (u32, u8)| ((net ^ key) & mask(len), len);
        Filter { src: r(self.src), dst: r(self.dst), ..self }
    }

    /// Whether a prefix lies wholly in space no forwarded packet may have.
    fn unforwardable(&self) -> bool {
        let bad = |(net, len): (u32, u8)| {
            let top = net >> 24;
            (len >= 3 && top >= 224) || (len >= 8 && (top == 0 || top == 127))
        };
        bad(self.src) || bad(self.dst)
    }

    /// Part of the default block that ends every file: any protocol, any
    /// port, prefixes of length 0 or 1 (fw2 and ipc1 end with the /1 halves
    /// of the space and then 0/0; the others with 0/0 alone).
    fn is_default(&self) -> bool {
        self.src.1 <= 1
            && self.dst.1 <= 1
            && self.proto.is_none()
            && self.sport == (0, 65535)
            && self.dport == (0, 65535)
    }

    fn rule(&self, i: usize) -> String {
        let mut r = String::new();
        let prefix = |(a, l): (u32, u8)| {
            if l == 32 { Ipv4Addr::from(a).to_string() } else { format!("{}/{l}", Ipv4Addr::from(a)) }
        };
        let ports = |(lo, hi): (u16, u16)| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
        if self.src.1 != 0 {
            let _ = write!(r, "ip saddr {} ", prefix(self.src));
        }
        if self.dst.1 != 0 {
            let _ = write!(r, "ip daddr {} ", prefix(self.dst));
        }
        if let Some(p) = self.proto {
            // Names where nft has them, numbers otherwise: both are read.
            let name = match p {
                1 => "icmp".to_string(),
                6 => "tcp".to_string(),
                17 => "udp".to_string(),
                n => n.to_string(),
            };
            let _ = write!(r, "meta l4proto {name} ");
        }
        if self.sport != (0, 65535) {
            let _ = write!(r, "th sport {} ", ports(self.sport));
        }
        if self.dport != (0, 65535) {
            let _ = write!(r, "th dport {} ", ports(self.dport));
        }
        r.push_str(verdict(i));
        r
    }

    fn matches(&self, p: &Pkt) -> bool {
        let inp = |a: u32, (n, l): (u32, u8)| a & mask(l) == n;
        inp(p.src, self.src)
            && inp(p.dst, self.dst)
            && self.proto.is_none_or(|x| x == p.proto)
            && (self.sport.0..=self.sport.1).contains(&p.sport)
            && (self.dport.0..=self.dport.1).contains(&p.dport)
    }
}

fn verdict(i: usize) -> &'static str {
    if i.is_multiple_of(2) { "accept" } else { "drop" }
}

/// The 5-tuple of a generated packet; `sport`/`dport` are `th sport` /
/// `th dport`, the first four bytes after the IP header.
#[derive(Debug, Clone, Copy)]
struct Pkt {
    src: u32,
    dst: u32,
    proto: u8,
    sport: u16,
    dport: u16,
    /// TCP flags, or a seed for the bytes after the first four.
    extra: u8,
}

impl Pkt {
    fn describe(&self) -> String {
        format!(
            "{} -> {} proto {} th sport {} th dport {}",
            Ipv4Addr::from(self.src),
            Ipv4Addr::from(self.dst),
            self.proto,
            self.sport,
            self.dport
        )
    }

    fn frame(&self) -> Vec<u8> {
        let (s, d) = (Ipv4Addr::from(self.src), Ipv4Addr::from(self.dst));
        let payload = [self.extra; 6];
        let ip = match self.proto {
            6 => {
                let flags = [
                    tcp_flags::SYN,
                    tcp_flags::ACK,
                    tcp_flags::SYN | tcp_flags::ACK,
                    tcp_flags::ACK | tcp_flags::PSH,
                    tcp_flags::FIN | tcp_flags::ACK,
                ];
                let flags = flags[usize::from(self.extra) % flags.len()];
                packets::ipv4(s, d, 64, &L4::Tcp { sport: self.sport, dport: self.dport, flags }, &payload)
            }
            17 => packets::ipv4(s, d, 64, &L4::Udp { sport: self.sport, dport: self.dport }, &payload),
            1 => {
                // type, code = th sport; checksum = th dport; then id, seq,
                // and two bytes making the one's complement sum 0xffff.
                let mut b = Vec::with_capacity(16);
                b.extend_from_slice(&self.sport.to_be_bytes());
                b.extend_from_slice(&self.dport.to_be_bytes());
                b.extend_from_slice(&[0, self.extra, 0, 1, 0, 0]);
                b.extend_from_slice(&payload);
                let fill = !ctc_wire::checksum::sum(&b);
                b[8..10].copy_from_slice(&fill.to_be_bytes());
                debug_assert_eq!(ctc_wire::checksum::sum(&b), 0xffff);
                packets::ipv4(s, d, 64, &L4::Raw { proto: 1, bytes: &b }, &[])
            }
            proto => {
                let mut b = Vec::with_capacity(16);
                b.extend_from_slice(&self.sport.to_be_bytes());
                b.extend_from_slice(&self.dport.to_be_bytes());
                b.extend_from_slice(&[self.extra; 12]);
                packets::ipv4(s, d, 64, &L4::Raw { proto, bytes: &b }, &[])
            }
        };
        packets::ethernet(None, None, &ip)
    }
}

/// Addresses no packet may carry: martians (0/8, 127/8, multicast, class E,
/// limited broadcast) and the router's two /30 subnets (its own addresses,
/// their broadcasts).
fn usable(a: u32) -> bool {
    let top = a >> 24;
    let in30 = |net: u32| a & mask(30) == net;
    top != 0 && top != 127 && top < 224 && !in30(0xc000_0200) && !in30(0xc633_6400)
}

/// A usable address inside `prefix`, if a few tries find one.
fn addr_in(rng: &mut XorShift, (net, len): (u32, u8)) -> Option<u32> {
    (0..32).map(|_| net | (rng.next_u32() & !mask(len))).find(|&a| usable(a))
}

/// Protocols for filters that match any: port-carrying ones mostly, and
/// some whose first bytes are not ports (ICMP, GRE, ESP, IGMP).
const ANY_PROTOS: [u8; 8] = [6, 6, 17, 17, 1, 47, 50, 2];

fn in_filter(rng: &mut XorShift, f: &Filter) -> Option<Pkt> {
    Some(Pkt {
        src: addr_in(rng, f.src)?,
        dst: addr_in(rng, f.dst)?,
        proto: f.proto.unwrap_or_else(|| *rng.pick(&ANY_PROTOS)),
        sport: rng.range_u16(f.sport.0, f.sport.1),
        dport: rng.range_u16(f.dport.0, f.dport.1),
        extra: rng.next_u32() as u8,
    })
}

/// A packet with one field of `f` moved just outside its range (or the
/// unchanged packet when that field is a wildcard).
fn near_miss(rng: &mut XorShift, f: &Filter) -> Option<Pkt> {
    let mut p = in_filter(rng, f)?;
    match rng.below(5) {
        0 if f.src.1 > 0 => p.src ^= 1 << (32 - u32::from(f.src.1)),
        1 if f.dst.1 > 0 => p.dst ^= 1 << (32 - u32::from(f.dst.1)),
        2 if f.proto.is_some() => p.proto = *rng.pick(&[6u8, 17, 1, 47, 50, 2, 4, 51]),
        3 if f.sport.1 < 65535 => p.sport = f.sport.1 + 1,
        3 if f.sport.0 > 0 => p.sport = f.sport.0 - 1,
        _ if f.dport.1 < 65535 => p.dport = f.dport.1 + 1,
        _ if f.dport.0 > 0 => p.dport = f.dport.0 - 1,
        _ => {}
    }
    (usable(p.src) && usable(p.dst)).then_some(p)
}

fn random_packet(rng: &mut XorShift) -> Option<Pkt> {
    Some(Pkt {
        src: addr_in(rng, (0, 0))?,
        dst: addr_in(rng, (0, 0))?,
        proto: *rng.pick(&[6u8, 17, 1, 47, 50, 2, 4, 51, 132]),
        sport: rng.next_u32() as u16,
        dport: rng.next_u32() as u16,
        extra: rng.next_u32() as u8,
    })
}

/// ClassBench addresses are synthetic and spread over the whole space:
/// 40-60% of the filters of some files have a prefix inside 224/3
/// (multicast, class E), 0/8 or 127/8, which the kernel never forwards. The
/// address space is therefore relabelled by `a ^ key` with `key` a first
/// octet (`k << 24`), chosen as the one that leaves the fewest such filters.
/// XOR with a constant maps every prefix to a prefix of the same length, so
/// containment, overlaps and thus first-match order are exactly those of
/// the file.
fn relabel_key(filters: &[Filter]) -> u32 {
    (0u32..256)
        .map(|k| k << 24)
        .min_by_key(|&key| filters.iter().filter(|f| f.relabel(key).unforwardable()).count())
        .unwrap_or(0)
}

/// How much of a file to exercise.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Filters that get an in-range packet (every k-th; all when ≥ n).
    sampled: usize,
    near_misses: usize,
    random: usize,
}

/// FNV-1a of the file name: a per-file seed.
fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

struct Outcome {
    rules: usize,
    packets: usize,
    policy: usize,
    distinct_rules: usize,
}

fn run_file(name: &str, plan: Plan, with_binary: bool) -> Option<Outcome> {
    let Some(shared) = ctc_tests::shared_dir() else {
        eprintln!("skipped: ../shared is absent (no ClassBench corpus)");
        return None;
    };
    let path = shared.join("corpus/classbench").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut filters: Vec<Filter> = text.lines().filter(|l| !l.trim().is_empty()).map(Filter::parse).collect();
    while filters.last().is_some_and(Filter::is_default) {
        filters.pop();
    }
    let n = filters.len();
    assert!(n > 100, "{name}: only {n} filters");
    let key = relabel_key(&filters);
    let filters: Vec<Filter> = filters.into_iter().map(|f| f.relabel(key)).collect();
    let unforwardable = filters.iter().filter(|f| f.unforwardable()).count();

    let mut ruleset = String::from(
        "table ip cb {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n",
    );
    for (i, f) in filters.iter().enumerate() {
        let _ = writeln!(ruleset, "\t\t{}", f.rule(i));
    }
    ruleset.push_str("\t}\n}\n");

    // Packets.
    let seed = seed_of(name);
    let mut pkts = Vec::new();
    let step = n.div_ceil(plan.sampled.max(1)).max(1);
    for i in (0..n).step_by(step) {
        let mut rng = XorShift::new(seed ^ (i as u64).wrapping_mul(0x9e37_79b9));
        if let Some(p) = in_filter(&mut rng, &filters[i]) {
            pkts.push(p);
        }
    }
    let from_filters = pkts.len();
    let mut rng = XorShift::new(seed ^ 0x6e65_6172);
    for _ in 0..plan.near_misses {
        let f = &filters[rng.below(n as u64) as usize];
        if let Some(p) = near_miss(&mut rng, f) {
            pkts.push(p);
        }
    }
    for _ in 0..plan.random {
        if let Some(p) = random_packet(&mut rng) {
            pkts.push(p);
        }
    }
    let sampled = n.div_ceil(step);
    println!(
        "{name}: first octets relabelled by xor {}; {unforwardable} of {n} filters stay wholly in martian space; {from_filters} of {sampled} sampled filters gave a packet",
        key >> 24
    );
    assert!(from_filters * 10 >= sampled * 8, "{name}: only {from_filters} of {sampled} sampled filters gave a packet");

    // Reference: linear scan, first match wins.
    let reference: Vec<Option<usize>> = pkts.iter().map(|p| filters.iter().position(|f| f.matches(p))).collect();

    // Replay: capture written, then read back as `ctc replay` does.
    let tmp = TempDir::new(&format!("classbench-{name}"));
    let rs_name = format!("{name}.nft");
    std::fs::write(tmp.path().join(&rs_name), &ruleset).unwrap();
    let frames: Vec<Vec<u8>> = pkts.iter().map(Pkt::frame).collect();
    let pcap = tmp.path().join("in0.pcap");
    packets::write_pcap(&pcap, 1_000_000_000, &frames);
    let opts = ReplayOptions {
        inputs: vec![("in0".into(), pcap.clone())],
        ifaces: IFACES.iter().map(|s| s.to_string()).collect(),
        routes: ROUTES.iter().map(|s| s.to_string()).collect(),
        outs: vec![],
        until_ns: None,
        expect_events: None,
    };
    let (mut replay, read) = Replay::from_options(&rs_name, &ruleset, opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(read.len(), pkts.len(), "{name}: frames read back");
    let (summary, verdict_text) = replay.run_raw(&read).unwrap_or_else(|e| panic!("{name}: {e}"));
    let lines = VerdictLine::parse_all(&verdict_text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(lines.len(), pkts.len(), "{name}: one verdict line per packet");
    assert_eq!(
        summary.forwarded + summary.dropped,
        pkts.len() as u64,
        "{name}: every packet forwarded or dropped by a rule: {summary:?}"
    );

    let mut bad = Vec::new();
    for (k, ((p, want), got)) in pkts.iter().zip(&reference).zip(&lines).enumerate() {
        let (want_by, want_v) = match want {
            Some(i) => (format!("{rs_name}:{}", HEADER_LINES + 1 + i), verdict(*i)),
            None => ("policy".to_string(), "accept"),
        };
        // The routing decision comes before the forward hook: dropped
        // packets name their output interface too.
        let want_oif = "out0";
        if got.decided_by != want_by || got.verdict != want_v || got.oif != want_oif || got.index != k as u64 {
            let rule = want.map_or_else(|| "(policy)".to_string(), |i| filters[i].rule(i));
            bad.push(format!(
                "packet {k}: {}\n    linear scan: {want_v} by {want_by} `{rule}`\n    ctc replay:  {} by {} (oif {})",
                p.describe(),
                got.verdict,
                got.decided_by,
                got.oif
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{name}: {} of {} packets decided differently from the linear scan:\n{}",
        bad.len(),
        pkts.len(),
        bad.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );

    if with_binary {
        let out = Command::new(ctc_binary())
            .current_dir(tmp.path())
            .args(["replay", "--ruleset", &rs_name, "--in", "in0=in0.pcap"])
            .args(IFACES.iter().flat_map(|i| ["--iface", i]))
            .args(ROUTES.iter().flat_map(|r| ["--route", r]))
            .args(["--verdicts", "verdicts.tsv"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: ctc replay: {}", String::from_utf8_lossy(&out.stderr));
        let from_binary = std::fs::read_to_string(tmp.path().join("verdicts.tsv")).unwrap();
        assert!(from_binary == verdict_text, "{name}: the binary's verdict lines differ from the in-process ones");
    }

    let policy = reference.iter().filter(|r| r.is_none()).count();
    let mut hit: Vec<usize> = reference.iter().flatten().copied().collect();
    hit.sort_unstable();
    hit.dedup();
    Some(Outcome { rules: n, packets: pkts.len(), policy, distinct_rules: hit.len() })
}

fn check(name: &str, plan: Plan, with_binary: bool) {
    let t = std::time::Instant::now();
    let Some(o) = run_file(name, plan, with_binary) else { return };
    println!(
        "{name}: {} rules, {} packets, all decided as the linear scan decides: {} distinct rules first-matched, {} to the policy ({:.1} s)",
        o.rules,
        o.packets,
        o.distinct_rules,
        o.policy,
        t.elapsed().as_secs_f64()
    );
    // The packets must exercise both outcomes and many depths, or the
    // comparison proves little.
    assert!(o.policy >= 10, "{name}: only {} packets reached the policy", o.policy);
    assert!(
        o.distinct_rules * 4 >= plan.sampled.min(o.rules),
        "{name}: only {} distinct rules matched",
        o.distinct_rules
    );
}

const FULL_1K: Plan = Plan { sampled: usize::MAX, near_misses: 400, random: 200 };
const SAMPLE_10K: Plan = Plan { sampled: 5000, near_misses: 400, random: 300 };

#[test]
fn fw1_1k() {
    check("fw1_1k", FULL_1K, true);
}

#[test]
fn acl1_1k() {
    check("acl1_1k", FULL_1K, false);
}

#[test]
fn fw1_10k() {
    check("fw1_10k", SAMPLE_10K, false);
}

#[test]
fn acl1_10k() {
    check("acl1_10k", SAMPLE_10K, false);
}

#[test]
fn fw2_10k() {
    check("fw2_10k", SAMPLE_10K, false);
}

#[test]
fn ipc1_10k() {
    check("ipc1_10k", SAMPLE_10K, false);
}

#[test]
fn every_corpus_file_has_a_test() {
    let Some(shared) = ctc_tests::shared_dir() else {
        eprintln!("skipped: ../shared is absent (no ClassBench corpus)");
        return;
    };
    let names: Vec<String> = ctc_tests::files_in(&shared.join("corpus/classbench"))
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let covered = ["acl1_10k", "acl1_1k", "fw1_10k", "fw1_1k", "fw2_10k", "ipc1_10k"];
    for n in &names {
        assert!(covered.contains(&n.as_str()), "{n} has no test in classbench_replay.rs");
    }
    assert!(Path::new(&shared).is_dir());
}
