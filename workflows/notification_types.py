"""Input of the notification drain workflow (its own module: payload types defined inside
a workflow module are decoded wrongly by the SDK, see TEMPORAL.md)."""

# No "from __future__ import annotations" here: these dataclasses cross the Temporal
# boundary, and the SDK resolves string annotations against sys.modules, which differs
# inside the workflow sandbox.

from dataclasses import dataclass


@dataclass
class DrainInput:
    interval_seconds: float = 10.0  # pause when a batch delivered nothing or left nothing due
    batch_size: int = 50  # notices claimed per activity call
    iterations_per_run: int = 500  # then continue-as-new, to keep the history small
