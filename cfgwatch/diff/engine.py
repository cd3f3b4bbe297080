"""Rule-level diff of two RuleSets: added, removed and modified rules, bindings and objects.

Matching is by identity key (see keys.py), then leftovers are paired: identical meaning under other
object names is no change; a filter entry that keeps its sequence number is one modification, and so
are NAT rules with the same original side. For filter lists the first-match packet space decides
whether a change (or a reorder) altered what is permitted.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from typing import TypeVar

from cfgwatch.diff import keys
from cfgwatch.model import AddressSet, FilterRule, NatRule, ObjectDef, RuleSet, Service
from cfgwatch.model.changes import ChangeType, Item, RuleChange, SourceLines
from cfgwatch.model.gcpause import collector_paused
from cfgwatch.model.icmp_names import icmp_display
from cfgwatch.model.ports import protocol_name
from cfgwatch.model.space import (
    DEFAULT_BUDGET,
    CompiledList,
    DiffBudget,
    SpaceDelta,
    ZoneIndex,
    compare_in_region,
    rule_boxes,
)
from cfgwatch.model.text import config_lines

T = TypeVar("T", bound=Item)


def _keyed(items: Sequence[T], key_of: Callable[[T], Hashable]) -> dict[Hashable, T]:
    """Key every item; repeated keys get an occurrence number so duplicates stay distinct."""
    seen: dict[Hashable, int] = defaultdict(int)
    result: dict[Hashable, T] = {}
    for item in items:
        base = key_of(item)
        count = seen[base]
        seen[base] += 1
        result[base if count == 0 else (base, "#", count)] = item
    return result


def _keyed_filters(rules: Sequence[FilterRule], interned: dict[Hashable, int]) -> dict[Hashable, FilterRule]:
    """`_keyed(rules, keys.filter_identity)` with each identity replaced by its number in `interned`.

    Both lists share `interned`, so equal identities get equal numbers and every later look-up hashes an
    int instead of a nested tuple of intervals (the identity itself is built and hashed once per entry).
    """
    seen: dict[int, int] = {}
    result: dict[Hashable, FilterRule] = {}
    identity = keys.filter_identity
    for rule in rules:
        base = interned.setdefault(identity(rule), len(interned))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result[base if count == 0 else (base, "#", count)] = rule
    return result


def _key_text(key: Hashable, base_text: Callable[[], str]) -> str:
    """The recorded text of a key: the base's text, with `#N` for the Nth duplicate."""
    if isinstance(key, tuple) and len(key) == 3 and key[1] == "#":
        return f"{base_text()}#{key[2]}"
    return base_text()


def _nat_text(key: Hashable) -> str:
    """Text of a NAT/binding key (already text, or a duplicate's (text, '#', n))."""
    return _key_text(key, lambda: str(key[0] if isinstance(key, tuple) else key))


def _lines(item: Item | None, text_lines: Sequence[str] | None) -> SourceLines | None:
    if item is None or item.source is None or text_lines is None:
        return None
    start, end = item.source.start_line, item.source.end_line
    return SourceLines(start, end, tuple(text_lines[start - 1 : end]))


