"""The crawl's settings (section `[crawl]`) and the Scrapy settings built from them: politeness,
retries, timeouts, sizes, our components."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class CrawlSettings(BaseModel):
    """Section `[crawl]`: politeness, retries, limits and credentials of every crawl."""

    model_config = ConfigDict(extra="forbid")

    contact: str = Field(default="ops@example.invalid", description="Contact address in the User-Agent.")
    concurrent_per_domain: int = Field(default=1, ge=1, le=2)
    download_delay: float = Field(default=1.0, ge=0)
    autothrottle: bool = True
    first_crawl_pages: int = Field(default=5, ge=1)
    max_pages: int = Field(default=50, ge=1)
    timeout_s: float = Field(default=30.0, gt=0)
    max_response_bytes: int = Field(default=10_000_000, gt=0)
    max_redirects: int = Field(default=5, ge=0, le=20)
    retries: int = Field(default=3, ge=0, le=10)
    text_max_chars: int = Field(default=20_000, ge=100)
    # Retry waits: backoff_s * 2**attempt, or the server's Retry-After, never above max_wait_s.
    retry_backoff_s: float = Field(default=2.0, ge=0)
    retry_max_wait_s: float = Field(default=120.0, ge=0)
    own_site_max_pages: int = Field(default=10, ge=1)
    store_batch_size: int = Field(default=500, ge=1, le=10_000)
    # Reddit's API needs an app's credentials (https://www.reddit.com/prefs/apps); secret: env only.
    reddit_client_id: str | None = None
    reddit_client_secret: SecretStr | None = None


USER_AGENT = "reviewwatch/0.1 (+review monitoring; contact: {contact})"

PIPELINES = {
    "crawler.pipelines.NormalisePipeline": 100,
    "crawler.pipelines.ValidatePipeline": 200,
    "crawler.pipelines.DedupePipeline": 300,
    "crawler.pipelines.StorePipeline": 400,
}


# Scrapy's defaults less DNS failures: an unknown host stays unknown for the seconds a retry
# waits, so retrying it only delays the report.
RETRY_EXCEPTIONS: list[str | type[Exception]] = [
    "scrapy.exceptions.DownloadConnectionRefusedError",
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectError",
    "twisted.internet.error.ConnectionLost",
    OSError,  # an empty compressed response (DNSLookupError, also one, is refused by the middleware)
    "scrapy.core.downloader.handlers.http11.TunnelError",
]


def scrapy_settings(crawl: CrawlSettings, log_level: str = "INFO") -> dict[str, Any]:
    """The settings every reviewwatch crawler runs with."""
    return {
        "BOT_NAME": "reviewwatch",
        "USER_AGENT": USER_AGENT.format(contact=crawl.contact),
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_domain,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 1.0),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrent_per_domain),
        "DOWNLOAD_TIMEOUT": crawl.timeout_s,
        "DOWNLOAD_MAXSIZE": crawl.max_response_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "REDIRECT_MAX_TIMES": crawl.max_redirects,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": crawl.retries,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "RETRY_EXCEPTIONS": RETRY_EXCEPTIONS,
        # The source's run reports a request that failed for good, in one line.
        "RETRY_GIVE_UP_LOG_LEVEL": "DEBUG",
        "RW_RETRY_BACKOFF_S": crawl.retry_backoff_s,
        "RW_RETRY_MAX_WAIT_S": crawl.retry_max_wait_s,
        "RW_TEXT_MAX_CHARS": crawl.text_max_chars,
        "RW_STORE_BATCH_SIZE": crawl.store_batch_size,
        "RW_SITE_CONCURRENCY": crawl.concurrent_per_domain,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
            "crawler.middlewares.RateLimitMiddleware": 560,
            # Last before the download, first after it: the slot is held only while fetching.
            "crawler.middlewares.SharedPolitenessMiddleware": 990,
        },
        "ITEM_PIPELINES": PIPELINES,
        "EXTENSIONS": {"crawler.recorder.RunRecorder": 10},
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": log_level,
        # The command line has configured logging already: Scrapy adds no handler of its own.
        "LOG_INSTALL_ROOT_HANDLER": False,
        "LOGSTATS_INTERVAL": 0,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    }
