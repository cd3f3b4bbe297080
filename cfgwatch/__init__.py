"""cfgwatch: audit NAT / ACL / port-forward changes on network devices (ATT&CK T1090.002, AN0926)."""

__version__ = "0.1.0"
