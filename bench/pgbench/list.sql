-- GET /picus/list: every item, by id.
SELECT id, data::text, created_at, updated_at FROM items ORDER BY id;
