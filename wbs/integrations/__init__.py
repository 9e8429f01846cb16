"""Exchanges with other systems. Today: SP4N-LAPOR!, with its wire format in `lapor_format`."""
