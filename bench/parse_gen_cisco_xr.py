"""bench_parse generator for IOS XR: 20% ACL entries in access-lists of 100 (every tenth through
net-group/port-group), one network and one port object-group per list, then interfaces with ingress bindings
up to the line count (10,000 entries in 100 lists at 50k lines)."""

from __future__ import annotations


def _ip(index: int, base: int = 10) -> str:
    return f"{base}.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def generate(lines: int) -> str:
    acls = max(1, lines // 500)
    out = ["!! IOS XR Configuration 7.9.2", "hostname bench-xr"]
    for group in range(acls):
        out += [f"object-group network ipv4 NET-{group}", f" {_ip(group * 256)}/24", f" host {_ip(group, 192)}"]
        out += [f"object-group port PORTS-{group}", f" eq {1000 + group}", f" range {2000 + group} {2100 + group}"]
    for acl in range(acls):
        out.append(f"ipv4 access-list ACL-{acl}")
        for j in range(100):
            k = acl * 100 + j
            if j % 10 == 0:
                out.append(f" {10 * (j + 1)} permit tcp net-group NET-{acl} any port-group PORTS-{acl}")
            else:
                out.append(f" {10 * (j + 1)} permit tcp {_ip(k)} 0.0.0.255 host {_ip(k, 100)} eq {1 + k % 65000}")
    index = 0
    while len(out) < lines:
        out += [f"interface GigabitEthernet0/0/0/{index}", f" description filler {index}",
                f" ipv4 address {_ip(index, 172)} 255.255.255.0", f" ipv4 access-group ACL-{index % acls} ingress",
                "!"]  # fmt: skip
        index += 1
    return "\n".join(out[:lines]) + "\n"
