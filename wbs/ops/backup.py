"""`wbs backup` and `wbs restore`: one sealed archive holding a consistent database snapshot and
the instance key files (DESIGN §6).

The case content inside the database is already sealed per case, but the instance keys (pepper,
signing keys) are not, and the metadata is in clear, so the whole archive is encrypted with age
(`pyrage`, the Rust implementation): either to a recipient public key (`age1…`) given at the
command line, or under a passphrase. For a passphrase the archive is encrypted to a fresh X25519
identity and that identity, a few hundred bytes, is encrypted under the passphrase (age's scrypt
recipient works on whole buffers only; this keeps a multi-gigabyte archive streaming).

Layout of the file::

    WBSBACKUP1\\n
    passphrase\\n | recipient\\n
    [passphrase only: 8-byte big-endian length, then the passphrase-sealed identity]
    age stream of an uncompressed tar: database/…, keys/…, manifest.json (last)

The manifest lists every member with its SHA-256 and size and the SHA-256 of the clear header
above, so a changed byte anywhere is refused: in the header by the manifest, in the stream by
age's per-chunk authentication (truncation included). Restore decrypts and checks everything
into a private temporary folder before it writes a single byte to the instance.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pyrage
from pyrage import x25519
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

from wbs import instance
from wbs.settings import Settings

MAGIC = b"WBSBACKUP1\n"
FORMAT = 1
_CHUNK = 1 << 20
_MAX_IDENTITY_BLOB = 4096
Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what the operator can do."""


@dataclass(frozen=True)
class Restored:
    manifest: dict[str, Any]
    members: int


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


# --- database snapshots -------------------------------------------------------------------

def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_target(url: str) -> tuple[str, dict[str, str], str | None]:
    """libpq URI without the password (it goes in the environment, never argv), and the schema
    named by a `search_path` option, if any (the tests run each in a schema of its own)."""
    parsed = make_url(url)
    env = dict(os.environ)
    # libpq takes a password in the URI's query too (`?password=`): it leaves the query here,
    # like the one before the host, for the environment.
    query = {k: v for k, v in parsed.query.items() if k != "password"}
    given = parsed.query.get("password")
    in_query = given[-1] if isinstance(given, tuple) else given
    if parsed.password or in_query:
        env["PGPASSWORD"] = str(parsed.password or in_query)
    schema = None
    options = parsed.query.get("options")
    if isinstance(options, str) and "search_path=" in options:
        schema = options.split("search_path=", 1)[1].split()[0].split(",")[0]
    # `URL.set(password=None)` keeps the password (None means "unchanged"): build the URL anew.
    libpq = URL.create("postgresql", username=parsed.username, host=parsed.host,
                       port=parsed.port, database=parsed.database, query=query)
    return libpq.render_as_string(hide_password=False), env, schema


