/** The Server-Sent Events parser, against the HTML standard's rules (no server needed). */

import assert from "node:assert/strict";
import { test } from "node:test";
import { type SseEvent, SseParser } from "../src/sse.js";

function parse(...chunks: string[]): { events: SseEvent[]; parser: SseParser } {
  const parser = new SseParser();
  const events = chunks.flatMap((chunk) => parser.push(chunk));
  events.push(...parser.end());
  return { events, parser };
}

test("Picus's events: id, event and data; retry sets the reconnection time", () => {
  const { events, parser } = parse(
    'retry: 1000\n\nid: 1\nevent: created\ndata: {"seq":1}\n\n: keep-alive\n\nid: 2\nevent: deleted\ndata: {"seq":2}\n\n',
  );
  assert.deepEqual(events, [
    { type: "created", data: '{"seq":1}', lastEventId: "1" },
    { type: "deleted", data: '{"seq":2}', lastEventId: "2" },
  ]);
  assert.equal(parser.retry, 1000);
  assert.equal(parser.lastEventId, "2");
});

test("lines may end in CRLF, CR or LF, and be split anywhere across chunks", () => {
  const stream = "id: 7\r\nevent: updated\rdata: a\ndata: b\r\n\r\nid: 8\rdata: c\r\r";
  const whole = parse(stream).events;
  assert.deepEqual(whole, [
    { type: "updated", data: "a\nb", lastEventId: "7" },
    { type: "message", data: "c", lastEventId: "8" },
  ]);
  for (let cut = 1; cut < stream.length; cut++) {
    const split = parse(stream.slice(0, cut), stream.slice(cut)).events;
    assert.deepEqual(split, whole, `split at ${cut}`);
  }
  assert.deepEqual(parse(...stream).events, whole, "one character at a time");
});

test("comments, unknown fields, a bad retry and an id with NUL are ignored", () => {
  const { events, parser } = parse(
    ":hello\nretry: soon\nfoo: bar\nid: 3\ndata\ndata:x\n\nid: 4\0\ndata: y\n\n",
  );
  assert.deepEqual(events, [
    { type: "message", data: "\nx", lastEventId: "3" },
    { type: "message", data: "y", lastEventId: "3" },
  ]);
  assert.equal(parser.retry, undefined);
});

test("an event with no data is not dispatched; the id still counts; a BOM is skipped", () => {
  const { events, parser } = parse("\uFEFFid: 5\nevent: created\n\ndata: z\n\n");
  assert.deepEqual(events, [{ type: "message", data: "z", lastEventId: "5" }]);
  assert.equal(parser.lastEventId, "5");
});

test("an event cut off by the end of the stream is dropped", () => {
  const { events } = parse("id: 1\ndata: whole\n\nid: 2\ndata: cut");
  assert.deepEqual(events, [{ type: "message", data: "whole", lastEventId: "1" }]);
});
