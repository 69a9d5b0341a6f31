//! Every diagnostic code, its phase and its documentation (`ctc explain`).
//!
//! Codes are grouped by phase: `E0xxx` syntax, `E1xxx` names and
//! references, `E2xxx` types and values, `E3xxx` protocol context, `E4xxx`
//! chains, hooks and statements, `E5xxx` files and includes. The lints'
//! codes (`Wxxxx`) are in [`crate::lint::LINTS`], documented by their doc
//! comments.
//!
//! Each [`CodeDoc::doc`] has three parts: what the diagnostic means, a
//! small example that triggers it, and how to fix it. The table is sorted
//! by code; codes and names are unique (unit-tested below).

/// The documentation of one code.
#[derive(Debug)]
pub struct CodeDoc {
    pub code: &'static str,
    /// Short kebab-case name.
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Explanation with an example and the fix.
    pub doc: &'static str,
}

pub static CODES: &[CodeDoc] = &[
    // ---- E0xxx: lexing and parsing -------------------------------------
    CodeDoc {
        code: "E0001",
        name: "invalid-character",
        summary: "a character that is not part of the nftables language",
        doc: "\
What it means: the lexer met a character that starts no token of the
nftables language, often a stray character pasted from a document (a
typographic quote, a backtick) or a shell construct.

Example:

    table inet filter {
        chain input {
            tcp dport 22 accept `ssh`
        }
    }

Fix: delete the character, or put the text in a `comment \"...\"` or after
`#` if it was meant as a remark. Strings use straight double quotes.",
    },
    CodeDoc {
        code: "E0002",
        name: "unexpected-eof",
        summary: "the file ends in the middle of a block or statement",
        doc: "\
What it means: the file ended while a `{` block was still open or a
statement was incomplete. The label points at the end of the file; the
missing piece is usually much earlier.

Example:

    table inet filter {
        chain input {
            type filter hook input priority filter; policy drop;
            ct state established,related accept
    }

Fix: close every `{` with a `}` (here the table's). A consistent indentation
makes the unclosed block easy to spot; `ctc fmt` prints one.",
    },
    CodeDoc {
        code: "E0003",
        name: "syntax-error",
        summary: "a token where the grammar does not allow it",
        doc: "\
What it means: the text does not follow the structure of the nftables
language: a keyword in the wrong place, a missing `;` or line break between
two items, a block where none is allowed. The label says what was expected.

Example:

    table inet filter {
        chain input { type filter hook input priority 0 policy drop }
    }

Fix: separate the items: `type filter hook input priority 0; policy drop;`.
Each table item, chain property and rule stands on its own line or after a
`;`, and so does the last one before a `}`, as nft wants it (`chain c {
accept; }`, not `chain c { accept }`; each line of a set, map, flowtable or
ct object block too, except a last `elements = { ... }`).",
    },
    CodeDoc {
        code: "E0004",
        name: "unterminated-string",
        summary: "a string without its closing quote on the same line",
        doc: "\
What it means: a `\"` opened a string that is not closed before the end of
the line. Strings cannot span lines.

Example:

    table inet filter {
        chain input {
            tcp dport 22 accept comment \"ssh from anywhere
        }
    }

Fix: add the closing `\"` on the same line.",
    },
    // ---- E1xxx: names and references ----------------------------------
    CodeDoc {
        code: "E1001",
        name: "undefined-table",
        summary: "a command names a table that does not exist",
        doc: "\
What it means: a command (`add chain`, `add rule`, `add element`, ...)
refers to a table that no earlier command created, or that exists in
another family. A table is identified by family and name: `ip filter` and
`inet filter` are two tables.

Example:

    table inet filter {
    }
    add chain ip filter input { type filter hook input priority 0; }

Fix: create the table first (`add table ip filter`), or use the family and
name of the existing table (`add chain inet filter input ...`).",
    },
    CodeDoc {
        code: "E1002",
        name: "undefined-chain",
        summary: "a jump, goto or command names a chain that does not exist",
        doc: "\
What it means: a `jump`, `goto`, verdict map entry or `add rule` refers to
a chain that is not declared in the same table. Chains of other tables are
not visible.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            tcp dport 22 jump ssh_checks
        }
    }

Fix: declare the chain in the same table (`chain ssh_checks { ... }`) or
correct the name; chain names are case-sensitive.",
    },
    CodeDoc {
        code: "E1003",
        name: "undefined-set",
        summary: "`@name` refers to a set or map that does not exist",
        doc: "\
What it means: a rule or command uses a named set or map (`@blocklist`,
`vmap @ports`, `add element`) that is not declared in the same table.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            ip saddr @blocklist drop
        }
    }

