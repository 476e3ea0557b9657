"""picus.observability.request_id on its own: which ids are taken, and the problem stamp."""

import pytest

from picus.observability.request_id import _with_request_id, request_id_from


def scope(*values: bytes) -> dict[str, object]:
    return {"headers": [(b"x-request-id", value) for value in values]}


def test_a_well_formed_id_is_kept() -> None:
    assert request_id_from(scope(b"abc-123:X/=+")) == "abc-123:X/=+"


@pytest.mark.parametrize(
    "values", [(), (b"",), (b"has space",), (b"a" * 129,), (b"one", b"two"), (b"\xff",)]
)
def test_anything_else_gets_a_new_id(values: tuple[bytes, ...]) -> None:
    made = request_id_from(scope(*values))
    assert len(made) == 32
    assert made not in {v.decode("latin-1") for v in values}


def test_a_problem_body_gets_the_id_and_nothing_else_changes() -> None:
    assert _with_request_id(b'{"status": 404}', "r1") == b'{"status": 404, "request_id": "r1"}'
    assert _with_request_id(b"[1]", "r1") == b"[1]"
    assert _with_request_id(b"", "r1") == b""
    kept = b'{"request_id": "theirs"}'
    assert _with_request_id(kept, "r1") == kept
