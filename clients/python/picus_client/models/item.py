from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Item")


@_attrs_define
class Item:
    """
    Attributes:
        id (int):  Example: 1.
        data (Any): Any JSON value (object, array, string, number, boolean or null). Example: {'name': 'picus', 'tags':
            ['woodpecker']}.
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: int
    data: Any
    created_at: datetime.datetime
    updated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        data = self.data

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "data": data,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        data = d.pop("data")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        item = cls(
            id=id,
            data=data,
            created_at=created_at,
            updated_at=updated_at,
        )

        return item
