"""Checks of the curated import-name -> PyPI distribution table.

The table lives in recoverd/data/import_names.toml; its header comment explains the format.
"""

from __future__ import annotations

import keyword
import re
import tomllib
from pathlib import Path

import pytest

TABLE_PATH = Path(__file__).resolve().parents[1] / "recoverd" / "data" / "import_names.toml"
# Local list of PyPI projects shipped with the development machine; CI elsewhere may lack it.
PYPI_LIST = Path("/work/.library/env/packages/pypi.tsv")
PYPI_HEADER = "name\tversion\tmonth\trank_among_15000_most_downloaded\tsummary"

# PEP 508 distribution name (case-insensitive).
DIST_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
DIST_KEYS = {"dist", "alternatives", "note"}
NAMESPACE_KEYS = {"namespace", "candidates", "note"}
MIN_ENTRIES = 300
MAX_NOTE_LEN = 200


def normalize(name: str) -> str:
    """PEP 503 normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def table() -> dict[str, dict]:
    with TABLE_PATH.open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="module")
def dist_entries(table) -> dict[str, dict]:
    return {k: v for k, v in table.items() if not v.get("namespace")}


@pytest.fixture(scope="module")
def namespace_entries(table) -> dict[str, dict]:
    return {k: v for k, v in table.items() if v.get("namespace")}


def all_dist_names(table) -> list[tuple[str, str]]:
    """(import name, dist name) for every dist, alternative and namespace candidate."""
    out = []
    for key, entry in table.items():
        for name in [entry.get("dist")] + entry.get("alternatives", []) + entry.get("candidates", []):
            if name is not None:
                out.append((key, name))
    return out


def test_at_least_300_entries(dist_entries):
    assert len(dist_entries) >= MIN_ENTRIES, len(dist_entries)


def test_keys_are_valid_dotted_identifiers(table):
    bad = [
        key
        for key in table
        if not all(part.isidentifier() and not keyword.iskeyword(part) for part in key.split("."))
    ]
    assert not bad, bad


def test_entry_schema(table):
    problems = []
    for key, entry in table.items():
        if not isinstance(entry, dict):
            problems.append((key, "not a table"))
            continue
        if entry.get("namespace"):
            if entry.get("namespace") is not True or set(entry) - NAMESPACE_KEYS or "dist" in entry:
                problems.append((key, f"bad namespace entry keys {sorted(entry)}"))
            cands = entry.get("candidates")
            if not isinstance(cands, list) or not cands or not all(isinstance(c, str) for c in cands):
                problems.append((key, "namespace entry needs a non-empty list of candidates"))
        else:
            if set(entry) - DIST_KEYS:
                problems.append((key, f"unknown keys {sorted(set(entry) - DIST_KEYS)}"))
            if not isinstance(entry.get("dist"), str):
                problems.append((key, "missing dist"))
            alts = entry.get("alternatives", [])
            if not isinstance(alts, list) or not all(isinstance(a, str) for a in alts):
                problems.append((key, "alternatives must be a list of strings"))
        note = entry.get("note")
        if note is not None and (not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE_LEN):
            problems.append((key, "note must be a short non-empty string"))
    assert not problems, problems


def test_dist_names_are_valid_pep508(table):
    bad = [(key, name) for key, name in all_dist_names(table) if not DIST_NAME_RE.match(name)]
    assert not bad, bad


def test_no_duplicate_import_names_after_normalisation(table):
    # tomllib already rejects exact duplicates; also refuse keys differing only in case.
    seen: dict[str, str] = {}
    dups = []
    for key in table:
        folded = key.casefold()
        if folded in seen:
            dups.append((seen[folded], key))
        seen[folded] = key
    assert not dups, dups


def test_no_duplicate_dists_within_an_entry(table):
    dups = []
    for key, entry in table.items():
        names = [entry["dist"]] if "dist" in entry else []
        names += entry.get("alternatives", []) + entry.get("candidates", [])
        normed = [normalize(n) for n in names]
        if len(normed) != len(set(normed)):
            dups.append((key, names))
    assert not dups, dups


def test_same_name_entries_are_justified(dist_entries):
    """A key equal to its dist after normalisation is only worth listing when the
    naive fallback (install the top-level name) would be wrong, i.e. a dotted
    namespace member, or when the entry carries alternatives or a note."""
    useless = [
        key
        for key, entry in dist_entries.items()
        if normalize(key) == normalize(entry["dist"])
        and "." not in key
        and not entry.get("alternatives")
        and not entry.get("note")
    ]
    assert not useless, useless


def test_namespace_candidates_match_member_entries(table, namespace_entries):
    """Where the table lists members of a namespace (google.cloud.storage, ...), the
    namespace's candidates must be dists of those members, so they were checked too."""
    problems = []
    for key, entry in namespace_entries.items():
        member_dists = {
            normalize(table[k]["dist"]) for k in table if k.startswith(key + ".") and "dist" in table[k]
        }
        if not member_dists:
            continue
        stray = [c for c in entry["candidates"] if normalize(c) not in member_dists]
        if stray:
            problems.append((key, stray))
    assert not problems, problems


def test_well_known_entries(table):
    expected = {
        "cv2": "opencv-python",
        "yaml": "PyYAML",
        "PIL": "Pillow",
        "sklearn": "scikit-learn",
        "bs4": "beautifulsoup4",
        "dateutil": "python-dateutil",
        "google.protobuf": "protobuf",
        "attr": "attrs",
    }
    for key, dist in expected.items():
        assert normalize(table[key]["dist"]) == normalize(dist), key
    assert table["google"]["namespace"] is True
    assert "psycopg2-binary" in table["psycopg2"]["alternatives"]


def load_pypi_names() -> set[str]:
    with PYPI_LIST.open(encoding="utf-8", errors="replace") as fh:
        header = fh.readline().rstrip("\n")
        assert header == PYPI_HEADER, f"unexpected header in {PYPI_LIST}: {header!r}"
        return {normalize(line.split("\t", 1)[0]) for line in fh if line.strip()}


def test_every_dist_is_on_pypi(table):
    if not PYPI_LIST.is_file():
        pytest.skip(f"PyPI package list {PYPI_LIST} not present on this machine")
    known = load_pypi_names()
    missing = sorted({(key, name) for key, name in all_dist_names(table) if normalize(name) not in known})
    assert not missing, missing
