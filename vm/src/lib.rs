//! ctc-vm: the reference interpreter of a verified IR program — the
//! executable specification every other engine must agree with.
