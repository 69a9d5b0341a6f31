//! Lexer, parser, sema and printer on arbitrary UTF-8: `check_source` must
//! answer with diagnostics, never panic, hang or allocate without bound
//! (DESIGN §3). When the input formats, the output must format to itself
//! and check with the same verdict (fmt only reprints what parsed).

#![no_main]

use ctc_driver::{CheckOptions, check_source, format_source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let checked = check_source("fuzz.nft", text, &CheckOptions::default());
    // Rendering touches every span: a span outside its file would show here.
    for d in &checked.diagnostics {
        let _ = ctc_grammar::render::render_human(&checked.sources, d, ctc_grammar::render::HumanOptions { color: false });
    }
    if let Ok(once) = format_source("fuzz.nft", text) {
        match format_source("fuzz.nft", &once) {
            Ok(twice) => assert_eq!(once, twice, "fmt is not idempotent"),
            Err(c) => panic!("fmt output does not parse again ({} errors):\n{once}", c.errors()),
        }
    }
});
