/**
 * What the end-to-end tests share: the server under test (PICUS_BASE_URL, required), a
 * client for it, and a TCP proxy that can drop every connection through it at once.
 */

import assert from "node:assert/strict";
import net from "node:net";
import {
  type Change,
  createPicusClient,
  nextPage,
  type PicusClient,
  type Problem,
} from "../src/index.js";

/** The server's origin, e.g. http://127.0.0.1:8000 (the API is under /picus). */
export function serverOrigin(): string {
  const origin = process.env["PICUS_BASE_URL"];
  if (origin === undefined || origin === "") {
    throw new Error("set PICUS_BASE_URL to a running Picus, e.g. PICUS_BASE_URL=http://127.0.0.1:8000");
  }
  return origin.replace(/\/+$/, "");
}

export function picus(origin: string = serverOrigin()): PicusClient {
  return createPicusClient(`${origin}/picus`);
}

/** Store `document` and return its id, checking the 201 answer on the way. */
export async function put(client: PicusClient, document: unknown): Promise<number> {
  const { data, error, response } = await client.POST("/put", { body: document });
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(response.status, 201);
  assert.ok(data);
  return data.id;
}

/** The error answer's typed problem, checked against the status it came with. */
export function problem(result: { error?: Problem | undefined; response: Response }): Problem {
  const { error, response } = result;
  assert.ok(error, `expected a problem, got ${response.status}`);
  assert.equal(response.headers.get("Content-Type"), "application/problem+json");
  assert.equal(error.status, response.status);
  assert.equal(typeof error.title, "string");
  assert.equal(typeof error.detail, "string");
  return error;
}

/** Every change after `since` in the JSON form of the feed, following its Link pages. */
export async function allChangesSince(client: PicusClient, since: number): Promise<Change[]> {
  const changes: Change[] = [];
  let query: { since?: number; limit?: number } | undefined = { since, limit: 1000 };
  while (query !== undefined) {
    const params: { query: { since?: number; limit?: number } } = { query };
    const { data, error, response } = await client.GET("/changes", { params });
    assert.equal(error, undefined, JSON.stringify(error));
    assert.ok(data);
    changes.push(...data);
    query = nextPage(response);
  }
  return changes;
}

/**
 * The changes after `since` about `ids`, once there are `count` of them. A change is
 * numbered just after its write commits, so it may show in the feed a moment after the
 * write was answered: wait for it (up to 10 s).
 */
export async function changesSince(
  client: PicusClient,
  since: number,
  ids: ReadonlySet<number>,
  count: number,
): Promise<Change[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const changes = (await allChangesSince(client, since)).filter((change) => ids.has(change.id));
    if (changes.length >= count || Date.now() > deadline) return changes;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The newest change's seq right now. */
export async function latestSeq(client: PicusClient): Promise<number> {
  const { response } = await client.GET("/changes", { params: { query: { limit: 1 } } });
  assert.equal(response.status, 200);
  const latest = response.headers.get("Picus-Changes-Latest");
  assert.match(latest ?? "", /^[0-9]+$/);
  return Number(latest);
}

/** Take changes from `changes` until `count` of them are about `ids` (others are skipped). */
export async function take(
  changes: AsyncIterator<Change>,
  ids: ReadonlySet<number>,
  count: number,
): Promise<Change[]> {
  const taken: Change[] = [];
  while (taken.length < count) {
    const next = await changes.next();
    assert.ok(!next.done, `the feed ended after ${taken.length} of ${count} changes`);
    if (ids.has(next.value.id)) taken.push(next.value);
  }
  return taken;
}

/** A TCP proxy to `target` that records each connection's request head and can drop them all. */
export class DroppingProxy {
  readonly heads: string[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly server: net.Server;

  private constructor(target: URL) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      this.sockets.add(client).add(upstream);
      client.on("data", (chunk: Buffer) => {
        // Only bodiless GETs go through: a chunk that starts a request holds its head.
        const text = chunk.toString("latin1");
        if (/^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(text)) this.heads.push(text.split("\r\n\r\n")[0] ?? "");
      });
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
  }

  static async start(origin: string): Promise<DroppingProxy> {
    const proxy = new DroppingProxy(new URL(origin));
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get origin(): string {
    const address = this.server.address() as net.AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** Requests for the event stream seen so far, by their request head. */
  streamRequests(): string[] {
    return this.heads.filter((head) => /^accept: text\/event-stream\r?$/im.test(head));
  }

  /** Cut every open connection, as a restarting server or a flaky network would. */
  dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