Fix: declare it in the table before use:

    set blocklist {
        type ipv4_addr
        flags interval
    }",
    },
    CodeDoc {
        code: "E1004",
        name: "undefined-object",
        summary: "a named stateful object or flowtable does not exist",
        doc: "\
What it means: a rule references a named counter, quota, limit, ct helper,
ct timeout, ct expectation, synproxy, secmark object or flowtable that is
not declared in the same table.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            tcp dport 443 counter name \"https\"
        }
    }

Fix: declare the object in the table (`counter https { }`), or use an
anonymous statement (`counter`) if it need not be shared.",
    },
    CodeDoc {
        code: "E1005",
        name: "undefined-variable",
        summary: "`$name` is used but not defined",
        doc: "\
What it means: a `$variable` is used but no `define` (or `-D NAME=VALUE` on
the command line) gave it a value before this point, or it was removed
with `undefine`. A `define` inside a block is visible only in that block.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            iifname $lan_if accept
        }
    }

Fix: add `define lan_if = \"lan0\"` before its first use, or pass
`-D lan_if=lan0` to `ctc check`.",
    },
    CodeDoc {
        code: "E1006",
        name: "duplicate-table",
        summary: "a table is created again where that is not allowed",
        doc: "\
What it means: `create table` fails when the table exists, unlike `add
table` or a `table` block, which add to an existing table.

Example:

    table inet filter {
    }
    create table inet filter

Fix: use `add table` or a `table` block to extend the table, or give the new
table another name.",
    },
    CodeDoc {
        code: "E1007",
        name: "duplicate-chain",
        summary: "a chain is created again, or a used regular chain becomes a base chain",
        doc: "\
What it means: a chain is declared again in a way the kernel refuses:
`create chain` of a chain that exists (`add chain` and `chain` blocks add to
it instead), or a later declaration that gives a hook to a regular chain
that already has rules (the kernel cannot change a chain's kind).

Example:

    table inet filter {
        chain lan_in {
        }
    }
    create chain inet filter lan_in

Fix: use `add chain` or a `chain` block to extend the chain, or give the new
chain its own name.",
    },
    CodeDoc {
        code: "E1008",
        name: "duplicate-set",
        summary: "a set or map is declared again with a different definition",
        doc: "\
What it means: a set or map with this name already exists in the table and
the new declaration differs (key type, data type, flags), or it is
`create`d again. Sets and maps share one namespace.

Example:

    table inet filter {
        set allowed {
            type ipv4_addr
        }
        set allowed {
            type ipv6_addr
        }
    }

Fix: rename one of them (`allowed4`, `allowed6`), or merge the definitions.",
    },
    CodeDoc {
        code: "E1009",
        name: "duplicate-object",
        summary: "a stateful object is created again",
        doc: "\
What it means: `create` of a named counter, quota, limit, ct helper, ct
timeout, ct expectation, synproxy or secmark object that already exists
in the table (`add` would leave the existing object in place).

Example:

    table inet filter {
        counter web {
        }
    }
    create counter inet filter web

Fix: use `add` (or declare it once in the table block), or give the new
object its own name.",
    },
    CodeDoc {
        code: "E1010",
        name: "jump-loop",
        summary: "jumps and gotos between chains form a loop",
        doc: "\
What it means: following `jump` and `goto` from a base chain leads back to
a chain already on the path. The kernel refuses such a ruleset (ELOOP)
because a packet could loop forever.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            jump a
        }
        chain a {
            jump b
        }
        chain b {
            tcp dport 22 jump a
        }
    }

Fix: break the cycle; use `return` to go back to the calling chain.",
    },
    CodeDoc {
        code: "E1011",
        name: "jump-depth",
        summary: "chains are nested deeper than the kernel's jump stack allows",
        doc: "\
What it means: a chain of `jump`s from a base chain is deeper than the
kernel's jump stack (16 levels, NFT_JUMP_STACK_SIZE); the kernel refuses
the ruleset.

Example:

    # base chain -> c1 -> c2 -> ... -> c17, each with `jump` to the next

Fix: flatten the chain structure, or use `goto` where the caller need not
continue afterwards (a goto does not push a return point).",
    },
    CodeDoc {
        code: "E1012",
        name: "duplicate-variable",
        summary: "`define` of a variable that is already defined",
        doc: "\
What it means: a variable is defined twice in the same scope. nft refuses
this (\"redefinition of symbol\").

Example:

    define wan_if = \"wan0\"
    define wan_if = \"wan1\"

Fix: remove one definition, or use `redefine` when the new value is
intended.",
    },
    CodeDoc {
        code: "E1013",
        name: "recursive-variable",
        summary: "a variable's value refers to itself",
        doc: "\
What it means: the expansion of a variable leads back to itself, or
variables nest too deeply to expand. ctc, like nft, expands a `define`'s
value where it is written, so a value that uses its own name usually finds
it undefined and is reported as E1005 (undefined-variable) instead.

Example:

    define ports = { $ports, 443 }

Fix: build the value from other variables: `define web = { 80, 443 }` then
`define ports = { 22, $web }`; to extend a variable, `redefine` it from its
old value: `redefine ports = { $ports, 8080 }`.",
    },
    CodeDoc {
        code: "E1014",
        name: "jump-to-base-chain",
        summary: "`jump` or `goto` to a base chain",
        doc: "\
What it means: a base chain (one with `type ... hook ...`) is entered by
the kernel from its hook; it cannot be the target of a `jump` or `goto`.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
        }
        chain output {
            type filter hook output priority 0;
            oifname \"lo\" jump input
        }
    }

Fix: move the shared rules into a regular chain (no `type` line) and jump to
it from both base chains.",
    },
    CodeDoc {
        code: "E1015",
        name: "wrong-set-kind",
        summary: "a set used as a map, a map as a set, or a map of the wrong data",
        doc: "\
What it means: the named set or map exists but is not the kind this place
needs: a map used in a plain set match, a set used with `map` or `vmap`,
`vmap` on a map whose data is not `verdict`, or an object map of the wrong
object kind (`counter name map @quotas`).

Example:

    table inet filter {
        set web {
            type inet_service
            elements = { 80, 443 }
        }
        chain input {
            type filter hook input priority 0;
            tcp dport vmap @web
        }
    }

Fix: use a map with the right data type (`map web { type inet_service :
verdict; ... }`), or match the set directly (`tcp dport @web accept`).",
    },
    CodeDoc {
        code: "E1016",
        name: "unreadable-name",
        summary: "a keyword, a number or a quoted string where nft needs a name",
        doc: "\
What it means: where nft's grammar expects a name (a table, chain, set, map,
flowtable or object, in its declaration or in a command; a `jump` or `goto`
target; a `define`), it takes only a plain word: a letter, `_` or `.`
followed by letters, digits, `-`, `_`, `.` or `/`, and not one of the words
its scanner reads as keywords there (`accept`, `log`, `meta`, `tcp`, `fwd`,
... 153 words in nft 1.0.6). A keyword, a number or a name in quotes is a
syntax error to nft, so the file would not load. Words that are keywords
only inside an expression (`dport`, `state`, hook and chain type names)
are names elsewhere.

Example:

    table inet filter {
        chain log {
            tcp dport 22 log prefix \"ssh \"
        }
        chain input {
            type filter hook input priority 0;
            jump log
        }
    }

Fix: rename it (`chain log_ssh`, `jump log_ssh`). A name written in quotes
goes without them (`chain web`, not `chain \"web\"`); a keyword cannot be
a name, quoted or not.",
    },
    // ---- E2xxx: types and values ---------------------------------------
    CodeDoc {
        code: "E2001",
        name: "unknown-symbol",
        summary: "a symbolic value that the expected type does not know",
        doc: "\
What it means: a word stands where a value is expected, and it is not one of
the symbolic constants of that type: a service name not in the services
table, a ct state, an ICMP type or a TCP flag that does not exist.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            ct state establised accept
            tcp dport sshd accept
        }
    }

