//! Non-payload expression keys (doc/primary-expression.txt): meta, ct, fib,
//! rt, socket, osf, ipsec, numgen/hash.

use crate::types::Ty;

/// `meta KEY` (and the unqualified forms like `iifname`, `mark`).
#[derive(Debug)]
pub struct MetaKey {
    pub name: &'static str,
    pub ty: Ty,
    /// Width in bits of the register value.
    pub bits: u32,
    /// May be written without `meta` (`iifname eth0`, `mark 1`).
    pub unqualified: bool,
    /// `meta KEY set VALUE` is allowed.
    pub settable: bool,
}

/// Whether a ct key takes a direction (`ct original saddr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtDir {
    /// Never takes a direction (`ct state`).
    Never,
    /// Direction optional (`ct bytes`, `ct packets`, `ct zone`).
    Optional,
    /// Direction required (`ct original saddr`).
    Required,
}

/// `ct [original|reply] KEY`.
#[derive(Debug)]
pub struct CtKey {
    pub name: &'static str,
    pub ty: Ty,
    pub bits: u32,
    pub dir: CtDir,
    /// Address keys whose type is decided by the family or by an `ip`/`ip6`
    /// qualifier (`ct original ip saddr`).
    pub l3_addr: bool,
    /// `ct KEY set VALUE` is allowed.
    pub settable: bool,
}

/// A simple named key with a type: rt, socket, osf, ipsec, fib results.
#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub ty: Ty,
    pub bits: u32,
}

pub static META_KEYS: &[MetaKey] = &[];
pub static CT_KEYS: &[CtKey] = &[];
/// `rt [ip|ip6] KEY`.
pub static RT_KEYS: &[Key] = &[];
/// `socket KEY` (`cgroupv2 level N` takes a level).
pub static SOCKET_KEYS: &[Key] = &[];
/// `osf [ttl loose|skip] KEY`.
pub static OSF_KEYS: &[Key] = &[];
/// `ipsec in|out [spnum N] [ip|ip6] KEY`.
pub static IPSEC_KEYS: &[Key] = &[];
/// `fib FLAG[ . FLAG]... RESULT`: the results.
pub static FIB_RESULTS: &[Key] = &[];
/// `fib` input flags (`saddr`, `daddr`, `mark`, `iif`, `oif`).
pub static FIB_FLAGS: &[&str] = &[];

pub fn meta_key(name: &str) -> Option<&'static MetaKey> {
    META_KEYS.iter().find(|k| k.name == name)
}
pub fn ct_key(name: &str) -> Option<&'static CtKey> {
    CT_KEYS.iter().find(|k| k.name == name)
}
pub fn find_key(table: &'static [Key], name: &str) -> Option<&'static Key> {
    table.iter().find(|k| k.name == name)
}
