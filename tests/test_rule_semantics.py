"""Issue 15 items 1, 2, 4, 8 and issue 20 item 6 through the real parsers: connection state, ICMP type and
code, iptables RETURN, in-place modifications with field-level reasons, and the diff budget.

Vendor documentation is the oracle: netfilter (`iptables-extensions` conntrack/state, RETURN), nftables
`ct state`, RouterOS `connection-state`, VyOS state-policy / `state`, IOS `established` (TCP ACK or RST,
never a connection's first packet), the IOS IPv6 `permit icmp` reference (ICMPv6 types).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cfgwatch.classify.networks import Networks
from cfgwatch.diff.engine import diff_rulesets
from cfgwatch.model import Service
from cfgwatch.model.changes import RuleChange
from cfgwatch.model.space import DiffBudget
from cfgwatch.revisions import DeviceDiff, diff_device
from cfgwatch.vendors.registry import get_parser

NETWORKS = Networks.default()
EGRESS, WIDENED, NARROWED = "egress-forward", "acl-widened", "acl-narrowed"
CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "configs"  # real configs (fixtures/configs/MANIFEST)


def diff(platform: str, before: str, after: str) -> DeviceDiff:
    result = diff_device("r1", platform, before, after, NETWORKS)
    assert result.error is None
    return result


def only(result: DeviceDiff, change: str, family: str = "filter") -> RuleChange:
    found = [c for c in result.changes if c.change.value == change and c.family == family]
    assert len(found) == 1, [(c.change.value, c.key, c.categories) for c in result.changes]
    return found[0]


# -- item 1: connection state ------------------------------------------------------------------------
# Each platform: a leading "accept established,related", then a permit; the change adds a permit from
# the LAN to a public squid on 3128. Before the fix the leading rule was permit-all, so the addition was
# "no effect"; new connections from 10.1.0.0/16 to 198.51.100.7:3128 are what the change opens.

IPT = """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate {state} -j ACCEPT
{extra}-A FORWARD -s 10.1.0.0/16 -p tcp -m tcp --dport 443 -j ACCEPT
COMMIT
"""
IPT_SQUID = "-A FORWARD -s 10.1.0.0/16 -d 198.51.100.7/32 -p tcp -m tcp --dport 3128 -j ACCEPT\n"

NFT = """table inet filter {{
  chain forward {{
    type filter hook forward priority 0; policy drop;
    ct state {state} accept
{extra}    ip saddr 10.1.0.0/16 tcp dport 443 accept
  }}
}}
"""
NFT_SQUID = "    ip saddr 10.1.0.0/16 ip daddr 198.51.100.7 tcp dport 3128 accept\n"

ROS = """/ip firewall filter
add action=accept chain=forward connection-state={state}
{extra}add action=accept chain=forward src-address=10.1.0.0/16 dst-port=443 protocol=tcp
add action=drop chain=forward
"""
ROS_SQUID = (
    "add action=accept chain=forward src-address=10.1.0.0/16 dst-address=198.51.100.7 dst-port=3128 protocol=tcp\n"
)

IOS = """hostname r1
ip access-list extended OUT
 10 permit tcp any any established
{extra} 20 permit tcp 10.1.0.0 0.0.255.255 any eq 443
 30 deny ip any any
interface Gi0/1
 ip access-group OUT in
