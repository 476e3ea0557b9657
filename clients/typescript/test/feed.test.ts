/**
 * The change feed through the typed client against a running Picus (PICUS_BASE_URL): the
 * JSON form with paging and Picus-Changes-Latest, and followChanges over Server-Sent Events,
 * resuming after the test stops it and after the connection is cut under it.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type Change,
  changesLatest,
  createPicusClient,
  FeedError,
  nextPage,
} from "../src/index.js";
import {
  allChangesSince,
  changesSince,
  DroppingProxy,
  latestSeq,
  picus,
  put,
  serverOrigin,
  take,
} from "./support.js";

const client = picus();
const TIMEOUT = 20_000;

/** Create an item, replace it, patch it and delete it: four changes. Returns the id. */
async function lifecycle(tag: string): Promise<number> {
  const id = await put(client, { tag });
  const replaced = await client.PUT("/{id}", { params: { path: { id } }, body: { tag, v: 2 } });
  assert.equal(replaced.response.status, 200);
  const patched = await client.PATCH("/{id}", { params: { path: { id } }, body: { v: 3 } });
  assert.equal(patched.response.status, 200);
  const deleted = await client.DELETE("/{id}", { params: { path: { id } } });
  assert.equal(deleted.response.status, 204);
  return id;
}

function summary(changes: Change[]): string[] {
  return changes.map((change) => `${change.seq}:${change.id}:${change.op}:${change.version ?? "-"}`);
}

function assertAscending(changes: Change[]): void {
  for (let n = 1; n < changes.length; n++) {
    assert.ok((changes[n]?.seq ?? 0) > (changes[n - 1]?.seq ?? 0), `seq not ascending at ${n}`);
  }
}

describe("the JSON feed", () => {
  test("every write is one change, in commit order, with the item's version", async () => {
    const since = await latestSeq(client);
    const id = await put(client, ["v1"]);
    const etags = [];
    const get = await client.GET("/get/{id}", { params: { path: { id } } });
    etags.push(get.response.headers.get("ETag"));
    const replaced = await client.PUT("/{id}", { params: { path: { id } }, body: ["v2"] });
    etags.push(replaced.response.headers.get("ETag"));
    const patched = await client.PATCH("/{id}", { params: { path: { id } }, body: { v: 3 } });
    etags.push(patched.response.headers.get("ETag"));
    await client.DELETE("/{id}", { params: { path: { id } } });

    const data = await changesSince(client, since, new Set([id]), 4);
    assert.deepEqual(
      data.map(({ id, op, version }) => ({ id, op, version })),
      [
        { id, op: "created", version: 1 },
        { id, op: "updated", version: 2 },
        { id, op: "updated", version: 3 },
        { id, op: "deleted", version: undefined },
      ],
    );
    assert.deepEqual(
      etags,
      data.slice(0, 3).map((change) => `"${change.version}"`),
    );
    assertAscending(data);
    assert.ok((data[0]?.seq ?? 0) > since);
    for (const change of data) assert.ok(!Number.isNaN(Date.parse(change.at)));

    const { error, response } = await client.GET("/changes", { params: { query: { since } } });
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(response.status, 200);
    assert.match(response.headers.get("Content-Type") ?? "", /^application\/json/);
    assert.ok((changesLatest(response) ?? 0) >= (data.at(-1)?.seq ?? Infinity));
  });

  test("pages of `limit` changes chained by Link rel=next equal one big page", async () => {
    const since = await latestSeq(client);
    const ids = new Set([await lifecycle("paged"), await lifecycle("paged")]);
    const whole = await changesSince(client, since, ids, 8);
    assert.equal(whole.length, 8);
    // Pages are compared from the first of these changes on, so nothing numbered later
    // from earlier tests can slip in between.
    const from = (whole[0]?.seq ?? 1) - 1;
    const all = await allChangesSince(client, from);

    const pages: Change[][] = [];
    let query: { since?: number; limit?: number } | undefined = { since: from, limit: 3 };
    while (query !== undefined) {
      const { data, response } = await client.GET("/changes", { params: { query } });
      assert.ok(data);
      pages.push(data);
      query = nextPage(response);
      assert.ok(pages.length <= Math.ceil(all.length / 3), "more pages than changes");
    }
    assert.ok(all.length >= 8);
    assert.deepEqual(
      pages.map((page) => page.length),
      pages.map((_, n) => Math.min(3, all.length - 3 * n)),
    );
    assert.deepEqual(summary(pages.flat()), summary(all));
    assert.deepEqual(
      summary(all.filter((change) => ids.has(change.id))),
      summary(whole),
    );
  });

  test("GET /list answers Picus-Changes-Latest: following from it misses nothing after the list", async () => {
    const id = await put(client, "listed");
    const listed = await client.GET("/list", { params: { query: { after: id - 1 } } });
    assert.deepEqual(
      listed.data?.map((item) => item.id),
      [id],
    );
    const latest = changesLatest(listed.response);
    assert.ok(latest !== undefined, "no Picus-Changes-Latest on GET /list");
    const later = await put(client, "after the list");
    // The listed item's own change may be numbered after the list was read (then it comes
    // again from the feed); the one made after the list must come.
    const changes = await changesSince(client, latest, new Set([id, later]), 2);
    assert.ok(
      changes.some((change) => change.id === later && change.op === "created"),
      JSON.stringify(changes),
    );
  });

  test("a limit out of range is a 400 problem", async () => {
    const { error, response } = await client.GET("/changes", { params: { query: { limit: 0 } } });
    assert.equal(response.status, 400);
    assert.equal(error?.status, 400);
  });
});