class _Differ:
    def __init__(
        self,
        before: RuleSet,
        after: RuleSet,
        device: str,
        text_before: str | None,
        text_after: str | None,
        budget: DiffBudget = DEFAULT_BUDGET,
    ) -> None:
        self.budget = budget
        self.until = time.monotonic() + budget.max_total_seconds
        self.before = before
        self.after = after
        self.device = device
        self.platform = after.platform or before.platform
        self.lines_before = config_lines(text_before) if text_before is not None else None
        self.lines_after = config_lines(text_after) if text_after is not None else None
        self.changes: list[RuleChange] = []
        self.changed_objects = self._changed_object_names()

    def record(
        self,
        change: ChangeType,
        family: str,
        key: str,
        old: Item | None,
        new: Item | None,
        reasons: tuple[str, ...] = (),
        delta: SpaceDelta | None = None,
    ) -> None:
        if delta is not None and delta.note:
            reasons = (*reasons, delta.note)
        self.changes.append(
            RuleChange(
                device=self.device,
                platform=self.platform,
                change=change,
                family=family,
                key=key,
                before=old,
                after=new,
                reasons=reasons,
                lines_before=_lines(old, self.lines_before),
                lines_after=_lines(new, self.lines_after),
                rev_before=self.before.revision,
                rev_after=self.after.revision,
                exact=delta.exact if delta is not None else True,
                delta=delta,
            )
        )

    # -- objects ------------------------------------------------------------------------------
    def _changed_object_names(self) -> dict[str, tuple[ObjectDef | None, ObjectDef | None]]:
        old = {obj.name: obj for obj in self.before.objects}
        new = {obj.name: obj for obj in self.after.objects}
        changed: dict[str, tuple[ObjectDef | None, ObjectDef | None]] = {}
        for name in sorted(old.keys() | new.keys()):
            if old.get(name) != new.get(name):
                changed[name] = (old.get(name), new.get(name))
        return changed

    def diff_objects(self) -> None:
        for name, (old, new) in self.changed_objects.items():
            if old is not None and new is not None:
                key = keys.object_key(new)
                self.record(ChangeType.MODIFIED, "object", key, old, new, (f"object {name} changed meaning",))

    def _object_reasons(self, old: FilterRule | NatRule, new: FilterRule | NatRule) -> tuple[str, ...]:
        used = _names_used(old) | _names_used(new)
        reasons = [f"object {name} changed meaning" for name in sorted(used) if name in self.changed_objects]
        if not reasons:
            reasons.extend(describe_difference(old, new, self.platform))
        return tuple(reasons)

    # -- filters ------------------------------------------------------------------------------
    def diff_filters(self) -> None:
        old_lists = self.before.filter_lists()
        new_lists = self.after.filter_lists()
        for list_name in sorted(old_lists.keys() | new_lists.keys()):
            self._diff_list(list_name, old_lists.get(list_name, ()), new_lists.get(list_name, ()))

    def _diff_list(self, list_name: str, old_rules: Sequence[FilterRule], new_rules: Sequence[FilterRule]) -> None:
        """Changes of one filter list; the costly packet-space work follows what changed, not the length.

        Per entry only cheap work is done: its identity is built and hashed once (then it is an int), an
        entry kept with the same meaning is compared once, and the overlap index row of such an entry is
        copied from its old twin (a row depends only on what the entry matches). The packet-space
        comparison runs only for removed, added, modified and moved entries, inside the region the changed
        entry matches, and there over every entry of both versions that overlaps that region: an entry in
        front can shadow the change and the entries behind it decide what it no longer decides, so
        first-match semantics forbid skipping those. An unchanged entry gets no judgement of its own: a
        packet whose verdict changes is decided by a changed or moved entry in one of the versions (a
        change in front of a later rule takes traffic from it or hands traffic to it), and that entry's
        judgement counts it. Nothing is compiled when no entry needs a judgement.
        """
        if len(old_rules) == len(new_rules) and all(
            _same_meaning(old, new) for old, new in zip(old_rules, new_rules, strict=True)
        ):
            return  # same rules in the same order (renumbered, renamed chains or terms): no change
        # identity keys are built and hashed once: each distinct identity becomes a small int
        interned: dict[Hashable, int] = {}
        old_keyed = _keyed_filters(old_rules, interned)
        new_keyed = _keyed_filters(new_rules, interned)
        removed = [key for key in old_keyed if key not in new_keyed]
        added = [key for key in new_keyed if key not in old_keyed]
        # same meaning under other object names: not a change (re-key the old entry, keep its order)
        # (bucketed by meaning, so renaming every term of a large filter stays linear)
        renamed: dict[Hashable, Hashable] = {}
        candidates: dict[FilterRule, list[Hashable]] = defaultdict(list)
        for new_key in added:
            candidates[_meaning(new_keyed[new_key])].append(new_key)
        for old_key in removed:
            bucket = candidates.get(_meaning(old_keyed[old_key]))
            if bucket:
                renamed[old_key] = bucket.pop(0)
        if renamed:
            paired = set(renamed.values())
            removed = [key for key in removed if key not in renamed]
            added = [key for key in added if key not in paired]
            old_keyed = {renamed.get(key, key): rule for key, rule in old_keyed.items()}
        # an entry that keeps its sequence number but matches something else is one modification,
        # not a removal and an addition
        replaced = _pair_in_place(old_keyed, new_keyed, removed, added)
        if replaced:
            paired = set(replaced.values())
            removed = [key for key in removed if key not in replaced]
            added = [key for key in added if key not in paired]
            old_keyed = {replaced.get(key, key): rule for key, rule in old_keyed.items()}
        common = old_order = [key for key in old_keyed if key in new_keyed]
        modified: list[Hashable] = []
        twins: dict[int, FilterRule] = {}  # id of an entry of the new list -> its old twin in meaning
        for key in common:
            old, new = old_keyed[key], new_keyed[key]
            if _same_meaning(old, new):
                twins[id(new)] = old
            else:
                modified.append(key)
        new_order = [key for key in new_keyed if key in old_keyed]

        # the LIS tie-break picks a different member of a swapped pair in each direction: choose between
        # both answers by a direction-independent rule so diff(b, a) stays the inverse of diff(a, b)
        def text_of(key: Hashable, rules: dict[Hashable, FilterRule] = new_keyed) -> str:
            if key in in_place:
                return in_place[key]
            return _key_text(key, lambda: keys.filter_key(rules[key]))

        # an entry edited in place is named by its list and number, the same from both sides
        in_place = {key: f"filter {list_name} seq {new_keyed[key].sequence}" for key in replaced.values()}

        moved = min(
            _moved_keys(old_order, new_order),
            _moved_keys(new_order, old_order),
            key=lambda m: (len(m), sorted(text_of(key) for key in m)),
        )

        # one index of bounds for the old list; the new list copies the rows of its unchanged entries;
        # built at the first judgement (zone ids are handed out in list order before any region's)
        zones = ZoneIndex()
        compiled: list[CompiledList] = []

        def delta_for(old: FilterRule | None, new: FilterRule | None) -> SpaceDelta:
            if not compiled:
                compiled.append(CompiledList.build(old_rules, zones))
                compiled.append(CompiledList.build(new_rules, zones, like=compiled[0], twins=twins))
            compiled_old, compiled_new = compiled
            regions = [box for rule in (old, new) if rule is not None for box in rule_boxes(rule, zones)]
            owners = (compiled_old.index_of(old), compiled_new.index_of(new))
            return compare_in_region(compiled_old, compiled_new, regions, owners, self.budget, self.until)

        for key in removed:
            rule = old_keyed[key]
            self.record(ChangeType.REMOVED, "filter", text_of(key, old_keyed), rule, None, delta=delta_for(rule, None))
        for key in added:
            rule = new_keyed[key]
            self.record(ChangeType.ADDED, "filter", text_of(key), None, rule, delta=delta_for(None, rule))
        for key in modified:
            old, new = old_keyed[key], new_keyed[key]
            reasons = self._object_reasons(old, new)
            self.record(ChangeType.MODIFIED, "filter", text_of(key), old, new, reasons, delta_for(old, new))
        modified_keys = set(modified)
        for key in moved:
            if key in modified_keys:
                continue
            old, new = old_keyed[key], new_keyed[key]
            delta = delta_for(old, new)
            if delta.widened or delta.narrowed:
                reasons = ("moved within the list, which changes what it permits",)
                self.record(ChangeType.MODIFIED, "filter", text_of(key), old, new, reasons, delta)

    # -- NAT ----------------------------------------------------------------------------------
    def diff_nats(self) -> None:
        old_keyed = _keyed(self.before.nats, keys.nat_key)
        new_keyed = _keyed(self.after.nats, keys.nat_key)
        removed = [key for key in old_keyed if key not in new_keyed]
        added = [key for key in new_keyed if key not in old_keyed]
        for old_key in list(removed):
            old = old_keyed[old_key]
            for new_key in added:
                new = new_keyed[new_key]
                if old == new:
                    removed.remove(old_key)
                    added.remove(new_key)
                    break
                if keys.nat_origin_key(old) == keys.nat_origin_key(new):
                    removed.remove(old_key)
                    added.remove(new_key)
                    self.record(
                        ChangeType.MODIFIED, "nat", _nat_text(new_key), old, new, self._object_reasons(old, new)
                    )
                    break
        for key in removed:
            self.record(ChangeType.REMOVED, "nat", _nat_text(key), old_keyed[key], None)
        for key in added:
            self.record(ChangeType.ADDED, "nat", _nat_text(key), None, new_keyed[key])
        for key in old_keyed.keys() & new_keyed.keys():
            old, new = old_keyed[key], new_keyed[key]
            if old != new:
                self.record(ChangeType.MODIFIED, "nat", _nat_text(key), old, new, self._object_reasons(old, new))

    # -- bindings -----------------------------------------------------------------------------
    def diff_bindings(self) -> None:
        old_keyed = _keyed(self.before.bindings, keys.binding_key)
        new_keyed = _keyed(self.after.bindings, keys.binding_key)
        for key in old_keyed.keys() - new_keyed.keys():
            self.record(ChangeType.REMOVED, "binding", _nat_text(key), old_keyed[key], None)
        for key in new_keyed.keys() - old_keyed.keys():
            self.record(ChangeType.ADDED, "binding", _nat_text(key), None, new_keyed[key])


