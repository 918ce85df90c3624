"""Demo organisation data: unit sizes, staff rosters with generated names, demo accounts.

Everything here is deterministic and needs no database until rows are written, so that the
case generator (``jiancha.cases.demo``) can name the same procurators that
``staff_create_for_units`` later writes as ``Staff`` rows: a case's ``procurator_id`` is the
``staff_number`` of a procurator of the case's unit (``P0001`` ...).

Unit sizes follow the population of the province (bigger provinces handle more cases), spread
over the province's basic procuratorates with a fixed per-unit variation.
"""

import math
import random
from bisect import bisect
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from typing import Any

from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jiancha.accounts.choices import Role, StaffKind
from jiancha.accounts.models import Department, Staff, Unit, User
from jiancha.accounts.seed import DEFAULT_DEPARTMENTS, unit_rows
from jiancha.accounts.services import user_create
from jiancha.core.audit import audit_record
from jiancha.core.errors import BusinessError

# Resident population by province, millions, end of 2023 (国家统计局 年度数据, rounded).
# Only the relative sizes matter: they weight where demo cases happen.
PROVINCE_POPULATION: dict[str, float] = {
    "11": 21.9, "12": 13.6, "13": 74.0, "14": 34.7, "15": 24.0, "21": 41.8, "22": 23.4,
    "23": 30.6, "31": 24.9, "32": 85.3, "33": 66.3, "34": 61.2, "35": 41.8, "36": 45.2,
    "37": 101.2, "41": 98.2, "42": 58.4, "43": 65.7, "44": 127.1, "45": 50.3, "46": 10.4,
    "50": 31.9, "51": 83.7, "52": 38.7, "53": 46.7, "54": 3.6, "61": 39.5, "62": 24.7,
    "63": 5.9, "64": 7.3, "65": 26.0, "66": 3.6,
}  # fmt: skip

# Common surnames with rough relative frequencies (公安部 2020 姓氏统计: 王 李 张 刘 陈 ... ).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.4),
    ("赵", 2.3), ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.5), ("马", 1.4), ("朱", 1.3),
    ("胡", 1.3), ("郭", 1.2), ("何", 1.2), ("林", 1.1), ("高", 1.1), ("罗", 1.1), ("郑", 1.0),
    ("梁", 0.9), ("谢", 0.8), ("宋", 0.7), ("唐", 0.7), ("许", 0.7), ("韩", 0.7), ("邓", 0.6),
    ("冯", 0.6), ("曹", 0.6), ("彭", 0.6), ("曾", 0.6), ("肖", 0.6), ("田", 0.5), ("董", 0.5),
    ("潘", 0.5), ("袁", 0.5), ("蔡", 0.5), ("蒋", 0.5), ("余", 0.5), ("于", 0.5), ("杜", 0.4),
    ("叶", 0.4), ("程", 0.4), ("魏", 0.4), ("苏", 0.4), ("吕", 0.4), ("丁", 0.4), ("任", 0.4),
    ("卢", 0.4), ("姚", 0.4), ("沈", 0.4), ("钟", 0.4), ("姜", 0.4), ("崔", 0.4), ("谭", 0.3),
    ("陆", 0.3), ("范", 0.3), ("汪", 0.3), ("廖", 0.3), ("石", 0.3), ("金", 0.3), ("韦", 0.3),
    ("贾", 0.3), ("夏", 0.3), ("付", 0.3), ("方", 0.3), ("邹", 0.3), ("熊", 0.3), ("白", 0.3),
    ("孟", 0.3), ("秦", 0.3), ("邱", 0.3), ("侯", 0.3), ("江", 0.3), ("尹", 0.3), ("薛", 0.2),
    ("闫", 0.2), ("段", 0.2), ("雷", 0.2), ("龙", 0.2), ("黎", 0.2), ("史", 0.2), ("陶", 0.2),
    ("贺", 0.2), ("毛", 0.2), ("郝", 0.2), ("顾", 0.2), ("龚", 0.2), ("邵", 0.2), ("万", 0.2),
    ("覃", 0.2), ("武", 0.2), ("钱", 0.2), ("戴", 0.2), ("严", 0.2), ("欧阳", 0.05), ("上官", 0.01),
)  # fmt: skip
GIVEN_CHARACTERS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭"
    "宁婷雪琳晨阳欣怡佳悦博文瑞泽思源子涵雨轩一诺梓萱晓东海波峰亮志国建林兵新春永丹倩颖慧"
    "琪蕾佩珊晶莉兰凤梅琴云岚嘉楠昊天宏斌磊然若鑫诚越晗锦程卓远嘉懿婧妍"
)

