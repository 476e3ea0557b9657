/**
 * Every item operation through the typed client against a running Picus (PICUS_BASE_URL):
 * put, get (with and without If-None-Match), list with paging, PUT and PATCH with If-Match,
 * delete, and error answers as the spec's typed Problem.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createPicusClient, type Document, type Item, nextPage } from "../src/index.js";
import { picus, problem, put, serverOrigin } from "./support.js";

const client = picus();

/** Documents of every JSON kind: the generated types must take each as a body. */
const DOCUMENTS: Document[] = [
  { name: "picus", tags: ["woodpecker"], nested: { deep: [1, { x: null }] } },
  [1, 2.5, "three", null, false],
  "just a string",
  -12.25,
  true,
  null,
];

async function read(id: number): Promise<{ item: Item; etag: string }> {
  const { data, error, response } = await client.GET("/get/{id}", { params: { path: { id } } });
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(response.status, 200);
  assert.ok(data);
  const etag = response.headers.get("ETag");
  assert.match(etag ?? "", /^"[0-9]+"$/);
  return { item: data, etag: etag ?? "" };
}

describe("put and get", () => {
  test("any JSON value is stored and read back equal, with Location and ETag", async () => {
    for (const document of DOCUMENTS) {
      const { data, error, response } = await client.POST("/put", { body: document });
      assert.equal(error, undefined);
      assert.equal(response.status, 201);
      assert.ok(data);
      assert.equal(response.headers.get("Location"), `/picus/get/${data.id}`);
      assert.equal(response.headers.get("ETag"), '"1"');
      const { item, etag } = await read(data.id);
      assert.equal(item.id, data.id);
      assert.deepEqual(item.data, document);
      assert.equal(etag, '"1"');
      assert.ok(!Number.isNaN(Date.parse(item.created_at)));
      assert.equal(item.updated_at, item.created_at);
    }
  });

  test("an Idempotency-Key stores once; the same key with another body is a 422 problem", async () => {
    const key = `ts-${crypto.randomUUID()}`;
    const body = { order: 7 };
    const params = { header: { "Idempotency-Key": key } };
    const first = await client.POST("/put", { params, body });
    const again = await client.POST("/put", { params, body: { order: 7 } });
    assert.equal(first.response.status, 201);
    assert.equal(again.response.status, 201);
    assert.ok(first.data && again.data);
    assert.equal(again.data.id, first.data.id);
    assert.equal(first.response.headers.get("Idempotent-Replayed"), null);
    assert.equal(again.response.headers.get("Idempotent-Replayed"), "true");
    const other = await client.POST("/put", { params, body: { order: 8 } });
    assert.equal(problem(other).status, 422);
  });

  test("If-None-Match with the current tag is 304 with no body; a stale tag reads the item", async () => {
    const id = await put(client, { v: 1 });
    const { etag } = await read(id);
    const notModified = await client.GET("/get/{id}", {
      params: { path: { id }, header: { "If-None-Match": etag } },
    });
    assert.equal(notModified.response.status, 304);
    assert.equal(notModified.response.headers.get("ETag"), etag);
    assert.equal(notModified.data, undefined);
    assert.ok(!notModified.error, "a 304 is no problem"); // openapi-fetch gives ""
    const stale = await client.GET("/get/{id}", {
      params: { path: { id }, header: { "If-None-Match": '"999"' } },
    });
    assert.equal(stale.response.status, 200);
    assert.deepEqual(stale.data?.data, { v: 1 });
  });

  test("an unknown id is a 404 problem; an id out of range is a 400 problem", async () => {
    const missing = await client.GET("/get/{id}", { params: { path: { id: 9_000_000_000 } } });
    assert.equal(problem(missing).status, 404);
    const invalid = await client.GET("/get/{id}", { params: { path: { id: 0 } } });
    assert.equal(problem(invalid).status, 400);
  });

  test("a document nested deeper than the limit is a 400 problem", async () => {
    let deep: Document = 1;
    for (let depth = 0; depth < 101; depth++) deep = [deep];
    const result = await client.POST("/put", { body: deep });
    assert.equal(problem(result).status, 400);
  });
});

