"""The one typed settings object: a TOML file plus `REVIEWWATCH_*` environment variables.

The file is `reviewwatch.toml` unless `--config PATH` or `REVIEWWATCH_CONFIG` names another.
Environment variables override the file (nested keys with `__`, e.g. `REVIEWWATCH_SMTP__HOST`).
Secrets (the SMTP password, API tokens, a password in `database_url`) are read from the
environment only.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from crawler.settings import CrawlSettings
from reviewwatch.errors import ConfigError
from sentiment.settings import SentimentSettings
from storage.db import PoolOptions
from storage.labels import RatingRule
from storage.sources import CRAWLED_SOURCE_TYPES, FEEDBACK, SOURCE_TYPES, SourceType  # noqa: F401

DEFAULT_CONFIG_FILE = "reviewwatch.toml"
ENV_PREFIX = "REVIEWWATCH_"
# Keys that hold secrets: refused in the file so that they never end up in a repository.
SECRET_KEYS = {
    ("smtp", "password"),
    ("api", "read_tokens"),
    ("api", "write_tokens"),
    ("crawl", "reddit_client_secret"),
    ("feedback", "secret_key"),
}
Stage = Literal["crawl", "score", "snapshot", "digest"]
STAGE_NAMES: tuple[Stage, ...] = ("crawl", "score", "snapshot", "digest")
# URLs that may hold a password: allowed in the file only without one.
SECRET_URL_KEYS = {("workers", "broker_url"), ("workers", "host_budget_url")}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceConfig(_Strict):
    """Where customers speak about a business: one spider, one target."""

    type: SourceType
    url: str | None = None
    handle: str | None = None
    query: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_target(self) -> SourceConfig:
        if self.type == FEEDBACK:
            raise ValueError("feedback is not crawled: answers arrive through `reviewwatch ask`")
        targets = [t for t in (self.url, self.handle, self.query) if t]
        if len(targets) != 1:
            raise ValueError("give exactly one of url, handle or query")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {self.url!r}")
        return self

    @property
    def target(self) -> str:
        return self.url or self.handle or self.query or ""


class ClaimConfig(_Strict):
    """A service level the business declares, overall (no topic) or for one topic."""

    topic: str | None = None
    positive_share: float | None = Field(default=None, ge=0, le=1)
    average_rating: float | None = Field(default=None, ge=0)
    rating_scale: float = Field(default=5.0, gt=0)
    # "We answer every review within 24 hours": the hours, and the share of negative mentions
    # promised an answer within them (1.0: every one).
    response_within_hours: float | None = Field(default=None, gt=0, le=8760)
    response_share: float = Field(default=1.0, ge=0, le=1)
    stated_at: dt.date
    # A prediction for a coming period ("2026-12" or "2026-W50") rather than a claim about now.
    predicted_for: str | None = None

    @model_validator(mode="after")
    def _has_figure(self) -> ClaimConfig:
        if (self.positive_share, self.average_rating, self.response_within_hours) == (None,) * 3:
            raise ValueError(
                "a claim needs positive_share, average_rating or response_within_hours"
            )
        if self.average_rating is not None and self.average_rating > self.rating_scale:
            raise ValueError(
                f"average_rating {self.average_rating} is above rating_scale {self.rating_scale}"
            )
        return self


class DigestConfig(_Strict):
    frequency: Literal["daily", "weekly"] = "daily"
    send_at: dt.time = dt.time(8, 0)
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    negative_threshold: float = Field(default=0.6, ge=0, le=1)
    max_stars: float = Field(default=2.0, ge=1, le=5)
    all_quiet_email: bool = False
    excerpt_chars: int = Field(default=600, ge=50, le=20_000)


# The languages a digest is written in (reviewwatch/digest/catalogue.py holds their text).
DigestLanguage = Literal["en", "fr", "sv", "ru", "de", "es"]


class OwnerConfig(_Strict):
    """A digest recipient: `owners` entries are an address, or a table {email, language}."""

    email: EmailStr
    language: DigestLanguage = "en"

    @model_validator(mode="before")
    @classmethod
    def _from_address(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        # Checked here so that the error names the entry (`owners[0]`), as the user wrote it.
        try:
            validate_email(value)
        except PydanticCustomError as exc:
            raise ValueError(str(exc)) from None
        return {"email": value}

    @field_validator("language", mode="before")
    @classmethod
    def _known_language(cls, value: Any) -> Any:
        known = ("en", "fr", "sv", "ru", "de", "es")
        if value not in known:
            raise ValueError(f"unknown digest language {value!r} (known: {', '.join(known)})")
        return value

    def __str__(self) -> str:
        return str(self.email)


class BusinessConfig(_Strict):
    id: str
    name: str = Field(min_length=1, max_length=200)
    aliases: list[str] = Field(default_factory=list)
    website: str | None = None
    timezone: str = "UTC"
    owners: list[OwnerConfig] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    claims: list[ClaimConfig] = Field(default_factory=list)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    # Other businesses of this configuration to compare with (reviewwatch/gap/benchmark.py).
    competitors: list[str] = Field(
        default_factory=list,
        description="ids of other businesses of this configuration to compare with (the gap "
        "report's benchmark, the API, the dashboard and the digest; see [gap](gap.md#competitors))",
    )
    feedback_question: Literal["recommend", "satisfaction"] | None = Field(
        default=None,
        description="the question this business's customers are asked (default: feedback.question)",
    )
    kind: str | None = Field(
        default=None,
        description="what the business is, where the model has topic heads for that kind of "
        "business (the shipped weights: `hotel`, heads trained on hotel reviews alone, which "
        "read a hotel's rooms as `quality`; see [the model card](../sentiment/MODEL.md#heads-for-a-kind-of-business)); "
        "unset: the general heads (restaurant and hotel sentences). Its scores carry their own "
        "model version, so changing it re-scores the business's mentions",
    )

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(
                f"id {value!r} must be a slug: lower-case letters, digits, '-' or '_'"
            )
        return value

    @field_validator("kind")
    @classmethod
    def _kind_slug(cls, value: str | None) -> str | None:
        if value is not None and not _SLUG.match(value):
            raise ValueError(f"kind {value!r} must be a slug: lower-case letters, digits, '-' or '_'")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)")
        return value

    @property
    def keywords(self) -> list[str]:
        """The name and aliases: what a post must mention to be about this business."""
        return [self.name, *self.aliases]


class SmtpSettings(_Strict):
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str | None = None
    password: SecretStr | None = None  # environment only: REVIEWWATCH_SMTP__PASSWORD
    sender: str = "reviewwatch@localhost"
    timeout_s: float = Field(default=30.0, gt=0)
    ca_file: Path | None = None  # extra CA bundle to trust (a private relay's certificate)


class ApiSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    read_tokens: list[SecretStr] = Field(default_factory=list)  # environment only
    write_tokens: list[SecretStr] = Field(default_factory=list)  # environment only
    cors_origins: list[str] = Field(default_factory=list)
    max_page_size: int = Field(default=500, ge=1, le=10_000)
    warm_every_s: float = Field(
        default=30.0, ge=0, le=86_400,
        description="`serve` computes each business's default gap report ahead, checking this "
        "often whether the store changed; 0: only when asked",
    )


class RatingLabels(_Strict):
    """How a reviewer's rating becomes the label of a rated mention (`storage.labels`)."""

    enabled: bool = Field(
        default=True,
        description="a rated mention's overall label comes from its rating, not the model "
        "(an analyst's correction still wins); off: the model's label counts",
    )
    negative_below: float = Field(
        default=0.375, ge=0, le=1,
        description="ratings below this on the normalised 0..1 scale ((rating - 1) / (scale - 1)) "
        "are negative: 1-2 of 5 stars, 1-4 of 10",
    )
    positive_above: float = Field(
        default=0.625, ge=0, le=1,
        description="ratings above this are positive (4-5 of 5, 7-10 of 10); between the two "
        "thresholds, bounds included, neutral (2.5-3.5 of 5, 5-6 of 10)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> RatingLabels:
        if self.negative_below > self.positive_above:
            raise ValueError(
                f"negative_below ({self.negative_below}) is above positive_above "
                f"({self.positive_above})"
            )
        return self

    def rule(self) -> RatingRule:
        return RatingRule(self.enabled, self.negative_below, self.positive_above)


class GapSettings(_Strict):
    min_mentions: int = Field(default=10, ge=1)
    period_days: int = Field(default=90, ge=1)
    prior_strength: float = Field(default=5.0, ge=0)
    # Where small samples' mean stars are pulled: the middle of the 1..5 scale by default.
    prior_stars: float = Field(default=3.0, ge=1, le=5)
    recency_half_life_days: float | None = Field(default=None, gt=0)
    risk_threshold: float = Field(default=0.15, ge=0, le=1)
    # The shares of unlabelled mentions, corrected for the model's errors (docs/gap.md).
    share_method: Literal["auto", "PACC", "ACC", "EMQ", "EMQ-BCTS", "PCC", "counts"] = Field(
        default="auto",
        description="how unrated mentions' shares are estimated from the model's probabilities "
        "(quapy): `auto` is EMQ-BCTS (EM on probabilities recalibrated by bias-corrected "
        "temperature scaling) calibrated on the business's own rated mentions when there are "
        "enough, else PCC with the shipped held-out data's errors in its interval; `counts` "
        "counts the model's labels with a Wilson interval (uncorrected, sampling error only)",
    )
    share_min_labelled: int = Field(
        default=100,
        ge=1,
        description="rated or corrected mentions (with at least 10 of each label) needed to "
        "calibrate on the business's own mentions instead of the shipped held-out data",
    )
    # The positive share a service claim on the business's own site stands for, by wording.
    own_site_levels: dict[str, float] = Field(
        default_factory=lambda: {"superlative": 0.9, "strong": 0.85, "positive": 0.75}
    )
    rating_labels: RatingLabels = Field(default_factory=RatingLabels)

    @field_validator("own_site_levels")
    @classmethod
    def _levels(cls, value: dict[str, float]) -> dict[str, float]:
        for level, share in value.items():
            if not 0 <= share <= 1:
                raise ValueError(f"own_site_levels.{level}: {share} is not a share between 0 and 1")
        return value


class FeedbackSettings(_Strict):
    """Feedback requests (`reviewwatch ask`) and the page their signed links open."""

    public_url: str = Field(
        default="http://127.0.0.1:8080",
        description="where customers reach `reviewwatch serve`: links are {public_url}/f/{token}",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="signs the links (environment only: REVIEWWATCH_FEEDBACK__SECRET_KEY, "
        "at least 32 characters)",
    )
    expire_days: int = Field(default=30, ge=1, le=365, description="a link works this long")
    cooldown_days: int = Field(
        default=90, ge=0, description="a customer asked within this many days is not asked again"
    )
    question: Literal["recommend", "satisfaction"] = Field(
        default="recommend",
        description="recommend: 0-10 likelihood to recommend (NPS); satisfaction: 1-5",
    )
    public_review_url: str | None = Field(
        default=None,
        description="shown to every respondent after answering, whatever the score (no gating)",
    )
    max_comment_chars: int = Field(
        default=2000, ge=100, le=20_000, description="a longer comment is refused"
    )
    answers_per_minute: int = Field(
        default=10, ge=1, description="feedback posts accepted per client address per minute"
    )

    @field_validator("public_url", "public_review_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value.rstrip("/") if value else value


class FollowupSettings(_Strict):
    """Follow-up of negative mentions: the signed links in the digest (signed with
    `feedback.secret_key`, served by `reviewwatch serve` at `feedback.public_url`)."""

    link_expire_days: int = Field(
        default=14, ge=1, le=365,
        description="a digest's link to mark a mention replied/resolved/dismissed works this long",
    )


class ScheduleSettings(_Strict):
    misfire_grace_s: int = Field(default=3600, ge=1)
    crawl_timeout_s: int = Field(default=3600, ge=1)
    retry_every_s: int = Field(default=300, ge=10)
    # With a broker (`workers.broker_url`): the day's plan. See docs/operations.md.
    plan_every_s: float = Field(
        default=30.0, gt=0, le=3600,
        description="with a broker: how often the scheduler plans cycles and enqueues what is due",
    )
    plan_ahead_s: int = Field(
        default=43_200, ge=60, le=86_000,
        description="with a broker: a cycle is planned this long before its digest time "
        "(its crawl can start that early when its hosts' budgets need it)",
    )
    crawl_margin_s: int = Field(
        default=900, ge=0,
        description="with a broker: crawls are planned to finish this long before the digest "
        "time, leaving it for scoring and the snapshot",
    )
    requeue_after_s: int = Field(
        default=3600, ge=30,
        description="with a broker: a stage enqueued this long ago that no worker has started "
        "is published again (its message may have been lost)",
    )


class WorkerSettings(_Strict):
    """Section `[workers]`: the broker that carries stage tasks to `reviewwatch worker`s."""

    broker_url: str | None = Field(
        default=None,
        description="AMQP URL of the broker (RabbitMQ), e.g. `amqp://rw@mq.internal:5672//`; "
        "empty: every stage runs in the scheduler's process, as without workers. A URL holding "
        "a password is read from the environment only (REVIEWWATCH_WORKERS__BROKER_URL)",
    )
    host_budget_url: str | None = Field(
        default=None,
        description="URL of the Redis server (`redis://host:6379/0`) holding the per-host "
        "politeness budget shared by every worker; empty: each worker process keeps its own (run "
        "one crawl worker). A URL holding a password is read from the environment only",
    )
    queue_prefix: str = Field(
        default="reviewwatch", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="names of the broker's queues (`<prefix>.crawl`, ...) and of the shared "
        "budget's Redis keys: deployments sharing a broker use different prefixes",
    )
    queues: list[Stage] = Field(
        default_factory=lambda: list(STAGE_NAMES),
        description="queues a `reviewwatch worker` takes tasks from (`--queues` overrides)",
    )
    concurrency: int = Field(
        default=32, ge=1, le=1000,
        description="tasks one worker process runs at once (threads; crawls in flight share one "
        "Scrapy engine): enough to keep the worker's core busy while crawls wait for their hosts, "
        "no more, since each crawl in flight costs CPU (docs/operations.md, \"Threads per "
        "worker\"); `--concurrency` overrides",
    )
    stage_lease_s: int = Field(
        default=60, ge=5,
        description="a running stage whose worker has not reported for this long is taken over "
        "when its task is delivered again (the worker was lost)",
    )
    metrics_port: int = Field(
        default=9808, ge=0, le=65535,
        description="HTTP port of the worker's Prometheus metrics (`/metrics`); 0: none; "
        "`--metrics-port` overrides",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="address the metrics port listens on",
    )


class AlertSettings(_Strict):
    """Section `[alerts]`: spike alerts after each crawl (`reviewwatch alerts`, docs/alerts.md)."""

    enabled: bool = Field(
        default=True, description="check for spikes after every crawl of the daemon's cycle"
    )
    history_days: int = Field(
        default=28, ge=14, le=120,
        description="trailing days (24-hour windows) the prediction is taken from",
    )
    method: Literal["share", "count"] = Field(
        default="share",
        description="`share`: the last 24 hours' negative mentions judged against all the "
        "business's mentions of the same 24 hours and the negative share of its history; "
        "`count`: against the counts of its history alone (a rise of all mentions alike "
        "alerts too; measured at level 0.999, min_count 5: docs/alerts.md)",
    )
    level: float = Field(
        default=0.997, ge=0.9, lt=1.0,
        description="an alert needs more negative mentions in the last 24 hours than this "
        "quantile of the predicted count",
    )
    min_count: int = Field(
        default=4, ge=1,
        description="and at least this many (a business with little history alerts on no less)",
    )
    surge_level: float = Field(
        default=0.99999, ge=0.0, lt=1.0,
        description="with method `share`: also alert when the negative count alone exceeds this "
        "quantile of the count model, so that complaints piling up with every other kind of "
        "mention (a news story, an outage) still warn; 0 turns it off",
    )
    max_listed: int = Field(
        default=20, ge=1, le=200, description="mentions an alert email quotes at most"
    )


class Settings(BaseSettings):
    """Everything reviewwatch reads from outside, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Path("data")
    # Not in repr(): a URL from the environment may carry a password.
    database_url: str = Field(default="", repr=False)
    database_pool_size: int = Field(
        default=5, ge=1, le=100,
        description="connections each process keeps open to the store (per `serve` worker)",
    )
    database_max_overflow: int = Field(
        default=10, ge=0, le=100,
        description="extra connections opened when all pooled ones are busy (on PostgreSQL "
        "kept open once opened, not reopened at every busy moment); `serve` admits at most "
        "pool size + overflow requests to the store at once per worker",
    )
    database_pool_timeout_s: float = Field(
        default=30.0, gt=0, le=600,
        description="seconds a request waits for a free connection (an API request: for its "
        "turn at the store) before it gets 503 with Retry-After",
    )
    languages: list[str] = Field(default_factory=lambda: ["en", "fr", "sv", "ru", "de", "es"])
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    sentiment: SentimentSettings = Field(default_factory=SentimentSettings)
    gap: GapSettings = Field(default_factory=GapSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)
    followup: FollowupSettings = Field(default_factory=FollowupSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    businesses: list[BusinessConfig] = Field(default_factory=list)

    # Where the settings came from; not a setting itself.
    _source_file: Path | None = None

    @field_validator("businesses")
    @classmethod
    def _unique_ids(cls, value: list[BusinessConfig]) -> list[BusinessConfig]:
        seen: set[str] = set()
        for business in value:
            if business.id in seen:
                raise ValueError(f"duplicate business id {business.id!r}")
            seen.add(business.id)
        _check_competitors(value)
        return value

    @model_validator(mode="after")
    def _known_kinds(self) -> Settings:
        """A business's kind must have topic heads in the weights it is scored with (no torch:
        the heads' files are listed, not loaded)."""
        kinded = [b for b in self.businesses if b.kind is not None]
        if not kinded:
            return self
        from sentiment.kinds import known_kinds
        from sentiment.topic_quality import SHIPPED_WEIGHTS

        wdir = Path(self.sentiment.weights_dir) if self.sentiment.weights_dir else SHIPPED_WEIGHTS
        known = known_kinds(wdir)
        for b in kinded:
            if b.kind not in known:
                raise ValueError(f"business {b.id!r}: kind {b.kind!r} has no topic heads in {wdir} "
                                 f"(known kinds: {', '.join(known) or 'none'})")
        return self

    def kind_of(self, business_id: str) -> str | None:
        """The business's kind (None: general; also for a business no longer configured)."""
        for business in self.businesses:
            if business.id == business_id:
                return business.kind
        return None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's content arrives as init kwargs; the environment must win over it.
        return (env_settings, init_settings)

    @property
    def source_file(self) -> Path | None:
        return self._source_file

    def feedback_question(self, business_id: str) -> str:
        """The business's own feedback question, else `feedback.question` (also for a business
        that has left the configuration while its links still work)."""
        for business in self.businesses:
            if business.id == business_id and business.feedback_question:
                return business.feedback_question
        return self.feedback.question

    def business(self, business_id: str) -> BusinessConfig:
        for business in self.businesses:
            if business.id == business_id:
                return business
        known = ", ".join(b.id for b in self.businesses) or "none configured"
        raise ConfigError(f"unknown business {business_id!r} (known: {known})")

    @property
    def pool_options(self) -> PoolOptions:
        return PoolOptions(
            self.database_pool_size, self.database_max_overflow, self.database_pool_timeout_s
        )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'reviewwatch.db').as_posix()}"


