//! The syntax tree of an nftables script, exactly as written.
//!
//! The grammar knows the structure of a script (commands, tables, chains,
//! sets, maps, objects, flowtables, hook specifications) but not the meaning
//! of protocol or field names: the lexer is context-free, and `tcp`, `dport`
//! or `established` are plain identifiers. A rule, a set property line or an
//! object line is therefore kept as a sequence of spanned [`Term`]s, with
//! brackets, parentheses and set literals already nested. `ctc-sema` turns
//! these terms into typed match expressions and statements using the tables
//! of `ctc-proto`, building a new tree (the AST is never rewritten).
//!
//! Every node carries the [`Span`] of the text it came from. `PartialEq`
//! ignores nothing, so tests that compare trees from different texts compare
//! them through [`crate::printer`] or with spans cleared by [`Script::strip_spans`].

use crate::span::Span;

/// A whole file (or included file).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    pub items: Vec<Command>,
}

/// The address family keyword of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Ip,
    Ip6,
    Inet,
    Arp,
    Bridge,
    Netdev,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ip => "ip",
            Family::Ip6 => "ip6",
            Family::Inet => "inet",
            Family::Arp => "arp",
            Family::Bridge => "bridge",
            Family::Netdev => "netdev",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

/// How a name was written: `foo`, `"foo"` or `$foo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Ident,
    Quoted,
    Variable,
}

/// A table, chain, set, object or variable name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub kind: NameKind,
    /// The name without quotes or `$`.
    pub text: String,
    pub span: Span,
}

/// The verb of a command. A block written without a verb (`table inet f { }`)
/// is an implicit `add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Add,
    Create,
    Insert,
    Replace,
    Delete,
    Destroy,
    Flush,
    List,
    Reset,
    Rename,
    Get,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Add => "add",
            Verb::Create => "create",
            Verb::Insert => "insert",
            Verb::Replace => "replace",
            Verb::Delete => "delete",
            Verb::Destroy => "destroy",
            Verb::Flush => "flush",
            Verb::List => "list",
            Verb::Reset => "reset",
            Verb::Rename => "rename",
            Verb::Get => "get",
        }
    }
}

/// One top-level statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// `None` for a bare block (`table ip t { ... }`), an implicit add.
    pub verb: Option<Spanned<Verb>>,
    pub object: Object,
    pub span: Span,
}

/// A table name, or `handle N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    Name(Name),
    Handle(Term),
}

/// Where a rule goes: `position N`, `handle N` or `index N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionKind {
    Position,
    Handle,
    Index,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub kind: Spanned<PositionKind>,
    pub value: Term,
}

/// The kind of a named stateful object or flowtable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectKind {
    Counter,
    Quota,
    Limit,
    Synproxy,
    Secmark,
    Flowtable,
    /// `ct helper`, `ct timeout`, `ct expectation` (the word after `ct`).
    Ct(Name),
}

impl ObjectKind {
    pub fn as_str(&self) -> String {
        match self {
            ObjectKind::Counter => "counter".into(),
            ObjectKind::Quota => "quota".into(),
            ObjectKind::Limit => "limit".into(),
            ObjectKind::Synproxy => "synproxy".into(),
            ObjectKind::Secmark => "secmark".into(),
            ObjectKind::Flowtable => "flowtable".into(),
            ObjectKind::Ct(n) => format!("ct {}", n.text),
        }
    }
}

