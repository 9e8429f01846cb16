"""The text layer of finding 8.13: what is refused, removed, kept and shown."""

from __future__ import annotations

import json

import pytest

from wbs.web import text_input as t


def test_refuses_nul_and_lone_surrogates() -> None:
    for bad in ("a\x00b", "a\ud800b", "\udfff", "x" * 10 + "\udc80"):
        with pytest.raises(t.BadText):
            t.clean(bad)


def test_removes_invisible_controls_and_keeps_what_text_needs() -> None:
    assert t.clean("Sau\u202edara\u2066 \u200bkan\ufeffdung\x07\x1b\x85") == "Saudara kandung"
    kept = "baris 1\nbaris 2\r\n\tdengan tab 👨\u200d👩\u200d👧 ZWNJ\u200c é ü ß 漢字 عربى"
    assert t.clean(kept) == kept


def test_scrub_never_refuses() -> None:
    assert t.scrub("ver\x00if\ud800\u202e") == "ver\ufffdif\ufffd"


def test_neutralise_shows_what_was_hidden() -> None:
    assert t.neutralise("a\u202eb\x1b[31mc\nd\ud800") == "a\ufffdb\ufffd[31mc\nd\ufffd"


def test_json_depth_and_strings_everywhere() -> None:
    ok = {"a": [{"b": "x\u202ey"}], "k\u2066": "v"}
    assert t.clean_json(json.loads(json.dumps(ok))) == {"a": [{"b": "xy"}], "k": "v"}
    deep: object = "leaf"
    for _ in range(t.MAX_JSON_DEPTH + 1):
        deep = [deep]
    with pytest.raises(t.BadText):
        t.clean_json({"x": deep})
    with pytest.raises(t.BadText):
        t.clean_json({"x": ["a", {"y": "\x00"}]})


def test_url_controls() -> None:
    assert t.url_is_clean("/staf/kasus/WBS-2026-AB12-CD34", b"a=1&b=%C3%A9+x")
    assert not t.url_is_clean("/staf/kasus/a\x00", b"")
    assert not t.url_is_clean("/", b"q=%00")
    assert not t.url_is_clean("/", b"q=%1b%5b")


def test_the_ascii_shortcut_agrees_with_the_unicode_table() -> None:
    every_ascii = "".join(chr(c) for c in range(1, 128))
    assert t.clean(every_ascii) == t._invisible().sub("", every_ascii)
    assert t.neutralise(every_ascii) == t._invisible().sub("\ufffd", every_ascii)
