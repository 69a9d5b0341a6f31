//! Memory hints for the table's big arrays: transparent huge pages and
//! prefetches.
//!
//! In a table of 100k–1M entries every packet touches a random bucket head
//! and a random slot: with 4 KiB pages each is also a TLB miss (a page walk
//! through a nested page table on a VM). THP is in `madvise` mode on the
//! target machines, so the table's arrays (slots, links, order, timer
//! heap, side slabs, bucket heads) ask for huge pages with
//! `madvise(MADV_HUGEPAGE)` right after they are allocated, before their
//! pages are first touched (faults then map 2 MiB pages directly; `defrag`
//! is `madvise` there too). Purely advisory: contents and behaviour are
//! unchanged, and where THP is off the call fails silently.
#![allow(unsafe_code)]

use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use std::alloc::{self, Layout};

use crate::tracker::grown;

/// Size of a huge page on x86-64 and aarch64 with 4 KiB base pages.
const HUGE: usize = 2 << 20;

/// Asks for huge pages over the 2 MiB-aligned part of `[ptr, ptr + len)`,
/// a heap block the caller owns and has not written yet (nothing where
/// that part is empty: blocks smaller than a huge page, and most blocks
/// smaller than two). The bucket heads of a 1M table (4 MB) get one huge
/// page of two this way.
///
/// The allocator may hand out memory that an earlier, freed block already
/// touched (a table array that grew, on the `brk` heap): those pages are
/// mapped as small pages, and `MADV_HUGEPAGE` alone leaves them so (only
/// khugepaged would merge them, slowly). As the block holds nothing yet,
/// its pages are dropped first (`MADV_DONTNEED`): the first write then
/// faults in fresh pages, huge ones where the range allows.
pub(crate) fn advise_fresh<T>(ptr: *const T, len: usize) {
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize + len) & !(HUGE - 1);
    if end <= start {
        return;
    }
    // SAFETY: the range lies inside an allocation the caller owns and has
    // not written (the allocator keeps nothing inside an allocated block),
    // aligned to page boundaries as madvise requires. MADV_DONTNEED only
    // turns its contents, which nobody reads, into zero-fill-on-demand
    // pages of the same private anonymous mapping; MADV_HUGEPAGE only
    // changes how the kernel backs the range. A failure (THP unavailable,
    // or memory that is not private anonymous) changes nothing.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
    }
}

/// A growable array for the table's big arrays (a subset of `Vec`'s
/// API: the slices' methods through `Deref`, `push`, `pop`).
/// What `Vec` cannot do: a block of 2 MiB or more is aligned to 2 MiB, so
/// huge pages cover all of it but its last partial page (a `Vec`'s block
/// starts wherever the allocator puts it, and the huge pages fit only
/// between its first and last 2 MiB boundaries: none in a 3 MiB block that
/// starts just after one, and in a 100k table, of a few MiB per array,
/// much of each array is left on small pages). Every block asks for huge
/// pages before anything is written to it ([`advise_fresh`]), and a full
/// array grows by [`grown`] into a fresh block (a `realloc` in place would
/// keep the old small pages). Blocks come from the global allocator like
/// any other (memory accounting sees them; the allocator may keep up to
/// 2 MiB of address space before an aligned block, never written).
pub(crate) struct BigVec<T> {
    ptr: NonNull<T>,
    len: usize,
    cap: usize,
}

// SAFETY: a `BigVec<T>` owns its elements as a `Vec<T>` does.
unsafe impl<T: Send> Send for BigVec<T> {}
// SAFETY: as above; `&BigVec<T>` gives only `&T`.
unsafe impl<T: Sync> Sync for BigVec<T> {}

impl<T> BigVec<T> {
    /// An empty array (allocates nothing).
    pub(crate) const fn new() -> BigVec<T> {
        BigVec { ptr: NonNull::dangling(), len: 0, cap: 0 }
    }

    /// `len` clones of `v`.
    pub(crate) fn filled(v: T, len: usize) -> BigVec<T>
    where
        T: Clone,
    {
        let mut out = BigVec::new();
        out.grow_to(len);
        for _ in 0..len {
            out.push(v.clone());
        }
        out
    }

