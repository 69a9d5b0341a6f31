//! The canonical printer behind `ctc fmt`: nft's `list ruleset` layout (tabs,
//! one item per line, `{ a, b }` set literals, `type ...; policy ...;` on
//! the hook line).
//!
//! Inside a rule the printer keeps whether two terms touched in the source
//! and turns every other run of white space into one space: identifiers may
//! contain `-`, `.` and `/`, so `a-b` and `a - b` lex differently and only
//! this rule guarantees that the output parses back to the same tree.
//! Comments are not part of the tree; [`print_script_with_comments`] puts
//! them back from the source text: a comment on a line of its own goes
//! before the next item printed, a comment after an item on the same line
//! stays at the end of that item's line. (nft's `list ruleset` loses them;
//! a formatter must not.)

use crate::ast::*;
use crate::span::Span;
use std::fmt::Write;

fn table_item_span(item: &TableItem) -> Span {
    match item {
        TableItem::Chain { span, .. }
        | TableItem::Set { span, .. }
        | TableItem::Obj { span, .. }
        | TableItem::Flags { span, .. }
        | TableItem::Comment { span, .. }
        | TableItem::Define { span, .. }
        | TableItem::Redefine { span, .. }
        | TableItem::Undefine { span, .. }
        | TableItem::Include { span, .. } => *span,
    }
}

fn chain_item_span(item: &ChainItem) -> Span {
    match item {
        ChainItem::Hook(h) => h.span,
        ChainItem::Rule(r) => r.span,
        ChainItem::Policy { span, .. }
        | ChainItem::Devices { span, .. }
        | ChainItem::Comment { span, .. }
        | ChainItem::Define { span, .. }
        | ChainItem::Redefine { span, .. }
        | ChainItem::Undefine { span, .. }
        | ChainItem::Include { span, .. } => *span,
    }
}

/// Print a script canonically (without comments).
pub fn print_script(script: &Script) -> String {
    let mut p = Printer::default();
    for cmd in &script.items {
        p.command(cmd);
    }
    p.out
}

/// Print a script canonically, keeping the comments of `src`, the text it
/// was parsed from.
pub fn print_script_with_comments(script: &Script, src: &str) -> String {
    let comments = crate::lexer::comments(src)
        .into_iter()
        .filter_map(|(a, b)| src.get(a..b).map(|t| (a as u32, b as u32, t.trim_end().to_string())))
        .collect();
    let mut p = Printer { comments, src: src.to_string(), ..Printer::default() };
    for cmd in &script.items {
        p.leading(cmd.span);
        p.command(cmd);
        // `command` ended the line; put a same-line comment before that newline.
        if p.has_trailing(cmd.span) {
            p.out.pop();
            p.trailing(cmd.span);
            p.out.push('\n');
        }
    }
    p.leading(Span { start: u32::MAX, end: u32::MAX, ..Span::default() });
    p.out
}

/// Print a sequence of terms on one line.
pub fn print_terms(terms: &[Term]) -> String {
    let mut p = Printer::default();
    p.terms(terms);
    p.out
}

#[derive(Default)]
struct Printer {
    out: String,
    indent: usize,
    /// Comments still to print: (start, end, text), in source order.
    comments: std::collections::VecDeque<(u32, u32, String)>,
    src: String,
}

/// Long set literals in `elements = { ... }` are wrapped after this many
/// elements, one line per chunk, like nft does.
const ELEMENTS_PER_LINE: usize = 8;

impl Printer {
    /// Print, each on its own line, the comments that come before `span`.
    fn leading(&mut self, span: Span) {
        while let Some((start, _, _)) = self.comments.front() {
            if *start >= span.start {
                break;
            }
            let Some((_, _, text)) = self.comments.pop_front() else { break };
            self.line_start();
            self.out.push_str(&text);
            self.out.push('\n');
        }
    }

    /// Whether the next comment starts on the line where `span` ends.
    fn has_trailing(&self, span: Span) -> bool {
        match self.comments.front() {
            Some((start, _, _)) if *start >= span.end => {
                self.src.get(span.end as usize..*start as usize).is_some_and(|gap| !gap.contains('\n'))
            }
            _ => false,
        }
    }

    /// Append the comment that follows `span` on its line, if any.
    fn trailing(&mut self, span: Span) {
        if self.has_trailing(span)
            && let Some((_, _, text)) = self.comments.pop_front()
        {
            self.out.push(' ');
            self.out.push_str(&text);
        }
    }

