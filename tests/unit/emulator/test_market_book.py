"""The maker's book: prices on the tick ladder strictly around the mid, sizes on the lot and
growing with distance, deterministic per seed; and moving it cancels and posts only what the
new price needs, never leaving a crossed book."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aether.domain.events import BookLevel
from aether.domain.orders import Side
from aether.emulator.market.generator import MarketConfigError, PairGrid
from aether.emulator.market.maker_book import (
    Book,
    BookDiff,
    DepthProfile,
    Quote,
    apply_book_diff,
    book_diff,
    book_levels,
    move_book,
)

GRID = PairGrid("XBT/USD", D("0.1"), 8)
FLAT = DepthProfile(D("0.1"), growth=D("1.5"), step_ticks=50)


def levels(side: tuple[BookLevel, ...]) -> list[tuple[str, str]]:
    return [(str(level.price), str(level.quantity)) for level in side]


def test_a_book_worked_out_by_hand() -> None:
    # half spread = 30000.05 * 2 / 20000 = 3.000005: the bid at or below 29997.049995 on the
    # 5-dollar ladder is 29995, the ask at or above 30003.050005 is 30005.
    bids, asks = book_levels(D("30000.05"), D(2), 4, FLAT, GRID)
    sizes = ["0.10000000", "0.15000000", "0.22500000", "0.33750000"]
    assert levels(bids) == list(
        zip(["29995.0", "29990.0", "29985.0", "29980.0"], sizes, strict=True)
    )
    assert levels(asks) == list(
        zip(["30005.0", "30010.0", "30015.0", "30020.0"], sizes, strict=True)
    )


def test_zero_spread_still_leaves_the_mid_free() -> None:
    bids, asks = book_levels(D("100.0"), D(0), 2, DepthProfile(D(1)), GRID)
    assert [b.price for b in bids] == [D("99.9"), D("99.8")]
    assert [a.price for a in asks] == [D("100.1"), D("100.2")]


def test_sizes_are_rounded_down_to_the_lot() -> None:
    grid = PairGrid("ETH/USD", D("0.01"), 4)
    bids, asks = book_levels(D(2000), D(10), 2, DepthProfile(D("0.123456789"), D(1)), grid)
    assert [b.quantity for b in bids] == [D("0.1234")] * 2
    assert [a.quantity for a in asks] == [D("0.1234")] * 2


def test_bids_that_would_not_be_positive_are_left_out() -> None:
    bids, asks = book_levels(D("0.25"), D(0), 5, DepthProfile(D(1)), GRID)
    assert [b.price for b in bids] == [D("0.2"), D("0.1")]
    assert len(asks) == 5


def test_sizes_are_deterministic_per_seed() -> None:
    profile = DepthProfile(D("0.1"), jitter=D("0.5"))
    one = book_levels(D(30000), D(4), 6, profile, GRID, seed=1)
    assert book_levels(D(30000), D(4), 6, profile, GRID, seed=1) == one
    assert book_levels(D(30000), D(4), 6, profile, GRID, seed=2) != one


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"base_qty": D(0)}, "base_qty"),
        ({"base_qty": D(1), "growth": D("0.9")}, "growth"),
        ({"base_qty": D(1), "step_ticks": 0}, "step_ticks"),
        ({"base_qty": D(1), "jitter": D(-1)}, "jitter"),
    ],
)
def test_a_bad_profile_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(MarketConfigError) as caught:
        DepthProfile(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("mid", "spread", "depth", "field"),
    [(D(0), D(1), 3, "mid"), (D(1), D(-1), 3, "spread_bps"), (D(1), D(1), 0, "levels")],
)
def test_bad_book_arguments_name_the_field(mid: D, spread: D, depth: int, field: str) -> None:
    with pytest.raises(MarketConfigError) as caught:
        book_levels(mid, spread, depth, FLAT, GRID)
    assert caught.value.field == field


mids = st.decimals(min_value=D("0.01"), max_value=D(1_000_000), places=4)
ticks = st.sampled_from([D("0.00001"), D("0.01"), D("0.1"), D("0.5"), D(1)])
profiles = st.builds(
    DepthProfile,
    base_qty=st.decimals(min_value=D("0.00000001"), max_value=D(100), places=8),
    growth=st.decimals(min_value=D(1), max_value=D(3), places=2),
    step_ticks=st.integers(1, 100),
    jitter=st.decimals(min_value=D(0), max_value=D(1), places=2),
)


def check_book(book: Book, mid: D, grid: PairGrid) -> None:
    bids, asks = book
    assert asks
    bid_prices, ask_prices = [b.price for b in bids], [a.price for a in asks]
    assert bid_prices == sorted(set(bid_prices), reverse=True)
    assert ask_prices == sorted(set(ask_prices))
    assert all(0 < p < mid for p in bid_prices)
    assert all(p > mid for p in ask_prices)
    if bids:
        assert bids[0].price < asks[0].price
    for side in (bids, asks):
        sizes = [level.quantity for level in side]
        assert sizes == sorted(sizes)
        for level in side:
            assert level.price % grid.tick_size == 0
            assert level.quantity > 0
            assert level.quantity % grid.lot == 0


@settings(max_examples=300, deadline=None)
@given(
    mid=mids,
    spread=st.decimals(min_value=D(0), max_value=D(1000), places=2),
    depth=st.integers(1, 10),
    profile=profiles,
    tick=ticks,
    lot_decimals=st.integers(0, 8),
    seed=st.integers(0, 2**32),
)
def test_any_book_is_ordered_on_the_grid_and_uncrossed(
    mid: D, spread: D, depth: int, profile: DepthProfile, tick: D, lot_decimals: int, seed: int
) -> None:
    grid = PairGrid("X/USD", tick, lot_decimals)
    book = book_levels(mid, spread, depth, profile, grid, seed=seed)
    check_book(book, mid, grid)
    assert len(book[1]) == depth
    assert book == book_levels(mid, spread, depth, profile, grid, seed=seed)


def test_a_move_inside_a_rung_changes_nothing() -> None:
    book = book_levels(D("30000.05"), D(2), 4, FLAT, GRID)
    assert move_book(book, D("30001.0"), D(2), 4, FLAT, GRID).is_empty


def test_a_move_of_one_rung_swaps_one_level_per_side() -> None:
    book = book_levels(D("30000.05"), D(2), 4, FLAT, GRID)
    diff = move_book(book, D("30005.1"), D(2), 4, FLAT, GRID, size_tolerance=D("0.5"))
    assert diff == BookDiff(
        cancel=(
            Quote(Side.BUY, D("29980.0"), D("0.3375")),
            Quote(Side.SELL, D("30005.0"), D("0.1")),
        ),
        add=(
            Quote(Side.BUY, D("30000.0"), D("0.1")),
            Quote(Side.SELL, D("30025.0"), D("0.3375")),
        ),
    )
    bids, asks = apply_book_diff(book, diff)
    assert [b.price for b in bids] == [D(p) for p in ("30000", "29995", "29990", "29985")]
    assert [a.price for a in asks] == [D(p) for p in ("30010", "30015", "30020", "30025")]


def test_without_tolerance_resized_levels_are_replaced() -> None:
    book = book_levels(D("30000.05"), D(2), 4, FLAT, GRID)
    target = book_levels(D("30005.1"), D(2), 4, FLAT, GRID)
    diff = book_diff(book, target)
    assert len(diff.cancel) == len(diff.add) == 8  # every level changed its size or price
    assert apply_book_diff(book, diff) == target


@settings(max_examples=200, deadline=None)
@given(
    first=st.decimals(min_value=D(1), max_value=D(100_000), places=2),
    second=st.decimals(min_value=D(1), max_value=D(100_000), places=2),
    profile=profiles,
    tolerance=st.decimals(min_value=D(0), max_value=D(1), places=2),
)
def test_moving_the_book_gives_the_target_prices_and_never_crosses(
    first: D, second: D, profile: DepthProfile, tolerance: D
) -> None:
    book = book_levels(first, D(5), 5, profile, GRID)
    target = book_levels(second, D(5), 5, profile, GRID)
    moved = apply_book_diff(book, book_diff(book, target, size_tolerance=tolerance))
    for got, want in zip(moved, target, strict=True):
        assert [level.price for level in got] == [level.price for level in want]
        for level, wanted in zip(got, want, strict=True):
            assert abs(level.quantity - wanted.quantity) <= tolerance * wanted.quantity
    if tolerance == 0:
        assert moved == target


def test_cancelling_a_level_the_book_lacks_is_refused() -> None:
    book = book_levels(D(100), D(10), 2, FLAT, GRID)
    ghost = BookDiff(cancel=(Quote(Side.BUY, D("1.0"), D("0.1")),), add=())
    with pytest.raises(ValueError, match="no such level"):
        apply_book_diff(book, ghost)


def test_a_negative_tolerance_is_refused() -> None:
    book = book_levels(D(100), D(10), 2, FLAT, GRID)
    with pytest.raises(MarketConfigError) as caught:
        book_diff(book, book, size_tolerance=D(-1))
    assert caught.value.field == "size_tolerance"
