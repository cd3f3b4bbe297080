"""Rollback commands per finding, checked by applying them: the rolled-back config must differ from the older
config in every change except this finding's, and from the newer one in this finding only.

Cisco-style platforms apply the remediation with hier_config (`HConfig.future`); set-path platforms, iptables
and RouterOS apply it textually with the small appliers below; FortiOS and nft are checked command by command.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from cfgwatch.classify.networks import Networks
from cfgwatch.model.changes import ChangeType, RuleChange, SourceLines
from cfgwatch.model.text import config_lines
from cfgwatch.report.rollback import (
    HIER_CONFIG,
    NOTHING,
    SOURCE_LINES,
    UNSUPPORTED,
    Rollback,
    rollback_for,
    set_statements,
    xml_statements,
)
from cfgwatch.revisions import diff_device

DIFF = Path(__file__).parent.parent / "fixtures" / "diff"


def _pair(platform: str, name: str) -> tuple[str, str]:
    return (DIFF / platform / f"{name}.before").read_text(), (DIFF / platform / f"{name}.after").read_text()


def _changes(platform: str, before: str, after: str) -> list[RuleChange]:
    result = diff_device("edge1", platform, before, after, Networks.default())
    assert result.error is None
    return list(result.changes)


def _identities(changes: list[RuleChange]) -> set[tuple[str, str]]:
    return {(change.family, change.key) for change in changes}


def _check_exact(platform: str, before: str, after: str, apply: Callable[[str, Rollback], str]) -> int:
    """Apply each finding's rollback to `after`; only that finding's change may be undone. Returns how many."""
    changes = _changes(platform, before, after)
    checked = 0
    for change in changes:
        rollback = rollback_for(change, before, after)
        if rollback.method == NOTHING:  # same statements on both sides: the meaning changed through an object
            assert change.before is not None and change.after is not None and not rollback.commands
            assert "object" in rollback.note
            continue
        assert rollback.method in (HIER_CONFIG, SOURCE_LINES), (change.key, rollback)
        if "no longer defines" in rollback.note:  # the old rule's object went too: restoring the rule is not enough
            continue
        rolled = apply(after, rollback)
        others = _identities(changes) - {(change.family, change.key)}
        remaining = _identities(_changes(platform, before, rolled))
        assert (change.family, change.key) not in remaining, (change.key, rollback.commands)
        undone = _changes(platform, after, rolled)  # the finding, seen backwards
        assert (change.after, change.before) in [(c.before, c.after) for c in undone], (change.key, rollback)
        if change.family in ("object", "binding"):
            # an object or a rule-set binding carries the meaning of the rules that use it: those changes are
            # undone with it, but nothing that did not change between the two configs is touched
            assert remaining <= others, (change.key, rollback.commands, remaining - others)
        else:
            assert remaining == others, (change.key, rollback.commands)
            assert len(undone) == 1, (change.key, rollback.commands, undone)
        checked += 1
    return checked


def _apply_hier(driver: str) -> Callable[[str, Rollback], str]:
    def apply(after: str, rollback: Rollback) -> str:
        from hier_config import Host

        host = Host("t", driver, {})
        host.load_running_config(after)
        remediation = Host("t", driver, {})
        remediation.load_running_config("\n".join(rollback.commands))
        return str(host.running_config.future(remediation.running_config))

    return apply


def _ios_order(text: str) -> str:
    """IOS keeps a named ACL's entries in sequence order; entries without a number count 10, 20, ... in order."""
    out: list[str] = []
    entries: list[tuple[int, str]] = []

    def flush() -> None:
        out.extend(f" {number} {entry}" for number, entry in sorted(entries))
        entries.clear()

    in_acl = False
    implicit = 0
    for line in text.splitlines():
        if not line.startswith(" "):
            flush()
            in_acl = line.startswith("ip access-list ")
            implicit = 0
            out.append(line)
        elif in_acl:
            numbered = re.fullmatch(r"\s+(\d+)\s+(.*)", line)
            implicit += 10
            entries.append((int(numbered.group(1)), numbered.group(2)) if numbered else (implicit, line.strip()))
        else:
            out.append(line)
    flush()
    return "\n".join(out) + "\n"


