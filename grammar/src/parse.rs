//! Parsing entry points: source text in, AST or a syntax diagnostic out.

use crate::ast::{ChainItem, Script, TableItem};
use crate::diag::Diagnostic;
use crate::lexer::{LexError, Lexer, Tok};
use crate::nft;
use crate::span::{FileId, Span};
use lalrpop_util::ParseError;

type RawError<'a> = ParseError<usize, Tok<'a>, (LexError, usize, usize)>;

/// Parse a whole script (a file given on the command line or included at
/// top level).
pub fn parse_script(file: FileId, src: &str) -> Result<Script, Diagnostic> {
    nft::ScriptParser::new().parse(file, Lexer::new(src)).map_err(|e| syntax_error(file, src, e))
}

/// Parse a file included inside a table block.
pub fn parse_table_body(file: FileId, src: &str) -> Result<Vec<TableItem>, Diagnostic> {
    nft::TableItemsParser::new().parse(file, Lexer::new(src)).map_err(|e| syntax_error(file, src, e))
}

/// Parse a file included inside a chain block.
pub fn parse_chain_body(file: FileId, src: &str) -> Result<Vec<ChainItem>, Diagnostic> {
    nft::ChainItemsParser::new().parse(file, Lexer::new(src)).map_err(|e| syntax_error(file, src, e))
}

