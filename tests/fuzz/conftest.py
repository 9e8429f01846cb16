"""The fuzzers' Hypothesis profile (tests/fuzz/profiles.py)."""

from tests.fuzz import profiles  # noqa: F401 - registers and loads the profile
