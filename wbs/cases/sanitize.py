"""Moved to `wbs.files` (one module per format, run in sandboxed workers); kept so that
`wbs.cases` modules importing `CleanFile` from here keep working until they import it from
`wbs.files` directly."""

from wbs.files import CleanFile, UnsafeFile, safe_download_name, strip_metadata

__all__ = ["CleanFile", "UnsafeFile", "safe_download_name", "strip_metadata"]
