//! Differential fuzzing of the JIT against the interpreter: the input bytes
//! drive `ctc_jit::testgen` to a random program (every IR op, sets, maps,
//! verdict maps, jumps, NAT, ct matches, runs of 5-tuple rules) and random
//! packets with random ct info; both engines must agree on verdicts,
//! deciders, action records, rewritten packets and the State (counters,
//! quotas, dynamic sets).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = ctc_jit::testgen::case(data) {
        panic!("the JIT and the interpreter disagree: {e}");
    }
});