Fix: correct the spelling (`established`, `ssh`) or write the number
(`tcp dport 22`). `nft describe ct state` lists the symbols of a type.",
    },
    CodeDoc {
        code: "E2002",
        name: "value-out-of-range",
        summary: "a number does not fit the field it is compared with or assigned to",
        doc: "\
What it means: a number is larger than the field's width allows (a port is
16 bits, a DSCP 6 bits, an IPv4 octet 8 bits), or negative where only
unsigned values exist.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            tcp dport 70000 accept
        }
    }

Fix: use a value within the field's range (ports 0-65535).",
    },
    CodeDoc {
        code: "E2003",
        name: "type-mismatch",
        summary: "a value of the wrong type for this expression",
        doc: "\
What it means: the two sides of a match, or a statement and its argument,
have incompatible types: an IPv6 address compared with an IPv4 field, a
string with a number, an address assigned to a mark.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            ip saddr 2001:db8::1 drop
        }
    }

Fix: use a value of the field's type (`ip6 saddr 2001:db8::1 drop` for an
IPv6 address).",
    },
    CodeDoc {
        code: "E2004",
        name: "invalid-prefix",
        summary: "a prefix length that is too long, or a prefix on a non-address",
        doc: "\
What it means: `ADDRESS/LEN` with a length larger than the address (32 for
IPv4, 128 for IPv6), or a prefix on a value that is not an address.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            ip saddr 192.0.2.0/33 drop
        }
    }

