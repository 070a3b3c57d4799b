"""Kraken spot adapter: everything Aether knows about Kraken.

Holds the protocol (signing, nonces, errors, rate limits, REST, WebSocket v2 public and
private, the local book and its checksum, the venue), the four names of a pair
(``symbols``), and Kraken's data formats turned into domain types: ``AssetPairs`` into
instruments (``asset_pairs``), the dated instrument snapshot shipped in ``data/``
(``instrument_snapshot``), the bulk OHLCVT CSV (``ohlcvt_csv``) and a page of REST
``Trades`` (``trades_page``).

May import ``aether.domain`` and the libraries of the wire (httpx, websockets, orjson),
nothing else of Aether: ``marketdata``, ``api`` and the composition root sit above it and
use it, never the reverse. Import the submodules directly.
"""
