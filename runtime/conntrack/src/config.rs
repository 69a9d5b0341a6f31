//! The tracker's sysctls (net.netfilter.nf_conntrack_*), with the kernel's
//! defaults on these machines.

use crate::tcp::TcpConfig;

/// Conntrack settings. Timeouts are in seconds, as the sysctls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The TCP tracker's sysctls (`tcp_*`).
    pub tcp: TcpConfig,
    /// nf_conntrack_acct: per-direction packet/byte counters.
    pub acct: bool,
    /// nf_conntrack_timestamp: start/stop times (`delta-time=`).
    pub timestamp: bool,
    /// nf_conntrack_checksum: verify transport checksums at prerouting.
    pub checksum: bool,
    /// nf_conntrack_events: deliver events (0 off; 1 and 2 on).
    pub events: bool,
    /// nf_conntrack_max: entries (confirmed and unconfirmed) before early
    /// drop; 0 = no limit.
    pub max: usize,
    /// nf_conntrack_buckets: hash table size. Early drop scans 8 buckets
    /// from the new tuple's, so the ratio max/buckets decides how often a
    /// full table finds something to evict, as in the kernel.
    pub buckets: usize,
    /// nf_conntrack_expect_max.
    pub expect_max: usize,
    /// The FTP helper's `loose` module parameter (nf_conntrack_ftp.loose):
    /// expect connections to an address other than the control
    /// connection's (FTP bounce protection off). `--sysctl ftp_loose=1`.
    pub ftp_loose: bool,
    /// nf_conntrack_udp_timeout (unreplied, or replied within 2 s).
    pub udp_timeout: u64,
    /// nf_conntrack_udp_timeout_stream (replied and seen again after 2 s).
    pub udp_timeout_stream: u64,
    /// nf_conntrack_icmp_timeout.
    pub icmp_timeout: u64,
    /// nf_conntrack_icmpv6_timeout.
    pub icmpv6_timeout: u64,
    /// nf_conntrack_generic_timeout.
    pub generic_timeout: u64,
}

impl Default for Config {
    /// The kernel's defaults (6.18 on these machines: `sysctl
    /// net.netfilter` shows max = buckets = 262144, expect_max 4096).
    fn default() -> Self {
        Config {
            tcp: TcpConfig::default(),
            acct: false,
            timestamp: false,
            checksum: true,
            events: true,
            max: 262_144,
            buckets: 262_144,
            expect_max: 4096,
            ftp_loose: false,
            udp_timeout: 30,
            udp_timeout_stream: 120,
            icmp_timeout: 30,
            icmpv6_timeout: 30,
            generic_timeout: 600,
        }
    }
}

/// Every name [`Config::set_sysctl`] accepts.
pub const SYSCTL_NAMES: &[&str] = &[
    "acct",
    "ftp_loose",
    "timestamp",
    "checksum",
    "events",
    "max",
    "buckets",
    "expect_max",
    "tcp_loose",
    "tcp_be_liberal",
    "tcp_max_retrans",
    "tcp_ignore_invalid_rst",
    "tcp_timeout_syn_sent",
    "tcp_timeout_syn_recv",
    "tcp_timeout_established",
    "tcp_timeout_fin_wait",
    "tcp_timeout_close_wait",
    "tcp_timeout_last_ack",
    "tcp_timeout_time_wait",
    "tcp_timeout_close",
    "tcp_timeout_max_retrans",
    "tcp_timeout_unacknowledged",
    "udp_timeout",
    "udp_timeout_stream",
    "icmp_timeout",
    "icmpv6_timeout",
    "generic_timeout",
];

