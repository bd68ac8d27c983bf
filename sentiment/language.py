"""Language detection with lingua (its models ship inside the package), restricted to the
configured languages so that only those models are loaded."""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence


class LanguageDetector:
    def __init__(self, languages: Sequence[str]):
        self.languages = tuple(dict.fromkeys(c.lower() for c in languages))
        self._detector = None
        if len(self.languages) >= 2:
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            codes = [IsoCode639_1.from_str(c) for c in self.languages]
            self._detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()

    def detect(self, text: str) -> str | None:
        if not self.languages:
            return None
        if self._detector is None:
            return self.languages[0]
        lang = self._detector.detect_language_of(text)
        return lang.iso_code_639_1.name.lower() if lang is not None else None

    def detect_many(self, texts: Sequence[str]) -> list[str | None]:
        if self._detector is None:
            return [self.detect(t) for t in texts]
        out = self._detector.detect_languages_in_parallel_of(list(texts))
        return [lang.iso_code_639_1.name.lower() if lang is not None else None for lang in out]


@lru_cache(maxsize=4)
def detector_for(languages: tuple[str, ...]) -> LanguageDetector:
    return LanguageDetector(languages)
