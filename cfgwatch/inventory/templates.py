"""Starter inventory files written by `cfgwatch init` (commented, valid, empty of devices)."""

from __future__ import annotations

HOSTS_YAML = """\
# Devices, one entry each (Nornir SimpleInventory format, so Nornir can read this file too).
# The entry name is the device name used in snapshots/ and reports; hostname is what cfgwatch connects to.
# cfgwatch's own settings live under `data:`. Never write a password here: see defaults.yaml.
#
# edge-rtr1:
#   hostname: 192.0.2.1
#   groups: [edge]
#   data:
#     platform: cisco_ios        # netmiko/netutils name: cisco_asa, juniper_junos, fortinet, paloalto_panos ...
#     site: hq
"""

GROUPS_YAML = """\
# Groups: hosts inherit hostname/port/platform/data from their groups (in order), then from defaults.yaml.
#
# edge:
#   data:
#     role: edge
#     collector: napalm          # napalm or netmiko (default netmiko)
"""

DEFAULTS_YAML = """\
# Defaults for every device. Credentials are references only: an environment variable or a file.
port: 22
data:
  collector: netmiko
  credentials:
    username_env: CFGWATCH_USERNAME
    password_env: CFGWATCH_PASSWORD
    # password_file: /etc/cfgwatch/password   # alternative: first line of a file (relative to this folder)
    # secret_env: CFGWATCH_ENABLE_SECRET       # enable secret where the platform needs one
    # key_file: ~/.ssh/netops_ed25519           # SSH key login (passphrase_env / passphrase_file if it has one)
    # use_agent: true                           # offer the SSH agent's keys ($SSH_AUTH_SOCK)
  # jump_host: netops@bastion.example.net:22    # reach devices through a bastion (or ProxyJump in ~/.ssh/config)
"""

FILES: dict[str, str] = {"hosts.yaml": HOSTS_YAML, "groups.yaml": GROUPS_YAML, "defaults.yaml": DEFAULTS_YAML}