def _meaning(rule: FilterRule) -> FilterRule:
    """A rule with what does not change traffic removed: its name (a renamed Junos term, SRX or PAN-OS
    policy) and the `chain:NAME` label of an inlined iptables/nft/VyOS/RouterOS user chain (renaming a
    user chain that holds the same rules changes nothing a filter does, like renumbering)."""
    options = rule.options
    if rule.name is None and not options:
        return rule
    if any(option.startswith("chain:") for option in options):
        options = frozenset(option for option in options if not option.startswith("chain:"))
    if rule.name is None and options is rule.options:
        return rule
    return replace(rule, name=None, options=options)


def _same_meaning(old: FilterRule, new: FilterRule) -> bool:
    return old == new or _meaning(old) == _meaning(new)


def _pair_in_place(
    old_keyed: dict[Hashable, FilterRule],
    new_keyed: dict[Hashable, FilterRule],
    removed: Sequence[Hashable],
    added: Sequence[Hashable],
) -> dict[Hashable, Hashable]:
    """Removed and added entries that are the same entry edited in place: old key -> new key.

    By sequence number (IOS/EOS/NX-OS `N permit ...`, FortiOS policy ids): one removed and one added
    entry with the same number. Named rules already pair by name; an unnumbered entry has no identity
    but its match, so replacing it stays a removal and an addition. Symmetric: diff(b, a) is the inverse.
    """
    pairs: dict[Hashable, Hashable] = {}
    if not removed or not added:
        return pairs
    by_sequence: dict[int, list[Hashable]] = defaultdict(list)
    for key in added:
        sequence = new_keyed[key].sequence
        if sequence is not None:
            by_sequence[sequence].append(key)
    old_by_sequence: dict[int, list[Hashable]] = defaultdict(list)
    for key in removed:
        sequence = old_keyed[key].sequence
        if sequence is not None:
            old_by_sequence[sequence].append(key)
    for sequence, old_keys in old_by_sequence.items():
        new_keys = by_sequence.get(sequence, [])
        if len(old_keys) == 1 and len(new_keys) == 1:
            pairs[old_keys[0]] = new_keys[0]
    return pairs


