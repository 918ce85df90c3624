import pytest


@pytest.fixture(autouse=True)
def _database_engine(settings, tmp_path):
    """Indicators read the test database directly unless a test builds a snapshot.

    A snapshot left in ``var/`` by a development run must never answer a test.
    """
    settings.INDICATORS_ENGINE = "database"
    settings.ANALYTICS_SNAPSHOT = tmp_path / "analytics.duckdb"
