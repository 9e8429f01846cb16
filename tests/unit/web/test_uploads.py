from __future__ import annotations

import asyncio
import builtins
import hashlib
import io
import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from wbs.web.uploads import (
    MemorySink,
    PartInfo,
    UploadError,
    UploadTooLarge,
    parse_multipart,
)

BOUNDARY = "wbs-test-boundary-7f3a9c"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
MiB = 1024 * 1024
CHUNK = 64 * 1024


# --- building bodies by hand, so the order and the bytes of every part are ours -----------------


def text_part(name: str, value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
    return head.encode() + data + b"\r\n"


def file_head(name: str, filename: str, content_type: str = "application/octet-stream") -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()


def file_part(name: str, filename: str, data: bytes, content_type: str = "image/jpeg") -> bytes:
    return file_head(name, filename, content_type) + data + b"\r\n"


def closing() -> bytes:
    return f"--{BOUNDARY}--\r\n".encode()


# --- an inline app that records what the parser did ---------------------------------------------


class RecordingSink(MemorySink):
    def __init__(self) -> None:
        super().__init__()
        self.abort_calls = 0

    def abort(self) -> None:
        self.abort_calls += 1
        super().abort()


@dataclass
class Recorder:
    opened: list[tuple[PartInfo, dict[str, str], RecordingSink]] = field(default_factory=list)

    def open_file(self, info: PartInfo, fields: Mapping[str, str]) -> RecordingSink:
        sink = RecordingSink()
        self.opened.append((info, dict(fields), sink))
        return sink

    @property
    def aborts(self) -> list[int]:
        return [sink.abort_calls for _, _, sink in self.opened]


def make_app(
    recorder: Recorder,
    *,
    max_file_bytes: int = 4 * MiB,
    max_total_bytes: int = 8 * MiB,
    max_fields: int = 200,
    max_field_bytes: int = 64 * 1024,
) -> Starlette:
    async def upload(request: Request) -> JSONResponse:
        try:
            fields = await parse_multipart(
                request,
                open_file=recorder.open_file,
                max_file_bytes=max_file_bytes,
                max_total_bytes=max_total_bytes,
                max_fields=max_fields,
                max_field_bytes=max_field_bytes,
            )
        except UploadTooLarge as exc:
            return JSONResponse({"error": exc.key}, status_code=413)
        except UploadError as exc:
            return JSONResponse({"error": exc.key}, status_code=400)
        files = [
            {
                "name": info.name,
                "filename": info.filename,
                "content_type": info.content_type,
                "size": len(sink.data),
                "sha256": hashlib.sha256(sink.data).hexdigest(),
            }
            for info, _, sink in recorder.opened
        ]
        return JSONResponse({"fields": fields, "files": files})

    return Starlette(routes=[Route("/upload", upload, methods=["POST"])])


def post(client: TestClient, body: bytes, content_type: str = CONTENT_TYPE) -> Any:
    return client.post("/upload", content=body, headers={"content-type": content_type})


def run_asgi(app: Starlette, chunks: Iterator[bytes], headers: dict[str, str]) -> tuple[int, int]:
    """Drive the app with a body we hand out chunk by chunk; return (status, chunks pulled)."""
    pulled = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/upload",
        "raw_path": b"/upload",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return status, pulled


def huge_upload(total: int) -> Iterator[bytes]:
    """A `total`-byte multipart body, generated lazily: one file part of filler."""
    head = text_part("code", "ABCD") + file_head("evidence", "big.bin")
    yield head
    sent = len(head)
    filler = b"x" * CHUNK
    while sent < total:
        yield filler
        sent += len(filler)
    yield b"\r\n" + closing()


# --- round trips ---------------------------------------------------------------------------------


def test_fields_and_two_files_round_trip_byte_exact() -> None:
    small = secrets.token_bytes(10_000)
    big = secrets.token_bytes(MiB + 123_457)  # over Starlette's 1 MiB spooling threshold
    body = (
        text_part("kind", "pengaduan")
        + text_part("summary", "Dinas Pekerjaan Umum — pungutan liar ñ")
        + file_part("evidence", "foto.jpg", small)
        + text_part("kind", "kedua")
        + file_part("evidence", "rekaman.pdf", big, "application/pdf")
        + closing()
    )
    recorder = Recorder()
    response = post(TestClient(make_app(recorder)), body)

    assert response.status_code == 200
    result = response.json()
    assert result["fields"] == {
        "kind": ["pengaduan", "kedua"],
        "summary": ["Dinas Pekerjaan Umum — pungutan liar ñ"],
    }
    assert result["files"] == [
        {
            "name": "evidence",
            "filename": "foto.jpg",
            "content_type": "image/jpeg",
            "size": len(small),
            "sha256": hashlib.sha256(small).hexdigest(),
        },
        {
            "name": "evidence",
            "filename": "rekaman.pdf",
            "content_type": "application/pdf",
            "size": len(big),
            "sha256": hashlib.sha256(big).hexdigest(),
        },
    ]
    assert recorder.aborts == [0, 0]


def test_data_that_looks_like_a_boundary_survives() -> None:
    # A near-boundary inside the file, and one split across the parser's chunk edges.
    tricky = (b"\r\n--" + BOUNDARY[:-1].encode() + b"X") * 5000 + b"\r\n-" + b"\r" * 3
    body = file_part("evidence", "tricky.bin", tricky) + closing()
    recorder = Recorder()
    response = post(TestClient(make_app(recorder)), body)
    assert response.status_code == 200
    assert response.json()["files"][0]["sha256"] == hashlib.sha256(tricky).hexdigest()


def test_open_file_sees_only_fields_sent_before_the_file() -> None:
    body = (
        text_part("code", "ABCD-EFGH")
        + text_part("code", "second-value-ignored")
        + file_part("evidence", "a.jpg", b"first")
        + text_part("late", "after the file")
        + file_part("evidence", "b.jpg", b"second")
        + closing()
    )
    recorder = Recorder()
    response = post(TestClient(make_app(recorder)), body)

    assert response.status_code == 200
    (_, seen_first, _), (_, seen_second, _) = recorder.opened
    # The first value, as the handler will read fields["code"][0].
    assert seen_first == {"code": "ABCD-EFGH"}
    assert seen_second == {"code": "ABCD-EFGH", "late": "after the file"}


def test_open_file_can_refuse_a_file_without_a_code() -> None:
    def require_code(info: PartInfo, fields: Mapping[str, str]) -> MemorySink:
        if "code" not in fields:
            raise UploadError("code_required")
        return MemorySink()

    async def upload(request: Request) -> JSONResponse:
        try:
            await parse_multipart(
                request, open_file=require_code, max_file_bytes=MiB, max_total_bytes=MiB
            )
        except UploadError as exc:
            return JSONResponse({"error": exc.key}, status_code=400)
        return JSONResponse({})

    app = Starlette(routes=[Route("/upload", upload, methods=["POST"])])
    body = file_part("evidence", "a.jpg", b"data") + text_part("code", "late") + closing()
    response = post(TestClient(app), body)
    assert (response.status_code, response.json()) == (400, {"error": "code_required"})


def test_file_part_with_empty_filename_is_ignored() -> None:
    body = (
        text_part("summary", "tanpa lampiran")
        + file_part("evidence", "", b"", "application/octet-stream")
        + closing()
    )
    recorder = Recorder()
    response = post(TestClient(make_app(recorder)), body)
    assert response.status_code == 200
    assert response.json() == {"fields": {"summary": ["tanpa lampiran"]}, "files": []}
    assert recorder.opened == []


def test_odd_part_content_type_becomes_octet_stream() -> None:
    body = file_part("evidence", "a.bin", b"x", "text/html\x0b; x=y") + closing()
    recorder = Recorder()
    response = post(TestClient(make_app(recorder)), body)
    assert response.status_code == 200
    assert recorder.opened[0][0].content_type == "application/octet-stream"


def test_empty_form_is_accepted() -> None:
    response = post(TestClient(make_app(Recorder())), closing())
    assert response.status_code == 200
    assert response.json() == {"fields": {}, "files": []}


# --- limits --------------------------------------------------------------------------------------


def test_file_over_max_file_bytes_is_413_and_sink_aborted() -> None:
    body = (
        file_part("evidence", "ok.jpg", b"a" * 1000)
        + file_part("evidence", "big.jpg", b"b" * (MiB + 1))
        + closing()
    )
    recorder = Recorder()
    response = post(TestClient(make_app(recorder, max_file_bytes=MiB)), body)

    assert (response.status_code, response.json()) == (413, {"error": "file_too_large"})
    # The overflowing sink and the one completed before it are both aborted and emptied.
    assert recorder.aborts == [1, 1]
    assert all(sink.aborted and sink.size == 0 for _, _, sink in recorder.opened)


def test_file_exactly_at_the_cap_is_accepted() -> None:
    body = file_part("evidence", "ok.jpg", b"a" * MiB) + closing()
    response = post(TestClient(make_app(Recorder(), max_file_bytes=MiB)), body)
    assert response.status_code == 200


def test_declared_body_over_max_total_is_413_before_reading() -> None:
    recorder = Recorder()
    app = make_app(recorder, max_total_bytes=MiB)
    headers = {"content-type": CONTENT_TYPE, "content-length": str(50 * MiB)}
    status, pulled = run_asgi(app, huge_upload(50 * MiB), headers)
    assert status == 413
    assert pulled == 0
    assert recorder.opened == []


def test_declared_body_over_max_total_via_test_client_is_413() -> None:
    body = file_part("evidence", "big.bin", b"z" * (2 * MiB)) + closing()
    response = post(TestClient(make_app(Recorder(), max_total_bytes=MiB)), body)
    assert (response.status_code, response.json()) == (413, {"error": "body_too_large"})


def test_undeclared_body_over_max_total_stops_reading_early() -> None:
    recorder = Recorder()
    app = make_app(recorder, max_file_bytes=100 * MiB, max_total_bytes=MiB)
    status, pulled = run_asgi(app, huge_upload(50 * MiB), {"content-type": CONTENT_TYPE})
    assert status == 413
    # 50 MiB is 800 chunks; the parser must give up right after the first MiB.
    assert pulled * CHUNK <= MiB + 2 * CHUNK
    assert recorder.aborts == [1]


def test_undeclared_file_over_max_file_stops_reading_early() -> None:
    recorder = Recorder()
    app = make_app(recorder, max_file_bytes=MiB // 2, max_total_bytes=100 * MiB)
    status, pulled = run_asgi(app, huge_upload(50 * MiB), {"content-type": CONTENT_TYPE})
    assert status == 413
    assert pulled * CHUNK <= MiB // 2 + 2 * CHUNK
    assert recorder.aborts == [1]


def test_too_many_fields_is_400() -> None:
    body = b"".join(text_part(f"f{i}", "x") for i in range(11)) + closing()
    response = post(TestClient(make_app(Recorder(), max_fields=10)), body)
    assert (response.status_code, response.json()) == (400, {"error": "too_many_fields"})


def test_ignored_parts_count_towards_max_fields() -> None:
    body = b"".join(file_part("evidence", "", b"") for _ in range(11)) + closing()
    response = post(TestClient(make_app(Recorder(), max_fields=10)), body)
    assert (response.status_code, response.json()) == (400, {"error": "too_many_fields"})


def test_field_over_max_field_bytes_is_400() -> None:
    body = text_part("summary", "a" * 1025) + closing()
    response = post(TestClient(make_app(Recorder(), max_field_bytes=1024)), body)
    assert (response.status_code, response.json()) == (400, {"error": "field_too_large"})


def test_invalid_utf8_field_is_400() -> None:
    body = text_part("summary", b"\xff\xfe bukan utf-8") + closing()
    response = post(TestClient(make_app(Recorder())), body)
    assert (response.status_code, response.json()) == (400, {"error": "bad_encoding"})


# --- malformed requests --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/mixed; boundary=" + BOUNDARY,
        "multipart/form-data; boundary=" + "a" * 71,
        "multipart/form-data; boundary=bad\x7fchar",
    ],
)
def test_wrong_content_type_is_400(content_type: str) -> None:
    body = text_part("a", "b") + closing()
    response = post(TestClient(make_app(Recorder())), body, content_type)
    assert (response.status_code, response.json()) == (400, {"error": "bad_content_type"})


