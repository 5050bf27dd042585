from __future__ import annotations

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from recoverd import signatures
from recoverd.patterns import compile_regex

# (line, its masked template): every kind of placeholder, and words that must survive.
MASKED = [
    ("ModuleNotFoundError: No module named 'yaml'",
     "ModuleNotFoundError: No module named '<name>'"),
    ('  File "/home/u/proj/app.py", line 12, in <module>',
     'File "<name>", line <line>, in <module>'),
    ("src/app/main.ts:14:7 - error TS2307: Cannot find module './util'.",
     "<path>:<line>:<col> - error TS2307: Cannot find module '<name>'."),
    ("error: connect ECONNREFUSED 127.0.0.1:5432", "error: connect ECONNREFUSED <ip>:<port>"),
    ("Error 111 connecting to localhost:6379. Connection refused.",
     "Error <num> connecting to localhost:<port>. Connection refused."),
    ("==== 2 failed, 10 passed in 0.52s ====", "==== <num> failed, <num> passed in <duration> ===="),
    ("Segmentation fault at 0x7ffd5e8c3a10", "Segmentation fault at <addr>"),
    ("fatal: bad object 3f2a9c1d8e7b6a5f4e3d2c1b", "fatal: bad object <hex>"),
    ("request 550e8400-e29b-41d4-a716-446655440000 failed after 1500ms",
     "request <uuid> failed after <duration>"),
    ("2024-05-01T12:30:45Z ERROR worker node-17 crashed, port 8080",
     "<time> ERROR worker node-<num> crashed, port <port>"),
    ("Timed out after 30 seconds waiting for https://example.com:8443/health",
     "Timed out after <duration> waiting for <url>"),
    ("error: can't find crate for `serde` in ./vendor/crates",
     "error: can't find crate for `<name>` in <path>"),
    ("error in setup.py at column 4", "error in <path> at column <col>"),
    ("error: C:\\Users\\me\\app.js is missing", "error: <path> is missing"),
    ("it's 'a b' and “smart” ‘quotes’", "it's '<name>' and “<name>” ‘<name>’"),
    ("error[E0432]: unresolved import", "error[E0432]: unresolved import"),  # codes stay
    ("deadbeef facade failed", "deadbeef facade failed"),  # hex-looking words stay
]


@pytest.mark.parametrize(("line", "template"), MASKED, ids=[t for t, _ in MASKED])
def test_mask(line: str, template: str) -> None:
    assert signatures.mask(line) == template


@pytest.mark.parametrize(("line", "template"), MASKED, ids=[t for t, _ in MASKED])
def test_template_regex_matches_the_line_it_came_from(line: str, template: str) -> None:
    regex, _ = signatures.template_regex(template)
    assert compile_regex(regex).search(line.encode())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.sampled_from(["error:", "failed", "/usr/lib/x.py:3:4", "'q n'", "0x1f", "12", "3.5s",
                     "port 80", "line 9", "a1b2c3d4e5", "node-7", "(x)", "[y]", "a+b", "$?"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=8),
), min_size=1, max_size=12))
def test_any_line_is_matched_by_its_own_template(words: list[str]) -> None:
    line = signatures.key_line(" ".join(words))
    regex, captures = signatures.template_regex(signatures.mask(line))
    compiled = compile_regex(regex)
    assert compiled.search(line.encode()), (line, regex)
    assert set(captures) <= set(signatures.GROUP_MEANINGS)


def test_same_failure_same_signature_across_projects_and_runs() -> None:
    one = signatures.signature("unknown", "", "building...\nerror: /home/a/p1/x.c:3:9: "
                               "widget 'w1' exploded after 12ms\n")
    two = signatures.signature("unknown", "", "error: /srv/b/p2/y.c:40:2: "
                               "widget 'other' exploded after 7ms")
    assert one == two
    assert len(one.id) == 16 and one.template == (
        "error: <path>:<line>:<col>: widget '<name>' exploded after <duration>")
    assert signatures.signature("runtime_error", "x", "error: widget 'w' exploded").id != (
        signatures.signature("unknown", "", "error: widget 'w' exploded").id)


def test_key_line_is_the_last_line_with_an_error_cue() -> None:
    output = "Traceback (most recent call last):\nValueError: bad thing\n  \nDone in 3s.\n"
    assert signatures.key_line(output) == "ValueError: bad thing"
    assert signatures.key_line("just text\nmore text\n=====\n") == "more text"
    assert signatures.key_line("\n---\n") == ""
    assert len(signatures.key_line("error " + "x" * 1000)) <= signatures.KEY_LINE_LIMIT


def test_secrets_never_reach_a_template() -> None:
    sig = signatures.signature("unknown", "", "error: auth failed with token=abcd1234efgh5678")
    assert "abcd1234" not in sig.template and "[REDACTED]" in sig.template


def test_example_is_bounded_redacted_and_holds_the_decisive_line() -> None:
    output = ("noise\n" * 1000 + "fatal: the widget broke (api_key=sk-ant-secret123456)\n"
              + "trailing\n" * 500)
    excerpt = signatures.example(output)
    assert len(excerpt) <= signatures.EXAMPLE_LIMIT
    assert "fatal: the widget broke" in excerpt and "sk-ant" not in excerpt
    assert signatures.example("short\x1b[31m red\x1b[0m\r\n") == "short red"


def test_command_key_ignores_blanks_and_secrets() -> None:
    assert signatures.command_key("pytest  -q\ttests ") == signatures.command_key("pytest -q tests")
    assert signatures.command_key("pytest -q") != signatures.command_key("pytest -x")
    assert signatures.command_key("TOKEN=abcdefgh1 make") == signatures.command_key(
        "TOKEN=zyxwvuts9 make")


def test_three_variants_of_an_unknown_error_mine_into_one_template() -> None:
    lines = [
        "frobnicator: shard alpha lost quorum, leader gone",
        "frobnicator: shard beta lost quorum, leader gone",
        "frobnicator: shard gamma lost quorum, leader gone",
        "kernel: disk sdb refused the write request politely",
    ]
    sigs = [signatures.signature("unknown", "", line) for line in lines]
    assert len({s.id for s in sigs}) == 4  # the words differ: four signatures…
    mined = signatures.mine((s.id, s.template, n) for s, n in zip(sigs, (2, 5, 1, 1)))
    # …but one recurring failure: the most frequent member names it.
    assert [(c.template, c.count) for c in mined] == [
        ("frobnicator: shard <*> lost quorum, leader gone", 8),
        ("kernel: disk sdb refused the write request politely", 1),
    ]
    assert mined[0].id == sigs[1].id and set(mined[0].members) == {s.id for s in sigs[:3]}
    regex, _ = signatures.template_regex(mined[0].template)
    assert all(re2.search(regex, line) for line in lines[:3])
