"""Under any flow of orders, cancels and passing time: no balance or hold goes negative, no
hold exceeds its balance, the book never stays crossed, and every asset is conserved (the
accounts' balances plus the fees collected always equal what the accounts started with)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aether.emulator.exchange.errors import ExchangeError
from aether.emulator.exchange.matching import Exchange
from aether.emulator.exchange.orders import OrderRequest
from tests.unit.emulator.exchange_helpers import SECOND, T0, D, new_exchange

PRICES = [f"{p / 10:.1f}" for p in range(499_900, 500_101, 25)]  # 49990.0 .. 50010.0
VOLUMES = ["0.0001", "0.001", "0.01", "0.1", "0.25", "0.5", "1", "1.5", "3", "7.77777777"]
KINDS = [
    "market",
    "limit",
    "limit-ioc",
    "limit-post",
    "stop-loss",
    "take-profit",
    "stop-loss-limit",
    "take-profit-limit",
    "trailing-stop",
    "trailing-stop-limit",
]

balances = st.fixed_dictionaries(
    {
        "USD": st.sampled_from(["0", "500.5", "500.5", "1000", "100000"]).map(Decimal),
        "XBT": st.sampled_from(["0", "0.05", "1", "5", "50"]).map(Decimal),
    }
)
place = st.tuples(
    st.just("place"),
    st.integers(0, 3),
    st.sampled_from(["buy", "sell"]),
    st.sampled_from(KINDS),
    # 0.01 XBT is about what the 500.5 USD accounts can just afford: the edge worth probing.
    st.sampled_from([*VOLUMES, "0.01", "0.01", "0.01"]),
    st.sampled_from(PRICES),
    st.sampled_from(PRICES),
    st.sampled_from(["cancel-newest", "cancel-oldest", "cancel-both"]),
)
cancel = st.tuples(st.just("cancel"), st.integers(0, 3), st.integers(0, 20))
cancel_all = st.tuples(st.just("cancel_all"), st.integers(0, 3))
dead_man = st.tuples(st.just("dead_man"), st.integers(0, 3), st.integers(0, 30))
wait = st.tuples(st.just("wait"), st.integers(1, 40))
operations = st.lists(
    st.one_of(place, place, place, place, cancel, cancel_all, dead_man, wait),
    min_size=30,
    max_size=100,
)


def request(kind: str, side: str, volume: str, price: str, price2: str, stp: str) -> OrderRequest:
    extra: dict[str, object] = {"stptype": stp}
    if kind == "market":
        return OrderRequest("XBTUSD", side, "market", volume, **extra)  # type: ignore[arg-type]
    if kind.startswith("limit"):
        if kind == "limit-ioc":
            extra["timeinforce"] = "IOC"
        elif kind == "limit-post":
            extra["oflags"] = "post"
        else:
            extra.update(timeinforce="GTD", expiretm="+30")
        return OrderRequest("XBTUSD", side, "limit", volume, price, **extra)  # type: ignore[arg-type]
    if kind.startswith("trailing"):
        limit_offset = "-5.0" if kind.endswith("limit") else None
        return OrderRequest("XBTUSD", side, kind, volume, "+2.5", limit_offset, **extra)  # type: ignore[arg-type]
    second = price2 if kind.endswith("limit") else None
    return OrderRequest("XBTUSD", side, kind, volume, price, second, **extra)  # type: ignore[arg-type]


def total(amounts: list[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Per-asset sums, leaving out assets that sum to zero."""
    sums: dict[str, Decimal] = {}
    for asset, amount in amounts:
        sums[asset] = sums.get(asset, D(0)) + amount
    return {asset: amount for asset, amount in sums.items() if amount}


def check_invariants(ex: Exchange, keys: list[str], initial: dict[str, Decimal]) -> None:
    held: list[tuple[str, Decimal]] = list(ex.fees_collected.items())
    for key in keys:
        for asset, entry in ex.balances(key).items():
            assert entry.balance >= 0, (asset, entry)
            assert 0 <= entry.hold_trade <= entry.balance, (asset, entry)
            held.append((asset, entry.balance))
        if not ex.open_orders(key):
            assert all(e.hold_trade == 0 for e in ex.balances(key).values())
    assert total(held) == initial
    depth = ex.depth("XBTUSD", count=1)
    if depth.bids and depth.asks:
        assert depth.bids[0].price < depth.asks[0].price


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(balances, min_size=4, max_size=4), operations)
def test_money_is_conserved_and_never_negative(
    starts: list[dict[str, Decimal]], ops: list[tuple[object, ...]]
) -> None:
    ex = new_exchange()
    # The first account is the market maker; a fifth only buys from it once, so that there
    # is a last price for trailing stops to start from.
    starts[0] = {"USD": D("10000000"), "XBT": D("1000")}
    starts.append({"USD": D("1000")})
    keys = [ex.create_account(start)[0] for start in starts]
    initial = total([item for start in starts for item in start.items()])
    ex.place(keys[0], OrderRequest("XBTUSD", "sell", "limit", "0.01", "50000.0"), T0)
    ex.place(keys[4], OrderRequest("XBTUSD", "buy", "market", "0.01"), T0)
    assert ex.last_price("XBTUSD") == D("50000.0")
    now = T0
    for op in ops:
        now += SECOND
        try:
            match op:
                case ("place", int(who), str(side), str(kind), str(vol), str(p), str(p2), str(stp)):
                    ex.place(keys[who], request(kind, side, vol, p, p2, stp), now)
                case ("cancel", int(who), int(pick)):
                    open_orders = ex.open_orders(keys[who])
                    if open_orders:
                        ex.cancel(keys[who], open_orders[pick % len(open_orders)].txid, now)
                case ("cancel_all", int(who)):
                    ex.cancel_all(keys[who], now)
                case ("dead_man", int(who), int(seconds)):
                    ex.cancel_all_after(keys[who], seconds, now)
                case ("wait", int(seconds)):
                    now += seconds * SECOND
                    ex.advance(now)
        except ExchangeError:
            pass  # refusals are fine; what matters is the state they leave
        check_invariants(ex, keys, initial)
