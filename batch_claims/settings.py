"""Settings of one run: credentials, base URL, limits and defaults, from the environment,
the TOML config file and the command-line flags (flags win, then env, then file)."""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import platformdirs

from batch_claims.clock import UNIT_SECONDS
from batch_claims.columns import BY_NAME, CONTRACT_TYPE, Variant, normalise_header
from batch_claims.errors import InputError
from batch_claims.limits import Limit, Scope
from batch_claims.ticket_types import TYPES, ClaimWindow, TicketType, ticket_type_of

DEFAULT_BASE_URL = "https://panel.sendcloud.sc/api/v3"
DEFAULT_TOKEN_URL = "https://account.sendcloud.com/oauth2/token/"
DEFAULT_CONFIG_NAME = "batch-claims.toml"


class AuthKind(StrEnum):
    """How the API keys are sent: HTTP Basic, or OAuth2 client credentials."""

    BASIC = "basic"
    OAUTH2 = "oauth2"


class SendOrder(StrEnum):
    """The order a submit hands its claims to the API in: the sheet's, or the most
    urgent claim window first (the results stay in sheet order either way)."""

    SHEET = "sheet"
    DEADLINE = "deadline"


def default_windows() -> dict[TicketType, ClaimWindow]:
    """Each type's claim window as ``ticket_types`` defines it."""
    return {kind: spec.window for kind, spec in TYPES.items()}


@dataclass(frozen=True)
class Settings:
    base_url: str = DEFAULT_BASE_URL
    base_url_from: str = "SENDCLOUD_BASE_URL"  # where it was set, for messages
    auth: AuthKind = AuthKind.BASIC
    public_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    token_url: str = DEFAULT_TOKEN_URL
    ticket_limit: Limit = Limit(15, 60.0)
    request_limit: Limit = Limit(100, 60.0)
    burst_limit: Limit = Limit(15, 1.0)
    limit_margin: float = 0.0  # extra seconds added to every window (clock/latency skew)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    token_max_age: timedelta = timedelta(hours=24)
    default_variant: Variant = Variant.SENDCLOUD_RATES
    # The ticket type of a row whose ticket_type cell is blank on a sheet whose name
    # names no type.
    default_ticket_type: TicketType = TicketType.DAMAGE
    # The window Sendcloud recommends filing each type in ([windows] in the config).
    windows: Mapping[TicketType, ClaimWindow] = field(default_factory=default_windows)
    order: SendOrder = SendOrder.SHEET
    aliases: Mapping[str, str] = field(default_factory=dict)
    journal: Path | None = None
    photos: Path | None = None
    decimal_comma: bool | None = None  # None: read each amount by its shape / the file
    hold_back: bool = True
    sandbox: bool = False

    def __repr__(self) -> str:
        shown = "set" if self.secret_key else "unset"
        return (
            f"Settings(base_url={self.base_url!r}, auth={self.auth!r}, "
            f"public_key={'set' if self.public_key else 'unset'}, secret_key={shown}, "
            f"ticket_limit={self.ticket_limit}, request_limit={self.request_limit}, "
            f"burst_limit={self.burst_limit})"
        )

    @property
    def limits(self) -> dict[str, Limit]:
        return {
            Scope.TICKET: self.ticket_limit,
            Scope.REQUEST: self.request_limit,
            Scope.BURST: self.burst_limit,
        }

    @property
    def account(self) -> str:
        """Who the journal belongs to: the base URL and a hash of the public key, so
        workbooks and logs never show a key."""
        if self.sandbox:
            return "local sandbox"
        key = hashlib.sha256(self.public_key.encode()).hexdigest()[:12]
        return f"key {key} at {self.base_url}"

    def default_journal(self) -> Path:
        digest = hashlib.sha256(self.account.encode()).hexdigest()[:16]
        return Path(platformdirs.user_data_dir("batch-claims")) / f"journal-{digest}.sqlite3"

    def journal_path(self) -> Path:
        return self.journal if self.journal is not None else self.default_journal()

    def require_journal(self) -> Path:
        """The journal a command that only reads it uses; without the API keys there is
        no telling which account's journal that is, unless one was named."""
        if self.journal is None and not self.sandbox and not self.public_key:
            raise InputError(
                "which journal? The journal is kept per API account, and "
                "SENDCLOUD_PUBLIC_KEY is not set: set SENDCLOUD_PUBLIC_KEY and "
                "SENDCLOUD_SECRET_KEY (the keys the claims were sent with), or pass "
                "--journal FILE"
            )
        return self.journal_path()

    def require_credentials(self) -> None:
        if not self.public_key or not self.secret_key:
            raise InputError(
                "set SENDCLOUD_PUBLIC_KEY and SENDCLOUD_SECRET_KEY (your Sendcloud API keys), "
                "or use --sandbox to try the local sandbox"
            )

    def with_sandbox(self, base_url: str, token_url: str) -> Settings:
        """The same settings pointed at a local sandbox, with throw-away keys of its own:
        the user's real keys never go to it (nor through a proxy on the way)."""
        return replace(
            self,
            base_url=base_url,
            token_url=token_url,
            public_key=f"sandbox-{secrets.token_hex(4)}",
            secret_key=secrets.token_urlsafe(24),
            sandbox=True,
        )


