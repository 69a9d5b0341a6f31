//! The live host model read over rtnetlink (issue #7's foundation), against
//! the kernel: in a fresh network namespace with two veth interfaces,
//! addresses of both families and routes, `rtnl::read_host` must see what
//! `ip` configured. The test runs itself inside the namespace (`ip netns
//! exec`); it needs root and `ip` (in CI it runs; elsewhere it says why it
//! skips).

mod common;

use common::Netns;
use ctc_datapath::rtnl;
use std::net::IpAddr;
use std::process::Command;

#[test]
fn rtnetlink_host_model_matches_ip() {
    let Some(ns) = Netns::for_root_test("rtnl_live", "ctcr", "network namespaces") else { return };
    let script = "set -e
ip link add lan0 address 02:00:00:00:02:01 type veth peer name wan0 address 02:00:00:00:64:20
ip addr add 192.0.2.1/24 dev lan0
ip addr add 2001:db8:1::1/64 dev lan0 nodad
ip addr add 198.51.100.32/24 dev wan0
ip link set lan0 up
ip link set wan0 up
ip route add 203.0.113.0/24 via 198.51.100.47 dev wan0 onlink
ip -6 route add 2001:db8:203::/48 dev wan0";
    assert!(ns.exec(&["sh", "-c", script]), "namespace setup");
    ns.run_child("rtnl_child");
}

#[test]
#[ignore = "run by rtnetlink_host_model_matches_ip inside its namespace"]
fn rtnl_child() {
    let h = rtnl::read_host().expect("rtnetlink dumps");
    assert_eq!(h.ifaces.len(), 2, "lo left out: {h:?}");
    let lan = &h.ifaces[h.iface("lan0").expect("lan0")];
    let wan = &h.ifaces[h.iface("wan0").expect("wan0")];
    // The kernel's own indexes (ip link: lo is 1).
    let index = |name: &str| -> u32 {
        std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex")).unwrap().trim().parse().unwrap()
    };
    assert_eq!((lan.index, wan.index), (index("lan0"), index("wan0")));
    assert_eq!(lan.own_mac, Some([2, 0, 0, 0, 2, 1]));
    let has = |f: &ctc_datapath::host::Iface, a: &str, l: u8| f.addrs.contains(&(a.parse::<IpAddr>().unwrap(), l));
    assert!(has(lan, "192.0.2.1", 24) && has(lan, "2001:db8:1::1", 64) && has(wan, "198.51.100.32", 24), "{h:?}");
    // Routes: the two configured (connected subnets come from the
    // addresses; the kernel's own subnet and link-local routes are left
    // out).
    let wan_i = h.iface("wan0").unwrap();
    assert_eq!(h.route("203.0.113.9".parse().unwrap()), Some(wan_i));
    assert_eq!(h.route("2001:db8:203::9".parse().unwrap()), Some(wan_i));
    assert_eq!(h.route("192.0.2.77".parse().unwrap()), h.iface("lan0"));
    assert_eq!(h.route("8.8.8.8".parse().unwrap()), None, "no route out");
    assert!(h.is_local("198.51.100.32".parse().unwrap()));

    // A change is noticed, and read again.
    let mut w = rtnl::Watcher::new().unwrap();
    assert!(!w.changed(), "nothing changed yet");
    let st = Command::new("ip").args(["addr", "add", "192.0.2.9/24", "dev", "lan0"]).status().unwrap();
    assert!(st.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !w.changed() {
        assert!(std::time::Instant::now() < deadline, "no notification of the new address");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let h = rtnl::read_host().unwrap();
    assert!(h.is_local("192.0.2.9".parse().unwrap()), "{h:?}");
}
