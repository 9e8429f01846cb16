"""Multipart forms with evidence files: streamed, capped, gated, then cleaned in a sandbox.

What can be checked before the body is read is checked first, at no cost to anyone: the content
type, the declared length, the CSRF cookie (pages), and whether the upload budget has room for
what the request announces (else 503 with Retry-After at once, rather than after the reporter
has sent 100 MB for nothing). The CSRF token (pages) or the code (API) must arrive before the
first file part, so a forged or anonymous request is refused before a single file byte is
accepted. A check that needs the database (the API's code) is the `check` of `read_upload_form`:
it is awaited in the thread pool between two chunks of the body, since the parser's callbacks
run on the event loop, where a database call would stall every request of the worker.

Memory is bounded by a per-process byte budget (`upload_budget`), not by slots: each chunk is
counted as it arrives, cleaned copies replace the raw ones in the count, and the request gives
its bytes back only when its response has been sent, after sealing and storing. Body time limits
are enforced for every request by `body_limits`. Cleaning runs in sandboxed worker processes
(`wbs.files.sandbox`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from starlette.exceptions import HTTPException
from starlette.requests import Request

from wbs import logs
from wbs.files import CleanFile, UnsafeFile
from wbs.files.sandbox import Sandbox, SandboxBusy
from wbs.ops import health
from wbs.settings import Settings
from wbs.web import security, text_input
from wbs.web.body_limits import register_lease
from wbs.web.i18n import N_, gettext
from wbs.web.upload_budget import BudgetExhausted, ByteBudget, Lease
from wbs.web.uploads import (
    MemorySink,
    PartInfo,
    UploadError,
    UploadTooLarge,
    declared_length,
    parse_multipart,
)

MAX_FILES = 20
# Room for the text fields and the multipart framing, on top of the files' own cap: the cap a
# reporter is told about ("100 MB in total") counts file bytes only.
FORM_OVERHEAD_BYTES = 1024 * 1024
RETRY_AFTER_SECONDS = 60
LOW_DISK_RETRY_SECONDS = 3600  # an operator has to free space: not a matter of seconds

# Why a file was refused, shown next to its name (message ids are English; see messages.po).
REASONS: dict[str, str] = {
    "image_too_large": N_("the image is too large (more than 50 megapixels); please send a "
                          "smaller copy"),
    "pdf_too_many_pages": N_("the PDF has too many pages (more than 2,000); please send only "
                             "the pages that matter"),
    "file_too_complex": N_("the file needs too much memory or time to be cleaned safely"),
    "encrypted_pdf": N_("the PDF is protected by a password; please send it without one"),
    "unreadable_image": N_("the image is damaged or is not what its type says"),
    "unreadable_pdf": N_("the PDF is damaged or could not be read"),
    "strip_failed": N_("its hidden information (metadata) could not be removed"),
    "file_too_large": N_("the file is larger than the limit for one file"),
}
_ARCHIVE_REASON = N_("the document archive is damaged, too large or unusual")


class RejectedFile(str):
    """The name of a refused file (what templates and the API show), and why it was refused.

    Rendered in a template, it reads "name: reason" in the page's language (`__html__` is how
    Jinja's autoescape renders an object); as a plain string and in JSON it is the name alone.
    """

    reason: str

    def __new__(cls, name: str, reason: str) -> RejectedFile:
        obj = super().__new__(cls, name)
        obj.reason = reason
        return obj

    def message(self) -> str:
        text = REASONS.get(self.reason) or (
            _ARCHIVE_REASON if self.reason.startswith("archive") else REASONS["strip_failed"])
        return gettext(text)

    def __html__(self) -> Markup:
        return escape(str(self)) + Markup(": ") + escape(self.message())


@dataclass
class UploadedForm:
    fields: dict[str, str]
    files: list[tuple[str, CleanFile]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # RejectedFile: name and reason
    # The request's share of the byte budget: files held from an earlier post are counted in it.
    lease: Lease | None = field(default=None, repr=False)


class CsrfGate:
    """The gate of every staff and reporter page form: a valid CSRF token before any file."""

    def __init__(self, request: Request) -> None:
        self._key = request.app.state.ctx.keys.derived("csrf")
        self._request = request

    def precheck(self) -> None:
        # Without the cookie no token can be valid: refuse before reading the body.
        if security.csrf_cookie_value(self._request) is None:
            raise HTTPException(403)

    def __call__(self, fields: Mapping[str, str]) -> bool:
        return security.csrf_valid(self._key, self._request, fields.get(security.CSRF_FIELD))


def csrf_gate(request: Request) -> CsrfGate:
    return CsrfGate(request)


def refuse_when_disk_low(settings: Settings) -> None:
    """Refuse a submission before reading a byte when the disk is nearly full: a report that
    cannot be stored whole is not taken (wbs/ops/health.py)."""
    if health.disk_low(settings):
        logs.event("low_disk_refusal", 40)
        raise HTTPException(503, detail=health.LOW_DISK,
                            headers={"Retry-After": str(LOW_DISK_RETRY_SECONDS)})


def busy() -> HTTPException:
    return HTTPException(503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


Gate = Callable[[Mapping[str, str]], bool]
Check = Callable[[Mapping[str, str]], Awaitable[bool]]


async def read_upload_form(request: Request, gate: Gate, *, check: Check | None = None,
                           refuse_large_files: bool = False) -> UploadedForm:
    """Parse, enforce caps (413), the gate (403) and the budget (503); clean every file.

    `gate` sees the text fields before the first file part, inside the parser (no I/O there);
    `check`, when given, sees the same fields once the chunk that began the first file is
    parsed, before the next one is read: a refusal (403) drops what that one chunk brought of
    the file, and no further byte of the body is read. Without a file, both see every field.

    With `refuse_large_files`, a file over the one-file cap is not a 413 that loses the whole
    form but a refused file (`file_too_large`) whose bytes are dropped as they arrive: the form
    comes back with what was typed in it. The request's total cap stays a 413."""
    settings = request.app.state.ctx.settings
    cap = settings.max_report_bytes
    try:
        declared = declared_length(request)
    except UploadError as exc:
        raise HTTPException(400) from exc
    if declared is not None and declared > cap + FORM_OVERHEAD_BYTES:
        raise HTTPException(413)
    precheck = getattr(gate, "precheck", None)
    if precheck is not None:
        precheck()
    refuse_when_disk_low(settings)
    budget: ByteBudget = request.app.state.upload_budget
    wait = settings.upload_wait_seconds
    if declared is not None and not await budget.wait_for_room(min(declared, budget.capacity),
                                                               wait):
        raise busy()
    lease = Lease(budget, wait)
    register_lease(request.scope, lease)
    raw_form = await _parse(request, gate, check, lease, refuse_large_files)
    form = await _clean_all(request.app.state.sandbox, raw_form, lease)
    form.lease = lease
    return form


