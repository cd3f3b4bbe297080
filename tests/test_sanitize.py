"""Sanitizer behaviour: markers and fingerprints, volatile lines, metadata, bad input, the key."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from netutils.password import encrypt_cisco_type7, encrypt_juniper_type9

from cfgwatch.errors import InputError
from cfgwatch.sanitize import MARKER_RE, MAX_LINE, Sanitized, load_or_create_key, sanitize

KEY = b"unit-test-key-0123456789abcdef01"


def markers(result: Sanitized) -> list[str]:
    return MARKER_RE.findall(result.text)


# ---------------------------------------------------------------- fingerprints


def test_rotation_changes_fingerprint_and_same_secret_does_not() -> None:
    before = sanitize("username a secret 0 Alpha-1\n", "cisco_ios", KEY)
    again = sanitize("username a secret 0 Alpha-1\n", "cisco_ios", KEY)
    rotated = sanitize("username a secret 0 Bravo-2\n", "cisco_ios", KEY)
    assert before.text == again.text
    assert before.text != rotated.text
    assert markers(before) and markers(rotated)


def test_fingerprint_depends_on_installation_key() -> None:
    one = sanitize("snmp-server community S3cret RO\n", "cisco_ios", KEY)
    other = sanitize("snmp-server community S3cret RO\n", "cisco_ios", b"another-installation-key-xxxxxxx")
    assert one.text != other.text
    assert "S3cret" not in one.text + other.text


def test_type7_reencoded_with_new_salt_is_no_change_but_rotation_is() -> None:
    a = encrypt_cisco_type7("tacacs-key", salt=3)
    b = encrypt_cisco_type7("tacacs-key", salt=9)
    c = encrypt_cisco_type7("tacacs-key2", salt=3)
    assert a != b
    out = [sanitize(f"tacacs-server key 7 {v}\n", "cisco_ios", KEY).text for v in (a, b, c)]
    assert out[0] == out[1]
    assert out[0] != out[2]


def test_junos_9_reencrypted_is_no_change_but_rotation_is() -> None:
    a = encrypt_juniper_type9("bgp-secret", salt=1)
    b = encrypt_juniper_type9("bgp-secret", salt=7)
    c = encrypt_juniper_type9("bgp-secret-2", salt=1)
    assert a != b
    cfg = 'set protocols bgp group EXT authentication-key "{}"\n'
    out = [sanitize(cfg.format(v), "juniper_junos", KEY).text for v in (a, b, c)]
    assert out[0] == out[1]
    assert out[0] != out[2]


FORTI = """config vpn ipsec phase1-interface
    edit "to-hq"
        set psksecret ENC {psk}
    next
end
config system admin
    edit "admin"
        set password ENC SH2{hash}
    next
