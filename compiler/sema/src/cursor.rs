//! A cursor over the terms of a rule, a line or a set element.

use ctc_grammar::Span;
use ctc_grammar::ast::{Op, Term, TermKind};

#[derive(Debug, Clone)]
pub struct Cursor<'t> {
    terms: &'t [Term],
    pos: usize,
    /// Span used for "expected ... here" at the end of the terms.
    end: Span,
}

impl<'t> Cursor<'t> {
    /// `whole` is the span of the rule/line; its end is where "missing"
    /// diagnostics point.
    pub fn new(terms: &'t [Term], whole: Span) -> Cursor<'t> {
        let end = Span { file: whole.file, start: whole.end, end: whole.end };
        Cursor { terms, pos: 0, end }
    }
    pub fn at_end(&self) -> bool {
        self.pos >= self.terms.len()
    }
    pub fn peek(&self) -> Option<&'t Term> {
        self.terms.get(self.pos)
    }
    pub fn peek_at(&self, n: usize) -> Option<&'t Term> {
        self.terms.get(self.pos + n)
    }
    pub fn peek_word(&self) -> Option<&'t str> {
        self.peek().and_then(|t| t.word())
    }
    pub fn peek_word_at(&self, n: usize) -> Option<&'t str> {
        self.peek_at(n).and_then(|t| t.word())
    }
    pub fn peek_op(&self) -> Option<Op> {
        match self.peek().map(|t| &t.kind) {
            Some(TermKind::Op(op)) => Some(*op),
            _ => None,
        }
    }
    /// Consume the next term. (Not `Iterator`: the cursor also peeks ahead
    /// and backtracks with `set_pos`.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<&'t Term> {
        let t = self.terms.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }
    /// Consume the word `w` if it is next.
    pub fn eat_word(&mut self, w: &str) -> bool {
        if self.peek_word() == Some(w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// Consume the operator `op` if it is next.
    pub fn eat_op(&mut self, op: Op) -> bool {
        if self.peek_op() == Some(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// Span of the next term, or the end position.
    pub fn span(&self) -> Span {
        self.peek().map_or(self.end, |t| t.span)
    }
    /// Span of the previous term (or the end position at the start).
    pub fn prev_span(&self) -> Span {
        if self.pos == 0 { self.end } else { self.terms[self.pos - 1].span }
    }
    /// Span from term index `from` to the last consumed term.
    pub fn span_from(&self, from: usize) -> Span {
        if from >= self.pos || from >= self.terms.len() {
            return self.span();
        }
        // Where the terms stand: a variable's value stays at its `$name`,
        // the span does not reach back to the `define`.
        self.terms[from].at().to(self.terms[self.pos - 1].at())
    }
    pub fn pos(&self) -> usize {
        self.pos
    }
    pub fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.terms.len());
    }
    pub fn rest(&self) -> &'t [Term] {
        &self.terms[self.pos.min(self.terms.len())..]
    }
    pub fn end_span(&self) -> Span {
        self.end
    }
    /// Skip everything (after an error, to go on with the next rule).
    pub fn skip_to_end(&mut self) {
        self.pos = self.terms.len();
    }
}
