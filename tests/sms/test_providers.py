"""Each provider against a local fake of its documented API: a send, a group send with one text and with
different texts, delivery reports, and each refusal (no credit, bad key, blacklisted number, bad sender line)
turned into its Persian meaning."""
from __future__ import annotations

import pytest

from app.sms.providers import Outgoing, ProviderError, make
from app.sms.providers import base as b

PROVIDERS = {
    "kavenegar": ("kavenegar", "test-key", "10004346"),
    "smsir": ("smsir", "test-key", "30007732"),
    "melipayamak": ("melipayamak", "office:secret", "50004001"),
    "ghasedak": ("ghasedak", "test-key", "10008566"),
    "ippanel": ("ippanel", "test-key", "3000505"),
}


def provider(name, fake, key=None, **kw):
    pname, default_key, sender = PROVIDERS[name]
    base = fake.url + {"kavenegar": "", "smsir": "/v1", "melipayamak": "/api/SendSMS",
                       "ghasedak": "/rest/api/v1/WebService", "ippanel": "/v1"}[name]
    return make(pname, key=key if key is not None else default_key, sender=sender, base_url=base, **kw)


@pytest.fixture(params=list(PROVIDERS))
def pair(request):
    from tests.sms import fakes

    cls = {"kavenegar": fakes.FakeKavenegar, "smsir": fakes.FakeSmsIr, "melipayamak": fakes.FakeMelipayamak,
           "ghasedak": fakes.FakeGhasedak, "ippanel": fakes.FakeIPPanel}[request.param]
    fake = cls().start()
    yield request.param, fake
    fake.stop()


def test_send_one_group_and_pairs(pair):
    name, fake = pair
    p = provider(name, fake)
    one = p.send([Outgoing(11, "09121234567", "سلام، فاکتور شما صادر شد.")])
    assert one[0].ok and one[0].provider_id
    assert fake.by_number["09121234567"] == 1 and fake.sent[-1]["text"] == "سلام، فاکتور شما صادر شد."
    same = p.send([Outgoing(20 + i, f"0912000000{i}", "جشنواره") for i in range(5)])
    assert all(r.ok for r in same) and len({r.provider_id for r in same}) >= 1
    diff = p.send([Outgoing(30 + i, f"0935000000{i}", f"آقای {i} عزیز") for i in range(3)])
    assert [r.ok for r in diff] == [True] * 3
    assert [s["text"] for s in fake.sent[-3:]] == ["آقای 0 عزیز", "آقای 1 عزیز", "آقای 2 عزیز"]
    assert sum(fake.by_number.values()) == 9


def test_bad_key_is_named_in_persian(pair):
    name, fake = pair
    p = provider(name, fake, key="wrong:wrong" if name == "melipayamak" else "wrong")
    with pytest.raises(ProviderError) as e:
        p.send([Outgoing(1, "09121234567", "سلام")])
    assert e.value.kind == b.KEY
    assert "کلید دسترسی" in e.value.message and not e.value.maybe_sent
    assert not fake.sent


NO_CREDIT = {"kavenegar": 418, "smsir": 102, "melipayamak": 2, "ghasedak": 402, "ippanel": 1}


def test_no_credit_is_named_in_persian(pair):
    name, fake = pair
    fake.error = NO_CREDIT[name]
    with pytest.raises(ProviderError) as e:
        provider(name, fake).send([Outgoing(1, "09121234567", "سلام")])
    assert e.value.kind == b.CREDIT, e.value.message
    assert "اعتبار" in e.value.message and "شارژ" in e.value.message


@pytest.mark.parametrize("name,code", [("kavenegar", 412), ("smsir", 101), ("melipayamak", 5)])
def test_bad_sender_line(name, code, request):
    fake = request.getfixturevalue(name)
    fake.error = code
    with pytest.raises(ProviderError) as e:
        provider(name, fake).send([Outgoing(1, "09121234567", "سلام")])
    assert e.value.kind == b.SENDER and "خط فرستنده" in e.value.message
    assert f"کد {code}" in e.value.message


@pytest.mark.parametrize("name,status", [("kavenegar", 14), ("smsir", 115), ("melipayamak", 35),
                                         ("ghasedak", 12)])
def test_blacklisted_number_fails_alone(name, status, request):
    fake = request.getfixturevalue(name)
    fake.per_number_status["09120000002"] = status
    items = [Outgoing(1, "09120000001", "اطلاعیه"), Outgoing(2, "09120000002", "اطلاعیه")]
    p = provider(name, fake)
    if name == "melipayamak":           # a whole-call refusal there: the number is found by sending one by one
        items = [Outgoing(1, "09120000001", "الف"), Outgoing(2, "09120000002", "ب")]
    res = p.send(items)
    assert res[0].ok
    assert not res[1].ok and res[1].kind == b.BLACKLIST
    assert "فهرست سیاه" in res[1].error or "فهرست سیاه" in b.MEANINGS[b.BLACKLIST]
    assert fake.by_number["09120000002"] == 0


def test_delivery_reports(pair):
    name, fake = pair
    p = provider(name, fake)
    res = p.send([Outgoing(1, "09121234567", "سلام"), Outgoing(2, "09121234568", "سلام")])
    first = fake.sent[-2]["id"]
    delivered_code = {"kavenegar": 10, "smsir": 1, "melipayamak": 1, "ghasedak": 14, "ippanel": 2}[name]
    fake.delivery[str(first)] = delivered_code
    fake.delivery["+989121234567"] = delivered_code           # IPPanel reports per recipient
    states = {d.provider_id: d.state for d in p.status([r.provider_id for r in res])}
    assert states[res[0].provider_id] == "delivered"
    assert states.get(res[1].provider_id, "sent") == "sent"


def test_unreachable_server_says_so_and_sent_nothing():
    p = make("kavenegar", key="k", sender="1000", base_url="http://127.0.0.1:9")
    with pytest.raises(ProviderError) as e:
        p.send([Outgoing(1, "09121234567", "سلام")])
    assert e.value.kind == b.NETWORK and not e.value.maybe_sent
    assert "اتصال" in e.value.message


def test_unknown_provider_is_a_persian_error():
    from app.core.errors import UserError

    with pytest.raises(UserError) as e:
        make("nosuch")
    assert "شناخته نیست" in e.value.message


def test_kavenegar_puts_the_key_in_the_path_and_local_ids_in_the_body(kavenegar):
    p = provider("kavenegar", kavenegar)
    p.send([Outgoing(123456789, "09121234567", "سلام")])
    method, path, _ = kavenegar.requests[-1]
    assert method == "POST" and path == "/v1/test-key/sms/send.json"
    assert kavenegar.by_local["123456789"]["number"] == "09121234567"
    found = p.lookup_local([123456789, 987])
    assert set(found) == {123456789} and found[123456789].ok


def test_ippanel_sends_e164_and_the_key_in_authorization(ippanel):
    p = provider("ippanel", ippanel)
    p.send([Outgoing(1, "09121234567", "سلام")])
    _, path, headers = ippanel.requests[-1]
    assert path == "/v1/api/send" and headers["Authorization"] == "test-key"
    assert ippanel.bulks[next(iter(ippanel.bulks))] == ["+989121234567"]
