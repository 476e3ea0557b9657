"""HTTP handlers, one module per area, bound to the spec by operationId. Kept thin."""
