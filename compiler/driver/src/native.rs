//! `ctc compile --emit clif|asm`: the Cranelift IR and the machine code of
//! every chain, as the JIT compiles them for this host.

use ctc_jit::{Jit, Options};

/// Which listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeForm {
    /// Cranelift IR text, before optimisation.
    Clif,
    /// The machine instructions after register allocation (Cranelift's
    /// own disassembly of the code it emitted).
    Asm,
}

/// The listing of every chain of a program, chain by chain, each headed by
/// a `; chain FAMILY TABLE NAME` comment with the code size.
pub fn native_listing(program: ctc_ir::VerifiedProgram, form: NativeForm) -> Result<String, String> {
    let opts = Options { clif: form == NativeForm::Clif, asm: form == NativeForm::Asm, ..Options::default() };
    let jit = Jit::with_options(program, opts).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for l in jit.listings() {
        let base = if jit.vm().program().chains[l.chain.index()].base.is_some() { "base chain" } else { "chain" };
        out.push_str(&format!("; {base} {} (#{}): {} bytes of machine code\n", l.name, l.chain.0, l.code_size));
        let text = match form {
            NativeForm::Clif => l.clif.as_deref(),
            NativeForm::Asm => l.asm.as_deref(),
        };
        out.push_str(text.unwrap_or("; (no listing)\n"));
        out.push('\n');
    }
    for (i, c) in jit.classifiers().iter().enumerate() {
        out.push_str(&format!(
            "; classifier #{i}: {} rules, {} bytes of tables, {}\n",
            c.len(),
            c.memory(),
            c.structure()
        ));
    }
    Ok(out)
}