Fix: use a length within the address width (`192.0.2.0/24`).",
    },
    CodeDoc {
        code: "E2005",
        name: "invalid-range",
        summary: "a range whose start is greater than its end, or on a type without order",
        doc: "\
What it means: `LOW-HIGH` with `LOW` greater than `HIGH`, or a range over
values that cannot be ordered (strings, symbolic states).

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            tcp dport 2000-1024 accept
        }
    }

Fix: write the lower bound first (`tcp dport 1024-2000`).",
    },
    CodeDoc {
        code: "E2006",
        name: "malformed-literal",
        summary: "an address, number, time or size that cannot be read",
        doc: "\
What it means: a literal has the shape of an address, number, time or size
but is not valid: an IPv4 octet above 255, an IPv6 address with two `::`, a
MAC address of the wrong length, a time unit that does not exist.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            ip saddr 192.0.2.300 drop
            ct expiration < 1x accept
        }
    }

Fix: correct the literal (`192.0.2.30`, `1h`). Times take `d`, `h`, `m`,
`s`, `ms`; sizes take `bytes`, `kbytes`, `mbytes`.",
    },
    CodeDoc {
        code: "E2007",
        name: "element-mismatch",
        summary: "a set element does not match the set's key type",
        doc: "\
What it means: an element of a named set, map or `add element` does not
have the declared key type, a concatenated element has the wrong number of
parts, or a map element lacks its `: value` (or a set element has one).

Example:

    table inet filter {
        set trusted {
            type ipv4_addr . inet_service
            elements = { 192.0.2.10 }
        }
    }

Fix: give every element the key's shape: `192.0.2.10 . 22`.",
    },
    CodeDoc {
        code: "E2008",
        name: "unknown-type",
        summary: "a set or map `type` names no data type",
        doc: "\
What it means: the `type` line of a set or map names a data type that does
not exist. Data types are `ipv4_addr`, `ipv6_addr`, `ether_addr`,
`inet_proto`, `inet_service`, `mark`, `ifname`, `verdict`, ...

Example:

    table inet filter {
        set blocked {
            type ipv4_address
        }
    }

Fix: use the data type's name (`ipv4_addr`), or `typeof ip saddr` to take
the type of an expression.",
    },
    CodeDoc {
        code: "E2009",
        name: "invalid-set-declaration",
        summary: "a set or map declaration is incomplete or contradictory",
        doc: "\
What it means: a set or map block is missing its `type`/`typeof`, has it
twice, a map has no `: data` type, or a property does not apply (an unknown
flag, `timeout` without the timeout flag where required, a negative
`size`).

Example:

    table inet filter {
        set blocked {
            flags interval
        }
    }

Fix: give every set a key type (`type ipv4_addr`) and every map a key and
data type (`type ipv4_addr : verdict`).",
    },
    CodeDoc {
        code: "E2010",
        name: "unknown-expression",
        summary: "an unknown protocol, header field or meta/ct key",
        doc: "\
What it means: a selector names a protocol header, field or key that does
not exist: `tcp port` (TCP has `sport` and `dport`), `ip source`, `meta
iface`.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            tcp port 22 accept
        }
    }

Fix: use the field's name (`tcp dport 22`). `nft describe tcp` lists the
fields of a protocol.",
    },
    CodeDoc {
        code: "E2011",
        name: "unexpected-term",
        summary: "a term that starts neither a match nor a statement",
        doc: "\
What it means: in a rule, every part must start a match (a protocol, `meta`,
`ct`, ...) or a statement (`accept`, `counter`, `log`, ...). This term
starts neither, often a value that lost its selector.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            tcp dport 22 192.0.2.1 accept
        }
    }

