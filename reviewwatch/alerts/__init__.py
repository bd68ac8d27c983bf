"""Spike alerts: owners hear at once when negative mentions pile up beyond what their history predicts.

`history.py` reads the 24-hour window counts from the store, `model.py` predicts the last
window (the negative share of all its mentions, beta-binomial bound; or a quasi-Poisson count
model), `judge.py` decides (shared with bench/alerts.py), `detect.py` finds the spikes not yet
alerted today, `compose.py` writes the
email and `deliver.py` stores and sends it through the digest's delivery path. The daemon
checks after each crawl (`deliver.check_after_crawl`); `reviewwatch alerts` checks now.
"""
