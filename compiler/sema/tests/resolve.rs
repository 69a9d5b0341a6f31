//! Resolution, scoping, chain validity and jump-graph checks, end to end
//! from source text (includes are not used here).

use ctc_grammar::{Diagnostic, FileId, Span, parse_script};
use ctc_sema::{Loader, Options, analyze};

struct NoIncludes;

impl Loader for NoIncludes {
    fn include(&mut self, _: FileId, pattern: &str, span: Span) -> Result<Vec<(FileId, String)>, Diagnostic> {
        Err(Diagnostic::error("E5001", format!("no include {pattern}")).with_label(span, "not found"))
    }
}

fn codes(src: &str) -> Vec<&'static str> {
    let script = parse_script(FileId(0), src).unwrap_or_else(|d| panic!("syntax: {d:?}"));
    let a = analyze(&script, FileId(0), &mut NoIncludes, &Options::default());
    a.diagnostics.iter().map(|d| d.code).collect()
}

fn ok(src: &str) {
    let script = parse_script(FileId(0), src).unwrap_or_else(|d| panic!("syntax: {d:?}"));
    let a = analyze(&script, FileId(0), &mut NoIncludes, &Options::default());
    assert!(a.diagnostics.is_empty(), "expected no diagnostics for:\n{src}\ngot: {:#?}", a.diagnostics);
}

fn chain_of(n: usize) -> String {
    let mut s = String::from("table ip t {\n chain c {\n  type filter hook input priority 0;\n  jump a1\n }\n");
    for i in 1..n {
        s += &format!(" chain a{i} {{\n  jump a{}\n }}\n", i + 1);
    }
    s += &format!(" chain a{n} {{\n  accept\n }}\n}}\n");
    s
}

#[test]
fn tables_and_commands() {
    ok("table inet filter {\n chain input {\n  type filter hook input priority filter; policy drop;\n }\n}\n");
    ok("add table ip t\nadd chain ip t c { type filter hook input priority 0; }\nadd rule ip t c accept\n");
    assert_eq!(codes("add chain ip nope c\n"), ["E1001"]);
    assert_eq!(codes("add table ip t\nadd rule ip t c accept\n"), ["E1002"]);
    assert_eq!(codes("table ip t {\n}\ncreate table ip t\n"), ["E1006"]);
    assert_eq!(codes("table ip t {\n}\ninsert table ip t\n"), ["E4010"]);
    assert_eq!(codes("delete table ip t\n"), ["E1001"]);
    ok("destroy table ip t\n");
    ok("table ip t {\n}\ndelete table ip t\ntable ip t {\n}\n");
    // The family is part of a table's identity.
    assert_eq!(codes("table inet t {\n}\nadd chain ip t c\n"), ["E1001"]);
}

#[test]
fn variables_are_scoped() {
    ok("define p = 22\ntable ip t {\n chain c {\n  type filter hook input priority 0;\n  tcp dport $p accept\n }\n}\n");
    assert_eq!(codes("define x = 1\ndefine x = 2\n"), ["E1012"]);
    ok("define x = 1\nredefine x = 2\n");
    assert_eq!(codes("table ip t {\n chain c {\n  tcp dport $nope accept\n }\n}\n"), ["E1005"]);
    // A define inside a table block is local to it.
    assert_eq!(
        codes("table ip t {\n define p = 1\n}\ntable ip u {\n chain c {\n  tcp dport $p accept\n }\n}\n"),
        ["E1005"]
    );
    assert_eq!(codes("define a = $b\n"), ["E1005"]);
    assert_eq!(codes("undefine nope\n"), ["E1005"]);
    // Names through variables.
    ok("define t = filter\ntable ip $t {\n chain c {\n }\n}\nadd rule ip filter c accept\n");
}

