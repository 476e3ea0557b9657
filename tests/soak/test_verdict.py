"""The soak's rules and client logic, checked without a stack: a lenient judge proves nothing."""

import json
import threading

import httpx
import pytest

from soak.faults import Fault
from soak.judge import judge
from soak.ledger import DELETED, ItemRecord, Ledger
from soak.load import Features, LoadClient, LoadSettings
from soak.outcomes import NO_ANSWER, TIMEOUT, Outcome, Recorder, malformed

PROBLEM = {"Content-Type": "application/problem+json"}
FAULT = Fault("PostgreSQL down", started=10.0, ended=12.0)
SETTLE = 2.0
CLIENT_TIMEOUT = 15.0


def _verdict(*outcomes: Outcome) -> list[str]:
    return judge(list(outcomes), [FAULT], SETTLE, CLIENT_TIMEOUT).violations


def test_502_503_and_dropped_connections_are_allowed_only_in_a_fault_window() -> None:
    inside = [
        Outcome("get", 11.0, 11.1, 503),
        Outcome("create", 13.5, 13.6, 502),  # 1.5 s after the fault ended: still settling
        Outcome("list", 9.9, 10.2, None, f"{NO_ANSWER}: ReadError"),
    ]
    assert _verdict(*inside) == []
    assert len(_verdict(Outcome("get", 14.5, 14.6, 503))) == 1
    assert len(_verdict(Outcome("get", 5.0, 5.1, None, f"{NO_ANSWER}: ConnectError"))) == 1


@pytest.mark.parametrize(
    "outcome",
    [
        Outcome("create", 11.0, 11.1, 500),
        Outcome("get", 11.0, 11.1, 504),
        Outcome("get", 11.0, 11.1, 503, "503 without Retry-After"),
        Outcome("get", 11.0, 26.5, 200),  # answered, but after the client timeout
        Outcome("get", 11.0, 26.0, None, f"{TIMEOUT}: ReadTimeout"),
        Outcome("create", 20.0, 20.1, 429),
    ],
    ids=["500", "504", "malformed", "slow", "timeout", "429"],
)
def test_never_allowed_even_inside_a_fault_window(outcome: Outcome) -> None:
    assert len(_verdict(outcome)) == 1


def test_recovery_is_the_first_success_sent_after_the_fault_ended() -> None:
    outcomes = [
        Outcome("get", 11.0, 11.2, 200),  # served while the fault lasted
        Outcome("get", 12.1, 12.2, 503),
        Outcome("get", 12.3, 12.7, 200),
    ]
    (stats,) = judge(outcomes, [FAULT], SETTLE, CLIENT_TIMEOUT).per_fault
    assert stats.served_during == 1
    assert stats.errors == 1
    assert stats.recovery == pytest.approx(0.7)


def test_malformed_answers_are_recognised() -> None:
    html_502 = httpx.Response(502, headers={"Content-Type": "text/html"}, content=b"<html>")
    assert malformed("get", html_502)
    bare_503 = httpx.Response(503, headers=PROBLEM, json={"title": "x", "status": 503})
    assert malformed("get", bare_503) == "503 without Retry-After"
    wrong_status = httpx.Response(404, headers=PROBLEM, json={"title": "x", "status": 400})
    assert malformed("get", wrong_status)
    created = httpx.Response(201, headers={"Location": "/picus/get/7"}, json={"id": 7})
    assert malformed("create", created) == ""
    assert malformed("create", httpx.Response(201, json={"id": 7}))  # no Location
    assert malformed("get", httpx.Response(200, json={"id": 7, "data": 1}), item_id=7)


def test_an_unacknowledged_write_leaves_both_states_possible_until_one_is_seen() -> None:
    record = ItemRecord(1, [{"v": 1}])
    record.maybe({"v": 2})
    record.maybe(DELETED)
    assert record.may_be({"v": 1})
    assert record.may_be({"v": 2})
    assert record.may_be(DELETED)
    assert not record.may_be({"v": 3})
    assert not ItemRecord(2, [{"v": 1}]).may_be({"v": True})  # JSON values, not Python's ==
    record.settle({"v": 2})
    assert not record.may_be({"v": 1})
    assert not record.may_be(DELETED)


class _FakePicus:
    """Answers like Picus for one item, and remembers every request."""

    def __init__(self, put_status: int = 200, delete_statuses: tuple[int, ...] = (204,)) -> None:
        self.put_status = put_status
        self.delete_statuses = list(delete_statuses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "DELETE":
            status = self.delete_statuses.pop(0) if len(self.delete_statuses) > 1 else 404
            if status == 204:
                return httpx.Response(204)
            return httpx.Response(status, headers=PROBLEM, json={"title": "t", "status": status})
        if request.method == "POST":
            headers = {"Location": "/picus/get/7", "ETag": '"1"'}
            return httpx.Response(201, headers=headers, json={"id": 7})
        if request.method == "PUT" and self.put_status == 412:
            return httpx.Response(412, headers=PROBLEM, json={"title": "t", "status": 412})
        body = json.loads(request.content) if request.method == "PUT" else {"v": 0}
        item = {"id": 7, "data": body, "created_at": "x", "updated_at": "x"}
        return httpx.Response(200, headers={"ETag": '"2"'}, json=item)


def _client(fake: _FakePicus) -> tuple[LoadClient, Ledger]:
    ledger = Ledger()
    settings = LoadSettings("http://picus", Features(True, True), 5.0, 0.5)
    client = LoadClient(0, settings, ledger, Recorder(), threading.Event())
    client.http = httpx.Client(base_url="http://picus", transport=httpx.MockTransport(fake))
    return client, ledger


def test_a_replace_names_the_etag_the_create_answered() -> None:
    fake = _FakePicus()
    client, ledger = _client(fake)
    client.create()
    client.replace()
    put = fake.requests[-1]
    assert put.method == "PUT"
    assert put.headers["If-Match"] == '"1"'
    assert fake.requests[0].headers["Idempotency-Key"]
    assert client.mine[0].etag == '"2"'
    assert ledger.wrong_answers == []


def test_a_412_to_a_first_attempt_with_the_current_etag_is_a_wrong_answer() -> None:
    client, ledger = _client(_FakePicus(put_status=412))
    client.create()
    client.replace()
    assert len(ledger.wrong_answers) == 1


def test_a_404_to_a_retried_delete_is_right_the_first_attempt_may_have_deleted() -> None:
    """A worker killed after its commit answers 502; the retry then finds the item gone."""
    fake = _FakePicus(delete_statuses=(502, 404))
    client, ledger = _client(fake)
    client.create()
    client.delete()
    assert [r.method for r in fake.requests] == ["POST", "DELETE", "DELETE"]
    assert ledger.wrong_answers == []
    assert client.mine == []


def test_a_404_to_a_first_delete_of_an_existing_item_is_a_wrong_answer() -> None:
    client, ledger = _client(_FakePicus(delete_statuses=(404, 404)))
    client.create()
    client.delete()
    assert len(ledger.wrong_answers) == 1