Fix: give the value its selector (`ip saddr 192.0.2.1`), or remove it.",
    },
    CodeDoc {
        code: "E2012",
        name: "invalid-argument",
        summary: "a statement argument that the statement does not accept",
        doc: "\
What it means: a statement's argument is not valid: an unknown log level,
a limit rate unit that does not exist, a queue number out of range, a
reject type that does not fit, a flag the statement does not know.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            log level loud drop
            limit rate 10/fortnight accept
        }
    }

Fix: use one of the documented values (log levels `emerg` ... `debug`,
`audit`; limit units `second`, `minute`, `hour`, `day`, `week`).",
    },
    CodeDoc {
        code: "E2013",
        name: "invalid-operation",
        summary: "an operator that does not apply to these operands",
        doc: "\
What it means: the operator cannot be used here: `<` with a set, a bitwise
`&` on a string, a shift on an address, or `set` on a key that is read-only
(`meta iifname set ...`, `ct state set ...`).

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            tcp dport < { 22, 80 } accept
        }
    }

Fix: use an operator the type supports (`tcp dport { 22, 80 }`, or a range
`tcp dport < 1024`); only writable keys (`meta mark`, `ct mark`, ...) can be
`set`.",
    },
    CodeDoc {
        code: "E2014",
        name: "missing-value",
        summary: "an expression or statement is missing a part",
        doc: "\
What it means: the rule ends, or another keyword starts, where a value or
argument was required: a field without the value it is compared to, `snat
to` without an address, `limit rate` without a rate.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            tcp dport accept
        }
    }

Fix: complete it (`tcp dport 22 accept`).",
    },
    CodeDoc {
        code: "E2015",
        name: "conflicting-elements",
        summary: "a set element that overlaps another, or that `create` finds already there",
        doc: "\
What it means: an element added to a named interval set or map overlaps a
different element already in it, declared earlier in the same block, in an
earlier block or `add element` (nft: \"conflicting intervals specified\"; for
a concatenation the kernel refuses it, \"File exists\"); a map's key added
again with other data; or `create element` adds an element the set already
has, or one that overlaps an element of an `auto-merge` set. The same element again with `add` is
accepted, and so are adjacent intervals. A `delete element` earlier in the
same file does not make room; `flush set` does.

Example:

    table inet filter {
        set blocked {
            type ipv4_addr
            flags interval
            elements = { 10.0.0.0/8, 10.1.0.0/16 }
        }
    }

Fix: make the elements disjoint (here `10.0.0.0/8` alone covers both), or
declare the set with `auto-merge` to have nft merge overlapping intervals;
use `add element` for elements that may already be there.",
    },
    // ---- E3xxx: protocol context ---------------------------------------
    CodeDoc {
        code: "E2016",
        name: "range-in-plain-set",
        summary: "a range or prefix element in a set or map without `flags interval`",
        doc: "\
What it means: a named set or map holds ranges (`1000-2000`) and prefixes
(`192.0.2.0/24`, even `/32`, and interface wildcards like `\"eth*\"`) only
when it is declared with `flags interval`; nft refuses such an element
otherwise (\"You must add 'flags interval' to your set declaration if you
want to add range elements\"), in the declaration and in `add element`
alike. A concatenation with a range in one of its parts counts too.
Anonymous sets in rules (`tcp dport { 1000-2000 }`) need no flag.

Example:

    table inet filter {
        set blocked {
            type ipv4_addr
            elements = { 192.0.2.0/24 }
        }
    }

Fix: add `flags interval` to the set (`type ipv4_addr; flags interval`),
or list single values.",
    },
    CodeDoc {
        code: "E3001",
        name: "protocol-conflict",
        summary: "matches in one rule require different protocols",
        doc: "\
What it means: a rule matches on two protocols that cannot both hold for a
packet: IPv4 and IPv6 fields together, or a transport protocol match and a
header field of another transport protocol. The rule could never match.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0;
            meta l4proto udp tcp dport 53 accept
        }
    }

Fix: split the rule in two (one per protocol), or use an expression valid
for both, e.g. `meta l4proto { tcp, udp } th dport 53 accept`.",
    },
    CodeDoc {
        code: "E3002",
        name: "protocol-not-in-family",
        summary: "a protocol that packets of this table's family never carry",
        doc: "\
What it means: the table's family fixes the network protocol: an `ip` table
sees only IPv4, an `ip6` table only IPv6, an `arp` table only ARP. A match
on another protocol can never be true there.

Example:

    table ip filter {
        chain input {
            type filter hook input priority 0;
            ip6 saddr 2001:db8::/32 accept
        }
    }

Fix: put the rule in a table of the right family (`ip6`), or use an `inet`
table, which sees both IPv4 and IPv6.",
    },
    CodeDoc {
        code: "E3003",
        name: "missing-dependency",
        summary: "a header match needs a context that cannot be implied",
        doc: "\
What it means: most header matches imply their dependency (`tcp dport 22`
implies `meta l4proto tcp`), but some need a context nft cannot add on its
own: tunnel headers need the outer UDP port, raw inner headers their
encapsulation.

