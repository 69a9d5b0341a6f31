//! The lexer: one logos state machine, no modes.
//!
//! Only the words that decide the structure of a script are keywords
//! (commands, object kinds, block properties, families); protocol, field and
//! symbol names are plain identifiers, resolved later against the tables of
//! `ctc-proto`. Literals are classified lexically only (a number, a dotted
//! quad, colon-separated hex groups, a string); their meaning is decided by
//! the type expected where they stand.
//!
//! As in nft's scanner, identifiers may contain `-`, `.` and `/`
//! (`echo-request`, `eth0.100`, `kbytes/second`), so the concatenation
//! operator `.` must be surrounded by spaces, as nft requires too.

use logos::Logos;

/// Tokens. Payload-carrying variants borrow the source text.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
#[logos(skip r"[ \t\r\x0c]+")]
#[logos(skip r"\\\r?\n")]
pub enum Tok<'a> {
    /// `# ...` to the end of the line. Not given to the parser; kept so
    /// `ctc fmt` can put comments back (see [`comments`]).
    #[regex(r"#[^\n]*", allow_greedy = true)]
    Comment,
    #[regex(r"\n")]
    Newline,
    #[token(";")]
    Semi,
    #[token("{")]
    LBrace,
    /// A `{` directly after `jump` or `goto`: an anonymous chain, not a set.
    /// Produced by [`Lexer`], never by the state machine itself.
    LBraceChain,
    #[token("}")]
    RBrace,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(".")]
    Dot,
    #[token(":")]
    Colon,
    #[token("/")]
    Slash,
    #[token("-")]
    Minus,
    #[token("+")]
    Plus,
    #[token("*")]
    Star,
    #[token("=")]
    Assign,
    #[token("==")]
    EqEq,
    #[token("!=")]
    Ne,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token("<=")]
    Le,
    #[token(">=")]
    Ge,
    #[token("&")]
    Amp,
    #[token("|")]
    Pipe,
    #[token("^")]
    Caret,
    #[token("!")]
    Bang,
    #[token("~")]
    Tilde,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,

    // Structural keywords. Each is also accepted as a word inside rules.
    #[token("table")]
    KwTable,
    #[token("chain")]
    KwChain,
    #[token("rule")]
    KwRule,
    #[token("ruleset")]
    KwRuleset,
    #[token("set")]
    KwSet,
    #[token("map")]
    KwMap,
    #[token("element")]
    KwElement,
    #[token("flowtable")]
    KwFlowtable,
    #[token("counter")]
    KwCounter,
    #[token("quota")]
    KwQuota,
    #[token("limit")]
    KwLimit,
    #[token("synproxy")]
    KwSynproxy,
    #[token("secmark")]
    KwSecmark,
    #[token("ct")]
    KwCt,
    #[token("timeout")]
    KwTimeout,
    #[token("add")]
    KwAdd,
    #[token("create")]
    KwCreate,
    #[token("insert")]
    KwInsert,
    #[token("replace")]
    KwReplace,
    #[token("delete")]
    KwDelete,
    #[token("destroy")]
    KwDestroy,
    #[token("flush")]
    KwFlush,
    #[token("list")]
    KwList,
    #[token("reset")]
    KwReset,
    #[token("rename")]
    KwRename,
    #[token("get")]
    KwGet,
    #[token("define")]
    KwDefine,
    #[token("redefine")]
    KwRedefine,
    #[token("undefine")]
    KwUndefine,
    #[token("include")]
    KwInclude,
    #[token("type")]
    KwType,
    #[token("hook")]
    KwHook,
    #[token("device")]
    KwDevice,
    #[token("devices")]
    KwDevices,
    #[token("priority")]
    KwPriority,
    #[token("policy")]
    KwPolicy,
    #[token("flags")]
    KwFlags,
    #[token("comment")]
    KwComment,
    #[token("handle")]
    KwHandle,
    #[token("position")]
    KwPosition,
    #[token("index")]
    KwIndex,
    #[token("ip")]
    KwIp,
    #[token("ip6")]
    KwIp6,
    #[token("inet")]
    KwInet,
    #[token("arp")]
    KwArp,
    #[token("bridge")]
    KwBridge,
    #[token("netdev")]
    KwNetdev,

    /// Identifier, with nft's character set; a trailing `*` makes an
    /// interface wildcard (`iifname eth*`).
    #[regex(r"[a-zA-Z_][a-zA-Z0-9_\-./]*\*?", |lex| lex.slice())]
    Ident(&'a str),
    #[regex(r"[0-9]+", |lex| lex.slice())]
    Number(&'a str),
    #[regex(r"0[xX][0-9a-fA-F]+", |lex| lex.slice(), priority = 10)]
    Hex(&'a str),
    /// `1h30m`, `10ms`, `2mbytes`.
    #[regex(r"[0-9]+[a-zA-Z][a-zA-Z0-9_]*", |lex| lex.slice())]
    NumWord(&'a str),
    #[regex(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", |lex| lex.slice())]
    Ipv4(&'a str),
    /// At least two colons: an IPv6 address (possibly with an IPv4 tail) or
    /// an Ethernet address. One colon is the map/port separator (`22:accept`).
    #[regex(r"[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:]*([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)?", |lex| lex.slice())]
    ColonHex(&'a str),
    /// A string without escapes, as nft's scanner.
    #[regex(r#""[^"\n]*""#, |lex| { let s = lex.slice(); &s[1..s.len() - 1] })]
    Str(&'a str),
    #[regex(r"\$[a-zA-Z_][a-zA-Z0-9_\-]*", |lex| &lex.slice()[1..])]
    Var(&'a str),
    #[regex(r"@[a-zA-Z0-9_][a-zA-Z0-9_\-.]*", |lex| &lex.slice()[1..])]
    At(&'a str),
}

/// Why a piece of input is not a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LexError {
    /// A character nft's language has no use for.
    #[default]
    Invalid,
    /// `"` without its closing quote on the same line.
    UnterminatedString,
}

/// The token stream handed to the parser: `(start, token, end)` triples.
/// Runs of newlines are folded into one, and newlines directly after an
/// opening `{`, `(` or `[` are dropped so blocks and lists may span lines.
/// (A newline after a `,` is the grammar's business: nft allows it inside a
/// `{ }` list only, and elsewhere it ends the rule.)
pub struct Lexer<'a> {
    inner: logos::Lexer<'a, Tok<'a>>,
    prev: Option<Tok<'a>>,
}

impl std::fmt::Debug for Lexer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lexer").field("span", &self.inner.span()).finish()
    }
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer { inner: Tok::lexer(src), prev: None }
    }
}

pub type Spanned<'a> = Result<(usize, Tok<'a>, usize), (LexError, usize, usize)>;

impl<'a> Iterator for Lexer<'a> {
    type Item = Spanned<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let tok = self.inner.next()?;
            let span = self.inner.span();
            let tok = match tok {
                Ok(t) => t,
                Err(_) => {
                    let kind = if self.inner.slice().starts_with('"') {
                        LexError::UnterminatedString
                    } else {
                        LexError::Invalid
                    };
                    return Some(Err((kind, span.start, span.end)));
                }
            };
            if tok == Tok::Comment {
                continue;
            }
            if tok == Tok::Newline
                && matches!(
                    self.prev,
                    None | Some(
                        Tok::Newline | Tok::Semi | Tok::LBrace | Tok::LBraceChain | Tok::LParen | Tok::LBracket
                    )
                )
            {
                continue;
            }
            let tok = match (self.prev, tok) {
                (Some(Tok::Ident("jump" | "goto")), Tok::LBrace) => Tok::LBraceChain,
                _ => tok,
            };
            self.prev = Some(tok);
            return Some(Ok((span.start, tok, span.end)));
        }
    }
}

