"""Streaming multipart/form-data parsing that never writes a byte to disk.

Starlette's `request.form()` spools every file over 1 MiB to a plaintext temporary file, which
would leave a reporter's evidence readable on the server's disk (DESIGN §1, §3). This module feeds
`request.stream()` through python-multipart's low-level push parser instead and hands each file's
bytes, chunk by chunk, to a sink supplied by the caller (the encrypting writer, or `MemorySink`
when the file must first lose its metadata).

Limits are enforced while reading, so an oversized request costs at most its limit: a declared
`Content-Length` over the limit is refused before any byte of the body is read, and the stream is
abandoned the moment a counter passes its cap.

Errors carry a short, fixed message key (never request content), so handlers can log and show
them without leaking anything:

- `UploadTooLarge` (HTTP 413): `body_too_large`, `file_too_large`.
- `UploadError` (HTTP 400): `bad_content_type`, `bad_content_length`, `bad_multipart`,
  `bad_encoding`, `too_many_fields`, `field_too_large`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

# RFC 2046 §5.1.1: 1 to 70 characters from a restricted set, not ending in a space. Anything else
# is either a broken client or an attempt to confuse the parser, and is refused up front.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
# A part's declared media type only travels as a hint (the real type is sniffed later), but it
# must be a plain `type/subtype` token so nothing odd reaches a database column or a header.
_MEDIA_TYPE = re.compile(r"[a-z0-9!#$&^_.+\-]{1,64}/[a-z0-9!#$&^_.+\-]{1,128}")
_DEFAULT_FILE_TYPE = "application/octet-stream"
# RFC 7578 §4.7 deprecates Content-Transfer-Encoding; browsers never send it. Decoding base64 or
# quoted-printable would make the byte counters disagree with what the sink receives, so only the
# identity encodings are accepted.
_IDENTITY_ENCODINGS = frozenset({"7bit", "8bit", "binary"})


class UploadTooLarge(Exception):
    """The request body or one of its files is over its limit (HTTP 413)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class UploadError(Exception):
    """The request is not an acceptable multipart/form-data body (HTTP 400)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class PartInfo:
    """What the client said about one file part. All of it is untrusted input."""

    name: str
    filename: str
    content_type: str


class FileSink(Protocol):
    """Receives one file's bytes as they arrive.

    `abort` must be idempotent, must not raise, and must also work after `close`: when a request
    fails after a file was complete, every sink it opened is aborted so no partial submission is
    kept.
    """

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class MemorySink:
    """A `FileSink` that keeps the file in memory, for files that must be processed whole.

    The parser's `max_file_bytes` bounds it; `max_bytes` is a second fence for callers that use
    it on their own. Zeroing on `abort` is best effort: Python may have made copies of the bytes
    (the parser's chunks, `data`) that cannot be wiped, but the sink's own buffer does not linger.
    """

    def __init__(self, max_bytes: int | None = None) -> None:
        self._buf = bytearray()
        self._max_bytes = max_bytes
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        if self.closed or self.aborted:
            raise RuntimeError("write to a finished sink")
        if self._max_bytes is not None and len(self._buf) + len(data) > self._max_bytes:
            self.abort()
            raise UploadTooLarge("file_too_large")
        self._buf += data

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True
        self._buf[:] = bytes(len(self._buf))
        self._buf = bytearray()

    @property
    def size(self) -> int:
        return len(self._buf)

    def take_buffer(self) -> bytearray:
        """Hand the complete file's buffer over without a copy; the sink is left empty."""
        if not self.closed or self.aborted:
            raise RuntimeError("sink is not complete")
        buf, self._buf = self._buf, bytearray()
        return buf

    @property
    def data(self) -> bytes:
        # Reading a file that is still arriving, or that was aborted, would hand on a truncated
        # piece of evidence as if it were whole.
        if not self.closed or self.aborted:
            raise RuntimeError("sink is not complete")
        return bytes(self._buf)


def declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    raw = raw.strip()
    # isascii() too: str.isdigit() accepts digits like "²" that int() then rejects.
    if not (raw.isascii() and raw.isdigit()):
        raise UploadError("bad_content_length")
    return int(raw)


def _boundary(request: Request) -> bytes:
    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    if media_type != b"multipart/form-data":
        raise UploadError("bad_content_type")
    boundary = options.get(b"boundary", b"")
    if not _BOUNDARY.fullmatch(boundary.decode("latin-1")):
        raise UploadError("bad_content_type")
    return boundary


class _Parser:
    """Per-request parser state. The python-multipart callbacks call straight into it.

    Exceptions raised in a callback propagate out of `MultipartParser.write`, which is how a limit
    stops parsing mid-chunk; the parser is never used again after that.
    """

    def __init__(
        self,
        open_file: Callable[[PartInfo, Mapping[str, str]], FileSink],
        max_file_bytes: int,
        max_fields: int,
        max_field_bytes: int,
        max_files_bytes: int | None = None,
    ) -> None:
        self.open_file = open_file
        self.max_file_bytes = max_file_bytes
        self.max_files_bytes = max_files_bytes
        self.files_bytes = 0
        self.max_fields = max_fields
        self.max_field_bytes = max_field_bytes

        self.fields: dict[str, list[str]] = {}
        self.sinks: list[FileSink] = []
        self.parts = 0
        self.ended = False

        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, str] = {}
        # Exactly one of these describes the current part's body: a text field being
        # accumulated, an open file sink, or (both None) a part whose bytes are dropped.
        self._field_name: str | None = None
        self._field_value = bytearray()
        self._sink: FileSink | None = None
        self._file_bytes = 0

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        # Every part counts, files and ignored parts included: each one costs parsing work.
        self.parts += 1
        if self.parts > self.max_fields:
            raise UploadError("too_many_fields")
        self._headers = {}
        self._field_name = None
        self._field_value = bytearray()
        self._sink = None
        self._file_bytes = 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        # python-multipart caps header count and size per part, so these buffers stay small.
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self._header_name.decode("latin-1").lower()
        value = self._header_value.decode("latin-1").strip(" \t")
        self._header_name = bytearray()
        self._header_value = bytearray()
        # A repeated header is ambiguous (a proxy may read the first, we the last): refuse it.
        if name in self._headers:
            raise UploadError("bad_multipart")
        self._headers[name] = value

    def on_headers_finished(self) -> None:
        encoding = self._headers.get("content-transfer-encoding", "7bit").lower()
        if encoding not in _IDENTITY_ENCODINGS:
            raise UploadError("bad_multipart")
        disposition, options = parse_options_header(self._headers.get("content-disposition"))
        raw_name = options.get(b"name")
        if disposition != b"form-data" or not raw_name:
            raise UploadError("bad_multipart")
        # Header bytes arrive as latin-1 round-tripped bytes; browsers send names as raw UTF-8.
        try:
            name = raw_name.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadError("bad_encoding") from None

        raw_filename = options.get(b"filename")
        if raw_filename is None:
            self._field_name = name
            return
        if not raw_filename:
            # A file input left empty still sends a part with filename="": nothing to keep.
            return
        # The filename is only ever shown back, through safe_download_name, so a client that
        # sends a legacy encoding gets replacement characters rather than a refused report.
        filename = raw_filename.decode("utf-8", errors="replace")
        media_type = parse_options_header(self._headers.get("content-type"))[0].decode("latin-1")
        if not _MEDIA_TYPE.fullmatch(media_type):
            media_type = _DEFAULT_FILE_TYPE
        # A snapshot holding the first value of each field, matching `fields[name][0]` in the
        # result, so a check made here (say, on a tracking code) sees what the handler will use.
        seen = MappingProxyType({key: values[0] for key, values in self.fields.items()})
        sink = self.open_file(PartInfo(name, filename, media_type), seen)
        self.sinks.append(sink)
        self._sink = sink

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if self._sink is not None:
            self._file_bytes += size
            if self._file_bytes > self.max_file_bytes:
                raise UploadTooLarge("file_too_large")
            self.files_bytes += size
            if self.max_files_bytes is not None and self.files_bytes > self.max_files_bytes:
                raise UploadTooLarge("body_too_large")
            self._sink.write(data[start:end])
        elif self._field_name is not None:
            if len(self._field_value) + size > self.max_field_bytes:
                raise UploadError("field_too_large")
            self._field_value += data[start:end]

    def on_part_end(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        elif self._field_name is not None:
            try:
                value = self._field_value.decode("utf-8")
            except UnicodeDecodeError:
                raise UploadError("bad_encoding") from None
            self.fields.setdefault(self._field_name, []).append(value)
            self._field_name = None
            self._field_value = bytearray()

    def on_end(self) -> None:
        self.ended = True

    def abort_all(self) -> None:
        for sink in self.sinks:
            # The error that made us abort is the one to report: a failing abort must neither
            # mask it nor keep the remaining sinks from being aborted.
            with contextlib.suppress(Exception):
                sink.abort()


async def parse_multipart(
    request: Request,
    *,
    open_file: Callable[[PartInfo, Mapping[str, str]], FileSink],
    max_file_bytes: int,
    max_total_bytes: int,
    max_fields: int = 200,
    max_field_bytes: int = 64 * 1024,
    max_files_bytes: int | None = None,
    before_chunk: Callable[[int], Awaitable[None]] | None = None,
    after_chunk: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, list[str]]:
    """Parse a multipart/form-data request body, streaming file parts into sinks.

    Returns the text fields, each name mapped to its values in arrival order. For every file part
    with a non-empty filename, `open_file(info, fields)` is called once its headers are read, with
    the first value of each text field that came before it; the sink it returns then gets the
    part's bytes and `close()` at the end of the part. On any failure, every sink opened for this
    request is aborted and the exception propagates. `max_fields` bounds the number of parts of
    any kind.

    `max_total_bytes` caps the whole body, framing included; `max_files_bytes`, when given, caps
    the sum of the file parts' bytes alone, so that a cap announced to users ("100 MB of files")
    is what they get, whatever the multipart overhead. `before_chunk(n)` is awaited before each
    chunk of `n` bytes is parsed: the caller's chance to account for it, or to refuse it.
    `after_chunk()` is awaited once each chunk is parsed, before the next is read: the place for
    a check that must not run inside the parser's callbacks (they cannot await), such as a
    lookup in the thread pool of what `open_file` saw.
    """
    declared = declared_length(request)
    boundary = _boundary(request)
    if declared is not None and declared > max_total_bytes:
        raise UploadTooLarge("body_too_large")

    state = _Parser(open_file, max_file_bytes, max_fields, max_field_bytes, max_files_bytes)
    try:
        parser = MultipartParser(boundary, state.callbacks())
        total = 0
        async with contextlib.aclosing(request.stream()) as stream:
            async for chunk in stream:
                total += len(chunk)
                # Checked before parsing, so a chunk that crosses the cap is never looked at.
                if total > max_total_bytes:
                    raise UploadTooLarge("body_too_large")
                if before_chunk is not None:
                    await before_chunk(len(chunk))
                try:
                    parser.write(chunk)
                except (MultipartParseError, FormParserError):
                    raise UploadError("bad_multipart") from None
                if after_chunk is not None:
                    await after_chunk()
                if state.ended:
                    # Anything after the closing boundary is an epilogue we have no use for.
                    break
        if not state.ended:
            # A body cut short would otherwise leave a truncated file looking complete.
            raise UploadError("bad_multipart")
    except BaseException:
        state.abort_all()
        raise
    return state.fields
