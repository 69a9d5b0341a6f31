//! Typed expressions of the HIR.

use super::KeyType;
use ctc_grammar::Span;

/// The type of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprType {
    /// One value of a data type.
    Scalar(KeyType),
    /// A concatenation (`ip saddr . tcp dport`).
    Concat(Vec<KeyType>),
    Verdict,
    /// Not known from the expression alone (a literal before it meets the
    /// other side of a relation).
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: ExprType,
    pub span: Span,
}

/// A constant value, in the byte order of its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An integer (also symbols such as `ssh`, `established`).
    Int(u128),
    /// Raw bytes in network order (addresses).
    Bytes(Vec<u8>),
    /// A string (interface names; `*` wildcard kept as written).
    Str(String),
}

impl Value {
    /// An interface-name wildcard (`"eth*"`; not an escaped `"eth\*"`):
    /// the prefix before the `*`.
    pub fn wildcard_prefix(&self) -> Option<&str> {
        match self {
            Value::Str(s) if !s.ends_with("\\*") => s.strip_suffix('*'),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
    Xor,
    Shl,
    Shr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelOp {
    /// No operator written: equality, or membership for sets, or a bitmask
    /// test for flag types (`tcp flags syn`).
    Implicit,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Drop,
    Continue,
    Return,
    Jump(String),
    Goto(String),
    /// `queue` as a verdict in a verdict map is not allowed; kept for
    /// completeness of the kernel's verdict codes.
    Queue,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A header field of a protocol in ctc-proto's tables.
    Payload {
        proto: &'static str,
        field: &'static str,
        offset: u32,
        bits: u32,
    },
    /// `@ll|nh|th|ih,OFFSET,LENGTH`.
    Raw {
        base: String,
        offset: u32,
        bits: u32,
    },
    /// IPv6 extension header field or existence (`exthdr frag exists`).
    /// `offset`/`bits` locate the field inside the header (both 0 for an
    /// existence test); `rt0 addr[2]` is field `addr[1]` 128 bits further.
    Exthdr {
        hdr: &'static str,
        field: Option<&'static str>,
        offset: u32,
        bits: u32,
    },
    /// TCP, IP, SCTP or DCCP option/chunk field or existence. `kind` is the
    /// option kind (chunk type); `offset`/`bits` locate the field in the
    /// option (0 for an existence test).
    Opt {
        proto: &'static str,
        name: String,
        kind: u8,
        field: Option<&'static str>,
        offset: u32,
        bits: u32,
    },
    /// A header inside a tunnel (`vxlan ip saddr`, `gre tcp dport`): `expr`
    /// is the payload expression relative to the inner packet.
    Inner {
        tunnel: &'static str,
        expr: Box<Expr>,
    },
    Meta {
        key: &'static str,
    },
    Ct {
        key: &'static str,
        dir: Option<&'static str>,
    },
    Fib {
        flags: Vec<String>,
        result: &'static str,
    },
    /// rt, socket, osf, ipsec keys and similar: the expression's keyword,
    /// its key and any arguments as written.
    Key {
        expr: &'static str,
        key: String,
        args: Vec<String>,
    },
    Numgen {
        mode: String,
        modulus: u32,
        offset: u32,
    },
    Hash {
        kind: &'static str,
        input: Option<Box<Expr>>,
        modulus: u32,
        seed: Option<u32>,
        offset: u32,
    },
    Value(Value),
    Prefix {
        value: Box<Expr>,
        len: u32,
    },
    Range {
        lo: Box<Expr>,
        hi: Box<Expr>,
    },
    Concat(Vec<Expr>),
    Binop {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// A comma list of flag values (`established,related`), combined with OR.
    List(Vec<Expr>),
    /// An anonymous set `{ ... }`.
    SetLit(Vec<SetElem>),
    /// A named set or map `@name`.
    SetRef {
        name: String,
    },
    /// `KEY map { ... }` / `KEY map @m` / `KEY vmap { ... }`.
    Map {
        key: Box<Expr>,
        map: Box<Expr>,
        verdict: bool,
    },
    Verdict(Verdict),
    /// `*`, the catch-all element.
    Catchall,
}

/// One element of a set or map (named or anonymous).
#[derive(Debug, Clone)]
pub struct SetElem {
    pub key: Expr,
    pub data: Option<Expr>,
    pub timeout_ms: Option<u64>,
    pub expires_ms: Option<u64>,
    pub comment: Option<String>,
    /// Stateful statements the element carries (`1.1.1.1 counter`,
    /// `ip saddr limit rate 10/second`): counter, limit, quota, ct count,
    /// last.
    pub stmts: Vec<super::stmt::Stmt>,
    pub span: Span,
}
