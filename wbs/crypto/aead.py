"""AES-256-GCM sealing of case data, bound to its case and field by the AAD."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wbs.crypto.encoding import labeled

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
VERSION = 1
_VERSION_BYTE = bytes([VERSION])
OVERHEAD = 1 + NONCE_SIZE + TAG_SIZE


class DecryptionError(Exception):
    """A ciphertext could not be opened. Messages never contain keys or plaintext."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_SIZE)


def field_aad(case_ref: str, field: str) -> bytes:
    """Associated data binding a ciphertext to one field of one case.

    A database writer who copies a ciphertext into another case or another column gets a
    decryption failure instead of a silently misattributed plaintext.
    """
    return labeled("wbs/v1/field-aad", case_ref, field)


def _cipher(key: bytes) -> AESGCM:
    # AESGCM also accepts 128- and 192-bit keys; insisting on 32 bytes stops a truncated
    # key from silently downgrading the cipher.
    if len(key) != KEY_SIZE:
        raise ValueError("key must be 32 bytes")
    return AESGCM(key)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Return version ‖ nonce ‖ ciphertext+tag.

    Nonces are random: a case key seals at most a few hundred thousand messages and
    chunks, far below the 2^32 random-nonce limit NIST SP 800-38D sets per key. The
    version byte is also authenticated so that a future format can never be confused
    with this one.
    """
    nonce = secrets.token_bytes(NONCE_SIZE)
    body = _cipher(key).encrypt(nonce, plaintext, _VERSION_BYTE + aad)
    return _VERSION_BYTE + nonce + body


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(key) != KEY_SIZE:
        raise DecryptionError("invalid key")
    if len(blob) < OVERHEAD:
        raise DecryptionError("ciphertext too short")
    if blob[:1] != _VERSION_BYTE:
        raise DecryptionError("unsupported ciphertext version")
    nonce, body = blob[1 : 1 + NONCE_SIZE], blob[1 + NONCE_SIZE :]
    try:
        return _cipher(key).decrypt(nonce, body, _VERSION_BYTE + aad)
    except InvalidTag:
        raise DecryptionError("authentication failed") from None


# Attachments are sealed in chunks so that neither upload nor download holds a whole
# file in memory. Each chunk's associated data carries its index and a last-chunk flag,
# which extends per-chunk authentication to the whole stream: reordering, dropping,
# truncating or appending chunks always changes some chunk's associated data.
CHUNK_SIZE = 64 * 1024
_INDEX_BYTES = 8


def _chunk_aad(aad_prefix: bytes, index: int, last: bool) -> bytes:
    # A fixed-width suffix keeps prefix ‖ index ‖ flag unambiguous for any prefix.
    return (
        aad_prefix
        + index.to_bytes(_INDEX_BYTES, "big")
        + (b"\x01" if last else b"\x00")
    )


class ChunkedSealer:
    """Seal a byte stream as a sequence of chunks.

    ``aad_prefix`` should identify the attachment, e.g. ``field_aad(case_ref,
    "attachment/<id>")``.
    """

    def __init__(
        self, key: bytes, aad_prefix: bytes, chunk_size: int = CHUNK_SIZE
    ) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError("key must be 32 bytes")
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self._key = key
        self._aad_prefix = aad_prefix
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._index = 0
        self._finished = False

    def _seal_chunk(self, chunk: bytes, last: bool) -> bytes:
        blob = seal(self._key, chunk, _chunk_aad(self._aad_prefix, self._index, last))
        self._index += 1
        return blob

    def write(self, data: bytes) -> list[bytes]:
        """Buffer ``data`` and return the chunks that became full.

        A full chunk is sealed as not-last even if no more data follows; ``finish`` then
        seals an empty last chunk. Deciding this early is what keeps at most one chunk
        buffered.
        """
        if self._finished:
            raise RuntimeError("write after finish")
        sealed: list[bytes] = []
        view = memoryview(data)
        while view:
            room = self._chunk_size - len(self._buffer)
            self._buffer += view[:room]
            view = view[room:]
            if len(self._buffer) == self._chunk_size:
                sealed.append(self._seal_chunk(bytes(self._buffer), last=False))
                self._buffer.clear()
        return sealed

    def finish(self) -> list[bytes]:
        if self._finished:
            raise RuntimeError("finish called twice")
        self._finished = True
        final = self._seal_chunk(bytes(self._buffer), last=True)
        self._buffer.clear()
        return [final]


def open_chunks(
    key: bytes, aad_prefix: bytes, blobs: Iterable[bytes]
) -> Iterator[bytes]:
    """Yield the plaintext of each chunk in order.

    Each yielded chunk is authentic, but the stream is only known to be complete once
    the iterator ends without raising; a consumer that streams to a client must abort
    (not finish cleanly) on DecryptionError. Looking one blob ahead tells us whether the
    current blob must be the last one, so each chunk is decrypted exactly once.
    """
    iterator = iter(blobs)
    current = next(iterator, None)
    if current is None:
        raise DecryptionError("attachment has no chunks")
    index = 0
    while current is not None:
        following = next(iterator, None)
        last = following is None
        try:
            plaintext = open_sealed(key, current, _chunk_aad(aad_prefix, index, last))
        except DecryptionError:
            raise DecryptionError(f"chunk {index} failed authentication") from None
        yield plaintext
        current = following
        index += 1