def test_ios_named_acl_entry_goes_back_between_its_neighbours() -> None:
    before = (
        "hostname r1\ninterface GigabitEthernet0/1\n ip access-group LAN-OUT in\n!\n"
        "ip access-list extended LAN-OUT\n"
        " permit tcp 10.1.0.0 0.0.255.255 any eq 443\n"
        " deny   tcp 10.1.0.0 0.0.255.255 host 198.51.100.7\n"
        " permit tcp 10.1.0.0 0.0.255.255 any\n"
        " deny   ip any any\n!\n"
    )
    after = before.replace(" deny   tcp 10.1.0.0 0.0.255.255 host 198.51.100.7\n", "")
    (change,) = _changes("cisco_ios", before, after)
    rollback = rollback_for(change, before, after)
    restored = "  15 deny tcp 10.1.0.0 0.0.255.255 host 198.51.100.7"  # between 10 and 20 of the newer list
    assert rollback.commands == ("ip access-list extended LAN-OUT", restored)
    assert _check_exact("cisco_ios", before, after, lambda text, rb: _ios_order(_apply_hier("ios")(text, rb))) == 1


@pytest.mark.parametrize(
    ("platform", "driver", "syntax"),
    [
        ("cisco_ios", "ios", "ios"),
        ("cisco_nxos", "nxos", "nxos"),
        ("cisco_asa", "ios", "asa"),  # ciscoconfparse2 runs ASA on hier_config's ios driver
        ("arista_eos", "eos", "eos"),
        ("cisco_xr", "iosxr", "iosxr"),
    ],
)
def test_cisco_style_rollback_undoes_exactly_the_finding(platform: str, driver: str, syntax: str) -> None:
    before, after = _pair(platform, "categories")
    assert _check_exact(platform, before, after, _apply_hier(driver)) >= 4  # IOS-XR has no NAT: 4
    rollbacks = [rollback_for(change, before, after) for change in _changes(platform, before, after)]
    assert {rb.syntax for rb in rollbacks if rb.method == HIER_CONFIG} == {syntax}


def _apply_set_paths(after: str, rollback: Rollback) -> str:
    statements = [tuple(path) for path in set_statements(config_lines(after))]
    for command in rollback.commands:
        verb, _, rest = command.partition(" ")
        path = tuple(shlex.split(rest, posix=False))
        if verb == "delete":
            statements = [stmt for stmt in statements if stmt[: len(path)] != path]
        elif verb in ("insert", "move"):  # insert NODE before KIND NEXT (Junos) / move NODE before NEXT (PAN-OS)
            at = path.index("before")
            node, sibling = path[:at], path[-1]
            moving = [stmt for stmt in statements if stmt[: len(node)] == node]
            statements = [stmt for stmt in statements if stmt[: len(node)] != node]
            target = (*node[:-1], sibling)
            first = next(i for i, stmt in enumerate(statements) if stmt[: len(target)] == target)
            statements[first:first] = moving
        else:
            assert verb == "set", command
            statements.append(path)
    return "".join("set " + " ".join(stmt) + "\n" for stmt in statements)


def _as_set_form(text: str) -> str:
    return "".join("set " + " ".join(path) + "\n" for path in set_statements(config_lines(text)))


@pytest.mark.parametrize(
    ("platform", "name"),
    [
        ("juniper_junos", "categories_set"),
        ("juniper_junos", "categories_curly"),
        ("vyos", "categories"),
        ("vyos", "bjw-s_nat"),
        ("paloalto_panos", "categories"),
    ],
)
def test_set_path_rollback_undoes_exactly_the_finding(platform: str, name: str) -> None:
    before, after = _pair(platform, name)
    # brace text is compared in its set form (same statements; the applier speaks set paths)
    assert _check_exact(platform, _as_set_form(before), after, _apply_set_paths) >= 1
    for change in _changes(platform, before, after):
        rollback = rollback_for(change, before, after)
        assert all(line.startswith(("delete ", "set ", "insert ", "move ")) for line in rollback.commands)
        assert not any(line.startswith("no ") for line in rollback.commands)  # never IOS syntax on Junos


