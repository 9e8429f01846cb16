"""The public HTML forms under arbitrary fields: a page or a redirect, never a 5xx.

A valid CSRF token is sent with every form, so the fuzzer reaches the handlers' own parsing
(a non-ASCII token itself is hard-b's). /lapor and the mailbox forms take multipart, the
others urlencoded, as the browser sends them.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.conftest import csrf_from
from tests.fuzz.test_api import api  # noqa: F401 - the fixture, rate limits raised
from tests.fuzz.test_validators import REPORT_KEYS, texts

URLENCODED = ["/status", "/kotak-pesan/masuk", "/verifikasi", "/bahasa", "/masuk",
              "/kotak-pesan/kode-baru"]
MULTIPART = ["/lapor", "/kotak-pesan/lampiran"]
FIELDS = [*REPORT_KEYS, "code", "body", "receipt", "lang", "next", "username", "password",
          "totp", "rating", "accept"]
values = st.one_of(texts, st.sampled_from(["complaint", "whistleblowing", "confidential",
                                           "en", "id", "/", "//evil.example", "1", "-1"]))
forms = st.dictionaries(st.sampled_from(FIELDS), values, max_size=8)


@given(st.sampled_from(URLENCODED), forms)
def test_urlencoded_forms_never_fail(api: TestClient, path: str,  # noqa: F811
                                     fields: dict[str, Any]) -> None:
    token = csrf_from(api, "/lapor")
    response = api.post(path, data={"csrf_token": token, **fields})
    assert response.status_code < 500, (path, fields, response.text[:300])


@given(st.sampled_from(MULTIPART), forms, st.binary(max_size=200),
       st.sampled_from(["bukti.png", "a.pdf", "", "x.exe", "../../etc/passwd"]))
def test_multipart_forms_never_fail(api: TestClient, path: str,  # noqa: F811
                                    fields: dict[str, Any], content: bytes, name: str) -> None:
    token = csrf_from(api, "/lapor")
    response = api.post(path, data={"csrf_token": token, **fields},
                        files=[("files", (name, content, "application/octet-stream"))])
    assert response.status_code < 500, (path, fields, response.text[:300])
