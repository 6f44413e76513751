"""core.memo: reads kept for one batch of work, and only inside it."""

from __future__ import annotations

from octopushx.core import memo


def counter():
    calls = {"n": 0}

    def load():
        calls["n"] += 1
        return calls["n"]

    return calls, load


def test_outside_a_batch_every_read_reads():
    calls, load = counter()
    assert memo.remember("k", load) == 1
    assert memo.remember("k", load) == 2
    assert memo.current() is None


def test_inside_a_batch_a_key_is_read_once_until_forgotten():
    calls, load = counter()
    with memo.batch():
        assert memo.remember("k", load) == 1
        assert memo.remember("k", load) == 1
        memo.forget("k")
        assert memo.remember("k", load) == 2
        memo.keep("other", "kept")
        assert memo.remember("other", load) == "kept"
    assert calls["n"] == 2
    assert memo.current() is None


def test_a_nested_batch_shares_the_outer_memory_and_none_survives_it():
    with memo.batch() as outer:
        memo.keep("k", 1)
        with memo.batch() as inner:
            assert inner is outer and memo.remember("k", lambda: 2) == 1
        assert memo.current() is outer
    with memo.batch():
        assert memo.remember("k", lambda: 3) == 3
