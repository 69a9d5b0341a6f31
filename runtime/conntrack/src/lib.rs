//! ctc-conntrack: a sans-IO reimplementation of Linux nf_conntrack.

pub mod tcp;
