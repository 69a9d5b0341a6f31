//! Packet captures: pcap and pcapng in, pcap out.
//!
//! Frames from several files (one per interface) are merged by timestamp;
//! ties keep the order of the command line, then of the file, so a replay
//! is deterministic.

use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::{Block, PcapNgReader};
use std::fmt;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The link layer of a captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Ethernet,
    /// LINKTYPE_RAW / IPV4 / IPV6: the frame starts with the IP header.
    RawIp,
}

/// One captured frame, tagged with the interface it entered on.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Nanoseconds since the epoch.
    pub time_ns: u64,
    /// Index into the interfaces given with `--in`.
    pub input: usize,
    pub link: Link,
    pub data: Vec<u8>,
    /// What the receiving side knows of the transport checksum (a live
    /// packet's skb state, which NFQUEUE reports): conntrack verifies it
    /// only when nobody did. Captured frames: `NotVerified`.
    pub l4_checksum: ctc_wire::L4Checksum,
    /// The packet's mark and priority as it arrives (`meta mark`, `meta
    /// priority`): what the queue reports for a live packet (a socket's
    /// SO_MARK, an earlier rule, tc), 0 for captured frames.
    pub mark: u32,
    pub priority: u32,
}

impl Frame {
    /// A frame as a capture holds it: nothing known of its checksum, no
    /// mark or priority.
    pub fn captured(time_ns: u64, input: usize, link: Link, data: Vec<u8>) -> Frame {
        Frame { time_ns, input, link, data, l4_checksum: ctc_wire::L4Checksum::NotVerified, mark: 0, priority: 0 }
    }
}

#[derive(Debug)]
pub struct CaptureError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for CaptureError {}

fn link_of(dl: DataLink) -> Option<Link> {
    match dl {
        DataLink::ETHERNET => Some(Link::Ethernet),
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Some(Link::RawIp),
        _ => None,
    }
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Read every frame of a pcap or pcapng file.
pub fn read(path: &Path, input: usize) -> Result<Vec<Frame>, CaptureError> {
    let err = |m: String| CaptureError { path: path.to_path_buf(), message: m };
    let mut file = File::open(path).map_err(|e| err(e.to_string()))?;
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic).map_err(|e| err(format!("not a capture file: {e}")))?;
    let file = File::open(path).map_err(|e| err(e.to_string()))?;
    let reader = BufReader::new(file);
    let mut frames = Vec::new();
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut r = PcapNgReader::new(reader).map_err(|e| err(format!("bad pcapng: {e}")))?;
        // Per interface of the current section: link type and timestamp
        // resolution (pcap-file 2.0 hands the raw ticks over as
        // nanoseconds; their unit is the interface's if_tsresol, by the
        // pcapng spec 10^-6 s unless the option says otherwise).
        let mut ifaces: Vec<(DataLink, u8)> = Vec::new();
        while let Some(block) = r.next_block() {
            let block = block.map_err(|e| err(format!("bad pcapng block: {e}")))?;
            let (iface, ticks, data) = match block {
                Block::SectionHeader(_) => {
                    ifaces.clear();
                    continue;
                }
                Block::InterfaceDescription(idb) => {
                    ifaces.push((idb.linktype, tsresol(&idb)));
                    continue;
                }
                Block::EnhancedPacket(p) => (p.interface_id as usize, Some(ns(p.timestamp)), p.data.into_owned()),
                Block::SimplePacket(p) => (0, None, p.data.into_owned()),
                _ => continue,
            };
            let &(dl, res) = ifaces.get(iface).ok_or_else(|| err("packet of an undeclared interface".into()))?;
            let link = link_of(dl).ok_or_else(|| err(format!("unsupported link type {dl:?}")))?;
            // A simple packet block has no time: it takes the previous one's.
            let time = ticks.map_or_else(|| frames.last().map_or(0, |f: &Frame| f.time_ns), |t| ticks_to_ns(t, res));
            frames.push(Frame::captured(time, input, link, data));
        }
    } else {
        let mut r = PcapReader::new(reader).map_err(|e| err(format!("bad pcap: {e}")))?;
        let dl = r.header().datalink;
        let link = link_of(dl).ok_or_else(|| err(format!("unsupported link type {dl:?}")))?;
        while let Some(p) = r.next_packet() {
            let p = p.map_err(|e| err(format!("bad pcap record: {e}")))?;
            frames.push(Frame::captured(ns(p.timestamp), input, link, p.data.into_owned()));
        }
    }
    Ok(frames)
}

/// The `if_tsresol` option of an interface (6, microseconds, by default).
fn tsresol(idb: &pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock<'_>) -> u8 {
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
    idb.options
        .iter()
        .find_map(|o| match o {
            InterfaceDescriptionOption::IfTsResol(r) => Some(*r),
            _ => None,
        })
        .unwrap_or(6)
}

