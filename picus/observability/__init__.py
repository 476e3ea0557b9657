"""Operating Picus: request ids, structured logs, Prometheus metrics, start and stop."""
