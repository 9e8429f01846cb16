"""Multipart forms with evidence files: streamed, capped, CSRF-checked, sanitised in memory.

The CSRF token (pages) or the code (API) must arrive before the first file part, so that a
forged or anonymous request is refused before a single file byte is accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request

from wbs.cases.sanitize import CleanFile, UnsafeFile, strip_metadata
from wbs.web import security
from wbs.web.uploads import MemorySink, PartInfo, UploadError, UploadTooLarge, parse_multipart

MAX_FILES = 20
UPLOAD_SLOTS = 4


@dataclass
class UploadedForm:
    fields: dict[str, str]
    files: list[tuple[str, CleanFile]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # names of files that could not be cleaned


def csrf_gate(request: Request) -> Callable[[Mapping[str, str]], bool]:
    key = request.app.state.ctx.keys.derived("csrf")
    return lambda fields: security.csrf_valid(key, request, fields.get(security.CSRF_FIELD))


async def read_upload_form(request: Request,
                           gate: Callable[[Mapping[str, str]], bool]) -> UploadedForm:
    """Parse, enforce caps (413) and the gate (403), then strip metadata off every file.

    At most UPLOAD_SLOTS uploads are parsed and cleaned at once per process: each may hold up
    to the report cap in memory and decode large images, so an anonymous flood queues instead
    of exhausting memory.
    """
    async with request.app.state.upload_slots:
        return await _read_upload_form(request, gate)


async def _read_upload_form(request: Request,
                            gate: Callable[[Mapping[str, str]], bool]) -> UploadedForm:
    settings = request.app.state.ctx.settings
    received: list[tuple[PartInfo, MemorySink]] = []
    gate_checked: list[bool] = []

    def open_file(info: PartInfo, seen: Mapping[str, str]) -> MemorySink:
        if not gate_checked:
            if not gate(seen):
                raise HTTPException(403)
            gate_checked.append(True)
        if len(received) >= MAX_FILES:
            raise UploadError("too_many_files")
        sink = MemorySink(settings.max_file_bytes)
        received.append((info, sink))
        return sink

    try:
        raw = await parse_multipart(request, open_file=open_file,
                                    max_file_bytes=settings.max_file_bytes,
                                    max_total_bytes=settings.max_report_bytes)
    except UploadTooLarge as exc:
        raise HTTPException(413) from exc
    except UploadError as exc:
        raise HTTPException(400) from exc
    fields = {name: values[0] for name, values in raw.items() if values}
    if not gate_checked and not gate(fields):
        raise HTTPException(403)
    form = UploadedForm(fields=fields)
    for info, sink in received:
        try:
            clean = await run_in_threadpool(strip_metadata, sink.data, info.filename,
                                            info.content_type)
            form.files.append((info.filename, clean))
        except UnsafeFile:
            form.rejected.append(info.filename)
        finally:
            sink.abort()  # drop the plaintext buffer as soon as it is sealed or refused
    return form
