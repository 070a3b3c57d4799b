"""Envelope encryption of one credential: round trip, and every way it must refuse to open."""

from __future__ import annotations

import dataclasses
import os
import uuid

import pytest

from aether.security.envelope import Envelope, EnvelopeError, open_envelope, rewrap, seal
from aether.security.kek import Kek, KekError, KekRing

SECRET = b'{"api_key": "K3y", "api_secret": "s3cr3t"}'


def kek() -> Kek:
    return Kek(os.urandom(32))


def row() -> str:
    return f"kraken_credentials/{uuid.uuid4()}"


def test_round_trip_and_nothing_in_the_clear() -> None:
    current, binding = kek(), row()
    sealed = seal(SECRET, current, binding)
    assert sealed.kek_id == current.kek_id
    assert SECRET not in sealed.ciphertext
    assert b"s3cr3t" not in sealed.ciphertext
    assert open_envelope(sealed, KekRing(current), binding) == SECRET
    # A data key per secret: the same plaintext twice gives unrelated ciphertexts.
    assert seal(SECRET, current, binding).ciphertext != sealed.ciphertext


def test_wrong_kek_fails() -> None:
    binding = row()
    sealed = seal(SECRET, kek(), binding)
    with pytest.raises(KekError, match="no configured key-encryption key"):
        open_envelope(sealed, KekRing(kek()), binding)
    # A different key presented under the envelope's id (a forged ring) does not open it.
    impostor = Kek(os.urandom(32))
    object.__setattr__(impostor, "kek_id", sealed.kek_id)
    with pytest.raises(EnvelopeError, match="cannot decrypt"):
        open_envelope(sealed, KekRing(impostor), binding)


def _with(sealed: Envelope, part: str, value: bytes) -> Envelope:
    if part == "ciphertext":
        return Envelope(value, sealed.wrapped_key, sealed.kek_id)
    return Envelope(sealed.ciphertext, value, sealed.kek_id)


@pytest.mark.parametrize("part", ["ciphertext", "wrapped_key"])
def test_tampered_bytes_fail(part: str) -> None:
    current, binding = kek(), row()
    sealed = seal(SECRET, current, binding)
    raw = bytearray(getattr(sealed, part))
    raw[-1] ^= 0x01
    with pytest.raises(EnvelopeError, match="cannot decrypt"):
        open_envelope(_with(sealed, part, bytes(raw)), KekRing(current), binding)
    with pytest.raises(EnvelopeError, match="truncated"):
        open_envelope(_with(sealed, part, b"short"), KekRing(current), binding)


def test_a_value_moved_to_another_row_fails() -> None:
    current = kek()
    mine, theirs = row(), row()
    sealed = seal(SECRET, current, mine)
    with pytest.raises(EnvelopeError):
        open_envelope(sealed, KekRing(current), theirs)
    # Mixing halves of two rows fails too: each half is bound to its own row.
    other = seal(SECRET, current, theirs)
    mixed = Envelope(other.ciphertext, sealed.wrapped_key, sealed.kek_id)
    with pytest.raises(EnvelopeError):
        open_envelope(mixed, KekRing(current), mine)


def test_a_wrapped_key_relabelled_with_another_kek_id_fails() -> None:
    old, new, binding = kek(), kek(), row()
    sealed = seal(SECRET, old, binding)
    relabelled = dataclasses.replace(sealed, kek_id=new.kek_id)
    with pytest.raises(EnvelopeError):
        open_envelope(relabelled, KekRing(new, previous=old), binding)


def test_rewrap_moves_only_the_data_key_to_the_current_kek() -> None:
    old, new, binding = kek(), kek(), row()
    sealed = seal(SECRET, old, binding)
    moved = rewrap(sealed, KekRing(new, previous=old), binding)
    assert moved.kek_id == new.kek_id
    assert moved.ciphertext == sealed.ciphertext
    assert moved.wrapped_key != sealed.wrapped_key
    assert open_envelope(moved, KekRing(new), binding) == SECRET
    with pytest.raises(KekError):
        open_envelope(moved, KekRing(old), binding)


def test_kek_ids_are_stable_and_reveal_nothing() -> None:
    key = os.urandom(32)
    assert Kek(key).kek_id == Kek(key).kek_id != kek().kek_id
    assert key.hex() not in repr(Kek(key))
    assert Kek(key).kek_id in repr(Kek(key))
    with pytest.raises(KekError, match="32 bytes"):
        Kek(b"short")
