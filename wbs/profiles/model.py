"""What a regional rule profile holds (RULES §2, §4, §5; issue 10).

Everything the regulations leave to the region is one field here. A profile is plain data: the
shipped ones live in `shipped.py`, one per regulation; an administrator's local changes are
applied on top (`store.py`) and may never go below the floors that protect the reporter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from wbs.cases.sla import DEFAULT_RULES, DeadlineRule, meets_floor
from wbs.enums import Channel, Classification, ReportKind


class AutoArchive(StrEnum):
    """What happens when the reporter does not supply missing data in time."""

    ON = "on"  # archived by the jobs the day after the limit (Sanggau, Belitung Timur)
    STAFF = "staff"  # staff decide: the case waits for them (Jayapura Ps 14(4) "dapat")
    OFF = "off"  # never archived for that reason


class AutoClose(StrEnum):
    """How an answered case ends when nobody acts."""

    SILENCE = "silence"  # closed after the objection window with no response (Belitung Ps 27(1))
    SATISFACTION = "satisfaction"  # only when the reporter is satisfied (Jayapura Ps 16(8))


class Reminded(StrEnum):
    """Who is reminded before an answer limit ends (RULES §5)."""

    HANDLING_UNIT = "handling_unit"
    VERIFIER_TEAM = "verifier_team"  # the Admin Instansi / Tim, the regulations' monitor


ANSWER_RULES = ("answer_5", "answer_14", "answer_60")


@dataclass(frozen=True)
class KindLabel:
    """A kind as the regulation names it, and the workflow kind it is handled as."""

    key: str
    label_id: str
    label_en: str
    handled_as: ReportKind
    # The answer limit (a rule key, e.g. "answer_5") this kind always gets at disposition, when
    # the regulation fixes it (Jayapura Ps 16(7): a keluhan is answered in 5 days); None leaves
    # the 5/14/60 choice to the verifier.
    answer: str | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    title: str  # the regulation, as cited
    rules: Mapping[str, DeadlineRule]
    auto_archive: AutoArchive
    auto_close: AutoClose
    identity_required: bool  # for a complaint; never for whistleblowing (RULES §2)
    kinds: tuple[KindLabel, ...]
    classification_labels: Mapping[str, str]
    channels: tuple[Channel, ...]
    channel_names: tuple[str, ...]  # as the regulation lists them, for the public page
    reminded: tuple[Reminded, ...]
    timezone: str = "Asia/Jakarta"
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if set(self.rules) != set(DEFAULT_RULES):
            raise ValueError(f"profile {self.name!r} must state every deadline rule")
        for rule in self.rules.values():
            if not meets_floor(rule):
                raise ValueError(f"profile {self.name!r}: {rule.key} is below its floor")
        if any(k.handled_as is ReportKind.WHISTLEBLOWING for k in self.kinds):
            raise ValueError("whistleblowing is not a regional kind: it always goes to APIP")
        for kind in self.kinds:
            if kind.answer is not None and (kind.answer not in ANSWER_RULES
                                            or kind.answer not in self.rules):
                raise ValueError(f"profile {self.name!r}: {kind.key} names no answer limit")
        if set(self.classification_labels) != {c.value for c in Classification}:
            raise ValueError(f"profile {self.name!r} must label every classification")


def frozen(rules: Mapping[str, DeadlineRule]) -> Mapping[str, DeadlineRule]:
    return MappingProxyType(dict(rules))