def _check_competitors(businesses: list[BusinessConfig]) -> None:
    """Each competitor is another business of the same configuration, named once."""
    known = {b.id for b in businesses}
    for business in businesses:
        named: set[str] = set()
        for slug in business.competitors:
            where = f"business {business.id!r}: competitor {slug!r}"
            if slug == business.id:
                raise ValueError(f"{where} is the business itself")
            if slug not in known:
                others = ", ".join(sorted(known - {business.id})) or "none"
                raise ValueError(f"{where} is not a business of this configuration (known: {others})")
            if slug in named:
                raise ValueError(f"{where} is named twice")
            named.add(slug)


def config_path(explicit: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path:
    """The configuration file to read: the option, else REVIEWWATCH_CONFIG, else the default."""
    if explicit:
        return Path(explicit)
    return Path(environ.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_CONFIG_FILE)


def load_settings(path: Path, *, required: bool = False) -> Settings:
    """Read and validate the settings; raise ConfigError naming file, key and problem."""
    data: dict[str, Any] = {}
    exists = path.is_file()
    if exists:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        _refuse_secrets_in_file(path, data)
        _refuse_url_passwords_in_file(path, data)
    elif required:
        raise ConfigError(f"{path}: no such configuration file (create one with `reviewwatch init`)")
    data.pop("config", None)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(path if exists else None, exc)) from None
    except SettingsError as exc:  # an environment value that is not valid JSON
        raise ConfigError(_describe_env_error(exc)) from None
    if exists:
        settings._source_file = path
        if not settings.data_dir.is_absolute():
            # A relative data directory lives beside the file that names it.
            settings.data_dir = (path.parent / settings.data_dir).resolve()
    return settings


