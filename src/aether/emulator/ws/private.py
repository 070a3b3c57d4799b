"""The private channels of the emulator's WebSocket v2: ``executions`` and ``balances``.

Both need a ``token`` from GetWebSocketsToken. ``executions`` sends a snapshot of the open
orders (``snap_orders``, default true) and the last 50 fills (``snap_trades``, default
false), then every execution event of the account as the exchange core records it
(``pending_new``, ``new``, ``trade``, ``filled``, ``canceled``, ``expired``, ``status``).
``balances`` sends a snapshot of every asset, then one ledger-like entry per asset whose
balance changed since the last publish. Messages carry a per-channel ``sequence``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from aether.emulator.exchange.orders import (
    LIMIT_AFTER_TRIGGER,
    TRIGGERED_TYPES,
    ExecType,
    ExecutionEvent,
    OrderInfo,
    OrderStatus,
    OrderType,
    Trade,
    new_txid,
)
from aether.emulator.kraken_format import PairInfo, asset_decimals
from aether.emulator.runtime import EmulatorRuntime
from aether.emulator.ws.protocol import (
    ALREADY_SUBSCRIBED,
    INVALID_SESSION,
    NOT_SUBSCRIBED,
    Symbols,
    WsError,
    num,
    rfc3339,
    v2_asset,
)

__all__ = ["PRIVATE_CHANNELS", "AccountFeed", "PrivateView", "Subscriber", "account_for"]

PRIVATE_CHANNELS = ("executions", "balances")
TRADE_SNAPSHOT = 50


@dataclass(slots=True)
class PrivateView:
    """A connection's private subscriptions (one account per channel)."""

    executions: str | None = None
    balances: str | None = None
    sent_balances: dict[str, Decimal] = field(default_factory=dict)
    sequence: dict[str, int] = field(default_factory=dict)

    def next(self, channel: str) -> int:
        self.sequence[channel] = self.sequence.get(channel, 0) + 1
        return self.sequence[channel]


class Subscriber(Protocol):
    private: PrivateView

    def send(self, message: dict[str, Any]) -> None: ...


def account_for(runtime: EmulatorRuntime, params: dict[str, Any]) -> str:
    """The account whose live WebSocket token ``params`` carries."""
    token = params.get("token")
    entry = runtime.ws_tokens.get(token) if isinstance(token, str) else None
    if entry is None or entry.expires_ns <= runtime.now_ns():
        raise WsError(INVALID_SESSION)
    return entry.api_key


def _order_status(info: OrderInfo, exec_type: ExecType) -> str:
    if exec_type is ExecType.PENDING_NEW:
        return "pending_new"
    if info.status is OrderStatus.OPEN:
        return "partially_filled" if info.vol_exec else "new"
    if info.status is OrderStatus.CLOSED:
        return "filled"
    return info.status.value


