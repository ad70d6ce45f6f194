"""Service settings from flags or TARIFF_* environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE = Path("tariff.sqlite")


class Settings(BaseSettings):
    """Everything `tariff serve` can be told; env names are TARIFF_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="TARIFF_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=50051, ge=0, le=65535, description="port; 0 = pick a free one")
    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATABASE}",
        description="SQLAlchemy URL: sqlite:///file.sqlite or postgresql+psycopg://...",
    )
    workers: int = Field(
        default=4, ge=1, le=64, description="threads for blocking catalog reads and writes"
    )
    grace_seconds: float = Field(
        default=10.0, ge=0, description="how long SIGTERM waits for calls in flight"
    )
    refresh_seconds: float = Field(
        default=5.0,
        ge=0,
        description="how often to look for versions published by other processes; 0 = never",
    )
    max_message_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024 * 1024, description="largest gRPC message accepted"
    )
    migrate: bool = Field(default=True, description="apply database migrations at start-up")
    time_zone: str = Field(
        default="Asia/Shanghai",
        description="the operator's time zone: rating periods (calendar months), sale dates",
    )
    max_rate_events: int = Field(
        default=10_000,
        ge=1,
        description="most usage events one Rate message (or RateStream batch) may carry",
    )
    max_batch_rows: int = Field(
        default=100_000,
        ge=1,
        description="most usage events one RateBatch call may carry",
    )
    max_response_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=64 * 1024,
        description="largest Rate answer sent: the 4 MiB a gRPC client accepts by default",
    )
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="serve Prometheus /metrics on this port"
    )
    metrics_host: str = Field(default="127.0.0.1", description="address /metrics listens on")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="the least severe log records written"
    )
    log_format: Literal["json", "text"] = Field(
        default="text", description="json: one JSON object a line (for a log shipper)"
    )
    access_log: bool = Field(default=True, description="one log line per call")
    processes: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="server processes sharing the port (SO_REUSEPORT); unset = one per core",
    )
    max_connection_age_seconds: float = Field(
        default=0, ge=0, description="close connections this old (clients re-resolve); 0 = never"
    )
    # security (tariff.security): TLS, identities; see docs/operations.md#security
    tls_cert: Path | None = Field(default=None, description="PEM certificate chain: serve TLS")
    tls_key: Path | None = Field(default=None, description="PEM private key of tls_cert")
    tls_client_ca: Path | None = Field(
        default=None, description="PEM CA: require client certificates it signed (mTLS)"
    )
    token_keys: Path | None = Field(
        default=None, description="JSON key file: accept bearer JWTs signed by its keys"
    )
    client_subjects: Path | None = Field(
        default=None, description="JSON map: client-certificate subject -> principal, roles"
    )
    insecure: bool = Field(
        default=False, description="allow plaintext or no identities on a non-loopback address"
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name such as Asia/Shanghai)"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)
