"""The OpenAPI schema declares the error statuses routes answer with, in the error shape
they really have (``{"error": {...}}``), and the input rules the API enforces."""

from __future__ import annotations

from typing import Any

import httpx

EXPECTED_ERRORS = {
    ("GET", "/api/v1/accounts"): {"401", "409"},
    ("POST", "/api/v1/accounts"): {"400", "401", "403", "409", "413", "422"},
    ("GET", "/api/v1/accounts/{account_id}"): {"401", "403", "404", "409", "422"},
    ("PATCH", "/api/v1/accounts/{account_id}/config"): {
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "422",
    },
    ("PATCH", "/api/v1/accounts/{account_id}/orders/{cl_ord_id}"): {
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "422",
        "502",
    },
    ("POST", "/api/v1/keys"): {"400", "401", "403", "404", "413", "422"},
    ("GET", "/api/v1/keys"): {"401", "403", "404", "422"},
    ("DELETE", "/api/v1/keys/{key_id}"): {"401", "403", "404", "409", "422"},
    ("GET", "/api/v1/audit"): {"401", "403", "422"},
    ("POST", "/api/v1/audit/verify"): {"401", "403"},
    ("GET", "/api/v1/instruments"): {"401", "403"},
    ("POST", "/api/v1/instruments/refresh"): {"401", "403", "502", "503"},
    ("GET", "/api/v1/subscriptions"): {"401", "403"},
    ("POST", "/api/v1/subscriptions"): {"400", "401", "403", "413", "422"},
    ("DELETE", "/api/v1/subscriptions/{symbol}"): {"401", "403", "404", "422"},
    ("GET", "/api/v1/market/{symbol}/candles"): {"401", "403", "404", "422"},
    ("GET", "/api/v1/market/{symbol}/trades"): {"401", "403", "404", "422"},
}


async def schema_of(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


async def test_routes_declare_their_error_statuses_with_the_error_shape(
    aether_api: httpx.AsyncClient,
) -> None:
    schema = await schema_of(aether_api)
    assert "HTTPValidationError" not in schema["components"]["schemas"]  # not our shape
    error_body = schema["components"]["schemas"]["ErrorBody"]
    assert error_body["required"] == ["error"]
    declared = {
        (method.upper(), path): operation["responses"]
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if path.startswith("/api/")
    }
    for operation, statuses in EXPECTED_ERRORS.items():
        assert operation in declared, operation
        errors = {code for code in declared[operation] if code.startswith(("4", "5"))}
        assert errors == statuses, (operation, errors)
    for operation, responses in declared.items():
        assert "401" in responses, operation
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorBody", (operation, code)


async def test_input_rules_are_in_the_schema(aether_api: httpx.AsyncClient) -> None:
    schema = await schema_of(aether_api)
    audit = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/audit"]["get"]["parameters"]}
    assert audit["after_seq"]["maximum"] == 2**63 - 1
    assert audit["after_seq"]["minimum"] == 0
    action = audit["action"]["anyOf"][0]
    assert action["pattern"] == "^[^\\x00]*$"
    assert action["maxLength"] == 200
    key_create = schema["components"]["schemas"]["KeyCreate"]["properties"]
    assert key_create["name"]["pattern"] == "^[^\\x00]*$"
