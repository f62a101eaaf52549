"""What the sandbox accepts and refuses, as pure functions raising ``SandboxError``.

Upload rules follow Sendcloud's file-upload page; ticket bodies are validated against
the vendored OpenAPI document (``support-damage-openapi.yaml``), with the published
``oneOf`` read as "valid against at least one variant" (see ``NOTICE.md``).
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Mapping
from typing import Any

import yaml
from jsonschema import Draft202012Validator

SCHEMA_FILE = "support-damage-openapi.yaml"
OWN_CONTRACT = "CreateDamagedOwnContract"
SENDCLOUD_RATES = "CreateDamagedTransactional"
ALLOWED_TYPES = frozenset(
    {
        "application/pdf",
        "application/rtf",
        "application/msword",
        "application/xml",
        "application/yaml",
        "application/json",
    }
)
ALLOWED_PREFIXES = (
    "image/",
    "video/",
    "text/",
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.ms-",
    "application/vnd.oasis.opendocument.",
)
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Rate limit exceeded",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

# One pydantic-style problem: {'type': ..., 'loc': (...), 'msg': ...}.
Problem = dict[str, object]


class SandboxError(Exception):
    """An error answer: ``{"errors": [{code, detail, title, status}]}`` plus headers."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.headers = dict(headers or {})

    def body(self) -> dict[str, list[dict[str, object]]]:
        """The JSON body Sendcloud uses for every error."""
        error = {"code": self.code, "detail": self.detail, "title": self.title}
        return {"errors": [{**error, "status": self.status}]}


def validation_error(problems: list[Problem]) -> SandboxError:
    """400 ``Validation Error. Errors: [...]`` in the repr style of the doc's example."""
    return SandboxError(400, "bad_request", f"Validation Error. Errors: {problems!r}")


# --- uploads -------------------------------------------------------------------


def is_allowed_type(mimetype: str) -> bool:
    """Whether a part's content type (lower case, no parameters) may be uploaded."""
    if mimetype in ALLOWED_TYPES:
        return True
    return any(mimetype.startswith(p) and len(mimetype) > len(p) for p in ALLOWED_PREFIXES)


def too_large(max_file_size: int) -> SandboxError:
    return SandboxError(
        413,
        "request_entity_too_large",
        f"File is too large: the maximum size is {max_file_size} bytes.",
    )


def check_file_part(*, has_file_part: bool, filename: str | None) -> None:
    """Refuse an upload without a ``file`` part, or whose part names no file."""
    if not has_file_part:
        raise SandboxError(400, "bad_request", "file field is required.")
    if not filename:
        raise SandboxError(422, "unprocessable_content", "file field must contain a file object.")


def check_size(size: int, max_file_size: int) -> None:
    if size > max_file_size:
        raise too_large(max_file_size)


def check_content_type(mimetype: str) -> None:
    """Refuse a part whose own Content-Type (lower case, no parameters) is not allowed."""
    if not is_allowed_type(mimetype):
        raise SandboxError(
            415,
            "unsupported_media_type",
            f"Unsupported media type '{mimetype or 'none'}' in file part.",
        )


# --- tickets -------------------------------------------------------------------


