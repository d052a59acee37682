"""Who may give each command, in which stages: the rules of the loop written out by hand.

Deliberately a second copy: the domain declares each step once (domain/steps), and this
table is the independent oracle the unit and property tests compare those declarations
with. Do not derive it from domain.steps; a change of who may do what must be made in
both places, on purpose."""

from domain import commands as c
from domain.roles import Role

G, A, S, D, H, V, L, Y = (
    Role.GRID_WORKER,
    Role.ACCEPTOR,
    Role.SHIFT_LEADER,
    Role.DISPATCHER,
    Role.HANDLER,
    Role.SUPERVISOR,
    Role.LEADER,
    Role.SYSTEM,
)
OPEN = {"verify", "review", "dispatch", "sign_for", "handle", "check", "close"}
FILED = {"dispatch", "sign_for", "handle", "check", "close"}
DEPT_STAGES = {"sign_for", "handle"}
RULEBOOK: dict[type[c.Command], tuple[set[Role], set[str] | None]] = {
    c.ReportCase: ({G, A}, None),
    c.RequestVerification: ({A, S}, {"verify"}),
    c.RecordVerification: ({G}, {"verify"}),
    c.FileCase: ({A, S}, {"verify"}),
    c.RejectCase: ({A, S}, {"verify"}),
    c.CancelCase: ({S}, FILED),
    c.MergeCase: ({A, S}, {"verify", "dispatch"}),
    c.RecordDuplicate: ({Y}, OPEN),
    c.ReviewSelfHandling: ({A, S}, {"review"}),
    c.DispatchCase: ({D}, {"dispatch"}),
    c.SignFor: ({H}, {"sign_for"}),
    c.RequestExtension: ({H}, {"handle"}),
    c.DecideExtension: ({D, S}, {"handle"}),
    c.RequestReturn: ({H}, DEPT_STAGES),
    c.DecideReturn: ({D, S}, DEPT_STAGES),
    c.RequestSuspension: ({H}, {"handle"}),
    c.DecideSuspension: ({D, L}, {"handle"}),
    c.ResumeCase: ({D, L}, {"handle"}),
    c.SubmitFeedback: ({H}, {"handle"}),
    c.RecordClosureCheck: ({G}, {"check"}),
    c.CloseCase: ({S}, {"close"}),
    c.UrgeCase: ({V, L}, OPEN),
    c.SuperviseCase: ({V, L, Y}, DEPT_STAGES),
    c.ReplyToSupervision: ({H}, DEPT_STAGES | {"check", "close"}),
    c.MarkStageWarning: ({Y}, OPEN),
    c.MarkStageOverdue: ({Y}, OPEN),
    c.MarkBacklog: ({Y}, {"handle"}),
}

# command -> (roles, stages); the report needs no case yet (None).
