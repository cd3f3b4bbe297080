# ruff: noqa: E501  (config lines are kept whole, as a device prints them)
"""One entry per real secret syntax (vendor command references): the config lines with ``{c}`` (a
plain canary), ``{c7}`` (Cisco type 7), ``{c9}`` (Junos $9$) or ``{hex}`` placeholders, and the
non-secret words that must survive sanitizing unchanged."""

from __future__ import annotations

from typing import NamedTuple


class Syntax(NamedTuple):
    id: str
    platform: str
    text: str
    keep: tuple[str, ...]


SYNTAXES: tuple[Syntax, ...] = (
    # Cisco IOS / IOS-XE
    Syntax(
        "ios-ikev2-auth-local-psk",
        "cisco_ios",
        "crypto ikev2 profile PROF\n authentication local pre-share key {c}\n",
        ("authentication local pre-share key",),
    ),
    Syntax(
        "ios-ikev2-auth-remote-psk",
        "cisco_ios",
        "crypto ikev2 profile PROF\n authentication remote pre-share key 6 {c}\n",
        ("authentication remote pre-share key 6",),
    ),
    Syntax(
        "ios-dynamic-author-client-key",
        "cisco_ios",
        "aaa server radius dynamic-author\n client 192.0.2.5 server-key 7 {c7}\n",
        ("client 192.0.2.5 server-key 7",),
    ),
    Syntax(
        "ios-dynamic-author-server-key",
        "cisco_ios",
        "aaa server radius dynamic-author\n client 192.0.2.6\n server-key {c}\n",
        (" server-key ",),
    ),
    Syntax(
        "ios-radius-pac-key",
        "cisco_ios",
        "radius server ISE\n address ipv4 192.0.2.7 auth-port 1812 acct-port 1813\n pac key {c}\n",
        (" pac key ",),
    ),
    Syntax("ios-radius-pac-key-7", "cisco_ios", "radius server ISE2\n pac key 7 {c7}\n", (" pac key 7 ",)),
    Syntax(
        "ios-hsrp-plain-text",
        "cisco_ios",
        "interface Vlan10\n standby 1 authentication {c}\n",
        ("standby 1 authentication ",),
    ),
    Syntax(
        "ios-hsrp-text",
        "cisco_ios",
        "interface Vlan11\n standby 2 authentication text {c}\n",
        ("standby 2 authentication text ",),
    ),
    Syntax(
        "ios-glbp-md5",
        "cisco_ios",
        "interface Vlan12\n glbp 1 authentication md5 key-string 7 {c7}\n",
        ("glbp 1 authentication md5 key-string 7 ",),
    ),
    Syntax(
        "ios-msdp-password", "cisco_ios", "ip msdp password peer 192.0.2.8 {c}\n", ("ip msdp password peer 192.0.2.8 ",)
    ),
    Syntax(
        "ios-msdp-password-7",
        "cisco_ios",
        "ip msdp vrf RED password peer 192.0.2.9 7 {c7}\n",
        ("ip msdp vrf RED password peer 192.0.2.9 7 ",),
    ),
    Syntax(
        "ios-ldp-password-fallback", "cisco_ios", "mpls ldp password fallback {c}\n", ("mpls ldp password fallback ",)
    ),
    Syntax(
        "ios-ldp-password-fallback-7",
        "cisco_ios",
        "mpls ldp password fallback 7 {c7}\n",
        ("mpls ldp password fallback 7 ",),
    ),
    Syntax(
        "ios-ldp-password-option",
        "cisco_ios",
        "mpls ldp password option 10 for LDP-PEERS 0 {c}\n",
        ("mpls ldp password option 10 for LDP-PEERS 0 ",),
    ),
    Syntax(
        "ios-ldp-neighbor-password",
        "cisco_ios",
        "mpls ldp neighbor 192.0.2.10 password 7 {c7}\n",
        ("mpls ldp neighbor 192.0.2.10 password 7 ",),
    ),
    Syntax(
        "ios-snmp-mib-community-map",
        "cisco_ios",
        "snmp mib community-map {c} context CTX1 engineid 80000009030000\n",
        ("snmp mib community-map ", " context CTX1 engineid 80000009030000"),
    ),
    Syntax(
        "ios-snmp-host-informs",
        "cisco_ios",
        "snmp-server host 192.0.2.12 informs version 2c {c} bgp\n",
        ("snmp-server host 192.0.2.12 informs version 2c ",),
    ),
    Syntax(
        "ios-ipsec-manual-session-key",
        "cisco_ios",
        "crypto map CM 10 ipsec-manual\n set session-key inbound esp 256 cipher {hex} authenticator {hex}\n",
        ("set session-key inbound esp 256 cipher ", " authenticator "),
    ),
    Syntax(
        "ios-ospfv3-ipsec-auth",
        "cisco_ios",
        "interface Gi0/2\n ospfv3 authentication ipsec spi 256 sha1 {hex}\n",
        ("ospfv3 authentication ipsec spi 256 sha1 ",),
    ),
    Syntax(
        "ios-ipv6-ospf-ipsec-auth",
        "cisco_ios",
        "interface Gi0/3\n ipv6 ospf authentication ipsec spi 500 md5 {hex}\n",
        ("ipv6 ospf authentication ipsec spi 500 md5 ",),
    ),
    Syntax(
        "ios-ospfv3-ipsec-encryption",
        "cisco_ios",
        "interface Gi0/4\n ospfv3 encryption ipsec spi 1001 esp aes-cbc 128 {hex} sha1 {hex}\n",
        ("ospfv3 encryption ipsec spi 1001 esp aes-cbc 128 ", " sha1 "),
    ),
    Syntax(
        "ios-macsec-key-string",
        "cisco_ios",
        "key chain MKA macsec\n key 01\n  key-string 7 {c7} cryptographic-algorithm aes-256-cmac\n",
        ("key-string 7 ", " cryptographic-algorithm aes-256-cmac"),
    ),
    # Cisco IOS-XR (carries the IOS family syntax)
    Syntax(
        "iosxr-keychain-secret",
        "cisco_ios",
        "key chain KC\n key 1\n  key-string password {c7}\n  cryptographic-algorithm HMAC-MD5\n",
        ("key-string password ",),
    ),
    Syntax(
        "iosxr-bgp-password-encrypted",
        "cisco_ios",
        "router bgp 65000\n neighbor 192.0.2.1\n  password encrypted {c7}\n",
        ("password encrypted ",),
    ),
    Syntax(
        "iosxr-ospf-auth-key-encrypted",
        "cisco_ios",
        "router ospf 1\n area 0\n  interface Gi0/0/0/0\n   authentication-key encrypted {c7}\n",
        ("authentication-key encrypted ",),
    ),
    Syntax(
        "iosxr-ospf-md5-encrypted",
        "cisco_ios",
        "router ospf 1\n area 0\n  interface Gi0/0/0/1\n   message-digest-key 1 md5 encrypted {c7}\n",
        ("message-digest-key 1 md5 encrypted ",),
    ),
    Syntax(
        "iosxr-ntp-key-encrypted",
        "cisco_ios",
        "ntp\n authentication-key 1 md5 encrypted {c7}\n",
        ("authentication-key 1 md5 encrypted ",),
    ),
    Syntax(
        "iosxr-ldp-neighbor-password",
        "cisco_ios",
        "mpls ldp\n neighbor 192.0.2.9:0 password encrypted {c7}\n",
        ("neighbor 192.0.2.9:0 password encrypted ",),
    ),
    Syntax(
        "iosxr-ikev2-keyring-psk",
        "cisco_ios",
        "ikev2 keyring KR\n peer P1\n  pre-shared-key password {c7}\n",
        ("pre-shared-key password ",),
    ),
    Syntax(
        "iosxr-hsrp-authentication",
        "cisco_ios",
        "router hsrp\n interface Gi0/0/0/2\n  address-family ipv4\n   hsrp 1\n    authentication {c}\n",
        ("    authentication ",),
    ),
    Syntax(
        "iosxr-vrrp-text-authentication",
        "cisco_ios",
        "router vrrp\n interface Gi0/0/0/3\n  address-family ipv4\n   vrrp 1\n    text-authentication {c}\n",
        ("text-authentication ",),
    ),
    # Cisco ASA
    Syntax(
        "asa-radius-common-pw",
        "cisco_asa",
        "aaa-server ISE (inside) host 192.0.2.21\n radius-common-pw {c}\n",
        (" radius-common-pw ",),
    ),
    Syntax(
        "asa-eigrp-auth-key",
        "cisco_asa",
        "interface GigabitEthernet0/1\n authentication key eigrp 100 {c} key-id 1\n",
        ("authentication key eigrp 100 ", " key-id 1"),
    ),
    Syntax(
        "asa-rip-auth-key",
        "cisco_asa",
        "interface GigabitEthernet0/2\n rip authentication key {c} key_id 2\n",
        ("rip authentication key ", " key_id 2"),
    ),
    Syntax(
        "asa-failover-ipsec-psk",
        "cisco_asa",
        "failover ipsec pre-shared-key 0 {c}\n",
        ("failover ipsec pre-shared-key 0 ",),
    ),
    Syntax(
        "asa-tunnel-group-psk-8",
        "cisco_asa",
        "tunnel-group 198.51.100.9 ipsec-attributes\n ikev1 pre-shared-key {c}\n",
        ("ikev1 pre-shared-key ",),
    ),
    # Cisco NX-OS
    Syntax(
        "nxos-hsrp-text",
        "cisco_nxos",
        "interface Vlan10\n  hsrp 10\n    authentication text {c}\n",
        ("authentication text ",),
    ),
    Syntax(
        "nxos-pim-hello-auth",
        "cisco_nxos",
        "interface Ethernet1/2\n  ip pim hello-authentication ah-md5 3 {c}\n",
        ("ip pim hello-authentication ah-md5 3 ",),
    ),
    Syntax(
        "nxos-bfd-auth-key",
        "cisco_nxos",
        "interface Ethernet1/3\n  bfd authentication keyed-sha1 keyid 1 key {c}\n",
        ("bfd authentication keyed-sha1 keyid 1 key ",),
    ),
    Syntax(
        "nxos-macsec-key-octet-string",
        "cisco_nxos",
        "key chain KC1 macsec\n  key 1000\n    key-octet-string 7 {c7} cryptographic-algorithm AES_256_CMAC\n",
        ("key-octet-string 7 ", " cryptographic-algorithm AES_256_CMAC"),
    ),
    # Arista EOS
    Syntax(
        "eos-terminattr-cvauth-key",
        "arista_eos",
        "daemon TerminAttr\n   exec /usr/bin/TerminAttr -cvaddr=apiserver.example:443 -cvauth=key,{c} -cvvrf=MGMT -taillogs\n",
        ("-cvaddr=apiserver.example:443", "-cvauth=key,", "-cvvrf=MGMT -taillogs"),
    ),
    Syntax(
        "eos-macsec-cak",
        "arista_eos",
        "mac security\n   profile MS1\n      cipher aes256-gcm-xpn\n      key 1234abcd 7 {c7}\n",
        ("key 1234abcd 7 ", "cipher aes256-gcm-xpn"),
    ),
    Syntax(
        "eos-macsec-cak-fallback",
        "arista_eos",
        "mac security\n   profile MS2\n      key 5678 0 {hex} fallback\n",
        ("key 5678 0 ", " fallback"),
    ),
    Syntax(
        "eos-api-ssl-key",
        "arista_eos",
        "management api http-commands\n   protocol https ssl key {c}\n",
        ("protocol https ssl key ",),
    ),
    Syntax(
        "eos-shared-secret-profile",
        "arista_eos",
        "management security\n   session shared-secret profile PROF\n      secret 1 7 {c7} receive-lifetime infinite transmit-lifetime infinite\n",
        ("secret 1 7 ", " receive-lifetime infinite transmit-lifetime infinite"),
    ),
    Syntax(
        "eos-vrrp-peer-auth-text",
        "arista_eos",
        "interface Vlan20\n   vrrp 1 peer authentication text {c}\n",
        ("vrrp 1 peer authentication text ",),
    ),
    # Juniper Junos
    Syntax(
        "junos-trap-group",
        "juniper_junos",
        "snmp {\n    trap-group {c} {\n        version v2;\n        targets {\n            192.0.2.10;\n        }\n    }\n}\n",
        ("trap-group ", "version v2;", "192.0.2.10;"),
    ),
    Syntax(
        "junos-trap-group-set",
        "juniper_junos",
        "set snmp trap-group {c} targets 192.0.2.11\n",
        ("set snmp trap-group ", " targets 192.0.2.11"),
    ),
    Syntax(
        "junos-snmp-v3-community-name",
        "juniper_junos",
        'set snmp v3 snmp-community IDX1 community-name "{c9}"\n',
        ("set snmp v3 snmp-community IDX1 community-name ",),
    ),
    Syntax(
        "junos-macsec-cak-set",
        "juniper_junos",
        'set security macsec connectivity-association CA1 pre-shared-key ckn abcd1234 cak "{c9}"\n',
        ("pre-shared-key ckn abcd1234 cak ",),
    ),
    Syntax(
        "junos-ipsec-manual-key",
        "juniper_junos",
        'set security ipsec vpn V1 manual encryption key ascii-text "{c9}"\n',
        ("manual encryption key ascii-text ",),
    ),
    # FortiOS
    Syntax(
        "fortios-webhook-uri",
        "fortinet",
        'config system automation-action\n    edit "slack"\n        set action-type webhook\n'
        '        set uri "hooks.slack.com/services/T0000/B0000/{c}"\n        set port 443\n    next\nend\n',
        ("set action-type webhook", "set port 443"),
    ),
    Syntax(
        "fortios-webhook-headers",
        "fortinet",
        'config system automation-action\n    edit "hook"\n        set headers "Authorization: Bearer {c}"\n    next\nend\n',
        ("set headers ",),
    ),
    Syntax(
        "fortios-webhook-http-headers",
        "fortinet",
        'config system automation-action\n    edit "hook2"\n        config http-headers\n            edit 1\n'
        '                set value "Bearer {c}"\n            next\n        end\n    next\nend\n',
        ("set value ",),
    ),
    Syntax(
        "fortios-webhook-body-token",
        "fortinet",
        'config system automation-action\n    edit "hook3"\n        set http-body "{\\"token\\":\\"{c}\\"}"\n    next\nend\n',
        ("set http-body ",),
    ),
    Syntax(
        "fortios-rip-auth-string",
        "fortinet",
        'config router rip\n    config interface\n        edit "port1"\n            set auth-string ENC {c}\n        next\n    end\nend\n',
        ("set auth-string ",),
    ),
    # PAN-OS
    Syntax(
        "panos-gp-passcode-xml",
        "paloalto_panos",
        "<agent-ui><passcode>{c}</passcode><uninstall-password>{c}</uninstall-password>"
        "<agent-user-override-key>{c}</agent-user-override-key></agent-ui>\n",
        ("<passcode>", "</passcode>"),
    ),
    Syntax(
        "panos-gp-passcode-set",
        "paloalto_panos",
        "set global-protect global-protect-portal GP client-config configs C1 agent-ui passcode {c}\n",
        ("agent-ui passcode ",),
    ),
    Syntax(
        "panos-gp-override-key-set",
        "paloalto_panos",
        "set global-protect global-protect-portal GP client-config configs C1 agent-ui agent-user-override-key {c}\n",
        ("agent-ui agent-user-override-key ",),
    ),
    Syntax(
        "panos-manual-ipsec-xml",
        "paloalto_panos",
        "<manual-key><local-spi>1000</local-spi><esp><authentication><sha1><key>{c}</key></sha1></authentication>"
        "<encryption><algorithm>aes-128-cbc</algorithm><key>{c}</key></encryption></esp></manual-key>\n",
        ("<algorithm>aes-128-cbc</algorithm>", "<local-spi>1000</local-spi>"),
    ),
    Syntax(
        "panos-manual-ipsec-set-auth",
        "paloalto_panos",
        "set network tunnel ipsec T1 manual-key esp authentication sha1 key {c}\n",
        ("manual-key esp authentication sha1 key ",),
    ),
    Syntax(
        "panos-manual-ipsec-set-enc",
        "paloalto_panos",
        "set network tunnel ipsec T1 manual-key esp encryption algorithm aes-128-cbc key {c}\n",
        ("manual-key esp encryption algorithm aes-128-cbc key ",),
    ),
    Syntax(
        "panos-manual-ipsec-set-ah",
        "paloalto_panos",
        "set network tunnel ipsec T2 manual-key ah sha256 key {c}\n",
        ("manual-key ah sha256 key ",),
    ),
    Syntax(
        "panos-xml-password-multiline",
        "paloalto_panos",
        '<entry name="ops">\n  <password>\n    {c}\n  </password>\n</entry>\n',
        ("<password>", "</password>"),
    ),
    Syntax(
        "panos-xml-password-cdata",
        "paloalto_panos",
        '<entry name="ops"><password><![CDATA[{c}]]></password></entry>\n',
        ("<password>",),
    ),
    Syntax(
        "panos-xml-password-cdata-multiline",
        "paloalto_panos",
        '<entry name="ops"><phash><![CDATA[\n{c}\n]]></phash></entry>\n',
        ("<phash>",),
    ),
    Syntax(
        "panos-xml-password-attribute",
        "paloalto_panos",
        '<entry name="ops"><password encrypted="yes">{c}</password></entry>\n',
        ('<password encrypted="yes">',),
    ),
    Syntax(
        "panos-http-profile-header",
        "paloalto_panos",
        '<headers><entry name="Authorization"><value>Bearer {c}</value></entry></headers>\n',
        ('<entry name="Authorization">',),
    ),
    # VyOS
    Syntax(
        "vyos-telegraf-influx-token",
        "vyos",
        "set service monitoring telegraf influxdb authentication token '{c}'\n",
        ("influxdb authentication token ",),
    ),
    Syntax(
        "vyos-telegraf-splunk-token",
        "vyos",
        "set service monitoring telegraf splunk authentication token '{c}'\n",
        ("splunk authentication token ",),
    ),
    Syntax(
        "vyos-telegraf-token-curly",
        "vyos",
        "service {\n    monitoring {\n        telegraf {\n            influxdb {\n                authentication {\n"
        "                    organization acme\n                    token {c}\n                }\n            }\n        }\n    }\n}\n",
        ("organization acme", "token "),
    ),
    Syntax(
        "vyos-telegraf-azure-client-secret",
        "vyos",
        "set service monitoring telegraf azure-data-explorer authentication client-secret '{c}'\n",
        ("authentication client-secret ",),
    ),
    Syntax(
        "vyos-macsec-cak", "vyos", "set interfaces macsec macsec1 security mka cak '{hex}'\n", ("security mka cak ",)
    ),
    Syntax(
        "vyos-macsec-cak-curly",
        "vyos",
        "interfaces {\n    macsec macsec1 {\n        security {\n            mka {\n                cak {hex}\n"
        "                ckn 0a0b0c0d\n            }\n        }\n    }\n}\n",
        ("cak ", "ckn 0a0b0c0d"),
    ),
    Syntax(
        "vyos-macsec-static-key",
        "vyos",
        "set interfaces macsec macsec2 security static key '{hex}'\n",
        ("security static key ",),
    ),
    Syntax(
        "vyos-https-api-key", "vyos", "set service https api keys id ADMIN key '{c}'\n", ("api keys id ADMIN key ",)
    ),
    # MikroTik RouterOS
    Syntax(
        "routeros-macsec-cak",
        "mikrotik_routeros",
        "/interface macsec add cak={hex} ckn=0a0b0c0d interface=ether1 name=macsec1\n",
        ("ckn=0a0b0c0d interface=ether1",),
    ),
    Syntax(
        "routeros-telegram-bot-token",
        "mikrotik_routeros",
        '/system scheduler add name=s1 on-event="/tool fetch url=\\"https://api.telegram.org/bot{c}/sendMessage\\""\n',
        ("/system scheduler add name=s1", "/sendMessage"),
    ),
    Syntax(
        "routeros-ipsec-manual-sa",
        "mikrotik_routeros",
        "/ip ipsec manual-sa add name=sa1 esp-auth-key={hex} esp-enc-key={hex}\n",
        ("/ip ipsec manual-sa add name=sa1",),
    ),
    # Linux (services configured on the host)
    Syntax(
        "linux-http-authorization",
        "linux",
        "# curl -H 'Authorization: Bearer {c}' https://api.example/\n",
        ("# curl -H ",),
    ),
)