    /// Comments inside a block after its last item, before its `}`.
    fn block_end(&mut self, block: Span) {
        self.indent += 1;
        self.leading(Span { start: block.end.saturating_sub(1), ..block });
        self.indent -= 1;
    }

    fn line_start(&mut self) {
        for _ in 0..self.indent {
            self.out.push('\t');
        }
    }

    fn name(&mut self, n: &Name) {
        match n.kind {
            NameKind::Ident => self.out.push_str(&n.text),
            NameKind::Quoted => {
                let _ = write!(self.out, "\"{}\"", n.text);
            }
            NameKind::Variable => {
                let _ = write!(self.out, "${}", n.text);
            }
        }
    }

    fn family(&mut self, f: &Option<Spanned<Family>>) {
        if let Some(f) = f {
            self.out.push_str(f.node.as_str());
            self.out.push(' ');
        }
    }

    fn reference(&mut self, r: &Ref) {
        match r {
            Ref::Name(n) => self.name(n),
            Ref::Handle(t) => {
                self.out.push_str("handle ");
                self.term(t);
            }
        }
    }

    fn command(&mut self, cmd: &Command) {
        if let Some(v) = &cmd.verb {
            self.out.push_str(v.node.as_str());
            self.out.push(' ');
        }
        match &cmd.object {
            Object::Ruleset { family } => {
                self.out.push_str("ruleset");
                if let Some(f) = family {
                    self.out.push(' ');
                    self.out.push_str(f.node.as_str());
                }
            }
            Object::Table { family, table, body } => {
                self.out.push_str("table ");
                self.family(family);
                self.reference(table);
                if let Some(b) = body {
                    self.out.push_str(" {\n");
                    self.indent += 1;
                    self.table_items(&b.items);
                    self.indent -= 1;
                    self.block_end(b.span);
                    self.out.push('}');
                }
            }
            Object::Chain { family, table, chain, new_name, body } => {
                self.out.push_str("chain ");
                self.family(family);
                self.name(table);
                self.out.push(' ');
                self.reference(chain);
                if let Some(n) = new_name {
                    self.out.push(' ');
                    self.name(n);
                }
                if let Some(b) = body {
                    self.chain_body(b);
                }
            }
            Object::Rule { family, table, chain, position, rule } => {
                self.out.push_str("rule ");
                self.family(family);
                self.name(table);
                self.out.push(' ');
                self.name(chain);
                if let Some(p) = position {
                    self.out.push_str(match p.kind.node {
                        PositionKind::Position => " position ",
                        PositionKind::Handle => " handle ",
                        PositionKind::Index => " index ",
                    });
                    self.term(&p.value);
                }
                if let Some(r) = rule {
                    self.out.push(' ');
                    self.terms(&r.terms);
                }
            }
            Object::Set { is_map, family, table, set, body } => {
                self.out.push_str(if *is_map { "map " } else { "set " });
                self.family(family);
                self.name(table);
                self.out.push(' ');
                self.reference(set);
                if let Some(b) = body {
                    self.line_block(b);
                }
            }
            Object::Element { family, table, set, elements } => {
                self.out.push_str("element ");
                self.family(family);
                self.name(table);
                self.out.push(' ');
                self.name(set);
                self.out.push(' ');
                self.set_lit(elements, false);
            }
            Object::Obj { kind, family, table, name, body } => {
                self.out.push_str(&kind.node.as_str());
                self.out.push(' ');
                self.family(family);
                self.name(table);
                self.out.push(' ');
                self.reference(name);
                if let Some(b) = body {
                    self.line_block(b);
                }
            }
            Object::Listing { what, family, table } => {
                self.name(what);
                if let Some(f) = family {
                    self.out.push(' ');
                    self.out.push_str(f.node.as_str());
                }
                if let Some(t) = table {
                    self.out.push(' ');
                    self.name(t);
                }
            }
            Object::Define { name, value } => self.define("define", name, value),
            Object::Redefine { name, value } => self.define("redefine", name, value),
            Object::Undefine { name } => {
                self.out.push_str("undefine ");
                self.name(name);
            }
            Object::Include { path } => {
                self.out.push_str("include ");
                self.term(path);
            }
        }
        self.out.push('\n');
    }

