"""Shipped calibration data of the share correction: `heldout.json`, the shipped model's class
probabilities and the true labels of labelled texts it never trained on (no texts).

Made by `bench/make_share_calibration.py`; read by `reviewwatch/gap/share_calibration.py`.
"""
