"""Words for the codes the staff pages show: audit actions, their details, deadline rules.

The database and the audit log keep stable codes (`case.transition.answer`, `answer_14`); people
read labels. Labels are English message ids translated at render time, like the role labels.
An unknown code is shown as it is: a label missing for a new action must never hide the entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from jinja2 import Environment

from wbs.cases.sla import DayUnit, DeadlineRule
from wbs.web.i18n import N_, gettext

TRANSITIONS: Mapping[str, str] = {
    "verify_and_dispose": N_("verified and dispositioned"),
    "request_info": N_("asked the reporter for missing data"),
    "reporter_supplies_info": N_("the reporter supplied the missing data"),
    "archive": N_("archived"),
    "forward_external": N_("forwarded (not our authority)"),
    "hand_to_apip": N_("handed over to APIP"),
    "apip_intake": N_("accepted by APIP for examination"),
    "start_processing": N_("processing started"),
    "return_disposition": N_("disposition returned"),
    "add_disposition": N_("dispositioned to another unit"),
    "answer": N_("answered"),
    "reporter_accepts": N_("the reporter accepted the answer"),
    "reporter_objects": N_("the reporter objected to the answer"),
    "reporter_responds": N_("the reporter replied to the answer"),
    "answer_aspiration": N_("aspiration answered by the verifier"),
    "auto_archive": N_("archived automatically (missing data not supplied)"),
    "auto_close": N_("closed automatically (no objection in time)"),
    "coordinator_close": N_("declared closed by the coordinating team"),
    "request_reexamination": N_("the reporter asked for a re-examination"),
    "reporter_requests_apip": N_("the reporter asked for APIP"),
}

AUDIT_ACTIONS: Mapping[str, str] = {
    "access.case": N_("Access to a case"),
    "access.route": N_("Access to a page"),
    "attachment.download": N_("Evidence file downloaded"),
    "attachment.reporter_add": N_("Evidence added by the reporter"),
    "audit.export": N_("Audit log exported (CSV)"),
    "audit.verify": N_("Audit log verified"),
    "audit.view": N_("Audit log viewed"),
    "auth.password_change": N_("Password changed"),
    "auth.sign_in": N_("Sign-in"),
    "auth.sign_out": N_("Sign-out"),
    "case.conflict_declared": N_("Conflict of interest declared"),
    "case.export": N_("Referral dossier exported"),
    "case.intake": N_("Report received offline entered"),
    "case.purpose": N_("Purpose of access stated"),
    "case.status_view": N_("Status checked by the reporter"),
    "case.submit": N_("Report submitted"),
    "case.view": N_("Case opened"),
    "config.branding": N_("Portal identity and contacts changed"),
    "config.calendar": N_("Calendar correction saved"),
    "config.calendar_remove": N_("Calendar correction removed"),
    "config.rule": N_("Deadline rule changed"),
    "config.category": N_("Report category added or changed"),
    "config.stat_target": N_("Yearly target saved"),
    "stats.view": N_("Statistics viewed"),
    "stats.export": N_("Statistics exported (CSV)"),
    "deadline.escalate": N_("Deadline missed: escalated"),
    "deadline.remind": N_("Deadline reminder sent"),
    "deadline.staff_decide": N_("Time for missing data passed: staff decide"),
    "case.shield_reported_unit": N_("Reported unit kept out of the complaint (conflict)"),
    "config.profile": N_("Regional rule profile chosen"),
    "config.profile_change": N_("Regional rule profile changed"),
    "identity.add": N_("Identity added by the reporter"),
    "identity.decide": N_("Identity request decided"),
    "identity.disclose": N_("Identity disclosed"),
    "identity.disclosure_expired": N_("Identity disclosure expired"),
    "identity.request_expired": N_("Identity request expired undecided"),
    "identity.request": N_("Identity disclosure requested"),
    "identity.view": N_("Identity viewed"),
    "key.unit.grant": N_("Access to a unit's key granted"),
    "mailbox.open": N_("Mailbox opened by the reporter"),
    "mailbox.read": N_("Mailbox read by the reporter"),
    "message.reporter": N_("Message from the reporter"),
    "message.staff": N_("Message to the reporter"),
    "staff.activity_view": N_("Staff activity viewed"),
    "stats.overview_view": N_("Overview viewed"),
    "unit.create": N_("Unit created"),
    "user.create": N_("Account created"),
    "user.disable": N_("Account disabled"),
}

DETAIL_KEYS: Mapping[str, str] = {
    "from": N_("from"),
    "to": N_("to"),
    "classification": N_("result of examination"),
    "resolution_days": N_("time to answer (working days)"),
    "units": N_("units"),
    "unit": N_("unit"),
    "target": N_("forwarded to"),
    "why": N_("why"),
    "permission": N_("permission"),
    "route": N_("page"),
    "request": N_("request no."),
    "approve": N_("approved"),
    "to_role": N_("to role"),
    "expires": N_("until"),
    "format": N_("format"),
    "identity_included": N_("identity included"),
    "day": N_("day"),
    "working": N_("working day"),
    "label": N_("name"),
    "rule": N_("rule"),
    "amount": N_("amount"),
    "deadline": N_("deadline"),
    "due_on": N_("due"),
    "outcome": N_("outcome"),
    "suggested_unit": N_("suggested unit"),
    "attachment": N_("file no."),
    "count": N_("files"),
    "member": N_("member"),
    "username": N_("user name"),
    "role": N_("role"),
    "step": N_("step"),
    "fields": N_("fields"),
    "as_of": N_("as of"),
    "cases": N_("cases"),
    "logo_sha256": N_("logo fingerprint (SHA-256)"),
}

RULES: Mapping[str, str] = {
    "verification": N_("Verification and disposition (or APIP intake), from receipt"),
    "answer_5": N_("Answer: information request or normative complaint"),
    "answer_14": N_("Answer: no oversight content, no field check"),
    "answer_60": N_("Answer: oversight content and a field check"),
    "reminder_5": N_("Reminder before the 5-day answer limit"),
    "reminder_14": N_("Reminder before the 14-day answer limit"),
    "reminder_60": N_("Reminder before the 60-day answer limit"),
    "missing_data": N_("Reporter supplies missing data, from the request"),
    "objection": N_("Reporter may object, from the answer"),
    "decision": N_("Decision on an examined complaint"),
    "decision_delivery": N_("Decision delivered to the reporter"),
}

STATES: Mapping[str, str] = {
    "received": N_("Not yet verified"),
    "needs_info": N_("Pending: more information needed"),
    "verified": N_("Dispositioned, not yet followed up"),
    "in_process": N_("Dispositioned, being processed"),
    "answered": N_("Answered"),
    "closed": N_("Dispositioned, completed"),
    "archived": N_("Archived"),
    "forwarded": N_("Forwarded"),
}

OUTCOMES: Mapping[str, str] = {
    "needs_oversight": N_("Needs oversight (berkadar pengawasan)"),
    "no_oversight": N_("No oversight needed (tidak berkadar pengawasan)"),
    "other": N_("Other (lain-lain)"),
    "not_proven": N_("Not proven"),
    "administrative": N_("Administrative findings and recommendations"),
    "referral_kpk": N_("Referral to the KPK"),
    "referral_kejaksaan": N_("Referral to the Kejaksaan"),
    "referral_polri": N_("Referral to the Polri"),
}
FORWARD_TARGETS: Mapping[str, str] = {
    "sp4n_lapor": N_("National SP4N-LAPOR! administrator"),
    "other_agency": N_("Another agency"),
}

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def audit_action(code: str) -> str:
    """`case.transition.answer` → "Status change: answered"; unknown codes as they are."""
    prefix = "case.transition."
    if code.startswith(prefix):
        step = TRANSITIONS.get(code[len(prefix):])
        if step is not None:
            return gettext("Status change: %(step)s") % {"step": gettext(step)}
    label = AUDIT_ACTIONS.get(code)
    return gettext(label) if label else code


def detail_key(key: str) -> str:
    label = DETAIL_KEYS.get(key)
    return gettext(label) if label else key


def detail_value(key: str, value: str, lang: str | None) -> str:
    """A detail's value in words where it is a known code, a date, or yes/no."""
    from wbs.web.formatting import long_date

    if value == "true":
        return gettext("yes")
    if value == "false":
        return gettext("no")
    if key in ("from", "to") and value in STATES:
        return gettext(STATES[value])
    if key in ("classification", "outcome") and value in OUTCOMES:
        return gettext(OUTCOMES[value])
    if key == "target" and value in FORWARD_TARGETS:
        return gettext(FORWARD_TARGETS[value])
    if key == "rule" and value in RULES:
        return gettext(RULES[value])
    if key == "deadline" and value in DEADLINE_KINDS:
        return gettext(DEADLINE_KINDS[value])
    if key == "unit" and value in ("working_days", "calendar_days"):
        return gettext("working days") if value == "working_days" else gettext("calendar days")
    if _DAY.fullmatch(value):
        return long_date(value, lang)
    return value


