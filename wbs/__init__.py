"""wbs: a hardened whistleblowing and complaint portal for Indonesian local governments."""

__version__ = "0.1.0"