    fn define(&mut self, kw: &str, name: &Name, value: &[Term]) {
        self.out.push_str(kw);
        self.out.push(' ');
        self.name(name);
        self.out.push_str(" = ");
        self.terms(value);
    }

    fn table_items(&mut self, items: &[TableItem]) {
        let mut first = true;
        for item in items {
            // A blank line between blocks, as nft prints them.
            let block = matches!(item, TableItem::Chain { .. } | TableItem::Set { .. } | TableItem::Obj { .. });
            if block && !first {
                self.out.push('\n');
            }
            first = false;
            let span = table_item_span(item);
            self.leading(span);
            self.line_start();
            match item {
                TableItem::Chain { name, body, .. } => {
                    self.out.push_str("chain ");
                    self.name(name);
                    self.chain_body(body);
                }
                TableItem::Set { is_map, name, body, .. } => {
                    self.out.push_str(if *is_map { "map " } else { "set " });
                    self.name(name);
                    self.line_block(body);
                }
                TableItem::Obj { kind, name, body, .. } => {
                    self.out.push_str(&kind.node.as_str());
                    self.out.push(' ');
                    self.name(name);
                    if let Some(b) = body {
                        self.line_block(b);
                    }
                }
                TableItem::Flags { terms, .. } => {
                    self.out.push_str("flags ");
                    self.terms(terms);
                }
                TableItem::Comment { text, .. } => {
                    self.out.push_str("comment ");
                    self.term(text);
                }
                TableItem::Define { name, value, .. } => self.define("define", name, value),
                TableItem::Redefine { name, value, .. } => self.define("redefine", name, value),
                TableItem::Undefine { name, .. } => {
                    self.out.push_str("undefine ");
                    self.name(name);
                }
                TableItem::Include { path, .. } => {
                    self.out.push_str("include ");
                    self.term(path);
                }
            }
            self.trailing(span);
            self.out.push('\n');
        }
    }

    /// ` { ... }` with a leading space.
    fn chain_body(&mut self, body: &ChainBody) {
        self.out.push(' ');
        self.chain_block(body);
    }

    fn chain_block(&mut self, body: &ChainBody) {
        self.out.push_str("{\n");
        self.indent += 1;
        self.chain_items(&body.items);
        self.indent -= 1;
        self.block_end(body.span);
        self.line_start();
        self.out.push('}');
    }

    fn chain_items(&mut self, items: &[ChainItem]) {
        let mut i = 0;
        while i < items.len() {
            let mut span = chain_item_span(&items[i]);
            self.leading(span);
            self.line_start();
            match &items[i] {
                ChainItem::Hook(h) => {
                    self.out.push_str("type ");
                    self.name(&h.chain_type);
                    self.out.push_str(" hook ");
                    self.name(&h.hook);
                    if let Some(d) = &h.device {
                        self.out.push_str(" device ");
                        self.terms(d);
                    }
                    if let Some(p) = &h.priority {
                        self.out.push_str(" priority ");
                        self.terms(p);
                    }
                    self.out.push(';');
                    // nft prints the policy on the hook line.
                    if let Some(ChainItem::Policy { value, span: pspan }) = items.get(i + 1) {
                        self.out.push_str(" policy ");
                        self.term(value);
                        self.out.push(';');
                        span = *pspan;
                        i += 1;
                    }
                }
                ChainItem::Policy { value, .. } => {
                    self.out.push_str("policy ");
                    self.term(value);
                    self.out.push(';');
                }
                ChainItem::Devices { terms, .. } => {
                    self.out.push_str("devices = ");
                    self.terms(terms);
                    self.out.push(';');
                }
                ChainItem::Comment { text, .. } => {
                    self.out.push_str("comment ");
                    self.term(text);
                }
                ChainItem::Rule(r) => self.terms(&r.terms),
                ChainItem::Define { name, value, .. } => self.define("define", name, value),
                ChainItem::Redefine { name, value, .. } => self.define("redefine", name, value),
                ChainItem::Undefine { name, .. } => {
                    self.out.push_str("undefine ");
                    self.name(name);
                }
                ChainItem::Include { path, .. } => {
                    self.out.push_str("include ");
                    self.term(path);
                }
            }
            self.trailing(span);
            self.out.push('\n');
            i += 1;
        }
    }

