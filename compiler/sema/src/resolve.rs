//! Commands → the ruleset model; names, scopes, includes and references.
//!
//! Commands apply in order, as `nft -f` applies them in one transaction.
//! Inside a table block, as nft does (its command expansion creates objects,
//! sets and chains before rules), every declaration of the block is known
//! before any rule of the block is checked, so rules may refer to sets and
//! chains declared further down.
//!
//! Variables are expanded at the term level where they are used, in the
//! scope that holds at that point of the file (`define` in a block is local
//! to the block).

use crate::chain::{self, MAX_JUMP_DEPTH};
use crate::cx::{ChainCtx, RuleCx, TableSymbols};
use crate::decl;
use crate::hir::{self, BaseChain, Family};
use crate::{Analysis, Loader, Options};
use ctc_grammar::ast::*;
use ctc_grammar::{Diagnostic, FileId, Span};
use ctc_proto::HookedStmt;
use std::collections::HashMap;

/// Includes nest at most this deep (nft's MAX_INCLUDE_DEPTH).
const MAX_INCLUDE_DEPTH: usize = 16;
/// Variables refer to variables at most this deep (catches recursion).
const MAX_VAR_DEPTH: usize = 32;

#[derive(Debug, Clone)]
struct VarDef {
    value: Vec<Term>,
    span: Span,
    /// Index in `Resolver::defines` (which records whether it is used).
    use_idx: usize,
}

#[derive(Debug)]
struct ChainState {
    name: String,
    span: Span,
    base: Option<BaseChain>,
    rules: Vec<hir::Rule>,
    /// (target, span of the jump, is_goto)
    jumps: Vec<(String, Span, bool)>,
    /// Statements restricted to some hooks, with their spans.
    restricted: Vec<(HookedStmt, Span)>,
    comment: Option<String>,
    anonymous: bool,
}

#[derive(Debug)]
struct TableState {
    family: Family,
    name: String,
    span: Span,
    flags: Vec<String>,
    comment: Option<String>,
    syms: TableSymbols,
    chains: Vec<ChainState>,
    objects: Vec<hir::Object>,
    set_order: Vec<String>,
}

/// A chain of a table block, its terms expanded, waiting for its rules to
/// be checked once the whole block is declared.
struct PendingChain {
    name: String,
    rules: Vec<(Vec<Term>, Span)>,
}

pub struct Resolver<'l> {
    loader: &'l mut dyn Loader,
    opts: &'l Options,
    diags: Vec<Diagnostic>,
    tables: Vec<TableState>,
    scopes: Vec<HashMap<String, VarDef>>,
    include_depth: usize,
    anon_count: usize,
    /// Every define, with whether it was read (for `unused-define`).
    defines: Vec<crate::lint::DefineUse>,
    /// Named sets and objects rules refer to: (table index, ...).
    used_sets: Vec<(usize, String)>,
    used_objects: Vec<(usize, hir::ObjectKind, String)>,
}

impl std::fmt::Debug for Resolver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver").field("tables", &self.tables.len()).finish()
    }
}

fn family_of(f: &Option<Spanned<ctc_grammar::ast::Family>>) -> Family {
    match f.map(|f| f.node) {
        None | Some(ctc_grammar::ast::Family::Ip) => Family::Ip,
        Some(ctc_grammar::ast::Family::Ip6) => Family::Ip6,
        Some(ctc_grammar::ast::Family::Inet) => Family::Inet,
        Some(ctc_grammar::ast::Family::Arp) => Family::Arp,
        Some(ctc_grammar::ast::Family::Bridge) => Family::Bridge,
        Some(ctc_grammar::ast::Family::Netdev) => Family::Netdev,
    }
}

/// E4013: a chain's or table's property given twice in one block (nft:
/// "you cannot set chain policy twice", "You can only specify this once").
fn twice(what: &str, at: Span, first: Span) -> Diagnostic {
    Diagnostic::error("E4013", format!("`{what}` given twice in one block"))
        .with_label(at, "given again")
        .with_secondary(first, "first given here")
        .with_help(format!("nft takes one `{what}` per block: keep one"))
}

fn term_text(t: &Term) -> Option<String> {
    match &t.kind {
        TermKind::Word(w) => Some(w.clone()),
        TermKind::Lit(_, s) => Some(s.clone()),
        _ => None,
    }
}

