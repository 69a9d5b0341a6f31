//! Expectations (nf_conntrack_expect.c): connections a helper announced
//! (an FTP data connection, a TFTP transfer), matched against the first
//! packet of every new connection; the one that matches becomes RELATED to
//! its master and, with NAT, is translated as the master is.

use super::{Tracker, jiffies};
use crate::mangle::Manip;
use crate::tracker::nat::NatRange;
use crate::{Dir, EventKind, HZ, Handle, Helper, TICK_NS, Tuple, status};

/// NAT of an expected connection (nf_nat_follow_master): the direction
/// the expected connection travels relative to the master (`exp->dir`)
/// and the port the helper announced before NAT (`saved_proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectNat {
    pub dir: Dir,
    pub saved_port: u16,
}

/// One expectation (struct nf_conntrack_expect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The original tuple the expected connection will have; fields the
    /// mask leaves out are zero.
    pub tuple: Tuple,
    /// Which bits of `tuple` must match (addresses all ones; a source
    /// port of 0: any).
    pub mask: Tuple,
    pub master: Handle,
    /// The master's original tuple (as `conntrack -L expect` prints it).
    pub master_tuple: Tuple,
    /// The master's helper (its policy: limit and timeout); `None` for an
    /// expectation a rule made for a connection without one.
    pub helper: Option<Helper>,
    pub class: u8,
    pub zone: u16,
    /// Expiry on the packet clock (jiffy-aligned).
    pub timeout_at_ns: u64,
    pub nat: Option<ExpectNat>,
}

impl Expectation {
    /// `__nf_ct_expect_find`'s test: `t` matches under the mask.
    fn matches(&self, t: &Tuple, zone: u16) -> bool {
        let masked = |a: &[u8; 16], m: &[u8; 16]| {
            let mut o = [0u8; 16];
            for i in 0..16 {
                o[i] = a[i] & m[i];
            }
            o
        };
        self.zone == zone
            && t.l3 == self.tuple.l3
            && t.proto == self.tuple.proto
            && masked(&t.src, &self.mask.src) == self.tuple.src
            && masked(&t.dst, &self.mask.dst) == self.tuple.dst
            && t.src_port & self.mask.src_port == self.tuple.src_port
            && t.dst_port & self.mask.dst_port == self.tuple.dst_port
    }

    /// expect_clash: some tuple matches both (under the intersection of
    /// the masks).
    fn clashes(&self, o: &Expectation) -> bool {
        if self.zone != o.zone || self.tuple.l3 != o.tuple.l3 || self.tuple.proto != o.tuple.proto {
            return false;
        }
        let eq = |a: &[u8; 16], b: &[u8; 16], ma: &[u8; 16], mb: &[u8; 16]| {
            (0..16).all(|i| a[i] & ma[i] & mb[i] == b[i] & ma[i] & mb[i])
        };
        eq(&self.tuple.src, &o.tuple.src, &self.mask.src, &o.mask.src)
            && eq(&self.tuple.dst, &o.tuple.dst, &self.mask.dst, &o.mask.dst)
            && self.tuple.src_port & self.mask.src_port & o.mask.src_port
                == o.tuple.src_port & self.mask.src_port & o.mask.src_port
            && self.tuple.dst_port & self.mask.dst_port & o.mask.dst_port
                == o.tuple.dst_port & self.mask.dst_port & o.mask.dst_port
    }

    /// Seconds left as conntrack prints them.
    pub fn timeout_secs(&self, now_ns: u64) -> u64 {
        (self.timeout_at_ns / TICK_NS).saturating_sub(now_ns / TICK_NS) / HZ
    }
}

/// A `ct expectation` object as the tracker needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleExpect {
    /// NFPROTO_IPV4 (2), NFPROTO_IPV6 (10), or NFPROTO_INET (1): the
    /// connection's family.
    pub l3num: u8,
    pub proto: u8,
    pub dport: u16,
    /// Seconds: the kernel takes the object's value (nft writes
    /// milliseconds) as seconds.
    pub timeout_secs: u64,
    pub size: u8,
}

/// What [`Tracker::expect_from_rule`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleExpectOutcome {
    /// Made (or an identical one of this connection refreshed).
    Made,
    /// Nothing to do (NFT_BREAK).
    Break,
    /// Refused: a clash, or the table's limit (NF_DROP).
    Drop,
}

/// An expectation event (`conntrack -E expect`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectEvent {
    pub kind: EventKind,
    pub time_ns: u64,
    pub timeout_secs: u64,
    pub exp: Expectation,
}