    fn line_block(&mut self, b: &LineBlock) {
        self.out.push_str(" {\n");
        self.indent += 1;
        for line in &b.lines {
            self.leading(line.span);
            self.line_start();
            let wrap = line.terms.first().is_some_and(|t| t.is_word("elements"));
            self.terms_with(&line.terms, wrap);
            self.trailing(line.span);
            self.out.push('\n');
        }
        self.indent -= 1;
        self.block_end(b.span);
        self.line_start();
        self.out.push('}');
    }

    fn terms(&mut self, terms: &[Term]) {
        self.terms_with(terms, false)
    }

    fn terms_with(&mut self, terms: &[Term], wrap_sets: bool) {
        for (i, t) in terms.iter().enumerate() {
            if i > 0 {
                let prev = &terms[i - 1];
                let touching = prev.span.file == t.span.file && prev.span.end == t.span.start;
                if !touching {
                    self.out.push(' ');
                }
            }
            match &t.kind {
                TermKind::Set(s) => self.set_lit(s, wrap_sets),
                _ => self.term(t),
            }
        }
    }

    fn set_lit(&mut self, s: &SetLit, wrap: bool) {
        if s.elements.is_empty() {
            self.out.push_str("{ }");
            return;
        }
        let wrap = wrap && s.elements.len() > ELEMENTS_PER_LINE;
        self.out.push_str("{ ");
        for (i, e) in s.elements.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
                if wrap && i % ELEMENTS_PER_LINE == 0 {
                    self.out.push('\n');
                    self.line_start();
                    self.out.push_str("\t     ");
                } else {
                    self.out.push(' ');
                }
            }
            self.terms(&e.terms);
        }
        self.out.push_str(" }");
    }

    fn term(&mut self, t: &Term) {
        match &t.kind {
            TermKind::Word(w) => self.out.push_str(w),
            TermKind::Lit(LitKind::Str, s) => {
                let _ = write!(self.out, "\"{s}\"");
            }
            TermKind::Lit(_, s) => self.out.push_str(s),
            TermKind::Var(v) => {
                let _ = write!(self.out, "${v}");
            }
            TermKind::At(v) => {
                let _ = write!(self.out, "@{v}");
            }
            TermKind::Op(op) => self.out.push_str(op.as_str()),
            TermKind::Group(ts) => {
                self.out.push('(');
                self.terms(ts);
                self.out.push(')');
            }
            TermKind::Bracket(ts) => {
                self.out.push('[');
                self.terms(ts);
                self.out.push(']');
            }
            TermKind::Set(s) => self.set_lit(s, false),
            TermKind::Chain(body) => self.chain_block(body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::FileId;

    fn fmt(src: &str) -> String {
        let script = crate::parse_script(FileId(0), src).expect("parses");
        print_script_with_comments(&script, src)
    }

    /// Found by the fuzzer: a rule ending in `,` must not swallow the next
    /// line when the output is parsed again (nft breaks lines after commas
    /// only inside `{ }`).
    #[test]
    fn a_trailing_comma_does_not_join_lines() {
        let out = fmt("add rule f i p f uqot,32,; 1");
        assert_eq!(out, "add rule f i p f uqot,32,\n1\n");
        assert_eq!(fmt(&out), out);
        let set =
            fmt("table ip t {\n set s {\n  type ipv4_addr\n  elements = { 192.0.2.1,\n   192.0.2.2\n  }\n }\n}\n");
        assert!(set.contains("elements = { 192.0.2.1, 192.0.2.2 }"), "{set}");
    }

    #[test]
    fn comments_survive_formatting() {
        let src = "# header\ntable inet f { # the table\n  # before the chain\n  chain c {\n    type filter hook input priority 0; policy drop; # hook\n    tcp dport 22 accept   # ssh\n    # last\n  }\n  set s {\n    type ipv4_addr # key\n  }\n}\n# trailer\n";
        let out = fmt(src);
        for c in ["# header", "# the table", "# before the chain", "# hook", "# ssh", "# last", "# key", "# trailer"] {
            assert!(out.contains(c), "{c} lost in:\n{out}");
        }
        assert!(out.contains("tcp dport 22 accept # ssh\n"), "{out}");
        assert!(out.contains("\t\t# last\n\t}"), "{out}");
        assert_eq!(fmt(&out), out, "idempotent");
    }
}