/// Edit distance, for "did you mean" help.
pub fn similar<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (crate::expr::edit_distance(name, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < name.len().max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

impl<'l> Resolver<'l> {
    pub fn new(loader: &'l mut dyn Loader, opts: &'l Options) -> Resolver<'l> {
        Resolver {
            loader,
            opts,
            diags: Vec::new(),
            tables: Vec::new(),
            scopes: vec![HashMap::new()],
            include_depth: 0,
            anon_count: 0,
            defines: Vec::new(),
            used_sets: Vec::new(),
            used_objects: Vec::new(),
        }
    }

    pub fn run(mut self, script: &Script, _file: FileId) -> Analysis {
        for (name, value) in &self.opts.defines {
            let span = value.first().map(|t| t.span).unwrap_or_default();
            let use_idx = self.defines.len();
            self.defines.push(crate::lint::DefineUse {
                name: name.clone(),
                span,
                used: false,
                from_command_line: true,
            });
            self.scopes[0].insert(name.clone(), VarDef { value: value.clone(), span, use_idx });
        }
        self.commands(&script.items);
        self.check_jump_graph();
        let mut usage = crate::lint::Usage::default();
        for (t, name) in std::mem::take(&mut self.used_sets) {
            let table = &self.tables[t];
            usage.sets.push((table.family, table.name.clone(), name));
        }
        for (t, kind, name) in std::mem::take(&mut self.used_objects) {
            let table = &self.tables[t];
            usage.objects.push((table.family, table.name.clone(), kind, name));
        }
        usage.defines = std::mem::take(&mut self.defines);
        let program = self.build_program();
        Analysis { program, diagnostics: self.diags, usage }
    }

    // ------------------------------------------------------------ variables

    fn lookup_var(&self, name: &str) -> Option<&VarDef> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// Record that the variable `name` (as visible here) is read.
    fn mark_used(&mut self, name: &str) {
        if let Some(i) = self.lookup_var(name).map(|d| d.use_idx)
            && let Some(d) = self.defines.get_mut(i)
        {
            d.used = true;
        }
    }

    fn define(&mut self, name: &Name, value: &[Term], redefine: bool) {
        if name.kind == NameKind::Variable {
            self.diags.push(
                Diagnostic::error("E2003", "a variable name is written without `$` in `define`")
                    .with_label(name.span, "remove the `$`"),
            );
            return;
        }
        self.readable(name);
        let value = self.expand(value, 0);
        let scope = self.scopes.last_mut().expect("the global scope always exists");
        if !redefine && let Some(old) = scope.get(&name.text) {
            let old_span = old.span;
            self.diags.push(
                Diagnostic::error("E1012", format!("redefinition of symbol '{}'", name.text))
                    .with_label(name.span, "already defined in this scope")
                    .with_secondary(old_span, "first defined here")
                    .with_help("use `redefine` to change the value of a variable"),
            );
            return;
        }
        let use_idx = self.defines.len();
        scope.insert(name.text.clone(), VarDef { value, span: name.span, use_idx });
        self.defines.push(crate::lint::DefineUse {
            name: name.text.clone(),
            span: name.span,
            used: false,
            from_command_line: false,
        });
    }

    fn undefine(&mut self, name: &Name) {
        if !self.readable(name) {
            return;
        }
        let scope = self.scopes.last_mut().expect("the global scope always exists");
        if scope.remove(&name.text).is_none() {
            self.diags.push(
                Diagnostic::error("E1005", format!("undefined symbol '{}'", name.text))
                    .with_label(name.span, "no variable of this name to undefine"),
            );
        }
    }

    fn undefined_var(&mut self, name: &str, span: Span) {
        let names: Vec<String> = self.scopes.iter().flat_map(|s| s.keys().cloned()).collect();
        let mut d = Diagnostic::error("E1005", format!("variable `${name}` is not defined"))
            .with_label(span, "undefined variable");
        if let Some(s) = similar(name, names.iter().map(|s| s.as_str())) {
            d = d.with_help(format!("a variable `${s}` exists; did you mean it?"));
        } else {
            d = d.with_help(format!("define it before use: `define {name} = ...`"));
        }
        self.diags.push(d);
    }

    /// Replace every `$var` in `terms` (recursively, inside groups, sets and
    /// anonymous chains) by its value.
    fn expand(&mut self, terms: &[Term], depth: usize) -> Vec<Term> {
        let mut out = Vec::with_capacity(terms.len());
        for t in terms {
            match &t.kind {
                TermKind::Var(name) => {
                    if depth >= MAX_VAR_DEPTH {
                        self.diags.push(
                            Diagnostic::error("E1013", format!("variable `${name}` refers to itself"))
                                .with_label(t.span, "recursive definition"),
                        );
                        continue;
                    }
                    self.mark_used(name);
                    match self.lookup_var(name) {
                        Some(def) => {
                            let value = def.value.clone();
                            // The terms keep their spans in the `define`
                            // (errors about the value point there) and stand
                            // at the `$name` in this text.
                            let site = Some(t.at());
                            out.extend(self.expand(&value, depth + 1).into_iter().map(|e| Term { site, ..e }));
                        }
                        None => self.undefined_var(name, t.span),
                    }
                }
                TermKind::Group(inner) => {
                    out.push(Term { kind: TermKind::Group(self.expand(inner, depth)), span: t.span, site: t.site })
                }
                TermKind::Bracket(inner) => {
                    out.push(Term { kind: TermKind::Bracket(self.expand(inner, depth)), span: t.span, site: t.site })
                }
                TermKind::Set(lit) => {
                    let elements = lit
                        .elements
                        .iter()
                        .map(|e| Element { terms: self.expand(&e.terms, depth), span: e.span })
                        .collect();
                    out.push(Term {
                        kind: TermKind::Set(SetLit { elements, span: lit.span }),
                        span: t.span,
                        site: t.site,
                    })
                }
                TermKind::Chain(body) => {
                    out.push(Term { kind: TermKind::Chain(body.clone()), span: t.span, site: t.site });
                }
                _ => out.push(t.clone()),
            }
        }
        out
    }

    /// A set's or object's block with its variables expanded.
    fn expand_block(&mut self, b: &LineBlock) -> LineBlock {
        let lines = b.lines.iter().map(|l| Line { terms: self.expand(&l.terms, 0), span: l.span }).collect();
        LineBlock { lines, ended: b.ended, span: b.span }
    }

    /// Expand, or `None` when the expansion itself reported an error (an
    /// undefined variable): checking the rest would only cascade.
    fn expand_checked(&mut self, terms: &[Term]) -> Option<Vec<Term>> {
        let before = self.diags.len();
        let out = self.expand(terms, 0);
        (self.diags.len() == before).then_some(out)
    }

    /// E1016 where nft cannot read a name written in place (a keyword, a
    /// number, a quoted string: [`crate::reserved`]), E2002 where the
    /// kernel refuses it as too long; `false` then. The analysis goes on
    /// with the name (a chain or variable so named is declared, so its uses
    /// report nothing more).
    fn readable(&mut self, n: &Name) -> bool {
        if let Some(why) = crate::reserved::unreadable(&n.text, n.kind == NameKind::Quoted) {
            self.diags.push(crate::reserved::diagnostic(why, &n.text, n.span));
            return false;
        }
        if let Some(d) = crate::reserved::too_long(&n.text, n.span) {
            self.diags.push(d);
            return false;
        }
        true
    }

    /// E2002 for a table's or chain's comment longer than nft takes.
    fn comment_length(&mut self, text: &Term) {
        if let Some(d) = term_text(text).and_then(|s| crate::stmt::simple::long_comment(&s, text.span)) {
            self.diags.push(d);
        }
    }

    /// The text of a name, through a variable if it is one.
    fn name(&mut self, n: &Name) -> Option<String> {
        if n.kind != NameKind::Variable {
            self.readable(n);
            return Some(n.text.clone());
        }
        self.mark_used(&n.text);
        let Some(def) = self.lookup_var(&n.text) else {
            self.undefined_var(&n.text, n.span);
            return None;
        };
        let value = def.value.clone();
        match value.as_slice() {
            [t] if term_text(t).is_some() => term_text(t),
            _ => {
                self.diags.push(
                    Diagnostic::error("E2003", format!("variable `${}` does not hold a name", n.text))
                        .with_label(n.span, "a name is expected here")
                        .with_secondary(value.first().map_or(n.span, |t| t.span), "its value"),
                );
                None
            }
        }
    }

    // ------------------------------------------------------------ tables

    fn find_table(&self, family: Family, name: &str) -> Option<usize> {
        self.tables.iter().position(|t| t.family == family && t.name == name)
    }

    fn undefined_table(&mut self, family: Family, name: &str, span: Span) {
        let mut d = Diagnostic::error("E1001", format!("table {} {} is not defined", family.name(), name))
            .with_label(span, "no such table");
        let same_name: Vec<&str> = self.tables.iter().filter(|t| t.name == name).map(|t| t.family.name()).collect();
        if let Some(f) = same_name.first() {
            d = d.with_help(format!("a table `{name}` exists in the {f} family; name the family: `{f} {name}`"));
        } else if let Some(s) =
            similar(name, self.tables.iter().filter(|t| t.family == family).map(|t| t.name.as_str()))
        {
            d = d.with_help(format!("did you mean table {} {}?", family.name(), s));
        } else {
            d = d.with_help(format!("declare it first: `table {} {} {{ ... }}`", family.name(), name));
        }
        self.diags.push(d);
    }

    fn table_idx(&mut self, family: Family, name: &Name) -> Option<usize> {
        let text = self.name(name)?;
        let idx = self.find_table(family, &text);
        if idx.is_none() {
            self.undefined_table(family, &text, name.span);
        }
        idx
    }

    fn new_table(&mut self, family: Family, name: String, span: Span) -> usize {
        self.tables.push(TableState {
            family,
            syms: TableSymbols { family_name: family.name(), name: name.clone(), ..TableSymbols::default() },
            name,
            span,
            flags: Vec::new(),
            comment: None,
            chains: Vec::new(),
            objects: Vec::new(),
            set_order: Vec::new(),
        });
        self.tables.len() - 1
    }

    fn invalid_command(&mut self, verb: &Spanned<Verb>, what: &str) {
        self.diags.push(
            Diagnostic::error("E4010", format!("`{} {}` is not a command", verb.node.as_str(), what))
                .with_label(verb.span, format!("`{}` cannot be used with a {what}", verb.node.as_str())),
        );
    }

    fn commands(&mut self, items: &[Command]) {
        for cmd in items {
            self.command(cmd);
        }
    }

    fn command(&mut self, cmd: &Command) {
        let verb = cmd.verb.map(|v| v.node).unwrap_or(Verb::Add);
        match &cmd.object {
            Object::Define { name, value } => self.define(name, value, false),
            Object::Redefine { name, value } => self.define(name, value, true),
            Object::Undefine { name } => self.undefine(name),
            Object::Include { path } => self.include_top(path),
            Object::Ruleset { family } => match verb {
                Verb::Flush => {
                    let fam = family.map(|_| family_of(family));
                    self.tables.retain(|t| fam.is_some_and(|f| f != t.family));
                }
                Verb::List | Verb::Reset => {}
                _ => {
                    if let Some(v) = &cmd.verb {
                        self.invalid_command(v, "ruleset");
                    }
                }
            },
            Object::Listing { what, .. } => {
                const PLURALS: &[&str] = &[
                    "tables",
                    "chains",
                    "sets",
                    "maps",
                    "counters",
                    "quotas",
                    "limits",
                    "flowtables",
                    "meters",
                    "synproxys",
                    "secmarks",
                    "hooks",
                    "elements",
                ];
                let listing_verb = matches!(cmd.verb.map(|v| v.node), Some(Verb::List | Verb::Reset | Verb::Flush));
                if !listing_verb || !PLURALS.contains(&what.text.as_str()) {
                    let mut d = Diagnostic::error("E0003", format!("unknown command `{}`", what.text))
                        .with_label(what.span, "not a command or an object kind");
                    let words = ["table", "chain", "rule", "set", "map", "element", "flowtable", "counter", "quota"];
                    if let Some(s) = similar(&what.text, words.iter().copied().chain(PLURALS.iter().copied())) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    self.diags.push(d);
                }
            }
            Object::Table { family, table, body } => self.table_command(cmd, verb, family_of(family), table, body),
            Object::Chain { family, table, chain, new_name, body } => {
                self.chain_command(cmd, verb, family_of(family), table, chain, new_name.as_ref(), body.as_ref())
            }
            Object::Rule { family, table, chain, position, rule } => {
                self.rule_command(cmd, verb, family_of(family), table, chain, position.as_ref(), rule.as_ref())
            }
            Object::Set { is_map, family, table, set, body } => {
                self.set_command(cmd, verb, *is_map, family_of(family), table, set, body.as_ref())
            }
            Object::Element { family, table, set, elements } => {
                self.element_command(cmd, verb, family_of(family), table, set, elements)
            }
            Object::Obj { kind, family, table, name, body } => {
                self.obj_command(cmd, verb, kind, family_of(family), table, name, body.as_ref())
            }
        }
    }

    fn include_files(&mut self, path: &Term) -> Vec<(FileId, String)> {
        let TermKind::Lit(LitKind::Str, pattern) = &path.kind else { return Vec::new() };
        if self.include_depth >= MAX_INCLUDE_DEPTH {
            self.diags.push(
                Diagnostic::error("E5002", "includes nested too deeply")
                    .with_label(path.span, format!("more than {MAX_INCLUDE_DEPTH} levels of include"))
                    .with_help("an included file probably includes itself"),
            );
            return Vec::new();
        }
        match self.loader.include(path.span.file, pattern, path.span) {
            Ok(files) => files,
            Err(d) => {
                self.diags.push(d);
                Vec::new()
            }
        }
    }

    fn include_top(&mut self, path: &Term) {
        for (file, text) in self.include_files(path) {
            match ctc_grammar::parse_script(file, &text) {
                Ok(script) => {
                    self.include_depth += 1;
                    self.commands(&script.items);
                    self.include_depth -= 1;
                }
                Err(d) => self.diags.push(d),
            }
        }
    }

    fn table_command(&mut self, cmd: &Command, verb: Verb, family: Family, table: &Ref, body: &Option<TableBody>) {
        let name = match table {
            Ref::Name(n) => n.clone(),
            Ref::Handle(_) => {
                // `delete table handle N`: handles are assigned by the kernel.
                if !matches!(verb, Verb::Delete | Verb::Destroy | Verb::List)
                    && let Some(v) = &cmd.verb
                {
                    self.invalid_command(v, "table handle");
                }
                return;
            }
        };
        let Some(text) = self.name(&name) else { return };
        match verb {
            Verb::Add | Verb::Create => {
                let idx = match self.find_table(family, &text) {
                    Some(i) => {
                        if verb == Verb::Create {
                            let first = self.tables[i].span;
                            self.diags.push(
                                Diagnostic::error("E1006", format!("table {} {} already exists", family.name(), text))
                                    .with_label(name.span, "`create` fails when the table exists")
                                    .with_secondary(first, "declared here")
                                    .with_help(
                                        "use `add table` (or a bare `table` block), which adds to an existing table",
                                    ),
                            );
                        }
                        i
                    }
                    None => self.new_table(family, text, name.span),
                };
                if let Some(b) = body {
                    self.table_block(idx, &b.items);
                }
            }
            Verb::Delete | Verb::Destroy => match self.find_table(family, &text) {
                Some(i) => {
                    self.tables.remove(i);
                }
                None if verb == Verb::Delete => self.undefined_table(family, &text, name.span),
                None => {}
            },
            Verb::Flush => {
                if let Some(i) = self.table_idx(family, &name) {
                    for c in &mut self.tables[i].chains {
                        c.rules.clear();
                        c.jumps.clear();
                        c.restricted.clear();
                    }
                }
            }
            Verb::List | Verb::Reset => {
                self.table_idx(family, &name);
            }
            _ => {
                if let Some(v) = &cmd.verb {
                    self.invalid_command(v, "table");
                }
            }
        }
    }

    /// Flatten a table block's items, resolving includes, and applying
    /// defines in order (the block is one scope).
    fn table_block(&mut self, t: usize, items: &[TableItem]) {
        self.scopes.push(HashMap::new());
        let mut chains: Vec<PendingChain> = Vec::new();
        let mut sets: Vec<(bool, Name, LineBlock, Span)> = Vec::new();
        let mut objs: Vec<(Spanned<ObjectKind>, Name, Option<LineBlock>, Span)> = Vec::new();
        self.collect_table_items(t, items, &mut chains, &mut sets, &mut objs);
        // Declarations first (nft's command expansion order): objects, sets,
        // then chains (already declared while collecting), then rules.
        for (kind, name, body, span) in objs {
            self.declare_object(t, &kind, &name, body.as_ref(), span);
        }
        for (is_map, name, body, span) in sets {
            self.declare_set(t, is_map, &name, &body, span);
        }
        for pc in chains {
            for (terms, span) in pc.rules {
                self.check_rule_into(t, &pc.name, &terms, span);
            }
        }
        self.scopes.pop();
    }

    fn collect_table_items(
        &mut self,
        t: usize,
        items: &[TableItem],
        chains: &mut Vec<PendingChain>,
        sets: &mut Vec<(bool, Name, LineBlock, Span)>,
        objs: &mut Vec<(Spanned<ObjectKind>, Name, Option<LineBlock>, Span)>,
    ) {
        let mut comment_at: Option<Span> = None;
        for item in items {
            match item {
                TableItem::Chain { name, body, span } => {
                    let Some(text) = self.name(name) else { continue };
                    let pc = self.declare_chain(t, &text, name.span, body, *span);
                    chains.push(pc);
                }
                TableItem::Set { is_map, name, body, span } => {
                    let body = self.expand_block(body);
                    sets.push((*is_map, name.clone(), body, *span));
                }
                TableItem::Obj { kind, name, body, span } => {
                    let body = body.as_ref().map(|b| self.expand_block(b));
                    objs.push((kind.clone(), name.clone(), body, *span));
                }
                TableItem::Flags { terms, .. } => {
                    let terms = self.expand(terms, 0);
                    for term in &terms {
                        if let Some(w) = term_text(term) {
                            if !matches!(w.as_str(), "dormant" | "owner" | "persist") {
                                self.diags.push(
                                    Diagnostic::error("E2012", format!("unknown table flag `{w}`"))
                                        .with_label(term.span, "not a table flag")
                                        .with_help("table flags are `dormant`, `owner` and `persist`"),
                                );
                            }
                            self.tables[t].flags.push(w);
                        }
                    }
                }
                TableItem::Comment { text, span } => {
                    if let Some(first) = comment_at.replace(*span) {
                        self.diags.push(twice("comment", *span, first));
                    }
                    self.tables[t].comment = term_text(text);
                    self.comment_length(text);
                }
                TableItem::Define { name, value, .. } => self.define(name, value, false),
                TableItem::Redefine { name, value, .. } => self.define(name, value, true),
                TableItem::Undefine { name, .. } => self.undefine(name),
                TableItem::Include { path, .. } => {
                    for (file, text) in self.include_files(path) {
                        match ctc_grammar::parse_table_body(file, &text) {
                            Ok(inner) => {
                                self.include_depth += 1;
                                self.collect_table_items(t, &inner, chains, sets, objs);
                                self.include_depth -= 1;
                            }
                            Err(d) => self.diags.push(d),
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------ chains

    /// Declare (or extend) a chain from a block; returns its rules, expanded.
    fn declare_chain(&mut self, t: usize, name: &str, name_span: Span, body: &ChainBody, span: Span) -> PendingChain {
        self.scopes.push(HashMap::new());
        let family = self.tables[t].family;
        let mut hook: Option<BaseChain> = None;
        let mut hook_span: Option<Span> = None;
        let mut policy: Option<(hir::Policy, Span)> = None;
        let mut comment = None;
        let mut comment_at: Option<Span> = None;
        let mut rules = Vec::new();
        let mut items: Vec<ChainItem> = body.items.clone();
        let mut i = 0;
        let mut guard = 0usize;
        while i < items.len() {
            let item = items[i].clone();
            i += 1;
            match item {
                ChainItem::Hook(spec) => {
                    let spec = HookSpec {
                        device: spec.device.as_ref().map(|d| self.expand(d, 0)),
                        priority: spec.priority.as_ref().map(|p| self.expand(p, 0)),
                        ..spec
                    };
                    hook_span = Some(spec.span);
                    hook = chain::check_hook_spec(family, &spec, &mut self.diags);
                }
                ChainItem::Policy { value, span } => {
                    if let Some((_, first)) = policy {
                        self.diags.push(twice("policy", span, first));
                        continue;
                    }
                    let v = self.expand(std::slice::from_ref(&value), 0);
                    match v.first().map(chain::check_policy) {
                        Some(Ok(p)) => policy = Some((p, span)),
                        Some(Err(d)) => self.diags.push(d),
                        None => {}
                    }
                }
                ChainItem::Devices { terms, span } => {
                    let terms = self.expand(&terms, 0);
                    if let Some(b) = &mut hook {
                        for term in &terms {
                            if let TermKind::Set(s) = &term.kind {
                                for e in &s.elements {
                                    b.devices.extend(e.terms.iter().filter_map(term_text));
                                }
                            } else if let Some(d) = term_text(term) {
                                b.devices.push(d);
                            }
                        }
                    } else if hook_span.is_none() {
                        self.diags.push(
                            Diagnostic::error("E4009", "devices of a chain that has no hook")
                                .with_label(span, "only a base chain attaches to devices"),
                        );
                    }
                }
                ChainItem::Comment { text, span } => {
                    if let Some(first) = comment_at.replace(span) {
                        self.diags.push(twice("comment", span, first));
                    }
                    comment = term_text(&text);
                    self.comment_length(&text);
                }
                ChainItem::Rule(rule) => {
                    if let Some(terms) = self.expand_checked(&rule.terms)
                        && !terms.is_empty()
                    {
                        rules.push((terms, rule.span));
                    }
                }
                ChainItem::Define { name, value, .. } => self.define(&name, &value, false),
                ChainItem::Redefine { name, value, .. } => self.define(&name, &value, true),
                ChainItem::Undefine { name, .. } => self.undefine(&name),
                ChainItem::Include { path, .. } => {
                    guard += 1;
                    if guard > 64 {
                        continue;
                    }
                    let mut included = Vec::new();
                    for (file, text) in self.include_files(&path) {
                        match ctc_grammar::parse_chain_body(file, &text) {
                            Ok(inner) => included.extend(inner),
                            Err(d) => self.diags.push(d),
                        }
                    }
                    // Splice the included items in place, as nft's textual include.
                    let tail = items.split_off(i);
                    items.extend(included);
                    items.extend(tail);
                }
            }
        }
        self.scopes.pop();
        if let Some((p, pspan)) = policy {
            match &mut hook {
                Some(b) => b.policy = p,
                // A block without a hook that gives a policy: the chain's
                // policy if an earlier block made it a base chain (nft takes
                // `chain c { policy drop; }` after `chain c { type ...; }`:
                // measured).
                None if hook_span.is_none() => {
                    let chain = self.tables[t].chains.iter_mut().find(|c| c.name == name);
                    match chain.and_then(|c| c.base.as_mut()) {
                        Some(b) => b.policy = p,
                        None => self.diags.push(
                            Diagnostic::error("E4007", "policy on a regular chain")
                                .with_label(pspan, "only base chains (with `type ... hook ...`) have a policy")
                                .with_help(
                                    "a regular chain returns to its caller at its end; remove the policy or add a hook",
                                ),
                        ),
                    }
                }
                None => {}
            }
        }
        let table = &mut self.tables[t];
        match table.chains.iter_mut().find(|c| c.name == name) {
            Some(existing) => {
                if let (Some(b), Some(old)) = (&hook, &existing.base)
                    && (b.ty, b.hook, b.priority) != (old.ty, old.hook, old.priority)
                {
                    // The kernel cannot change a base chain's type, hook or
                    // priority (EEXIST / EOPNOTSUPP on the second declaration).
                    self.diags.push(
                        Diagnostic::error(
                            "E1007",
                            format!(
                                "chain `{name}` already exists as a {} chain at the {} hook, priority {}",
                                old.ty.name(),
                                old.hook.name(),
                                old.priority
                            ),
                        )
                        .with_label(b.span, "a second declaration cannot change the hook")
                        .with_secondary(old.span, "first declared here")
                        .with_help("give the second chain another name, or make both declarations the same"),
                    );
                } else if let Some(b) = hook {
                    if existing.base.is_none() && !existing.rules.is_empty() {
                        // Turning a used regular chain into a base chain: the
                        // kernel refuses to change a chain's type.
                        self.diags.push(
                            Diagnostic::error("E1007", format!("chain `{name}` already exists as a regular chain"))
                                .with_label(name_span, "cannot become a base chain")
                                .with_secondary(existing.span, "declared here"),
                        );
                    } else {
                        existing.base = Some(b);
                    }
                }
                if comment.is_some() {
                    existing.comment = comment;
                }
            }
            None => table.chains.push(ChainState {
                name: name.to_string(),
                span: name_span,
                base: hook,
                rules: Vec::new(),
                jumps: Vec::new(),
                restricted: Vec::new(),
                comment,
                anonymous: false,
            }),
        }
        let base = table.chains.iter().find(|c| c.name == name).and_then(|c| c.base.as_ref()).map(|b| (b.ty, b.hook));
        table.syms.chains.insert(name.to_string(), (name_span, base));
        let _ = span;
        PendingChain { name: name.to_string(), rules }
    }

    /// Check one rule (terms already expanded) and append it to a chain.
    fn check_rule_into(&mut self, t: usize, chain_name: &str, terms: &[Term], span: Span) {
        let table = &mut self.tables[t];
        let Some(ci) = table.chains.iter().position(|c| c.name == chain_name) else { return };
        let base = table.chains[ci].base.as_ref().map(|b| (b.ty, b.hook));
        let family = table.family;
        let (rule, jumps, used_sets, used_objs, anon) = {
            let mut cx =
                RuleCx::new(family, &table.syms, ChainCtx { name: chain_name.to_string(), base }, &mut self.diags);
            let rule = crate::rule::check_rule(&mut cx, terms, span);
            (rule, cx.jumps, cx.used_sets, cx.used_objects, cx.anon_chains)
        };
        self.used_sets.extend(used_sets.into_iter().map(|(n, _)| (t, n)));
        self.used_objects.extend(used_objs.into_iter().map(|(k, n, _)| (t, k, n)));
        let restricted: Vec<(HookedStmt, Span)> =
            rule.stmts.iter().filter_map(|s| s.restriction().map(|r| (r, s.span))).collect();
        // Anonymous chains become named chains (`CHAIN.anonN`); the rule's
        // `jump { ... }` becomes a jump to that name, so the HIR needs no
        // side table.
        let names: Vec<String> = anon
            .iter()
            .map(|_| {
                self.anon_count += 1;
                format!("{chain_name}.anon{}", self.anon_count)
            })
            .collect();
        let mut rule = rule;
        for stmt in &mut rule.stmts {
            if let hir::StmtKind::AnonChain { goto, index } = stmt.kind
                && let Some(name) = names.get(index)
            {
                let v = if goto { hir::Verdict::Goto(name.clone()) } else { hir::Verdict::Jump(name.clone()) };
                stmt.kind = hir::StmtKind::Verdict(v);
            }
        }
        let chain = &mut self.tables[t].chains[ci];
        chain.jumps.extend(jumps);
        chain.restricted.extend(restricted);
        chain.rules.push(rule);
        for (body, name) in anon.into_iter().zip(names) {
            let pc = self.declare_chain(t, &name, body.span, &body, body.span);
            if let Some(c) = self.tables[t].chains.iter_mut().find(|c| c.name == name) {
                c.anonymous = true;
            }
            self.tables[t].chains[ci].jumps.push((name.clone(), body.span, false));
            for (terms, span) in pc.rules {
                self.check_rule_into(t, &name, &terms, span);
            }
        }
    }

    fn undefined_chain(&mut self, t: usize, name: &str, span: Span) {
        let table = &self.tables[t];
        let mut d =
            Diagnostic::error("E1002", format!("chain `{name}` is not defined in table {}", table.syms.display()))
                .with_label(span, "no such chain")
                .with_secondary(table.span, "in this table");
        if let Some(s) = similar(name, table.chains.iter().map(|c| c.name.as_str())) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        self.diags.push(d);
    }

    #[allow(clippy::too_many_arguments)]
    fn chain_command(
        &mut self,
        cmd: &Command,
        verb: Verb,
        family: Family,
        table: &Name,
        chain: &Ref,
        new_name: Option<&Name>,
        body: Option<&ChainBody>,
    ) {
        let Some(t) = self.table_idx(family, table) else { return };
        let Ref::Name(cname) = chain else { return };
        let Some(text) = self.name(cname) else { return };
        let exists = self.tables[t].chains.iter().position(|c| c.name == text);
        match verb {
            Verb::Add | Verb::Create => {
                if verb == Verb::Create
                    && let Some(i) = exists
                {
                    let first = self.tables[t].chains[i].span;
                    self.diags.push(
                        Diagnostic::error("E1007", format!("chain `{text}` already exists"))
                            .with_label(cname.span, "`create` fails when the chain exists")
                            .with_secondary(first, "declared here"),
                    );
                }
                let empty = ChainBody { items: Vec::new(), span: cname.span };
                let pc = self.declare_chain(t, &text, cname.span, body.unwrap_or(&empty), cmd.span);
                for (terms, span) in pc.rules {
                    self.check_rule_into(t, &text, &terms, span);
                }
            }
            Verb::Delete | Verb::Destroy => match exists {
                Some(i) => {
                    self.tables[t].chains.remove(i);
                    self.tables[t].syms.chains.remove(&text);
                }
                None if verb == Verb::Delete => self.undefined_chain(t, &text, cname.span),
                None => {}
            },
            Verb::Flush => match exists {
                Some(i) => {
                    let c = &mut self.tables[t].chains[i];
                    c.rules.clear();
                    c.jumps.clear();
                    c.restricted.clear();
                }
                None => self.undefined_chain(t, &text, cname.span),
            },
            Verb::List | Verb::Reset => {
                if exists.is_none() {
                    self.undefined_chain(t, &text, cname.span);
                }
            }
            Verb::Rename => match (exists, new_name) {
                (Some(i), Some(n)) => {
                    if let Some(new) = self.name(n) {
                        let table = &mut self.tables[t];
                        let entry = table.syms.chains.remove(&text);
                        table.chains[i].name = new.clone();
                        if let Some(e) = entry {
                            table.syms.chains.insert(new, e);
                        }
                    }
                }
                (None, _) => self.undefined_chain(t, &text, cname.span),
                (Some(_), None) => self.diags.push(
                    Diagnostic::error("E2014", "missing new chain name")
                        .with_label(cmd.span, "write `rename chain FAMILY TABLE CHAIN NEWNAME`"),
                ),
            },
            _ => {
                if let Some(v) = &cmd.verb {
                    self.invalid_command(v, "chain");
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn rule_command(
        &mut self,
        cmd: &Command,
        verb: Verb,
        family: Family,
        table: &Name,
        chain: &Name,
        position: Option<&Position>,
        rule: Option<&Rule>,
    ) {
        let Some(t) = self.table_idx(family, table) else { return };
        let Some(cname) = self.name(chain) else { return };
        if !self.tables[t].chains.iter().any(|c| c.name == cname) {
            self.undefined_chain(t, &cname, chain.span);
            return;
        }
        match verb {
            Verb::Add | Verb::Insert | Verb::Replace | Verb::Create => match rule {
                Some(r) => {
                    if verb == Verb::Replace && !position.is_some_and(|p| p.kind.node == PositionKind::Handle) {
                        self.diags.push(
                            Diagnostic::error("E2014", "`replace rule` needs the handle of the rule to replace")
                                .with_label(r.span, "write `replace rule FAMILY TABLE CHAIN handle N RULE`"),
                        );
                    }
                    if let Some(terms) = self.expand_checked(&r.terms) {
                        self.check_rule_into(t, &cname, &terms, r.span);
                    }
                }
                None => self.diags.push(
                    Diagnostic::error("E2014", "missing rule")
                        .with_label(cmd.span, "a rule (matches and statements) must follow the chain name"),
                ),
            },
            Verb::Delete | Verb::Destroy | Verb::Reset => {
                if !position.is_some_and(|p| p.kind.node == PositionKind::Handle) {
                    self.diags.push(
                        Diagnostic::error("E2014", "deleting a rule needs its handle")
                            .with_label(cmd.span, "write `delete rule FAMILY TABLE CHAIN handle N`"),
                    );
                }
            }
            _ => {
                if let Some(v) = &cmd.verb {
                    self.invalid_command(v, "rule");
                }
            }
        }
    }

    // ------------------------------------------------------------ sets, elements, objects

    fn undefined_set(&mut self, t: usize, name: &str, span: Span, is_map: bool) {
        let table = &self.tables[t];
        let what = if is_map { "map" } else { "set" };
        let mut d =
            Diagnostic::error("E1003", format!("{what} @{name} is not defined in table {}", table.syms.display()))
                .with_label(span, format!("no such {what}"));
        if let Some(s) = similar(name, table.syms.sets.keys().map(|s| s.as_str())) {
            d = d.with_help(format!("did you mean @{s}?"));
        }
        self.diags.push(d);
    }

    fn declare_set(&mut self, t: usize, is_map: bool, name: &Name, body: &LineBlock, span: Span) {
        // nft's set and map blocks take their last line without a newline
        // or `;` only if it is `elements = { ... }`.
        let elements_last =
            body.lines.last().and_then(|l| l.terms.first()).and_then(term_text).as_deref() == Some("elements");
        if !body.ended && !elements_last {
            self.diags.push(ctc_grammar::unended(body.span.last_char()));
        }
        let Some(text) = self.name(name) else { return };
        let family = self.tables[t].family;
        let set = {
            let table = &self.tables[t];
            decl::check_set(family, &table.syms, &text, name.span, is_map, body, &mut self.diags)
        };
        let Some(set) = set else { return };
        let table = &mut self.tables[t];
        if let Some(old) = table.syms.sets.get(&text) {
            // Re-adding a set with the same definition is allowed; a
            // different key type is the kernel's EEXIST.
            if old.key != set.key || old.data != set.data || old.is_map != set.is_map {
                let old_span = old.span;
                self.diags.push(
                    Diagnostic::error(
                        "E1008",
                        format!("{} @{text} already exists with another type", if is_map { "map" } else { "set" }),
                    )
                    .with_label(name.span, "redeclared with a different type")
                    .with_secondary(old_span, "first declared here"),
                );
                return;
            }
            let old = table.syms.sets.get_mut(&text).expect("checked above");
            crate::elements::add(old, set.elements, crate::elements::Adding::Add, &mut self.diags);
            return;
        }
        let _ = span;
        table.set_order.push(text.clone());
        table.syms.sets.insert(text, set);
    }

    #[allow(clippy::too_many_arguments)]
    fn set_command(
        &mut self,
        cmd: &Command,
        verb: Verb,
        is_map: bool,
        family: Family,
        table: &Name,
        set: &Ref,
        body: Option<&LineBlock>,
    ) {
        let Some(t) = self.table_idx(family, table) else { return };
        let Ref::Name(sname) = set else { return };
        match verb {
            Verb::Add | Verb::Create => {
                let Some(b) = body else {
                    self.diags.push(
                        Diagnostic::error(
                            "E2009",
                            format!("{} declaration without a body", if is_map { "map" } else { "set" }),
                        )
                        .with_label(cmd.span, "add `{ type ...; }` with at least the key type"),
                    );
                    return;
                };
                if verb == Verb::Create
                    && let Some(text) = self.name(sname)
                    && let Some(old) = self.tables[t].syms.sets.get(&text)
                {
                    let old_span = old.span;
                    self.diags.push(
                        Diagnostic::error("E1008", format!("set @{text} already exists"))
                            .with_label(sname.span, "`create` fails when the set exists")
                            .with_secondary(old_span, "declared here"),
                    );
                    return;
                }
                let b = self.expand_block(b);
                self.declare_set(t, is_map, sname, &b, cmd.span);
            }
            Verb::Delete | Verb::Destroy | Verb::Flush | Verb::List | Verb::Reset => {
                let Some(text) = self.name(sname) else { return };
                let exists = self.tables[t].syms.sets.contains_key(&text);
                if !exists {
                    if verb != Verb::Destroy {
                        self.undefined_set(t, &text, sname.span, is_map);
                    }
                    return;
                }
                let table = &mut self.tables[t];
                match verb {
                    Verb::Delete | Verb::Destroy => {
                        table.syms.sets.remove(&text);
                        table.set_order.retain(|s| *s != text);
                    }
                    Verb::Flush => {
                        if let Some(s) = table.syms.sets.get_mut(&text) {
                            s.elements.clear();
                        }
                    }
                    _ => {}
                }
            }
            _ => {
                if let Some(v) = &cmd.verb {
                    self.invalid_command(v, if is_map { "map" } else { "set" });
                }
            }
        }
    }

    fn element_command(
        &mut self,
        cmd: &Command,
        verb: Verb,
        family: Family,
        table: &Name,
        set: &Name,
        elements: &SetLit,
    ) {
        let Some(t) = self.table_idx(family, table) else { return };
        let Some(sname) = self.name(set) else { return };
        if !matches!(verb, Verb::Add | Verb::Create | Verb::Delete | Verb::Destroy | Verb::Get | Verb::Reset) {
            if let Some(v) = &cmd.verb {
                self.invalid_command(v, "element");
            }
            return;
        }
        let Some(decl) = self.tables[t].syms.sets.get(&sname) else {
            self.undefined_set(t, &sname, set.span, false);
            return;
        };
        let (key, data) = decl::set_types(decl);
        let expanded = SetLit {
            elements: elements
                .elements
                .iter()
                .map(|e| Element { terms: self.expand(&e.terms, 0), span: e.span })
                .collect(),
            span: elements.span,
        };
        let table = &self.tables[t];
        let elems = {
            let mut cx =
                RuleCx::new(table.family, &table.syms, ChainCtx { name: String::new(), base: None }, &mut self.diags);
            crate::expr::check_elements(&mut cx, &expanded, &key, data.as_ref())
        };
        if matches!(verb, Verb::Add | Verb::Create)
            && let Some(s) = self.tables[t].syms.sets.get_mut(&sname)
        {
            let how = if verb == Verb::Create { crate::elements::Adding::Create } else { crate::elements::Adding::Add };
            crate::elements::add(s, elems, how, &mut self.diags);
        }
    }

    fn declare_object(
        &mut self,
        t: usize,
        kind: &Spanned<ObjectKind>,
        name: &Name,
        body: Option<&LineBlock>,
        span: Span,
    ) {
        // Flowtables and ct objects end each line with a newline or `;`, as
        // nft's grammar wants; counters, quotas, limits, synproxy and secmark
        // objects need none.
        let ended = matches!(kind.node, ObjectKind::Flowtable | ObjectKind::Ct(_));
        if let Some(b) = body.filter(|b| ended && !b.ended) {
            self.diags.push(ctc_grammar::unended(b.span.last_char()));
        }
        let Some(text) = self.name(name) else { return };
        let Some(obj) = decl::check_object(self.tables[t].family, kind, &text, name.span, body, &mut self.diags) else {
            // Reported; still known by name, so references to it do not
            // add a misleading "not defined" error.
            if let Some(k) = decl::object_kind(kind, &mut Vec::new()) {
                self.tables[t].syms.objects.entry((k, text)).or_insert(name.span);
            }
            return;
        };
        let table = &mut self.tables[t];
        let key = (obj.kind, text.clone());
        if let Some(h) = &obj.helper {
            table.syms.helpers.insert(text.clone(), (h.name.clone(), h.protocol));
        }
        if obj.kind == hir::ObjectKind::Flowtable {
            table.syms.flowtables.insert(text.clone(), name.span);
        }
        let _ = span;
        if table.syms.objects.insert(key, name.span).is_none() {
            table.objects.push(obj);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn obj_command(
        &mut self,
        cmd: &Command,
        verb: Verb,
        kind: &Spanned<ObjectKind>,
        family: Family,
        table: &Name,
        name: &Ref,
        body: Option<&LineBlock>,
    ) {
        let Some(t) = self.table_idx(family, table) else { return };
        let Ref::Name(oname) = name else { return };
        let Some(hkind) = decl::object_kind(kind, &mut self.diags) else { return };
        match verb {
            Verb::Add | Verb::Create => {
                let body = body.map(|b| self.expand_block(b));
                if verb == Verb::Create
                    && let Some(text) = self.name(oname)
                    && let Some(old) = self.tables[t].syms.objects.get(&(hkind, text.clone()))
                {
                    let old = *old;
                    self.diags.push(
                        Diagnostic::error("E1009", format!("{} `{text}` already exists", hkind.as_str()))
                            .with_label(oname.span, "`create` fails when the object exists")
                            .with_secondary(old, "declared here"),
                    );
                    return;
                }
                self.declare_object(t, kind, oname, body.as_ref(), cmd.span);
            }
            Verb::Delete | Verb::Destroy | Verb::List | Verb::Reset => {
                let Some(text) = self.name(oname) else { return };
                let key = (hkind, text.clone());
                let table = &mut self.tables[t];
                if table.syms.objects.contains_key(&key) {
                    if matches!(verb, Verb::Delete | Verb::Destroy) {
                        table.syms.objects.remove(&key);
                        table.objects.retain(|o| !(o.kind == hkind && o.name == text));
                        table.syms.helpers.remove(&text);
                        table.syms.flowtables.remove(&text);
                    }
                } else if verb != Verb::Destroy {
                    let display = table.syms.display();
                    self.diags.push(
                        Diagnostic::error(
                            "E1004",
                            format!("{} `{text}` is not defined in table {display}", hkind.as_str()),
                        )
                        .with_label(oname.span, "no such object"),
                    );
                }
            }
            _ => {
                if let Some(v) = &cmd.verb {
                    self.invalid_command(v, hkind.as_str());
                }
            }
        }
    }

    // ------------------------------------------------------------ the jump graph

    /// The kernel's checks at commit, for every chain reachable from a base
    /// chain: no jump to a base chain, no loop, at most MAX_JUMP_DEPTH
    /// nested jumps; and restricted statements (NAT, reject, ...) in a
    /// regular chain must suit every base chain that reaches it.
    fn check_jump_graph(&mut self) {
        for t in 0..self.tables.len() {
            let table = &self.tables[t];
            let index: HashMap<&str, usize> =
                table.chains.iter().enumerate().map(|(i, c)| (c.name.as_str(), i)).collect();
            let edges: Vec<Vec<(usize, Span)>> = table
                .chains
                .iter()
                .map(|c| c.jumps.iter().filter_map(|(n, s, _)| index.get(n.as_str()).map(|&i| (i, *s))).collect())
                .collect();
            let mut diags = Vec::new();
            // Jumps to base chains (the statement check already reports the
            // ones whose target was known to be a base chain at that point).
            let reported: Vec<Span> =
                self.diags.iter().filter(|d| d.code == "E1014").filter_map(|d| d.primary_span()).collect();
            for (from, es) in edges.iter().enumerate() {
                for &(to, span) in es {
                    if table.chains[to].base.is_some() && !reported.contains(&span) {
                        diags.push(
                            Diagnostic::error(
                                "E1014",
                                format!("cannot jump to base chain `{}`", table.chains[to].name),
                            )
                            .with_label(span, "the target is a base chain")
                            .with_secondary(table.chains[to].span, "declared with a hook here")
                            .with_help(format!(
                                "move the rules to a regular chain and jump there from `{}`",
                                table.chains[from].name
                            )),
                        );
                    }
                }
            }
            // Loops and depth from every base chain. `state`: 0 new, 1 on the
            // current path, 2 done; `height`: longest jump path below.
            let n = table.chains.len();
            let mut state = vec![0u8; n];
            let mut height = vec![0usize; n];
            let mut reported_loop = false;
            for root in 0..n {
                if table.chains[root].base.is_none() {
                    continue;
                }
                // Iterative DFS to keep deep graphs off the stack.
                let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
                if state[root] == 0 {
                    state[root] = 1;
                }
                while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                    if let Some(&(to, span)) = edges[node].get(*next) {
                        *next += 1;
                        if table.chains[to].base.is_some() {
                            continue; // reported above
                        }
                        match state[to] {
                            0 => {
                                state[to] = 1;
                                stack.push((to, 0));
                            }
                            1 if !reported_loop => {
                                reported_loop = true;
                                diags.push(
                                    Diagnostic::error(
                                        "E1010",
                                        format!(
                                            "jump loop: `{}` jumps back to `{}`",
                                            table.chains[node].name, table.chains[to].name
                                        ),
                                    )
                                    .with_label(span, "this jump closes a loop")
                                    .with_secondary(table.chains[to].span, "the loop starts here")
                                    .with_help("the kernel refuses a loop reachable from a base chain (EMLINK, \"Too many links\"); end it with `return` or a verdict instead"),
                                );
                            }
                            _ => {}
                        }
                    } else {
                        state[node] = 2;
                        height[node] = edges[node]
                            .iter()
                            .filter(|(to, _)| table.chains[*to].base.is_none() && state[*to] == 2)
                            .map(|(to, _)| height[*to] + 1)
                            .max()
                            .unwrap_or(0);
                        stack.pop();
                    }
                }
                if height[root] > MAX_JUMP_DEPTH && !reported_loop {
                    // Walk the longest path to the jump that goes too deep.
                    let mut node = root;
                    let mut level = 0;
                    while let Some(&(to, span)) = edges[node]
                        .iter()
                        .filter(|(to, _)| table.chains[*to].base.is_none())
                        .max_by_key(|(to, _)| height[*to])
                    {
                        level += 1;
                        if level > MAX_JUMP_DEPTH {
                            diags.push(
                                Diagnostic::error("E1011", "too many nested jumps")
                                    .with_label(
                                        span,
                                        format!(
                                            "this jump is {level} levels below base chain `{}`",
                                            table.chains[root].name
                                        ),
                                    )
                                    .with_secondary(table.chains[root].span, "base chain")
                                    .with_help(format!(
                                        "the kernel allows at most {MAX_JUMP_DEPTH} nested jumps (EMLINK)"
                                    )),
                            );
                            break;
                        }
                        node = to;
                    }
                }
            }
            // Restricted statements in regular chains, per reaching base chain.
            for root in 0..n {
                let Some(base) = &table.chains[root].base else { continue };
                let mut seen = vec![false; n];
                let mut work: Vec<(usize, Span)> =
                    edges[root].iter().filter(|(to, _)| table.chains[*to].base.is_none()).copied().collect();
                while let Some((c, via)) = work.pop() {
                    if std::mem::replace(&mut seen[c], true) {
                        continue;
                    }
                    for &(stmt, span) in &table.chains[c].restricted {
                        if !ctc_proto::stmt_allowed(stmt, table.family, base.ty, base.hook) {
                            diags.push(
                                Diagnostic::error(
                                    "E4006",
                                    format!(
                                        "`{}` is not allowed here: chain `{}` is reached from the {} chain `{}` at the {} hook",
                                        hooked_name(stmt),
                                        table.chains[c].name,
                                        base.ty.name(),
                                        table.chains[root].name,
                                        base.hook.name()
                                    ),
                                )
                                .with_label(span, "not allowed from that base chain")
                                .with_secondary(via, "reached through this jump")
                                .with_secondary(base.span, "base chain hook"),
                            );
                        }
                    }
                    work.extend(
                        edges[c].iter().filter(|(to, _)| table.chains[*to].base.is_none()).map(|&(to, _)| (to, via)),
                    );
                }
            }
            self.diags.extend(diags);
        }
    }

    fn build_program(&mut self) -> hir::Program {
        let tables = std::mem::take(&mut self.tables);
        hir::Program {
            tables: tables
                .into_iter()
                .map(|mut t| {
                    let sets = t.set_order.iter().filter_map(|n| t.syms.sets.remove(n)).collect();
                    hir::Table {
                        family: t.family,
                        name: t.name,
                        span: t.span,
                        flags: t.flags,
                        comment: t.comment,
                        chains: t
                            .chains
                            .into_iter()
                            .map(|c| hir::Chain {
                                name: c.name,
                                span: c.span,
                                base: c.base,
                                rules: c.rules,
                                comment: c.comment,
                                anonymous: c.anonymous,
                            })
                            .collect(),
                        sets,
                        objects: t.objects,
                    }
                })
                .collect(),
        }
    }
}

fn hooked_name(s: HookedStmt) -> &'static str {
    match s {
        HookedStmt::Snat => "snat",
        HookedStmt::Masquerade => "masquerade",
        HookedStmt::Dnat => "dnat",
        HookedStmt::Redirect => "redirect",
        HookedStmt::Reject => "reject",
        HookedStmt::Tproxy => "tproxy",
        HookedStmt::Fwd => "fwd",
        HookedStmt::Dup => "dup",
        HookedStmt::Synproxy => "synproxy",
    }
}
