//! Benchmark support: generators of large rulesets and traces.
//!
//! [`classbench`] turns ClassBench filter sets (Taylor & Turner's 5-tuple
//! classification benchmark, `../shared/corpus/classbench`) into an nft
//! ruleset: one rule per filter, in order (first match wins in both).

use std::path::PathBuf;

/// `../shared/corpus/classbench` beside the repository, if present.
pub fn classbench_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/classbench");
    dir.is_dir().then_some(dir)
}

pub mod classbench {
    //! ClassBench filter lines to nft rules.
    //!
    //! A filter line is
    //! `@SRC/LEN<TAB>DST/LEN<TAB>SPORT_LO : SPORT_HI<TAB>DPORT_LO : DPORT_HI<TAB>PROTO/MASK<TAB>FLAGS/MASK`.
    //! Each becomes `ip saddr X ip daddr Y meta l4proto P th sport A-B
    //! th dport C-D VERDICT`, leaving out every field that matches anything
    //! (a /0 prefix, the full port range 0:65535, protocol mask 0x00). The
    //! TCP flags field is not translated: the seeds used here (fw, acl, ipc)
    //! use it for a handful of rules only and it is not part of the 5-tuple.
    //! ClassBench rules carry no action; verdicts alternate deterministically,
    //! accept for even rule indices and drop for odd ones.

    use std::fmt;
    use std::net::Ipv4Addr;

