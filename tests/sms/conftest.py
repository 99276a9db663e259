from __future__ import annotations

import pytest

from tests.sms import fakes


def _started(cls, **kw):
    f = cls(**kw).start()
    return f


@pytest.fixture
def kavenegar():
    f = _started(fakes.FakeKavenegar)
    yield f
    f.stop()


@pytest.fixture
def smsir():
    f = _started(fakes.FakeSmsIr)
    yield f
    f.stop()


@pytest.fixture
def melipayamak():
    f = _started(fakes.FakeMelipayamak)
    yield f
    f.stop()


@pytest.fixture
def ghasedak():
    f = _started(fakes.FakeGhasedak)
    yield f
    f.stop()


@pytest.fixture
def ippanel():
    f = _started(fakes.FakeIPPanel)
    yield f
    f.stop()


def customer(first="علی", last="رضایی", mobile="09121234567", **kw):
    from app.customers import service as cs

    phones = [{"raw": mobile, "label": "mobile"}] if mobile else []
    return cs.create_customer({"kind": "person", "first_name": first, "last_name": last, "phones": phones, **kw})


@pytest.fixture
def smtp_server():
    """A local SMTP server that wants the password «s3cret»."""
    f = fakes.SMTPServer(password="s3cret").start()
    yield f
    f.stop()
