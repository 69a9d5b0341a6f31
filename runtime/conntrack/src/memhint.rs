//! Memory hints for the table's big arrays: transparent huge pages and
//! prefetches.
//!
//! In a table of 100k–1M entries every packet touches a random bucket head
//! and a random slot: with 4 KiB pages each is also a TLB miss (a page walk
//! through a nested page table on a VM). THP is in `madvise` mode on the
//! target machines, so the slab and the bucket array ask for huge pages
//! with `madvise(MADV_HUGEPAGE)` right after they are allocated, before
//! their pages are first touched (faults then map 2 MiB pages directly;
//! `defrag` is `madvise` there too). Purely advisory: contents and
//! behaviour are unchanged, and where THP is off the call fails silently.
#![allow(unsafe_code)]

/// Size of a huge page on x86-64 and aarch64 with 4 KiB base pages.
const HUGE: usize = 2 << 20;

/// Asks for huge pages over the 2 MiB-aligned part of `[ptr, ptr + len)`
/// (a heap block the caller owns). Blocks smaller than two huge pages are
/// left alone: the aligned part would be at most one page.
pub(crate) fn advise<T>(ptr: *const T, len: usize) {
    if len < 2 * HUGE {
        return;
    }
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize + len) & !(HUGE - 1);
    if end <= start {
        return;
    }
    // SAFETY: madvise with MADV_HUGEPAGE only changes how the kernel backs
    // the range (it never changes its contents or mapping); the range lies
    // inside an allocation the caller owns, aligned to page boundaries as
    // madvise requires. A failure (THP unavailable) changes nothing.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
    }
}

/// A vector of `len` copies of `v` whose block asks for huge pages before
/// it is filled.
pub(crate) fn filled_vec<T: Copy>(v: T, len: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(len);
    advise(out.as_ptr(), len * size_of::<T>());
    out.resize(len, v);
    out
}

/// Grows `v` (full) to `cap` in a fresh block that asks for huge pages
/// before the elements are moved in (a `realloc` in place would keep the
/// old small pages).
pub(crate) fn regrow<T>(v: &mut Vec<T>, cap: usize) {
    let mut out = Vec::with_capacity(cap);
    advise(out.as_ptr(), cap * size_of::<T>());
    out.append(v);
    *v = out;
}

/// Starts loading the cache line at `p` (no fault, no effect on
/// behaviour: a hint the CPU may ignore).
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 never faults, whatever the address (it is a hint
    // that reads nothing architecturally); SSE is part of the x86-64
    // baseline, so the instruction exists on every x86-64 CPU.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_vectors_keep_their_contents() {
        let mut v = filled_vec(7u32, 3 << 20);
        assert!(v.iter().all(|&x| x == 7));
        v[12345] = 9;
        let len = v.len();
        regrow(&mut v, 2 * len);
        assert_eq!(v.len(), len);
        assert!(v.capacity() >= 2 * len);
        assert_eq!(v[12345], 9);
        assert_eq!(v.iter().filter(|&&x| x == 7).count(), len - 1);
        // Small blocks and odd pointers are fine too.
        advise(v[1..].as_ptr(), 5);
        let mut w: Vec<u8> = Vec::new();
        regrow(&mut w, 3);
        assert!(w.is_empty() && w.capacity() >= 3);
        // Prefetching any address, even one past the block, is harmless.
        prefetch(v.as_ptr().wrapping_add(1 << 30));
        prefetch(core::ptr::null::<u8>());
    }
}
