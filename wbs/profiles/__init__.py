"""Regional rule profiles, one per regulation (DESIGN §2, RULES §2, §4, §5; issue 10)."""
