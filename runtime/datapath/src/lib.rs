//! ctc-datapath: the packet pipeline of DESIGN §1 around the engine, its
//! packet sources and sinks (pcap replay now; NFQUEUE and AF_XDP later),
//! and the host model.

pub mod bench;
pub mod capture;
pub mod control;
pub mod engine;
pub mod host;
pub mod live;
pub mod log;
mod nat;
mod netlink;
pub mod nfqueue;
pub mod pipeline;
pub mod reject;
pub mod replay;
pub mod rtnl;
pub mod stack;
pub mod stage2;
pub mod sys;