def test_missing_content_type_is_400() -> None:
    response = TestClient(make_app(Recorder())).post("/upload", content=closing())
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"--other-boundary\r\n\r\nx\r\n--other-boundary--\r\n", id="wrong-boundary"),
        pytest.param(b"garbage without any boundary", id="garbage"),
        pytest.param(b"", id="empty"),
        pytest.param(
            f"--{BOUNDARY}\r\nX-Nothing: here\r\n\r\nvalue\r\n".encode() + closing(),
            id="no-content-disposition",
        ),
        pytest.param(
            f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nv\r\n".encode() + closing(),
            id="no-name",
        ),
        pytest.param(
            f'--{BOUNDARY}\r\nContent-Disposition: attachment; name="a"\r\n\r\nv\r\n'.encode()
            + closing(),
            id="not-form-data",
        ),
        pytest.param(
            f"--{BOUNDARY}\r\nBad Header: x\r\n\r\nv\r\n".encode() + closing(),
            id="bad-header-name",
        ),
        pytest.param(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n'
            f'Content-Disposition: form-data; name="b"\r\n\r\nv\r\n'.encode()
            + closing(),
            id="duplicate-header",
        ),
        pytest.param(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\ndg==\r\n".encode()
            + closing(),
            id="transfer-encoding",
        ),
        pytest.param(text_part("a", "b"), id="no-closing-boundary"),
    ],
)
def test_malformed_multipart_is_400(body: bytes) -> None:
    response = post(TestClient(make_app(Recorder())), body)
    assert (response.status_code, response.json()) == (400, {"error": "bad_multipart"})


