"""API key format, checksum and digest (SPEC K9-K11).  Pure Python: no Django, no ORM.

A key is ``<prefix><body>``; the body is 30 random base62 characters (178 bits from `secrets`)
followed by a 6-character base62 CRC32 of those characters.  The checksum lets us reject typos and
look-alike strings without touching the database, and lets secret scanners recognise real keys.
The database only ever sees an HMAC-SHA256 digest keyed by a server-side secret: keys are random and
high-entropy, so a slow password hash would add cost to every request without adding safety.
"""

import hashlib
import hmac
import secrets
import string
import zlib

ALPHABET = string.digits + string.ascii_letters  # base62
RANDOM_LENGTH = 30  # 30 * log2(62) ≈ 178.6 bits of entropy
CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so any CRC32 fits
BODY_LENGTH = RANDOM_LENGTH + CHECKSUM_LENGTH
DISPLAY_BODY_CHARS = 4
_ALPHABET_SET = frozenset(ALPHABET)


def base62(number: int, width: int) -> str:
    """`number` in base62, left-padded with '0' to `width` characters."""
    chars = []
    while number:
        number, remainder = divmod(number, 62)
        chars.append(ALPHABET[remainder])
    return "".join(reversed(chars)).rjust(width, "0")


def checksum(random_part: str) -> str:
    return base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LENGTH)


def generate_key(prefix: str) -> str:
    """A new full key: prefix, random part, checksum."""
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"{prefix}{random_part}{checksum(random_part)}"


def is_well_formed(key: str, prefix: str) -> bool:
    """True when `key` has the prefix, the exact length, only base62 characters and a valid checksum."""
    if len(key) != len(prefix) + BODY_LENGTH or not key.startswith(prefix):
        return False
    body = key[len(prefix) :]
    if not _ALPHABET_SET.issuperset(body):
        return False
    return hmac.compare_digest(checksum(body[:RANDOM_LENGTH]), body[RANDOM_LENGTH:])


def digest(key: str, secret: str) -> str:
    """Hex HMAC-SHA256 of the full key under `secret`: what the database stores and looks up."""
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def display_prefix(key: str, prefix: str) -> str:
    """The part shown after creation (K11): the prefix and the first few body characters."""
    return key[: len(prefix) + DISPLAY_BODY_CHARS]
