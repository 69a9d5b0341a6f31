//! Symbolic constants of the nft data types (`nft describe TYPE` lists them).
//!
//! Values are plain numbers in the type's natural order: `ssh` is 22 whatever
//! the byte order the register uses, `arp_op request` is 1 (nft stores it
//! big-endian, the lowering does the swap). One table per type, referenced by
//! the rows of [`crate::types::DATATYPES`].

/// Symbol table: name and value.
pub type Symbols = &'static [(&'static str, u64)];

/// `inet_service`: the names nft resolves through `getaddrinfo`, i.e. the
/// netbase `/etc/services` of Debian (tcp, udp, sctp and dccp entries, names
/// and aliases, first port wins as in `getservbyname`). Embedded, never read at
/// run time, so `ctc check` gives the same answer on every machine.
pub static INET_SERVICES: Symbols = &[
    ("tcpmux", 1),
    ("echo", 7),
    ("discard", 9),
    ("sink", 9),
    ("null", 9),
    ("systat", 11),
    ("users", 11),
    ("daytime", 13),
    ("netstat", 15),
    ("qotd", 17),
    ("quote", 17),
    ("chargen", 19),
    ("ttytst", 19),
    ("source", 19),
    ("ftp-data", 20),
    ("ftp", 21),
    ("fsp", 21),
    ("fspd", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("mail", 25),
    ("time", 37),
    ("timserver", 37),
    ("whois", 43),
    ("nicname", 43),
    ("tacacs", 49),
    ("domain", 53),
    ("bootps", 67),
    ("bootpc", 68),
    ("tftp", 69),
    ("gopher", 70),
    ("finger", 79),
    ("http", 80),
    ("www", 80),
    ("kerberos", 88),
    ("kerberos5", 88),
    ("krb5", 88),
    ("kerberos-sec", 88),
    ("iso-tsap", 102),
    ("tsap", 102),
    ("acr-nema", 104),
    ("dicom", 104),
    ("pop3", 110),
    ("pop-3", 110),
    ("sunrpc", 111),
    ("portmapper", 111),
    ("auth", 113),
    ("authentication", 113),
    ("tap", 113),
    ("ident", 113),
    ("nntp", 119),
    ("readnews", 119),
    ("untp", 119),
    ("ntp", 123),
    ("epmap", 135),
    ("loc-srv", 135),
    ("netbios-ns", 137),
    ("netbios-dgm", 138),
    ("netbios-ssn", 139),
    ("imap2", 143),
    ("imap", 143),
    ("snmp", 161),
    ("snmp-trap", 162),
    ("snmptrap", 162),
    ("cmip-man", 163),
    ("cmip-agent", 164),
    ("mailq", 174),
    ("xdmcp", 177),
    ("bgp", 179),
    ("smux", 199),
    ("qmtp", 209),
    ("z3950", 210),
    ("wais", 210),
    ("ipx", 213),
    ("ptp-event", 319),
    ("ptp-general", 320),
    ("pawserv", 345),
    ("zserv", 346),
    ("rpc2portmap", 369),
    ("codaauth2", 370),
    ("clearcase", 371),
    ("Clearcase", 371),
    ("ldap", 389),
    ("svrloc", 427),
    ("https", 443),
    ("snpp", 444),
    ("microsoft-ds", 445),
    ("kpasswd", 464),
    ("submissions", 465),
    ("ssmtp", 465),
    ("smtps", 465),
    ("urd", 465),
    ("saft", 487),
    ("isakmp", 500),
    ("rtsp", 554),
    ("nqs", 607),
    ("asf-rmcp", 623),
    ("qmqp", 628),
    ("ipp", 631),
    ("ldp", 646),
    ("exec", 512),
    ("biff", 512),
    ("comsat", 512),
    ("login", 513),
    ("who", 513),
    ("whod", 513),
    ("shell", 514),
    ("cmd", 514),
    ("syslog", 514),
    ("printer", 515),
    ("spooler", 515),
    ("talk", 517),
    ("ntalk", 518),
    ("route", 520),
    ("router", 520),
    ("routed", 520),
    ("gdomap", 538),
    ("uucp", 540),
    ("uucpd", 540),
    ("klogin", 543),
    ("kshell", 544),
    ("krcmd", 544),
    ("dhcpv6-client", 546),
    ("dhcpv6-server", 547),
    ("afpovertcp", 548),
    ("nntps", 563),
    ("snntp", 563),
    ("submission", 587),
    ("ldaps", 636),
    ("tinc", 655),
    ("silc", 706),
    ("kerberos-adm", 749),
    ("domain-s", 853),
    ("rsync", 873),
    ("ftps-data", 989),
    ("ftps", 990),
    ("telnets", 992),
    ("imaps", 993),
    ("pop3s", 995),
    ("socks", 1080),
    ("proofd", 1093),
    ("rootd", 1094),
    ("openvpn", 1194),
    ("rmiregistry", 1099),
    ("lotusnote", 1352),
    ("lotusnotes", 1352),
    ("ms-sql-s", 1433),
    ("ms-sql-m", 1434),
    ("ingreslock", 1524),
    ("datametrics", 1645),
    ("old-radius", 1645),
    ("sa-msg-port", 1646),
    ("old-radacct", 1646),
    ("kermit", 1649),
    ("groupwise", 1677),
    ("l2f", 1701),
    ("l2tp", 1701),
    ("radius", 1812),
    ("radius-acct", 1813),
    ("radacct", 1813),
    ("cisco-sccp", 2000),
    ("nfs", 2049),
    ("gnunet", 2086),
    ("rtcm-sc104", 2101),
    ("gsigatekeeper", 2119),
    ("gris", 2135),
    ("cvspserver", 2401),
    ("venus", 2430),
    ("venus-se", 2431),
    ("codasrv", 2432),
    ("codasrv-se", 2433),
    ("mon", 2583),
    ("dict", 2628),
    ("f5-globalsite", 2792),
    ("gsiftp", 2811),
    ("gpsd", 2947),
    ("gds-db", 3050),
    ("gds_db", 3050),
    ("icpv2", 3130),
    ("icp", 3130),
    ("isns", 3205),
    ("iscsi-target", 3260),
    ("mysql", 3306),
    ("ms-wbt-server", 3389),
    ("nut", 3493),
    ("distcc", 3632),
    ("daap", 3689),
    ("svn", 3690),
    ("subversion", 3690),
    ("suucp", 4031),
    ("sysrqd", 4094),
    ("sieve", 4190),
    ("epmd", 4369),
    ("remctl", 4373),
    ("f5-iquery", 4353),
    ("ntske", 4460),
    ("ipsec-nat-t", 4500),
    ("iax", 4569),
    ("mtn", 4691),
    ("radmin-port", 4899),
    ("sip", 5060),
    ("sip-tls", 5061),
    ("xmpp-client", 5222),
    ("jabber-client", 5222),
    ("xmpp-server", 5269),
    ("jabber-server", 5269),
    ("cfengine", 5308),
    ("mdns", 5353),
    ("postgresql", 5432),
    ("postgres", 5432),
    ("freeciv", 5556),
    ("rptp", 5556),
    ("amqps", 5671),
    ("amqp", 5672),
    ("x11", 6000),
    ("x11-0", 6000),
    ("x11-1", 6001),
    ("x11-2", 6002),
    ("x11-3", 6003),
    ("x11-4", 6004),
    ("x11-5", 6005),
    ("x11-6", 6006),
    ("x11-7", 6007),
    ("gnutella-svc", 6346),
    ("gnutella-rtr", 6347),
    ("redis", 6379),
    ("sge-qmaster", 6444),
    ("sge_qmaster", 6444),
    ("sge-execd", 6445),
    ("sge_execd", 6445),
    ("mysql-proxy", 6446),
    ("babel", 6696),
    ("ircs-u", 6697),
    ("bbs", 7000),
    ("afs3-fileserver", 7000),
    ("afs3-callback", 7001),
    ("afs3-prserver", 7002),
    ("afs3-vlserver", 7003),
    ("afs3-kaserver", 7004),
    ("afs3-volser", 7005),
    ("afs3-bos", 7007),
    ("afs3-update", 7008),
    ("afs3-rmtsys", 7009),
    ("font-service", 7100),
    ("xfs", 7100),
    ("http-alt", 8080),
    ("webcache", 8080),
    ("puppet", 8140),
    ("bacula-dir", 9101),
    ("bacula-fd", 9102),
    ("bacula-sd", 9103),
    ("xmms2", 9667),
    ("nbd", 10809),
    ("zabbix-agent", 10050),
    ("zabbix-trapper", 10051),
    ("amanda", 10080),
    ("hkp", 11371),
    ("db-lsp", 17500),
    ("dcap", 22125),
    ("gsidcap", 22128),
    ("wnn6", 22273),
    ("kerberos4", 750),
    ("kerberos-iv", 750),
    ("kdc", 750),
    ("kerberos-master", 751),
    ("kerberos_master", 751),
    ("passwd-server", 752),
    ("passwd_server", 752),
    ("krb-prop", 754),
    ("krb_prop", 754),
    ("krb5_prop", 754),
    ("hprop", 754),
    ("zephyr-srv", 2102),
    ("zephyr-clt", 2103),
    ("zephyr-hm", 2104),
    ("iprop", 2121),
    ("supfilesrv", 871),
    ("supfiledbg", 1127),
    ("poppassd", 106),
    ("moira-db", 775),
    ("moira_db", 775),
    ("moira-update", 777),
    ("moira_update", 777),
    ("moira-ureg", 779),
    ("moira_ureg", 779),
    ("spamd", 783),
    ("skkserv", 1178),
    ("predict", 1210),
    ("rmtcfg", 1236),
    ("xtel", 1313),
    ("xtelw", 1314),
    ("zebrasrv", 2600),
    ("zebra", 2601),
    ("ripd", 2602),
    ("ripngd", 2603),
    ("ospfd", 2604),
    ("bgpd", 2605),
    ("ospf6d", 2606),
    ("ospfapi", 2607),
    ("isisd", 2608),
    ("fax", 4557),
    ("hylafax", 4559),
    ("munin", 4949),
    ("lrrd", 4949),
    ("rplay", 5555),
    ("nrpe", 5666),
    ("nsca", 5667),
    ("canna", 5680),
    ("syslog-tls", 6514),
    ("sane-port", 6566),
    ("sane", 6566),
    ("saned", 6566),
    ("ircd", 6667),
    ("zope-ftp", 8021),
    ("tproxy", 8081),
    ("omniorb", 8088),
    ("clc-build-daemon", 8990),
    ("xinetd", 9098),
    ("git", 9418),
    ("zope", 9673),
    ("webmin", 10000),
    ("kamanda", 10081),
    ("amandaidx", 10082),
    ("amidxtape", 10083),
    ("sgi-cmsd", 17001),
    ("sgi-crsd", 17002),
    ("sgi-gcd", 17003),
    ("sgi-cad", 17004),
    ("binkp", 24554),
    ("asp", 27374),
    ("csync2", 30865),
    ("dircproxy", 57000),
    ("tfido", 60177),
    ("fido", 60179),
    // IANA assignments that Debian's netbase dropped but users still write
    // (older /etc/services files carried them).
    ("irc", 194),
    ("pptp", 1723),
];

/// `inet_proto`: `/etc/protocols` (netbase) names and lower-case aliases,
/// plus the keywords nft's parser maps itself (`icmpv6`, `comp`). Only 8-bit
/// values: `mptcp` (262) cannot appear in `meta l4proto`.
pub static INET_PROTOS: Symbols = &[
    ("ip", 0),
    ("hopopt", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ggp", 3),
    ("ipencap", 4),
    ("st", 5),
    ("tcp", 6),
    ("egp", 8),
    ("igp", 9),
    ("pup", 12),
    ("udp", 17),
    ("hmp", 20),
    ("xns-idp", 22),
    ("rdp", 27),
    ("iso-tp4", 29),
    ("dccp", 33),
    ("xtp", 36),
    ("ddp", 37),
    ("idpr-cmtp", 38),
    ("ipv6", 41),
    ("ipv6-route", 43),
    ("ipv6-frag", 44),
    ("idrp", 45),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("skip", 57),
    ("ipv6-icmp", 58),
    // nft's own keyword for 58 (`meta l4proto icmpv6`).
    ("icmpv6", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("rspf", 73),
    ("vmtp", 81),
    ("eigrp", 88),
    ("ospf", 89),
    ("ax.25", 93),
    ("ipip", 94),
    ("etherip", 97),
    ("encap", 98),
    ("pim", 103),
    ("ipcomp", 108),
    // nft's keyword for IPPROTO_COMP (the `comp` header expression).
    ("comp", 108),
    ("vrrp", 112),
    ("l2tp", 115),
    ("isis", 124),
    ("sctp", 132),
    ("fc", 133),
    ("mobility-header", 135),
    ("udplite", 136),
    ("mpls-in-ip", 137),
    ("manet", 138),
    ("hip", 139),
    ("shim6", 140),
    ("wesp", 141),
    ("rohc", 142),
    ("ethernet", 143),
];

/// `ether_type` (16 bits, network order on the wire).
pub static ETHER_TYPES: Symbols = &[
    ("ip", 0x0800),
    ("arp", 0x0806),
    ("ip6", 0x86dd),
    // IEEE 802.1Q customer tag.
    ("8021q", 0x8100),
    // IEEE 802.1ad service tag (QinQ outer tag).
    ("8021ad", 0x88a8),
    // Old spelling of 8021q kept by nft for compatibility.
    ("vlan", 0x8100),
];

/// `nf_proto`: the netfilter family numbers (NFPROTO_IPV4/IPV6).
pub static NF_PROTOS: Symbols = &[("ipv4", 2), ("ipv6", 10)];

/// `pkt_type`: skb->pkt_type (PACKET_HOST ... PACKET_OTHERHOST).
pub static PKT_TYPES: Symbols = &[
    ("host", 0),
    // nft's alias of PACKET_HOST.
    ("unicast", 0),
    ("broadcast", 1),
    ("multicast", 2),
    ("other", 3),
];

/// `iface_type`: ARPHRD_* values of the device (if_arp.h).
pub static IFACE_TYPES: Symbols = &[
    ("ether", 1),
    ("ppp", 512),
    // ARPHRD_TUNNEL (IPIP).
    ("ipip", 768),
    // ARPHRD_TUNNEL6.
    ("ipip6", 769),
    ("loopback", 772),
    ("sit", 776),
    ("ipgre", 778),
];

/// `ct_state`: the NF_CT_STATE_* bits the kernel puts in the register
/// (`BIT(ctinfo)` for tracked packets, special bits for invalid/untracked).
pub static CT_STATES: Symbols = &[
    // NF_CT_STATE_INVALID_BIT
    ("invalid", 1),
    // BIT(IP_CT_ESTABLISHED)
    ("established", 2),
    // BIT(IP_CT_RELATED)
    ("related", 4),
    // BIT(IP_CT_NEW)
    ("new", 8),
    // NF_CT_STATE_UNTRACKED_BIT
    ("untracked", 64),
];

/// `ct_status`: IPS_* bits of nf_conntrack_common.h that nft names.
pub static CT_STATUSES: Symbols = &[
    ("expected", 1 << 0),
    ("seen-reply", 1 << 1),
    ("assured", 1 << 2),
    ("confirmed", 1 << 3),
    // IPS_SRC_NAT
    ("snat", 1 << 4),
    // IPS_DST_NAT
    ("dnat", 1 << 5),
    // IPS_DYING is bit 9 (bits 6-8 are SEQ_ADJUST, *_NAT_DONE).
    ("dying", 1 << 9),
];

/// `ct_dir`: IP_CT_DIR_ORIGINAL / IP_CT_DIR_REPLY.
pub static CT_DIRS: Symbols = &[("original", 0), ("reply", 1)];

/// `ct_event`: `1 << IPCT_*` (enum ip_conntrack_events).
pub static CT_EVENTS: Symbols = &[
    ("new", 1 << 0),
    ("related", 1 << 1),
    ("destroy", 1 << 2),
    ("reply", 1 << 3),
    ("assured", 1 << 4),
    ("protoinfo", 1 << 5),
    ("helper", 1 << 6),
    ("mark", 1 << 7),
    ("seqadj", 1 << 8),
    ("secmark", 1 << 9),
    ("label", 1 << 10),
];

/// `icmp_type` (RFC 792, 950, 1256).
pub static ICMP_TYPES: Symbols = &[
    ("echo-reply", 0),
    ("destination-unreachable", 3),
    ("source-quench", 4),
    ("redirect", 5),
    ("echo-request", 8),
    ("router-advertisement", 9),
    ("router-solicitation", 10),
    ("time-exceeded", 11),
    ("parameter-problem", 12),
    ("timestamp-request", 13),
    ("timestamp-reply", 14),
    ("info-request", 15),
    ("info-reply", 16),
    ("address-mask-request", 17),
    ("address-mask-reply", 18),
];

/// `icmp_code`: the destination-unreachable codes nft names (RFC 792, 1812);
/// also the codes `reject with icmp` accepts.
pub static ICMP_CODES: Symbols = &[
    ("net-unreachable", 0),
    ("host-unreachable", 1),
    ("prot-unreachable", 2),
    ("port-unreachable", 3),
    ("frag-needed", 4),
    ("net-prohibited", 9),
    ("host-prohibited", 10),
    ("admin-prohibited", 13),
];

/// `icmpv6_type` (RFC 4443, 4861, 2710, 3810, 3122).
pub static ICMPV6_TYPES: Symbols = &[
    ("destination-unreachable", 1),
    ("packet-too-big", 2),
    ("time-exceeded", 3),
    ("parameter-problem", 4),
    ("echo-request", 128),
    ("echo-reply", 129),
    ("mld-listener-query", 130),
    ("mld-listener-report", 131),
    ("mld-listener-done", 132),
    // Same type as mld-listener-done (RFC 2710 calls it "done", glibc "reduction").
    ("mld-listener-reduction", 132),
    ("nd-router-solicit", 133),
    ("nd-router-advert", 134),
    ("nd-neighbor-solicit", 135),
    ("nd-neighbor-advert", 136),
    ("nd-redirect", 137),
    ("router-renumbering", 138),
    // Inverse neighbor discovery (RFC 3122).
    ("ind-neighbor-solicit", 141),
    ("ind-neighbor-advert", 142),
    ("mld2-listener-report", 143),
];

/// `icmpv6_code`: destination-unreachable codes (RFC 4443 section 3.1).
pub static ICMPV6_CODES: Symbols = &[
    ("no-route", 0),
    ("admin-prohibited", 1),
    ("addr-unreachable", 3),
    ("port-unreachable", 4),
    ("policy-fail", 5),
    ("reject-route", 6),
];

/// `icmpx_code`: nft's family-independent reject codes (NFT_REJECT_ICMPX_*),
/// translated by the kernel into the ICMP or ICMPv6 code.
pub static ICMPX_CODES: Symbols =
    &[("no-route", 0), ("port-unreachable", 1), ("host-unreachable", 2), ("admin-prohibited", 3)];

/// `igmp_type` (RFC 1112, 2236, 3376).
pub static IGMP_TYPES: Symbols = &[
    ("membership-query", 0x11),
    ("membership-report-v1", 0x12),
    ("membership-report-v2", 0x16),
    ("membership-report-v3", 0x22),
    ("leave-group", 0x17),
];

/// `tcp_flag`: bits of byte 13 of the TCP header (RFC 793, 3168).
pub static TCP_FLAGS: Symbols = &[
    ("fin", 0x01),
    ("syn", 0x02),
    ("rst", 0x04),
    ("psh", 0x08),
    ("ack", 0x10),
    ("urg", 0x20),
    // ECE (RFC 3168); nft calls it ecn.
    ("ecn", 0x40),
    ("cwr", 0x80),
];

/// `dscp`: the 6-bit code points (RFC 2474 class selectors, RFC 2597 AF,
/// RFC 3246 EF, RFC 5865 VA, RFC 8622 LE).
pub static DSCPS: Symbols = &[
    ("cs0", 0x00),
    ("cs1", 0x08),
    ("cs2", 0x10),
    ("cs3", 0x18),
    ("cs4", 0x20),
    ("cs5", 0x28),
    ("cs6", 0x30),
    ("cs7", 0x38),
    // Default forwarding / best effort: same value as cs0.
    ("df", 0x00),
    ("be", 0x00),
    // Lower effort (RFC 8622); `lephb` is nft's older name.
    ("le", 0x01),
    ("lephb", 0x01),
    ("af11", 0x0a),
    ("af12", 0x0c),
    ("af13", 0x0e),
    ("af21", 0x12),
    ("af22", 0x14),
    ("af23", 0x16),
    ("af31", 0x1a),
    ("af32", 0x1c),
    ("af33", 0x1e),
    ("af41", 0x22),
    ("af42", 0x24),
    ("af43", 0x26),
    ("va", 0x2c),
    ("ef", 0x2e),
];

/// `ecn`: the 2-bit ECN field (RFC 3168 section 5).
pub static ECNS: Symbols = &[("not-ect", 0), ("ect1", 1), ("ect0", 2), ("ce", 3)];

/// `dccp_pkttype` (RFC 4340 section 5.1).
pub static DCCP_PKTTYPES: Symbols = &[
    ("request", 0),
    ("response", 1),
    ("data", 2),
    ("ack", 3),
    ("dataack", 4),
    ("closereq", 5),
    ("close", 6),
    ("reset", 7),
    ("sync", 8),
    ("syncack", 9),
];

/// `mh_type`: Mobility Header message types (RFC 6275, 5568, 5142).
pub static MH_TYPES: Symbols = &[
    ("binding-refresh-request", 0),
    ("home-test-init", 1),
    ("careof-test-init", 2),
    ("home-test", 3),
    ("careof-test", 4),
    ("binding-update", 5),
    ("binding-acknowledgement", 6),
    ("binding-error", 7),
    ("fast-binding-update", 8),
    ("fast-binding-acknowledgement", 9),
    ("fast-binding-advertisement", 10),
    ("experimental-mobility-header", 11),
    ("home-agent-switch-message", 12),
];

/// `fib_addrtype`: RTN_* route types (rtnetlink.h).
pub static FIB_ADDRTYPES: Symbols = &[
    ("unspec", 0),
    ("unicast", 1),
    ("local", 2),
    ("broadcast", 3),
    ("anycast", 4),
    ("multicast", 5),
    ("blackhole", 6),
    ("unreachable", 7),
    ("prohibit", 8),
];

/// `arp_op` (RFC 826, 903 RARP, 2390 InARP, ARPOP_NAK).
pub static ARP_OPS: Symbols =
    &[("request", 1), ("reply", 2), ("rrequest", 3), ("rreply", 4), ("inrequest", 8), ("inreply", 9), ("nak", 10)];

/// `day`: `meta day` counts from Sunday like `struct tm`'s tm_wday.
pub static DAYS: Symbols =
    &[("Sunday", 0), ("Monday", 1), ("Tuesday", 2), ("Wednesday", 3), ("Thursday", 4), ("Friday", 5), ("Saturday", 6)];

/// `boolean`: `exists`/`missing` are the documented spellings.
pub static BOOLEANS: Symbols = &[("exists", 1), ("missing", 0), ("true", 1), ("false", 0)];

/// `verdict`: the verdict codes the kernel uses (NF_DROP, NF_ACCEPT, NF_QUEUE
/// and NFT_CONTINUE/NFT_RETURN as 32-bit two's complement). `jump`/`goto`
/// carry a chain name and are not symbols.
pub static VERDICTS: Symbols = &[
    ("drop", 0),
    ("accept", 1),
    ("queue", 3),
    // NFT_CONTINUE = -1
    ("continue", 0xffff_ffff),
    // NFT_RETURN = -5
    ("return", 0xffff_fffb),
];

/// `policy`: base chain policies (NF_DROP / NF_ACCEPT).
pub static POLICIES: Symbols = &[("drop", 0), ("accept", 1)];

/// `level`: syslog levels for `log level`, plus nft's `audit`
/// (NFT_LOGLEVEL_AUDIT).
pub static LOG_LEVELS: Symbols = &[
    ("emerg", 0),
    ("alert", 1),
    ("crit", 2),
    ("err", 3),
    ("warn", 4),
    ("notice", 5),
    ("info", 6),
    ("debug", 7),
    ("audit", 8),
];

/// IPv6 extension header types usable with `exthdr NAME exists` (IANA
/// protocol numbers of the headers).
pub static IP6_EXTHDR_TYPES: Symbols = &[("hbh", 0), ("rt", 43), ("frag", 44), ("dst", 60), ("mh", 135)];

/// SCTP chunk types (RFC 9260 section 3.2, RFC 3758, RFC 5061).
pub static SCTP_CHUNK_TYPES: Symbols = &[
    ("data", 0),
    ("init", 1),
    ("init-ack", 2),
    ("sack", 3),
    ("heartbeat", 4),
    ("heartbeat-ack", 5),
    ("abort", 6),
    ("shutdown", 7),
    ("shutdown-ack", 8),
    ("error", 9),
    ("cookie-echo", 10),
    ("cookie-ack", 11),
    ("ecne", 12),
    ("cwr", 13),
    ("shutdown-complete", 14),
    ("asconf-ack", 0x80),
    ("forward-tsn", 0xc0),
    ("asconf", 0xc1),
];

/// `classid` (tc handle, `meta priority`): the two handles with names.
pub static CLASSIDS: Symbols = &[("none", 0), ("root", 0xffff_ffff)];

/// `devgroup`: the default of iproute2's `/etc/iproute2/group`.
pub static DEVGROUPS: Symbols = &[("default", 0)];

/// `realm`: the default of iproute2's `/etc/iproute2/rt_realms`.
pub static REALMS: Symbols = &[("cosmos", 0)];