/// What a command acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    /// `ruleset [FAMILY]`.
    Ruleset {
        family: Option<Spanned<Family>>,
    },
    Table {
        family: Option<Spanned<Family>>,
        table: Ref,
        body: Option<TableBody>,
    },
    Chain {
        family: Option<Spanned<Family>>,
        table: Name,
        chain: Ref,
        /// `rename chain T C NEWNAME`.
        new_name: Option<Name>,
        body: Option<ChainBody>,
    },
    Rule {
        family: Option<Spanned<Family>>,
        table: Name,
        chain: Name,
        position: Option<Position>,
        /// The rule itself; empty for `delete rule ... handle N`.
        rule: Option<Rule>,
    },
    Set {
        is_map: bool,
        family: Option<Spanned<Family>>,
        table: Name,
        set: Ref,
        body: Option<LineBlock>,
    },
    Element {
        family: Option<Spanned<Family>>,
        table: Name,
        set: Name,
        elements: SetLit,
    },
    Obj {
        kind: Spanned<ObjectKind>,
        family: Option<Spanned<Family>>,
        table: Name,
        name: Ref,
        body: Option<LineBlock>,
    },
    /// A listing of many objects: `list tables`, `list sets inet`, `reset counters`.
    Listing {
        what: Name,
        family: Option<Spanned<Family>>,
        table: Option<Name>,
    },
    Define {
        name: Name,
        value: Vec<Term>,
    },
    Redefine {
        name: Name,
        value: Vec<Term>,
    },
    Undefine {
        name: Name,
    },
    Include {
        path: Term,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableBody {
    pub items: Vec<TableItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableItem {
    Chain {
        name: Name,
        body: ChainBody,
        span: Span,
    },
    Set {
        is_map: bool,
        name: Name,
        body: LineBlock,
        span: Span,
    },
    Obj {
        kind: Spanned<ObjectKind>,
        name: Name,
        body: Option<LineBlock>,
        span: Span,
    },
    /// `flags dormant[, owner, persist]`.
    Flags {
        terms: Vec<Term>,
        span: Span,
    },
    Comment {
        text: Term,
        span: Span,
    },
    Define {
        name: Name,
        value: Vec<Term>,
        span: Span,
    },
    Redefine {
        name: Name,
        value: Vec<Term>,
        span: Span,
    },
    Undefine {
        name: Name,
        span: Span,
    },
    Include {
        path: Term,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBody {
    pub items: Vec<ChainItem>,
    pub span: Span,
}

/// `type T hook H [device D] [priority P]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookSpec {
    pub chain_type: Name,
    pub hook: Name,
    pub device: Option<Vec<Term>>,
    pub priority: Option<Vec<Term>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainItem {
    Hook(HookSpec),
    Policy {
        value: Term,
        span: Span,
    },
    /// `devices = { ... }` or `device NAME` on its own line.
    Devices {
        terms: Vec<Term>,
        span: Span,
    },
    Comment {
        text: Term,
        span: Span,
    },
    Rule(Rule),
    Define {
        name: Name,
        value: Vec<Term>,
        span: Span,
    },
    Redefine {
        name: Name,
        value: Vec<Term>,
        span: Span,
    },
    Undefine {
        name: Name,
        span: Span,
    },
    Include {
        path: Term,
        span: Span,
    },
}

/// A rule: its terms as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub terms: Vec<Term>,
    pub span: Span,
}

/// The body of a set, map, flowtable or object: lines of terms
/// (`type ipv4_addr`, `flags interval`, `elements = { ... }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineBlock {
    pub lines: Vec<Line>,
    /// The last line is followed by a newline or `;` (or there is none):
    /// sets, maps, flowtables and ct objects want it, as nft does.
    pub ended: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub terms: Vec<Term>,
    pub span: Span,
}

/// A set literal `{ a, b : c, ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetLit {
    pub elements: Vec<Element>,
    pub span: Span,
}

/// One element of a set literal: its terms (`10.0.0.0/8 timeout 1h`, `22 : accept`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub terms: Vec<Term>,
    pub span: Span,
}

/// Operators and punctuation that appear inside rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Comma,
    Dot,
    Colon,
    Slash,
    Minus,
    Plus,
    Star,
    Assign,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    And,
    Or,
    Xor,
    Not,
    Tilde,
    Shl,
    Shr,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Comma => ",",
            Op::Dot => ".",
            Op::Colon => ":",
            Op::Slash => "/",
            Op::Minus => "-",
            Op::Plus => "+",
            Op::Star => "*",
            Op::Assign => "=",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::And => "&",
            Op::Or => "|",
            Op::Xor => "^",
            Op::Not => "!",
            Op::Tilde => "~",
            Op::Shl => "<<",
            Op::Shr => ">>",
        }
    }
}

/// The lexical class of a literal; its meaning depends on the type expected
/// where it stands (a [`LitKind::ColonHex`] is an IPv6 or an Ethernet address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LitKind {
    /// Decimal digits.
    Number,
    /// `0x...`.
    Hex,
    /// Digits followed by letters: `1h30m`, `10ms`, `2mbytes`.
    NumWord,
    /// Dotted quad.
    Ipv4,
    /// Colon-separated hex groups with at least two colons: IPv6 or MAC.
    ColonHex,
    /// `"..."` (text without the quotes).
    Str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermKind {
    /// An identifier or keyword: protocol, field, statement or symbol names.
    Word(String),
    Lit(LitKind, String),
    /// `$name`.
    Var(String),
    /// `@name` (named set, map, flowtable or raw payload base like `@nh`).
    At(String),
    Op(Op),
    /// `( ... )`.
    Group(Vec<Term>),
    /// `[ ... ]` (bracketed IPv6 address in NAT statements).
    Bracket(Vec<Term>),
    /// `{ ... }`.
    Set(SetLit),
    /// An anonymous chain: `jump { ... }`.
    Chain(ChainBody),
}

#[derive(Clone, PartialEq, Eq)]
pub struct Term {
    pub kind: TermKind,
    /// Where the term's text is: for a term that came from a variable,
    /// in the `define` (diagnostics about the value point there, as nft's
    /// do).
    pub span: Span,
    /// For a term that came from a variable: where the `$name` stands in the
    /// rule (`None` for a term written in place). Spans of statements and
    /// rules are built from these, so that they stay on the rule's line.
    pub site: Option<Span>,
}

impl std::fmt::Debug for Term {
    // `site` only when set: most terms are written in place.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Term");
        d.field("kind", &self.kind).field("span", &self.span);
        if let Some(s) = &self.site {
            d.field("site", s);
        }
        d.finish()
    }
}

impl Term {
    /// A term written in place.
    pub fn new(kind: TermKind, span: Span) -> Term {
        Term { kind, span, site: None }
    }
    /// Where the term stands in the text being parsed: its `site` if it
    /// came from a variable, else its own span.
    pub fn at(&self) -> Span {
        self.site.unwrap_or(self.span)
    }
    /// The identifier if this term is a word.
    pub fn word(&self) -> Option<&str> {
        match &self.kind {
            TermKind::Word(w) => Some(w),
            _ => None,
        }
    }
    pub fn is_word(&self, w: &str) -> bool {
        self.word() == Some(w)
    }
    pub fn is_op(&self, op: Op) -> bool {
        self.kind == TermKind::Op(op)
    }
}
