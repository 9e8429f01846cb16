from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from wbs.crypto.aead import (
    CHUNK_SIZE,
    KEY_SIZE,
    ChunkedSealer,
    DecryptionError,
    field_aad,
    new_key,
    open_chunks,
    open_sealed,
    seal,
)

PLAINTEXT = b"Kepala dinas menerima suap proyek jalan."


def test_round_trip() -> None:
    key = new_key()
    aad = field_aad("WBS-2025-0001", "report_text")
    assert open_sealed(key, seal(key, PLAINTEXT, aad), aad) == PLAINTEXT


def test_new_key_is_random_and_sized() -> None:
    assert len(new_key()) == KEY_SIZE
    assert new_key() != new_key()


def test_same_plaintext_seals_differently() -> None:
    key, aad = new_key(), field_aad("c", "f")
    assert seal(key, PLAINTEXT, aad) != seal(key, PLAINTEXT, aad)


def test_ciphertext_moved_to_another_case_or_field_fails() -> None:
    key = new_key()
    blob = seal(key, PLAINTEXT, field_aad("WBS-2025-0001", "what"))
    with pytest.raises(DecryptionError):
        open_sealed(key, blob, field_aad("WBS-2025-0002", "what"))
    with pytest.raises(DecryptionError):
        open_sealed(key, blob, field_aad("WBS-2025-0001", "where"))


def test_field_aad_is_unambiguous() -> None:
    assert field_aad("ab", "c") != field_aad("a", "bc")
    assert field_aad("a\x00", "b") != field_aad("a", "\x00b")


def test_tampering_with_any_byte_fails() -> None:
    key, aad = new_key(), field_aad("c", "f")
    blob = seal(key, PLAINTEXT, aad)
    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        with pytest.raises(DecryptionError):
            open_sealed(key, bytes(tampered), aad)


def test_wrong_key_fails() -> None:
    aad = field_aad("c", "f")
    blob = seal(new_key(), PLAINTEXT, aad)
    with pytest.raises(DecryptionError):
        open_sealed(new_key(), blob, aad)
    with pytest.raises(DecryptionError):
        open_sealed(b"short", blob, aad)


def test_truncated_and_empty_blobs_fail() -> None:
    key, aad = new_key(), field_aad("c", "f")
    blob = seal(key, b"", aad)
    for cut in (0, 1, 13, len(blob) - 1):
        with pytest.raises(DecryptionError):
            open_sealed(key, blob[:cut], aad)
    assert open_sealed(key, blob, aad) == b""


def test_error_message_leaks_nothing() -> None:
    key, aad = new_key(), field_aad("c", "f")
    blob = seal(key, PLAINTEXT, aad)
    with pytest.raises(DecryptionError) as info:
        open_sealed(key, blob, field_aad("c", "g"))
    message = str(info.value).encode()
    assert PLAINTEXT not in message and key.hex().encode() not in message


def test_seal_refuses_short_key() -> None:
    with pytest.raises(ValueError):
        seal(bytes(16), PLAINTEXT, b"")


def _seal_stream(key: bytes, prefix: bytes, data: bytes, piece: int) -> list[bytes]:
    sealer = ChunkedSealer(key, prefix)
    blobs: list[bytes] = []
    for start in range(0, len(data), piece):
        blobs += sealer.write(data[start : start + piece])
    return blobs + sealer.finish()


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, 3 * CHUNK_SIZE + 5])
@pytest.mark.parametrize("piece", [1000, 10 * CHUNK_SIZE])
def test_chunked_round_trip(size: int, piece: int) -> None:
    key, prefix = new_key(), field_aad("c", "attachment/1")
    data = bytes(i % 251 for i in range(size))
    blobs = _seal_stream(key, prefix, data, piece)
    assert len(blobs) == size // CHUNK_SIZE + 1
    chunks = list(open_chunks(key, prefix, blobs))
    assert all(len(chunk) <= CHUNK_SIZE for chunk in chunks)
    assert b"".join(chunks) == data


def test_write_returns_only_full_chunks() -> None:
    sealer = ChunkedSealer(new_key(), b"p", chunk_size=10)
    assert sealer.write(b"x" * 9) == []
    assert len(sealer.write(b"x")) == 1
    assert len(sealer.write(b"x" * 25)) == 2
    assert len(sealer.finish()) == 1


def test_write_after_finish_raises() -> None:
    sealer = ChunkedSealer(new_key(), b"p")
    sealer.finish()
    with pytest.raises(RuntimeError):
        sealer.write(b"more")
    with pytest.raises(RuntimeError):
        sealer.finish()


def _open_all(key: bytes, prefix: bytes, blobs: list[bytes]) -> bytes:
    return b"".join(open_chunks(key, prefix, blobs))


def _small_stream() -> tuple[bytes, bytes, list[bytes]]:
    key, prefix = new_key(), field_aad("c", "attachment/1")
    sealer = ChunkedSealer(key, prefix, chunk_size=10)
    blobs = sealer.write(bytes(range(35))) + sealer.finish()
    assert len(blobs) == 4
    return key, prefix, blobs


def test_small_stream_opens() -> None:
    key, prefix, blobs = _small_stream()
    assert _open_all(key, prefix, blobs) == bytes(range(35))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: [b[1], b[0], *b[2:]],  # reorder
        lambda b: [b[0], *b[2:]],  # drop a middle chunk
        lambda b: b[:-1],  # truncate: no last chunk
        lambda b: [*b, b[-1]],  # data after the last chunk
        lambda b: [*b, b[0]],  # data after the last chunk
        lambda b: [],  # nothing at all
    ],
)
def test_chunk_stream_manipulation_fails(
    mangle: Callable[[list[bytes]], list[bytes]],
) -> None:
    key, prefix, blobs = _small_stream()
    with pytest.raises(DecryptionError):
        _open_all(key, prefix, mangle(blobs))


def test_chunks_from_another_stream_do_not_splice() -> None:
    key, prefix = new_key(), field_aad("c", "attachment/1")
    first = ChunkedSealer(key, prefix, chunk_size=10)
    second = ChunkedSealer(key, prefix, chunk_size=10)
    a = first.write(b"a" * 20) + first.finish()
    b = second.write(b"b" * 5) + second.finish()
    # A last chunk from a shorter stream cannot end a longer one.
    with pytest.raises(DecryptionError):
        _open_all(key, prefix, [a[0], b[0]])


def test_chunks_under_another_prefix_fail() -> None:
    key, _prefix, blobs = _small_stream()
    with pytest.raises(DecryptionError):
        _open_all(key, field_aad("c", "attachment/2"), blobs)
    with pytest.raises(DecryptionError):
        _open_all(key, field_aad("other-case", "attachment/1"), blobs)


def test_open_chunks_streams_lazily() -> None:
    key, prefix, blobs = _small_stream()
    consumed = 0

    def source() -> Iterator[bytes]:
        nonlocal consumed
        for blob in blobs:
            consumed += 1
            yield blob

    chunks = open_chunks(key, prefix, source())
    assert next(chunks) == bytes(range(10))
    # One blob of look-ahead, never the whole attachment.
    assert consumed == 2