Example:

    table netdev filter {
        chain ingress {
            type filter hook ingress device \"wan0\" priority 0;
            vxlan vni 10 drop
        }
    }

Fix: state the dependency first: `udp dport 4789 vxlan vni 10 drop`.",
    },
    CodeDoc {
        code: "E3004",
        name: "address-family-mismatch",
        summary: "an address of the wrong family for NAT, reject, tproxy or dup",
        doc: "\
What it means: the address given to `snat`, `dnat`, `tproxy`, `dup` or a
reject type belongs to another family than the table or the rule's context:
an IPv6 address in an `ip` table, or an IPv4 address after `ip6` matches.
In an `inet` table the family must be stated (`dnat ip to ...`).

Example:

    table ip nat {
        chain prerouting {
            type nat hook prerouting priority dstnat;
            tcp dport 8080 dnat to [2001:db8::10]:80
        }
    }

Fix: use an address of the table's family, or put the rule in a table of
the address's family (`ip6 nat`).",
    },
    // ---- E4xxx: chains, hooks and statements ---------------------------
    CodeDoc {
        code: "E4001",
        name: "unknown-chain-type",
        summary: "a chain `type` that is not filter, nat or route",
        doc: "\
What it means: a base chain's type must be `filter`, `nat` or `route`.

Example:

    table inet filter {
        chain input {
            type firewall hook input priority 0;
        }
    }

Fix: use `type filter` for filtering, `type nat` for address translation,
`type route` for output rerouting.",
    },
    CodeDoc {
        code: "E4002",
        name: "unknown-hook",
        summary: "a hook name that does not exist",
        doc: "\
What it means: the hook must be one of `prerouting`, `input`, `forward`,
`output`, `postrouting`, `ingress` or `egress`.

Example:

    table inet filter {
        chain in {
            type filter hook incoming priority 0;
        }
    }

Fix: use the hook's name (`hook input`).",
    },
    CodeDoc {
        code: "E4003",
        name: "hook-not-in-family",
        summary: "the hook does not exist in this table's family",
        doc: "\
What it means: each family has its own hooks: `arp` has only `input` and
`output`, `netdev` only `ingress` and `egress`; `ingress` exists in `inet`
(Linux 5.10+) but not in `ip` or `ip6`.

Example:

    table arp filter {
        chain forward {
            type filter hook forward priority 0;
        }
    }

Fix: use a hook of the family, or a table of a family that has the hook.",
    },
    CodeDoc {
        code: "E4004",
        name: "chain-type-not-allowed",
        summary: "this chain type is not available for the family or hook",
        doc: "\
What it means: `nat` chains exist only in `ip`, `ip6` and `inet` tables at
`prerouting`, `input`, `output` and `postrouting`; `route` chains only in
`ip`, `ip6` and `inet` at `output`; `arp`, `bridge` and `netdev` tables have
only `filter` chains.

Example:

    table ip nat {
        chain forward {
            type nat hook forward priority 0;
        }
    }

Fix: use `type filter` at this hook, or the hook the chain type needs
(`prerouting` for DNAT, `postrouting` for SNAT and masquerade).",
    },
    CodeDoc {
        code: "E4005",
        name: "invalid-priority",
        summary: "a chain priority that is not a number or a known name",
        doc: "\
What it means: the priority is an integer, a standard name (`raw`,
`mangle`, `dstnat`, `filter`, `security`, `srcnat`; `out` in bridge), or
such a name plus or minus a number. The name must exist for the family
and hook, and the result must fit a 32-bit signed integer.

Example:

    table inet filter {
        chain input {
            type filter hook input priority high;
        }
    }

