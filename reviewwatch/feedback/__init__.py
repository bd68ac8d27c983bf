"""Asking customers (`reviewwatch ask`), the feedback page, and storing their answers privately."""
