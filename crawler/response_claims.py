"""Response-time promises in a business's own words ("we answer every review within 24 hours"),
found in its site's text in en, fr, de, es, sv and ru: the hours, and the share promised.

A sentence counts when it has a verb of answering and a bounded delay ("within 24 hours",
"sous 48 h", "innerhalb von 2 Tagen", "en menos de 24 horas"); days become 24 hours each. A
percentage in the sentence ("95 % of messages answered within a day") is the share promised,
else every one (1.0). Lexical and precise rather than complete, like `crawler.claims`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from crawler.claims import MAX_SENTENCE, sentences

_ANSWER = re.compile(
    r"(?<!\w)(answer\w*|repl(?:y|ies|ied)|respon\w+|get back to"  # en
    r"|répon\w+|repond\w+"  # fr
    r"|antwort\w*|beantwort\w*|rückmeld\w*"  # de
    r"|respond\w+|respuesta\w*|contest\w+"  # es
    r"|svar\w*"  # sv
    r"|отвеча\w*|ответ\w*)"  # ru
)
_ONE = r"(?P<n>\d{1,4}|one|a|an|une?|einem|einer|un|una|en|ett|одн\w*)"
_UNITS = (
    r"(?P<unit>hours?|hrs?|h|days?|business days?|working days?"
    r"|heures?|jours?(?: ouvrés| ouvrables)?"
    r"|stunden?|std\.?|tag(?:e|en)?|werktag(?:e|en)?"
    r"|horas?|días?(?: hábiles| laborables)?"
    r"|timmar|timme|dagar|dag|dygn|arbetsdagar"
    r"|час\w*|ч|дн\w*|день|сут\w*|рабоч\w* дн\w*)(?!\w)"
)
_WITHIN = re.compile(
    r"(?<!\w)(?:within(?: the next)?|in under|in less than|in no more than|in"
    r"|sous|en moins de|dans les|d'ici|en|dans un délai de"
    r"|innerhalb(?: von)?|binnen|in weniger als|spätestens nach"
    r"|en menos de|dentro de(?: las| los)?|en un máximo de|en"
    r"|inom|på mindre än|senast inom"
    r"|в течение|за|не позднее чем через)\s+" + _ONE + r"\s*" + _UNITS
)
_PERCENT = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d+)?)\s?%")
_DAY = re.compile(r"^(day|business|working|jour|tag|werktag|día|dag|dygn|arbetsdag|дн|день|сут|рабоч)")
_WORD_ONE = {"one", "a", "an", "un", "une", "einem", "einer", "una", "en", "ett"}


@dataclass(frozen=True, slots=True)
class ResponsePromise:
    hours: float
    share: float
    sentence: str


def find_response_promises(text: str) -> list[ResponsePromise]:
    """Every response-time promise in a page's text, one per sentence."""
    found = []
    for sentence in sentences(text):
        promise = promise_in(sentence)
        if promise is not None:
            found.append(promise)
    return found


def promise_in(sentence: str) -> ResponsePromise | None:
    if len(sentence) > MAX_SENTENCE:
        return None
    folded = unicodedata.normalize("NFC", sentence.casefold())
    if not _ANSWER.search(folded):
        return None
    delay = _WITHIN.search(folded)
    if delay is None:
        return None
    number = delay.group("n")
    count = 1.0 if number in _WORD_ONE or number.startswith("одн") else float(number)
    hours = count * (24.0 if _DAY.match(delay.group("unit")) else 1.0)
    if not 0 < hours <= 24 * 365:
        return None
    share = 1.0
    percent = _PERCENT.search(folded)
    if percent:
        share = float(percent.group(1).replace(",", ".")) / 100
        if not 0 < share <= 1:
            return None
    return ResponsePromise(hours, share, sentence)