/// Why an expectation was refused (nf_ct_expect_related's errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectError {
    /// -EALREADY: the same expectation exists for another master or class.
    Already,
    /// -EBUSY: it overlaps another master's.
    Busy,
    /// -EMFILE: the master's limit (after evicting its oldest) or the
    /// table's (`expect_max`).
    Full,
}

/// The expectation policy of a helper (struct nf_conntrack_expect_policy)
/// from the helpers' table: (max_expected, timeout in seconds). Only the
/// helpers of that table make expectations.
pub fn policy(h: Helper) -> (usize, u64) {
    let p = crate::helpers::helper_by_name(h.name()).map_or(crate::helpers::FTP_POLICY, |d| d.policy);
    (p.max_expected as usize, u64::from(p.timeout_secs))
}

impl Tracker {
    /// The expectations, oldest first (`conntrack -L expect`).
    pub fn expectations(&self) -> impl Iterator<Item = &Expectation> + '_ {
        self.expects.iter()
    }

    /// Expectation events since the last call.
    pub fn take_expect_events(&mut self) -> Vec<ExpectEvent> {
        core::mem::take(&mut self.expect_events)
    }

    pub(super) fn unlink_expect(&mut self, i: usize, now_ns: u64) {
        let exp = self.expects.remove(i);
        if self.cfg.events {
            self.expect_events.push(ExpectEvent {
                kind: EventKind::Destroy,
                time_ns: now_ns,
                timeout_secs: exp.timeout_secs(now_ns),
                exp,
            });
        }
    }

    /// nf_ct_expect_related: add an expectation of `master`'s helper
    /// (policy: [`policy`]), replacing an identical one of the same master,
    /// evicting the master's oldest when at its limit. NEW event.
    pub fn expect_related(&mut self, mut exp: Expectation, now_ns: u64) -> Result<(), ExpectError> {
        let mut i = 0;
        while i < self.expects.len() {
            let e = &self.expects[i];
            if e.tuple == exp.tuple && e.mask == exp.mask && e.zone == exp.zone {
                if e.class != exp.class || e.master != exp.master {
                    return Err(ExpectError::Already);
                }
                self.unlink_expect(i, now_ns);
                continue;
            }
            if e.clashes(&exp) {
                return Err(ExpectError::Busy);
            }
            i += 1;
        }
        // __nf_ct_expect_check: the per-master limit is the helper's; an
        // expectation of a master without helper keeps the expiry its
        // maker gave (nf_ct_expect_insert sets it from the helper only).
        let (max, secs) = exp.helper.map_or((usize::MAX, None), |h| {
            let (max, secs) = policy(h);
            (max, Some(secs))
        });
        let mine = |t: &Tracker| t.expects.iter().filter(|e| e.master == exp.master && e.class == exp.class).count();
        if max > 0 && mine(self) >= max {
            // evict_oldest_expect: the master's oldest (the list keeps
            // insertion order).
            if let Some(j) = self.expects.iter().position(|e| e.master == exp.master && e.class == exp.class) {
                self.unlink_expect(j, now_ns);
            }
            if mine(self) >= max {
                return Err(ExpectError::Full);
            }
        }
        if self.expects.len() >= self.cfg.expect_max {
            return Err(ExpectError::Full);
        }
        if let Some(secs) = secs {
            exp.timeout_at_ns = (jiffies(now_ns) + secs * HZ) * TICK_NS;
        }
        if self.cfg.events {
            self.expect_events.push(ExpectEvent {
                kind: EventKind::New,
                time_ns: now_ns,
                timeout_secs: exp.timeout_secs(now_ns),
                exp: exp.clone(),
            });
        }
        self.expects.push(exp);
        Ok(())
    }

    /// nft_ct_expect_obj_eval: a rule's `ct expectation set` for the packet
    /// of connection `h` travelling in `dir`. Only a connection not yet
    /// confirmed (its first packet) gets one, while it has fewer than
    /// `size` expectations; the expectation is for a connection from the
    /// peer (the other direction's source) to this side's address (after
    /// NAT) and `dport`, from any source port, with no helper of its own
    /// and no NAT following the master.
    pub fn expect_from_rule(&mut self, h: Handle, dir: Dir, r: &RuleExpect, now_ns: u64) -> RuleExpectOutcome {
        let Some(e) = self.entry(h) else { return RuleExpectOutcome::Break };
        if e.is_confirmed() {
            return RuleExpectOutcome::Break;
        }
        let expecting = self.expects.iter().filter(|x| x.master == h && x.class == 0).count();
        if expecting >= usize::from(r.size) {
            return RuleExpectOutcome::Break;
        }
        let other = e.tuples[dir.other() as usize];
        // NFPROTO_INET: the connection's family. An object of the other
        // family would make the kernel read the addresses as that family's;
        // ctc makes none (the rule breaks).
        let l3 = if r.l3num == 1 { other.l3 } else { r.l3num };
        if l3 != other.l3 {
            return RuleExpectOutcome::Break;
        }
        let exp = Expectation {
            tuple: Tuple { src: other.src, dst: other.dst, src_port: 0, dst_port: r.dport, l3, proto: r.proto },
            mask: super::help::mask(l3, r.proto, true),
            master: h,
            master_tuple: e.tuples[0],
            helper: e.helper,
            class: 0,
            zone: e.zone,
            timeout_at_ns: (jiffies(now_ns) + r.timeout_secs * HZ) * TICK_NS,
            nat: None,
        };
        match self.expect_related(exp, now_ns) {
            Ok(()) => RuleExpectOutcome::Made,
            Err(_) => RuleExpectOutcome::Drop,
        }
    }

    /// Whether an expectation with this tuple could be added for `master`
    /// without clashing (nf_nat_exp_find_port's probe).
    pub fn expect_free(&self, exp: &Expectation) -> bool {
        self.expects.iter().all(|e| {
            (e.tuple == exp.tuple && e.mask == exp.mask && e.zone == exp.zone && e.master == exp.master)
                || !e.clashes(exp)
        })
    }

    /// nf_ct_find_expectation for a new connection's tuple: the matching
    /// expectation of a confirmed master, taken out of the table (DESTROY
    /// event), or `None`.
    pub(super) fn find_expectation(&mut self, t: &Tuple, zone: u16, now_ns: u64) -> Option<Expectation> {
        if self.expects.is_empty() {
            return None;
        }
        let i = self.expects.iter().position(|e| {
            e.matches(t, zone)
                && jiffies(e.timeout_at_ns) > jiffies(now_ns)
                && self.conn(e.master).is_some_and(|m| m.is_confirmed())
        })?;
        let exp = self.expects[i].clone();
        self.unlink_expect(i, now_ns);
        Some(exp)
    }

    /// init_conntrack's part for an expected connection: RELATED to its
    /// master, the master's mark, and NAT as the master's
    /// (nf_nat_follow_master: the source to where the master's packets of
    /// that direction go, the destination to the announced port on the
    /// master's address).
    pub(super) fn expected(&mut self, idx: u32, exp: &Expectation, now_ns: u64) {
        let mark = self.conn(exp.master).map_or(0, |m| m.mark);
        let e = self.em(idx);
        e.status |= status::EXPECTED;
        e.mark = mark;
        self.cold_mut(idx).help.get_or_insert_with(Default::default).master = Some(exp.master);
        if let Some(m) = self.conn(exp.master).map(|_| exp.master.idx) {
            self.cold_mut(m).help.get_or_insert_with(Default::default).children += 1;
        }
        let Some(nat) = exp.nat else { return };
        let Some(m) = self.entry(exp.master) else { return };
        let other = m.tuples[1 - nat.dir as usize];
        let h = self.handle(idx);
        self.nat_setup(h, &NatRange::addr(other.dst), Manip::Src, now_ns);
        let r = NatRange {
            flags: crate::range_flags::MAP_IPS | crate::range_flags::PROTO_SPECIFIED,
            min_addr: other.src,
            max_addr: other.src,
            min_proto: nat.saved_port,
            max_proto: nat.saved_port,
            base_proto: 0,
        };
        self.nat_setup(h, &r, Manip::Dst, now_ns);
    }

    /// The connection goes away: its master loses a reference.
    pub(super) fn drop_master_ref(&mut self, idx: u32) {
        let Some(m) = self.cold(idx).and_then(|c| c.help.as_ref()).and_then(|h| h.master) else { return };
        if self.conn(m).is_some()
            && let Some(h) = self.cold_mut(m.idx).help.as_mut()
        {
            h.children = h.children.saturating_sub(1);
        }
    }

    /// The helper of the connection's master (what nft's `ct helper` reads:
    /// nft_ct_get_eval takes `nfct_help(ct->master)`, so it matches the
    /// expected connections of a helper, not its control connection).
    pub fn master_helper(&self, h: Handle) -> Option<crate::Helper> {
        self.conn(h)?;
        let m = self.cold(h.idx)?.help.as_ref()?.master?;
        self.conn(m)?.helper()
    }

    /// nf_ct_remove_expectations: a master going away takes its
    /// expectations with it; expired ones go too (their timers).
    pub(super) fn expire_expectations(&mut self, now_ns: u64) {
        let mut i = 0;
        while i < self.expects.len() {
            let e = &self.expects[i];
            if jiffies(e.timeout_at_ns) <= jiffies(now_ns) || self.conn(e.master).is_none() {
                self.unlink_expect(i, now_ns);
            } else {
                i += 1;
            }
        }
    }
}