impl Config {
    /// Sets one sysctl by its name without the `net.netfilter.nf_conntrack_`
    /// prefix (the prefix is accepted too). Values are decimal integers;
    /// booleans are 0/1 (any non-zero is on, as proc_dointvec).
    pub fn set_sysctl(&mut self, name: &str, value: &str) -> Result<(), String> {
        let short = name.strip_prefix("net.netfilter.").unwrap_or(name);
        let short = short.strip_prefix("nf_conntrack_").unwrap_or(short);
        if !SYSCTL_NAMES.contains(&short) {
            return Err(format!("unknown conntrack sysctl '{name}'; known: {}", SYSCTL_NAMES.join(", ")));
        }
        let v: u64 =
            value.trim().parse().map_err(|_| format!("sysctl {short}: '{value}' is not a non-negative integer"))?;
        let b = v != 0;
        let t = &mut self.tcp;
        match short {
            "acct" => self.acct = b,
            "timestamp" => self.timestamp = b,
            "checksum" => self.checksum = b,
            "events" => self.events = b,
            "max" => self.max = usize::try_from(v).map_err(|_| format!("sysctl max: {v} is too large"))?,
            "buckets" => {
                if v == 0 || v > 1 << 26 {
                    return Err(format!("sysctl buckets: {v} is out of range 1..={}", 1u64 << 26));
                }
                self.buckets = v as usize;
            }
            "ftp_loose" => self.ftp_loose = b,
            "expect_max" => self.expect_max = usize::try_from(v).map_err(|_| format!("sysctl expect_max: {v}"))?,
            "tcp_loose" => t.loose = b,
            "tcp_be_liberal" => t.be_liberal = b,
            "tcp_max_retrans" => {
                t.max_retrans = u32::try_from(v).map_err(|_| format!("sysctl tcp_max_retrans: {v}"))?
            }
            "tcp_ignore_invalid_rst" => t.ignore_invalid_rst = b,
            "tcp_timeout_syn_sent" => t.timeout_syn_sent = v,
            "tcp_timeout_syn_recv" => t.timeout_syn_recv = v,
            "tcp_timeout_established" => t.timeout_established = v,
            "tcp_timeout_fin_wait" => t.timeout_fin_wait = v,
            "tcp_timeout_close_wait" => t.timeout_close_wait = v,
            "tcp_timeout_last_ack" => t.timeout_last_ack = v,
            "tcp_timeout_time_wait" => t.timeout_time_wait = v,
            "tcp_timeout_close" => t.timeout_close = v,
            "tcp_timeout_max_retrans" => t.timeout_max_retrans = v,
            "tcp_timeout_unacknowledged" => t.timeout_unacknowledged = v,
            "udp_timeout" => self.udp_timeout = v,
            "udp_timeout_stream" => self.udp_timeout_stream = v,
            "icmp_timeout" => self.icmp_timeout = v,
            "icmpv6_timeout" => self.icmpv6_timeout = v,
            "generic_timeout" => self.generic_timeout = v,
            _ => unreachable!("checked against SYSCTL_NAMES"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_is_settable() {
        for n in SYSCTL_NAMES {
            let mut c = Config::default();
            c.set_sysctl(n, "7").unwrap_or_else(|e| panic!("{n}: {e}"));
        }
    }

    #[test]
    fn names_values_and_errors() {
        let mut c = Config::default();
        c.set_sysctl("acct", "1").unwrap();
        c.set_sysctl("net.netfilter.nf_conntrack_timestamp", "1").unwrap();
        c.set_sysctl("nf_conntrack_tcp_timeout_established", "7200").unwrap();
        c.set_sysctl("udp_timeout_stream", "180").unwrap();
        c.set_sysctl("tcp_loose", "0").unwrap();
        assert!(c.acct && c.timestamp && !c.tcp.loose);
        assert_eq!(c.tcp.timeout_established, 7200);
        assert_eq!(c.udp_timeout_stream, 180);
        let e = c.set_sysctl("tcp_timeout_establish", "1").unwrap_err();
        assert!(e.contains("known:") && e.contains("tcp_timeout_established"), "{e}");
        assert!(c.set_sysctl("max", "-1").is_err());
        assert!(c.set_sysctl("buckets", "0").is_err());
    }
}

/// The timeouts of one connection when a `ct timeout` policy was assigned
/// to it (nf_conntrack_timeout's per-entry extension): the global values
/// with the policy's states replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp: crate::tcp::TcpConfig,
    pub udp: u64,
    pub udp_stream: u64,
    pub icmp: u64,
    pub icmpv6: u64,
    pub generic: u64,
}

impl Timeouts {
    /// The global timeouts of `cfg`.
    pub fn from_config(cfg: &Config) -> Timeouts {
        Timeouts {
            tcp: cfg.tcp.clone(),
            udp: cfg.udp_timeout,
            udp_stream: cfg.udp_timeout_stream,
            icmp: cfg.icmp_timeout,
            icmpv6: cfg.icmpv6_timeout,
            generic: cfg.generic_timeout,
        }
    }

    /// Set one state of a `ct timeout` policy (nft's names:
    /// nf_conntrack_timeout's per-protocol attributes). `false` when `state`
    /// is no timeout state of protocol `l4proto`.
    pub fn set(&mut self, l4proto: u8, state: &str, secs: u64) -> bool {
        let slot = match (l4proto, state) {
            (6, "syn_sent") => &mut self.tcp.timeout_syn_sent,
            (6, "syn_recv") => &mut self.tcp.timeout_syn_recv,
            (6, "established") => &mut self.tcp.timeout_established,
            (6, "fin_wait") => &mut self.tcp.timeout_fin_wait,
            (6, "close_wait") => &mut self.tcp.timeout_close_wait,
            (6, "last_ack") => &mut self.tcp.timeout_last_ack,
            (6, "time_wait") => &mut self.tcp.timeout_time_wait,
            (6, "close") => &mut self.tcp.timeout_close,
            (6, "syn_sent2") => &mut self.tcp.timeout_syn_sent2,
            (6, "retrans") => &mut self.tcp.timeout_max_retrans,
            (6, "unacknowledged") => &mut self.tcp.timeout_unacknowledged,
            (17 | 136, "unreplied") => &mut self.udp,
            (17 | 136, "replied") => &mut self.udp_stream,
            (1, "timeout") => &mut self.icmp,
            (58, "timeout") => &mut self.icmpv6,
            (p, "timeout") if !matches!(p, 6 | 17 | 136) => &mut self.generic,
            _ => return false,
        };
        *slot = secs;
        true
    }
}