/// Byte ranges of the `#` comments of a source text, in order.
pub fn comments(src: &str) -> Vec<(usize, usize)> {
    let mut lex = Tok::lexer(src);
    let mut out = Vec::new();
    while let Some(tok) = lex.next() {
        if tok == Ok(Tok::Comment) {
            out.push((lex.span().start, lex.span().end));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok<'_>> {
        Lexer::new(s).map(|t| t.unwrap().1).collect()
    }

    #[test]
    fn addresses_and_ports() {
        assert_eq!(toks("10.0.0.0/8"), [Tok::Ipv4("10.0.0.0"), Tok::Slash, Tok::Number("8")]);
        assert_eq!(toks("dead::beef"), [Tok::ColonHex("dead::beef")]);
        assert_eq!(toks("::ffff:1.2.3.4"), [Tok::ColonHex("::ffff:1.2.3.4")]);
        assert_eq!(toks("00:11:22:33:44:55"), [Tok::ColonHex("00:11:22:33:44:55")]);
        assert_eq!(toks("22:accept"), [Tok::Number("22"), Tok::Colon, Tok::Ident("accept")]);
        assert_eq!(
            toks("1.2.3.4:80-90"),
            [Tok::Ipv4("1.2.3.4"), Tok::Colon, Tok::Number("80"), Tok::Minus, Tok::Number("90")]
        );
        assert_eq!(
            toks("[2001:db8::1]:50080"),
            [Tok::LBracket, Tok::ColonHex("2001:db8::1"), Tok::RBracket, Tok::Colon, Tok::Number("50080")]
        );
    }

    #[test]
    fn words_and_keywords() {
        assert_eq!(
            toks("ip saddr . tcp dport"),
            [Tok::KwIp, Tok::Ident("saddr"), Tok::Dot, Tok::Ident("tcp"), Tok::Ident("dport")]
        );
        assert_eq!(
            toks("echo-request eth0.100 eth*"),
            [Tok::Ident("echo-request"), Tok::Ident("eth0.100"), Tok::Ident("eth*")]
        );
        assert_eq!(toks("0x1f 1h30m 10"), [Tok::Hex("0x1f"), Tok::NumWord("1h30m"), Tok::Number("10")]);
        assert_eq!(toks("$ext_if @blocklist \"a b\""), [Tok::Var("ext_if"), Tok::At("blocklist"), Tok::Str("a b")]);
    }

    #[test]
    fn newlines_fold_and_comments_skip() {
        assert_eq!(toks("a # c\n\n\nb \\\n c"), [Tok::Ident("a"), Tok::Newline, Tok::Ident("b"), Tok::Ident("c")]);
        assert_eq!(
            toks("{\n\n a,\n b }"),
            [Tok::LBrace, Tok::Ident("a"), Tok::Comma, Tok::Newline, Tok::Ident("b"), Tok::RBrace]
        );
    }

    #[test]
    fn errors_are_reported_not_panics() {
        let r: Vec<_> = Lexer::new("a \"open\n ` b").collect();
        assert!(r.iter().any(|t| matches!(t, Err((LexError::UnterminatedString, _, _)))));
        assert!(r.iter().any(|t| matches!(t, Err((LexError::Invalid, _, _)))));
    }
}
