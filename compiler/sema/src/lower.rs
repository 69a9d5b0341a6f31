//! Lowering: the checked HIR → `ctc_ir::Program`, for the constructs the
//! runtime executes (families ip, ip6 and inet). Anything else is a
//! diagnostic naming the construct (E6001), never silently dropped.

use crate::hir;
use ctc_grammar::{Diagnostic, SourceMap};

/// Lower a checked program. `sources` gives rules their `FILE:LINE`.
pub fn lower(program: &hir::Program, sources: &SourceMap) -> Result<ctc_ir::Program, Vec<Diagnostic>> {
    let _ = (program, sources);
    Err(vec![Diagnostic::error("E6001", "lowering to the IR is not built yet")])
}