class AccountFeed:
    """Answers private subscriptions and publishes the accounts' events."""

    def __init__(self, runtime: EmulatorRuntime, symbols: Symbols) -> None:
        self.runtime = runtime
        self.symbols = symbols

    def _pair(self, altname: str) -> tuple[str, PairInfo]:
        symbol = self.symbols.symbol(altname)
        return symbol, self.symbols.by_symbol[symbol]

    # --- subscribe ----------------------------------------------------------------------

    def subscribe(
        self, conn: Subscriber, channel: str, params: dict[str, Any], connections: Iterable[Any]
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Register ``channel``: the ack's result and the snapshot (None: not wanted)."""
        account = account_for(self.runtime, params)
        view = conn.private
        if getattr(view, channel) is not None:
            raise WsError(ALREADY_SUBSCRIBED)
        flags = {}
        defaults = {"snapshot": True, "snap_orders": True, "snap_trades": False}
        names = ("snap_orders", "snap_trades") if channel == "executions" else ("snapshot",)
        for name in names:
            value = params.get(name, defaults[name])
            if not isinstance(value, bool):
                raise WsError(f"EGeneral:Invalid arguments:{name}")
            flags[name] = value
        self.publish(connections)  # earlier events go to earlier subscribers first
        setattr(view, channel, account)
        result: dict[str, Any] = {"channel": channel, **flags}
        if channel == "balances":
            balances = self.runtime.exchange.balances(account)
            view.sent_balances = {asset: entry.balance for asset, entry in balances.items()}
            if not flags["snapshot"]:
                return result, None
            data = [
                {
                    "asset": v2_asset(asset),
                    "asset_class": "currency",
                    "balance": num(entry.balance, asset_decimals(asset)),
                    "wallets": [
                        {
                            "type": "spot",
                            "id": "main",
                            "balance": num(entry.balance, asset_decimals(asset)),
                        }
                    ],
                }
                for asset, entry in balances.items()
            ]
            return result, self._message(view, "balances", "snapshot", data)
        if not any(conn is not c and c.private.executions == account for c in connections):
            self.runtime.exchange.drain_executions(account)  # nobody wanted them
        snapshot: list[dict[str, Any]] = []
        exchange = self.runtime.exchange
        if flags["snap_trades"]:
            trades = exchange.trades_history(account)[:TRADE_SNAPSHOT]
            infos = {}
            if trades:
                txids = sorted({t.ordertxid for t in trades})
                infos = {i.txid: i for i in exchange.query_orders(account, txids)}
            for trade in reversed(trades):
                event = ExecutionEvent(ExecType.TRADE, trade.time_ns, infos[trade.ordertxid], trade)
                snapshot.append(self.execution(event))
        if flags["snap_orders"]:
            for info in exchange.open_orders(account):
                snapshot.append(self.execution(ExecutionEvent(ExecType.NEW, info.opentm_ns, info)))
        return result, self._message(view, "executions", "snapshot", snapshot)

    def unsubscribe(self, conn: Subscriber, channel: str) -> None:
        if getattr(conn.private, channel) is None:
            raise WsError(NOT_SUBSCRIBED)
        setattr(conn.private, channel, None)

    @staticmethod
    def _message(view: PrivateView, channel: str, kind: str, data: list[Any]) -> dict[str, Any]:
        return {"channel": channel, "type": kind, "data": data, "sequence": view.next(channel)}

    # --- executions ---------------------------------------------------------------------

    def execution(self, event: ExecutionEvent) -> dict[str, Any]:
        """One entry of the ``executions`` channel."""
        info = event.order
        symbol, pair = self._pair(info.pair)
        p, q, c = pair.pair_decimals, pair.lot_decimals, pair.cost_decimals
        entry: dict[str, Any] = {
            "exec_type": event.exec_type.value,
            "order_id": info.txid,
            "symbol": symbol,
            "side": info.side.value,
            "order_type": info.ordertype.value,
            "order_qty": num(info.volume, q),
            "order_status": _order_status(info, event.exec_type),
            "time_in_force": info.timeinforce.value,
            "post_only": "post" in info.oflags,
            "cum_qty": num(info.vol_exec, q),
            "cum_cost": num(info.cost, c),
            "avg_price": num(info.price, c),
            "fee_usd_equiv": num(info.fee, c),
            "timestamp": rfc3339(event.time_ns),
        }
        if info.ordertype is OrderType.LIMIT:
            entry["limit_price"] = num(Decimal(info.descr_price), p)
        elif info.ordertype in LIMIT_AFTER_TRIGGER and info.descr_price2:
            entry["limit_price"] = num(Decimal(info.descr_price2), p)
        if info.ordertype in TRIGGERED_TYPES and info.stopprice:
            entry["triggers"] = {"reference": "last", "price": num(info.stopprice, p)}
        if info.cl_ord_id is not None:
            entry["cl_ord_id"] = info.cl_ord_id
        if info.userref is not None:
            entry["order_userref"] = info.userref
        if info.expiretm_ns:
            entry["expire_time"] = rfc3339(info.expiretm_ns)
        if event.exec_type in (ExecType.CANCELED, ExecType.EXPIRED) and info.reason:
            entry["reason"] = info.reason
        if event.trade is not None:
            entry.update(self._fill(event.trade, pair))
        return entry

    @staticmethod
    def _fill(trade: Trade, pair: PairInfo) -> dict[str, Any]:
        c = pair.cost_decimals
        return {
            "exec_id": trade.txid,
            "trade_id": trade.trade_id,
            "last_qty": num(trade.vol, pair.lot_decimals),
            "last_price": num(trade.price, pair.pair_decimals),
            "cost": num(trade.cost, c),
            "liquidity_ind": "m" if trade.maker else "t",
            "fees": [{"asset": v2_asset(pair.quote), "qty": num(trade.fee, c)}],
        }

    # --- updates ------------------------------------------------------------------------

    def publish(self, connections: Iterable[Any]) -> None:
        """Send each subscriber its account's new execution events and balance changes."""
        conns: list[Subscriber] = list(connections)
        wanted = {c.private.executions for c in conns} - {None}
        events = {a: self.runtime.exchange.drain_executions(a) for a in wanted if a}
        rendered = {a: [self.execution(e) for e in evs] for a, evs in events.items() if evs}
        now = self.runtime.now_ns()
        for conn in conns:
            view = conn.private
            if view.executions is not None and view.executions in rendered:
                conn.send(self._message(view, "executions", "update", rendered[view.executions]))
            if view.balances is not None:
                self._balances(conn, view, view.balances, now)

    def _balances(self, conn: Subscriber, view: PrivateView, account: str, now: int) -> None:
        updates: list[dict[str, Any]] = []
        for asset, entry in self.runtime.exchange.balances(account).items():
            before = view.sent_balances.get(asset)
            if before == entry.balance:
                continue
            view.sent_balances[asset] = entry.balance
            places = asset_decimals(asset)
            updates.append(
                {
                    "ledger_id": new_txid("L"),
                    "ref_id": new_txid("T"),
                    "timestamp": rfc3339(now),
                    "type": "trade",
                    "asset": v2_asset(asset),
                    "asset_class": "currency",
                    "category": "trade",
                    "wallet_type": "spot",
                    "wallet_id": "main",
                    "amount": num(entry.balance - (before or 0), places),
                    "fee": num(Decimal(0), places),
                    "balance": num(entry.balance, places),
                }
            )
        if updates:
            conn.send(self._message(view, "balances", "update", updates))
