"""A digest's language: its fixed text (`catalogue.py`), and numbers, dates and names via Babel.

An owner's language comes from the configuration (`owners = [{email, language}]`, default
English); `Texts` is what the templates call (`t("key", ...)`, `t.plural("key", n, ...)`).
"""

from __future__ import annotations

import datetime as dt
import functools
from urllib.parse import urlsplit

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent

from reviewwatch.config import BusinessConfig
from reviewwatch.digest.catalogue import PLATFORMS, TEXTS, TOPICS, Entry

DEFAULT_LANGUAGE = "en"


def owner_language(config: BusinessConfig | None, recipient: str) -> str:
    """The language the business's owner `recipient` reads digests in (English if unknown)."""
    for owner in config.owners if config is not None else []:
        # str(owner) is its address; an entry set in code as a bare address has no language
        if str(owner).lower() == recipient.lower():
            return str(getattr(owner, "language", DEFAULT_LANGUAGE))
    return DEFAULT_LANGUAGE


class Texts:
    """The digest's words and formats in one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in TEXTS else DEFAULT_LANGUAGE
        self.locale = _locale(self.language)

    def __call__(self, key: str, **values: object) -> str:
        entry = TEXTS[self.language].get(key, TEXTS[DEFAULT_LANGUAGE][key])
        return _pick(entry, "other").format(**values)

    def plural(self, key: str, n: int, **values: object) -> str:
        entry = TEXTS[self.language].get(key, TEXTS[DEFAULT_LANGUAGE][key])
        return _pick(entry, self.locale.plural_form(n)).format(n=self.number(n), **values)

    def number(self, value: float, decimals: int = 0) -> str:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, share: float) -> str:
        return format_percent(share, locale=self.locale)

    def stars(self, value: float, scale: float | None = None, *, fixed: bool = False) -> str:
        """An average rating: "4.7", or with `fixed` always two decimals ("2.30", as measured)."""
        text = format_decimal(round(value, 2), format="0.00" if fixed else "0.0#", locale=self.locale)
        return f"{text}/{format_decimal(scale, locale=self.locale)}" if scale else text

    def rating(self, value: float, scale: float | None = None) -> str:
        """A reviewer's own rating, e.g. "4/5", "4,5/5": no decimals it does not have."""
        text = format_decimal(value, format="#,##0.##", locale=self.locale)
        return f"{text}/{format_decimal(scale, locale=self.locale)}" if scale else text

    def date(self, when: dt.datetime | dt.date) -> str:
        return format_date(when, format="medium", locale=self.locale)

    def datetime(self, when: dt.datetime) -> str:
        """Date, time to the minute and zone abbreviation in the timezone `when` carries."""
        time = format_time(when, format="short", tzinfo=when.tzinfo, locale=self.locale)
        pattern = str(self.locale.datetime_formats["medium"])
        text = pattern.replace("{1}", self.date(when)).replace("{0}", time)
        zone = when.strftime("%Z")
        return f"{text} {zone}" if zone else text

    def language_name(self, code: str | None) -> str:
        """A mention's language in words ("French", "français"); the code if Babel has none."""
        if not code:
            return ""
        name = self.locale.languages.get(code.split("-")[0].lower())
        return name or code

    def topic(self, key: str) -> str:
        """The topic's name as a heading ("Waiting time")."""
        return TOPICS[self.language].get(key) or key.replace("_", " ").capitalize()

    def topic_in_text(self, key: str) -> str:
        """The topic's name inside a sentence: lower-case, except German nouns ("Wartezeit")."""
        name = self.topic(key)
        return name if self.language == "de" else name[:1].lower() + name[1:]


def source_name(source_type: str, url: str | None, target: str | None = None) -> str:
    """What a link is labelled with: the platform's name, else the site's host."""
    if source_type in PLATFORMS:
        return PLATFORMS[source_type]
    for address in (url, target):
        try:
            host = urlsplit(address).hostname if address else None
        except ValueError:
            host = None
        if host:
            return host.removeprefix("www.")
    return source_type.replace("_", " ")


@functools.cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def _pick(entry: Entry, form: str) -> str:
    if isinstance(entry, str):
        return entry
    return entry.get(form) or entry["other"]
