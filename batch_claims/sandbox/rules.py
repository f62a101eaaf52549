"""The sandbox's error answer, and the upload and query rules, as pure functions
raising ``SandboxError``.

Upload rules follow Sendcloud's file-upload page. Ticket bodies are judged in
``bodies.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

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


def portal_claim_not_taken() -> SandboxError:
    """400 for ``is_portal_claim`` sent to a ticket type that does not take it."""
    return validation_error(
        [
            {
                "type": "extra_forbidden",
                "loc": ("is_portal_claim",),
                "msg": "Extra inputs are not permitted",
            }
        ]
    )