def _tool(name: str) -> str:
    """The PostgreSQL client program by absolute path (it must match the server's major version
    or be newer; Debian's postgresql-client does)."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def _snapshot(url: str, folder: Path) -> Path:
    if _is_sqlite(url):
        target = folder / "wbs.sqlite3"
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(target)
        try:
            # One step (pages=-1): the copy is made inside a single read transaction, so it is a
            # consistent snapshot; under WAL, writers go on meanwhile.
            source.backup(copy, pages=-1)
        finally:
            copy.close()
            source.close()
        return target
    target = folder / "wbs.pgdump"
    libpq, env, schema = _pg_target(url)
    # pg_dump reads in one REPEATABLE READ transaction: a consistent snapshot while we serve.
    args = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
            f"--file={target}"]
    if schema:
        args.append(f"--schema={schema}")
    result = subprocess.run([*args, libpq], env=env, capture_output=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError("pg_dump failed: " + result.stderr.decode(errors="replace")[-400:])
    return target


# --- the tar stream, produced lazily so nothing clear is written but the snapshot ----------

def _members(settings: Settings, snapshot: Path) -> list[tuple[str, Path]]:
    members = [(f"database/{snapshot.name}", snapshot)]
    for path in sorted(settings.keys_dir.iterdir()):
        if path.is_file() and not path.name.startswith(".") and path.name != "README.md":
            members.append((f"keys/{path.name}", path))
    return members


def _tar_stream(members: list[tuple[str, Path]], header_digest: str, db_kind: str,
                revision: str | None, progress: Progress) -> Iterator[bytes]:
    total = sum(path.stat().st_size for _, path in members)
    done = 0
    files: dict[str, dict[str, Any]] = {}
    for name, path in members:
        digest = hashlib.sha256()
        size = path.stat().st_size
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, 0
        yield info.tobuf(format=tarfile.PAX_FORMAT)
        with path.open("rb") as fh:
            sent = 0
            while sent < size:
                chunk = fh.read(min(_CHUNK, size - sent))
                if not chunk:
                    raise BackupError(f"{name} shrank while it was read")
                digest.update(chunk)
                sent += len(chunk)
                done += len(chunk)
                progress("backup", done, total)
                yield chunk
        yield b"\0" * (-size % tarfile.BLOCKSIZE)
        files[name] = {"sha256": digest.hexdigest(), "bytes": size}
    manifest = json.dumps({
        "format": FORMAT, "created": datetime.now(UTC).date().isoformat(), "database": db_kind,
        "alembic_revision": revision, "header_sha256": header_digest, "files": files,
    }, indent=2, sort_keys=True).encode()
    info = tarfile.TarInfo("manifest.json")
    info.size, info.mode, info.mtime = len(manifest), 0o600, 0
    yield info.tobuf(format=tarfile.PAX_FORMAT)
    yield manifest + b"\0" * (-len(manifest) % tarfile.BLOCKSIZE)
    yield b"\0" * (2 * tarfile.BLOCKSIZE)


class _IterReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks, for age's streaming encryptor."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    finally:
        engine.dispose()


def create(settings: Settings, dest: Path, *, passphrase: str | None = None,
           recipient: str | None = None, progress: Progress = _quiet) -> Path:
    """Write a sealed backup of the running instance to `dest` (refuses to overwrite)."""
    if (passphrase is None) == (recipient is None):
        raise BackupError("give either a passphrase or a recipient public key")
    if dest.exists():
        raise BackupError(f"{dest} exists; choose a new file name")
    instance.load_keys(settings.keys_dir)  # the keys must be sound before we copy them
    if passphrase is not None:
        if len(passphrase) < 12:
            raise BackupError("the passphrase must have at least 12 characters")
        identity = x25519.Identity.generate()
        sealed_identity = pyrage.passphrase.encrypt(str(identity).encode(), passphrase)
        header = (MAGIC + b"passphrase\n" + len(sealed_identity).to_bytes(8, "big")
                  + sealed_identity)
        to = identity.to_public()
    else:
        try:
            to = x25519.Recipient.from_str(recipient or "")
        except pyrage.RecipientError as exc:
            raise BackupError("the recipient is not an age public key (age1…)") from exc
        header = MAGIC + b"recipient\n"
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".wbs-backup-", dir=dest.parent))
    partial = dest.with_name(dest.name + ".partial")
    try:
        snapshot = _snapshot(settings.database_url, work)
        kind = "sqlite" if _is_sqlite(settings.database_url) else "postgresql"
        stream = _tar_stream(_members(settings, snapshot), hashlib.sha256(header).hexdigest(),
                             kind, _revision(settings.database_url), progress)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(header)
            pyrage.encrypt_io(_IterReader(stream), out, [to])
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    return dest


# --- restore ---------------------------------------------------------------------------------

def needs_passphrase(source: Path) -> bool:
    """Whether the backup at `source` is sealed with a passphrase (its clear header says so);
    False for one sealed to a key, and for anything unreadable (restore then says why)."""
    try:
        with source.open("rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC and fh.readline(32) == b"passphrase\n"
    except OSError:
        return False


def _read_header(fh: IO[bytes], passphrase: str | None,
                 identity_text: str | None) -> tuple[bytes, x25519.Identity]:
    if fh.read(len(MAGIC)) != MAGIC:
        raise BackupError("not a wbs backup (or a damaged one)")
    mode = fh.readline(32)
    header = MAGIC + mode
    if mode == b"passphrase\n":
        if passphrase is None:
            raise BackupError("this backup is sealed with a passphrase")
        length = int.from_bytes(fh.read(8), "big")
        if not 0 < length <= _MAX_IDENTITY_BLOB:
            raise BackupError("the backup header is damaged")
        blob = fh.read(length)
        header += length.to_bytes(8, "big") + blob
        try:
            identity = x25519.Identity.from_str(
                pyrage.passphrase.decrypt(blob, passphrase).decode())
        except (pyrage.DecryptError, pyrage.IdentityError, UnicodeDecodeError) as exc:
            raise BackupError("wrong passphrase, or the backup is damaged") from exc
        return header, identity
    if mode == b"recipient\n":
        if identity_text is None:
            raise BackupError("this backup is sealed to a public key: give its identity file")
        try:
            return header, x25519.Identity.from_str(identity_text.strip())
        except pyrage.IdentityError as exc:
            raise BackupError("the identity file holds no age secret key") from exc
    raise BackupError("the backup header is damaged")


def _checked(folder: Path, header: bytes) -> tuple[dict[str, Any], dict[str, Path]]:
    """Open the decrypted tar, check every member against the manifest, extract into `folder`."""
    with tarfile.open(folder / "archive.tar", "r:") as tar:
        names = tar.getnames()
        if len(names) != len(set(names)) or "manifest.json" not in names:
            raise BackupError("the backup's contents are damaged (manifest)")
        member = tar.getmember("manifest.json")
        manifest_file = tar.extractfile(member)
        if manifest_file is None:
            raise BackupError("the backup's contents are damaged (manifest)")
        manifest = json.loads(manifest_file.read())
        if manifest.get("format") != FORMAT:
            raise BackupError("this backup was made by a newer wbs")
        if manifest.get("header_sha256") != hashlib.sha256(header).hexdigest():
            raise BackupError("the backup header was altered")
        files: dict[str, dict[str, Any]] = manifest["files"]
        if set(names) != {*files, "manifest.json"}:
            raise BackupError("the backup holds files its manifest does not list")
        extracted: dict[str, Path] = {}
        for name, expected in files.items():
            top, _, leaf = name.partition("/")
            if top not in {"database", "keys"} or not leaf or "/" in leaf or leaf.startswith("."):
                raise BackupError(f"unexpected member {name!r} in the backup")
            info = tar.getmember(name)
            source = tar.extractfile(info)
            if not info.isfile() or source is None:
                raise BackupError(f"unexpected member {name!r} in the backup")
            path = folder / top / leaf
            path.parent.mkdir(mode=0o700, exist_ok=True)
            digest = hashlib.sha256()
            with path.open("xb") as out:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected["sha256"] or path.stat().st_size != expected["bytes"]:
                raise BackupError(f"{name} does not match the manifest's checksum")
            extracted[name] = path
    return manifest, extracted


def _live(settings: Settings) -> bool:
    if instance.keys_exist(settings.keys_dir):
        return True
    url = settings.database_url
    if _is_sqlite(url) and not _sqlite_path(url).exists():
        return False
    return _revision(url) is not None


def _install_database(url: str, snapshot: Path) -> None:
    if _is_sqlite(url):
        target = _sqlite_path(url)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staged = target.with_name(target.name + ".restoring")
        shutil.copyfile(snapshot, staged)
        os.chmod(staged, 0o600)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(staged, target)
        return
    libpq, env, _schema = _pg_target(url)
    result = subprocess.run(  # noqa: S603
        [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
         "--exit-on-error", f"--dbname={libpq}", str(snapshot)],
        env=env, capture_output=True, check=False)
    if result.returncode != 0:
        raise BackupError("pg_restore failed: " + result.stderr.decode(errors="replace")[-400:])


def restore(settings: Settings, source: Path, *, passphrase: str | None = None,
            identity_text: str | None = None, force: bool = False,
            progress: Progress = _quiet) -> Restored:
    """Check the whole backup, then install it. Nothing is written before every check passed."""
    work_parent = settings.data_dir.resolve().parent
    work_parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".wbs-restore-", dir=work_parent))
    try:
        total = source.stat().st_size
        with source.open("rb") as fh:
            header, identity = _read_header(fh, passphrase, identity_text)
            fd = os.open(work / "archive.tar", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                try:
                    pyrage.decrypt_io(_Counting(fh, total, progress), out, [identity])
                except (OSError, pyrage.DecryptError) as exc:
                    raise BackupError("the backup is damaged or was altered; nothing was "
                                      "restored") from exc
        manifest, extracted = _checked(work, header)
        database_kind = "sqlite" if _is_sqlite(settings.database_url) else "postgresql"
        if manifest["database"] != database_kind:
            raise BackupError(f"this is a {manifest['database']} backup; WBS_DATABASE_URL "
                              f"names a {database_kind} database")
        if _live(settings) and not force:
            raise BackupError("an instance exists here (keys or database); restore refuses to "
                              "overwrite it without --force")
        database = next(p for n, p in extracted.items() if n.startswith("database/"))
        _install_database(settings.database_url, database)
        settings.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name, path in extracted.items():
            if name.startswith("keys/"):
                target = settings.keys_dir / name.removeprefix("keys/")
                staged = target.with_name(target.name + ".restoring")
                staged.unlink(missing_ok=True)
                shutil.copyfile(path, staged)
                os.chmod(staged, 0o600)
                os.replace(staged, target)
        return Restored(manifest=manifest, members=len(extracted))
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _Counting(io.RawIOBase):
    """Reads through to the backup file, reporting progress."""

    def __init__(self, fh: IO[bytes], total: int, progress: Progress) -> None:
        self._fh, self._total, self._progress = fh, total, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._fh.read(len(buffer))
        buffer[: len(data)] = data
        self._progress("restore", self._fh.tell(), self._total)
        return len(data)
