"""The one base class of refusals raised inside services (issue 8, finding 11).

Authorization (`wbs.access.authorize`) refuses before an act starts; a service can still refuse
while it runs: the unit chosen is the reported one, the member holds no key, the unit already
works on the case. Each such exception derives from `Refusal` and carries a stable `code`, so the
one place that runs acts on a case (`wbs.cases.service.with_case`) records every refusal as a
`denied` audit row, in a transaction of its own after the refused act was rolled back. No module
here imports anything: every layer can raise a refusal without an import circle.
"""

from __future__ import annotations


class Refusal(Exception):
    """An act refused while it ran. `code` names the rule; it goes to the audit row."""

    code: str = "refused"
