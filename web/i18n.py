"""Chinese by default, English on request: the pages' words, role names, and times.

Each message is one (zh, en) pair keyed by name; a template says ``t("sign_in")``. The
language is the ``gc_lang`` cookie (set by the switch in the header), ``zh`` without it.
A test fails when a key has no text in either language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from domain.roles import ROLE_LABELS_ZH, Role
from web.words import CONSOLE

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"
LANG_COOKIE = "gc_lang"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
LANG_NAMES = {"zh": "中文", "en": "English"}

ROLE_LABELS: dict[str, tuple[str, str]] = {
    **{r.value: (ROLE_LABELS_ZH[r], r.value.replace("_", " ").capitalize()) for r in Role},
    "admin": ("系统管理员", "Administrator"),
}

MESSAGES: dict[str, tuple[str, str]] = {
    "app_name": ("网格化案件处置平台", "Grid case handling"),
    "skip_to_main": ("跳到主要内容", "Skip to main content"),
    "main_nav": ("主导航", "Main navigation"),
    "language": ("语言", "Language"),
    "switch_to": ("切换语言", "Switch language"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出登录", "Sign out"),
    "sign_in_title": ("登录", "Sign in"),
    "sign_in_intro": (
        "请使用管理员为您设置的用户名和密码登录。",
        "Sign in with the user id and password your administrator set for you.",
    ),
    "user_id": ("用户名", "User id"),
    "password": ("密码", "Password"),
    "missing_fields": ("请输入用户名和密码。", "Enter your user id and password."),
    "wrong_credentials": (
        "用户名或密码不正确。再失败 {remaining} 次，该账号将被锁定 {minutes} 分钟。",
        "Wrong user id or password. {remaining} more failed attempts lock this account "
        "for {minutes} minutes.",
    ),
    "locked": (
        "登录失败次数过多，已暂时锁定，请在 {until} 之后再试，或请管理员解锁。",
        "Too many failed sign-ins: locked until {until}. Try again then, or ask an "
        "administrator to unlock it.",
    ),
    "form_expired": (
        "页面已过期或来源无法确认，请刷新页面后重新提交。",
        "This form expired or its origin could not be confirmed; reload the page and "
        "submit it again.",
    ),
    "signed_out": ("您已退出登录。", "You have signed out."),
    "session_ended": (
        "会话已过期，请重新登录。",
        "Your session has ended; please sign in again.",
    ),
    "home": ("工作台", "Home"),
    "api_docs": ("接口文档", "API docs"),
    "welcome": ("您好，{name}", "Welcome, {name}"),
    "your_role": ("角色", "Role"),
    "your_units": ("所属单位/网格", "Units"),
    "no_units": ("全区", "The whole district"),
    "your_work": ("您的工作", "Your work"),
    "coming": ("即将推出", "coming soon"),
    "work_empty": (
        "标为“即将推出”的页面将在后续版本中提供；在此之前，可通过命令行 gridcase 或 HTTP "
        "接口办理。",
        "The areas marked “coming soon” come in a later release; until then, use the "
        "gridcase command line or the HTTP API.",
    ),
    "session": ("本次登录", "This session"),
    "signed_in_at": ("登录时间", "Signed in at"),
    "idle_until": ("无操作将于此时退出", "Ends if idle until"),
    "session_expires": ("最迟退出时间", "Ends at the latest"),
    "times_in": ("时间按 {zone} 时区显示", "Times are shown in {zone}"),
    "not_found_title": ("页面不存在", "Page not found"),
    "not_found_text": (
        "您要找的页面不存在，或您无权查看。",
        "The page you asked for does not exist, or you may not see it.",
    ),
    "back_home": ("返回工作台", "Back to home"),
    "error_title": ("出错了", "Something went wrong"),
    "error_text": ("请求无法完成（{status}）。", "The request could not be completed ({status})."),
    "forbidden_title": ("请求被拒绝", "Request refused"),
    "live_connecting": ("正在连接实时更新…", "Connecting live updates…"),
    "live_on": ("● 实时更新中", "● Live"),
    "live_off": ("○ 实时更新已断开，正在重连", "○ Live updates lost, reconnecting"),
    **CONSOLE,
}


def pick_lang(value: str | None) -> Lang:
    return "en" if value == "en" else DEFAULT_LANG


def translator(lang: Lang) -> Callable[..., str]:
    index = LANGS.index(lang)

    def t(key: str, **values: object) -> str:
        text = MESSAGES[key][index]
        return text.format(**values) if values else text

    return t


def role_label(role: str, lang: Lang) -> str:
    zh, en = ROLE_LABELS.get(role, (role, role))
    return zh if lang == "zh" else en


def local_time(value: datetime, zone: ZoneInfo) -> str:
    """``2026-11-30 10:20 UTC+08:00``: the center's zone, its offset always shown."""
    local = value.astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} UTC{offset[:3]}:{offset[3:]}"