_SURNAME_NAMES = tuple(name for name, _weight in SURNAMES)
_SURNAME_CUMULATIVE = tuple(accumulate(weight for _name, weight in SURNAMES))


def surname(rng: random.Random) -> str:
    """A surname drawn by frequency."""
    return _SURNAME_NAMES[
        bisect(_SURNAME_CUMULATIVE, rng.random() * _SURNAME_CUMULATIVE[-1])
    ]


def full_name(rng: random.Random) -> str:
    """A plausible Chinese name: a surname and one or two given-name characters."""
    given = rng.choice(GIVEN_CHARACTERS)
    if rng.random() < 0.7:
        given += rng.choice(GIVEN_CHARACTERS)
    return surname(rng) + given


@dataclass(frozen=True)
class DemoUnit:
    """A procuratorate as the demo data sees it: where it is and how big it is."""

    index: int
    code: str
    level: int
    kind: str
    name: str
    province: str  # the first two digits of its province's org code
    size: float  # relative: the mean basic unit is about 1


@cache
def demo_units() -> tuple[DemoUnit, ...]:
    """Every unit of the packaged tree, with its province and relative size."""
    rows = unit_rows()
    parents = {row["org_code"]: row["parent_org_code"] for row in rows}
    levels = {row["org_code"]: int(row["level"]) for row in rows}

    def province_of(code: str) -> str:
        while levels[code] > 1:
            code = parents[code]
        return code[:2] if levels[code] == 1 else ""

    provinces = {row["org_code"]: province_of(row["org_code"]) for row in rows}

    def tier(row: dict[str, str]) -> int:
        # Functional-zone procuratorates (开发区, 林区 ...) are counted apart from basic ones.
        return 4 if row["kind"] == "basic_functional_zone" else int(row["level"])

    counts: dict[tuple[str, int], int] = {}
    national: dict[int, int] = {}
    for row in rows:
        key = (provinces[row["org_code"]], tier(row))
        counts[key] = counts.get(key, 0) + 1
        national[key[1]] = national.get(key[1], 0) + 1
    population_total = sum(PROVINCE_POPULATION.values())
    units = []
    for index, row in enumerate(rows):
        code, level = row["org_code"], int(row["level"])
        province = provinces[code]
        population = PROVINCE_POPULATION.get(
            province, population_total / len(PROVINCE_POPULATION)
        )
        # The province's share of the population per unit of this tier, relative to the
        # national average unit of the tier, times a fixed per-unit spread (urban districts
        # are busier than mountain counties).
        key = (province, tier(row))
        relative = (population / population_total) / (counts[key] / national[key[1]])
        spread = math.exp(random.Random(f"unit-size:{code}").gauss(0.0, 0.45))
        units.append(
            DemoUnit(
                index,
                code,
                level,
                row["kind"],
                row["name"],
                province,
                relative * spread,
            )
        )
    return tuple(units)


@cache
def demo_unit_by_code() -> dict[str, DemoUnit]:
    return {unit.code: unit for unit in demo_units()}


@dataclass(frozen=True)
class StaffSpec:
    """One member of a demo unit's staff, before it is written as a ``Staff`` row."""

    staff_number: str
    name: str
    kind: str
    quota: bool
    department: str  # the department's name (seed.DEFAULT_DEPARTMENTS)
    business_lines: tuple[str, ...]


# Procurators per business department, by level, for a unit of size 1: (base, minimum, maximum).
_PROCURATORS_PER_DEPARTMENT: dict[int, list[tuple[float, int, int]]] = {
    0: [(4, 3, 6)] * 10,
    1: [(4, 2, 8)] * 10,
    2: [(6, 3, 16), (3, 2, 8), (2, 1, 5), (3, 2, 8), (2, 1, 6), (3, 2, 8)],
    3: [(9, 3, 40), (3, 1, 12), (3, 1, 12)],
}


@cache
def department_procurator_counts(
    code: str,
) -> tuple[tuple[str, tuple[str, ...], int], ...]:
    """(department name, business lines, number of procurators) of a unit's business
    departments, from the unit's size."""
    unit = demo_unit_by_code()[code]
    departments = [
        (name, tuple(lines)) for name, lines in DEFAULT_DEPARTMENTS[unit.level] if lines
    ]
    sizes = _PROCURATORS_PER_DEPARTMENT[unit.level]
    return tuple(
        (name, lines, max(low, min(high, round(base * unit.size**0.8))))
        for (name, lines), (base, low, high) in zip(departments, sizes, strict=True)
    )


