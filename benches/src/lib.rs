//! Benchmark support: generators of large rulesets and traces.
