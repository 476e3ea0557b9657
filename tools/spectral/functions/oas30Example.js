// Spectral's own example check (oasExample), run on a copy of the schema in which a
// `nullable: true` without `type` is dropped. OpenAPI 3.0.3 says such a `nullable` has no
// effect, but the JSON-schema engine behind oasExample refuses to compile it, and then
// validates no example at all. Picus's Document schema ("any JSON value") needs that
// `nullable`: Connexion reads it to accept a JSON `null` request body.
import { oasExample } from "@stoplight/spectral-rulesets/dist/oas/functions/index.js";

// Keywords whose values are data, not schemas: left exactly as written.
const DATA_KEYWORDS = new Set(["example", "examples", "default", "enum", "const"]);

function withoutTypelessNullable(node) {
  if (Array.isArray(node)) return node.map(withoutTypelessNullable);
  if (node === null || typeof node !== "object") return node;
  const copy = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "nullable" && value === true && !("type" in node)) continue;
    copy[key] = DATA_KEYWORDS.has(key) ? value : withoutTypelessNullable(value);
  }
  return copy;
}

export default function oas30Example(targetVal, options, context) {
  const field = options.schemaField;
  const target =
    field === "$"
      ? withoutTypelessNullable(targetVal)
      : { ...targetVal, [field]: withoutTypelessNullable(targetVal[field]) };
  return oasExample(target, options, context);
}
