/**
 * followChanges against a scripted local server, for what a healthy Picus rarely does on
 * cue: a 503 with Retry-After, a stream the server ends cleanly, a `retry:` field, a 410.
 */

import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { type Change, createPicusClient, FeedError } from "../src/index.js";

type Script = (request: http.IncomingMessage, response: http.ServerResponse) => void;

interface Seen {
  at: number;
  url: string;
  lastEventId: string | undefined;
  accept: string | undefined;
}

/** Serve one scripted answer per request, in order; record each request. */
async function scripted(
  scripts: Script[],
): Promise<{ origin: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((request, response) => {
    seen.push({
      at: Date.now(),
      url: request.url ?? "",
      lastEventId: request.headers["last-event-id"] as string | undefined,
      accept: request.headers.accept,
    });
    const script = scripts.shift();
    if (script === undefined) response.destroy();
    else script(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function change(seq: number): Change {
  return { seq, id: 1, op: seq === 1 ? "created" : "updated", version: seq, at: "2026-11-26T08:00:00+00:00" };
}

function event(seq: number): string {
  return `id: ${seq}\nevent: ${change(seq).op}\ndata: ${JSON.stringify(change(seq))}\n\n`;
}

function problem(status: number, title: string, headers: Record<string, string> = {}): Script {
  return (_request, response) => {
    response.writeHead(status, { "Content-Type": "application/problem+json", ...headers });
    response.end(JSON.stringify({ type: "about:blank", title, status, detail: `${title}.` }));
  };
}

function stream(body: string, end: boolean): Script {
  return (_request, response) => {
    response.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
    response.write(body);
    if (end) response.end();
  };
}

test("a 503 is waited out (Retry-After); a cleanly ended stream resumes with Last-Event-ID", async () => {
  const server = await scripted([
    problem(503, "Service Unavailable", { "Retry-After": "1" }),
    stream(`retry: 50\n\n${event(1)}${event(2)}: keep-alive\n\n`, true),
    stream(event(3), false),
  ]);
  try {
    const picus = createPicusClient(`${server.origin}/picus`);
    const changes: Change[] = [];
    for await (const next of picus.followChanges({ since: 0, retryDelayMs: 10 })) {
      changes.push(next);
      if (changes.length === 3) break;
    }
    assert.deepEqual(changes, [change(1), change(2), change(3)]);
    assert.deepEqual(
      server.seen.map(({ url, lastEventId, accept }) => ({ url, lastEventId, accept })),
      [
        { url: "/picus/changes?since=0", lastEventId: undefined, accept: "text/event-stream" },
        { url: "/picus/changes?since=0", lastEventId: undefined, accept: "text/event-stream" },
        { url: "/picus/changes?since=2", lastEventId: "2", accept: "text/event-stream" },
      ],
    );
    const [first, second, third] = server.seen.map((request) => request.at);
    assert.ok((second ?? 0) - (first ?? 0) >= 990, "Retry-After: 1 was not waited for");
    // The stream's `retry: 50` replaced retryDelayMs; the second wait is nowhere near 1 s.
    assert.ok((third ?? 0) - (second ?? 0) < 900);
  } finally {
    await server.close();
  }
});

test("a 410 (the position is no longer kept) ends the iteration with its problem, untried again", async () => {
  const server = await scripted([problem(410, "Gone"), problem(410, "Gone")]);
  try {
    const picus = createPicusClient(`${server.origin}/picus`);
    await assert.rejects(picus.followChanges({ since: 5 }).next(), (error: unknown) => {
      assert.ok(error instanceof FeedError);
      assert.equal(error.status, 410);
      assert.deepEqual(error.problem, { type: "about:blank", title: "Gone", status: 410, detail: "Gone." });
      return true;
    });
    assert.equal(server.seen.length, 1);
  } finally {
    await server.close();
  }
});

test("an answer that is not an event stream ends the iteration", async () => {
  const server = await scripted([
    (_request, response) => {
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end("[]");
    },
  ]);
  try {
    const picus = createPicusClient(`${server.origin}/picus`);
    await assert.rejects(picus.followChanges().next(), /not text\/event-stream/);
  } finally {
    await server.close();
  }
});

test("an API key is sent on the stream too", async () => {
  let key: string | undefined;
  const server = await scripted([
    (request, response) => {
      key = request.headers["x-api-key"] as string | undefined;
      stream(event(1), false)(request, response);
    },
  ]);
  try {
    const picus = createPicusClient(`${server.origin}/picus`, { apiKey: "s3cret" });
    const changes = picus.followChanges();
    const first = await changes.next();
    await changes.return();
    assert.deepEqual(first, { done: false, value: change(1) });
    assert.equal(key, "s3cret");
  } finally {
    await server.close();
  }
});
