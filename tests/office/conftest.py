from tests.office.pg import pg_schema  # noqa: F401 - the fixture