Fix: use a number or a standard name: `priority filter`, `priority filter +
10`, `priority -150`.",
    },
    CodeDoc {
        code: "E4006",
        name: "statement-not-allowed",
        summary: "a statement that is not allowed in this chain type or at this hook",
        doc: "\
What it means: some statements work only in certain chains, and the check
follows every path (jumps included) from base chains: NAT only in `nat`
chains, `snat` at `postrouting` or `input`, `masquerade` at `postrouting`,
`dnat` and `redirect` at `prerouting` or `output`; `reject` not at
`postrouting`; `tproxy` only at `prerouting`; `fwd` only at netdev
`ingress`.

Example:

    table ip filter {
        chain postrouting {
            type filter hook postrouting priority 0;
            oifname \"wan0\" masquerade
        }
    }

Fix: move the statement to a chain of the right type and hook (here a
`type nat hook postrouting priority srcnat` chain).",
    },
    CodeDoc {
        code: "E4007",
        name: "invalid-policy",
        summary: "a chain policy other than accept or drop, or on a regular chain",
        doc: "\
What it means: a base chain's policy is `accept` or `drop`. Regular chains
(without `type ... hook`) have no policy: their end returns to the caller.

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0; policy reject;
        }
    }

Fix: use `policy drop;` and, to answer with a reject, end the chain with a
`reject` rule.",
    },
    CodeDoc {
        code: "E4008",
        name: "unknown-helper",
        summary: "`ct helper set` names no helper object, or a helper of unknown type",
        doc: "\
What it means: `ct helper set \"NAME\"` must name a `ct helper` object of the
same table, and the object's `type` must be a helper the kernel has (`ftp`,
`tftp`, `sip`, `irc`, `amanda`, `h323`, `pptp`, `sane`, `snmp`, `netbios-ns`).

Example:

    table inet filter {
        chain out {
            type filter hook forward priority filter;
            tcp dport 21 ct helper set \"ftp\"
        }
    }

Fix: declare the object and refer to it by its name:

    ct helper ftp-standard {
        type \"ftp\" protocol tcp
    }
    ...
    tcp dport 21 ct helper set \"ftp-standard\"",
    },
    CodeDoc {
        code: "E4009",
        name: "missing-device",
        summary: "an ingress/egress chain or flowtable without a device",
        doc: "\
What it means: `netdev` chains (and `inet` ingress chains) attach to a
network device, and flowtables need their devices: the declaration must
name them.

Example:

    table netdev filter {
        chain ingress {
            type filter hook ingress priority 0;
        }
    }

Fix: add the device: `type filter hook ingress device \"wan0\" priority 0;`.",
    },
    CodeDoc {
        code: "E4010",
        name: "invalid-command",
        summary: "a verb that does not apply to this object",
        doc: "\
What it means: not every verb applies to every object: `insert` and
`replace` apply only to rules, `rename` only to chains, `delete ... handle`
needs a handle.

Example:

    insert table inet filter

Fix: use a verb the object supports (`add table inet filter`).",
    },
    CodeDoc {
        code: "E4011",
        name: "missing-priority",
        summary: "a base chain without a priority",
        doc: "\
What it means: a base chain's `type ... hook ...` line must give a
priority; it decides the order of the chains on the same hook.

Example:

    table inet filter {
        chain input {
            type filter hook input;
        }
    }

Fix: add one: `type filter hook input priority filter;`.",
    },
    CodeDoc {
        code: "E4012",
        name: "invalid-object",
        summary: "a property of a stateful object that is missing or not valid",
        doc: "\
What it means: a named object's body is wrong: a `ct helper` without `type`
or `protocol`, a protocol other than tcp or udp, a `quota` without an
amount, a `limit` without a rate, an unknown `ct timeout` policy state.

Example:

    table inet filter {
        ct helper ftp-standard {
            type \"ftp\"
        }
    }

Fix: give all required properties: `type \"ftp\" protocol tcp`.",
    },
    CodeDoc {
        code: "E4013",
        name: "property-twice",
        summary: "a chain's policy or comment, or a table's comment, given twice in one block",
        doc: "\
What it means: one block gives the same property twice: nft refuses a
second `policy` in a chain block (\"you cannot set chain policy twice\"),
even the same one, and a second `comment` in a chain or table block (\"You
can only specify this once\"). A later block of the same chain may give its
policy (`chain input { policy drop; }` after the declaration with its
hook).

Example:

    table inet filter {
        chain input {
            type filter hook input priority 0; policy accept;
            policy drop;
        }
    }

Fix: keep one of them.",
    },
    // ---- E5xxx: files and includes -------------------------------------
    CodeDoc {
        code: "E5001",
        name: "include-not-found",
        summary: "an included file does not exist",
        doc: "\
What it means: `include \"FILE\"` names a file that is not found. A relative
name is looked up in the including file's directory, then in each `-I DIR`
in order; an absolute name is used as is. (A glob pattern that matches
nothing includes nothing and is not an error.)

Example:

    include \"lan-hosts.nft\"

Fix: correct the name, or pass the directory that holds it:
`ctc check -I /etc/nftables.d ruleset.nft`.",
    },
    CodeDoc {
        code: "E5002",
        name: "include-depth",
        summary: "includes nested too deeply, or an include cycle",
        doc: "\
What it means: includes nest more than 16 files deep (nft's limit), a file
includes itself through a chain of includes, or a check includes an
unreasonable number of files.

Example:

    # a.nft
    include \"b.nft\"
    # b.nft
    include \"a.nft\"

Fix: break the cycle: keep shared definitions in one file that includes
nothing, and include it from the files that need it.",
    },
    CodeDoc {
        code: "E5003",
        name: "io-error",
        summary: "a file that cannot be read",
        doc: "\
What it means: a file given on the command line or included could not be
read: it does not exist, permission is denied, it is a directory, it is not
UTF-8 text, or it is implausibly large for a ruleset.

Example:

    ctc check /etc/nftables.conf     # run as a user that cannot read it

Fix: check the path and the permissions; convert the file to UTF-8.",
    },
    // ---- E6xxx: compiling to the IR --------------------------------------
    CodeDoc {
        code: "E6001",
        name: "not-executable",
        summary: "a valid construct that ctc's runtime cannot execute",
        doc: "\
What it means: the ruleset is valid nftables (`ctc check` accepts it), but
`ctc compile`, `ctc replay` and `ctc run` cannot execute this construct, so
the ruleset is refused rather than run with the construct silently ignored.
The message names it: tables of the arp, bridge and netdev families,
flowtables and `flow add`, `osf`, `socket`, `ipsec`, `rt`, `dup`, `fwd`,
`tproxy`, `synproxy`, meters, `ct count`, meta keys the runtime cannot know
(`cgroup`, `rtclassid`, `secpath`, ...), writes to
extension headers or TCP options, named quota objects, object maps, and
per-element statements in sets.

Example:

    table inet filter {
        chain input {
            type filter hook input priority filter;
            osf name \"Linux\" accept
        }
    }

Fix: remove the construct or express the policy with what the runtime
executes (payload, meta, ct and fib matches, sets and maps, verdicts,
counter, limit, log, reject, NAT, marks, notrack, ct helpers); or load this
ruleset with nft instead of ctc.",
    },
    CodeDoc {
        code: "E6002",
        name: "internal-ir-error",
        summary: "the compiler produced an IR program its verifier rejects",
        doc: "\
What it means: an internal error. The checked ruleset was compiled to the
IR, but the result broke one of the IR's invariants (a register read before
it is written, a key of the wrong width, a jump loop the checks missed). No
input should cause it; the message says what the verifier found.

Example:

    (no known input triggers it)

Fix: report it with the ruleset. Meanwhile, simplify the rule the message
points at (split a long concatenation, use a named set).",
    },
];

