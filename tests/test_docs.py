"""Every requirement the repository cites resolves inside it: each id (K7, AS8, A10, D2, R3, ...)
and each "SPEC n.m" section named in code, templates, static files, tests or docs has its heading
in docs/requirements.md.  The reverse is not required: a requirement may be documented before any
code cites it.  Pure file reading, no database.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = PROJECT_ROOT / "docs" / "requirements.md"

SKIPPED_DIRS = {".venv", "node_modules", ".git", "__pycache__", ".pytest_cache", ".ruff_cache"}
# Third-party code keeps its own names; collected static files are copies of ours.
SKIPPED_PATHS = {Path("static/vendor"), Path("staticfiles")}
SUFFIXES = {".py", ".html", ".txt", ".md", ".js", ".css", ".toml", ".cfg", ".ini", ".sh", ".yml"}
FILES_WITHOUT_SUFFIX = {Path("Makefile"), Path("dev"), Path(".ci/run")}

ID = r"(?:AS|K|A|D|R)\d{1,2}"
# A citation is an id standing alone ("K7", "(A10).", "AS3/AS4", "R3:") or a range ("K9-K11").
# Not one: an id glued to a word, a path, a fragment or an IPv6 group ("x_K7", "fe80::A1").
CITATION = re.compile(rf"(?<![\w:.#-])({ID})(?:\s*[-\u2013]\s*({ID}))?(?![\w-])")
SECTION = r"\d(?:\.\d{1,2})?"
# "SPEC 3.2", "SPEC 2.2-2.5" (a range), "SPEC 3.2/3.3" (both); "SPEC 1" is section 1.
SECTION_CITATION = re.compile(rf"\bSPEC\s+({SECTION})(?:\s*([-\u2013/])\s*({SECTION}))?(?![\d.]\d)")

REQUIREMENT_HEADING = re.compile(
    rf'^#{{2,4}} <a id="(?P<anchor>[^"]+)"></a>(?P<id>{ID}) — \S', re.MULTILINE
)
SECTION_HEADING = re.compile(rf"^#{{2,3}} (?P<section>{SECTION})\.? \S", re.MULTILINE)


def source_files() -> Iterator[Path]:
    """The repository's own text files, relative to its root."""
    for directory, subdirectories, files in os.walk(PROJECT_ROOT):
        here = Path(directory).relative_to(PROJECT_ROOT)
        subdirectories[:] = [
            name
            for name in subdirectories
            if name not in SKIPPED_DIRS
            and not name.endswith(".egg-info")
            and here / name not in SKIPPED_PATHS
        ]
        for name in files:
            path = here / name
            if path.suffix in SUFFIXES or path in FILES_WITHOUT_SUFFIX:
                yield path


def expand(first: str, last: str | None) -> list[str]:
    """The ids a citation names: "K9-K11" is K9, K10 and K11."""
    if last is None:
        return [first]
    head, tail = re.fullmatch(r"([A-Z]+)(\d+)", first), re.fullmatch(r"([A-Z]+)(\d+)", last)
    if head[1] != tail[1] or int(head[2]) > int(tail[2]):
        return [first, last]
    return [f"{head[1]}{number}" for number in range(int(head[2]), int(tail[2]) + 1)]


def expand_sections(first: str, separator: str | None, last: str | None) -> list[str]:
    """The sections a citation names: "2.2-2.5" is 2.2 to 2.5, "3.2/3.3" is both."""
    if last is None:
        return [first]
    major, _, minor = first.partition(".")
    last_major, _, last_minor = last.partition(".")
    if separator == "/" or major != last_major or not minor or not last_minor:
        return [first, last]
    return [f"{major}.{number}" for number in range(int(minor), int(last_minor) + 1)]


def citations() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(id -> files citing it, section -> files citing it) across the repository."""
    ids: dict[str, set[str]] = {}
    sections: dict[str, set[str]] = {}
    for path in source_files():
        text = (PROJECT_ROOT / path).read_text(encoding="utf-8", errors="replace")
        for match in CITATION.finditer(text):
            for requirement in expand(*match.groups()):
                ids.setdefault(requirement, set()).add(str(path))
        for match in SECTION_CITATION.finditer(text):
            for section in expand_sections(*match.groups()):
                sections.setdefault(section, set()).add(str(path))
    return ids, sections


def documented() -> tuple[set[str], set[str]]:
    """(ids, sections) that have a heading in docs/requirements.md."""
    text = REQUIREMENTS.read_text(encoding="utf-8")
    ids = {match["id"] for match in REQUIREMENT_HEADING.finditer(text)}
    sections = {match["section"] for match in SECTION_HEADING.finditer(text)}
    return ids, sections


def test_the_scan_sees_the_citations():
    """The check below cannot pass by reading nothing: known citations are found, false ones not."""
    ids, sections = citations()
    assert {"K7", "K10", "AS8", "A10", "D2", "R3"} <= ids.keys()
    assert {"3.2", "3.3", "2.9"} <= sections.keys()
    assert "apikeys/crypto.py" in ids["K10"]  # there only inside the range "K9-K11"


def test_citation_patterns():
    """Ids and ranges count wherever they stand alone; ids glued to other text do not."""
    found = [
        requirement
        for match in CITATION.finditer(
            "(K7) AS3/AS4 R3: A10's K9-K11 x_K8 key_K1 fe80::A1 #k2 D2-D4 2xt_K5"
        )
        for requirement in expand(*match.groups())
    ]
    assert found == ["K7", "AS3", "AS4", "R3", "A10", "K9", "K10", "K11", "D2", "D3", "D4"]
    sections = [
        section
        for match in SECTION_CITATION.finditer(
            "SPEC 2.2-2.5, SPEC 3.2/3.3 and (SPEC 1). SPECTACULAR"
        )
        for section in expand_sections(*match.groups())
    ]
    assert sections == ["2.2", "2.3", "2.4", "2.5", "3.2", "3.3", "1"]


def test_every_cited_requirement_id_is_documented():
    ids, _ = citations()
    documented_ids, _ = documented()
    missing = {
        requirement: sorted(files)
        for requirement, files in sorted(ids.items())
        if requirement not in documented_ids
    }
    assert not missing, f"cited but without a heading in docs/requirements.md: {missing}"


def test_every_cited_spec_section_is_documented():
    _, sections = citations()
    _, documented_sections = documented()
    missing = {
        section: sorted(files)
        for section, files in sorted(sections.items())
        if section not in documented_sections
    }
    assert not missing, (
        f"cited as SPEC n.m but without a heading in docs/requirements.md: {missing}"
    )


def test_every_requirement_heading_has_its_anchor():
    """`docs/requirements.md#k7` lands on K7 whatever the renderer does with the heading's title."""
    text = REQUIREMENTS.read_text(encoding="utf-8")
    headings = list(REQUIREMENT_HEADING.finditer(text))
    assert len(headings) > 50
    wrong = [match["id"] for match in headings if match["anchor"] != match["id"].lower()]
    assert not wrong
    ids = [match["id"] for match in headings]
    assert len(ids) == len(set(ids)), "an id has two headings"
    # A heading that starts with an id but misses the format is a typo the check would not see.
    stray = re.findall(rf"^#+ (?!<a id=){ID}\b.*$", text, re.MULTILINE)
    assert not stray
