"""Envelope encryption of one secret: a fresh AES-256-GCM data key per secret, wrapped by a KEK.

Rules:

* The payload is encrypted under its own random data key; the data key is encrypted
  ("wrapped") under a key-encryption key (:class:`~aether.security.kek.Kek`). Rotating the
  KEK re-wraps the 32-byte data key only (:func:`rewrap`); the payload is never touched.
* ``binding`` (the row's identity: the account id) is associated data of both the payload
  and the wrapped key, and the KEK's id of the wrapped key too: a payload or a wrapped key
  copied onto another row, or relabelled with another KEK's id, fails to decrypt.
* Each stored value is ``nonce (12 bytes) || ciphertext || tag``; nonces are random, and a
  key never encrypts more than one message besides its re-wraps, far below GCM's limits.
* A failure never says more than "cannot decrypt": no key, plaintext or ciphertext appears in
  an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aether.security.kek import Kek, KekRing

_NONCE = 12
_PAYLOAD_LABEL = b"aether-vault/v1/payload|"
_WRAP_LABEL = b"aether-vault/v1/data-key|"


class EnvelopeError(Exception):
    """The envelope does not open: wrong KEK, another row's binding, or altered bytes."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """What is stored: the encrypted payload, the wrapped data key, and the wrapping KEK's id."""

    ciphertext: bytes
    wrapped_key: bytes
    kek_id: str


def seal(plaintext: bytes, kek: Kek, binding: str) -> Envelope:
    """``plaintext`` under a new data key wrapped by ``kek``, both bound to ``binding``."""
    data_key = AESGCM.generate_key(bit_length=256)
    ciphertext = _encrypt(data_key, plaintext, _PAYLOAD_LABEL + binding.encode())
    return Envelope(ciphertext, _wrap(data_key, kek, binding), kek.kek_id)


def open_envelope(envelope: Envelope, ring: KekRing, binding: str) -> bytes:
    """The plaintext; KekError when no configured KEK has the envelope's id, EnvelopeError
    when it does not decrypt (wrong key, other binding, altered bytes)."""
    data_key = _unwrap(envelope, ring.by_id(envelope.kek_id), binding)
    return _decrypt(data_key, envelope.ciphertext, _PAYLOAD_LABEL + binding.encode())


def rewrap(envelope: Envelope, ring: KekRing, binding: str) -> Envelope:
    """The same payload with its data key wrapped by the ring's current KEK."""
    data_key = _unwrap(envelope, ring.by_id(envelope.kek_id), binding)
    return Envelope(
        envelope.ciphertext, _wrap(data_key, ring.current, binding), ring.current.kek_id
    )


def _wrap_aad(kek_id: str, binding: str) -> bytes:
    return _WRAP_LABEL + kek_id.encode() + b"|" + binding.encode()


def _wrap(data_key: bytes, kek: Kek, binding: str) -> bytes:
    return _encrypt(kek.key, data_key, _wrap_aad(kek.kek_id, binding))


def _unwrap(envelope: Envelope, kek: Kek, binding: str) -> bytes:
    return _decrypt(kek.key, envelope.wrapped_key, _wrap_aad(envelope.kek_id, binding))


def _encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _decrypt(key: bytes, stored: bytes, aad: bytes) -> bytes:
    if len(stored) <= _NONCE:
        raise EnvelopeError("cannot decrypt: the stored value is truncated")
    try:
        return AESGCM(key).decrypt(stored[:_NONCE], stored[_NONCE:], aad)
    except InvalidTag:
        raise EnvelopeError(
            "cannot decrypt: wrong key-encryption key, another row's value, or altered bytes"
        ) from None
