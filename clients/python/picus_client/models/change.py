from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.change_op import ChangeOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="Change")


@_attrs_define
class Change:
    """One committed write. `version` is the item's new version (the number in its ETag); a delete has none.

    Example:
        {'seq': 7, 'id': 1, 'op': 'updated', 'version': 2, 'at': '2026-11-26T08:05:00.654321+00:00'}

    Attributes:
        seq (int): The change's position in the feed; greater for every later commit.
        id (int):  Example: 1.
        op (ChangeOp):
        at (datetime.datetime):
        version (int | Unset):
    """

    seq: int
    id: int
    op: ChangeOp
    at: datetime.datetime
    version: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        seq = self.seq

        id = self.id

        op = self.op.value

        at = self.at.isoformat()

        version = self.version

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "seq": seq,
                "id": id,
                "op": op,
                "at": at,
            }
        )
        if version is not UNSET:
            field_dict["version"] = version

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        seq = d.pop("seq")

        id = d.pop("id")

        op = ChangeOp(d.pop("op"))

        at = datetime.datetime.fromisoformat(d.pop("at"))

        version = d.pop("version", UNSET)

        change = cls(
            seq=seq,
            id=id,
            op=op,
            at=at,
            version=version,
        )

        return change