    /// An IPv4 prefix with the host bits cleared.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Prefix {
        pub addr: Ipv4Addr,
        pub len: u8,
    }

    impl Prefix {
        fn parse(s: &str) -> Result<Prefix, String> {
            let (a, l) = s.split_once('/').ok_or_else(|| format!("`{s}`: expected ADDR/LEN"))?;
            let addr: Ipv4Addr = a.parse().map_err(|_| format!("`{a}`: not an IPv4 address"))?;
            let len: u8 = l.parse().map_err(|_| format!("`{l}`: not a prefix length"))?;
            if len > 32 {
                return Err(format!("`{s}`: prefix length above 32"));
            }
            // nft lists a prefix with its host bits cleared; do it here so
            // the ruleset reads as nft would print it.
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            Ok(Prefix { addr: Ipv4Addr::from(u32::from(addr) & mask), len })
        }
        /// Whether it matches every address (no match needed).
        pub fn is_any(self) -> bool {
            self.len == 0
        }
    }

    impl fmt::Display for Prefix {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if self.len == 32 { write!(f, "{}", self.addr) } else { write!(f, "{}/{}", self.addr, self.len) }
        }
    }

    /// An inclusive port range.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Ports {
        pub lo: u16,
        pub hi: u16,
    }

    impl Ports {
        fn parse(s: &str) -> Result<Ports, String> {
            let (lo, hi) = s.split_once(':').ok_or_else(|| format!("`{s}`: expected LO : HI"))?;
            let p = |x: &str| x.trim().parse::<u16>().map_err(|_| format!("`{}`: not a port", x.trim()));
            let (lo, hi) = (p(lo)?, p(hi)?);
            if lo > hi {
                return Err(format!("`{s}`: empty port range"));
            }
            Ok(Ports { lo, hi })
        }
        pub fn is_any(self) -> bool {
            self.lo == 0 && self.hi == u16::MAX
        }
    }

    impl fmt::Display for Ports {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if self.lo == self.hi { write!(f, "{}", self.lo) } else { write!(f, "{}-{}", self.lo, self.hi) }
        }
    }

    /// One ClassBench filter.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Filter {
        pub src: Prefix,
        pub dst: Prefix,
        pub sport: Ports,
        pub dport: Ports,
        /// `None` when the protocol mask is 0x00 (any protocol).
        pub proto: Option<u8>,
    }

    fn hex_u8(s: &str) -> Result<u8, String> {
        let h = s.trim().trim_start_matches("0x").trim_start_matches("0X");
        u8::from_str_radix(h, 16).map_err(|_| format!("`{s}`: not a hex byte"))
    }

    impl Filter {
        /// Parse one filter line; `Ok(None)` for a blank line.
        pub fn parse(line: &str) -> Result<Option<Filter>, String> {
            let line = line.trim();
            if line.is_empty() {
                return Ok(None);
            }
            let line = line.strip_prefix('@').ok_or("a filter line starts with `@`")?;
            let fields: Vec<&str> = line.split('\t').map(str::trim).filter(|f| !f.is_empty()).collect();
            if fields.len() < 5 {
                return Err(format!("expected at least 5 tab-separated fields, found {}", fields.len()));
            }
            let (pv, pm) = fields[4].split_once('/').ok_or_else(|| format!("`{}`: expected PROTO/MASK", fields[4]))?;
            let (pv, pm) = (hex_u8(pv)?, hex_u8(pm)?);
            let proto = match pm {
                0x00 => None,
                0xff => Some(pv),
                m => return Err(format!("protocol mask 0x{m:02x}: only 0x00 and 0xff are meaningful")),
            };
            Ok(Some(Filter {
                src: Prefix::parse(fields[0])?,
                dst: Prefix::parse(fields[1])?,
                sport: Ports::parse(fields[2])?,
                dport: Ports::parse(fields[3])?,
                proto,
            }))
        }

        /// The nft rule text (without a trailing newline).
        pub fn to_rule(&self, verdict: &str) -> String {
            let mut r = String::new();
            let mut add = |s: String| {
                r.push_str(&s);
                r.push(' ');
            };
            if !self.src.is_any() {
                add(format!("ip saddr {}", self.src));
            }
            if !self.dst.is_any() {
                add(format!("ip daddr {}", self.dst));
            }
            if let Some(p) = self.proto {
                add(format!("meta l4proto {}", proto_name(p)));
            }
            if !self.sport.is_any() {
                add(format!("th sport {}", self.sport));
            }
            if !self.dport.is_any() {
                add(format!("th dport {}", self.dport));
            }
            r.push_str(verdict);
            r
        }
    }

    /// Protocol names nft prints for the common numbers.
    fn proto_name(p: u8) -> String {
        match p {
            1 => "icmp".into(),
            6 => "tcp".into(),
            17 => "udp".into(),
            47 => "gre".into(),
            50 => "esp".into(),
            51 => "ah".into(),
            n => n.to_string(),
        }
    }

    /// The verdict of rule `i`: accept, drop, accept, ...
    pub fn verdict(i: usize) -> &'static str {
        if i.is_multiple_of(2) { "accept" } else { "drop" }
    }

    /// A whole ruleset from a filter file: at most `limit` rules in one
    /// forward chain of `table ip filter`. Returns the text and the number
    /// of rules.
    pub fn ruleset(input: &str, limit: Option<usize>) -> Result<(String, usize), String> {
        let mut out = String::from(
            "table ip filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n",
        );
        let mut n = 0;
        for (lineno, line) in input.lines().enumerate() {
            if limit.is_some_and(|l| n >= l) {
                break;
            }
            let Some(f) = Filter::parse(line).map_err(|e| format!("line {}: {e}", lineno + 1))? else { continue };
            out.push_str("\t\t");
            out.push_str(&f.to_rule(verdict(n)));
            out.push('\n');
            n += 1;
        }
        out.push_str("\t}\n}\n");
        Ok((out, n))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn full_filter() {
            let f = Filter::parse("@209.32.125.224/28\t223.78.253.88/29\t88 : 88\t80 : 80\t0x11/0xFF\t0x0000/0x0000\t")
                .unwrap()
                .unwrap();
            assert_eq!(
                f.to_rule("accept"),
                "ip saddr 209.32.125.224/28 ip daddr 223.78.253.88/29 meta l4proto udp th sport 88 th dport 80 accept"
            );
        }

        #[test]
        fn wildcards_are_left_out() {
            let f = Filter::parse("@0.0.0.0/0\t10.1.2.3/32\t0 : 65535\t1024 : 65535\t0x00/0x00\t0x0000/0x0000")
                .unwrap()
                .unwrap();
            assert_eq!(f.to_rule("drop"), "ip daddr 10.1.2.3 th dport 1024-65535 drop");
            let f = Filter::parse("@0.0.0.0/0\t0.0.0.0/0\t0 : 65535\t0 : 65535\t0x00/0x00\t0x0000/0x0000")
                .unwrap()
                .unwrap();
            assert_eq!(f.to_rule("accept"), "accept");
        }

        #[test]
        fn host_bits_are_cleared_and_protocols_named() {
            let f = Filter::parse("@10.1.2.3/8\t10.1.2.3/31\t0 : 65535\t0 : 65535\t0x2f/0xFF\t0x0000/0x0000")
                .unwrap()
                .unwrap();
            assert_eq!(f.to_rule("accept"), "ip saddr 10.0.0.0/8 ip daddr 10.1.2.2/31 meta l4proto gre accept");
            let f = Filter::parse("@1.1.1.1/32\t2.2.2.2/32\t0 : 65535\t0 : 65535\t0x84/0xFF\t0x0000/0x0000")
                .unwrap()
                .unwrap();
            assert_eq!(f.to_rule("accept"), "ip saddr 1.1.1.1 ip daddr 2.2.2.2 meta l4proto 132 accept");
        }

        #[test]
        fn bad_lines_are_errors() {
            assert!(Filter::parse("1.2.3.4/32\t1.2.3.4/32\t0 : 1\t0 : 1\t0x06/0xFF").is_err());
            assert!(Filter::parse("@1.2.3.4/33\t1.2.3.4/32\t0 : 1\t0 : 1\t0x06/0xFF").is_err());
            assert!(Filter::parse("@1.2.3.4/32\t1.2.3.4/32\t5 : 1\t0 : 1\t0x06/0xFF").is_err());
            assert!(Filter::parse("@1.2.3.4/32\t1.2.3.4/32\t0 : 70000\t0 : 1\t0x06/0xFF").is_err());
            assert!(Filter::parse("@1.2.3.4/32\t1.2.3.4/32\t0 : 1\t0 : 1\t0x06/0x0F").is_err());
            assert_eq!(Filter::parse("   ").unwrap(), None);
        }

        #[test]
        fn ruleset_alternates_verdicts_and_limits() {
            let input = "@1.0.0.0/8\t0.0.0.0/0\t0 : 65535\t22 : 22\t0x06/0xFF\t0x0000/0x0000\n\n\
                         @2.0.0.0/8\t0.0.0.0/0\t0 : 65535\t53 : 53\t0x11/0xFF\t0x0000/0x0000\n\
                         @3.0.0.0/8\t0.0.0.0/0\t0 : 65535\t0 : 65535\t0x00/0x00\t0x0000/0x0000\n";
            let (text, n) = ruleset(input, None).unwrap();
            assert_eq!(n, 3);
            assert_eq!(
                text,
                "table ip filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\
                 \t\tip saddr 1.0.0.0/8 meta l4proto tcp th dport 22 accept\n\
                 \t\tip saddr 2.0.0.0/8 meta l4proto udp th dport 53 drop\n\
                 \t\tip saddr 3.0.0.0/8 accept\n\t}\n}\n"
            );
            assert_eq!(ruleset(input, Some(2)).unwrap().1, 2);
            assert!(ruleset("@x", None).unwrap_err().starts_with("line 1:"));
        }
    }
}
