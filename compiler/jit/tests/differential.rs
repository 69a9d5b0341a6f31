//! Differential testing: random programs (every IR op, sets, maps, verdict
//! maps, jumps, NAT, ct matches, runs of 5-tuple rules) and random packets
//! with random ct info run through the interpreter and the JIT (with and
//! without classifiers); verdicts, deciders, action records, rewritten
//! packets, counters and the rest of the State must agree.

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn jit_agrees_with_the_interpreter(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Err(e) = ctc_jit::testgen::case(&data) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// Most generated programs pass the verifier: the test compares something.
#[test]
fn generated_programs_mostly_verify() {
    let mut ok = 0;
    for seed in 0..200u32 {
        let bytes: Vec<u8> = seed.to_le_bytes().iter().cycle().take(64).copied().collect();
        let mut g = ctc_jit::testgen::Gen::new(&bytes);
        if ctc_ir::verify(ctc_jit::testgen::program(&mut g)).is_ok() {
            ok += 1;
        }
    }
    assert!(ok > 150, "only {ok} of 200 generated programs verify");
}