describe("list", () => {
  test("pages of `limit` items by id, chained by Link rel=next, equal the whole list", async () => {
    const ids: number[] = [];
    for (let n = 0; n < 5; n++) ids.push(await put(client, { n }));
    const after = (ids[0] ?? 0) - 1;

    const whole = await client.GET("/list", { params: { query: { after } } });
    assert.equal(whole.response.status, 200);
    assert.equal(whole.response.headers.get("Link"), null);
    assert.deepEqual(
      whole.data?.map((item) => item.id),
      ids,
    );

    const pages: number[][] = [];
    type ListQuery = { after?: number; limit?: number };
    let query: ListQuery | undefined = { after, limit: 2 };
    while (query !== undefined) {
      const params: { query: ListQuery } = { query };
      const { data, error, response } = await client.GET("/list", { params });
      assert.equal(error, undefined);
      assert.ok(data);
      pages.push(data.map((item) => item.id));
      query = nextPage(response);
      assert.ok(pages.length <= 3, "more pages than items");
    }
    assert.deepEqual(pages, [ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
    assert.deepEqual(
      whole.data?.map((item) => item.data),
      [0, 1, 2, 3, 4].map((n) => ({ n })),
    );
  });

  test("a limit out of range is a 400 problem", async () => {
    const result = await client.GET("/list", { params: { query: { limit: 0 } } });
    assert.equal(problem(result).status, 400);
  });
});

describe("replace with PUT", () => {
  test("If-Match with the current tag replaces (200); the old tag then is a 412 problem", async () => {
    const id = await put(client, { name: "first" });
    const before = await read(id);
    const replaced = await client.PUT("/{id}", {
      params: { path: { id }, header: { "If-Match": before.etag } },
      body: ["second"],
    });
    assert.equal(replaced.response.status, 200);
    assert.ok(replaced.data);
    assert.deepEqual(replaced.data.data, ["second"]);
    assert.equal(replaced.data.created_at, before.item.created_at);
    const etag = replaced.response.headers.get("ETag");
    assert.notEqual(etag, before.etag);

    const stale = await client.PUT("/{id}", {
      params: { path: { id }, header: { "If-Match": before.etag } },
      body: "third",
    });
    assert.equal(problem(stale).status, 412);
    const after = await read(id);
    assert.deepEqual(after.item.data, ["second"]);
    assert.equal(after.etag, etag);
  });

  test("replacing an unknown id is a 404 problem", async () => {
    const result = await client.PUT("/{id}", { params: { path: { id: 9_000_000_000 } }, body: 1 });
    assert.equal(problem(result).status, 404);
  });
});

describe("patch (JSON Merge Patch)", () => {
  test("sends application/merge-patch+json and merges: members recursively, null removes", async () => {
    const sent: string[] = [];
    const recording = createPicusClient(`${serverOrigin()}/picus`, {
      fetch: (request) => {
        sent.push(`${request.method} ${request.headers.get("Content-Type")}`);
        return fetch(request);
      },
    });
    const id = await put(client, {
      name: "picus",
      tags: ["woodpecker"],
      nested: { a: 1, b: 2 },
      obsolete: true,
    });
    const before = await read(id);
    const patched = await recording.PATCH("/{id}", {
      params: { path: { id }, header: { "If-Match": before.etag } },
      body: { tags: ["woodpecker", "green"], nested: { b: null, c: 3 }, obsolete: null },
    });
    assert.deepEqual(sent, ["PATCH application/merge-patch+json"]);
    assert.equal(patched.error, undefined, JSON.stringify(patched.error));
    assert.equal(patched.response.status, 200);
    const expected = { name: "picus", tags: ["woodpecker", "green"], nested: { a: 1, c: 3 } };
    assert.deepEqual(patched.data?.data, expected);
    assert.equal(patched.data?.created_at, before.item.created_at);
    const etag = patched.response.headers.get("ETag");
    assert.notEqual(etag, before.etag);
    const after = await read(id);
    assert.deepEqual(after.item.data, expected);
    assert.equal(after.etag, etag);
  });

  test("If-Match with a stale tag is a 412 problem and changes nothing", async () => {
    const id = await put(client, { a: 1 });
    const { etag } = await read(id);
    const first = await client.PATCH("/{id}", {
      params: { path: { id }, header: { "If-Match": etag } },
      body: { a: 2 },
    });
    assert.equal(first.response.status, 200);
    const stale = await client.PATCH("/{id}", {
      params: { path: { id }, header: { "If-Match": etag } },
      body: { a: 3 },
    });
    assert.equal(problem(stale).status, 412);
    assert.deepEqual((await read(id)).item.data, { a: 2 });
  });

  test("a patch that is not an object replaces; an object patch on a non-object starts from {}", async () => {
    const id = await put(client, { a: 1 });
    const replaced = await client.PATCH("/{id}", { params: { path: { id } }, body: [1, 2] });
    assert.deepEqual(replaced.data?.data, [1, 2]);
    const merged = await client.PATCH("/{id}", {
      params: { path: { id } },
      body: { x: { y: 1, z: null }, gone: null },
    });
    assert.deepEqual(merged.data?.data, { x: { y: 1 } });
  });

  test("patching an unknown id is a 404 problem", async () => {
    const result = await client.PATCH("/{id}", {
      params: { path: { id: 9_000_000_000 } },
      body: { a: 1 },
    });
    assert.equal(problem(result).status, 404);
  });
});

describe("delete", () => {
  test("If-Match with a stale tag is a 412 problem; then 204, and the item is gone (404)", async () => {
    const id = await put(client, "doomed");
    const { etag } = await read(id);
    await client.PUT("/{id}", { params: { path: { id } }, body: "changed" });

    const stale = await client.DELETE("/{id}", {
      params: { path: { id }, header: { "If-Match": etag } },
    });
    assert.equal(problem(stale).status, 412);
    assert.deepEqual((await read(id)).item.data, "changed");

    const current = (await read(id)).etag;
    const deleted = await client.DELETE("/{id}", {
      params: { path: { id }, header: { "If-Match": current } },
    });
    assert.equal(deleted.response.status, 204);
    assert.equal(deleted.error, undefined);

    const gone = await client.GET("/get/{id}", { params: { path: { id } } });
    assert.equal(problem(gone).status, 404);
    const again = await client.DELETE("/{id}", { params: { path: { id } } });
    assert.equal(problem(again).status, 404);
  });
});
