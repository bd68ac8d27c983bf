"""Digest emails: the negative mentions each owner has not yet received, sent exactly once.

Settings: `businesses[].digest` (what counts as negative, when, how long an excerpt) and `smtp`.
`deliver.send_digests` is the entry point; `preview.preview_digests` is the dry run.
"""