def test_panos_list_member_binding_deletes_only_the_new_member() -> None:
    before, after = _pair("paloalto_panos", "categories")
    binding = next(c for c in _changes("paloalto_panos", before, after) if c.family == "binding")
    assert rollback_for(binding, before, after).commands == ("delete zone trust network layer3 ethernet1/3",)


def _apply_iptables(after: str, rollback: Rollback) -> str:
    lines = config_lines(after)
    for command in rollback.commands:
        words = command.split(None, 5)
        _, _, table, op, chain = words[:5]
        start = lines.index(f"*{table}")
        end = lines.index("COMMIT", start)
        if op == "-D":
            lines.remove(f"-A {chain} {words[5]}")
        else:
            position, rest = words[5].split(None, 1)
            rules = [i for i in range(start, end) if lines[i].startswith(f"-A {chain} ")]
            at = rules[int(position) - 1] if int(position) <= len(rules) else (rules[-1] + 1 if rules else end)
            lines.insert(at, f"-A {chain} {rest}")
    return "\n".join(lines) + "\n"


def test_iptables_rollback_undoes_exactly_the_finding() -> None:
    before, after = _pair("linux", "iptables")
    assert _check_exact("linux", before, after, _apply_iptables) == 5


def _apply_routeros(after: str, rollback: Rollback) -> str:
    lines = config_lines(after)
    for command in rollback.commands:
        match = re.fullmatch(r"(/[^\[]+?) (remove \[find (.*)\]|add (.*))", command)
        assert match is not None, command
        menu, _, found, added = match.groups()
        placed = re.fullmatch(r"(.*) place-before=\[find (.*)\]", added or "")
        if found is not None:
            lines.remove(f"add {found}")
        elif placed is not None:
            lines.insert(lines.index(f"add {placed.group(2)}"), f"add {placed.group(1)}")
        else:
            at = lines.index(menu) + 1
            while at < len(lines) and not lines[at].startswith("/"):
                at += 1
            lines.insert(at, f"add {added}")
    return "\n".join(lines) + "\n"


def test_routeros_rollback_undoes_exactly_the_finding() -> None:
    before, after = _pair("mikrotik_routeros", "categories")
    assert _check_exact("mikrotik_routeros", before, after, _apply_routeros) >= 6


Node = tuple[str, list["Node | str"]]


def _forti_tree(text: str) -> list[Node | str]:
    """FortiOS text as nested (`config X` / `edit N`, children) nodes; `set`/`unset`/`delete` lines as strings."""
    root: list[Node | str] = []
    stack = [root]
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("config ", "edit ")):
            node: Node = (line, [])
            stack[-1].append(node)
            stack.append(node[1])
        elif line in ("next", "end"):
            stack.pop()
        else:
            stack[-1].append(line)
    return root


def _forti_merge(tree: list[Node | str], script: list[Node | str]) -> None:
    for item in script:
        if isinstance(item, str):
            verb, _, rest = item.partition(" ")
            key = rest.split(" ", 1)[0]
            if verb == "delete":
                tree[:] = [n for n in tree if not (isinstance(n, tuple) and n[0] == f"edit {rest}")]
                continue
            if verb == "move":  # move ID before OTHER
                moved, _, other = rest.partition(" before ")
                entry = next(n for n in tree if isinstance(n, tuple) and n[0] == f"edit {moved}")
                tree.remove(entry)
                tree.insert(
                    next(i for i, n in enumerate(tree) if isinstance(n, tuple) and n[0] == f"edit {other}"), entry
                )
                continue
            tree[:] = [n for n in tree if not (isinstance(n, str) and n.split(" ")[:2] == ["set", key])]
            if verb == "set":
                tree.append(item)
            continue
        found = next((n for n in tree if isinstance(n, tuple) and n[0] == item[0]), None)
        if found is None:
            tree.append(item)
        else:
            _forti_merge(found[1], item[1])