"""
IOS_SQUID = " 15 permit tcp 10.1.0.0 0.0.255.255 host 198.51.100.7 eq 3128\n"

VYOS_POLICY = """set firewall global-options state-policy established action 'accept'
set firewall global-options state-policy related action 'accept'
set firewall ipv4 name LAN-OUT default-action 'drop'
{extra}set firewall ipv4 name LAN-OUT rule 20 action 'accept'
set firewall ipv4 name LAN-OUT rule 20 source address '10.1.0.0/16'
set firewall ipv4 name LAN-OUT rule 20 destination port '443'
set firewall ipv4 name LAN-OUT rule 20 protocol 'tcp'
set interfaces ethernet eth1 firewall in name 'LAN-OUT'
"""
VYOS13 = """set firewall name LAN-OUT default-action 'drop'
set firewall name LAN-OUT rule 5 action 'accept'
set firewall name LAN-OUT rule 5 state established 'enable'
set firewall name LAN-OUT rule 5 state related 'enable'
{extra}set firewall name LAN-OUT rule 20 action 'accept'
set firewall name LAN-OUT rule 20 source address '10.1.0.0/16'
set firewall name LAN-OUT rule 20 destination port '443'
set firewall name LAN-OUT rule 20 protocol 'tcp'
set interfaces ethernet eth1 firewall in name 'LAN-OUT'
"""
VYOS_SQUID = """set firewall {name} LAN-OUT rule 15 action 'accept'
set firewall {name} LAN-OUT rule 15 source address '10.1.0.0/16'
set firewall {name} LAN-OUT rule 15 destination address '198.51.100.7'
set firewall {name} LAN-OUT rule 15 destination port '3128'
set firewall {name} LAN-OUT rule 15 protocol 'tcp'
"""

STATEFUL = {
    "iptables": ("linux", IPT, IPT_SQUID, "ESTABLISHED,RELATED"),
    "nftables": ("linux", NFT, NFT_SQUID, "established,related"),
    "routeros": ("mikrotik_routeros", ROS, ROS_SQUID, "established,related"),
    "ios-established": ("cisco_ios", IOS, IOS_SQUID, ""),
    "vyos-state-policy": ("vyos", VYOS_POLICY, VYOS_SQUID.format(name="ipv4 name"), ""),
    "vyos-1.3-state": ("vyos", VYOS13, VYOS_SQUID.format(name="name"), ""),
}


@pytest.mark.parametrize("case", sorted(STATEFUL))
def test_permit_behind_an_established_accept_is_judged_for_new_connections(case: str) -> None:
    platform, template, squid, state = STATEFUL[case]
    before = template.format(state=state, extra="")
    after = template.format(state=state, extra=squid)
    leading = next(rule for rule in get_parser(platform).parse(before).filters if "chain-policy" not in rule.options)
    assert leading.states == frozenset({"established", "related"})  # recorded by the parser
    change = only(diff(platform, before, after), "added")
    assert change.categories == (EGRESS, WIDENED)
    assert change.affected.internal.ranges() == ["10.1.0.0/16"]
    assert change.affected.public.ranges() == ["198.51.100.7"]
    assert change.affected.ports.text() == "3128"


@pytest.mark.parametrize("case", ["iptables", "nftables", "routeros"])
def test_removing_the_established_accept_narrows_and_opens_nothing(case: str) -> None:
    platform, template, _, state = STATEFUL[case]
    before = template.format(state=state, extra="")
    lines = before.splitlines(keepends=True)
    after = "".join(line for line in lines if "ctstate" not in line and "ct state" not in line)
    after = after.replace("add action=accept chain=forward connection-state=established,related\n", "")
    change = only(diff(platform, before, after), "removed")
    assert change.categories == (NARROWED,)


def test_state_new_only_permit_is_not_a_permit_for_established_packets() -> None:
    """`--ctstate NEW` and an unrestricted permit differ exactly in the non-NEW states."""
    before = IPT.format(state="NEW", extra="")
    after = before.replace("--ctstate NEW", "--ctstate NEW,ESTABLISHED,RELATED,INVALID,UNTRACKED")
    changes = diff("linux", before, after).changes
    widened = [c for c in changes if WIDENED in c.categories]
    assert widened and all(EGRESS not in c.categories for c in widened)  # no new connection gains a path
    assert all(c.affected.internal.is_empty for c in widened)


def test_connection_states_read_from_options() -> None:
    rules = (
        get_parser("linux")
        .parse(IPT.format(state="INVALID", extra="-A FORWARD -m state ! --state NEW -j DROP\n"))
        .filter_lists()["FORWARD"]
    )
    assert rules[0].states == frozenset({"invalid"})
    assert rules[1].states == frozenset({"established", "related", "invalid", "untracked"})
    assert rules[2].states == frozenset({"new", "established", "related", "invalid", "untracked"})


def test_parsers_record_the_exact_state_set() -> None:
    nft = NFT.format(state="related", extra="    ct state vmap { established : accept, invalid : drop }\n")
    states = [rule.states for rule in get_parser("linux").parse(nft).filters if "chain-policy" not in rule.options]
    assert states[:3] == [frozenset({"related"}), frozenset({"established"}), frozenset({"invalid"})]
    negated = NFT.format(state="!= { established, related }", extra="")
    assert get_parser("linux").parse(negated).filters[0].states == {"new", "invalid", "untracked"}
    ros = ROS.format(state="established,related,untracked", extra="")
    assert get_parser("mikrotik_routeros").parse(ros).filters[0].states == {"established", "related", "untracked"}
    vyos = VYOS_POLICY.format(extra="").replace(
        "state-policy related action 'accept'", "state-policy invalid action 'drop'"
    )
    policy = [rule for rule in get_parser("vyos").parse(vyos).filters if "state-policy" in rule.options]
    assert [(rule.action.value, rule.states) for rule in policy] == [
        ("permit", frozenset({"established"})),
        ("deny", frozenset({"invalid"})),
    ]


# -- item 2: ICMP type and code ----------------------------------------------------------------------


def test_ios_echo_only_to_all_icmp_is_widened_in_place() -> None:
    before = "ip access-list extended OUT\n 10 permit icmp 10.1.0.0 0.0.255.255 any echo\n 20 deny ip any any\n"
    after = before.replace(" any echo\n", " any\n")
    change = only(diff("cisco_ios", before, after), "modified")
    assert WIDENED in change.categories
    assert change.reasons == ("service icmp echo -> icmp",)  # IOS's own name for type 8
    assert change.affected.ports.is_any  # ICMP type/code never shows up as a port number
    back = only(diff("cisco_ios", after, before), "modified")
    assert back.categories == (NARROWED,)
    parser = get_parser("cisco_ios")
    (coarse,) = diff_rulesets(parser.parse(before), parser.parse(after), budget=DiffBudget(max_cells=1))
    assert coarse.delta is not None and coarse.delta.widened_dst_ports().is_any and not coarse.exact


@pytest.mark.parametrize(
    ("platform", "before", "after", "reason"),
    [
        (
            "vyos",
            "set firewall ipv4 name IN rule 10 icmp type-name 'echo-request'\n",
            "set firewall ipv4 name IN rule 10 icmp type-name 'time-exceeded'\n",
            "service icmp echo-request -> icmp time-exceeded",
        ),
        (
            "cisco_nxos",
            "ipv6 access-list IN\n  10 permit icmp any any echo-request\n",
            "ipv6 access-list IN\n  10 permit icmp any any nd-ns\n",
            "service icmp6 echo-request -> icmp6 nd-ns",
        ),
        (
            "cisco_ios",
            "ip access-list extended IN\n 10 permit icmp any any port-unreachable\n",
            "ip access-list extended IN\n 10 permit icmp any any 3 9\n",
            "service icmp port-unreachable -> icmp unreachable code 9",
        ),
    ],
)
def test_icmp_reasons_use_the_platform_names(platform: str, before: str, after: str, reason: str) -> None:
    if platform == "vyos":
        head = "set firewall ipv4 name IN rule 10 action 'accept'\nset firewall ipv4 name IN rule 10 protocol 'icmp'\n"
        before, after = head + before, head + after
    assert only(diff(platform, before, after), "modified").reasons == (reason,)


def test_iptables_echo_request_to_all_icmp_is_widened() -> None:
    base = "*filter\n:FORWARD DROP [0:0]\n{rule}COMMIT\n"
    before = base.format(rule="-A FORWARD -s 10.1.0.0/16 -p icmp -m icmp --icmp-type echo-request -j ACCEPT\n")
    after = base.format(rule="-A FORWARD -s 10.1.0.0/16 -p icmp -j ACCEPT\n")
    result = diff("linux", before, after)
    assert WIDENED in only(result, "added").categories
    assert only(result, "removed").categories == ()  # echo is still permitted by the new rule


def test_different_icmp_types_are_different_cells() -> None:
    before = "ip access-list extended OUT\n 10 permit icmp any any echo-reply\n 20 deny ip any any\n"
    after = "ip access-list extended OUT\n 10 permit icmp any any echo-reply\n 15 permit icmp any any unreachable\n"
    after += " 20 deny ip any any\n"
    assert WIDENED in only(diff("cisco_ios", before, after), "added").categories
    # a deny of one code inside an allowed type leaves the rest of the type permitted
    before = "ip access-list extended OUT\n 10 permit icmp any any unreachable\n"
    after = "ip access-list extended OUT\n 5 deny icmp any any port-unreachable\n 10 permit icmp any any unreachable\n"
    assert only(diff("cisco_ios", before, after), "added").categories == (NARROWED,)


@pytest.mark.parametrize("platform", ["cisco_ios", "cisco_nxos", "arista_eos"])
def test_icmp_inside_an_ipv6_acl_is_icmpv6(platform: str) -> None:
    text = "ipv6 access-list V6\n 10 permit icmp any any echo-request\n 20 permit icmp any any nd-ns\n"
    rules = get_parser(platform).parse(text).filter_lists()["V6"]
    assert rules[0].match.services == (Service(58, icmp_type=128),)
    assert rules[1].match.services == (Service(58, icmp_type=135),)


def test_nft_icmp_type_sets_and_codes_by_nft_names() -> None:
    text = NFT.format(state="established,related", extra="    icmp type { echo-request, echo-reply } accept\n")
    more = "icmpv6 type nd-neighbor-solicit accept\n"
    more += "    icmp type destination-unreachable icmp code frag-needed accept\n"
    text = text.replace("ip saddr", more + "    ip saddr", 1)
    rules = get_parser("linux").parse(text).filters
    services = [rule.match.services for rule in rules]
    assert (Service(1, icmp_type=8), Service(1, icmp_type=0)) in services
    assert (Service(58, icmp_type=135),) in services
    assert (Service(1, icmp_type=3, icmp_code=4),) in services


def test_asa_icmp_type_object_group_is_modelled_and_its_change_is_an_object_change() -> None:
    """ASA `object-group icmp-type` with `icmp-object` members (ASA command reference)."""
    text = (
        "hostname fw1\nobject-group icmp-type PINGS\n icmp-object echo\n icmp-object echo-reply\n"
        "access-list OUTSIDE extended permit icmp any any object-group PINGS\n"
        "access-list OUTSIDE extended deny ip any any\naccess-group OUTSIDE in interface outside\n"
    )
    parsed = get_parser("cisco_asa").parse(text)
    assert not parsed.diagnostics
    rule = parsed.filter_lists()["OUTSIDE"][0]
    assert rule.match.services == (Service(1, icmp_type=8), Service(1, icmp_type=0))
    widened = text.replace(" icmp-object echo-reply\n", " icmp-object echo-reply\n icmp-object unreachable\n")
    changes = diff("cisco_asa", text, widened).changes
    filter_change = next(c for c in changes if c.family == "filter")
    assert filter_change.reasons == ("object PINGS changed meaning",) and WIDENED in filter_change.categories


def test_vyos_icmp_type_name_and_code() -> None:
    text = (
        "set firewall ipv4 name IN rule 10 action 'accept'\n"
        "set firewall ipv4 name IN rule 10 protocol 'icmp'\n"
        "set firewall ipv4 name IN rule 10 icmp type-name 'echo-request'\n"
        "set firewall ipv4 name IN rule 20 action 'accept'\n"
        "set firewall ipv4 name IN rule 20 protocol 'icmp'\n"
        "set firewall ipv4 name IN rule 20 icmp type '3'\n"
        "set firewall ipv4 name IN rule 20 icmp code '4'\n"
        "set firewall ipv6 name IN6 rule 10 action 'accept'\n"
        "set firewall ipv6 name IN6 rule 10 protocol 'ipv6-icmp'\n"
        "set firewall ipv6 name IN6 rule 10 icmpv6 type-name 'echo-request'\n"
    )
    parsed = get_parser("vyos").parse(text)
    lists = parsed.filter_lists()
    assert lists["ipv4/IN"][0].match.services == (Service(1, icmp_type=8),)
    assert lists["ipv4/IN"][1].match.services == (Service(1, icmp_type=3, icmp_code=4),)
    assert lists["ipv6/IN6"][0].match.services == (Service(58, icmp_type=128),)
    assert not parsed.diagnostics


# -- item 4: iptables RETURN -------------------------------------------------------------------------

RETURN_BASE = """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:{chain} - [0:0]
-A FORWARD -s 10.1.0.0/16 -j {chain}
-A FORWARD -s 10.1.0.0/16 -p tcp -m tcp --dport 443 -j ACCEPT
{ret}-A {chain} -p tcp -m tcp --dport 3128 -j ACCEPT
COMMIT
"""
RETURN_LINE = "-A {chain} -d 198.51.100.0/24 -j RETURN\n"


def test_conditional_return_falls_back_to_the_calling_chain() -> None:
    """Packets to 198.51.100.0/24 return to FORWARD, whose next rule permits 443 only: 3128 is dropped."""
    before = RETURN_BASE.format(chain="EGRESS", ret=RETURN_LINE.format(chain="EGRESS"))
    parsed = get_parser("linux").parse(before)
    assert not any(d.code == "LINUX-RETURN" for d in parsed.diagnostics)
    after = RETURN_BASE.format(chain="EGRESS", ret="")  # the exclusion goes: 198.51.100.0/24:3128 opens
    widened = [c for c in diff("linux", before, after).changes if WIDENED in c.categories]
    assert len(widened) == 1
    assert widened[0].affected.public.ranges() == ["198.51.100.0/24"]
    assert widened[0].affected.ports.text() == "3128"
    assert EGRESS in widened[0].categories


def test_vyos_return_from_a_jump_target_resumes_after_the_jump() -> None:
    """VyOS `action return` in a jump-target ruleset: back to the calling ruleset, whose rest ends in its
    default-action (so 10.1.0.0/16 to 198.51.100.0/24 port 3128 is dropped, not accepted)."""
    head = "set firewall ipv4 name LAN-OUT "
    text = (
        f"{head}default-action 'drop'\n{head}rule 10 action 'jump'\n{head}rule 10 jump-target 'EGRESS'\n"
        f"{head}rule 10 source address '10.1.0.0/16'\n{head}rule 20 action 'accept'\n"
        f"{head}rule 20 protocol 'tcp'\n{head}rule 20 destination port '443'\n"
        "set firewall ipv4 name EGRESS rule 10 action 'return'\n"
        "set firewall ipv4 name EGRESS rule 10 destination address '198.51.100.0/24'\n"
        "set firewall ipv4 name EGRESS rule 20 action 'accept'\n"
        "set firewall ipv4 name EGRESS rule 20 protocol 'tcp'\n"
        "set firewall ipv4 name EGRESS rule 20 destination port '3128'\n"
    )
    rules = get_parser("vyos").parse(text).filter_lists()["ipv4/LAN-OUT"]
    first = next(
        rule for rule in rules if rule.match.dst.contains_ip("198.51.100.7") and rule.match.src.contains_ip("10.1.0.1")
    )
    assert first.action.value == "permit" and first.match.services[0].dst_ports.text() == "443"
    second = rules[rules.index(first) + 1]
    assert second.action.value == "deny" and second.match.dst == first.match.dst  # the default-action


def test_renaming_a_user_chain_with_the_same_rules_is_no_change() -> None:
    before = RETURN_BASE.format(chain="EGRESS", ret=RETURN_LINE.format(chain="EGRESS"))
    after = RETURN_BASE.format(chain="LAN_EGRESS", ret=RETURN_LINE.format(chain="LAN_EGRESS"))
    assert diff("linux", before, after).changes == ()


# -- item 8: one modified change, field-level reasons, readable keys -----------------------------------


def test_same_sequence_new_destination_is_one_modified_change_with_field_reason() -> None:
    before = "ip access-list extended OUT\n 10 permit tcp 10.1.0.0 0.0.255.255 any eq 443\n 20 deny ip any any\n"
    after = before.replace("any eq 443", "203.0.113.0 0.0.0.255 eq 443")
    result = diff("cisco_ios", before, after)
    change = only(result, "modified")
    assert len(result.changes) == 1
    assert change.reasons == ("destination any -> 203.0.113.0/24",)
    assert change.key == "filter OUT seq 10"
    assert change.categories == (NARROWED,)
    assert only(diff("cisco_ios", after, before), "modified").key == change.key


def test_vyos_rule_number_is_the_identity_of_an_edited_rule() -> None:
    before = VYOS13.format(extra="")
    after = before.replace("destination port '443'", "destination port '8443'")
    change = only(diff("vyos", before, after), "modified")
    assert change.reasons == ("service tcp dport 443 -> tcp dport 8443",)
    assert change.key == "filter LAN-OUT seq 20"


def test_json_keys_are_readable_text_never_a_python_repr() -> None:
    before = (CORPUS / "arista_eos" / "example-filters-candidate1_rtr-with-acl.cfg").read_text(encoding="utf-8")
    after = before.replace("10.10.10.0/24 18.18.18.0/26", "10.10.10.0/24 18.18.18.0/27")
    text_before = IPT.format(state="ESTABLISHED,RELATED", extra="")
    text_after = IPT.format(state="ESTABLISHED,RELATED", extra=IPT_SQUID)
    changes = diff("arista_eos", before, after).changes + diff("linux", text_before, text_after).changes
    assert changes
    for change in changes:
        key = change.to_json()["key"]
        assert isinstance(key, str) and key.split(" ", 1)[0] in ("filter", "nat", "binding", "object")
        assert "[" not in key and "(" not in key and "'" not in key, key
    added = next(c for c in changes if c.platform == "linux")
    assert added.key == "filter FORWARD src 10.1.0.0/16 dst 198.51.100.7 svc tcp dport 3128"


# -- issue 20 item 6: speed and budget -----------------------------------------------------------------

EOS_DELETED = ("30", "500", "540", "560", "580", "620", "640", "720", "740", "800", "1740", "1760", "2020", "2060")


def _eos_pair() -> tuple[str, str]:
    text = (CORPUS / "arista_eos" / "example-filters-current_rtr-with-acl.cfg").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if not (line.startswith("  ") and line.split()[0] in EOS_DELETED)]
    return text, "\n".join(kept) + "\n"


def test_deleting_14_entries_of_a_107_entry_eos_acl_is_fast_and_exact() -> None:
    """It took 51-91 s when every cell was decided in Python; the budget is not what makes it fast."""
    before_text, after_text = _eos_pair()
    parser = get_parser("arista_eos")
    before, after = parser.parse(before_text), parser.parse(after_text)
    began = time.perf_counter()
    changes = diff_rulesets(before, after, budget=DiffBudget(max_cells=10**8, max_seconds=600))
    elapsed = time.perf_counter() - began
    assert len(changes) == 14 and all(c.exact for c in changes)
    assert elapsed < 10, elapsed


def test_past_the_cell_budget_the_change_is_judged_widening_and_says_so() -> None:
    before = IPT.format(state="ESTABLISHED,RELATED", extra="")
    after = IPT.format(state="ESTABLISHED,RELATED", extra=IPT_SQUID)
    parser = get_parser("linux")
    changes = diff_rulesets(parser.parse(before), parser.parse(after), budget=DiffBudget(max_cells=2))
    (change,) = changes
    assert not change.exact
    assert change.delta is not None and change.delta.widened and not change.delta.narrowed
    assert any("budget exceeded" in reason and "widening" in reason for reason in change.reasons)
    # even a removal is judged as widening past the budget: never a silent pass
    (back,) = diff_rulesets(parser.parse(after), parser.parse(before), budget=DiffBudget(max_cells=2))
    assert back.delta is not None and back.delta.widened and not back.exact


def test_past_the_time_budget_the_change_is_conservative() -> None:
    before_text, after_text = _eos_pair()
    parser = get_parser("arista_eos")
    changes = diff_rulesets(parser.parse(before_text), parser.parse(after_text), budget=DiffBudget(max_seconds=1e-9))
    assert changes and all(not c.exact for c in changes)
    assert all(any("over 1e-09 s" in reason for reason in c.reasons) for c in changes)


def test_a_device_diff_has_a_total_time_budget_too() -> None:
    """Many changed rules each just under the per-rule budget must not add up to an unbounded diff."""
    before_text, after_text = _eos_pair()
    parser = get_parser("arista_eos")
    changes = diff_rulesets(
        parser.parse(before_text), parser.parse(after_text), budget=DiffBudget(max_total_seconds=1e-9)
    )
    assert len(changes) == 14 and all(not c.exact for c in changes)
    assert all(any("device diff" in reason for reason in c.reasons) for c in changes)
    assert all(c.delta is not None and c.delta.widened for c in changes)


def test_budget_is_configurable_in_cfgwatch_yaml_and_reaches_the_audit_problems(tmp_path: Path) -> None:
    from cfgwatch.config import load_config
    from cfgwatch.errors import ConfigError

    yaml = "diff:\n  max_cells: 5000\n  max_seconds: 2.5\n  max_total_seconds: 30\n"
    (tmp_path / "cfgwatch.yaml").write_text(yaml, encoding="utf-8")
    config = load_config(tmp_path / "cfgwatch.yaml")
    assert config.diff.budget() == DiffBudget(max_cells=5000, max_seconds=2.5, max_total_seconds=30)
    (tmp_path / "cfgwatch.yaml").write_text("diff:\n  max_cels: 5000\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(tmp_path / "cfgwatch.yaml")
    notes = diff_device(
        "r1",
        "linux",
        IPT.format(state="NEW", extra=""),
        IPT.format(state="NEW", extra=IPT_SQUID),
        NETWORKS,
        budget=DiffBudget(max_cells=1),
    ).notes
    assert len(notes) == 1 and "budget exceeded" in notes[0]
