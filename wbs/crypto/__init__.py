"""Cryptography for wbs: sealing, key wrapping, passwords, codes, signatures.

Every primitive comes from ``cryptography`` or ``argon2-cffi``; these modules only
compose them.
"""
