"""The README's detection rule for secret scanners (K28) describes the keys we issue: its regular
expression finds them in text, and its checksum description, implemented here from the prose alone,
accepts every real key and rejects a key with one character changed."""

import re
import zlib
from pathlib import Path

from apikeys import crypto

README = Path(__file__).resolve().parents[2] / "README.md"
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def published_rule() -> re.Pattern:
    match = re.search(r"Detection rule for secret scanners: `([^`]+)`", README.read_text())
    assert match, "the README publishes no detection rule"
    return re.compile(match.group(1))


def checksum_as_documented(random_part: str) -> str:
    number, digits = zlib.crc32(random_part.encode("ascii")), ""
    while number:
        number, remainder = divmod(number, 62)
        digits = DIGITS[remainder] + digits
    return digits.rjust(6, "0")


def verifies(found: str) -> bool:
    body = found.removeprefix("2xt_")
    return checksum_as_documented(body[:30]) == body[30:]


def test_the_rule_finds_real_keys_in_text_and_their_checksums_verify():
    rule = published_rule()
    keys = [crypto.generate_key("2xt_") for _ in range(200)]
    text = "\n".join(f'API_KEY="{key}"  # committed by mistake' for key in keys)
    found = rule.findall(text)
    assert found == keys
    assert all(verifies(key) for key in found)


def test_a_changed_character_fails_the_documented_checksum():
    key = crypto.generate_key("2xt_")
    position = 10
    changed = key[:position] + ("a" if key[position] != "a" else "b") + key[position + 1 :]
    assert published_rule().fullmatch(changed)
    assert not verifies(changed)
    assert not crypto.is_well_formed(changed, "2xt_")


def test_the_rule_does_not_match_inside_longer_tokens():
    key = crypto.generate_key("2xt_")
    assert published_rule().search(f"x{key}") is None
    assert published_rule().search(f"{key}Z") is None
