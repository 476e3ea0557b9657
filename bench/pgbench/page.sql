-- GET /picus/list?limit=100&after=A: one keyset page (one extra row says whether more remain).
\set after random(:first_id - 1, :last_id - 100)
SELECT id, data::text, created_at, updated_at FROM items WHERE id > :after ORDER BY id LIMIT 101;
