//! Lookup structures built once per program: exact elements in a hash map
//! keyed by the key bytes, interval elements in a sorted array searched by
//! bisection, and the elements no single order can hold, checked one by
//! one.
//!
//! Keys are the register bytes: big-endian values, each component of a
//! concatenation padded with zeros to a 32-bit word (the kernel's
//! `nft_payload_eval` zeroes the last word of a load before copying, so the
//! padding of a key is always zero).
//!
//! Interval semantics. An element `lo..=hi` of a single-component set holds
//! the keys between its bounds compared as big-endian integers (byte-string
//! order). An element of a concatenation holds the keys whose every
//! component lies between the same component of `lo` and `hi` (the
//! kernel's pipapo set). The IR does not say where components begin, so
//! the interpreter takes each 32-bit word as a component. Both readings
//! agree on every element that is "box-shaped" — equal words, then one word
//! with a range, then full words (any CIDR prefix of any width, any range
//! within one word, any exact key) — and those go to the sorted array.
//! Other elements (`10.0.0.1-10.0.0.9 . 22`) are concatenations with a range
//! before a further component, checked word by word; the reading differs
//! only for a range inside a single component wider than 4 bytes whose
//! bounds differ in more than one word (an IPv6 range that is not a
//! prefix), which needs the component lengths in the IR.
//!
//! Complexity: exact hit O(1); box-shaped ranges O(log n); the rest O(n·w)
//! (n such elements, w words), in declaration order, first match wins;
//! then the catch-all element (`*`: `lo` all zeros, `hi` all ones), which
//! matches only when nothing else does.

use ahash::AHashMap;
use ctc_ir::{Element, Set};

#[derive(Debug, Default)]
pub(crate) struct SetIndex {
    /// Exact elements (`lo == hi`): key → element index. Empty for dynamic
    /// sets, whose exact elements live in the `State`.
    exact: AHashMap<Box<[u8]>, u32>,
    /// Box-shaped ranges sorted by `lo`, not overlapping.
    sorted: Vec<u32>,
    /// Ranges checked word by word, in element order.
    scan: Vec<u32>,
    /// The first element holding every key (`lo` all zeros, `hi` all
    /// ones): nft's catch-all element `*`, which matches only when no other
    /// element does (nft_set_catchall_lookup after a miss).
    catchall: Option<u32>,
}

/// Whether the lexicographic range `lo..=hi` is the word-wise box of the
/// same bounds (see the module doc).
fn box_shaped(lo: &[u8], hi: &[u8]) -> bool {
    let words = lo.len().div_ceil(4);
    let word = |s: &[u8], w: usize| -> (usize, usize) { (w * 4, (w * 4 + 4).min(s.len())) };
    let mut w = 0;
    while w < words {
        let (a, b) = word(lo, w);
        if lo[a..b] != hi[a..b] {
            break;
        }
        w += 1;
    }
    // Words after the first differing one must span their whole range.
    for w in w + 1..words {
        let (a, b) = word(lo, w);
        if lo[a..b].iter().any(|&x| x != 0) || hi[a..b].iter().any(|&x| x != 0xff) {
            return false;
        }
    }
    true
}

/// Word-wise containment: every 32-bit word of `key` between the same word
/// of `lo` and `hi`.
fn in_box(key: &[u8], lo: &[u8], hi: &[u8]) -> bool {
    let mut a = 0;
    while a < key.len() {
        let b = (a + 4).min(key.len());
        if key[a..b] < lo[a..b] || key[a..b] > hi[a..b] {
            return false;
        }
        a = b;
    }
    true
}

impl SetIndex {
    pub(crate) fn build(set: &Set) -> SetIndex {
        let mut ix = SetIndex::default();
        let mut ranges = Vec::new();
        for (i, e) in set.elements.iter().enumerate() {
            if e.lo.iter().all(|&b| b == 0) && e.hi.iter().all(|&b| b == 0xff) {
                ix.catchall.get_or_insert(i as u32);
            } else if e.lo == e.hi {
                // Dynamic sets keep their exact elements in the State
                // (they may be deleted and time out).
                if !set.dynamic {
                    ix.exact.entry(e.lo.clone().into_boxed_slice()).or_insert(i as u32);
                }
            } else if box_shaped(&e.lo, &e.hi) {
                ranges.push(i as u32);
            } else {
                ix.scan.push(i as u32);
            }
        }
        let els = &set.elements;
        ranges.sort_by(|&a, &b| els[a as usize].lo.cmp(&els[b as usize].lo));
        let overlapping = ranges.windows(2).any(|w| els[w[1] as usize].lo <= els[w[0] as usize].hi);
        if overlapping {
            // The kernel refuses overlapping intervals; should the IR hold
            // some, keep the declaration order and let the first one win.
            ranges.sort_unstable();
            ix.scan.extend(ranges);
            ix.scan.sort_unstable();
        } else {
            ix.sorted = ranges;
        }
        ix
    }

    /// The index of the element holding `key`, among the static elements
    /// indexed here.
    pub(crate) fn find(&self, els: &[Element], key: &[u8]) -> Option<u32> {
        if let Some(&i) = self.exact.get(key) {
            return Some(i);
        }
        if !self.sorted.is_empty() {
            // The last range whose low bound is <= key.
            let n = self.sorted.partition_point(|&i| els[i as usize].lo.as_slice() <= key);
            if n > 0 {
                let i = self.sorted[n - 1];
                if key <= els[i as usize].hi.as_slice() {
                    return Some(i);
                }
            }
        }
        self.scan
            .iter()
            .copied()
            .find(|&i| {
                let e = &els[i as usize];
                in_box(key, &e.lo, &e.hi)
            })
            .or(self.catchall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_shapes() {
        // A /8 IPv4 prefix, an IPv6 /32 prefix, a port range: boxes.
        assert!(box_shaped(&[10, 0, 0, 0], &[10, 255, 255, 255]));
        let mut lo6 = [0u8; 16];
        let mut hi6 = [0xffu8; 16];
        lo6[..4].copy_from_slice(&[0x20, 1, 0x0d, 0xb8]);
        hi6[..4].copy_from_slice(&[0x20, 1, 0x0d, 0xb8]);
        assert!(box_shaped(&lo6, &hi6));
        // Address range then an exact port: not a box.
        assert!(!box_shaped(&[10, 0, 0, 1, 0, 22, 0, 0], &[10, 0, 0, 9, 0, 22, 0, 0]));
        assert!(in_box(&[10, 0, 0, 5, 0, 22, 0, 0], &[10, 0, 0, 1, 0, 22, 0, 0], &[10, 0, 0, 9, 0, 22, 0, 0]));
        assert!(!in_box(&[10, 0, 0, 5, 0, 80, 0, 0], &[10, 0, 0, 1, 0, 22, 0, 0], &[10, 0, 0, 9, 0, 22, 0, 0]));
    }
}
