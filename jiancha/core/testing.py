"""Shared test helpers: users per role and unit, the role matrix (STYLE.md §10)."""

from typing import Any

from jiancha.accounts.choices import Role
from jiancha.accounts.models import Unit, User

# Units used by the role matrices: a province, a city in it, two basic units in that city,
# and a unit in another province.
PROVINCE = "330000"  # 浙江省人民检察院
CITY = "330100"  # 杭州市人民检察院
BASIC = "330106"  # 杭州市西湖区人民检察院
SIBLING = "330102"  # 杭州市上城区人民检察院
OTHER_PROVINCE = "110000"  # 北京市人民检察院
OTHER_BASIC = "110105"  # 北京市朝阳区人民检察院

ALL_ROLES = [role.value for role in Role]
SUBTREE_ROLE_VALUES = {"case_manager", "chief", "department_head", "admin"}


def make_user(role: str, unit_code: str, *, username: str | None = None, password: str = "pass-word-1") -> User:
    unit = Unit.objects.get(code=unit_code)
    name = username or f"{role}-{unit_code}"
    user = User.objects.create_user(username=name, password=password, unit=unit, role=role)
    return user


def may_see(role: str, user_unit: str, record_unit: str) -> bool:
    """The expected outcome of the access rules, written out independently of the code."""
    if role == "supervisor":
        return False
    if role in SUBTREE_ROLE_VALUES:
        return Unit.objects.get(code=record_unit).path.startswith(Unit.objects.get(code=user_unit).path)
    return user_unit == record_unit


def role_matrix(record_unit: str = BASIC) -> list[Any]:
    """(role, user unit) pairs covering inside and outside the record's unit subtree."""
    import pytest

    params = []
    for role in ALL_ROLES:
        for label, unit in [("same unit", record_unit), ("upper unit", CITY), ("root", "000000"), ("sibling unit", SIBLING), ("other province", OTHER_PROVINCE)]:
            params.append(pytest.param(role, unit, id=f"{role}-{label}"))
    return params