def _refuse_secrets_in_file(path: Path, data: Mapping[str, Any]) -> None:
    url = data.get("database_url")
    if isinstance(url, str) and url_has_password(url):
        # The message never repeats the URL: it holds the password.
        raise ConfigError(
            f"{path}: database_url: a password is a secret and is not read from files; "
            f"put the URL in {ENV_PREFIX}DATABASE_URL instead (or use a passwordless URL: "
            "peer/trust authentication, ~/.pgpass or PGPASSWORD)"
        )
    for section, key in SECRET_KEYS:
        block = data.get(section)
        if isinstance(block, Mapping) and key in block:
            env = f"{ENV_PREFIX}{section.upper()}__{key.upper()}"
            raise ConfigError(
                f"{path}: {section}.{key}: secrets are not read from files; set {env} instead"
            )


def _refuse_url_passwords_in_file(path: Path, data: Mapping[str, Any]) -> None:
    for section, key in SECRET_URL_KEYS:
        block = data.get(section)
        value = block.get(key) if isinstance(block, Mapping) else None
        if not isinstance(value, str):
            continue
        if url_has_password(value):
            env = f"{ENV_PREFIX}{section.upper()}__{key.upper()}"
            raise ConfigError(
                f"{path}: {section}.{key}: a URL with a password is a secret, not read from files; "
                f"set {env} instead"
            )