def _forti_text(tree: list[Node | str], depth: int = 0) -> list[str]:
    out: list[str] = []
    for item in tree:
        if isinstance(item, str):
            out.append("    " * depth + item)
        else:
            out.append("    " * depth + item[0])
            out += _forti_text(item[1], depth + 1)
            out.append("    " * depth + ("next" if item[0].startswith("edit ") else "end"))
    return out


def _apply_fortios(after: str, rollback: Rollback) -> str:
    tree = _forti_tree(after)
    _forti_merge(tree, _forti_tree("\n".join(rollback.commands)))
    return "\n".join(_forti_text(tree)) + "\n"


def test_fortios_rollback_undoes_exactly_the_finding() -> None:
    before, after = _pair("fortinet", "categories")
    assert _check_exact("fortinet", before, after, _apply_fortios) >= 5


def test_fortios_rollback_commands() -> None:
    before, after = _pair("fortinet", "categories")
    by_key = {(c.change.value, c.family): rollback_for(c, before, after) for c in _changes("fortinet", before, after)}
    assert by_key[("added", "filter")].commands == ("config firewall policy", "    delete 15", "end")
    assert by_key[("added", "nat")].commands == ("config firewall vip", '    delete "vip-proxy"', "end")
    modified = by_key[("modified", "nat")].commands
    assert modified == ("config firewall vip", '    edit "vip-web"', "        set mappedport 443", "    next", "end")
    removed = by_key[("removed", "filter")].commands
    assert removed[:2] == ("config firewall policy", "    edit 20") and removed[-3:] == (
        "    next",
        "    move 20 before 30",
        "end",
    )


def _nft_chain_rules(lines: list[str], chain: str) -> list[int]:
    """Indexes of the rule lines of `chain {` (not its type/policy line)."""
    start = next(i for i, line in enumerate(lines) if line.strip() == f"chain {chain} {{")
    out = []
    for index in range(start + 1, len(lines)):
        text = lines[index].strip()
        if text == "}":
            return out
        if not text.startswith(("type ", "policy ")):
            out.append(index)
    return out


def _apply_nft(after: str, rollback: Rollback) -> str:
    """nft commands on `nft list ruleset` text: delete by the looked-up rule text, add/insert at an index,
    delete/add set elements (rules sit in one chain name per table in this fixture)."""
    lines = after.splitlines()
    for command in rollback.commands:
        deleted = re.search(r"grep -F -- '(.*) # handle '", command)
        placed = re.fullmatch(r"nft (insert|add) rule \S+ \S+ (\S+)(?: index (\d+))? (.*)", command)
        element = re.fullmatch(r"nft (delete|add) element \S+ \S+ (\S+) \{ (.*) \}", command)
        if deleted is not None:
            lines = [line for line in lines if line.strip() != deleted.group(1)]
        elif placed is not None:
            verb, chain, index, rule = placed.groups()
            rules = _nft_chain_rules(lines, chain)
            at = rules[0] if verb == "insert" else rules[int(index)] + 1 if index is not None else rules[-1] + 1
            lines.insert(at, "\t\t" + rule)
        else:
            assert element is not None, command
            verb, name, items = element.groups()
            start = next(i for i, line in enumerate(lines) if line.strip() == f"set {name} {{")
            at = next(i for i in range(start, len(lines)) if "elements = {" in lines[i])
            now = re.search(r"\{ (.*) \}", lines[at])
            assert now is not None
            members = [m.strip() for m in now.group(1).split(",")]
            for item in items.split(", "):
                members = [m for m in members if m != item] if verb == "delete" else [*members, item]
            lines[at] = "\t\telements = { " + ", ".join(members) + " }"
    return "\n".join(lines) + "\n"


def test_nft_rollback_undoes_exactly_the_finding() -> None:
    before, after = _pair("linux", "nftables")
    assert _check_exact("linux", before, after, _apply_nft) >= 5


