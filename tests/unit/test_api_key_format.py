from __future__ import annotations

import pytest

from aether.security import api_keys


def test_generated_key_round_trips_and_verifies() -> None:
    new = api_keys.generate()
    prefix, secret = api_keys.parse(new.token)
    assert (prefix, secret) == (new.prefix, new.secret)
    stored = api_keys.hash_secret(secret)
    assert stored.startswith("$argon2id$")
    assert secret not in stored
    assert api_keys.verify_secret(stored, secret)
    assert not api_keys.verify_secret(stored, api_keys.generate().secret)
    assert not api_keys.verify_secret("not a hash", secret)


def test_keys_are_unique_and_repr_hides_the_secret() -> None:
    keys = {api_keys.generate().token for _ in range(50)}
    assert len(keys) == 50
    new = api_keys.generate()
    assert new.secret not in repr(new)


@pytest.mark.parametrize(
    "token",
    ["", "aek", "aek_short_x", "sk_abcdefabcdef_" + "a" * 43, "aek_ABCDEFABCDEF_" + "a" * 43],
)
def test_malformed_keys_are_refused(token: str) -> None:
    with pytest.raises(api_keys.InvalidApiKeyError):
        api_keys.parse(token)