end
"""


def test_fortios_enc_reencryption_makes_no_diff_and_hash_rotation_does() -> None:
    first = sanitize(FORTI.format(psk="bXlGaXJzdENpcGhlcnRleHQ=", hash="aaaa"), "fortinet", KEY)
    reencrypted = sanitize(FORTI.format(psk="YW5vdGhlckNpcGhlcnRleHQ=", hash="aaaa"), "fortinet", KEY)
    rotated_admin = sanitize(FORTI.format(psk="YW5vdGhlckNpcGhlcnRleHQ=", hash="bbbb"), "fortinet", KEY)
    assert first.text == reencrypted.text
    assert "set psksecret ENC <redacted:ctx:" in first.text  # constant per place: documented trade-off
    assert "set password ENC <redacted:hmac:" in first.text
    assert reencrypted.text != rotated_admin.text


def test_fortios_ctx_marker_differs_per_place() -> None:
    text = FORTI.format(psk="x1", hash="h") + FORTI.format(psk="x1", hash="h").replace("to-hq", "to-branch")
    result = sanitize(text, "fortinet", KEY)
    ctx = [m for m in markers(result) if "ctx" in m]
    assert len(ctx) == 2 and ctx[0] != ctx[1]


def test_same_secret_in_two_places_has_same_marker() -> None:
    result = sanitize("tacacs-server key 0 SharedK\nradius-server key SharedK\n", "cisco_ios", KEY)
    assert len(set(markers(result))) == 1 and result.redactions == 2


def test_sanitizing_twice_changes_nothing() -> None:
    raw = (Path(__file__).resolve().parents[1] / "fixtures/sanitize/canary/cisco_ios.txt").read_text()
    raw = raw.replace("{c7}", "0822455D0A16").replace("{c}", "Zz9").replace("{hex}", "ab12")
    once = sanitize(raw, "cisco_ios", KEY)
    twice = sanitize(once.text, "cisco_ios", KEY)
    assert twice.text == once.text
    assert twice.redactions == 0


def test_xml_marker_keeps_panos_config_well_formed() -> None:
    import xml.etree.ElementTree as ET

    raw = "<config><users><entry name='a'><phash>$1$ab$cd</phash><password>p&lt;w</password></entry></users></config>"
    result = sanitize(raw, "paloalto_panos", KEY)
    root = ET.fromstring(result.text)
    assert MARKER_RE.fullmatch(root.findtext(".//phash") or "")
    assert MARKER_RE.fullmatch(root.findtext(".//password") or "")


def test_pem_private_key_block_is_one_marker_and_certificate_stays() -> None:
    raw = (
        "crypto pki certificate chain TP\n certificate 01\n  3082032E 30820216\n  quit\n"
        'set private-key "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretbody\nmoresecret\n-----END RSA PRIVATE KEY-----"\n'
        "hostname after\n"
    )
    result = sanitize(raw, "fortinet", KEY)
    assert "secretbody" not in result.text and "moresecret" not in result.text
    assert 'set private-key "<redacted:hmac:' in result.text
    assert "3082032E 30820216" in result.text and "hostname after" in result.text


def test_unterminated_private_key_is_redacted_to_end_and_noted() -> None:
    result = sanitize("-----BEGIN EC PRIVATE KEY-----\nAAAA\nBBBB\n", "linux", KEY)
    assert "AAAA" not in result.text and "BBBB" not in result.text
    assert any("unterminated" in n for n in result.notes)


# ---------------------------------------------------------------- volatile lines and metadata

IOS = """Building configuration...