def url_has_password(url: str) -> bool:
    """Whether a database URL carries a password, in its user part or as a query parameter."""
    from urllib.parse import parse_qs, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return False  # not a URL: the store says so, without the file's help
    userinfo = parts.netloc.rpartition("@")[0]
    return bool(userinfo.partition(":")[2]) or "password" in {
        key.lower() for key in parse_qs(parts.query, keep_blank_values=True)
    }


def _env_variable(loc: tuple[int | str, ...], environ: Mapping[str, str]) -> str | None:
    """The REVIEWWATCH_ variable that set the key at `loc` (its own, or a JSON one above it)."""
    names = {name.upper() for name in environ}
    parts = [str(p) for p in loc if isinstance(p, str)]
    for depth in range(len(parts), 0, -1):
        name = ENV_PREFIX + "__".join(parts[:depth]).upper()
        if name in names:
            return name
    return None


def _describe_env_error(exc: SettingsError) -> str:
    """pydantic-settings' JSON error, naming the variable (never its value, maybe a secret)."""
    match = re.search(r'field "([^"]+)"', str(exc))
    field = match.group(1) if match else ""
    prefix = (ENV_PREFIX + field.upper()) if field else ENV_PREFIX
    names = sorted(n for n in (k.upper() for k in os.environ) if n.startswith(prefix))
    cause = exc.__cause__
    reason = f"not valid JSON ({cause})" if isinstance(cause, ValueError) else str(exc)
    where = ", ".join(names) or f"{prefix}*"
    return f"environment: {where}: {reason}; lists and tables are given as JSON, e.g. '[\"a\", \"b\"]'"


def _describe(path: Path | None, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        key = _dotted(error["loc"])
        variable = _env_variable(error["loc"], os.environ)
        if variable:
            where = f"environment variable {variable}"
        else:
            where = str(path) if path else "environment"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "literal_error" and key.endswith(".type"):
            message = f"unknown source type {error.get('input')!r} (known: {', '.join(CRAWLED_SOURCE_TYPES)})"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        lines.append(f"{where}: {key}: {message}")
    return "\n".join(lines)


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
