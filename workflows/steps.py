"""Human steps of a case: the update name each command travels under, from the step
declarations (``domain.steps``)."""

from domain import commands as c
from domain.steps import UPDATE_STEPS

HUMAN_STEPS: dict[str, type[c.Command]] = {name: s.command for name, s in UPDATE_STEPS.items()}
STEP_OF: dict[type[c.Command], str] = {cls: name for name, cls in HUMAN_STEPS.items()}

# The signal a merged duplicate sends to the case it was merged into.
DUPLICATE_SIGNAL = "record_duplicate"
