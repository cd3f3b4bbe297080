"""Diff + classification through the real parsers: every category on every platform, real corpus pairs,
renumbering and reordering of real ACLs (fixtures/diff/<platform>/<case>.before|after)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from cfgwatch.classify.networks import BUILTIN_INTERNAL, Networks
from cfgwatch.model import AddressSet
from cfgwatch.model.changes import RuleChange
from cfgwatch.revisions import DeviceDiff, diff_device
from cfgwatch.vendors.registry import all_parsers

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "diff"
NETWORKS = Networks.default()

EGRESS = "egress-forward"
INBOUND = "inbound-exposure"
WIDENED = "acl-widened"
NARROWED = "acl-narrowed"
NAT_ADDED = "nat-added"
NAT_REMOVED = "nat-removed"
NAT_MODIFIED = "nat-modified"
BINDING = "binding-changed"
OBJECT = "object-changed"
PROXY = ("proxy-port",)
ALL_INTERNAL_V4 = tuple(sorted(prefix for prefix in BUILTIN_INTERNAL if ":" not in prefix))
ALL_CATEGORIES = frozenset({EGRESS, INBOUND, WIDENED, NARROWED, NAT_ADDED, NAT_REMOVED, NAT_MODIFIED, BINDING, OBJECT})


@dataclass(frozen=True, slots=True)
class Expect:
    """One change the pair must produce: found by a text on its config lines (after side, else before)."""

    marker: str
    change: str
    family: str
    categories: tuple[str, ...]
    tags: tuple[str, ...] = ()
    internal: tuple[str, ...] | None = None  # None: not checked
    public: tuple[str, ...] | None = None
    ports: str | None = None


def _text(change: RuleChange) -> str:
    side = change.lines_after or change.lines_before
    return "\n".join(side.lines) if side else ""


def _haystack(change: RuleChange) -> str:
    """Config lines, or the identity key where the parser gave no line span (nftables sets)."""
    return _text(change) or change.key


def _find(changes: tuple[RuleChange, ...], expect: Expect) -> RuleChange:
    found = [
        change
        for change in changes
        if change.change.value == expect.change
        and change.family == expect.family
        and expect.marker in _haystack(change)
    ]
    assert len(found) == 1, f"{expect.marker!r}: {len(found)} {expect.change} {expect.family} changes"
    return found[0]


def check(result: DeviceDiff, expected: list[Expect]) -> None:
    """Every expected change is there with exact categories/tags/addresses, and nothing else is."""
    assert result.error is None
    for expect in expected:
        change = _find(result.changes, expect)
        assert change.categories == expect.categories, expect.marker
        assert change.tags == expect.tags, expect.marker
        if expect.internal is not None:
            assert tuple(change.affected.internal.ranges()) == expect.internal, expect.marker
        if expect.public is not None:
            assert tuple(change.affected.public.ranges()) == expect.public, expect.marker
        if expect.ports is not None:
            assert change.affected.ports.text() == expect.ports, expect.marker
    assert len(result.changes) == len(expected), [(c.change.value, c.family, c.categories) for c in result.changes]


def run(platform: str, case: str, networks: Networks = NETWORKS) -> DeviceDiff:
    folder = FIXTURES / platform
    before = (folder / f"{case}.before").read_text(encoding="utf-8")
    after = (folder / f"{case}.after").read_text(encoding="utf-8")
    return diff_device(f"{platform}-{case}", platform, before, after, networks)


# -- the hand-written "every category" pairs ------------------------------------------------------
# Same story on every platform: a permit from 10.1.0.0/16 to a public squid on 3128 appears; the LAB
# permit (10.2.0.0/16 port 80) goes; object PROXY (used by a permit on 8080) moves from 10.9.9.9 to the
# public 198.51.100.9; the HTTPS port forward to 10.1.1.10 changes; the MAIL forward goes; internal
# clients get redirected to the public 198.51.100.80; the filter/zone gets bound to one more interface.


def proxy_permit(marker: str, internal: str) -> Expect:
    return Expect(marker, "added", "filter", (EGRESS, WIDENED), PROXY, (internal,), ("198.51.100.7",), "3128")


def lab_removed(marker: str, internal: str = "10.2.0.0/16") -> Expect:
    return Expect(marker, "removed", "filter", (NARROWED,), (), (internal,), (), "80")


def object_rule(marker: str, internal: str) -> Expect:
    categories = (EGRESS, WIDENED, NARROWED, OBJECT)
    return Expect(marker, "modified", "filter", categories, PROXY, (internal,), ("198.51.100.9",), "8080")


def forward_modified(marker: str, internal: str, ports: str) -> Expect:
    return Expect(marker, "modified", "nat", (INBOUND, NAT_MODIFIED), (), (internal,), ("203.0.113.10",), ports)


def forward_removed(marker: str, internal: str, public: str) -> Expect:
    return Expect(marker, "removed", "nat", (NAT_REMOVED,), (), (internal,), (public,))


def redirect_added(
    marker: str, internal: tuple[str, ...], ports: str = "3128", tags: tuple[str, ...] = PROXY
) -> Expect:
    return Expect(marker, "added", "nat", (EGRESS, NAT_ADDED), tags, internal, ("198.51.100.80",), ports)


def binding(marker: str, categories: tuple[str, ...] = (NARROWED, BINDING)) -> Expect:
    """A filter bound where none was: it now denies what it does not permit (issue 15 item 5)."""
    return Expect(marker, "added", "binding", categories)


def object_def(marker: str) -> Expect:
    return Expect(marker, "modified", "object", (OBJECT,))


IOS_LIKE = [
    proxy_permit("eq 3128", "10.1.0.0/16"),
    lab_removed("eq www"),
    forward_modified("203.0.113.10 8443", "10.1.1.10", "443"),
    forward_removed("203.0.113.20", "10.1.1.20", "203.0.113.20"),
    redirect_added("outside source static 198.51.100.80", ALL_INTERNAL_V4, "any", ()),
    object_def("198.51.100.9"),
]

CASES: dict[tuple[str, str], list[Expect]] = {
    ("cisco_ios", "categories"): [
        *IOS_LIKE,
        object_rule("object-group PROXY eq 8080", "10.1.0.0/16"),
        binding("ip access-group LAN-OUT in"),
    ],
    ("cisco_nxos", "categories"): [
        *IOS_LIKE,
        object_rule("addrgroup PROXY eq 8080", "10.1.0.0/16"),
        binding("ip access-group LAN-OUT in"),
    ],
    ("cisco_xr", "categories"): [
        proxy_permit("eq 3128", "10.1.0.0/16"),
        lab_removed("eq www"),
        object_rule("net-group PROXY eq 8080", "10.1.0.0/16"),
        binding("ipv4 access-group LAN-OUT ingress"),
        object_def("198.51.100.9"),
    ],
    ("cisco_asa", "categories"): [
        proxy_permit("eq 3128", "10.0.0.0/24"),
        lab_removed("eq www", "10.0.1.0/24"),
        object_rule("object PROXY eq 8080", "10.0.0.0/24"),
        forward_modified("static 203.0.113.10 service tcp 443 8443", "10.0.0.10", "443"),
        forward_removed("static 203.0.113.25", "10.0.0.25", "203.0.113.25"),
        # twice NAT: inside LAN connecting to PROXY-MAPPED is sent to the public PROXY-REAL
        redirect_added("destination static PROXY-MAPPED PROXY-REAL", ("10.0.0.0/24",), "any", ()),
        binding("interface dmz"),
        object_def("198.51.100.9"),
    ],
    ("arista_eos", "categories"): [
        proxy_permit("eq 3128", "10.1.0.0/16"),
        lab_removed("eq www"),
        Expect(
            "static 203.0.113.10 443 10.1.1.11 443",
            "modified",
            "nat",
            (INBOUND, NAT_MODIFIED),
            (),
            ("10.1.1.11",),
            ("203.0.113.10",),
            "443",
        ),
        forward_removed("static 203.0.113.20 10.1.1.20", "10.1.1.20", "203.0.113.20"),
        redirect_added("destination static 10.255.0.80 198.51.100.80", ALL_INTERNAL_V4, "any", ()),
        # the NAT pool is an object: the dynamic NAT using it is modified with the object as reason
        Expect("pool PUB", "modified", "nat", (NAT_MODIFIED, OBJECT)),
        object_def("ip nat pool PUB 198.51.100.120"),
        binding("ip access-group LAN-OUT in"),
    ],
    ("fortinet", "categories"): [
        proxy_permit('set name "squid"', "10.1.0.0/16"),
        lab_removed('set name "lab-http"'),
        object_rule('set name "to-proxy"', "10.1.0.0/16"),
        forward_modified('edit "vip-web"', "10.1.1.10", "8443"),
        forward_removed('edit "vip-mail"', "10.1.1.25", "203.0.113.25"),
        # VIP on the internal interface mapped to a public address: internal clients forwarded out
        redirect_added('edit "vip-proxy"', ALL_INTERNAL_V4),
        binding('set interface "internal" "lab"', (BINDING,)),
        object_def("198.51.100.9"),
    ],
    ("paloalto_panos", "categories"): [
        proxy_permit("rules squid", "10.1.0.0/16"),
        lab_removed("rules lab-http"),
        object_rule("rules to-proxy", "10.1.0.0/16"),
        forward_modified("WEB-FWD destination-translation translated-port 8443", "10.1.1.10", "8443"),
        forward_removed("rules MAIL-FWD", "10.1.1.25", "203.0.113.25"),
        redirect_added("rules TO-PROXY", ("10.1.0.0/16",)),
        binding("ethernet1/3", (BINDING,)),
        object_def("198.51.100.9"),
    ],
    ("linux", "iptables"): [
        # iptables-save has no named objects and no interface bindings: the other seven categories
        proxy_permit("--dport 3128", "10.1.0.0/16"),
        lab_removed("--dport 80"),
        forward_modified("10.1.1.10:8443", "10.1.1.10", "8443"),
        forward_removed("203.0.113.25", "10.1.1.25", "203.0.113.25"),
        redirect_added("198.51.100.80:3128", ("10.1.0.0/16",)),
    ],
    ("linux", "nftables"): [
        proxy_permit("dport 3128", "10.1.0.0/16"),
        lab_removed("dport 80"),
        object_rule("@proxies tcp dport 8080", "10.1.0.0/16"),
        forward_modified("10.1.1.10:8443", "10.1.1.10", "8443"),
        forward_removed("203.0.113.25", "10.1.1.25", "203.0.113.25"),
        redirect_added("198.51.100.80:3128", ("10.1.0.0/16",)),
        object_def("elements = { 198.51.100.9 }"),
    ],
    ("mikrotik_routeros", "categories"): [
        proxy_permit("dst-port=3128", "10.1.0.0/16"),
        lab_removed("dst-port=80"),
        object_rule("dst-address-list=proxy-hosts dst-port=8080", "10.1.0.0/16"),
        forward_modified("to-ports=8443", "10.1.1.10", "8443"),
        forward_removed("203.0.113.25", "10.1.1.25", "203.0.113.25"),
        redirect_added("to-addresses=198.51.100.80", ("10.1.0.0/16",)),
        binding("add interface=ether3 list=LAN", (BINDING,)),
        object_def("198.51.100.9"),
    ],
    ("vyos", "categories"): [
        proxy_permit("rule 15 destination port '3128'", "10.1.0.0/16"),
        lab_removed("rule 20 destination port '80'"),
        object_rule("rule 30 destination group address-group 'PROXY'", "10.1.0.0/16"),
        forward_modified("rule 100 translation port '8443'", "10.1.1.10", "8443"),
        forward_removed("rule 110 translation address '10.1.1.25'", "10.1.1.25", "203.0.113.25"),
        redirect_added("rule 120 translation address '198.51.100.80'", ("10.1.0.0/16",)),
        binding("eth2 firewall in name 'LAN-OUT'"),
        object_def("198.51.100.9"),
    ],
}
JUNOS = [
    proxy_permit("squid", "10.1.0.0/16"),
    lab_removed("allow-lab"),
    object_rule("to-proxy", "10.1.0.0/16"),
    forward_modified("8443", "10.1.1.10", "443"),
    forward_removed("MAIL-FWD", "10.1.1.25", "203.0.113.25"),
    redirect_added("TO-PROXY", ("10.1.0.0/16",)),
    binding("LAN-IN"),  # the filter on ge-0/0/2
    binding("from zone trust", (BINDING,)),  # the new destination rule-set bound to zone trust
    object_def("198.51.100.9"),
]
CASES[("juniper_junos", "categories_set")] = JUNOS
CASES[("juniper_junos", "categories_curly")] = JUNOS

# what each platform can express (iptables-save: no objects, no bindings)
EXPRESSIBLE = {
    "cisco_xr/categories": ALL_CATEGORIES - {INBOUND, NAT_ADDED, NAT_REMOVED, NAT_MODIFIED},  # XR routers: no NAT
    "linux/iptables": ALL_CATEGORIES - {OBJECT, BINDING},
    "linux/nftables": ALL_CATEGORIES - {BINDING},  # chains hook directly; there is nothing to bind
}


@pytest.mark.parametrize(("platform", "case"), sorted(CASES), ids=[f"{p}/{c}" for p, c in sorted(CASES)])
def test_every_category_on_every_platform(platform: str, case: str) -> None:
    result = run(platform, case)
    assert result.diagnostics == 0
    check(result, CASES[(platform, case)])
    produced = {category for change in result.changes for category in change.categories}
    assert produced == EXPRESSIBLE.get(f"{platform}/{case}", ALL_CATEGORIES)
    assert any(change.tags == PROXY for change in result.changes)


def test_every_platform_has_a_category_pair() -> None:
    assert {platform for platform, _ in CASES} == {info.platform for info in all_parsers()}


@pytest.mark.parametrize(("platform", "case"), sorted(CASES), ids=[f"{p}/{c}" for p, c in sorted(CASES)])
def test_reverse_pair_is_the_inverse(platform: str, case: str) -> None:
    forward = run(platform, case)
    folder = FIXTURES / platform
    backward = diff_device(
        "r",
        platform,
        (folder / f"{case}.after").read_text(encoding="utf-8"),
        (folder / f"{case}.before").read_text(encoding="utf-8"),
        NETWORKS,
    )
    signature = sorted((c.change.value, c.family, c.key) for c in backward.changes)
    assert signature == sorted((c.change.inverse().value, c.family, c.key) for c in forward.changes) or (
        # a modified NAT or object is keyed by the newer side; compare by lines instead
        sorted((c.change.value, c.family, _text(c)) for c in backward.changes)
        == sorted((c.inverse().change.value, c.family, _text(c.inverse())) for c in forward.changes)
    )
    widened = {_text(c) for c in forward.changes if WIDENED in c.categories and c.change.value != "modified"}
    narrowed_back = {_text(c) for c in backward.changes if NARROWED in c.categories}
    assert widened <= narrowed_back


# -- real corpus pairs -----------------------------------------------------------------------------


def test_pybatfish_example_filters_eos_current_candidate1_candidate2() -> None:
    opened = run("arista_eos", "example-filters_candidate1")
    check(
        opened,
        [
            Expect(
                "462 permit tcp 10.10.10.0/24 18.18.18.0/26 eq 80",
                "added",
                "filter",
                (EGRESS, WIDENED),
                (),
                ("10.10.10.0/24",),
                ("18.18.18.0/26",),
                "80",
            ),
            Expect(
                "463 permit tcp 10.10.10.0/24 18.18.18.0/26 eq 8080",
                "added",
                "filter",
                (EGRESS, WIDENED),
                PROXY,
                ("10.10.10.0/24",),
                ("18.18.18.0/26",),
                "8080",
            ),
        ],
    )
    narrowed = run("arista_eos", "example-filters_candidate2")
    check(
        narrowed,
        [
            # /26 -> /27: the old entries lose 18.18.18.32/27; the new ones permit nothing new
            Expect(
                "462 permit tcp 10.10.10.0/24 18.18.18.0/26",
                "removed",
                "filter",
                (NARROWED,),
                (),
                ("10.10.10.0/24",),
                ("18.18.18.32/27",),
                "80",
            ),
            Expect(
                "463 permit tcp 10.10.10.0/24 18.18.18.0/26",
                "removed",
                "filter",
                (NARROWED,),
                (),
                ("10.10.10.0/24",),
                ("18.18.18.32/27",),
                "8080",
            ),
            Expect("462 permit tcp 10.10.10.0/24 18.18.18.0/27", "added", "filter", ()),
            Expect("463 permit tcp 10.10.10.0/24 18.18.18.0/27", "added", "filter", ()),
        ],
    )


def test_fcv_border1_change2_opens_inbound_port_80() -> None:
    ours = Networks.build(org_public=("2.128.0.0/16",))
    result = run("cisco_ios", "fcv-border1_change2", ours)
    check(
        result,
        [
            Expect(
                "permit tcp any 2.128.0.0 0.0.1.255 eq www",
                "added",
                "filter",
                (INBOUND, WIDENED),
                (),
                (),
                ("2.128.0.0/23",),
                "80",
            ),
        ],
    )
    (change,) = result.changes
    assert change.rule.list_name == "OUTSIDE_TO_INSIDE"  # type: ignore[union-attr]
    assert change.lines_after is not None and change.lines_after.start == change.lines_after.end
    # without the networks file 2.128.0.0/16 is just a host on the Internet that `any` (internal space
    # included) may now reach: the declaration is what turns it into an inbound exposure
    (plain,) = run("cisco_ios", "fcv-border1_change2").changes
    assert plain.categories == (EGRESS, WIDENED)
    assert plain.affected.public.ranges() == ["2.128.0.0/23"]


def test_gns3_r1_blue_outside_source_static_redirects_inside_clients() -> None:
    result = run("cisco_ios", "gns3-nat_R1-Blue")
    check(
        result,
        [
            Expect(
                "ip nat outside source static 12.0.1.1 10.0.2.1",
                "added",
                "nat",
                (EGRESS, NAT_ADDED),
                (),
                ALL_INTERNAL_V4,
                ("12.0.1.1",),
                "any",
            ),
        ],
    )
    (change,) = result.changes
    assert change.affected.translated.ranges() == ["12.0.1.1"]


def test_hier_config_pairs() -> None:
    ios = run("cisco_ios", "hier_config_acl")
    entry = _find(ios.changes, Expect("10 permit ip 10.0.1.0 0.0.0.255 any", "added", "filter", ()))
    assert entry.categories == (WIDENED,) and entry.affected.internal.ranges() == ["10.0.1.0/24"]
    bound = sorted(c.after.interface for c in ios.changes if c.family == "binding")  # type: ignore[union-attr]
    assert bound == ["Vlan2", "Vlan4"] and len(ios.changes) == 3
    junos = run("juniper_junos", "hier_config_flat")
    assert sorted((c.family, c.categories, c.after.interface) for c in junos.changes) == [  # type: ignore[union-attr]
        ("binding", (NARROWED, BINDING), "irb.2"),
        ("binding", (NARROWED, BINDING), "irb.4"),
    ]
    vyos = run("vyos", "hier_config")
    check(
        vyos,
        [
            Expect(
                "rule 10 source address 10.0.0.0/16", "added", "filter", (WIDENED,), (), ("10.0.0.0/16",), (), "any"
            ),
            # the closing drop is a new rule in a new list, but it does not widen anything itself
            Expect("rule 20 action drop", "added", "filter", ()),
            binding("firewall in name LAN-IN"),
        ],
    )
    # FortiOS: interface descriptions, a route and an unused address: no rule-level change at all
    assert run("fortinet", "hier_config").changes == ()


def test_vyos_port_forward_removal_records_what_was_exposed() -> None:
    check(
        run("vyos", "bjw-s_nat"),
        [
            Expect("rule 100 destination port '443'", "removed", "nat", (NAT_REMOVED,), (), ("10.45.0.1",), (), "443"),
            Expect("rule 101 destination port '80'", "removed", "nat", (NAT_REMOVED,), (), ("10.45.0.1",), (), "80"),
        ],
    )


def test_example_live_candidate_as2dept1_binding_change() -> None:
    result = run("cisco_ios", "example-as2dept1")
    assert sorted((c.change.value, c.categories, c.after.name, c.after.interface) for c in result.changes) == [  # type: ignore[union-attr]
        ("added", (NARROWED, BINDING), "RESTRICT_HOST_TRAFFIC_IN", "GigabitEthernet2/0"),
        ("added", (NARROWED, BINDING), "RESTRICT_HOST_TRAFFIC_OUT", "GigabitEthernet3/0"),
    ]


# -- renumbering and reordering on real ACLs -------------------------------------------------------


def _diff_text(platform: str, before: str, after: str) -> tuple[RuleChange, ...]:
    assert before != after
    result = diff_device("r", platform, before, after, NETWORKS)
    assert result.error is None
    return result.changes


def _swap_lines(text: str, first: str, second: str) -> str:
    lines = text.splitlines(keepends=True)
    a = next(i for i, line in enumerate(lines) if line.rstrip("\n") == first)
    b = next(i for i, line in enumerate(lines) if line.rstrip("\n") == second)
    lines[a], lines[b] = lines[b], lines[a]
    return "".join(lines)


def _number_entries(text: str, header: str, start: int, step: int) -> str:
    """Give the entries of one IOS/NX-OS ACL explicit sequence numbers (replacing any)."""
    out: list[str] = []
    inside = False
    seq = start
    for line in text.splitlines(keepends=True):
        if line.rstrip("\n") == header:
            inside = True
            out.append(line)
            continue
        if inside and line.startswith(" ") and re.match(r"\s+(\d+\s+)?(permit|deny)\b", line):
            body = re.sub(r"^\s+(\d+\s+)?", "", line)
            out.append(f" {seq} {body}")
            seq += step
            continue
        if inside and line.strip() and not line.startswith(" "):
            inside = False
        out.append(line)
    return "".join(out)


IOS_LIVE = FIXTURES / "cisco_ios" / "example-as2dept1.before"
IOS_FCV = FIXTURES / "cisco_ios" / "fcv-border1_change2.before"
NXOS_ACL = FIXTURES / "cisco_nxos" / "aerleon_sample_multitarget.nxacl"
JUNOS_JCL = FIXTURES / "juniper_junos" / "aerleon_sample_multitarget.jcl"


@pytest.mark.parametrize(
    ("platform", "path", "header"),
    [
        ("cisco_ios", IOS_LIVE, "ip access-list extended RESTRICT_HOST_TRAFFIC_OUT"),
        ("cisco_ios", IOS_FCV, "ip access-list extended OUTSIDE_TO_INSIDE"),
        ("cisco_nxos", NXOS_ACL, "ip access-list edge-inbound"),
    ],
)
def test_renumbering_a_real_acl_is_no_change(platform: str, path: Path, header: str) -> None:
    text = path.read_text(encoding="utf-8")
    numbered = _number_entries(text, header, 10, 10)
    renumbered = _number_entries(text, header, 5, 7)
    assert numbered.count("\n") == text.count("\n")
    assert _diff_text(platform, text, numbered) == ()
    assert _diff_text(platform, numbered, renumbered) == ()


def test_reordering_real_ios_acls() -> None:
    fcv = IOS_FCV.read_text(encoding="utf-8")
    # ssh to 2.128.0.0/23 and udp to 2.0.0.0/8 never overlap: their order permits the same set
    swapped = _swap_lines(fcv, " permit tcp any 2.128.0.0 0.0.1.255 eq ssh", " permit udp any 2.0.0.0 0.255.255.255")
    assert _diff_text("cisco_ios", fcv, swapped) == ()
    live = IOS_LIVE.read_text(encoding="utf-8")
    # the deny of 1.128/16 -> 2.128/16 was shadowed by the permit any -> 2.128/16; above it, it bites
    moved = _swap_lines(
        live,
        " permit ip any 2.128.0.0 0.0.255.255",
        " deny   ip 1.128.0.0 0.0.255.255 2.128.0.0 0.0.255.255",
    )
    (change,) = _diff_text("cisco_ios", live, moved)
    assert change.change.value == "modified" and change.categories == (NARROWED,)
    assert change.reasons == ("moved within the list, which changes what it permits",)
    assert change.delta is not None
    assert change.delta.narrowed_src().ranges() == ["1.128.0.0/16"]
    assert change.delta.narrowed_dst().ranges() == ["2.128.0.0/16"]
    # the permit icmp after deny ip any any was dead; moving it up opens icmp from anywhere
    opened = _swap_lines(live, " deny   ip any any", " permit icmp any any")
    (icmp,) = [c for c in _diff_text("cisco_ios", live, opened) if c.rule.list_name == "RESTRICT_HOST_TRAFFIC_IN"]  # type: ignore[union-attr]
    assert icmp.categories == (WIDENED,)


def test_reordering_a_real_nxos_acl() -> None:
    text = NXOS_ACL.read_text(encoding="utf-8")
    # two mail permits to different ports: order is irrelevant
    swapped = _swap_lines(text, " permit tcp any 200.1.1.4/32 eq 25", " permit tcp any 200.1.1.4/32 eq 465")
    assert _diff_text("cisco_nxos", text, swapped) == ()
    # the bogon deny for 198.51.100.0/24 moved below the mail permits: that source reaches mail now
    lines = text.splitlines(keepends=True)
    deny = " deny ip 198.51.100.0/24 any\n"
    lines.remove(deny)
    lines.insert(lines.index(" permit tcp any 200.1.1.5/32 eq 995\n") + 1, deny)
    (change,) = _diff_text("cisco_nxos", text, "".join(lines))
    assert change.change.value == "modified" and change.categories == (WIDENED,)
    assert change.delta is not None and change.delta.widened_src().ranges() == ["198.51.100.0/24"]
    assert change.delta.widened_dst_ports().text() == "25,465,587,995"


def _term_block(text: str, term: str) -> tuple[int, int]:
    """Line span [start, end) of one curly `term NAME { ... }` block."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"term {term} {{")
    depth = 0
    for index in range(start, len(lines)):
        depth += lines[index].count("{") - lines[index].count("}")
        if depth == 0:
            return start, index + 1
    raise AssertionError(term)


def _move_term_before(text: str, term: str, anchor: str) -> str:
    lines = text.splitlines(keepends=True)
    start, end = _term_block(text, term)
    block = lines[start:end]
    del lines[start:end]
    anchor_start, _ = _term_block("".join(lines), anchor)
    return "".join(lines[:anchor_start] + block + lines[anchor_start:])


def test_renaming_and_reordering_real_junos_terms() -> None:
    text = JUNOS_JCL.read_text(encoding="utf-8")
    # Junos has no sequence numbers: renaming every term is its renumbering, and changes nothing
    renamed = re.sub(r"term ([\w-]+) \{", r"term t-\1 {", text)
    assert renamed != text
    assert _diff_text("juniper_junos", text, renamed) == ()
    # mail and web permits are disjoint (different ports): swapping them is no change
    swapped = _move_term_before(text, "permit-web-services", "permit-mail-services")
    assert _diff_text("juniper_junos", text, swapped) == ()
    # edge-outbound: the default accept moved above the bogon/RFC 1918 discard opens those destinations
    opened = _move_term_before(text, "default-accept", "deny-to-bad-destinations")
    (change,) = _diff_text("juniper_junos", text, opened)
    assert change.change.value == "modified" and change.rule.name == "default-accept"
    # any source, now reaching the public documentation ranges (egress) and RFC 1918 space (inbound)
    assert change.categories == (EGRESS, INBOUND, WIDENED)
    assert change.affected.public.ranges() == [
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
    ]
    assert change.delta is not None
    assert change.delta.widened_dst() == AddressSet.parse(
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
