"""The gap section of a digest in the owner's language: the summary lines and the claims at risk.

Claims at risk point at the digest's numbered mentions instead of quoting them again; evidence
from a mention the digest does not list is quoted once, under a number of its own.
"""

from __future__ import annotations

from reviewwatch.digest.compose import GapView, QuoteView, RiskLine
from reviewwatch.digest.gapinfo import (
    BenchmarkFacts,
    ClaimLine,
    ClaimRef,
    GapSection,
    NothingToCompare,
    Overall,
    RiskView,
)
from reviewwatch.digest.locale import Texts, source_name


def gap_view(section: GapSection, t: Texts, numbers: dict[int, int]) -> GapView:
    """`numbers`: the digest's number of each listed mention (by mention id)."""
    summary = ([overall_line(section.overall, t)] if section.overall else []) + [
        capitalised(claim_line(line, t)) for line in section.claims
    ]
    next_number = max(numbers.values(), default=0) + 1
    quoted = dict(numbers)
    risks = []
    for risk in section.at_risk:
        line, next_number = risk_line(risk, t, quoted, next_number, section.risk_threshold)
        risks.append(line)
    note = t(section.note) if section.note else None
    return GapView(summary, risks, note, benchmark_text(section.benchmark, t))


def overall_line(overall: Overall, t: Texts) -> str:
    parts = [t.plural("overall", overall.mentions)]
    if overall.positive_share is not None:
        parts.append(t("overall_positive", share=t.percent(overall.positive_share)))
    if overall.mean_stars is not None:
        parts.append(t("overall_stars", stars=t.stars(overall.mean_stars, fixed=True)))
    return ", ".join(parts)


def claim_text(claim: ClaimRef, t: Texts) -> str:
    """The claim in words: its figure, then topic, origin and a prediction's period in brackets,
    e.g. "95% positive (waiting time, declared)"."""
    if claim.metric == "positive_share":
        text = t("claim_share", value=t.percent(claim.claimed))
    elif claim.metric == "average_rating":
        text = t("claim_rating", value=t.stars(claim.claimed, claim.scale or 5))
    else:
        text = t("claim_other", metric=claim.metric, value=t.number(claim.claimed, 2))
    details = [t.topic_in_text(claim.topic)] if claim.topic else []
    details.append(t(f"origin_{claim.origin}") if claim.origin in ORIGINS else claim.origin)
    if claim.kind == "prediction" and claim.period:
        details.append(t("claim_predicted", period=claim.period))
    return f"{text} ({', '.join(details)})"


def figure(value: float, claim: ClaimRef, t: Texts) -> str:
    """A perceived figure on the claim's scale."""
    if claim.metric == "positive_share":
        return t.percent(value)
    if claim.metric == "average_rating":
        return t.stars(value, claim.scale or 5, fixed=True)
    return t.number(value, 2)


def claim_line(line: ClaimLine, t: Texts) -> str:
    values = {
        "claim": claim_text(line.claim, t),
        "mentions": t.plural("mentions", line.mentions),
        "verdict": verdict(line.verdict, t),
    }
    if line.perceived is None:
        return t("claim_line_open", **values)
    value, low, high = (figure(x, line.claim, t) for x in line.perceived)
    return t("claim_line", perceived=value, low=low, high=high, **values)


def benchmark_text(benchmark: BenchmarkFacts | NothingToCompare | None, t: Texts) -> str | None:
    """The business beside its competitors in one line, in the owner's words, e.g. "Propreté :
    30 % d'avis positifs, médiane des concurrents 78 % : inférieur, au-delà de la marge
    d'incertitude" (the API and the CLI keep gap/benchmark_line.py's English `headline`)."""
    if benchmark is None:
        return None
    if isinstance(benchmark, NothingToCompare):
        return t.plural("benchmark_too_few", benchmark.min_mentions)
    scope = t("benchmark_overall") if benchmark.scope == "overall" else t.topic(benchmark.scope)
    said = t(f"benchmark_{benchmark.verdict}") if benchmark.verdict in COMPARED else benchmark.verdict
    return t(
        "benchmark_line",
        scope=scope,
        own=t.percent(benchmark.own),
        median=t.percent(benchmark.median),
        verdict=said,
    )


def verdict(name: str, t: Texts) -> str:
    return t(name) if name in VERDICTS else name


def risk_line(
    risk: RiskView, t: Texts, quoted: dict[int, int], next_number: int, threshold: float
) -> tuple[RiskLine, int]:
    refs: list[int] = []
    quotes: list[QuoteView] = []
    for evidence in risk.evidence:
        known = quoted.get(evidence.mention_id) if evidence.mention_id is not None else None
        if known is None:
            known = next_number
            next_number += 1
            if evidence.mention_id is not None:
                quoted[evidence.mention_id] = known
            quotes.append(
                QuoteView(
                    known,
                    evidence.text,
                    source_name(evidence.source or "", evidence.url) if evidence.source else None,
                    t.language_name(evidence.language) or None,
                    evidence.url,
                )
            )
        if known not in refs:
            refs.append(known)
    change = verdict(risk.new_verdict, t)
    if risk.old_verdict and risk.old_verdict != risk.new_verdict:
        change = f"{verdict(risk.old_verdict, t)} → {change}"
    reason = None
    if risk.shortfall is not None:
        reason = t("shortfall", shortfall=t.percent(risk.shortfall), threshold=t.percent(threshold))
    line = RiskLine(capitalised(claim_text(risk.claim, t)), change, reason, refs, quotes)
    return line, next_number


def capitalised(text: str) -> str:
    """A line's first letter in upper case ("Note moyenne 4,8/5 ...")."""
    return text[:1].upper() + text[1:]


ORIGINS = ("declared", "own_site", "survey")
VERDICTS = ("supported", "overstated", "understated", "not enough evidence")
COMPARED = ("higher", "lower", "similar")  # the benchmark's verdicts (gap/benchmark.py)
