"""Settings, read in one place from environment variables with embedded-stack defaults."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.holiday_notices import HolidayYear, parse_notice, shipped_notices
from domain.policy import CenterPolicy
from store.access import DatabaseRoles

EMBEDDED_DATABASE = "gridcase"
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the calendar's zone, and so the default display zone
DEFAULT_PHOTO_MAX_BYTES = 5 * 1024 * 1024


class ConfigError(ValueError):
    pass


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"{name}={raw}: no such file")
    return path


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _zone(env: Mapping[str, str], name: str, default: str) -> ZoneInfo:
    raw = env.get(name) or default
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}: unknown time zone {raw!r}, e.g. Asia/Shanghai") from None


def _tiles(env: Mapping[str, str]) -> str:
    """A tile URL template for Leaflet: https only (the pages' CSP names its host)."""
    template = env.get("GRIDCASE_MAP_TILES", "").strip()
    if template and not (template.startswith("https://") and "{z}" in template):
        raise ConfigError(
            "GRIDCASE_MAP_TILES: an https:// tile URL template with {z}, {x} and {y} "
            f"(see docs/web.md), not {template!r}"
        )
    return template


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``."""

    per_second: float
    burst: int


def _rate(env: Mapping[str, str], name: str, default: RateLimit) -> RateLimit | None:
    """``RATE,BURST`` (requests per second, requests at once), or ``off``."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() == "off":
        return None
    try:
        rate_text, burst_text = raw.split(",")
        found = RateLimit(float(rate_text), int(burst_text))
    except ValueError:
        found = RateLimit(0, 0)
    if not (found.per_second > 0 and found.burst >= 1):
        raise ConfigError(f"{name}: RATE,BURST (e.g. 10,40) or off, not {raw!r}")
    return found


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    found = _int(env, name, default)
    if found <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {found}")
    return found


# A person's app or console sends a few requests a second at most; an Open311 key is
# shared by every citizen using that app, whose reports come in at a few a second at peak.
DEFAULT_RATE_USER = RateLimit(per_second=10, burst=40)
DEFAULT_RATE_CLIENT = RateLimit(per_second=2, burst=10)
DEFAULT_RATE_ANONYMOUS = RateLimit(per_second=10, burst=40)


@dataclass(frozen=True)
class Settings:
    """Where gridcase keeps its data and finds its servers.

    GRIDCASE_HOME      data directory of the embedded stack (default ./.gridcase)
    DATABASE_URL       postgresql+psycopg://… of an external PostgreSQL (default: embedded)
    TEMPORAL_ADDRESS   host:port of an external Temporal (default: embedded dev server)
    TEMPORAL_NAMESPACE Temporal namespace (default "default")
    GRIDCASE_TEMPORAL_PORT / GRIDCASE_TEMPORAL_UI_PORT  embedded Temporal ports (7233 / 8233)
    GRIDCASE_API_HOST / GRIDCASE_API_PORT  where `up` serves the HTTP API (127.0.0.1 / 8000)
    GRIDCASE_LOG_LEVEL (INFO), GRIDCASE_LOG_FORMAT (auto | json | console)
    GRIDCASE_POLICY    JSON file of the center's policy (stage limits, ladder; see
                       domain/policy.py); default: gridcase's defaults
    GRIDCASE_CALENDAR  JSON file of official holiday notices (the shape of
                       domain/data/calendar_cn.json, see docs/calendar.md); default: the
                       shipped State Council notices. Imported notices override its years;
                       other years are provisional (the holidays library)
    GRIDCASE_PHOTOS_DIR where uploaded photos are kept (default GRIDCASE_HOME/photos)
    GRIDCASE_DISPLAY_TZ  zone times are shown in to people (Asia/Shanghai)
    GRIDCASE_TOKEN_TTL_DAYS  lifetime of a newly issued bearer token (90)
    GRIDCASE_SESSION_IDLE_MINUTES / GRIDCASE_SESSION_MAX_HOURS  a web session ends after
                       this long without a request (30) / this long after sign-in (12)
    GRIDCASE_SIGNIN_MAX_FAILURES / GRIDCASE_SIGNIN_MAX_FAILURES_PER_ADDRESS  failed
                       sign-ins that lock a user id (5) / a client address (20) ...
    GRIDCASE_SIGNIN_LOCKOUT_MINUTES  ... when they fall within this many minutes, which is
                       also how long the lock lasts (15)
    GRIDCASE_MAP_TILES / GRIDCASE_MAP_ATTRIBUTION  a basemap's tile URL template
                       (https://…/{z}/{x}/{y}…) and its attribution for the console's maps;
                       none by default: the grids on a plain background, no network needed
    GRIDCASE_PHOTO_MAX_BYTES  largest photo upload in bytes (default 5 MiB)
    GRIDCASE_RATE_USER / GRIDCASE_RATE_CLIENT / GRIDCASE_RATE_ANONYMOUS  rate limits per
                       bearer token, per Open311 api_key, per address reading Open311
                       without a key: "RATE,BURST" or "off" (api/ratelimit.py)
    GRIDCASE_DB_SUPERVISION_ROLE / GRIDCASE_DB_DISPOSAL_ROLE / GRIDCASE_DB_API_ROLE  the
                       database roles `migrate` grants to (store/access.py) and the
                       embedded stack connects its workers and API as (gridcase_supervision
                       / gridcase_disposal / gridcase_api)
    """

    home: Path
    database_url: str | None
    temporal_address: str | None
    temporal_namespace: str
    temporal_port: int
    temporal_ui_port: int
    log_level: str
    log_format: str
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    policy_file: Path | None = None
    calendar_file: Path | None = None
    photos_dir: Path | None = None  # None: GRIDCASE_HOME/photos (see photos_path)
    display_zone: ZoneInfo = SHANGHAI
    token_ttl_days: int = 90
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    sign_in_max_failures: int = 5
    sign_in_max_failures_per_address: int = 20
    sign_in_lockout_minutes: int = 15
    map_tiles: str = ""
    map_tiles_attribution: str = ""
    photo_max_bytes: int = DEFAULT_PHOTO_MAX_BYTES
    rate_user: RateLimit | None = DEFAULT_RATE_USER
    rate_client: RateLimit | None = DEFAULT_RATE_CLIENT
    rate_anonymous: RateLimit | None = DEFAULT_RATE_ANONYMOUS
    db_roles: DatabaseRoles = field(default_factory=DatabaseRoles)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        log_format = env.get("GRIDCASE_LOG_FORMAT", "auto")
        if log_format not in ("auto", "json", "console"):
            raise ConfigError(f"GRIDCASE_LOG_FORMAT: auto, json or console, not {log_format!r}")
        database_url = env.get("DATABASE_URL") or None
        if database_url and not database_url.startswith("postgresql"):
            raise ConfigError(f"DATABASE_URL must be a postgresql URL, got {database_url!r}")
        if database_url and database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        per_address = _int(env, "GRIDCASE_SIGNIN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1)
        default = DatabaseRoles()
        try:
            roles = DatabaseRoles(
                supervision=env.get("GRIDCASE_DB_SUPERVISION_ROLE") or default.supervision,
                disposal=env.get("GRIDCASE_DB_DISPOSAL_ROLE") or default.disposal,
                api=env.get("GRIDCASE_DB_API_ROLE") or default.api,
            )
        except ValueError as exc:
            raise ConfigError(f"GRIDCASE_DB_*_ROLE: {exc}") from None
        return cls(
            home=Path(env.get("GRIDCASE_HOME", ".gridcase")).absolute(),
            database_url=database_url,
            temporal_address=env.get("TEMPORAL_ADDRESS") or None,
            temporal_namespace=env.get("TEMPORAL_NAMESPACE", "default"),
            temporal_port=_int(env, "GRIDCASE_TEMPORAL_PORT", 7233),
            temporal_ui_port=_int(env, "GRIDCASE_TEMPORAL_UI_PORT", 8233),
            log_level=env.get("GRIDCASE_LOG_LEVEL", "INFO").upper(),
            log_format=log_format,
            api_host=env.get("GRIDCASE_API_HOST", "127.0.0.1"),
            api_port=_int(env, "GRIDCASE_API_PORT", 8000),
            policy_file=_path(env, "GRIDCASE_POLICY"),
            calendar_file=_path(env, "GRIDCASE_CALENDAR"),
            photos_dir=Path(env["GRIDCASE_PHOTOS_DIR"]).absolute()
            if env.get("GRIDCASE_PHOTOS_DIR")
            else None,
            display_zone=_zone(env, "GRIDCASE_DISPLAY_TZ", "Asia/Shanghai"),
            token_ttl_days=_int(env, "GRIDCASE_TOKEN_TTL_DAYS", 90, minimum=1),
            session_idle_minutes=_int(env, "GRIDCASE_SESSION_IDLE_MINUTES", 30, minimum=1),
            session_max_hours=_int(env, "GRIDCASE_SESSION_MAX_HOURS", 12, minimum=1),
            sign_in_max_failures=_int(env, "GRIDCASE_SIGNIN_MAX_FAILURES", 5, minimum=1),
            sign_in_max_failures_per_address=per_address,
            sign_in_lockout_minutes=_int(env, "GRIDCASE_SIGNIN_LOCKOUT_MINUTES", 15, minimum=1),
            map_tiles=_tiles(env),
            map_tiles_attribution=env.get("GRIDCASE_MAP_ATTRIBUTION", ""),
            photo_max_bytes=_positive(env, "GRIDCASE_PHOTO_MAX_BYTES", DEFAULT_PHOTO_MAX_BYTES),
            rate_user=_rate(env, "GRIDCASE_RATE_USER", DEFAULT_RATE_USER),
            rate_client=_rate(env, "GRIDCASE_RATE_CLIENT", DEFAULT_RATE_CLIENT),
            rate_anonymous=_rate(env, "GRIDCASE_RATE_ANONYMOUS", DEFAULT_RATE_ANONYMOUS),
            db_roles=roles,
        )

    def policy(self) -> CenterPolicy:
        if self.policy_file is None:
            return CenterPolicy()
        try:
            return CenterPolicy.from_dict(json.loads(self.policy_file.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"GRIDCASE_POLICY {self.policy_file}: {exc}") from None

    def calendar_notices(self) -> tuple[HolidayYear, ...]:
        """The base official notices: GRIDCASE_CALENDAR's years, else the shipped ones."""
        if self.calendar_file is None:
            return shipped_notices()
        try:
            return parse_notice(json.loads(self.calendar_file.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"GRIDCASE_CALENDAR {self.calendar_file}: {exc}") from None

    @property
    def pg_dir(self) -> Path:
        return self.home / "pg"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def photos_path(self) -> Path:
        return self.photos_dir or self.home / "photos"

    @property
    def db_url(self) -> str:
        """DATABASE_URL, or the embedded server's socket in the data directory."""
        if self.database_url:
            return self.database_url
        return self.embedded_url("postgres")

    def embedded_url(self, role: str) -> str:
        """The embedded server's database as ``role`` (over the socket in the data dir)."""
        return f"postgresql+psycopg://{role}@/{EMBEDDED_DATABASE}?host={self.pg_dir}"

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def temporal_ui_url(self) -> str | None:
        if self.temporal_address:
            return None
        return f"http://127.0.0.1:{self.temporal_ui_port}"
