"""Who acts on a case: roles of the field (docs/field-facts.md §2) and the acting person."""

from dataclasses import dataclass, field
from enum import StrEnum

from domain.inputs import texts
from domain.text import TextRule

# A user id (store.users: 64 characters) or a client app's "open311:<id>"; an org unit code.
ACTOR_ID = TextRule(128)
UNIT = TextRule(64)


class Role(StrEnum):
    GRID_WORKER = "grid_worker"  # 监督员/网格员: patrols, reports, verifies, re-checks
    ACCEPTOR = "acceptor"  # 受理员: receives reports, pre-files, sends verify/check tasks
    SHIFT_LEADER = "shift_leader"  # 值班长: files (立案) and closes (结案)
    DISPATCHER = "dispatcher"  # 派遣员: dispatches to departments, approves requests
    HANDLER = "handler"  # 处置人员: department staff; signs for, handles, feeds back
    SUPERVISOR = "supervisor"  # 督查: watches overdue cases, urges, supervises
    LEADER = "leader"  # 指挥长/领导: approves long suspensions, issues formal supervision
    SYSTEM = "system"  # the engine itself: deadlines and escalation

    @property
    def label(self) -> str:
        return f"{ROLE_LABELS_ZH[self]} {self.value}"


ROLE_LABELS_ZH: dict[Role, str] = {
    Role.GRID_WORKER: "网格员",
    Role.ACCEPTOR: "受理员",
    Role.SHIFT_LEADER: "值班长",
    Role.DISPATCHER: "派遣员",
    Role.HANDLER: "处置人员",
    Role.SUPERVISOR: "督查员",
    Role.LEADER: "指挥长",
    Role.SYSTEM: "系统",
}


@dataclass(frozen=True, kw_only=True)
class Actor:
    """The person (or the engine) behind a command or an event.

    ``unit`` is the org unit the actor acts for: a department code for a handler, a
    grid code for a grid worker, empty for center staff.
    """

    id: str = field(metadata=texts(ACTOR_ID))
    role: Role
    unit: str = field(default="", metadata=texts(UNIT))

    def __post_init__(self) -> None:
        if not self.id or not self.id.strip():
            raise ValueError("actor id must not be empty")
        object.__setattr__(self, "role", Role(self.role))

    def __str__(self) -> str:
        suffix = f"@{self.unit}" if self.unit else ""
        return f"{self.role.value}:{self.id}{suffix}"

    @classmethod
    def parse(cls, text: str) -> "Actor":
        """Parse ``role:id[@unit]``, the form the CLI takes."""
        role_text, sep, rest = text.partition(":")
        if not sep or not rest:
            raise ValueError(f"actor {text!r} is not of the form role:id[@unit]")
        try:
            role = Role(role_text)
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {role_text!r}; known roles: {known}") from None
        ident, _, unit = rest.partition("@")
        return cls(id=ident, role=role, unit=unit)


SYSTEM_ACTOR = Actor(id="gridcase", role=Role.SYSTEM)
