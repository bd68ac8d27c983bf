"""Acting on negative mentions: opening follow-up items after scoring (`stage`), listing them
(`listing`) and the digest's signed links (`links`). The items live in `storage.followup`; the
response figures and `response_within_hours` claims are the gap stage's (`reviewwatch.gap.responses`,
`reviewwatch.gap.response_claim`); the API in `reviewwatch.api.followup` and `followup_link`."""
