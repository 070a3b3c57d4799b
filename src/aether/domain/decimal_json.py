"""JSON that keeps money exact: a Decimal never passes through a float, in or out.

Rules a caller must know:

* :func:`dumps` writes compact JSON (no spaces). A Decimal is written either as a JSON
  number with its digits as they are (``decimals="number"``: ``f"{d:f}"``, no exponent,
  trailing zeros kept; Kraken's WebSocket v2 takes prices so) or as the JSON string
  ``str(d)`` (``decimals="string"``: the audit chain's stored form). A :class:`JsonNumber`
  is written unquoted as it is (number form). Every other value is written as :mod:`json`
  writes it; ``default`` turns a type JSON does not know into one it does (else TypeError).
* :func:`loads` reads numbers with a fraction or an exponent as Decimal
  (``floats="decimal"``) or float (``floats="float"``); integers are int either way.

Pure standard library, so every layer may use it, the stand-alone emulator included.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

__all__ = ["DecimalForm", "FloatForm", "JsonNumber", "dumps", "loads"]

DecimalForm = Literal["number", "string"]
FloatForm = Literal["decimal", "float"]
Default = Callable[[Any], Any]

# Built once: a decoder per float form (building one per message costs more than parsing).
_DECODERS: dict[str, json.JSONDecoder] = {
    "decimal": json.JSONDecoder(parse_float=Decimal),
    "float": json.JSONDecoder(),
}
# Likewise one leaf encoder per ``ensure_ascii`` (json.dumps with options builds one per call).
_LEAF_ENCODERS: dict[bool, Callable[[object], str]] = {
    True: json.JSONEncoder(ensure_ascii=True).encode,
    False: json.JSONEncoder(ensure_ascii=False).encode,
}


class JsonNumber(str):
    """A JSON number already written (``"30000.10"``): :func:`dumps` emits it unquoted."""

    __slots__ = ()


def dumps(
    value: object,
    *,
    decimals: DecimalForm = "number",
    sort_keys: bool = False,
    ensure_ascii: bool = True,
    default: Default | None = None,
) -> str:
    """``value`` as compact JSON with its Decimals exact (see the module's rules)."""
    if decimals == "string":
        return json.dumps(
            value,
            sort_keys=sort_keys,
            ensure_ascii=ensure_ascii,
            separators=(",", ":"),
            default=_decimal_as_string(default),
        )
    parts: list[str] = []
    _NumberWriter(parts, sort_keys=sort_keys, ensure_ascii=ensure_ascii, default=default).write(
        value
    )
    return "".join(parts)


def loads(data: str | bytes | bytearray, *, floats: FloatForm) -> Any:
    """The value of a JSON document; ``floats`` says what a non-integer number becomes."""
    text = data if isinstance(data, str) else data.decode(json.detect_encoding(data))
    return _DECODERS[floats].decode(text)


def _decimal_as_string(default: Default | None) -> Default:
    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if default is None:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        return default(value)

    return convert


class _NumberWriter:
    """Writes a value with Decimals and JsonNumbers as bare JSON numbers, depth first."""

    __slots__ = ("_default", "_leaf", "_out", "_sort_keys")

    def __init__(
        self, out: list[str], *, sort_keys: bool, ensure_ascii: bool, default: Default | None
    ) -> None:
        self._out = out
        self._sort_keys = sort_keys
        self._default = default
        self._leaf = _LEAF_ENCODERS[ensure_ascii]

    def write(self, value: object) -> None:
        out = self._out
        if isinstance(value, JsonNumber):
            out.append(str.__str__(value))
        elif isinstance(value, Decimal):
            out.append(f"{value:f}")
        elif isinstance(value, str | int | float) or value is None:  # bool is an int
            out.append(self._leaf(value))
        elif isinstance(value, dict):
            self._write_object(value)
        elif isinstance(value, list | tuple):
            out.append("[")
            for index, item in enumerate(value):
                if index:
                    out.append(",")
                self.write(item)
            out.append("]")
        elif self._default is not None:
            self.write(self._default(value))
        else:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    def _write_object(self, value: dict[Any, Any]) -> None:
        out = self._out
        items = sorted(value.items()) if self._sort_keys else value.items()
        out.append("{")
        for index, (key, item) in enumerate(items):
            if index:
                out.append(",")
            out.append(self._leaf(str(key)))
            out.append(":")
            self.write(item)
        out.append("}")