def test_truncated_upload_aborts_the_open_sink() -> None:
    body = file_part("evidence", "a.jpg", b"complete") + file_head("evidence", "b.jpg") + b"half"
    recorder = Recorder()
    response = post(TestClient(make_app(recorder)), body)
    assert (response.status_code, response.json()) == (400, {"error": "bad_multipart"})
    assert recorder.aborts == [1, 1]


def test_bad_content_length_is_400() -> None:
    app = make_app(Recorder())
    headers = {"content-type": CONTENT_TYPE, "content-length": "-5"}
    status, pulled = run_asgi(app, iter([closing()]), headers)
    assert (status, pulled) == (400, 0)


# --- MemorySink ----------------------------------------------------------------------------------


def test_memory_sink_hands_out_data_only_when_complete() -> None:
    sink = MemorySink()
    sink.write(b"abc")
    with pytest.raises(RuntimeError):
        _ = sink.data
    sink.close()
    assert sink.data == b"abc"
    sink.abort()
    with pytest.raises(RuntimeError):
        _ = sink.data
    assert sink.size == 0


def test_memory_sink_abort_zeroes_its_buffer() -> None:
    sink = MemorySink()
    sink.write(b"rahasia")
    buffer = sink._buf  # the object the evidence lived in
    sink.abort()
    assert buffer == bytes(len(b"rahasia"))