describe("followChanges (Server-Sent Events)", () => {
  test("stopped after N events and resumed from the last seq: no gap, no duplicate", { timeout: TIMEOUT }, async () => {
    const since = await latestSeq(client);
    const ids = new Set([await lifecycle("a"), await lifecycle("b")]);
    const stop = new AbortController();
    const first = client.followChanges({ since, signal: stop.signal });
    const head = await take(first, ids, 3);
    stop.abort();
    assert.deepEqual(await first.next(), { done: true, value: undefined });

    const resumeFrom = head.at(-1)?.seq ?? 0;
    const timeout = AbortSignal.timeout(TIMEOUT - 5_000);
    const second = client.followChanges({ since: resumeFrom, signal: timeout });
    const tail = await take(second, ids, 5);
    // Live: a change committed after the stream caught up arrives too.
    ids.add(await put(client, "live"));
    tail.push(...(await take(second, ids, 1)));
    await second.return();

    const expected = await changesSince(client, since, ids, 9);
    assert.equal(expected.length, 9);
    assert.deepEqual(summary([...head, ...tail]), summary(expected));
  });

  test("after the connection is cut it reconnects with Last-Event-ID: no gap, no duplicate", { timeout: TIMEOUT }, async () => {
    const proxy = await DroppingProxy.start(serverOrigin());
    try {
      const since = await latestSeq(client);
      const ids = new Set([await lifecycle("before the cut")]);
      const viaProxy = createPicusClient(`${proxy.origin}/picus`);
      const changes = viaProxy.followChanges({
        since,
        retryDelayMs: 50,
        signal: AbortSignal.timeout(TIMEOUT - 5_000),
      });
      const seen = await take(changes, ids, 3);
      proxy.dropAll();
      ids.add(await lifecycle("after the cut"));
      seen.push(...(await take(changes, ids, 5)));
      await changes.return();

      assert.deepEqual(summary(seen), summary(await changesSince(client, since, ids, 8)));
      const requests = proxy.streamRequests();
      assert.equal(requests.length, 2, requests.join("\n---\n"));
      assert.doesNotMatch(requests[0] ?? "", /^last-event-id:/im);
      // The last change read before the cut: the third, or the fourth if it came in the
      // same chunk (all four changes of the first item were committed before following).
      const resumedAfter = /^last-event-id: ([0-9]+)\r?$/im.exec(requests[1] ?? "")?.[1];
      assert.ok(
        [seen[2]?.seq, seen[3]?.seq].map(String).includes(resumedAfter ?? ""),
        `resumed after ${resumedAfter}, not after ${summary(seen.slice(2, 4))}`,
      );
    } finally {
      await proxy.close();
    }
  });

  test("aborting ends the iteration at once, without an error", { timeout: TIMEOUT }, async () => {
    const stop = new AbortController();
    const changes = client.followChanges({ since: await latestSeq(client), signal: stop.signal });
    const pending = changes.next();
    setTimeout(() => stop.abort(), 200);
    const started = Date.now();
    assert.deepEqual(await pending, { done: true, value: undefined });
    assert.ok(Date.now() - started < 5_000);
  });

  test("an error answer ends the iteration with a FeedError carrying its problem", { timeout: TIMEOUT }, async () => {
    let attempts = 0;
    const wrong = createPicusClient(`${serverOrigin()}/not-picus`, {
      fetch: (request) => {
        attempts += 1;
        return fetch(request);
      },
    });
    await assert.rejects(
      async () => {
        for await (const change of wrong.followChanges({ retryDelayMs: 10 })) {
          assert.fail(`unexpected change ${JSON.stringify(change)}`);
        }
      },
      (error: unknown) => {
        assert.ok(error instanceof FeedError);
        assert.equal(error.status, 404);
        assert.equal(error.problem?.status, 404);
        return true;
      },
    );
    assert.equal(attempts, 1, "a 404 is not worth retrying");
  });

  test("with no server, it retries with a growing, bounded wait, then gives up", { timeout: TIMEOUT }, async () => {
    const proxy = await DroppingProxy.start(serverOrigin());
    const closedOrigin = proxy.origin;
    await proxy.close(); // nothing listens there any more
    const attempts: number[] = [];
    const nowhere = createPicusClient(`${closedOrigin}/picus`, {
      fetch: (request) => {
        attempts.push(Date.now());
        return fetch(request);
      },
    });
    const changes = nowhere.followChanges({ retryDelayMs: 100, maxRetryDelayMs: 250, maxRetries: 4 });
    await assert.rejects(changes.next(), (error: unknown) => {
      assert.ok(error instanceof FeedError);
      assert.match(error.message, /failed 5 times in a row/);
      return true;
    });
    assert.equal(attempts.length, 5);
    const waits = attempts.slice(1).map((at, n) => at - (attempts[n] ?? at));
    // 100, 200, then 250 (the cap; 400 and 800 without it), each up to a quarter less for
    // jitter; the upper bounds leave 250 ms for a busy machine.
    const bounds: [number, number][] = [
      [75, 350],
      [150, 450],
      [187, 500],
      [187, 500],
    ];
    waits.forEach((wait, n) => {
      const [low, high] = bounds[n] ?? [0, 0];
      assert.ok(wait >= low && wait <= high, `wait ${n + 1} was ${wait} ms: ${waits.join(", ")}`);
    });
  });
});
