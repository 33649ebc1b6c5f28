"""Key format, checksum and digest (K9-K11): pure functions, no database."""

import string

import pytest

from apikeys import crypto

PREFIX = "2xt_"


def test_generated_key_has_prefix_base62_body_and_valid_checksum():
    key = crypto.generate_key(PREFIX)
    body = key[len(PREFIX) :]
    assert key.startswith(PREFIX)
    assert len(body) == crypto.RANDOM_LENGTH + crypto.CHECKSUM_LENGTH
    assert set(body) <= set(string.ascii_letters + string.digits)
    assert crypto.is_well_formed(key, PREFIX)


def test_random_part_carries_at_least_160_bits():
    import math

    assert crypto.RANDOM_LENGTH * math.log2(62) >= 160


def test_keys_are_unique():
    assert len({crypto.generate_key(PREFIX) for _ in range(2000)}) == 2000


def test_checksum_is_crc32_of_random_part_in_base62():
    import zlib

    key = crypto.generate_key(PREFIX)
    random_part = key[len(PREFIX) : len(PREFIX) + crypto.RANDOM_LENGTH]
    checksum = key[-crypto.CHECKSUM_LENGTH :]
    value = 0
    for char in checksum:
        value = value * 62 + crypto.ALPHABET.index(char)
    assert value == zlib.crc32(random_part.encode())


def _typo(key: str, position: int) -> str:
    replacement = "a" if key[position] != "a" else "b"
    return key[:position] + replacement + key[position + 1 :]


@pytest.mark.parametrize("position", [4, 10, 20, 33, 34, 39])
def test_single_character_typo_fails_the_checksum(position):
    key = crypto.generate_key(PREFIX)
    assert not crypto.is_well_formed(_typo(key, position), PREFIX)


@pytest.mark.parametrize(
    "candidate",
    [
        "",
        "2xt_",
        "2xt_short",
        "sk_live_" + "a" * 36,
        "2XT_" + "a" * 36,
        "2xt_" + "a" * 35 + "!",
        "2xt_" + "é" * 36,
        "2xt_" + "a" * 37,
        " 2xt_" + "a" * 35,
    ],
)
def test_malformed_strings_are_rejected(candidate):
    assert not crypto.is_well_formed(candidate, PREFIX)


def test_prefix_is_respected():
    key = crypto.generate_key("acme_")
    assert crypto.is_well_formed(key, "acme_")
    assert not crypto.is_well_formed(key, PREFIX)


def test_digest_is_keyed_hmac_sha256():
    import hashlib
    import hmac

    key = crypto.generate_key(PREFIX)
    assert crypto.digest(key, "s1") == hmac.new(b"s1", key.encode(), hashlib.sha256).hexdigest()
    assert crypto.digest(key, "s1") != crypto.digest(key, "s2")
    assert key not in crypto.digest(key, "s1")


def test_display_prefix_shows_marker_and_four_characters():
    key = crypto.generate_key(PREFIX)
    assert crypto.display_prefix(key, PREFIX) == key[:8]


def test_base62_pads_to_width():
    assert crypto.base62(0, 6) == "000000"
    assert crypto.base62(61, 2) == "0Z"
    assert crypto.base62(62, 2) == "10"
