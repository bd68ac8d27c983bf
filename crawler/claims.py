"""Service claims in a business's own words ("excellent customer service", "the friendliest
staff in town") found in its site's text, in en/fr/sv/ru/de/es, with the level they claim.

A level (superlative, strong, positive) becomes a positive share through `gap.own_site_levels`;
a stated satisfaction percentage ("98 % of our guests are satisfied") is taken as it is.
Matching is lexical and errs on the side of precision: a plain positive word counts only
next to a topic word; a superlative alone is a claim about the whole business.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

# Entries ending in "*" are word prefixes; the others whole words. Text is casefolded NFC.
TOPICS: dict[str, tuple[str, ...]] = {
    "service": (
        "service*", "staff", "team", "employee*", "personnel", "waiter*", "waitress*", "reception*",
        "customer care", "support", "accueil", "équipe*", "serveu*", "bemötande*", "personal*",
        "kundtjänst*", "servering*", "обслуживан*", "персонал*", "сервис*", "сотрудник*",
        "команд*", "официант*", "mitarbeiter*", "bedienung*", "kundendienst*", "servicio*",
        "atención", "equipo*", "camarer*",
    ),
    "wait_time": (
        "wait", "waits", "waiting", "fast*", "quick*", "prompt*", "speed*", "on time", "punctual*", "attente",
        "rapid*", "ponctu*", "väntetid*", "snabb*", "punktlig*", "ожидан*", "быстр*",
        "пунктуальн*", "вовремя", "wartezeit*", "schnell*", "pünktlich*", "espera*", "rápid*",
        "puntual*",
    ),
    "price": (
        "price*", "pricing", "affordab*", "value for money", "cheap*", "prix", "tarif*",
        "abordable*", "pris", "priser*", "prisvärd*", "billig*", "цен*", "дешев*", "preis*",
        "günstig*", "precio*", "barat*", "asequible*",
    ),
    "quality": (
        "quality", "food", "coffee", "pastr*", "delicious", "fresh*", "qualité", "cuisine",
        "délicieu*", "kvalitet*", "mat", "kaffe*", "färsk*", "качеств*", "вкусн*", "свеж*",
        "еда", "кухн*", "qualität*", "essen", "kaffee*", "lecker*", "calidad*", "comida*",
        "delicios*", "fresc*",
    ),
    "cleanliness": (
        "clean*", "spotless*", "hygien*", "propre*", "propreté", "städ*", "rena", "renlig*",
        "чист*", "гигиен*", "sauber*", "hygien*", "limpi*",
    ),
    "ambience": (
        "atmospher*", "ambience", "ambiance*", "cosy", "cozy", "décor*", "chaleureu*", "atmosfär*",
        "stämning*", "mysig*", "атмосфер*", "уют*", "atmosphäre*", "gemütlich*", "ambiente*",
        "acogedor*",
    ),
    "location": (
        "location", "located", "central*", "emplacement*", "situé*", "läge", "läget",
        "centralt", "располож*", "lage", "zentral*", "ubicaci*", "céntric*",
    ),
    "communication": (
        "communicat*", "inform*", "notif*", "respon*", "repl*", "kommunikation*", "svar*",
        "коммуникац*", "информир*", "уведомл*", "benachrichtig*", "antwort*", "comunicaci*",
        "respuesta*",
    ),
    "booking": (
        "booking*", "book", "reservation*", "réserv*", "bokning*", "boka", "бронир*",
        "buchung*", "buchen", "reservierung*", "reserva*",
    ),
}

LEVELS: dict[str, tuple[str, ...]] = {
    "superlative": (
        "best", "finest", "number one", "no. 1", "#1", "unbeatable", "unmatched", "second to none",
        "the most*", "*iest", "fastest", "cleanest", "nicest", "freshest", "kindest", "warmest",
        "meilleur*", "le plus", "la plus", "les plus", "imbattable*", "inégalé*", "numéro un",
        "bäst*", "*aste", "mest", "лучш*", "самый", "самая", "самое", "самые", "самым*", "непревзойд*", "номер один", "beste*",
        "am *sten", "freundlichste*", "schnellste*", "sauberste*", "günstigste*",
        "leckerste*", "unschlagbar*", "nummer eins", "mejor*", "el más", "la más", "los más",
        "inmejorable*", "insuperable*", "número uno", "más",
    ),
    "strong": (
        "excellent*", "exceptional*", "outstanding", "always", "exceptionnel*", "remarquable*",
        "toujours", "utmärkt*", "exceptionell*", "enastående", "fantastisk*", "alltid",
        "отличн*", "исключительн*", "превосходн*", "всегда", "ausgezeichnet*", "exzellent*",
        "hervorragend*", "herausragend*", "immer", "excelente*", "excepcional*", "siempre",
    ),
    "positive": (
        "friendly", "kind", "helpful", "attentive", "welcoming", "great", "good", "fast", "quick*",
        "clean", "fresh", "delicious", "affordable", "reliable", "professional", "warm", "cosy",
        "sympathique*", "aimable*", "attentionn*", "accueillant*", "bon", "bonne*", "rapide*",
        "propre*", "délicieu*", "abordable*", "fiable*", "professionnel*", "vänlig*", "trevlig*",
        "hjälpsam*", "snabb*", "ren", "rent", "god", "gott", "fräsch*", "prisvärd*", "pålitlig*",
        "professionell*", "bra", "дружелюбн*", "вежлив*", "приветлив*", "внимательн*", "быстр*",
        "чист*", "вкусн*", "доступн*", "надёжн*", "надежн*", "профессиональн*", "хорош*",
        "freundlich*", "hilfsbereit*", "aufmerksam*", "schnell*", "sauber*", "lecker*",
        "günstig*", "zuverlässig*", "gut", "gute*", "amable*", "simpátic*", "atent*", "rápid*",
        "limpi*", "delicios*", "asequible*", "fiable*", "profesional*", "buen*",
    ),
}
SATISFACTION = (
    "satisf*", "happy", "recommend*", "content*", "recommand*", "nöjd*", "rekommender*",
    "довольн*", "рекоменд*", "zufrieden*", "empfehl*", "satisfech*", "recomiend*",
)
_PERCENT = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d+)?)\s?%")
_SENTENCES = re.compile(r"(?<=[.!?…])\s+|\n+")
MAX_SENTENCE = 300


@dataclass(frozen=True, slots=True)
class FoundClaim:
    topic: str | None
    level: str  # a key of gap.own_site_levels, or "explicit"
    value: float
    sentence: str


def _targets(topics: list[str]) -> list[str | None]:
    """The topics a claim sentence is about, or None: the whole business."""
    return list(topics) if topics else [None]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.split(text) if 8 <= len(s.strip()) <= MAX_SENTENCE]


def find_claims(text: str, levels: dict[str, float]) -> list[FoundClaim]:
    """Every claim in a page's text: one per sentence and topic (None: the whole business)."""
    found: list[FoundClaim] = []
    for sentence in sentences(text):
        found.extend(claims_in_sentence(sentence, levels))
    return found


def claims_in_sentence(sentence: str, levels: dict[str, float]) -> list[FoundClaim]:
    folded = unicodedata.normalize("NFC", sentence.casefold())
    topics = [topic for topic, words in TOPICS.items() if _pattern(words).search(folded)]
    percent = _PERCENT.search(folded)
    if percent and _pattern(SATISFACTION).search(folded):
        value = float(percent.group(1).replace(",", ".")) / 100
        if 0 <= value <= 1:
            return [FoundClaim(t, "explicit", value, sentence) for t in _targets(topics)]
    level = next((name for name in LEVELS if _pattern(LEVELS[name]).search(folded)), None)
    if level is None or level not in levels:
        return []
    if not topics and level != "superlative":
        return []  # "good" alone says nothing; a superlative alone is about the whole business
    return [FoundClaim(t, level, levels[level], sentence) for t in _targets(topics)]


@cache
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    parts = []
    for word in words:
        body = re.escape(word.strip("*")).replace(r"\*", r"\w+")
        start = r"\w+" if word.startswith("*") else r"(?<!\w)"
        end = r"\w*" if word.endswith("*") else r"(?!\w)"
        parts.append(f"{start}{body}{end}")
    return re.compile("|".join(parts))
