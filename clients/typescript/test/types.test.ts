/**
 * The generated types say what the spec says. Most checks here are compile-time: each
 * `@ts-expect-error` must meet an error, so `tsc` (run before `npm test`, and by
 * `make lint`) fails if the types ever allow what the spec does not. Nothing is sent: the
 * client's fetch answers locally.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Change,
  changesLatest,
  createPicusClient,
  type Document,
  type Item,
  nextPage,
  type Problem,
} from "../src/index.js";

const sent: Request[] = [];
const offline = createPicusClient("http://picus.invalid/picus/", {
  apiKey: "k3y",
  fetch: async (request) => {
    sent.push(request);
    const status = request.method === "DELETE" ? 404 : 200;
    const body = status === 404 ? { type: "about:blank", title: "Not Found", status, detail: "no" } : [];
    return new Response(JSON.stringify(body), {
      status,
      headers: {
        "Content-Type": status === 404 ? "application/problem+json" : "application/json",
        Link: '</picus/changes?since=9&limit=2>; rel="next"',
        "Picus-Changes-Latest": "12",
      },
    });
  },
});

test("documents are any JSON value, not only objects", () => {
  const documents: Document[] = [{}, [], "s", 1, true, null];
  const item: Item = { id: 1, data: "a string", created_at: "", updated_at: "" };
  // @ts-expect-error: an item's data may be any JSON value, so it is not known to be an object
  const asObject: Record<string, unknown> = item.data;
  assert.equal(documents.length + String(asObject).length, 14);
});

test("a change has the spec's shape: op is one of three, version is optional", () => {
  const change: Change = { seq: 1, id: 1, op: "created", version: 1, at: "" };
  const deleted: Change = { seq: 2, id: 1, op: "deleted", at: "" };
  // @ts-expect-error: not an op of the spec
  const renamed: Change = { seq: 3, id: 1, op: "renamed", at: "" };
  // @ts-expect-error: seq is required
  const noSeq: Change = { id: 1, op: "created", at: "" };
  assert.equal([change, deleted, renamed, noSeq].length, 4);
});

test("operations take what the spec says and nothing else", async () => {
  // @ts-expect-error: no such path
  await offline.GET("/items");
  // @ts-expect-error: get needs its path id
  await offline.GET("/get/{id}", {});
  // @ts-expect-error: ids are integers, not strings
  await offline.GET("/get/{id}", { params: { path: { id: "1" } } });
  // @ts-expect-error: PUT needs a body
  await offline.PUT("/{id}", { params: { path: { id: 1 } } });
  // @ts-expect-error: there is no POST on /{id}
  await offline.POST("/{id}", { params: { path: { id: 1 } }, body: {} });
  // @ts-expect-error: If-Match is a string header
  await offline.DELETE("/{id}", { params: { path: { id: 1 }, header: { "If-Match": 1 } } });
  await offline.PATCH("/{id}", { params: { path: { id: 1 }, header: { "If-Match": '"1"' } }, body: null });
  await offline.POST("/put", { params: { header: { "Idempotency-Key": "k" } }, body: [1] });
  // @ts-expect-error: since is a number
  await offline.GET("/changes", { params: { query: { since: "0" } } });
  assert.equal(sent.length, 9, "requests the types refuse are still sent: fetch is offline");
});

test("answers are typed: the JSON feed is Change[], errors are Problem", async () => {
  const feed = await offline.GET("/changes", { params: { query: { since: 0 } } });
  const changes: Change[] | undefined = feed.data;
  assert.deepEqual(changes, []);
  const deleted = await offline.DELETE("/{id}", { params: { path: { id: 1 } } });
  const problem: Problem | undefined = deleted.error;
  assert.equal(problem?.status, 404);
  assert.deepEqual(nextPage(feed.response), { since: 9, limit: 2 });
  assert.equal(changesLatest(feed.response), 12);
});

test("every request carries the API key; the JSON feed asks for JSON; PATCH sends a merge patch", async () => {
  sent.length = 0;
  await offline.GET("/changes");
  await offline.PATCH("/{id}", { params: { path: { id: 1 } }, body: { a: null } });
  await offline.PUT("/{id}", { params: { path: { id: 1 } }, body: { a: null } });
  assert.deepEqual(
    sent.map((request) => [
      request.method,
      request.url,
      request.headers.get("X-API-Key"),
      request.headers.get("Accept"),
      request.headers.get("Content-Type"),
    ]),
    [
      ["GET", "http://picus.invalid/picus/changes", "k3y", "application/json", null],
      ["PATCH", "http://picus.invalid/picus/1", "k3y", null, "application/merge-patch+json"],
      ["PUT", "http://picus.invalid/picus/1", "k3y", null, "application/json"],
    ],
  );
  assert.equal(await sent[1]?.text(), '{"a":null}');
});

test("nextPage reads rel=next among other links, and nothing from a last page", () => {
  const links = (value: string | null) =>
    new Response(null, value === null ? {} : { headers: { Link: value } });
  assert.deepEqual(
    nextPage(links('</picus/list?after=1>; rel="prev", </picus/list?after=5&limit=2>; rel="next"')),
    { after: 5, limit: 2 },
  );
  assert.equal(nextPage(links('</picus/list?after=1>; rel="prev"')), undefined);
  assert.equal(nextPage(links(null)), undefined);
});