def test_nft_rollback_commands_rules_and_set_elements() -> None:
    before, after = _pair("linux", "nftables")
    rollbacks = {(c.change.value, c.family): rollback_for(c, before, after) for c in _changes("linux", before, after)}
    added = rollbacks[("added", "nat")]
    assert added.commands[0].startswith(
        "nft delete rule ip nat prerouting handle $(nft -a list chain ip nat prerouting"
    )
    assert "dnat to 198.51.100.80:3128" in added.commands[0]
    removed = rollbacks[("removed", "filter")]
    rule = 'iifname "lab0" oifname "wan0" ip saddr 10.2.0.0/16 tcp dport 80 accept'
    assert removed.commands == (f"nft add rule inet filter forward index 0 {rule}",)
    set_change = rollbacks[("modified", "object")]
    assert set_change.commands == (
        "nft delete element inet filter proxies { 198.51.100.9 }",
        "nft add element inet filter proxies { 10.9.9.9 }",
    )


def test_rollback_says_why_when_it_cannot_serve() -> None:
    before, after = _pair("cisco_ios", "categories")
    change = next(c for c in _changes("cisco_ios", before, after) if c.change.value == "added" and c.family == "nat")
    missing = rollback_for(change, before, None)
    assert missing.method == UNSUPPORTED and "not available" in missing.note and not missing.commands
    xml = rollback_for(
        RuleChange("fw", "juniper_junos", change.change, "nat", "k", None, None, lines_after=change.lines_after),
        "<config/>",
        "<config>\n" * 40,
    )
    assert xml.method == UNSUPPORTED and "XML" in xml.note
    assert Rollback.from_json(missing.to_json()) == missing


XR_BEFORE = """hostname xr1
ipv4 access-list EDGE-OUT
 10 permit tcp 10.1.0.0 0.0.255.255 any eq 443
 20 deny ipv4 any any
!
interface GigabitEthernet0/0/0/1
 ipv4 access-group EDGE-OUT egress
!
"""
XR_ADDED = " 15 permit tcp 10.1.0.0 0.0.255.255 host 198.51.100.7 eq 3128"


def test_ios_xr_rollback_through_diff_iosxr() -> None:
    """IOS-XR (platform cisco_xr) goes through Diff(syntax='iosxr'); applied back it gives the older text."""
    lines = XR_BEFORE.splitlines()
    after = "\n".join([*lines[:3], XR_ADDED, *lines[3:]]) + "\n"
    added = RuleChange(
        "xr1", "cisco_xr", ChangeType.ADDED, "filter", "k", None, None, lines_after=SourceLines(4, 4, (XR_ADDED,))
    )
    rollback = rollback_for(added, XR_BEFORE, after)
    assert (rollback.method, rollback.syntax) == (HIER_CONFIG, "iosxr")
    assert rollback.commands == ("ipv4 access-list EDGE-OUT", "  no" + XR_ADDED)
    rolled = _apply_hier("iosxr")(after, rollback)
    assert [line for line in rolled.splitlines() if "198.51.100.7" in line] == []
    assert "10 permit tcp 10.1.0.0 0.0.255.255 any eq 443" in rolled and "20 deny ipv4 any any" in rolled


def test_vyos_brace_config_rollback() -> None:
    """VyOS `show configuration` braces (a leaf ends at its line's end, no `;`) become set paths per leaf."""
    before = (DIFF.parent / "configs" / "vyos" / "forms_curly.conf").read_text()
    added = (
        "        rule 20 {\n"
        '            description "proxy"\n'
        "            destination {\n                port 8080\n            }\n"
        "            inbound-interface {\n                name eth1\n            }\n"
        "            protocol tcp\n"
        "            translation {\n                address 198.51.100.80\n                port 3128\n            }\n"
        "        }\n"
    )
    after = before.replace("                port 8443\n", "                port 9443\n")
    lines = after.splitlines(keepends=True)
    close = lines.index("    source {\n") - 1  # the `}` closing `destination`
    after = "".join([*lines[:close], added, *lines[close:]])
    changes = _changes("vyos", before, after)
    assert {(c.change.value, c.family) for c in changes} == {("added", "nat"), ("modified", "nat")}

    def apply(text: str, rollback: Rollback) -> str:
        statements = [tuple(path) for path in set_statements(config_lines(text), vyos=True)]
        for command in rollback.commands:
            verb, _, rest = command.partition(" ")
            path = tuple(shlex.split(rest, posix=False))
            statements = [s for s in statements if s[: len(path)] != path] if verb == "delete" else [*statements, path]
        return "".join("set " + " ".join(stmt) + "\n" for stmt in statements)

    set_before = "".join("set " + " ".join(p) + "\n" for p in set_statements(config_lines(before), vyos=True))
    assert _check_exact("vyos", set_before, after, apply) == 2
    by_kind = {c.change.value: rollback_for(c, before, after).commands for c in changes}
    assert by_kind["added"] == ("delete nat destination rule 20",)
    assert by_kind["modified"] == (
        "delete nat destination rule 10 translation port 9443",
        "set nat destination rule 10 translation port 8443",
    )


