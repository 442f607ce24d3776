"""The sample service's migration steps (tests/support/sample.py)."""