class ConfigFile(dict[str, Any]):
    """The parsed TOML config and the file it came from, so a bad value is told with
    the file and the key, not a command-line flag."""

    def __init__(self, data: Mapping[str, Any], path: Path | None = None) -> None:
        super().__init__(data)
        self.path = path


# The config's sections and their keys ([columns] takes any header, [windows] a key per
# ticket type that ``_windows`` checks; journal is top-level).
CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "sendcloud": ("base_url", "auth", "token_url"),
    "limits": ("ticket", "request", "burst", "margin"),
    "defaults": (
        "contract_type",
        "ticket_type",
        "photos",
        "decimal_comma",
        "token_max_age",
        "order",
    ),
}
FREE_SECTIONS = ("columns", "windows")
MIN_AGE_HOURS = "min_age_hours"
MAX_WINDOW_DAYS = 366
TOP_LEVEL_KEYS = ("journal",)


def load_config(path: Path | None, cwd: Path | None = None) -> ConfigFile:
    """The TOML config: the given file, else batch-claims.toml in the working directory."""
    if path is None:
        candidate = (cwd or Path.cwd()) / DEFAULT_CONFIG_NAME
        if not candidate.is_file():
            return ConfigFile({})
        path = candidate
    try:
        with path.open("rb") as handle:
            return ConfigFile(tomllib.load(handle), path)
    except FileNotFoundError:
        raise InputError(f"config file {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"config file {path} cannot be read: {exc}") from None


def _check_layout(config: Mapping[str, Any], name: str) -> None:
    """Every section a table and every key one batch-claims reads: a misspelt key would
    otherwise be ignored without a word."""
    for section, value in config.items():
        if section in TOP_LEVEL_KEYS:
            continue
        if section not in CONFIG_KEYS and section not in FREE_SECTIONS:
            known = ", ".join([*(f"[{s}]" for s in (*CONFIG_KEYS, *FREE_SECTIONS)), "journal"])
            raise InputError(f"{name}: unknown key {section!r} (expected {known})")
        if not isinstance(value, Mapping):
            raise InputError(f"{name}, [{section}]: must be a table ([{section}] on its own line)")
        if section in FREE_SECTIONS:
            continue
        for key in value:
            if key not in CONFIG_KEYS[section]:
                raise InputError(
                    f"{name}, [{section}] {key}: unknown key "
                    f"(expected {', '.join(CONFIG_KEYS[section])})"
                )


def _limit(value: object, where: str) -> Limit:
    if isinstance(value, Limit):
        return value
    try:
        return Limit.parse(str(value))
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


def parse_age(text: str, where: str = "--token-max-age") -> timedelta:
    """ "24h", "90m", "2d", "3600s" or a bare number of hours."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if match is None:
        raise InputError(f"{where}: expected a duration such as 24h, 90m or 2d; got {text!r}")
    number, unit = float(match.group(1)), match.group(2) or "h"
    return timedelta(seconds=number * UNIT_SECONDS[unit])


def _seconds(value: object, where: str) -> float:
    try:
        number = float(str(value))
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number >= 0):
        raise InputError(f"{where}: expected a number of seconds ≥ 0; got {value!r}")
    return number


def _aliases(table: Mapping[str, Any], name: str) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for header, target in table.items():
        if str(target) not in BY_NAME:
            raise InputError(
                f"{name}, [columns] {header!r}: maps to {target!r}, which is not a column "
                f"(columns: {', '.join(BY_NAME)})"
            )
        aliases[normalise_header(str(header))] = str(target)
    return aliases


def _windows(table: Mapping[str, Any], name: str) -> dict[TicketType, ClaimWindow]:
    """[windows]: ``<ticket type> = DAYS`` (whole days after delivery, or false for no
    such window) and ``min_age_hours = HOURS`` (for every type that has a least age; 0 or
    false for none); every other type keeps the window ``ticket_types`` gives it."""
    days: dict[TicketType, float | None] = {}
    hours: float | None = None
    hours_given = False
    for key, value in table.items():
        where = f"{name}, [windows] {key}"
        kind = next((k for k in TicketType if k.value == key.replace("_", "-")), None)
        if key.replace("-", "_") == MIN_AGE_HOURS:
            number = float(value) if type(value) in (int, float) else math.nan
            if value is not False and not 0 <= number <= 24 * MAX_WINDOW_DAYS:
                raise InputError(
                    f"{where}: expected a number of hours from 0 to {24 * MAX_WINDOW_DAYS}, "
                    f"or false for none; got {value!r}"
                )
            hours, hours_given = (number or None) if value is not False else None, True
        elif kind is None:
            keys = ", ".join((MIN_AGE_HOURS, *(k.value for k in TicketType)))
            raise InputError(f"{where}: unknown key (expected {keys})")
        elif kind in days:
            raise InputError(f"{where}: {kind.value} is given twice")
        elif value is not False and (type(value) is not int or not 1 <= value <= MAX_WINDOW_DAYS):
            raise InputError(
                f"{where}: expected a whole number of days after delivery from 1 to "
                f"{MAX_WINDOW_DAYS}, or false for no window; got {value!r}"
            )
        else:
            days[kind] = None if value is False else float(value)
    windows = default_windows()
    for kind, window in windows.items():
        age = window.min_age_hours
        if age is not None and hours_given:
            age = hours
        after = days.get(kind, window.days_after_delivery)
        windows[kind] = ClaimWindow(min_age_hours=age, days_after_delivery=after)
    return windows


def build_settings(
    config: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    **flags: Any,
) -> Settings:
    """Merge config file, environment and flags (a flag of None is "not given").

    A bad value is told with where it came from: the flag, the environment variable, or
    the config file and its key."""
    env = os.environ if env is None else env
    source = config.path if isinstance(config, ConfigFile) else None
    name = str(source) if source is not None else "the config file"
    _check_layout(config, name)
    values: dict[str, Any] = {}

    def pick(flag: str, env_name: str | None, section: str | None, key: str) -> tuple[Any, str]:
        """The value and where it came from: the flag, else the variable, else the file."""
        if flags.get(flag) is not None:
            return flags[flag], "--" + flag.replace("_", "-")
        if env_name and env.get(env_name):
            return env[env_name], env_name
        table = config.get(section, {}) if section is not None else config
        return table.get(key), (f"{name}, [{section}] {key}" if section else f"{name}, {key}")

    base_url, where = pick("base_url", "SENDCLOUD_BASE_URL", "sendcloud", "base_url")
    if base_url:
        values["base_url"] = str(base_url).rstrip("/")
        values["base_url_from"] = where
    auth, where = pick("auth", "SENDCLOUD_AUTH", "sendcloud", "auth")
    if auth:
        text = str(auth).lower()
        if text not in {kind.value for kind in AuthKind}:
            raise InputError(f"{where}: must be basic or oauth2, not {text!r}")
        values["auth"] = AuthKind(text)
    token_url, _ = pick("token_url", "SENDCLOUD_TOKEN_URL", "sendcloud", "token_url")
    if token_url:
        values["token_url"] = str(token_url)
    values["public_key"] = env.get("SENDCLOUD_PUBLIC_KEY", "").strip()
    values["secret_key"] = env.get("SENDCLOUD_SECRET_KEY", "").strip()

    for setting, env_name in (
        ("ticket_limit", "BATCH_CLAIMS_TICKET_LIMIT"),
        ("request_limit", "BATCH_CLAIMS_REQUEST_LIMIT"),
        ("burst_limit", "BATCH_CLAIMS_BURST_LIMIT"),
    ):
        value, where = pick(setting, env_name, "limits", setting.removesuffix("_limit"))
        if value is not None:
            values[setting] = _limit(value, where)
    margin, where = pick("limit_margin", None, "limits", "margin")
    if margin is not None:
        values["limit_margin"] = _seconds(margin, where)

    variant, where = pick("contract_type", None, "defaults", CONTRACT_TYPE)
    if variant is not None:
        try:
            values["default_variant"] = Variant(str(variant))
        except ValueError:
            raise InputError(
                f"{where}: must be own_contract or sendcloud_rates, not {variant!r}"
            ) from None
    ticket_type, where = pick("ticket_type", None, "defaults", "ticket_type")
    if ticket_type is not None:
        found = ticket_type_of(str(ticket_type))
        if found is None:
            kinds = ", ".join(kind.value for kind in TicketType)
            raise InputError(f"{where}: must be a ticket type ({kinds}), not {ticket_type!r}")
        values["default_ticket_type"] = found
    if "columns" in config:
        values["aliases"] = _aliases(config["columns"], name)
    if "windows" in config:
        values["windows"] = _windows(config["windows"], name)
    order, where = pick("order", None, "defaults", "order")
    if order is not None:
        if str(order) not in {kind.value for kind in SendOrder}:
            raise InputError(f"{where}: must be sheet or deadline, not {order!r}")
        values["order"] = SendOrder(str(order))
    journal, _ = pick("journal", "BATCH_CLAIMS_JOURNAL", None, "journal")
    if journal:
        values["journal"] = Path(str(journal)).expanduser()
    photos, _ = pick("photos", None, "defaults", "photos")
    if photos:
        values["photos"] = Path(str(photos)).expanduser()
    token_max_age, where = pick("token_max_age", None, "defaults", "token_max_age")
    if token_max_age is not None:
        values["token_max_age"] = parse_age(str(token_max_age), where)
    decimal, where = pick("decimal_comma", None, "defaults", "decimal_comma")
    if decimal is not None:
        if not isinstance(decimal, bool):
            raise InputError(f"{where}: must be true or false, not {decimal!r}")
        values["decimal_comma"] = decimal
    if flags.get("hold_back") is not None:
        values["hold_back"] = bool(flags["hold_back"])
    return Settings(**values)
