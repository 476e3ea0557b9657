-- DELETE /picus/{id}: each transaction deletes the next id of a sequence the runner set up,
-- so, as in the HTTP scenario, every id exists and is deleted once.
DELETE FROM items WHERE id = (SELECT nextval('bench_delete_ids'));