IOS_NUMBERED = """hostname r1
interface GigabitEthernet0/1
 ip access-group 101 in
!
access-list 101 permit tcp 10.1.0.0 0.0.255.255 any eq 443
access-list 101 permit tcp 10.1.0.0 0.0.255.255 any eq 80
access-list 101 deny   ip any any
access-list 10 permit 10.9.0.0 0.0.255.255
"""


def test_ios_numbered_acl_entries_are_undone_by_sequence_never_by_no_access_list() -> None:
    """`no access-list 101 permit ...` deletes the whole of list 101 on IOS: entries go by sequence number."""
    lines = IOS_NUMBERED.splitlines()
    proxy = "access-list 101 permit tcp 10.1.0.0 0.0.255.255 host 198.51.100.7 eq 3128"
    after = "\n".join([*lines[:5], proxy, *lines[5:]])
    before_removed = "\n".join(line for line in lines if "eq 80" not in line)
    changes = {(c.change.value, c.family): c for c in _changes("cisco_ios", IOS_NUMBERED, after)}
    added = rollback_for(changes[("added", "filter")], IOS_NUMBERED, after)
    assert added.commands == ("ip access-list extended 101", " no 20") and "resequenced" in added.note
    removed_change = next(c for c in _changes("cisco_ios", IOS_NUMBERED, before_removed) if c.family == "filter")
    removed = rollback_for(removed_change, IOS_NUMBERED, before_removed)
    assert removed.commands == ("ip access-list extended 101", " 15 permit tcp 10.1.0.0 0.0.255.255 any eq 80")
    every = [rollback_for(c, IOS_NUMBERED, after) for c in _changes("cisco_ios", IOS_NUMBERED, after)]
    assert not any(command.startswith("no access-list") for rb in every for command in rb.commands)


def test_panos_xml_rollback_as_cli_paths() -> None:
    """PAN-OS XML (`show config running`): entries and members become CLI set paths in the vsys context."""
    before = (DIFF.parent / "configs" / "paloalto_panos" / "forms_fw.xml").read_text()
    fields = [("from", "trust"), ("to", "untrust"), ("source", "WEB-SERVERS"), ("destination", "PROXY-NET")]
    fields += [("application", "any"), ("service", "TCP-8080")]
    members = "".join(f"<{tag}><member>{value}</member></{tag}>" for tag, value in fields)
    squid = f'                <entry name="squid">{members}<action>allow</action></entry>\n'
    after = before.replace("<translated-port>80</translated-port>", "<translated-port>8080</translated-port>")
    inbound = '                <entry name="inbound-web">\n'
    after = after.replace(inbound, squid + inbound)
    changes = _changes("paloalto_panos", before, after)
    by_kind = {(c.change.value, c.family): rollback_for(c, before, after) for c in changes}
    assert by_kind[("added", "filter")].commands == ("delete rulebase security rules squid",)
    assert by_kind[("modified", "nat")].commands == (
        "delete rulebase nat rules PORT-FWD destination-translation translated-port 8080",
        "set rulebase nat rules PORT-FWD destination-translation translated-port 80",
    )

    def as_set(text: str) -> str:
        return "".join("set " + " ".join(path) + "\n" for path in xml_statements(config_lines(text)))

    def apply(text: str, rollback: Rollback) -> str:
        return _apply_set_paths(as_set(text), rollback)

    assert _check_exact("paloalto_panos", as_set(before), after, apply) == len(changes) == 2