def test_memory_sink_has_its_own_cap() -> None:
    sink = MemorySink(max_bytes=4)
    sink.write(b"1234")
    with pytest.raises(UploadTooLarge):
        sink.write(b"5")
    assert sink.aborted


# --- no plaintext on disk ------------------------------------------------------------------------


def _files_under(root: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            try:
                found[path] = os.stat(path).st_mtime
            except OSError:
                continue
    return found


def _contains(path: str, needle: bytes) -> bool:
    try:
        if os.path.getsize(path) > 64 * MiB:
            return False
        return needle in Path(path).read_bytes()
    except OSError:
        return False


def test_upload_never_touches_the_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    canary = f"WBS-CANARY-{secrets.token_hex(16)}".encode()
    evidence = (canary + secrets.token_bytes(4000)) * (3 * MiB // 4000)
    assert len(evidence) >= 3 * MiB - 8000
    body = text_part("summary", canary.decode()) + file_part("evidence", "a.mp4", evidence)
    body += closing()

    tmpdir = tempfile.gettempdir()
    before = _files_under(tmpdir)
    recorder = Recorder()
    client = TestClient(make_app(recorder, max_file_bytes=8 * MiB, max_total_bytes=16 * MiB))
    forbidden_calls: list[str] = []

    def forbid(name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            forbidden_calls.append(name)
            raise AssertionError(f"{name} called during upload")

        return refuse

    import starlette.formparsers

    for module, name in [
        (tempfile, "SpooledTemporaryFile"),
        (tempfile, "NamedTemporaryFile"),
        (tempfile, "TemporaryFile"),
        (tempfile, "mkstemp"),
        (starlette.formparsers, "SpooledTemporaryFile"),
        (builtins, "open"),
        (io, "open"),
        (os, "open"),
    ]:
        monkeypatch.setattr(module, name, forbid(f"{module.__name__}.{name}"))
    try:
        response = post(client, body)
    finally:
        monkeypatch.undo()

    assert forbidden_calls == []
    assert response.status_code == 200
    assert response.json()["files"][0]["sha256"] == hashlib.sha256(evidence).hexdigest()
    after = _files_under(tmpdir)
    changed = [path for path, mtime in after.items() if before.get(path) != mtime]
    assert not [path for path in changed if _contains(path, canary)]


# --- file bytes cap, apart from the framing -----------------------------------------------------


def test_files_cap_counts_file_bytes_not_framing() -> None:
    async def upload(request: Request) -> JSONResponse:
        try:
            await parse_multipart(request, open_file=lambda info, seen: MemorySink(),
                                  max_file_bytes=MiB, max_total_bytes=4 * MiB,
                                  max_files_bytes=2 * 1000)
        except UploadTooLarge as exc:
            return JSONResponse({"error": exc.key}, status_code=413)
        return JSONResponse({})

    client = TestClient(Starlette(routes=[Route("/upload", upload, methods=["POST"])]))
    exact = (text_part("summary", "x" * 5000) + file_part("evidence", "a.bin", b"a" * 1000)
             + file_part("evidence", "b.bin", b"b" * 1000) + closing())
    assert post(client, exact).status_code == 200  # 2000 file bytes in a 5+ KB body
    over = (file_part("evidence", "a.bin", b"a" * 1000)
            + file_part("evidence", "b.bin", b"b" * 1001) + closing())
    response = post(client, over)
    assert (response.status_code, response.json()) == (413, {"error": "body_too_large"})


def test_before_chunk_sees_every_chunk_before_it_is_parsed() -> None:
    seen: list[int] = []

    async def account(size: int) -> None:
        seen.append(size)

    async def upload(request: Request) -> JSONResponse:
        await parse_multipart(request, open_file=lambda info, fields: MemorySink(),
                              max_file_bytes=MiB, max_total_bytes=4 * MiB, before_chunk=account)
        return JSONResponse({})

    body = file_part("evidence", "a.bin", b"z" * 300_000) + closing()
    client = TestClient(Starlette(routes=[Route("/upload", upload, methods=["POST"])]))
    assert post(client, body).status_code == 200
    assert sum(seen) == len(body)


def test_after_chunk_runs_between_chunks_and_its_refusal_aborts_every_sink() -> None:
    """The hook for a check that cannot run inside the parser's callbacks (a lookup in the
    thread pool): awaited once each chunk is parsed, before the next is read."""
    recorder = Recorder()
    calls: list[int] = []

    async def refuse_once_a_file_began() -> None:
        calls.append(len(recorder.opened))
        if recorder.opened:
            raise UploadError("refused")

    async def upload(request: Request) -> JSONResponse:
        try:
            await parse_multipart(request, open_file=recorder.open_file, max_file_bytes=MiB,
                                  max_total_bytes=64 * MiB, after_chunk=refuse_once_a_file_began)
        except UploadError as exc:
            return JSONResponse({"error": exc.key}, status_code=400)
        return JSONResponse({})

    def body() -> Iterator[bytes]:
        yield text_part("code", "A" * 24)
        yield file_head("file", "a.bin") + b"x" * 10
        while True:
            yield b"x" * CHUNK

    app = Starlette(routes=[Route("/upload", upload, methods=["POST"])])
    status, pulled = run_asgi(app, body(), {"content-type": CONTENT_TYPE})
    assert (status, pulled, calls) == (400, 2, [0, 1])
    assert recorder.opened[0][2].abort_calls >= 1 and recorder.opened[0][2].aborted


def test_memory_sink_hands_its_buffer_over_without_a_copy() -> None:
    sink = MemorySink()
    sink.write(b"bukti")
    with pytest.raises(RuntimeError):
        sink.take_buffer()  # not complete yet
    sink.close()
    buffer = sink.take_buffer()
    assert buffer == bytearray(b"bukti") and sink.size == 0
