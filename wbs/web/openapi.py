"""The OpenAPI 3.1 document of the reporter API, served at /api/v1/openapi.json.

`OPENAPI` is the document under the default profile; the route serves `document(kinds)`, whose
report kinds are those of the profile in force, exactly as the API validates them (issue 10).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from wbs.profiles import kinds as profile_kinds
from wbs.profiles.model import KindLabel
from wbs.profiles.shipped import DEFAULT_PROFILE, PROFILES

_STR = {"type": "string"}
_CODE = {"type": "string", "maxLength": 64,
         "description": "The secret code, e.g. ABCD-EFGH-JKMN-PQRS-TVWX-YZ01 (dashes optional)"}
_ERROR = {"type": "object", "properties": {"error": _STR, "detail": _STR, "fields": {
    "type": "object", "additionalProperties": _STR}}, "required": ["error"]}
_IDENTITY = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "maxLength": 200}, "nip": {"type": "string", "maxLength": 32},
    "address": {"type": "string", "maxLength": 500}, "phone": {"type": "string", "maxLength": 40},
    "email": {"type": "string", "maxLength": 254},
    "occupation": {"type": "string", "maxLength": 200}}}


def _kind_schema(kinds: Sequence[KindLabel]) -> dict[str, Any]:
    """Whistleblowing and the profile's kinds: each posted value the API accepts (the
    workflow kind's value, and the profile's own key where it differs, e.g. pengaduan)."""
    handled = "; ".join(f"{c.key}: {c.label_en}, handled as {c.handled_as.value}"
                        for c in profile_kinds.choices(kinds) if not c.national)
    schema: dict[str, Any] = {"type": "string", "enum": profile_kinds.accepted(kinds)}
    schema["description"] = ("The kinds of the regional profile in force"
                             + (f" ({handled})" if handled else "") + ".")
    return schema


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _ok(status: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {status: {"description": description,
                     "content": {"application/json": {"schema": schema}}}}


_RETRY = {"Retry-After": {"description": "seconds to wait before trying again",
                         "schema": {"type": "string"}}}


def _errors(*codes: str) -> dict[str, Any]:
    """The operation's own refusals, plus the two any call may meet: 429 (rate limits) and
    503 (database unreachable, server busy, disk low, intake not set up), both with
    Retry-After."""
    answers: dict[str, Any] = {
        c: {"description": "error", "content": {"application/json": {"schema": _ERROR}}}
        for c in codes}
    for busy in ("429", "503"):
        answers[busy] = {"description": "try again later", "headers": _RETRY,
                         "content": {"application/json": {"schema": _ERROR}}}
    return answers


_CODE_BODY = _json_body({"type": "object", "required": ["code"], "properties": {"code": _CODE}})

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "wbs reporter API", "version": "1",
             "description": "Anonymous reporting, status and mailbox by secret code. The code "
                            "is sent in the body of every call; it never appears in a URL. "
                            "Every call may answer 429 too_many_requests with Retry-After "
                            "(limits per client and per instance). A code printed by staff "
                            "intake shows the status only, and answers 409 "
                            "code_must_be_replaced elsewhere, until replaced through "
                            "/api/v1/mailbox/code."},
    "paths": {
        "/api/v1/reports": {"post": {
            "summary": "Submit a report",
            "parameters": [{
                "name": "Idempotency-Key", "in": "header", "required": False,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{32,128}$"},
                "description": "A random value (a UUID) per report. A retry with the same key "
                               "returns the first answer (for 30 minutes; then 409) instead of "
                               "filing the report again; the same key with another report "
                               "is refused (422)."}],
            "requestBody": _json_body({
                "type": "object", "required": ["kind", "title", "what"], "properties": {
                    "kind": _kind_schema(PROFILES[DEFAULT_PROFILE].kinds),
                    "title": {"type": "string", "maxLength": 200},
                    "what": {"type": "string", "maxLength": 20000},
                    "who": {"oneOf": [{"type": "string", "maxLength": 200}, {
                        "type": "object", "properties": {
                            "name": _STR, "nip": _STR, "agency": _STR, "position": _STR}}]},
                    "where": {"type": "string", "maxLength": 1000},
                    "when": {"type": "string", "maxLength": 200},
                    "how": {"type": "string", "maxLength": 20000},
                    "reported_unit": {"type": "string", "description": "unit slug"},
                    "identity": _IDENTITY}}),
            "responses": {**_ok("201", "Report received: keep the code, it is shown once", {
                "type": "object", "properties": {"case_number": _STR, "code": _STR,
                                                 "receipt": _STR, "received_on": _STR,
                                                 "first_response_on": _STR}}),
                **_errors("400", "409", "413", "415", "422")}}},
        "/api/v1/status": {"post": {
            "summary": "Status by code", "requestBody": _CODE_BODY,
            "responses": {**_ok("200", "Status", {"type": "object", "properties": {
                "case_number": _STR, "kind": _STR, "state": _STR, "state_label": _STR,
                "received_on": _STR, "next_deadline": {"type": ["string", "null"]},
                "timeline": {"type": "array", "items": {"type": "object", "properties": {
                    "state": _STR, "on": _STR}}}}}), **_errors("400", "404", "415")}}},
        "/api/v1/mailbox": {"post": {
            "summary": "Messages and attachments", "requestBody": _CODE_BODY,
            "responses": {**_ok("200", "Mailbox", {"type": "object"}),
                          **_errors("400", "404", "415")}}},
        "/api/v1/mailbox/messages": {"post": {
            "summary": "Send a message", "requestBody": _json_body({
                "type": "object", "required": ["code", "body"],
                "properties": {"code": _CODE, "body": {"type": "string", "maxLength": 20000}}}),
            "responses": {**_ok("201", "Sent", {"type": "object"}),
                          **_errors("400", "404", "409", "415", "422")}}},
        "/api/v1/mailbox/identity": {"post": {
            "summary": "Add identity (sealed)", "requestBody": _json_body({
                "type": "object", "required": ["code", "identity"],
                "properties": {"code": _CODE, "identity": _IDENTITY}}),
            "responses": {**_ok("201", "Sealed", {"type": "object"}),
                          **_errors("400", "404", "415", "422")}}},
        "/api/v1/mailbox/attachments": {"post": {
            "summary": "Add evidence files (multipart: the code field first, then files)",
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "properties": {"code": _CODE, "file": {
                    "type": "string", "format": "binary"}}}}}},
            "responses": {**_ok("201", "Stored", {"type": "object"}),
                          **_errors("400", "404", "409", "413", "422")}}},
        "/api/v1/mailbox/code": {"post": {
            "summary": "Replace a code printed by staff intake: the new code is returned once "
                       "and the old one stops working",
            "requestBody": _CODE_BODY,
            "responses": {**_ok("201", "The new code", {"type": "object", "properties": {
                "code": _CODE}}), **_errors("400", "404", "415", "429")}}},
        "/api/v1/receipts/verify": {"post": {
            "summary": "Verify a proof of submission", "requestBody": _json_body({
                "type": "object", "required": ["receipt"], "properties": {"receipt": _STR}}),
            "responses": {**_ok("200", "Result", {"type": "object", "properties": {
                "valid": {"type": "boolean"}, "case_number": _STR, "received_on": _STR}}),
                **_errors("400", "415")}}},
    },
}


def document(kinds: Sequence[KindLabel]) -> dict[str, Any]:
    """The document with the report kinds of the profile in force."""
    doc = copy.deepcopy(OPENAPI)
    body = doc["paths"]["/api/v1/reports"]["post"]["requestBody"]
    body["content"]["application/json"]["schema"]["properties"]["kind"] = _kind_schema(kinds)
    return doc