/// How a token is called in messages.
pub fn describe_token(tok: &Tok<'_>) -> String {
    match tok {
        Tok::Newline => "end of line".into(),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Number(s) | Tok::Hex(s) | Tok::NumWord(s) => format!("number `{s}`"),
        Tok::Ipv4(s) | Tok::ColonHex(s) => format!("address `{s}`"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Var(s) => format!("variable `${s}`"),
        Tok::At(s) => format!("`@{s}`"),
        other => format!("`{}`", keyword_text(other)),
    }
}

fn keyword_text(tok: &Tok<'_>) -> String {
    // The Debug name minus the `Kw` prefix is the keyword for keywords; for
    // punctuation use the symbol itself.
    let s = match tok {
        Tok::Semi => ";",
        Tok::LBrace | Tok::LBraceChain => "{",
        Tok::RBrace => "}",
        Tok::LParen => "(",
        Tok::RParen => ")",
        Tok::LBracket => "[",
        Tok::RBracket => "]",
        Tok::Comma => ",",
        Tok::Dot => ".",
        Tok::Colon => ":",
        Tok::Slash => "/",
        Tok::Minus => "-",
        Tok::Plus => "+",
        Tok::Star => "*",
        Tok::Assign => "=",
        Tok::EqEq => "==",
        Tok::Ne => "!=",
        Tok::Lt => "<",
        Tok::Gt => ">",
        Tok::Le => "<=",
        Tok::Ge => ">=",
        Tok::Amp => "&",
        Tok::Pipe => "|",
        Tok::Caret => "^",
        Tok::Bang => "!",
        Tok::Tilde => "~",
        Tok::Shl => "<<",
        Tok::Shr => ">>",
        _ => "",
    };
    if !s.is_empty() {
        return s.to_string();
    }
    let dbg = format!("{tok:?}");
    let kw = dbg.strip_prefix("Kw").unwrap_or(&dbg).to_ascii_lowercase();
    match kw.as_str() {
        "ip6" => "ip6".into(),
        _ => kw,
    }
}

/// Turn lalrpop's list of expected terminals into words for people.
fn describe_expected(expected: &[String]) -> String {
    let mut names: Vec<String> = Vec::new();
    for e in expected {
        let name = match e.as_str() {
            "IDENT" => "a name".to_string(),
            "NUMBER" | "HEX" | "NUMWORD" => "a number".to_string(),
            "IPV4" | "COLONHEX" => "an address".to_string(),
            "STR" => "a string".to_string(),
            "VAR" => "a variable".to_string(),
            "AT" => "`@name`".to_string(),
            "\"\\n\"" => "end of line".to_string(),
            other => format!("`{}`", other.trim_matches('"')),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.len() {
        0 => String::new(),
        1 => names.remove(0),
        n if n <= 8 => {
            let last = names.pop().unwrap_or_default();
            format!("{} or {}", names.join(", "), last)
        }
        _ => {
            names.truncate(8);
            format!("one of {}, ...", names.join(", "))
        }
    }
}

/// E0003 at the `}` (`at`) closing a block whose last rule or line has no
/// newline or `;` after it: nft wants one after each rule, chain, set and
/// object of a table, each line of a set, map, flowtable or ct object (the
/// last one too), and says "unexpected '}', expecting newline or
/// semicolon".
pub fn unended(at: Span) -> Diagnostic {
    Diagnostic::error("E0003", "syntax error, unexpected `}`")
        .with_label(at, "expected a newline or `;` before the `}`")
        .with_help("nft ends every rule and every block in a table with a newline or `;`, the last one too: `{ ...; }`")
}

fn syntax_error(file: FileId, src: &str, e: RawError<'_>) -> Diagnostic {
    match e {
        ParseError::InvalidToken { location } => Diagnostic::error("E0001", "invalid character")
            .with_label(Span::new(file, location, location + 1), "not part of the nftables language"),
        ParseError::UnrecognizedEof { location, expected } => {
            let want = describe_expected(&expected);
            let at = src.trim_end().len().min(location);
            Diagnostic::error("E0002", "unexpected end of file")
                .with_label(Span::new(file, at, at), format!("expected {want}"))
                .with_help(unclosed_hint(&expected))
        }
        ParseError::UnrecognizedToken { token: (l, Tok::RBrace, _), expected }
            if expected.iter().any(|e| e == "\";\"") =>
        {
            unended(Span::new(file, l, l + 1))
        }
        ParseError::UnrecognizedToken { token: (l, tok, r), expected } => {
            let want = describe_expected(&expected);
            let mut d = Diagnostic::error("E0003", format!("syntax error, unexpected {}", describe_token(&tok)))
                .with_label(Span::new(file, l, r.max(l + 1)), format!("expected {want}"));
            if let Some((wl, wr, word)) = family_typo(src, l) {
                d = d
                    .with_secondary(Span::new(file, wl, wr), format!("`{word}` is taken as the table name"))
                    .with_help(format!(
                        "`{word}` is not an address family; families are ip, ip6, inet, arp, bridge and netdev"
                    ));
            } else if let Some(h) = token_hint(&tok, &expected) {
                d = d.with_help(h);
            }
            d
        }
        ParseError::ExtraToken { token: (l, tok, r) } => {
            Diagnostic::error("E0003", format!("syntax error, unexpected {}", describe_token(&tok)))
                .with_label(Span::new(file, l, r), "nothing may follow here")
        }
        ParseError::User { error: (kind, l, r) } => match kind {
            LexError::UnterminatedString => Diagnostic::error("E0004", "unterminated string")
                .with_label(Span::new(file, l, r), "this string has no closing `\"` on its line"),
            LexError::Invalid => Diagnostic::error("E0001", "invalid character")
                .with_label(Span::new(file, l, r), "not part of the nftables language"),
        },
    }
}

/// `table ipv4 filter {`: the word after an object keyword was meant as a
/// family. Returns the misread word's range when the two words before
/// offset `at` are an object keyword and a word that is no family.
fn family_typo(src: &str, at: usize) -> Option<(usize, usize, &str)> {
    let before = src.get(..at)?;
    let words: Vec<(usize, &str)> = before
        .char_indices()
        .filter(|&(i, c)| !c.is_whitespace() && (i == 0 || before[..i].ends_with(char::is_whitespace)))
        .map(|(i, _)| (i, before[i..].split_whitespace().next().unwrap_or("")))
        .collect();
    let [.., (_, kw), (pos, word)] = words.as_slice() else { return None };
    let objects = ["table", "chain", "set", "map", "flowtable", "rule", "element"];
    let families = ["ip", "ip6", "inet", "arp", "bridge", "netdev"];
    (objects.contains(kw) && !families.contains(word) && word.chars().all(|c| c.is_ascii_alphanumeric())).then_some((
        *pos,
        pos + word.len(),
        *word,
    ))
}

fn unclosed_hint(expected: &[String]) -> String {
    if expected.iter().any(|e| e == "\"}\"") {
        "a `{` block is not closed: add the missing `}`".into()
    } else {
        "the file ends in the middle of a statement".into()
    }
}

fn token_hint(tok: &Tok<'_>, expected: &[String]) -> Option<String> {
    match tok {
        Tok::Ident(w) if expected.iter().any(|e| e == "\"{\"") && !expected.iter().any(|e| e == "IDENT") => {
            Some(format!("`{w}` cannot stand here; a block `{{ ... }}` was expected"))
        }
        Tok::KwType | Tok::KwPolicy | Tok::KwComment | Tok::KwDevice | Tok::KwDevices => {
            Some(format!("`{}` starts a chain property; put it on its own line or after a `;`", keyword_text(tok)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::*;

    fn parse(s: &str) -> Script {
        match parse_script(FileId(0), s) {
            Ok(x) => x,
            Err(d) => panic!("{d:?}"),
        }
    }

    #[test]
    fn table_with_chain_and_rules() {
        let s = parse(
            "table inet filter {\n  chain input {\n    type filter hook input priority filter + 10; policy drop;\n    ct state established,related accept\n    tcp dport { 22, 80 } counter accept comment \"x\"\n  }\n}\n",
        );
        assert_eq!(s.items.len(), 1);
        let Object::Table { body: Some(body), .. } = &s.items[0].object else { panic!() };
        let TableItem::Chain { body, .. } = &body.items[0] else { panic!() };
        assert_eq!(body.items.len(), 4);
        assert!(matches!(body.items[0], ChainItem::Hook(_)));
        assert!(matches!(body.items[1], ChainItem::Policy { .. }));
        let ChainItem::Rule(r) = &body.items[3] else { panic!() };
        assert!(r.terms[0].is_word("tcp"));
        assert!(matches!(&r.terms[2].kind, TermKind::Set(s) if s.elements.len() == 2));
    }

    #[test]
    fn commands() {
        let s = parse(
            "flush ruleset\nadd table ip t\nadd chain ip t c { type filter hook input priority 0; }\nadd rule ip t c ip saddr 1.2.3.4 drop\ninsert rule t c position 4 accept\ndelete rule ip t c handle 5\nadd element ip t s { 1.2.3.4, 5.6.7.8 }\nlist tables\ndefine x = { 1, 2 }\ninclude \"foo.nft\"\nadd ct helper ip t h { type \"ftp\" protocol tcp; }\n",
        );
        assert_eq!(s.items.len(), 11);
        assert!(matches!(&s.items[5].object, Object::Rule { position: Some(_), rule: None, .. }));
    }

    #[test]
    fn sets_and_maps() {
        let s = parse(
            "table ip t {\n set s {\n  type ipv4_addr . inet_service\n  flags interval,timeout\n  elements = { 1.2.3.4 . 80,\n    5.6.7.8 . 443\n  }\n }\n map m { type ipv4_addr : verdict; elements = { 1.2.3.4 : accept } }\n}",
        );
        let Object::Table { body: Some(b), .. } = &s.items[0].object else { panic!() };
        assert_eq!(b.items.len(), 2);
    }

    #[test]
    fn syntax_errors_have_codes_and_spans() {
        let d = parse_script(FileId(0), "table inet f {\n chain c {\n").unwrap_err();
        assert_eq!(d.code, "E0002");
        let d = parse_script(FileId(0), "table inet f { chain }").unwrap_err();
        assert_eq!(d.code, "E0003");
        assert!(d.primary_span().is_some());
    }
}
