-- POST /picus/put: insert one document, return its id.
INSERT INTO items (data, created_at, updated_at) VALUES (:doc, now(), now()) RETURNING id;