#[test]
fn chain_specifications() {
    assert_eq!(codes("table ip t {\n chain c {\n  type fliter hook input priority 0;\n }\n}\n"), ["E4001"]);
    assert_eq!(codes("table ip t {\n chain c {\n  type filter hook inptu priority 0;\n }\n}\n"), ["E4002"]);
    assert_eq!(codes("table ip t {\n chain c {\n  type filter hook ingress priority 0;\n }\n}\n"), ["E4003"]);
    assert_eq!(codes("table ip t {\n chain c {\n  type route hook input priority 0;\n }\n}\n"), ["E4004"]);
    assert_eq!(codes("table ip t {\n chain c {\n  type nat hook forward priority 0;\n }\n}\n"), ["E4004"]);
    assert_eq!(codes("table ip t {\n chain c {\n  type filter hook input priority bogus;\n }\n}\n"), ["E4005"]);
    // dstnat is not a priority of the postrouting hook.
    assert_eq!(codes("table ip t {\n chain c {\n  type nat hook postrouting priority dstnat;\n }\n}\n"), ["E4005"]);
    ok("table ip t {\n chain c {\n  type nat hook postrouting priority srcnat + 10;\n }\n}\n");
    ok("table ip t {\n chain c {\n  type filter hook input priority -300;\n }\n}\n");
    assert_eq!(codes("table ip t {\n chain c {\n  type filter hook input;\n }\n}\n"), ["E4011"]);
    assert_eq!(codes("table netdev t {\n chain c {\n  type filter hook ingress priority 0;\n }\n}\n"), ["E4009"]);
    ok("table netdev t {\n chain c {\n  type filter hook ingress device \"lo\" priority 0;\n }\n}\n");
    // Measured on the live kernel: policy on a regular chain is EOPNOTSUPP.
    assert_eq!(codes("table ip t {\n chain r {\n  policy drop;\n }\n}\n"), ["E4007"]);
    assert_eq!(
        codes("table ip t {\n chain c {\n  type filter hook input priority 0; policy reject;\n }\n}\n"),
        ["E4007"]
    );
    // Declaring a chain twice extends it.
    ok("table ip t {\n chain c {\n  type filter hook input priority 0;\n }\n chain c {\n  accept\n }\n}\n");
}

#[test]
fn jump_graph_matches_the_kernel() {
    // Measured on Linux 6.18: 15 nested jumps load, the 16th fails (EMLINK).
    ok(&chain_of(15));
    assert_eq!(codes(&chain_of(16)), ["E1011"]);
    assert_eq!(
        codes(
            "table ip t {\n chain c {\n  type filter hook input priority 0;\n  jump d\n }\n chain d {\n  jump e\n }\n chain e {\n  jump d\n }\n}\n"
        ),
        ["E1010"]
    );
    // A loop no base chain reaches is accepted by the kernel.
    ok("table ip t {\n chain d {\n  jump e\n }\n chain e {\n  jump d\n }\n}\n");
    assert_eq!(codes("table ip t {\n chain c {\n  type filter hook input priority 0;\n  jump c\n }\n}\n"), ["E1014"]);
    // Rules may jump to chains declared later in the same block.
    ok(
        "table ip t {\n chain c {\n  type filter hook input priority 0;\n  jump later\n }\n chain later {\n  accept\n }\n}\n",
    );
}

#[test]
fn restricted_statements_through_jumps() {
    ok(
        "table ip t {\n chain post {\n  type nat hook postrouting priority srcnat;\n  jump n\n }\n chain n {\n  masquerade\n }\n}\n",
    );
    assert_eq!(
        codes(
            "table ip t {\n chain f {\n  type filter hook input priority 0;\n  jump n\n }\n chain n {\n  masquerade\n }\n}\n"
        ),
        ["E4006"]
    );
}

#[test]
fn sets_and_objects() {
    ok(
        "table ip t {\n set s {\n  type ipv4_addr . inet_service\n  flags interval\n  elements = { 10.0.0.0/8 . 22 }\n }\n}\n",
    );
    assert_eq!(codes("table ip t {\n set s {\n  flags interval\n }\n}\n"), ["E2009"]);
    assert_eq!(codes("table ip t {\n set s {\n  type ipv4_adr\n }\n}\n"), ["E2008"]);
    assert_eq!(codes("table ip t {\n map m {\n  type ipv4_addr\n }\n}\n"), ["E2009"]);
    assert_eq!(codes("table ip t {\n}\nadd element ip t nope { 1.2.3.4 }\n"), ["E1003"]);
    ok("table ip t {\n ct helper ftp-std {\n  type \"ftp\" protocol tcp\n  l3proto ip\n }\n}\n");
    assert_eq!(codes("table ip t {\n ct helper h {\n  type \"fpt\" protocol tcp\n }\n}\n"), ["E4008"]);
    assert_eq!(codes("table ip t {\n ct helper h {\n  type \"tftp\" protocol tcp\n }\n}\n"), ["E4008"]);
    assert_eq!(codes("table ip t {\n ct bogus h {\n }\n}\n"), ["E4012"]);
    assert_eq!(codes("table ip t {\n}\ndelete counter ip t c\n"), ["E1004"]);
}
