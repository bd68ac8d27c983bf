"""Acting on negative mentions: follow-up items (storage.followup), their signed links, and the
response figures (response rate, time to first response) of the gap report, API and dashboard."""
