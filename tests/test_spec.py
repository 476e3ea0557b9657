"""The one reading of the spec that the guard, the metric names and the key scopes share."""

from picus.resources import resource_dir
from picus.spec import load_api_spec


def test_every_operation_is_read_with_its_path_method_scope_and_integer_ids() -> None:
    spec = load_api_spec(resource_dir("openapi") / "picus.yaml", keys_enabled=True)
    assert spec.base_path == "/picus"
    found = {(op.operation_id, op.method, op.path, op.scope) for op in spec.operations}
    assert found == {
        ("list_items", "GET", "/picus/list", "read"),
        ("create_item", "POST", "/picus/put", "write"),
        ("get_item", "GET", "/picus/get/{id}", "read"),
        ("replace_item", "PUT", "/picus/{id}", "write"),
        ("patch_item", "PATCH", "/picus/{id}", "write"),
        ("delete_item", "DELETE", "/picus/{id}", "write"),
        ("list_changes", "GET", "/picus/changes", "read"),
    }
    # `id` is an integer through two $refs (parameter, then schema): the guard needs that.
    by_id = {op.operation_id: op for op in spec.operations}
    assert by_id["get_item"].integer_path_params == {"id"}
    assert by_id["list_items"].integer_path_params == frozenset()
