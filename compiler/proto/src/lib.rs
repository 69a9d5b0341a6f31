//! ctc-proto: the knowledge tables of the nftables language.
//!
//! Everything the checker knows about protocols, header fields, meta and ct
//! keys, data types and their symbolic constants, families, hooks, chain
//! types and priorities lives here as data, one row per fact with a comment
//! where the row is not obvious. `ctc-sema` reads these tables; it holds no
//! protocol knowledge of its own.
//!
//! Sources of truth: nft(8) (`doc/payload-expression.txt`,
//! `doc/primary-expression.txt`, `doc/data-types.txt`, `doc/statements.txt`)
//! and the header layouts of the RFCs cited per protocol.

pub mod chains;
pub mod keys;
pub mod payload;
pub mod symbols;
pub mod types;

pub use chains::*;
pub use keys::*;
pub use payload::*;
pub use types::*;