def _moved_keys(old_order: Sequence[Hashable], new_order: Sequence[Hashable]) -> list[Hashable]:
    """Keys outside the longest common subsequence: the entries whose relative order changed."""
    if list(old_order) == list(new_order):
        return []
    position = {key: index for index, key in enumerate(old_order)}
    sequence = [position[key] for key in new_order]
    # longest increasing subsequence (patience sorting) over old positions in new order
    tails: list[int] = []
    tail_index: list[int] = []
    parent = [-1] * len(sequence)
    import bisect

    for index, value in enumerate(sequence):
        slot = bisect.bisect_left(tails, value)
        if slot == len(tails):
            tails.append(value)
            tail_index.append(index)
        else:
            tails[slot] = value
            tail_index[slot] = index
        parent[index] = tail_index[slot - 1] if slot > 0 else -1
    keep: set[int] = set()
    cursor = tail_index[-1] if tail_index else -1
    while cursor != -1:
        keep.add(cursor)
        cursor = parent[cursor]
    return [key for index, key in enumerate(new_order) if index not in keep]


def _names_used(rule: FilterRule | NatRule) -> set[str]:
    names: set[str] = set()
    sets: list[AddressSet | None] = [rule.match.src, rule.match.dst]
    if isinstance(rule, NatRule):
        sets += [rule.translated_src, rule.translated_dst]
    for addresses in sets:
        if addresses is not None:
            names.update(addresses.names)
    for service in rule.match.services:
        names.update(service.names)
    return names