    /// The block of `cap` elements: aligned to 2 MiB from 2 MiB on.
    fn layout(cap: usize) -> Layout {
        let bytes = size_of::<T>().checked_mul(cap).expect("capacity overflow");
        let align = if bytes >= HUGE { HUGE.max(align_of::<T>()) } else { align_of::<T>() };
        Layout::from_size_align(bytes, align).expect("capacity overflow")
    }

    /// Moves the elements into a fresh block of `cap` (at least `len`)
    /// elements.
    fn grow_to(&mut self, cap: usize) {
        debug_assert!(cap >= self.len);
        let new = Self::layout(cap);
        let ptr = if new.size() == 0 {
            NonNull::dangling()
        } else {
            // SAFETY: the layout's size is not zero.
            let p = unsafe { alloc::alloc(new) }.cast::<T>();
            let Some(p) = NonNull::new(p) else { alloc::handle_alloc_error(new) };
            advise_fresh(p.as_ptr(), new.size());
            // SAFETY: both blocks hold at least `len` elements and are
            // distinct allocations; the old block's elements are moved
            // (it is freed below without dropping them).
            unsafe { core::ptr::copy_nonoverlapping(self.ptr.as_ptr(), p.as_ptr(), self.len) };
            p
        };
        self.free_block();
        self.ptr = ptr;
        self.cap = cap;
    }

    /// Frees the block without dropping the elements.
    fn free_block(&mut self) {
        let old = Self::layout(self.cap);
        if old.size() != 0 {
            // SAFETY: the block was allocated with this layout (`layout`
            // depends on the capacity only).
            unsafe { alloc::dealloc(self.ptr.as_ptr().cast(), old) };
        }
    }

    /// Appends `v`, the array growing by [`grown`] when it is full.
    #[inline]
    pub(crate) fn push(&mut self, v: T) {
        if self.len == self.cap {
            self.grow_to(grown(self.cap));
        }
        // SAFETY: `len < cap`: the place is inside the block, unused.
        unsafe { self.ptr.as_ptr().add(self.len).write(v) };
        self.len += 1;
    }

    /// Removes the last element.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: the element at the old `len - 1` was initialised and is
        // now outside the array: read out once.
        Some(unsafe { self.ptr.as_ptr().add(self.len).read() })
    }
}

impl<T> Deref for BigVec<T> {
    type Target = [T];

    #[inline(always)]
    fn deref(&self) -> &[T] {
        // SAFETY: the first `len` elements are initialised (a dangling,
        // aligned pointer for an empty array, as slices allow).
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> DerefMut for BigVec<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, and `&mut self` is unique.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> Drop for BigVec<T> {
    fn drop(&mut self) {
        // SAFETY: the first `len` elements are initialised and dropped
        // once; the block is freed after.
        unsafe { core::ptr::drop_in_place(core::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len)) };
        self.free_block();
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for BigVec<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
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
        let mut v = BigVec::filled(7u32, 3 << 20);
        assert!(v.iter().all(|&x| x == 7));
        assert_eq!(v.as_ptr() as usize % HUGE, 0, "a block of 12 MiB starts on a huge page");
        v[12345] = 9;
        let len = v.len();
        v.grow_to(2 * len);
        assert_eq!(v.len(), len);
        assert_eq!(v.cap, 2 * len);
        assert_eq!(v[12345], 9);
        assert_eq!(v.iter().filter(|&&x| x == 7).count(), len - 1);
        // Growth by `grown` when full, from empty too; elements with drop
        // glue are moved, dropped once.
        let mut w: BigVec<String> = BigVec::new();
        for i in 0..1000 {
            w.push(i.to_string());
            assert_eq!(w.len(), i + 1);
            assert!(w.cap > i);
        }
        assert_eq!(w.pop().as_deref(), Some("999"));
        assert_eq!(w[500], "500");
        assert_eq!(format!("{:?}", &BigVec::filled(1u8, 2)), "[1, 1]");
        // Small blocks and odd pointers are fine too.
        let b: Vec<u8> = Vec::with_capacity(5);
        advise_fresh(b.as_ptr().wrapping_add(1), 4);
        // Prefetching any address, even one past the block, is harmless.
        prefetch(v.as_ptr().wrapping_add(1 << 30));
        prefetch(core::ptr::null::<u8>());
    }
}