DEADLINE_KINDS: Mapping[str, str] = {
    "verification": N_("Verification and disposition"),
    "answer": N_("Answer to the reporter"),
    "missing_data": N_("Reporter supplies missing data"),
    "objection": N_("Reporter may object"),
    "decision": N_("Decision"),
    "decision_delivery": N_("Decision delivered to the reporter"),
}


def rule(key: str) -> str:
    label = RULES.get(key)
    return gettext(label) if label else key


def limit(value: DeadlineRule | None) -> str:
    """A limit as the reader should count it: "10 hari kerja", "30 hari" (issue 10).

    Every limit a page shows goes through here, from the rule in force, so that no text can
    promise 10 working days where the Pemda configured 30 calendar days."""
    if value is None:
        return ""
    # Plain gettext, not ngettext: Indonesian has one form, and English needs only "1 ...".
    if value.unit is DayUnit.WORKING_DAYS:
        if value.amount == 1:
            return gettext("1 working day")
        return gettext("%(num)s working days") % {"num": value.amount}
    if value.amount == 1:
        return gettext("1 day")
    return gettext("%(num)s days") % {"num": value.amount}


def profile_kind(key: str | None, workflow_kind: str, lang: str) -> str:
    """The regulation's name of a case's kind (issue 10: keluhan, apresiasi, kritik), or ""
    when it is the workflow kind's national name, which the page labels as before. Kinds are
    shipped with the profiles (an administrator cannot add any), so their labels are found
    there whichever profile is in force now."""
    from wbs.profiles import kinds

    return kinds.label_of(key, workflow_kind, (), lang) or ""


def install(env: Environment) -> None:
    env.globals.update(audit_action_label=audit_action, detail_key_label=detail_key,
                       detail_value_label=detail_value, rule_label=rule, limit_text=limit,
                       profile_kind_label=profile_kind)
