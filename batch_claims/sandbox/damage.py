"""The damage ticket as Sendcloud's vendored OpenAPI document describes it.

``support-damage-openapi.yaml`` is read unchanged (see ``NOTICE.md``): its two body
variants ``CreateDamagedOwnContract`` and ``CreateDamagedTransactional`` are validated
as published (open objects, ``#/components/...`` refs resolved inside the document),
and its document fields are read from it rather than listed here.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

import yaml

SCHEMA_FILE = "support-damage-openapi.yaml"
OWN_CONTRACT = "CreateDamagedOwnContract"
SENDCLOUD_RATES = "CreateDamagedTransactional"


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The vendored OpenAPI document, parsed once per process (it never changes)."""
    resource = importlib.resources.files("batch_claims.sandbox").joinpath(SCHEMA_FILE)
    text = resource.read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = openapi_document()["components"]["schemas"]
    return schemas


@functools.cache
def document_fields() -> tuple[str, ...]:
    """The body fields that carry an uploaded file, as the published document says:
    those whose schema is an object with a ``file_token`` property."""
    schemas = _schemas()
    fields = []
    for name, prop in schemas[SENDCLOUD_RATES]["properties"].items():
        target = schemas[str(prop.get("$ref", "")).rsplit("/", 1)[-1]] if "$ref" in prop else prop
        if "file_token" in target.get("properties", {}):
            fields.append(name)
    return tuple(fields)


def variant_fields(name: str) -> tuple[str, ...]:
    """A variant's body fields in the document's order."""
    return tuple(_schemas()[name]["properties"])


def variant_schema(name: str) -> dict[str, Any]:
    """A JSON Schema 2020-12 for one variant; its refs resolve in the document."""
    return {"$ref": f"#/components/schemas/{name}", "components": openapi_document()["components"]}
