"""Where each role's work is: the navigation and the landing page derive from this table.

A work area that is not built yet (``path`` None) shows in the navigation as "coming
soon" without a link, and on the landing page with what it will hold; giving it a path
makes it a link everywhere. Where a work area is one use of the application, its roles
are that use's gate (``application.authz.MAY``), so a page and the API beside it admit
the same people.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.authz import MAY, Use
from web.i18n import Lang

EVERYONE = frozenset(
    {
        "grid_worker",
        "acceptor",
        "shift_leader",
        "dispatcher",
        "handler",
        "supervisor",
        "leader",
        "admin",
    }
)
# Those who decide a department's requests: extension and return (dispatcher, shift
# leader), suspension (dispatcher, leader).
APPROVERS = frozenset({"dispatcher", "shift_leader", "leader"})


@dataclass(frozen=True)
class WorkArea:
    key: str
    roles: frozenset[str]
    title: tuple[str, str]  # zh, en
    about: tuple[str, str]
    path: str | None = None  # None: not built yet

    def text(self, lang: Lang) -> tuple[str, str]:
        i = 0 if lang == "zh" else 1
        return self.title[i], self.about[i]


WORK_AREAS: tuple[WorkArea, ...] = (
    WorkArea(
        "home",
        EVERYONE,
        ("工作台", "Home"),
        ("您的角色、单位和本次登录。", "Your role, units and this session."),
        path="/",
    ),
    WorkArea(
        "intake",
        frozenset({"acceptor", "shift_leader"}),
        ("受理立案", "Intake"),
        (
            "待核实、立案或不予立案的上报；重复案件合并（附距离和小地图）；自行处置审核；"
            "核查通过后的结案。",
            "Incoming reports to verify, file or reject; merging duplicates (with their "
            "distance on a small map); self-handling review; closing after a passed check.",
        ),
        path="/intake",
    ),
    WorkArea(
        "dispatch",
        frozenset({"dispatcher"}),
        ("派遣", "Dispatch"),
        (
            "派遣看板：系统建议的处置部门，可附理由改派。",
            "The dispatch board with the routing suggestion and an override with a reason.",
        ),
        path="/dispatch",
    ),
    WorkArea(
        "requests",
        APPROVERS,
        ("申请审批", "Requests"),
        (
            "处置部门的延期、回退和挂账申请，待审批。",
            "Departments' extension, return and suspension requests to decide.",
        ),
        path="/requests",
    ),
    WorkArea(
        "department",
        frozenset({"handler"}),
        ("部门待办", "Department inbox"),
        (
            "本部门的案件、时限和红黄绿灯；签收、处理反馈（可上传照片）；申请延期、回退、挂账；"
            "回复督办。",
            "Your department's cases with deadlines and lights; sign for, feed back with "
            "photos, request extension, return or suspension; reply to supervision.",
        ),
        path="/department",
    ),
    WorkArea(
        "tasks",
        frozenset({"grid_worker"}),
        ("核实与核查任务", "Verify and check tasks"),
        (
            "在手机端上报问题、完成核实和核查任务，离线时也能保存。",
            "Report, verify and check on site with the mobile app, which also works offline.",
        ),
        path="/m/",
    ),
    WorkArea(
        "overdue",
        MAY[Use.OVERDUE],
        ("超期督办", "Overdue board"),
        (
            "按街道、社区、网格、部门、类别、环节和灯色筛选超期案件，排序、导出 CSV，催办与督办。",
            "Overdue cases filtered by street, community, grid, department, category, stage "
            "and light; sorting, CSV, urging and supervising from the board.",
        ),
        path="/overdue",
    ),
    WorkArea(
        "evaluation",
        MAY[Use.KPI],
        ("综合评价", "Evaluation"),
        (
            "部门、街道、社区和网格员的排名与图表，每个数字都可查看公式和对应案件。",
            "Rankings of departments, streets, communities and grid workers as tables and "
            "charts, each figure with its formula and the cases behind it.",
        ),
        path="/evaluation",
    ),
    WorkArea(
        "map",
        MAY[Use.MAP],
        ("区域地图", "District map"),
        (
            "网格边界与名称，按在办和超期案件着色；每个在办案件一个标记。",
            "Grid polygons with names and codes, shaded by open or overdue cases; a marker "
            "per open case coloured by its light.",
        ),
        path="/map",
    ),
    WorkArea(
        "big_screen",
        MAY[Use.SCREEN],
        ("指挥大屏", "Big screen"),
        (
            "指挥中心大屏（1920×1080）：今日受理、各街道在办与超期、灯色、地图和最新动态，实时更新。",
            "The command center's wall (1920×1080): today's intake, open and overdue by "
            "street, lights, the map and the latest events, updated live.",
        ),
        path="/screen",
    ),
    WorkArea(
        "users",
        frozenset({"admin"}),
        ("用户管理", "Users"),
        (
            "用户、单位、密码和令牌；目前使用命令行 gridcase users 管理。",
            "Users, units, passwords and tokens; for now with the command line `gridcase users`.",
        ),
    ),
)


def areas_for(role: str) -> list[WorkArea]:
    return [a for a in WORK_AREAS if role in a.roles]


def area(key: str) -> WorkArea:
    return next(a for a in WORK_AREAS if a.key == key)
