//! ctc-vm: the reference interpreter of a verified IR program.
//!
//! This crate is part of the workspace layout of DESIGN.md §2 and holds no code
//! yet: it lands with the packet VM issue. Nothing here pretends to work; the commands that need it report
//! that it is not built.
