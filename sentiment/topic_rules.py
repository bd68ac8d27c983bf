"""Keyword rules that propose the four topics SemEval does not annotate, per language.

`wait_time`, `cleanliness`, `communication` and `booking` have no labels in the SemEval restaurant
sentences, which nonetheless talk about them. These rules *propose* a topic; the labels the model
trains on (`sentiment/data/topic_labels.jsonl`) are the proposals after reading the matches and a
sample of the non-matches, with the corrections kept in `sentiment/topic_labels.py`. No torch here.

The nine-topic taxonomy and the mapping of SemEval's aspect categories to it live here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SEMEVAL_TOPICS = ("service", "price", "quality", "ambience", "location")
NEW_TOPICS = ("wait_time", "cleanliness", "communication", "booking")
NINE_TOPICS = ("service", "wait_time", "price", "quality", "cleanliness", "ambience", "location",
               "communication", "booking")
LANGS = ("en", "fr", "es", "ru", "nl", "tr")

# SemEval 2016 categories (ENTITY#ATTRIBUTE) -> topic; RESTAURANT#GENERAL and #MISCELLANEOUS name
# no topic (the opinion is about the place as a whole).
_ENTITY_TOPIC = {"SERVICE": "service", "AMBIENCE": "ambience", "LOCATION": "location"}


def category_topic(category: str) -> str | None:
    entity, _, attribute = category.partition("#")
    if attribute == "PRICES":
        return "price"
    if entity in ("FOOD", "DRINKS"):
        return "quality"
    return _ENTITY_TOPIC.get(entity)


_W = r"(?<![\w])"  # a word start that also works for Cyrillic and Turkish letters

RULES: dict[str, dict[str, str]] = {
    "wait_time": {
        "en": r"\bwait(?:ed|ing|s)?\b|\bslow(?:ly|est|er)?\b|\bprompt(?:ly)?\b|\bquick(?:ly)?\b"
              r"|\bfast\b(?! food)|\bdelay|\bforever\b|\bminutes?\b|\b(?:an|one|two|half an?) hours?\b|\bqueue"
              r"|\blines?\b(?= (?:out|of people|was|were|is|to get))|\bin no time\b|\bright away\b"
              r"|\bimmediately\b|\btook (?:ages|so long|too long|a long)|\blong time\b|\bseated\b|\bspeedy\b|\d ?mins?\b",
        "fr": rf"{_W}attend(?:re|u|ue|us|ons|ait|aient|ions|ez)?\b|{_W}attente|{_W}patient(?:er|é)\b"
              rf"|{_W}lent(?:e|es|s|eur|ement)?\b|{_W}rapid(?:e|es|ement|ité)\b|{_W}minutes?\b|(?:\d+|une|deux|trois|demi[- ]?) ?heures?\b"
              rf"|{_W}retard|{_W}délai|{_W}queue\b|{_W}tout de suite\b|{_W}aussitôt|{_W}mn\b",
        "es": rf"{_W}esper(?:a|ar|amos|ó|aron|ado|ando|as|an|e)\b|{_W}lent(?:o|a|os|as|itud)\b"
              rf"|{_W}rápid(?:o|a|os|as|amente|ez)\b|{_W}minutos?\b|(?:media|una|dos|tres|\d+) horas?\b|{_W}tard(?:ar|aron|ó|an|a|anza|ó)\b"
              rf"|{_W}demor|{_W}cola\b|{_W}retraso|{_W}enseguida\b|{_W}al instante\b|{_W}inmediat",
        "ru": rf"{_W}жд(?:ать|али|ал|ала|ём|ем|ут|ешь)\b|{_W}ожидани|{_W}подожд|{_W}прожд|{_W}дожд(?:ались|аться|ешься)"
              rf"|{_W}долго\b|{_W}медленн|{_W}медлит|{_W}скорост|{_W}быстр|{_W}минут|(?:\d[\d,.]*|полтора|два|пару|больше|целый|почти|около) час"
              rf"|{_W}полчаса|{_W}очеред|{_W}задерж|{_W}моментально|{_W}мгновенно|{_W}оперативн",
        "nl": rf"{_W}wacht(?:en|tijd|tijden|te|ten|rij)?\b|{_W}gewacht\b|{_W}traag|{_W}snel(?:le|heid)?\b"
              rf"|{_W}minuten\b|{_W}uur\b|{_W}lang op\b|{_W}vlot(?:te)?\b|{_W}meteen\b|{_W}rap\b",
        "tr": rf"{_W}bekle|{_W}yava[şs]|{_W}h[ıi]zl[ıi]|{_W}h[ıi]zla|{_W}dakika|{_W}saat\b|{_W}ge[çc]\b|{_W}gecik"
              rf"|{_W}sıra\b|{_W}kuyruk|{_W}çabuk",
    },
    "cleanliness": {
        "en": r"\bclean(?:liness|ed|er|est|ly)?\b|\bunclean\b|\bdirt(?:y|ier)?\b|\bfilth|\bhygien|\bsanitary|\bunsanitary"
              r"|\bspotless|\bsticky\b|\bgrimy\b|\bcockroach|\broach(?:es)?\b|\bmice\b|\bmouse\b|\brats?\b"
              r"|\bflies\b|\bbugs?\b|\bdust|\bbath ?rooms?\b|\brest ?rooms?\b|\btoilets?\b|\blavatory|\bsmelly\b|\bsmelled\b",
        "fr": rf"(?<!\bsa )(?<!\bson )(?<!\bses )(?<!\bleur )(?<!\bleurs )(?<!\bnotre )(?<!\bnos )(?<!\bvotre )"
              rf"(?<!\bvos )(?<!\bma )(?<!\bmon )(?<!\bmes ){_W}propres?\b|{_W}propreté|{_W}sales?\b|{_W}saleté"
              rf"|{_W}crasse|{_W}hygièn|{_W}toilettes?\b|{_W}wc\b|{_W}cafards?\b|{_W}mouches?\b"
              rf"|{_W}poussi[eè]r|{_W}sanitaires?\b|{_W}insalubr|{_W}immonde",
        "es": rf"{_W}limpi(?:o|a|os|as|eza)\b|{_W}suci(?:o|a|os|as|edad)\b|{_W}higiene|{_W}higiénic|{_W}baños?\b"
              rf"|{_W}aseos?\b|{_W}cucarach|{_W}moscas?\b|{_W}mugr|{_W}polvo\b|{_W}asqueros",
        "ru": rf"{_W}чистот|{_W}чист(?:о|ый|ая|ое|ые|ых|ом|енько)\b|{_W}грязн|{_W}гигиен|{_W}антисанитар"
              rf"|{_W}туалет|{_W}уборн|{_W}таракан|{_W}мух(?:и|а)?\b|{_W}пыл(?:ь|ью|ьн)|{_W}липк|{_W}опрятн|{_W}неопрятн",
        "nl": rf"{_W}schoon|{_W}vies|{_W}vieze|{_W}vuil|{_W}smerig|{_W}hygi[eë]n|{_W}toilet|{_W}wc\b|{_W}netjes\b"
              rf"|{_W}kakkerla|{_W}stoffig|{_W}plakkerig",
        "tr": rf"{_W}temiz|{_W}kirli|{_W}pis\b|{_W}pislik|{_W}hijyen|{_W}tuvalet|{_W}lavabo|{_W}hamam böce|{_W}sinek",
    },
    "communication": {
        "en": r"\bphone[ds]?\b|\btelephone|\bcall(?:ed|ing)? (?:them|the|to|back|ahead|us|and)\b|\bcalled\b"
              r"|\be-?mail|\bvoice ?mail|\banswer(?:ed|ing|s)?\b|\brepl(?:y|ied|ies)\b|\brespon(?:d|ded|se)\b"
              r"|\bexplain(?:ed|ing|s)?\b|\bexplanation|\bspeak(?:s)? (?:english|spanish|french)|\blanguage barrier"
              r"|\bmisunderst|\bcommunicat",
        "fr": rf"{_W}t[ée]l[ée]phon|{_W}appel(?:é|er|ons|ez|ait|le)\b|{_W}rappel|{_W}e-?mails?\b|{_W}courriel"
              rf"|{_W}r[ée]pon(?:d|se)|{_W}expliqu|{_W}explication|{_W}renseign|{_W}communicat|{_W}malentendu",
        "es": rf"{_W}tel[ée]fono|{_W}llam(?:ar|amos|ada|adas|é|aron|ó|o)\b|{_W}correo|{_W}e-?mails?\b"
              rf"|{_W}respond|{_W}respuesta|{_W}contest(?:ar|ó|aron|aba)\b|{_W}explic|{_W}informaci[oó]n\b|{_W}comunica",
        "ru": rf"{_W}телефон|{_W}звон(?:ил|ок|ить|или|ила|ю)|{_W}позвон|{_W}дозвон|{_W}e-?mail|{_W}почт[аеуы]\b"
              rf"|{_W}ответ(?:ил|или|ила|ить|ят|ов|а)?\b|{_W}объясн|{_W}объяснени|{_W}рассказ(?:ал|ала|али)\b"
              rf"|{_W}по-английски|{_W}подсказ|{_W}отвеча|{_W}говор\w* по[- ]?русски",
        "nl": rf"{_W}telefo|{_W}gebeld|{_W}bellen|{_W}belde|{_W}e-?mail|{_W}mail(?:de|tje)?\b|{_W}antwoord"
              rf"|{_W}uitleg|{_W}uitgelegd|{_W}communicat",
        "tr": rf"{_W}telefon|{_W}arad(?:ı|ık|ım)|{_W}e-?posta|{_W}mail|{_W}cevap|{_W}yanıt|{_W}açıkla|{_W}anlattı",
    },
    "booking": {
        "en": r"\breserv(?:ation|ations|e|ed|ing)\b|\bbook(?:ed|ing|ings)?\b(?! ?store)|\bcancel|\bwalk[- ]?ins?\b"
              r"|\bopen ?table\b|\btable for (?:two|four|\d)",
        "fr": rf"{_W}r[ée]serv(?:er|é|ée|és|ation|ations|ons|ez|ait)?\b|{_W}annul|{_W}book",
        "es": rf"{_W}reserv(?:a|ar|amos|ado|ada|as|aron|é|ó|ación|aciones)?\b|{_W}cancel",
        "ru": rf"{_W}брон(?:ь|и|ью|ировал|ировали|ировать|ирование|ированию|ирования|ировала)|{_W}зарезерв|{_W}резерв"
              rf"|{_W}забронир|{_W}отмен(?!н)|{_W}заказ(?:ал|али|ала|ать|ывали)? столик|{_W}столик\w*(?: \w+)? заказ",
        "nl": rf"{_W}reserv|{_W}gereserveerd|{_W}geboekt|{_W}boeken|{_W}boeking|{_W}annul",
        "tr": rf"{_W}rezerv|{_W}iptal",
    },
}

_COMPILED = {t: {lang: re.compile(p, re.IGNORECASE) for lang, p in per.items()} for t, per in RULES.items()}


def rule_matches(text: str, lang: str) -> dict[str, list[str]]:
    """For each new topic whose rule matches `text`, the matched words (what a reader checks)."""
    out = {}
    for topic, per in _COMPILED.items():
        rx = per.get(lang)
        if rx is None:
            continue
        hits = [m.group(0) for m in rx.finditer(text)]
        if hits:
            out[topic] = hits
    return out


def opinion_topics(opinions: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Topic -> the polarity SemEval's opinions give it; opinions that disagree give `neutral`
    (what a mixed opinion about one topic counts as), `conflict` counts as neutral too."""
    seen: dict[str, set[str]] = {}
    for o in opinions:
        topic = category_topic(o.get("category", ""))
        key = topic or "general"
        pol = o.get("polarity", "neutral")
        seen.setdefault(key, set()).add(pol if pol in ("negative", "neutral", "positive") else "neutral")
    return {k: (next(iter(v)) if len(v) == 1 else "neutral") for k, v in seen.items()}
