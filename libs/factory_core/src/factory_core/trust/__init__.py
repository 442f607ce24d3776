"""Trusting another service: its tokens (keys, revocations) and its account events."""