@cache
def unit_staff(code: str) -> tuple[StaffSpec, ...]:
    """The demo staff of a unit: procurators per business department, then assistants and
    clerks. Staff numbers are ``P0001`` (procurators), ``A0001`` (assistants) and ``C0001``
    (clerks), in department order."""
    rng = random.Random(f"staff:{code}")
    staff: list[StaffSpec] = []
    procurators = assistants = clerks = 0
    counts = department_procurator_counts(code)
    for name, lines, count in counts:
        for position in range(count):
            procurators += 1
            # The head of a department and most procurators are quota procurators (员额检察官).
            quota = position == 0 or rng.random() < 0.9
            staff.append(
                StaffSpec(
                    f"P{procurators:04d}",
                    full_name(rng),
                    StaffKind.PROCURATOR,
                    quota,
                    name,
                    lines,
                )
            )
    for name, lines, count in counts:
        for _position in range((count + 2) // 3):
            assistants += 1
            staff.append(
                StaffSpec(
                    f"A{assistants:04d}",
                    full_name(rng),
                    StaffKind.ASSISTANT,
                    False,
                    name,
                    lines,
                )
            )
        for _position in range((count + 3) // 4):
            clerks += 1
            staff.append(
                StaffSpec(
                    f"C{clerks:04d}",
                    full_name(rng),
                    StaffKind.CLERK,
                    False,
                    name,
                    lines,
                )
            )
    return tuple(staff)


@cache
def unit_procurators(code: str) -> dict[str, tuple[str, ...]]:
    """The procurators' staff numbers of a unit by business line (from their departments);
    the same numbers as :func:`unit_staff`, without making the names."""
    by_line: dict[str, list[str]] = {}
    number = 0
    for _name, lines, count in department_procurator_counts(code):
        numbers = [f"P{number + i:04d}" for i in range(1, count + 1)]
        number += count
        for line in lines:
            by_line.setdefault(line, []).extend(numbers)
    return {line: tuple(numbers) for line, numbers in by_line.items()}


def staff_create_for_units(codes: list[str] | set[str]) -> int:
    """Write the demo staff of these units as ``Staff`` rows; existing staff numbers are kept.

    Each member is linked to the department of its unit with the roster's department name,
    or else to the first department covering one of its business lines.
    """
    codes = sorted(codes)
    unit_ids = dict(Unit.objects.filter(code__in=codes).values_list("code", "id"))
    departments: dict[int, list[tuple[str, list[str], int]]] = {}
    for department_id, unit_id, name, lines in Department.objects.filter(
        unit_id__in=unit_ids.values()
    ).values_list("id", "unit_id", "name", "business_lines"):
        departments.setdefault(unit_id, []).append(
            (name, list(lines or []), department_id)
        )
    existing = set(
        Staff.objects.filter(unit_id__in=unit_ids.values()).values_list(
            "unit_id", "staff_number"
        )
    )
    rows = []
    for code in codes:
        unit_id = unit_ids.get(code)
        if unit_id is None or code not in demo_unit_by_code():
            continue
        unit_departments = departments.get(unit_id, [])
        for member in unit_staff(code):
            if (unit_id, member.staff_number) in existing:
                continue
            department_id = next(
                (
                    d
                    for name, _lines, d in unit_departments
                    if name == member.department
                ),
                None,
            )
            if department_id is None:
                department_id = next(
                    (
                        d
                        for _name, lines, d in unit_departments
                        if set(lines) & set(member.business_lines)
                    ),
                    None,
                )
            rows.append(
                Staff(
                    unit_id=unit_id,
                    department_id=department_id,
                    staff_number=member.staff_number,
                    name=member.name,
                    kind=member.kind,
                    quota=member.quota,
                )
            )
    Staff.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


# --- demo accounts ---------------------------------------------------------------------------

DEFAULT_DEMO_PASSWORD = "jiancha-demo"  # noqa: S105 (printed for the demo; never for production)

# (username, unit code, role, display name, superuser)
DEMO_USERS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("admin", "000000", Role.ADMIN, "系统管理员", True),
    ("spp", "000000", Role.CASE_MANAGER, "最高检案件管理办公室", False),
    ("zhejiang", "330000", Role.CASE_MANAGER, "浙江省院案件管理部", False),
    ("hangzhou", "330100", Role.CHIEF, "杭州市院检察长", False),
    ("xihu", "330106", Role.CASE_MANAGER, "西湖区院案件管理", False),
    ("xihu-procurator", "330106", Role.PROCURATOR, "西湖区院检察官", False),
    ("xihu-head", "330106", Role.DEPARTMENT_HEAD, "西湖区院第一检察部主任", False),
    ("xihu-chief", "330106", Role.CHIEF, "西湖区院检察长", False),
    ("xihu-political", "330106", Role.POLITICAL, "西湖区院政治部", False),
    ("xihu-discipline", "330106", Role.DISCIPLINE, "西湖区院纪检监察", False),
    ("xihu-supervisor", "330106", Role.SUPERVISOR, "人民监督员", False),
)
SUPERVISOR_CASES = 5  # cases of the supervisor's unit assigned to the demo supervisor


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    unit_code: str
    unit_name: str
    created: bool
    staff_number: str = ""
    assigned_cases: int = 0


def _demo_procurator_staff(unit: Unit) -> Staff | None:
    """A procurator of the unit, without a user yet, preferring the criminal department."""
    free = Staff.objects.filter(
        unit=unit, kind=StaffKind.PROCURATOR, active=True, user__isnull=True
    )
    criminal = (
        free.filter(department__name=DEFAULT_DEPARTMENTS[unit.level][0][0])
        if unit.level in DEFAULT_DEPARTMENTS
        else free
    )
    return (
        criminal.order_by("staff_number").first()
        or free.order_by("staff_number").first()
    )


def _assign_supervisor_cases(user: User, unit: Unit) -> int:
    """Assign a few of the unit's cases to the demo supervisor (人民监督员).

    The case model is looked up through the app registry: ``accounts`` sits below ``cases``
    in the app layers (STYLE.md §2) and must not import it.
    """
    assignment_model: Any = apps.get_model("cases", "CaseGrant")
    case_model: Any = apps.get_model("cases", "Case")
    already = assignment_model.objects.filter(user=user).count()
    if already >= SUPERVISOR_CASES:
        return already
    taken = assignment_model.objects.filter(user=user).values_list("case_id", flat=True)
    cases = list(
        case_model.objects.filter(unit=unit, closed_on__isnull=False)
        .exclude(pk__in=taken)
        .order_by("-received_on", "id")[: SUPERVISOR_CASES - already]
    )
    for case in cases:
        # A people's supervisor's grant (reason "supervisor", the default).
        assignment = assignment_model.objects.create(case=case, user=user)
        # The verb the admin would write for the same change (core.admin.AuditedAdminMixin).
        audit_record(
            actor=None,
            verb="cases.casegrant_create",
            target=assignment,
            details={
                "case": case.case_id,
                "unit": unit.code,
                "supervisor": user.username,
            },
        )
    return already + len(cases)


@transaction.atomic
def demo_users_create(*, password: str = DEFAULT_DEMO_PASSWORD) -> list[DemoAccount]:
    """Create the demo accounts, or reset their password, role and unit if they exist.

    The procurator is linked to a procurator ``Staff`` row of its unit when there is one (run
    ``demo-data`` first), and the supervisor gets a few closed cases of its unit assigned.
    """
    try:
        validate_password(password)
    except ValidationError as error:
        raise BusinessError(
            _("The password is too weak: %(reasons)s")
            % {"reasons": " ".join(error.messages)},
            code="weak_password",
        ) from error
    accounts = []
    for username, unit_code, role, display_name, superuser in DEMO_USERS:
        unit = Unit.objects.get(code=unit_code)
        user = User.objects.filter(username=username).select_related("staff").first()
        created = user is None
        if user is None:
            staff = _demo_procurator_staff(unit) if role == Role.PROCURATOR else None
            user = user_create(
                username=username,
                password=password,
                unit_code=unit_code,
                role=role,
                staff_number=staff.staff_number if staff else "",
                display_name=display_name,
                is_superuser=superuser,
            )
        else:
            user.set_password(password)
            user.unit, user.role, user.display_name = unit, role, display_name
            user.is_active, user.is_staff, user.is_superuser = (
                True,
                superuser,
                superuser,
            )
            fields = [
                "password",
                "unit",
                "role",
                "display_name",
                "is_active",
                "is_staff",
                "is_superuser",
            ]
            if role == Role.PROCURATOR and (
                user.staff is None or user.staff.unit_id != unit.pk
            ):
                user.staff = _demo_procurator_staff(unit)
                fields.append("staff")
            user.save(update_fields=fields)
            audit_record(
                actor=None,
                verb="accounts.user_change",
                target=user,
                details={
                    "username": username,
                    "unit": unit_code,
                    "role": role,
                    "fields": fields,
                },
            )
        assigned = (
            _assign_supervisor_cases(user, unit) if role == Role.SUPERVISOR else 0
        )
        accounts.append(
            DemoAccount(
                username=username,
                password=password,
                role=role,
                unit_code=unit_code,
                unit_name=unit.name,
                created=created,
                staff_number=user.staff.staff_number if user.staff else "",
                assigned_cases=assigned,
            )
        )
    return accounts