Current configuration : {size} bytes
!
! Last configuration change at {t} UTC Thu Aug 29 2024 by {user}
! NVRAM config last updated at 11:00:00 UTC Thu Aug 29 2024 by {user}
!
version 16.8
hostname r1
ntp clock-period {period}
end
"""


def test_ios_volatile_only_changes_give_identical_output() -> None:
    a = sanitize(IOS.format(size=100, t="11:54:34", user="alice", period=17179869), "cisco_ios", KEY)
    b = sanitize(IOS.format(size=101, t="12:00:01", user="bob", period=17179111), "cisco_ios", KEY)
    assert a.text == b.text
    assert "hostname r1" in a.text and "Last configuration change" not in a.text


def test_ios_metadata_prefers_last_change_header() -> None:
    result = sanitize(IOS.format(size=1, t="11:54:34", user="alice", period=1), "cisco_ios", KEY)
    meta = result.metadata
    assert meta is not None
    assert (meta.user, meta.source) == ("alice", "ios-header")
    assert meta.time == datetime(2024, 8, 29, 11, 54, 34, tzinfo=UTC)
    assert meta.raw.startswith("! Last configuration change at")


@pytest.mark.parametrize(
    ("platform", "header", "user", "time"),
    [
        (
            "juniper_junos",
            "## Last commit: 2024-12-06 11:41:05 UTC by root",
            "root",
            datetime(2024, 12, 6, 11, 41, 5, tzinfo=UTC),
        ),
        (
            "cisco_asa",
            ": Written by enable_15 at 09:10:11.123 UTC Mon Jan 8 2024",
            "enable_15",
            datetime(2024, 1, 8, 9, 10, 11, tzinfo=UTC),
        ),
        (
            "arista_eos",
            "! Startup-config last modified at  Tue Apr  2 13:45:50 2019 by admin",
            "admin",
            datetime(2019, 4, 2, 13, 45, 50),
        ),
        (
            "cisco_nxos",
            "!Running configuration last done at: Mon Jul 22 12:34:56 2019",
            None,
            datetime(2019, 7, 22, 12, 34, 56),
        ),
        (
            "cisco_ios",
            "! Last configuration change at 10:00:00 CEST Thu Aug 29 2024 by eve",
            "eve",
            datetime(2024, 8, 29, 10, 0, 0),  # no `clock timezone` says what CEST is here: left unplaced
        ),
    ],
)
def test_metadata_headers(platform: str, header: str, user: str | None, time: datetime) -> None:
    result = sanitize(f"{header}\nhostname x\n", platform, KEY)
    assert result.metadata is not None
    assert (result.metadata.user, result.metadata.time) == (user, time)
    assert header.split()[1] not in result.text or platform == "cisco_nxos"
    assert result.text == "hostname x\n"


IPT = (
    "# Generated by iptables-save v1.8.7 on {d} 00:00:00 2024\n*filter\n:INPUT ACCEPT [{c}:300]\n"
    "[{r}:180] -A INPUT -j ACCEPT\n# Completed on {d} 00:00:00 2024\n"
)
NFT = (
    "table inet f {{\n chain c {{\n  tcp dport 22 counter packets {p} bytes {b} accept\n"
    "  elements = {{ 192.0.2.1 expires {e} }}\n }}\n}}\n"
)


@pytest.mark.parametrize(
    ("platform", "a", "b"),
    [
        (
            "fortinet",
            "#config-version=FGT60F-7.2.8:opmode=0\n#conf_file_ver=123\n",
            "#config-version=FGT60F-7.2.8:opmode=0\n#conf_file_ver=999\n",
        ),
        (
            "mikrotik_routeros",
            "# 2025-03-10 15:04:16 by RouterOS 7.18.2\n",
            "# mar/11/2025 01:02:03 by RouterOS 7.18.2\n",
        ),
        ("cisco_asa", "Cryptochecksum:dddd1111\n", "Cryptochecksum:eeee2222\n"),
        ("cisco_nxos", "!Time: Wed Dec 14 13:55:40 2016\n", "!Time: Thu Dec 15 01:00:00 2016\n"),
        ("linux", IPT.format(d="Mon Jan  1", c=5, r=3), IPT.format(d="Tue Jan  2", c=9, r=7)),
        ("linux", NFT.format(p=12, b=900, e="59m58s"), NFT.format(p=99, b=12345, e="3m1s")),
        (
            "paloalto_panos",
            '<entry name="r1" dirtyId="3"><from>x</from></entry>\n',
            '<entry name="r1" dirtyId="9"><from>x</from></entry>\n',
        ),
    ],
)
def test_volatile_only_differences_vanish(platform: str, a: str, b: str) -> None:
    assert sanitize(a + "hostname x\n", platform, KEY).text == sanitize(b + "hostname x\n", platform, KEY).text


def test_real_change_next_to_volatile_lines_survives() -> None:
    a = sanitize("Cryptochecksum:aa\naccess-list A extended permit ip any any\n", "cisco_asa", KEY)
    b = sanitize("Cryptochecksum:bb\naccess-list A extended deny ip any any\n", "cisco_asa", KEY)
    assert a.text != b.text


# ---------------------------------------------------------------- bad input


def test_non_utf8_bytes_are_replaced_and_noted() -> None:
    result = sanitize(b"hostname r\xe9\xff1\nenable secret 0 Sx1\n", "cisco_ios", KEY)
    assert "Sx1" not in result.text and "hostname r" in result.text
    assert any("non-UTF-8" in n for n in result.notes)


def test_binary_input_never_crashes_and_says_so() -> None:
    blob = bytes(range(256)) * 64 + b"\npassword=Leak123\n" + b"\x00" * 4096
    result = sanitize(blob, None, KEY)
    assert "Leak123" not in result.text
    assert any("binary" in n for n in result.notes)
    assert any("control characters removed" in n for n in result.notes)


def test_enormous_line_is_replaced_by_marker_and_noted() -> None:
    huge = "x" * (MAX_LINE + 10) + " password Hidden1"
    result = sanitize(f"hostname a\n{huge}\nhostname b\n", "cisco_ios", KEY)
    assert "Hidden1" not in result.text and "xxxx" not in result.text
    assert "<redacted:oversize:" in result.text and "hostname b" in result.text
    assert any("line 2" in n and "replaced" in n for n in result.notes)


def test_long_line_below_limit_is_scanned_without_blowup() -> None:
    # Patterns must stay linear: a long line of word characters with keywords does not hang.
    line = ("a" * 5000 + "-password ") * 100 + "password Tail9"
    result = sanitize(line + "\n", None, KEY)
    assert "Tail9" not in result.text


@pytest.mark.parametrize("platform", ["no_such_os", None, ""])
def test_unknown_platform_uses_every_rule_and_says_so(platform: str | None) -> None:
    result = sanitize('set password ENC abc\nusername a secret 0 Q1\nencrypted-password "$6$x$y";\n', platform, KEY)
    assert "abc" not in result.text and "Q1" not in result.text and "$6$x$y" not in result.text
    assert any("platform" in n for n in result.notes)


def test_aliases_are_known_platforms() -> None:
    assert sanitize("hostname a\n", "cisco_xe", KEY).notes == ()
    assert sanitize("hostname a\n", "fortinet_fortios", KEY).notes == ()


def test_empty_input_and_empty_key() -> None:
    assert sanitize(b"", "cisco_ios", KEY).text == ""
    with pytest.raises(ValueError):
        sanitize("x", "cisco_ios", b"")


def test_str_with_lone_surrogates_does_not_crash() -> None:
    result = sanitize("hostname \udcff\npassword Pw1\n", "cisco_ios", KEY)
    assert "Pw1" not in result.text


# ---------------------------------------------------------------- key


def test_key_created_once_with_0600(tmp_path: Path) -> None:
    state = tmp_path / "state"
    key = load_or_create_key(state)
    assert len(key) == 32
    assert stat.S_IMODE((state / "sanitize.key").stat().st_mode) == 0o600
    assert load_or_create_key(state) == key
    assert [p.name for p in state.iterdir()] == ["sanitize.key"]


def test_key_refuses_world_readable_short_or_inside_snapshots(tmp_path: Path) -> None:
    state = tmp_path / "s"
    load_or_create_key(state)
    os.chmod(state / "sanitize.key", 0o644)
    with pytest.raises(InputError, match="chmod 600"):
        load_or_create_key(state)
    os.chmod(state / "sanitize.key", 0o600)
    (state / "sanitize.key").write_bytes(b"short")
    with pytest.raises(InputError, match="too short"):
        load_or_create_key(state)
    with pytest.raises(InputError, match="snapshot repository"):
        load_or_create_key(tmp_path / "snap" / ".state", snapshots=tmp_path / "snap")


@pytest.mark.parametrize(
    ("clock", "header_zone", "utc"),
    [
        # the device's own declaration, never a fixed abbreviation table
        ("clock timezone CET 1 0\nclock summer-time CEST recurring last Sun Mar 2:00 last Sun Oct 3:00", "CEST", 8),
        ("clock timezone CET 1 0\nclock summer-time CEST recurring last Sun Mar 2:00 last Sun Oct 3:00", "CET", 9),
        ("clock timezone UTC 10 0", "UTC", 0),  # "UTC" on this device is 10 hours ahead of UTC
        ("clock timezone CST 8 0", "CST", 2),  # China Standard Time
        ("clock timezone CST -6 0", "CST", 16),  # US Central
        ("clock timezone IST 5 30", "IST", 4),  # 10:00 IST = 04:30 UTC (minutes below)
        ("clock timezone PST -8 0\nclock summer-time PDT 2 Sun Mar 02:00 1 Sun Nov 02:00 60", "PDT", 17),
    ],
)
def test_header_time_uses_the_devices_clock_timezone(clock: str, header_zone: str, utc: int) -> None:
    header = f"! Last configuration change at 10:00:00 {header_zone} Thu Aug 29 2024 by eve"
    result = sanitize(f"{header}\n{clock}\nhostname x\n", "cisco_ios", KEY)
    assert result.metadata is not None and result.metadata.time is not None
    minutes = 30 if header_zone == "IST" else 0
    assert result.metadata.time == datetime(2024, 8, 29, utc, minutes, tzinfo=UTC)


def test_header_time_with_an_iana_zone_is_dst_correct() -> None:
    eos = "! Startup-config last modified at  Tue Apr  2 13:45:50 2019 by admin\nclock timezone Europe/Berlin\n"
    result = sanitize(eos + "hostname x\n", "arista_eos", KEY)
    assert result.metadata is not None and result.metadata.time == datetime(2019, 4, 2, 11, 45, 50, tzinfo=UTC)
    winter = eos.replace("Tue Apr  2", "Wed Jan  2")
    result = sanitize(winter + "hostname x\n", "arista_eos", KEY)
    assert result.metadata is not None and result.metadata.time == datetime(2019, 1, 2, 12, 45, 50, tzinfo=UTC)