/// pcapng ticks → nanoseconds: `res` is a negative power of 10, or of 2 when
/// its high bit is set.
fn ticks_to_ns(ticks: u64, res: u8) -> u64 {
    let t = ticks as u128;
    let ns = if res & 0x80 != 0 {
        (t * 1_000_000_000) >> (res & 0x7f).min(127)
    } else if res <= 9 {
        t * 10u128.pow(9 - res as u32)
    } else {
        t / 10u128.pow((res as u32 - 9).min(38))
    };
    ns.min(u64::MAX as u128) as u64
}

/// Merge per-interface captures by time (stable).
pub fn merge(mut per_input: Vec<Vec<Frame>>) -> Vec<Frame> {
    let mut all: Vec<Frame> = per_input.iter_mut().flat_map(std::mem::take).collect();
    all.sort_by_key(|f| (f.time_ns, f.input));
    all
}

/// A pcap file being written (Ethernet, microsecond timestamps as tcpdump
/// writes by default).
pub struct Writer {
    inner: PcapWriter<BufWriter<File>>,
    path: PathBuf,
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer").field("path", &self.path).finish()
    }
}

impl Writer {
    pub fn create(path: &Path, link: Link) -> Result<Writer, CaptureError> {
        let err = |m: String| CaptureError { path: path.to_path_buf(), message: m };
        let file = File::create(path).map_err(|e| err(e.to_string()))?;
        let header = PcapHeader {
            datalink: if link == Link::Ethernet { DataLink::ETHERNET } else { DataLink::RAW },
            ..PcapHeader::default()
        };
        let inner = PcapWriter::with_header(BufWriter::new(file), header).map_err(|e| err(e.to_string()))?;
        Ok(Writer { inner, path: path.to_path_buf() })
    }

    pub fn write(&mut self, time_ns: u64, data: &[u8]) -> Result<(), CaptureError> {
        let packet = PcapPacket::new(Duration::from_nanos(time_ns), data.len() as u32, data);
        self.inner
            .write_packet(&packet)
            .map(|_| ())
            .map_err(|e| CaptureError { path: self.path.clone(), message: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcap_round_trip_and_merge() {
        let dir = std::env::temp_dir().join(format!("ctc-capture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.pcap");
        let b = dir.join("b.pcap");
        let mut w = Writer::create(&a, Link::Ethernet).unwrap();
        w.write(2_000_000_000, &[1; 60]).unwrap();
        w.write(4_000_000_000, &[2; 60]).unwrap();
        drop(w);
        let mut w = Writer::create(&b, Link::Ethernet).unwrap();
        w.write(3_000_000_000, &[3; 60]).unwrap();
        drop(w);
        let merged = merge(vec![read(&a, 0).unwrap(), read(&b, 1).unwrap()]);
        let order: Vec<u8> = merged.iter().map(|f| f.data[0]).collect();
        assert_eq!(order, [1, 3, 2]);
        assert_eq!(merged[1].input, 1);
        assert_eq!(merged[1].time_ns, 3_000_000_000);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pcapng_is_read_with_its_interfaces_link_types() {
        use pcap_file::pcapng::PcapNgWriter;
        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
        use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
        use std::borrow::Cow;
        let p = std::env::temp_dir().join(format!("ctc-ng-{}.pcapng", std::process::id()));
        let mut w = PcapNgWriter::new(File::create(&p).unwrap()).unwrap();
        use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
        // Interface 0: default resolution (microseconds); interface 1: nanoseconds.
        w.write_pcapng_block(InterfaceDescriptionBlock { linktype: DataLink::ETHERNET, snaplen: 0, options: vec![] })
            .unwrap();
        w.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::RAW,
            snaplen: 0,
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        })
        .unwrap();
        // Raw ticks (the writer takes them as a Duration's nanoseconds).
        for (iface, t, b) in [(0u32, 1_000u64, 7u8), (1, 2_000_000, 8)] {
            w.write_pcapng_block(EnhancedPacketBlock {
                interface_id: iface,
                timestamp: Duration::from_nanos(t),
                original_len: 60,
                data: Cow::Owned(vec![b; 60]),
                options: vec![],
            })
            .unwrap();
        }
        drop(w);
        let frames = read(&p, 3).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!((frames[0].link, frames[0].time_ns, frames[0].data[0]), (Link::Ethernet, 1_000_000, 7));
        assert_eq!((frames[1].link, frames[1].input, frames[1].time_ns), (Link::RawIp, 3, 2_000_000));
        assert_eq!(ticks_to_ns(5, 0x80 | 1), 2_500_000_000, "2^-1 s resolution");
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn not_a_capture_is_an_error() {
        let p = std::env::temp_dir().join(format!("ctc-notpcap-{}", std::process::id()));
        std::fs::write(&p, b"hello world, this is text").unwrap();
        assert!(read(&p, 0).is_err());
        std::fs::remove_file(&p).unwrap();
    }
}
