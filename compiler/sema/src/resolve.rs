//! Commands → the ruleset model; names, scopes, includes and references.

use crate::{Analysis, Loader, Options};
use ctc_grammar::FileId;
use ctc_grammar::ast::Script;

pub struct Resolver<'l> {
    loader: &'l mut dyn Loader,
    opts: &'l Options,
}

impl<'l> Resolver<'l> {
    pub fn new(loader: &'l mut dyn Loader, opts: &'l Options) -> Resolver<'l> {
        Resolver { loader, opts }
    }
    pub fn run(self, script: &Script, file: FileId) -> Analysis {
        let _ = (self.loader, self.opts, script, file);
        Analysis::default()
    }
}
