import os

import pytest

from jiancha.core.testing import make_user


def ensure_reference_data() -> None:
    """Reload the data-migration rows (units, charges) after a transactional test flushed them."""
    from jiancha.accounts.models import Department, Unit
    from jiancha.accounts.seed import load_units
    from jiancha.law.models import Article, Charge
    from jiancha.law.seed import load_law

    if not Unit.objects.exists():
        load_units(Unit, Department)
    if not Charge.objects.exists():
        load_law(Charge, Article)


@pytest.fixture(autouse=True)
def _reference_data(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        transactional = marker.kwargs.get("transaction") or (marker.args and marker.args[0])
        request.getfixturevalue("transactional_db" if transactional else "db")
        ensure_reference_data()
    yield


@pytest.fixture
def user_factory(db):
    counter = {"n": 0}

    def factory(role: str, unit_code: str, **kwargs):
        counter["n"] += 1
        kwargs.setdefault("username", f"{role}-{unit_code}-{counter['n']}")
        return make_user(role, unit_code, **kwargs)

    return factory


@pytest.fixture
def client_for(client, user_factory):
    def make(role: str, unit_code: str):
        user = user_factory(role, unit_code)
        client.force_login(user)
        client.user = user
        return client

    return make


@pytest.fixture(scope="session")
def shared_data_dir():
    from django.conf import settings

    path = settings.SHARED_DATA_DIR
    if not os.path.isdir(path):
        pytest.skip(f"public reference data not found at {path} (set JIANCHA_SHARED_DATA)")
    return path


@pytest.fixture(autouse=True)
def _event_facts_store(settings, tmp_path_factory):
    """Each test's bulk evaluations keep their event facts store in a folder of their own."""
    settings.QUALITY_EVENT_FACTS_DIR = tmp_path_factory.mktemp("event-facts")
    yield


@pytest.fixture(autouse=True)
def _event_facts_store(settings, tmp_path_factory):
    """Each test's bulk evaluations keep their event facts store in a folder of their own."""
    settings.QUALITY_EVENT_FACTS_DIR = tmp_path_factory.mktemp("event-facts")
