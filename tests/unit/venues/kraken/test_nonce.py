"""NonceStore: strictly increasing across calls, instances, processes and clock steps."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aether.venues.kraken.nonce import NonceStore, NonceStoreError, wall_clock_ms


def fixed_clock(*values: int) -> Callable[[], int]:
    """A clock returning ``values`` in turn, then the last one forever."""
    seq: Iterator[int] = iter(values)
    last = [values[-1]]

    def clock() -> int:
        last[0] = next(seq, last[0])
        return last[0]

    return clock


def test_first_nonce_is_the_clock_in_milliseconds(tmp_path: Path) -> None:
    store = NonceStore(tmp_path / "key.nonce", clock=fixed_clock(1_700_000_000_000))
    assert store.last() is None
    assert store.next() == 1_700_000_000_000
    assert store.last() == 1_700_000_000_000


def test_nonces_within_one_millisecond_still_increase(tmp_path: Path) -> None:
    store = NonceStore(tmp_path / "key.nonce", clock=fixed_clock(5_000))
    assert [store.next() for _ in range(4)] == [5_000, 5_001, 5_002, 5_003]


def test_a_clock_going_backwards_still_increases(tmp_path: Path) -> None:
    store = NonceStore(tmp_path / "key.nonce", clock=fixed_clock(1_000, 2_000, 500, 500, 2_500))
    assert [store.next() for _ in range(5)] == [1_000, 2_000, 2_001, 2_002, 2_500]


def test_monotonic_across_instances_and_restarts(tmp_path: Path) -> None:
    path = tmp_path / "key.nonce"
    first = NonceStore(path, clock=fixed_clock(10_000))
    issued = [first.next(), first.next()]
    # A "restarted" process whose clock is behind the file still continues upwards.
    second = NonceStore(path, clock=fixed_clock(9_000))
    issued += [second.next(), first.next(), second.next()]
    assert issued == [10_000, 10_001, 10_002, 10_003, 10_004]


def test_the_file_holds_the_last_nonce_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "key.nonce"
    old_umask = os.umask(0)  # the most permissive umask must not loosen the file
    try:
        NonceStore(path, clock=fixed_clock(42)).next()
    finally:
        os.umask(old_umask)
    assert path.read_text() == "42\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "content", [b"abc\n", b"12", b"-5\n", b"1 2\n", b"007\n", b"\n", str(2**64).encode() + b"\n"]
)
def test_a_corrupt_file_is_an_error_naming_the_file_and_left_untouched(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "key.nonce"
    path.write_bytes(content)
    store = NonceStore(path, clock=fixed_clock(1))
    with pytest.raises(NonceStoreError, match=str(path)):
        store.next()
    assert path.read_bytes() == content


def test_a_missing_folder_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "key.nonce"
    with pytest.raises(NonceStoreError, match=str(path)):
        NonceStore(path).next()


def test_a_symlinked_nonce_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("7\n")
    link = tmp_path / "key.nonce"
    link.symlink_to(target)
    with pytest.raises(NonceStoreError, match=str(link)):
        NonceStore(link).next()


def test_the_default_clock_is_the_wall_clock_in_milliseconds(tmp_path: Path) -> None:
    before = wall_clock_ms()
    nonce = NonceStore(tmp_path / "key.nonce").next()
    assert before <= nonce <= wall_clock_ms()
    assert 1_600_000_000_000 < nonce < 10_000_000_000_000  # milliseconds, not seconds or µs


def _draw(path: str, count: int, start: Any, out: Any) -> None:
    # Module-level so the spawned processes can import it.
    store = NonceStore(Path(path))
    start.wait()  # all four begin together, so they really contend for the file
    out.put([store.next() for _ in range(count)])


def test_four_processes_hammering_one_file_never_share_a_nonce(tmp_path: Path) -> None:
    path = tmp_path / "key.nonce"
    per_process, processes = 300, 4
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(processes), ctx.Queue()
    workers = [
        ctx.Process(target=_draw, args=(str(path), per_process, start, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
        assert worker.exitcode == 0
    everything = [n for seq in results for n in seq]
    assert len(everything) == processes * per_process
    assert len(set(everything)) == len(everything)
    for seq in results:
        assert all(a < b for a, b in itertools.pairwise(seq))
    assert NonceStore(path).last() == max(everything)


@pytest.mark.parametrize("reading", [1.7e12, -1, True])
def test_a_clock_that_is_not_integer_milliseconds_is_refused(
    tmp_path: Path, reading: object
) -> None:
    path = tmp_path / "key.nonce"
    store = NonceStore(path, clock=lambda: reading)  # type: ignore[arg-type, return-value]
    with pytest.raises(NonceStoreError, match="clock"):
        store.next()
    assert path.read_bytes() == b""
