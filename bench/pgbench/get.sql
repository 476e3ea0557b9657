-- GET /picus/get/{id}: one item by primary key, the document as JSON text.
\set id random(:first_id, :last_id)
SELECT id, data::text, created_at, updated_at FROM items WHERE id = :id;