@dataclass
class _RawForm:
    fields: dict[str, str]
    received: list[tuple[PartInfo, MemorySink]]


class _CappedSink(MemorySink):
    """A sink that drops a file over `cap` instead of failing the request: it keeps nothing of
    it and says so (`oversized`); `received` counts the bytes the budget took for it."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self._cap = cap
        self.oversized = False
        self.received = 0

    def write(self, data: bytes) -> None:
        self.received += len(data)
        if self.oversized:
            return
        if self.size + len(data) > self._cap:
            self.abort()
            self.oversized = True
            return
        super().write(data)


async def _parse(request: Request, gate: Gate, check: Check | None,
                 lease: Lease, refuse_large_files: bool = False) -> _RawForm:
    settings = request.app.state.ctx.settings
    received: list[tuple[PartInfo, MemorySink]] = []
    gate_checked: list[bool] = []
    unchecked: list[Mapping[str, str]] = []  # the fields `check` has still to see

    def open_file(info: PartInfo, seen: Mapping[str, str]) -> MemorySink:
        if not gate_checked:
            if not gate(seen):
                raise HTTPException(403)
            gate_checked.append(True)
            if check is not None:
                unchecked.append(seen)
        if len(received) >= MAX_FILES:
            raise UploadError("too_many_files")
        sink = (_CappedSink(settings.max_file_bytes) if refuse_large_files
                else MemorySink(settings.max_file_bytes))
        received.append((info, sink))
        return sink

    async def settle() -> None:
        # After the chunk that began the first file is parsed, before another is read.
        if check is not None and unchecked and not await check(unchecked.pop()):
            raise HTTPException(403)

    async def before_chunk(size: int) -> None:
        try:
            await lease.take(size)
        except BudgetExhausted:
            raise busy() from None

    try:
        raw = await parse_multipart(request, open_file=open_file,
                                    max_file_bytes=settings.max_report_bytes
                                    if refuse_large_files else settings.max_file_bytes,
                                    max_total_bytes=settings.max_report_bytes
                                    + FORM_OVERHEAD_BYTES,
                                    max_files_bytes=settings.max_report_bytes,
                                    before_chunk=before_chunk, after_chunk=settle)
    except UploadTooLarge as exc:
        raise HTTPException(413) from exc
    except UploadError as exc:
        raise HTTPException(400) from exc
    fields = {name: values[0] for name, values in raw.items() if values}
    if not gate_checked and not (gate(fields) and (check is None or await check(fields))):
        raise HTTPException(403)
    try:
        fields = text_input.clean_fields(fields)  # after the gate: a forged post learns nothing
    except text_input.BadText:
        raise HTTPException(400) from None
    return _RawForm(fields, received)


async def _clean_all(sandbox: Sandbox, raw: _RawForm, lease: Lease) -> UploadedForm:
    form = UploadedForm(fields=raw.fields)
    pending = list(raw.received)
    try:
        # One file at a time per request: the raw files plus one cleaned copy are what the
        # request holds at its peak, and the budget counts exactly that.
        while pending:
            info, sink = pending.pop(0)
            if isinstance(sink, _CappedSink) and sink.oversized:
                form.rejected.append(RejectedFile(info.filename, "file_too_large"))
                lease.replace(sink.received, 0)
                continue
            buffer = sink.take_buffer()
            size = len(buffer)
            try:
                clean = await sandbox.clean(buffer, info.filename, info.content_type)
            except UnsafeFile as exc:
                form.rejected.append(RejectedFile(info.filename, exc.reason))
                _wipe(buffer)
                lease.replace(size, 0)
                continue
            except SandboxBusy:
                _wipe(buffer)
                raise busy() from None
            if clean.data is not buffer:
                _wipe(buffer)  # the plaintext original goes as soon as its clean copy exists
                lease.replace(size, len(clean.data))
            form.files.append((info.filename, clean))
    finally:
        for _info, sink in pending:
            sink.abort()
    return form


def _wipe(buffer: bytearray) -> None:
    # Best effort, like MemorySink.abort: the parser's chunks may have left copies.
    buffer[:] = bytes(len(buffer))
    del buffer[:]
