//! The anomaly lints against a brute-force oracle.
//!
//! Random chains of small rules over a small field space (four addresses
//! and the rest of the world, three transport protocols, six port
//! representatives, the five ct states (also with flag lists under `==`,
//! `!=` and `!`), three marks plus one, four
//! interface names) are written as nft text, checked, and analysed by
//! `lint::anomaly`. The oracle enumerates every packet of the space (each
//! field takes one value per equivalence class of the values the rules
//! use, so relations over these packets are relations over all packets),
//! computes each rule's match set, and applies the definitions of
//! `anomaly.rs` (first covering rule, correlation, forward redundancy) to
//! the sets. The findings must be the same: nothing reported that is not
//! real, nothing real missed. On top, the semantics: a shadowed or
//! redundant-backward rule never decides a packet, and removing a
//! forward-redundant rule changes no packet's decision.

use ctc_grammar::{Diagnostic, FileId, SourceMap, Span};
use ctc_sema::lint::anomaly::{Finding, analyze_program};
use ctc_sema::{Loader, Options};

struct NoIncludes;
impl Loader for NoIncludes {
    fn include(&mut self, _: FileId, _: &str, span: Span) -> Result<Vec<(FileId, String)>, Diagnostic> {
        Err(Diagnostic::error("E5001", "no includes").with_label(span, "here"))
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// Field representatives.
const ADDRS: [&str; 5] = ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "192.0.2.1"];
const PROTOS: [&str; 3] = ["tcp", "udp", "icmp"];
const PORTS: [u16; 6] = [10, 22, 50, 80, 100, 443];
const STATES: [&str; 5] = ["invalid", "established", "related", "new", "untracked"];
const MARKS: [u32; 4] = [0, 1, 2, 7];
const IFACES: [&str; 4] = ["eth0", "eth1", "wlan0", "lo"];

const FIELDS: usize = 6;
const SIZES: [usize; FIELDS] = [ADDRS.len(), PROTOS.len(), PORTS.len(), STATES.len(), MARKS.len(), IFACES.len()];
/// Fields every packet has: a constraint to all their values is none.
const ALWAYS: [bool; FIELDS] = [false, true, false, true, true, true];

/// One condition: its text and, per field it constrains, the allowed
/// representatives (bit `k` = representative `k`).
#[derive(Clone)]
struct Atom {
    text: String,
    cons: Vec<(usize, u32)>,
}

fn mask(n: usize, keep: impl Fn(usize) -> bool) -> u32 {
    (0..n).filter(|&k| keep(k)).fold(0, |m, k| m | 1 << k)
}

fn atoms() -> Vec<Atom> {
    let mut v = Vec::new();
    let a = |text: String, cons: Vec<(usize, u32)>| Atom { text, cons };
    // Addresses: host, /31, /30, negation, set.
    for (h, addr) in ADDRS.iter().enumerate().take(4) {
        v.push(a(format!("ip saddr {addr}"), vec![(0, 1 << h)]));
        v.push(a(format!("ip saddr != {addr}"), vec![(0, mask(5, |k| k != h))]));
    }
    v.push(a("ip saddr 10.0.0.0/31".into(), vec![(0, 0b0011)]));
    v.push(a("ip saddr 10.0.0.2/31".into(), vec![(0, 0b1100)]));
    v.push(a("ip saddr 10.0.0.0/30".into(), vec![(0, 0b1111)]));
    v.push(a("ip saddr { 10.0.0.1, 10.0.0.3 }".into(), vec![(0, 0b1010)]));
    // Protocols.
    v.push(a("meta l4proto tcp".into(), vec![(1, 0b001)]));
    v.push(a("meta l4proto udp".into(), vec![(1, 0b010)]));
    v.push(a("meta l4proto != tcp".into(), vec![(1, 0b110)]));
    // Ports: values, ranges, sets, negation; per protocol or any (th).
    let port_sets: Vec<(String, u32)> = vec![
        ("22".into(), mask(6, |k| PORTS[k] == 22)),
        ("80".into(), mask(6, |k| PORTS[k] == 80)),
        ("443".into(), mask(6, |k| PORTS[k] == 443)),
        ("22-80".into(), mask(6, |k| (22..=80).contains(&PORTS[k]))),
        ("80-443".into(), mask(6, |k| (80..=443).contains(&PORTS[k]))),
        ("{ 22, 443 }".into(), mask(6, |k| PORTS[k] == 22 || PORTS[k] == 443)),
        ("!= 80".into(), mask(6, |k| PORTS[k] != 80)),
    ];
    for (text, m) in &port_sets {
        v.push(a(format!("tcp dport {text}"), vec![(1, 0b001), (2, *m)]));
        v.push(a(format!("udp dport {text}"), vec![(1, 0b010), (2, *m)]));
        v.push(a(format!("th dport {text}"), vec![(2, *m)]));
    }
    // ct state: one, a flag list, a set, a negation.
    for (s, state) in STATES.iter().enumerate() {
        v.push(a(format!("ct state {state}"), vec![(3, 1 << s)]));
        v.push(a(format!("ct state != {state}"), vec![(3, mask(5, |k| k != s))]));
    }
    v.push(a("ct state established,related".into(), vec![(3, 0b00110)]));
    v.push(a("ct state invalid,established".into(), vec![(3, 0b00011)]));
    v.push(a("ct state { new, untracked }".into(), vec![(3, 0b11000)]));
    // Flag lists with an operator, as nft lowers them (`nft --debug=netlink`):
    // `!=` and `==` compare the whole value with the OR of the states (a
    // packet has one state: `!=` passes all, `==` none), `!` is "none of
    // these bits".
    v.push(a("ct state != established,related".into(), vec![(3, 0b11111)]));
    v.push(a("ct state == established,related".into(), vec![(3, 0)]));
    v.push(a("ct state ! established,related".into(), vec![(3, 0b11001)]));
    v.push(a("ct state != { established, related }".into(), vec![(3, 0b11001)]));
    // Marks and interfaces.
    v.push(a("meta mark 1".into(), vec![(4, 0b0010)]));
    v.push(a("meta mark 2".into(), vec![(4, 0b0100)]));
    v.push(a("meta mark != 0".into(), vec![(4, 0b1110)]));
    v.push(a("iifname \"eth0\"".into(), vec![(5, 0b0001)]));
    v.push(a("iifname \"eth*\"".into(), vec![(5, 0b0011)]));
    v.push(a("iifname != \"wlan0\"".into(), vec![(5, 0b1011)]));
    v
}

/// What a rule does: the verdict text, whether it decides, whether it has
/// side effects.
const VERDICTS: [(&str, &str, bool, bool); 4] = [
    ("accept", "accept", true, true),
    ("drop", "drop", true, true),
    ("counter accept", "accept", true, false),
    ("counter", "continue", false, false),
];

struct Rule {
    atoms: Vec<Atom>,
    verdict: usize,
}

struct Chain {
    policy_drop: bool,
    rules: Vec<Rule>,
}

/// A packet: one representative index per field.
type Pkt = [usize; FIELDS];

fn packets() -> Vec<Pkt> {
    let mut out = vec![[0; FIELDS]];
    for (f, &n) in SIZES.iter().enumerate() {
        out = out
            .into_iter()
            .flat_map(|p| {
                (0..n).map(move |k| {
                    let mut q = p;
                    q[f] = k;
                    q
                })
            })
            .collect();
    }
    out
}

/// Per field, the allowed representatives of a rule (`None`: not
/// constrained, after the always-present normalization).
fn field_sets(r: &Rule) -> [Option<u32>; FIELDS] {
    let mut s: [Option<u32>; FIELDS] = [None; FIELDS];
    for a in &r.atoms {
        for &(f, m) in &a.cons {
            s[f] = Some(s[f].unwrap_or(u32::MAX) & m);
        }
    }
    for f in 0..FIELDS {
        let full = (1u32 << SIZES[f]) - 1;
        if let Some(m) = s[f] {
            let m = m & full;
            s[f] = if ALWAYS[f] && m == full { None } else { Some(m) };
        }
    }
    s
}

fn matches(s: &[Option<u32>; FIELDS], p: &Pkt) -> bool {
    (0..FIELDS).all(|f| s[f].is_none_or(|m| m >> p[f] & 1 == 1))
}

/// The definitions of anomaly.rs, applied to match sets.
fn oracle(c: &Chain, pkts: &[Pkt]) -> Vec<Finding> {
    let n = c.rules.len();
    let sets: Vec<[Option<u32>; FIELDS]> = c.rules.iter().map(field_sets).collect();
    // Match sets as bit vectors over the packets, the chain's end last.
    let mut m: Vec<Vec<bool>> = sets.iter().map(|s| pkts.iter().map(|p| matches(s, p)).collect()).collect();
    m.push(vec![true; pkts.len()]);
    let end = if c.policy_drop { "drop" } else { "accept" };
    let action = |i: usize| if i < n { VERDICTS[c.rules[i].verdict].1 } else { end };
    let decides = |i: usize| i >= n || VERDICTS[c.rules[i].verdict].2;
    let pure = |i: usize| i >= n || VERDICTS[c.rules[i].verdict].3;
    let empty = |i: usize| !m[i].iter().any(|x| *x);
    let subset = |a: usize, b: usize| m[a].iter().zip(&m[b]).all(|(x, y)| !x || *y);
    let meet = |a: usize, b: usize| m[a].iter().zip(&m[b]).any(|(x, y)| *x && *y);
    let everything = |i: usize| m[i].iter().all(|x| *x);

    let mut found = Vec::new();
    let mut reported = vec![false; n];
    let mut unconditional = None;
    for j in 0..n {
        if let Some(u) = unconditional {
            found.push(Finding::Unreachable { rule: j, after: u, count: n - j });
            reported[j..].iter_mut().for_each(|r| *r = true);
            break;
        }
        if empty(j) {
            reported[j] = true;
            found.push(Finding::Contradictory { rule: j, at: Span::default(), earlier: None });
            continue;
        }
        if decides(j) && everything(j) {
            unconditional = Some(j);
        }
    }
    let limit = unconditional.map_or(n, |u| u + 1);
    for j in 0..limit {
        if reported[j] {
            continue;
        }
        let mut cover = None;
        let mut corr = None;
        let mut others = 0;
        for i in 0..j {
            if !decides(i) || empty(i) || !meet(i, j) {
                continue;
            }
            if subset(j, i) {
                cover = Some(i);
                break;
            }
            let crossed = (0..FIELDS).any(|f| matches!((sets[i][f], sets[j][f]), (Some(a), Some(b)) if a != b));
            if decides(j) && action(i) != action(j) && !subset(i, j) && crossed {
                if corr.is_none() {
                    corr = Some(i);
                } else {
                    others += 1;
                }
            }
        }
        if let Some(i) = cover {
            reported[j] = true;
            found.push(if action(i) == action(j) {
                Finding::Redundant { rule: j, by: i }
            } else {
                Finding::Shadowed { rule: j, by: i }
            });
        } else if let Some(i) = corr {
            reported[j] = true;
            found.push(Finding::Correlated { rule: j, with: i, others });
        }
    }
    for i in 0..limit {
        if reported[i] || !pure(i) || !decides(i) {
            continue;
        }
        let stop = if unconditional.is_some_and(|u| u > i) { limit } else { n + 1 };
        for k in i + 1..stop {
            if empty(k) || !meet(k, i) {
                continue;
            }
            if k < n && reported[k] && pure(k) && action(k) == action(i) {
                continue;
            }
            if action(k) == action(i) && decides(k) && pure(k) {
                if subset(i, k) {
                    found.push(Finding::Redundant { rule: i, by: k });
                    reported[i] = true;
                    break;
                }
                continue;
            }
            if pure(k) && (action(k) == action(i) || action(k) == "continue") {
                continue;
            }
            break;
        }
    }
    found.sort_by_key(Finding::rule);
    found
}

/// The decision of the chain for a packet, skipping rule `skip`; and the
/// rule that decided (`n` for the policy).
fn decide(c: &Chain, sets: &[[Option<u32>; FIELDS]], p: &Pkt, skip: Option<usize>) -> (&'static str, usize) {
    for (i, r) in c.rules.iter().enumerate() {
        if Some(i) == skip || !VERDICTS[r.verdict].2 {
            continue;
        }
        if matches(&sets[i], p) {
            return (VERDICTS[r.verdict].1, i);
        }
    }
    (if c.policy_drop { "drop" } else { "accept" }, c.rules.len())
}

fn text(c: &Chain) -> String {
    let mut t = format!(
        "table ip t {{\n\tchain c {{\n\t\ttype filter hook input priority 0; policy {};\n",
        if c.policy_drop { "drop" } else { "accept" }
    );
    for r in &c.rules {
        let conds: Vec<&str> = r.atoms.iter().map(|a| a.text.as_str()).collect();
        t.push_str(&format!("\t\t{} {}\n", conds.join(" "), VERDICTS[r.verdict].0));
    }
    t.push_str("\t}\n}\n");
    t
}

fn lint(text: &str) -> Option<Vec<Finding>> {
    let mut sources = SourceMap::new();
    let file = sources.add("oracle.nft", text);
    let script = ctc_grammar::parse_script(file, text).ok()?;
    let a = ctc_sema::analyze(&script, file, &mut NoIncludes, &Options::default());
    if a.has_errors() {
        return None;
    }
    let reports = analyze_program(&a.program, &sources);
    Some(reports.into_iter().flat_map(|r| r.findings).collect())
}

/// Contradictory findings compare by rule only (the spans are the model's).
fn normalize(v: Vec<Finding>) -> Vec<Finding> {
    v.into_iter()
        .map(|f| match f {
            Finding::Contradictory { rule, .. } => Finding::Contradictory { rule, at: Span::default(), earlier: None },
            f => f,
        })
        .collect()
}

#[test]
fn anomalies_match_the_brute_force_oracle() {
    let atoms = atoms();
    let pkts = packets();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut checked, mut skipped) = (0, 0);
    let mut kinds = [0usize; 5];
    for case in 0..600 {
        let rules = (0..2 + rng.below(6))
            .map(|_| Rule {
                atoms: (0..rng.below(4)).map(|_| atoms[rng.below(atoms.len())].clone()).collect(),
                verdict: rng.below(VERDICTS.len()),
            })
            .collect();
        let chain = Chain { policy_drop: rng.below(2) == 0, rules };
        let t = text(&chain);
        // Some combinations are errors for nft too (`tcp dport 22 udp dport 80`).
        let Some(got) = lint(&t) else {
            skipped += 1;
            continue;
        };
        checked += 1;
        let want = oracle(&chain, &pkts);
        assert_eq!(normalize(got), want, "case {case}:\n{t}");
        // The definitions mean what the lints say.
        let sets: Vec<_> = chain.rules.iter().map(field_sets).collect();
        for f in &want {
            match *f {
                Finding::Shadowed { rule, .. } | Finding::Redundant { rule, by: _ } if f_is_backward(f) => {
                    assert!(
                        pkts.iter().all(|p| decide(&chain, &sets, p, None).1 != rule),
                        "case {case}: {f:?} decides\n{t}"
                    );
                    kinds[if matches!(f, Finding::Shadowed { .. }) { 0 } else { 1 }] += 1;
                }
                Finding::Redundant { rule, .. } => {
                    for p in &pkts {
                        assert_eq!(
                            decide(&chain, &sets, p, None).0,
                            decide(&chain, &sets, p, Some(rule)).0,
                            "case {case}: removing {f:?} changes {p:?}\n{t}"
                        );
                    }
                    kinds[2] += 1;
                }
                Finding::Correlated { .. } => kinds[3] += 1,
                _ => kinds[4] += 1,
            }
        }
    }
    println!(
        "oracle: {checked} chains compared ({skipped} rejected by the checker); shadowed {}, redundant {} + {} forward, correlated {}, other {}",
        kinds[0], kinds[1], kinds[2], kinds[3], kinds[4]
    );
    assert!(checked >= 400, "too many generated chains were rejected: {skipped}");
    assert!(kinds.iter().all(|&k| k > 0), "every kind of finding occurs: {kinds:?}");
}

fn f_is_backward(f: &Finding) -> bool {
    match *f {
        Finding::Shadowed { .. } => true,
        Finding::Redundant { rule, by } => by < rule,
        _ => false,
    }
}
