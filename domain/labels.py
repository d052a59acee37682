"""Labels of events for people: the field's Chinese term beside the English, derived from
the step declarations (``domain.steps``), where each is written once."""

from domain.steps import EMITS

EVENT_LABELS: dict[str, str] = {name: emitted.label for name, emitted in EMITS.items()}
EVENT_LABELS_ZH: dict[str, str] = {name: emitted.zh for name, emitted in EMITS.items()}