def parse_portal_claim(value: str | None) -> bool:
    """The ``is_portal_claim`` query parameter: true/false/1/0, any case; absent = false."""
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise validation_error(
        [
            {
                "type": "bool_parsing",
                "loc": ("is_portal_claim",),
                "msg": "Input should be a valid boolean, unable to interpret input",
            }
        ]
    )


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The vendored OpenAPI document, parsed once per process (it never changes)."""
    resource = importlib.resources.files("batch_claims.sandbox").joinpath(SCHEMA_FILE)
    text = resource.read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


@functools.cache
def document_fields() -> tuple[str, ...]:
    """The body fields that carry an uploaded file, as the published document says:
    those whose schema is an object with a ``file_token`` property."""
    schemas = openapi_document()["components"]["schemas"]
    fields = []
    for name, prop in schemas[SENDCLOUD_RATES]["properties"].items():
        target = schemas[str(prop.get("$ref", "")).rsplit("/", 1)[-1]] if "$ref" in prop else prop
        if "file_token" in target.get("properties", {}):
            fields.append(name)
    return tuple(fields)


@functools.cache
def variant_validator(name: str) -> Any:
    """A JSON Schema 2020-12 validator for one body variant; refs resolve in the doc."""
    schema = {
        "$ref": f"#/components/schemas/{name}",
        "components": openapi_document()["components"],
    }
    return Draft202012Validator(schema)


def _problem(error: Any) -> Problem:
    """One jsonschema error in pydantic's words."""
    loc = tuple(error.absolute_path)
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1]
        return {"type": "missing", "loc": (*loc, missing), "msg": "Field required"}
    if kind == "type":
        names = {
            "string": ("string_type", "Input should be a valid string"),
            "integer": ("int_type", "Input should be a valid integer"),
            "number": ("float_type", "Input should be a valid number"),
            "object": ("dict_type", "Input should be a valid dictionary"),
            "boolean": ("bool_type", "Input should be a valid boolean"),
        }
        type_, msg = names.get(error.validator_value, ("type_error", error.message))
        return {"type": type_, "loc": loc, "msg": msg}
    if kind == "enum":
        *rest, last = [f"'{option}'" for option in error.validator_value]
        listed = f"{', '.join(rest)} or {last}" if rest else last
        return {"type": "enum", "loc": loc, "msg": f"Input should be {listed}"}
    return {"type": "value_error", "loc": loc, "msg": error.message}


def schema_problems(body: Mapping[str, object], variant: str) -> list[Problem]:
    """Every problem of ``body`` against one variant, in the schema's field order."""
    properties = list(openapi_document()["components"]["schemas"][variant]["properties"])
    problems: list[Problem] = []
    for error in variant_validator(variant).iter_errors(body):
        problem = _problem(error)
        if problem not in problems:
            problems.append(problem)

    def field_index(problem: Problem) -> int:
        loc = problem["loc"]
        assert isinstance(loc, tuple)
        first = loc[0] if loc else ""
        return properties.index(first) if first in properties else len(properties)

    return sorted(problems, key=field_index)  # stable: nested problems keep schema order


def check_schema(body: Mapping[str, object]) -> None:
    """Accept a body valid against at least one variant; else report the closer one."""
    candidates = [schema_problems(body, variant) for variant in (OWN_CONTRACT, SENDCLOUD_RATES)]
    if any(not problems for problems in candidates):
        return
    raise validation_error(min(candidates, key=len))


def check_file_tokens(body: Mapping[str, object], known: Mapping[str, object]) -> None:
    """Every document field must carry a ``file_token`` this sandbox issued."""
    problems: list[Problem] = []
    for field in document_fields():
        document = body.get(field)
        if not isinstance(document, Mapping):
            continue
        token = document.get("file_token")
        if token is None:
            problems.append(
                {"type": "missing", "loc": (field, "file_token"), "msg": "Field required"}
            )
        elif token not in known:
            problems.append(
                {"type": "value_error", "loc": (field, "file_token"), "msg": "Unknown file token"}
            )
    if problems:
        raise validation_error(problems)


def check_deflection(body: Mapping[str, object], *, is_portal_claim: bool) -> None:
    """The sandbox's deterministic bad cases, checked after the body is valid."""
    tracking_number = str(body.get("tracking_number", ""))
    if tracking_number.startswith("NOTFOUND"):
        raise SandboxError(400, "bad_request", "Parcel not found.")
    if tracking_number.startswith("DELIVERED"):
        raise SandboxError(
            422,
            "unprocessable_content",
            "Cannot create ticket. Reason: Parcel is already delivered",
        )
    contract = body.get("carrier_contract_id")
    if is_portal_claim and contract is None:
        raise SandboxError(
            422, "unprocessable_content", "Portal claims require a carrier contract."
        )
    if contract == 999 and not isinstance(contract, bool):
        raise SandboxError(
            422,
            "unprocessable_content",
            "Carrier support contact is required for own contract parcel",
        )