_FIELD_LABELS = {
    "action": "action",
    "list_name": "list",
    "from_zones": "from-zone",
    "to_zones": "to-zone",
    "enabled": "enabled",
    "kind": "kind",
    "ingress": "ingress",
    "egress": "egress",
    "bidirectional": "bidirectional",
    "translated_src": "translated source",
    "translated_dst": "translated destination",
    "translated_src_ports": "translated source ports",
    "translated_dst_ports": "translated destination ports",
    "translate_to_interface": "translated to interface",
    "section": "section",
    "context": "context",
    "name": "name",
}


def _value_text(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value) or "any"
    if isinstance(value, frozenset):
        return ",".join(sorted(str(item) for item in value)) or "none"
    return str(getattr(value, "value", value))


def _services_text(services: tuple[Service, ...], platform: str | None) -> str:
    """Services as the platform writes them: ICMP types by its documented names (`icmp echo` on IOS)."""
    parts = []
    for service in services:
        if service.protocol in (1, 58) and service.icmp_type is not None and not service.names:
            parts.append(f"{protocol_name(service.protocol)} {icmp_display(platform, *_icmp_of(service))}")
        else:
            parts.append(str(service))
    return "; ".join(sorted(parts))


def _icmp_of(service: Service) -> tuple[int | None, int | None, int | None]:
    return service.protocol, service.icmp_type, service.icmp_code


def describe_difference(
    old: FilterRule | NatRule, new: FilterRule | NatRule, platform: str | None = None
) -> tuple[str, ...]:
    """Field-level before -> after of a modified rule ("destination any -> 203.0.113.0/24")."""
    parts: list[str] = []
    if old.match.src != new.match.src:
        parts.append(f"source {old.match.src} -> {new.match.src}")
    if old.match.dst != new.match.dst:
        parts.append(f"destination {old.match.dst} -> {new.match.dst}")
    if old.match.services != new.match.services:
        before, after = _services_text(old.match.services, platform), _services_text(new.match.services, platform)
        parts.append(f"service {before} -> {after}")
    if isinstance(old, FilterRule) and isinstance(new, FilterRule) and old.states != new.states:
        old_states, new_states = keys.states_text(old.states) or "any", keys.states_text(new.states) or "any"
        parts.append(f"connection state {old_states} -> {new_states}")
    for name in type(old).__dataclass_fields__:
        if name in ("source", "sequence", "comment", "match", "options"):
            continue
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            parts.append(f"{_FIELD_LABELS.get(name, name)} {_value_text(before)} -> {_value_text(after)}")
    old_options = {option for option in old.options if not option.startswith(("chain:", "ctstate:"))} - {"established"}
    new_options = {option for option in new.options if not option.startswith(("chain:", "ctstate:"))} - {"established"}
    if old_options != new_options:
        parts.append(f"options {_value_text(frozenset(old_options))} -> {_value_text(frozenset(new_options))}")
    return tuple(parts) or ("changed",)


def diff_rulesets(
    before: RuleSet,
    after: RuleSet,
    *,
    device: str | None = None,
    text_before: str | None = None,
    text_after: str | None = None,
    budget: DiffBudget = DEFAULT_BUDGET,
) -> list[RuleChange]:
    """Unclassified rule-level changes from `before` to `after` (classification adds categories).

    `budget` bounds the packet-space work per changed rule; a change past it is judged as widening
    everything it matches, with `exact` False and a reason saying so.
    """
    name = device or after.device or before.device or "device"
    with collector_paused():
        differ = _Differ(before, after, name, text_before, text_after, budget)
        differ.diff_objects()
        differ.diff_filters()
        differ.diff_nats()
        differ.diff_bindings()
        return sorted(differ.changes, key=lambda change: (change.family, change.key, change.change.value))