/// The entry for a code (`E1003`, any case) or a name (`undefined-set`).
pub fn lookup(code_or_name: &str) -> Option<&'static CodeDoc> {
    let key = code_or_name.trim();
    CODES.iter().find(|c| c.code.eq_ignore_ascii_case(key) || c.name.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_sorted() {
        for w in CODES.windows(2) {
            assert!(w[0].code < w[1].code, "{} must come before {}", w[0].code, w[1].code);
        }
        let names: HashSet<_> = CODES.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), CODES.len(), "names are unique");
    }

    #[test]
    fn entries_are_well_formed() {
        for c in CODES {
            assert!(
                c.code.len() == 5 && (c.code.starts_with('E') || c.code.starts_with('W')),
                "{} is not a code",
                c.code
            );
            assert!(c.code[1..].chars().all(|d| d.is_ascii_digit()), "{}", c.code);
            assert!(
                c.name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-') && !c.name.is_empty(),
                "{} is not kebab-case",
                c.name
            );
            assert!(!c.summary.is_empty() && !c.summary.contains('\n'), "{}: one-line summary", c.code);
            for part in ["What it means:", "Example:", "Fix:"] {
                assert!(c.doc.contains(part), "{} lacks `{part}`", c.code);
            }
        }
    }

    #[test]
    fn lookup_by_code_and_name() {
        assert_eq!(lookup("E1003").map(|c| c.name), Some("undefined-set"));
        assert_eq!(lookup("e1003").map(|c| c.code), Some("E1003"));
        assert_eq!(lookup("undefined-set").map(|c| c.code), Some("E1003"));
        assert!(lookup("E9999").is_none());
    }
}
