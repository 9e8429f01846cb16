"""The kinds a reporter (or staff, for an offline report) may choose: the profile's (issue 10).

A case keeps two things: the *workflow kind* (`cases.kind`, a `ReportKind`: whistleblowing,
complaint, information request, aspiration), which decides who receives it and which limits run;
and the *profile kind* (`cases.profile_kind`), the regulation's own name for it, kept for the
staff pages and counted by the statistics. Jayapura's apresiasi and kritik are handled as
aspirations and its keluhan as a complaint (RULES §2 lists them beside the national kinds; the
routing of §2 and the limits of §5 are those of the workflow kind), but each keeps its label.

Whistleblowing is not a regional kind (RULES §2: it always goes straight to APIP) and is always
offered. A profile kind that is the national name of a workflow kind (pengaduan,
permintaan_informasi, aspirasi) is posted under the workflow kind's own value (`complaint`...),
so forms, API clients and links (`/lapor?jenis=complaint`) keep working; the others under their
key (`apresiasi`, `kritik`, `keluhan`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wbs.enums import ReportKind
from wbs.profiles.model import KindLabel

WHISTLEBLOWING_KEY = "whistleblowing"
# The national name of each workflow kind: the key a profile uses for it.
NATIONAL_KEY = {
    ReportKind.COMPLAINT: "pengaduan",
    ReportKind.INFORMATION_REQUEST: "permintaan_informasi",
    ReportKind.ASPIRATION: "aspirasi",
}
MAX_KEY = 40  # the column's width


@dataclass(frozen=True)
class KindChoice:
    value: str  # what the form posts
    key: str  # what the case stores as its profile kind
    handled_as: ReportKind
    label_id: str
    label_en: str

    @property
    def national(self) -> bool:
        """The national name of its workflow kind: labelled like it everywhere else."""
        return self.value == self.handled_as.value

    def label(self, lang: str) -> str:
        return self.label_id if lang == "id" else self.label_en


WHISTLEBLOWING = KindChoice(ReportKind.WHISTLEBLOWING.value, WHISTLEBLOWING_KEY,
                            ReportKind.WHISTLEBLOWING, "Whistleblowing", "Whistleblowing")


def _choice(kind: KindLabel) -> KindChoice:
    national = NATIONAL_KEY.get(kind.handled_as) == kind.key
    return KindChoice(kind.handled_as.value if national else kind.key, kind.key,
                      kind.handled_as, kind.label_id, kind.label_en)


def choices(kinds: Iterable[KindLabel], *, whistleblowing: bool = True) -> list[KindChoice]:
    """What a form offers: whistleblowing first (unless the staff member may not enter it),
    then the profile's kinds in the regulation's order."""
    offered = [WHISTLEBLOWING] if whistleblowing else []
    return offered + [_choice(k) for k in kinds]


def resolve(value: str, kinds: Sequence[KindLabel]) -> KindChoice | None:
    """The choice a posted value names under these profile kinds, or None: a kind the profile
    in force does not have (another profile's, a forged one) is not accepted."""
    for choice in choices(kinds):
        if value in (choice.value, choice.key):
            return choice
    return None


def accepted(kinds: Sequence[KindLabel]) -> list[str]:
    """Every value `resolve` accepts under these kinds, in the form's order: what the API
    documents as its kind enum (the posted value, and the profile's key where it differs)."""
    values: list[str] = []
    for choice in choices(kinds):
        for value in (choice.value, choice.key):
            if value not in values:
                values.append(value)
    return values


def answer_rule(key: str | None, kinds: Iterable[KindLabel]) -> str | None:
    """The answer limit the profile fixes for a stored profile kind (Jayapura: a keluhan is
    answered within answer_5, Ps 16(7)), or None: the verifier chooses 5/14/60. A kind the
    profile in force does not have fixes nothing."""
    found = next((k for k in kinds if key and k.key == key), None)
    return found.answer if found is not None else None


def national_key(kind: ReportKind) -> str:
    """The profile kind of a case filed without one (before issue 10, an import, the API)."""
    return NATIONAL_KEY.get(kind, kind.value)


def name_of(key: str, kinds: Iterable[KindLabel], lang: str) -> str:
    """A profile kind's label: from the profile in force, else from any shipped profile (a case
    filed under the profile used before), else the key itself."""
    from wbs.profiles.shipped import PROFILES

    known = [*kinds, *(k for p in PROFILES.values() for k in p.kinds)]
    found = next((k for k in known if k.key == key), None)
    if found is None:
        return key
    return found.label_id if lang == "id" else found.label_en


def label_of(key: str | None, workflow_kind: str, kinds: Iterable[KindLabel],
             lang: str) -> str | None:
    """The label of a stored profile kind, or None when it is just the workflow kind's national
    name (the page then shows the workflow kind's own label, as before)."""
    if not key or key == WHISTLEBLOWING_KEY:
        return None
    workflow = _workflow(workflow_kind)
    if workflow is not None and NATIONAL_KEY.get(workflow) == key:
        return None
    return name_of(key, kinds, lang)


def _workflow(value: str) -> ReportKind | None:
    try:
        return ReportKind(value)
    except ValueError:
        return None
