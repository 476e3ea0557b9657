/**
 * Following `GET /picus/changes` as Server-Sent Events, resuming where it left off.
 *
 * Two transports: the browser's `EventSource` (which reconnects by itself and resends
 * `Last-Event-ID`), and a fetch-stream reader for Node and anything else without one (or
 * when an API key must be sent: `EventSource` cannot send headers). Both yield each change
 * once, in `seq` order, and reconnect after a dropped connection from the last change seen,
 * waiting between attempts with a bounded exponential backoff.
 */

import type { components } from "./generated/schema.js";
import { SseParser } from "./sse.js";

type Change = components["schemas"]["Change"];
type Problem = components["schemas"]["Problem"];

/** A fetch that takes a Request, as openapi-fetch's `fetch` option does. */
export type FetchLike = (input: Request) => Promise<Response>;

export interface FollowOptions {
  /** Start after this `seq` (0, the default, is the beginning of the kept feed). */
  since?: number | undefined;
  /** Stops following: the iteration then ends (without an error). */
  signal?: AbortSignal | undefined;
  /**
   * "eventsource" needs a global `EventSource`; "fetch" reads the stream with `fetch`;
   * "auto" (the default) takes `EventSource` when there is one and no API key or headers
   * have to be sent, and `fetch` otherwise.
   */
  transport?: "auto" | "eventsource" | "fetch" | undefined;
  /**
   * The wait before the first reconnection, in ms; doubled after each attempt that brings
   * no change, up to `maxRetryDelayMs`. The server's `retry:` field replaces it when sent.
   * Default 1000.
   */
  retryDelayMs?: number | undefined;
  /** The longest wait between two attempts, in ms. Default 30000. */
  maxRetryDelayMs?: number | undefined;
  /**
   * How many reconnections in a row may fail (bring no change) before the iteration
   * throws a `FeedError`. Default: no limit.
   */
  maxRetries?: number | undefined;
}

/** Where and how to connect; `createPicusClient` fills this in from its own options. */
export interface FeedConnection {
  /** The API root, as for `createPicusClient` (e.g. "http://127.0.0.1:8000/picus"). */
  baseUrl: string;
  /** Headers for every request (the API key). */
  headers?: Record<string, string>;
  fetch?: FetchLike;
  /** The `EventSource` to use; defaults to `globalThis.EventSource`. */
  EventSource?: typeof EventSource;
}

/** The feed cannot be followed: an error answer (with its problem), or too many failures. */
export class FeedError extends Error {
  override readonly name = "FeedError";
  /** The HTTP status of the answer that ended the iteration, if it was one. */
  readonly status: number | undefined;
  /** The spec's Problem document of that answer, if it had one. */
  readonly problem: Problem | undefined;

  constructor(
    message: string,
    details: { status?: number; problem?: Problem | undefined; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.problem = details.problem;
  }
}

const OPS = ["created", "updated", "deleted"] as const;
const DEFAULT_RETRY_MS = 1000;
const DEFAULT_MAX_RETRY_MS = 30_000;
/** Statuses worth trying again after a wait; any other error answer ends the iteration. */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Follow the change feed: an async iterator of every change after `options.since`, then
 * each new one as it commits, until `options.signal` aborts or the loop breaks.
 */
export function followChanges(
  connection: FeedConnection,
  options: FollowOptions = {},
): AsyncGenerator<Change, void, undefined> {
  const transport = options.transport ?? "auto";
  const EventSourceImpl = connection.EventSource ?? globalThis.EventSource;
  const sendsHeaders = Object.keys(connection.headers ?? {}).length > 0;
  if (transport === "eventsource") {
    if (EventSourceImpl === undefined) throw new TypeError("there is no EventSource here");
    if (sendsHeaders) throw new TypeError("EventSource cannot send an API key or headers");
  }
  const useEventSource =
    transport === "eventsource" ||
    (transport === "auto" &&
      EventSourceImpl !== undefined &&
      !sendsHeaders &&
      connection.fetch === undefined);
  return useEventSource && EventSourceImpl !== undefined
    ? followWithEventSource(connection, EventSourceImpl, options)
    : followWithFetch(connection, options);
}

/** The iteration's position and backoff, shared by both transports. */
class Position {
  seq: number;
  /** Reconnections in a row that brought no change. */
  failures = 0;
  serverRetry: number | undefined;

  constructor(private readonly options: FollowOptions) {
    this.seq = options.since ?? 0;
    if (!Number.isSafeInteger(this.seq) || this.seq < 0) {
      throw new RangeError(`since must be a non-negative integer, not ${this.seq}`);
    }
  }

  seen(change: Change): void {
    this.seq = change.seq;
    this.failures = 0;
  }

  /** The wait before the next attempt, or a FeedError when no more attempts are allowed. */
  nextDelay(cause: unknown, atLeastMs = 0): number {
    this.failures += 1;
    const maxRetries = this.options.maxRetries ?? Infinity;
    if (this.failures > maxRetries) {
      throw new FeedError(`the change feed failed ${this.failures} times in a row`, {
        cause,
        ...(cause instanceof FeedError ? statusOf(cause) : {}),
      });
    }
    const base = this.serverRetry ?? this.options.retryDelayMs ?? DEFAULT_RETRY_MS;
    const max = this.options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_MS;
    const backoff = Math.min(max, base * 2 ** (this.failures - 1));
    // Up to a quarter less, so that many followers dropped at once do not return at once.
    const jittered = backoff * (0.75 + Math.random() / 4);
    return Math.min(max, Math.max(jittered, atLeastMs));
  }
}

function statusOf(error: FeedError): { status?: number; problem?: Problem } {
  return {
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.problem === undefined ? {} : { problem: error.problem }),
  };
}

function feedUrl(baseUrl: string, since: number): string {
  return `${baseUrl.replace(/\/+$/, "")}/changes?since=${since}`;
}

function parseChange(data: string): Change {
  let change: unknown;
  try {
    change = JSON.parse(data);
  } catch (cause) {
    throw new FeedError("the change feed sent an event that is not JSON", { cause });
  }
  if (
    typeof change !== "object" ||
    change === null ||
    !Number.isSafeInteger((change as { seq?: unknown }).seq)
  ) {
    throw new FeedError(`the change feed sent an event that is not a change: ${data}`);
  }
  return change as Change;
}

async function problemOf(response: Response): Promise<Problem | undefined> {
  try {
    const body: unknown = await response.json();
    if (typeof body === "object" && body !== null && "status" in body && "title" in body) {
      return body as Problem;
    }
  } catch {
    // not a problem document
  }
  return undefined;
}

async function errorAnswer(response: Response): Promise<FeedError> {
  const problem = await problemOf(response);
  const detail = problem?.detail ?? response.statusText;
  return new FeedError(`the change feed answered ${response.status}: ${detail}`, {
    status: response.status,
    problem,
  });
}

function retryAfterMs(response: Response): number {
  const seconds = Number(response.headers.get("Retry-After"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

async function* followWithFetch(
  connection: FeedConnection,
  options: FollowOptions,
): AsyncGenerator<Change, void, undefined> {
  const doFetch: FetchLike = connection.fetch ?? ((request) => globalThis.fetch(request));
  const position = new Position(options);
  const signal = options.signal;
  let lastEventId = "";
  while (!signal?.aborted) {
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal?.addEventListener("abort", stop, { once: true });
    let retryAfter = 0;
    let failure: unknown;
    try {
      const headers = new Headers(connection.headers);
      headers.set("Accept", "text/event-stream");
      if (lastEventId !== "") headers.set("Last-Event-ID", lastEventId);
      const request = new Request(feedUrl(connection.baseUrl, position.seq), {
        headers,
        signal: attempt.signal,
        cache: "no-store",
      });
      const response = await doFetch(request);
      if (!response.ok) {
        const error = await errorAnswer(response);
        if (!RETRYABLE.has(response.status)) throw error;
        retryAfter = retryAfterMs(response);
        failure = error;
      } else if (!response.headers.get("Content-Type")?.startsWith("text/event-stream")) {
        await response.body?.cancel();
        throw new FeedError(
          `the change feed answered ${response.headers.get("Content-Type")}, not text/event-stream`,
          { status: response.status },
        );
      } else if (response.body === null) {
        failure = new FeedError("the change feed answered with no body");
      } else {
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        const parser = new SseParser();
        try {
          for (;;) {
            let chunk: ReadableStreamReadResult<Uint8Array>;
            try {
              chunk = await reader.read();
            } catch (error) {
              failure = error; // the connection broke: reconnect
              break;
            }
            const text = chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
            const events = parser.push(text);
            if (chunk.done) events.push(...parser.end());
            if (parser.retry !== undefined) position.serverRetry = parser.retry;
            for (const event of events) {
              lastEventId = event.lastEventId;
              const change = parseChange(event.data);
              position.seen(change);
              yield change;
              if (signal?.aborted) return;
            }
            if (chunk.done) {
              failure = new FeedError("the server ended the change feed");
              break;
            }
          }
        } finally {
          reader.cancel().catch(() => undefined);
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (error instanceof FeedError) throw error;
      failure = error; // fetch failed: no connection
    } finally {
      signal?.removeEventListener("abort", stop);
      attempt.abort();
    }
    if (signal?.aborted) return;
    await sleep(position.nextDelay(failure, retryAfter), signal);
  }
}

async function* followWithEventSource(
  connection: FeedConnection,
  EventSourceImpl: typeof EventSource,
  options: FollowOptions,
): AsyncGenerator<Change, void, undefined> {
  const position = new Position(options);
  const signal = options.signal;
  const queue: Change[] = [];
  let broken: unknown;
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const onMessage = (event: MessageEvent) => {
    try {
      queue.push(parseChange(String(event.data)));
    } catch (error) {
      broken = error;
    }
    notify();
  };
  let source: EventSource | undefined;
  const open = () => {
    source = new EventSourceImpl(feedUrl(connection.baseUrl, position.seq));
    for (const op of [...OPS, "message"]) source.addEventListener(op, onMessage);
    source.addEventListener("error", () => {
      // CONNECTING: the browser reconnects by itself with Last-Event-ID. CLOSED: it gave up
      // (an error answer, or not an event stream); find out why before trying again.
      if (source?.readyState === EventSourceImpl.CLOSED) {
        closed = true;
        notify();
      }
    });
  };
  signal?.addEventListener("abort", notify);
  try {
    open();
    while (!signal?.aborted) {
      const change = queue.shift();
      if (change !== undefined) {
        position.seen(change);
        yield change;
        continue;
      }
      if (broken !== undefined) throw broken;
      if (closed) {
        closed = false;
        source?.close();
        const error = await probe(connection, position.seq, signal);
        if (signal?.aborted) return;
        await sleep(position.nextDelay(error), signal);
        if (signal?.aborted) return;
        open();
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    signal?.removeEventListener("abort", notify);
    source?.close();
  }
}

/**
 * An EventSource that gave up says nothing of why: ask the JSON form of the feed from the
 * same position, throw the problem if it is one that waiting cannot fix, else return it.
 */
async function probe(
  connection: FeedConnection,
  since: number,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const doFetch: FetchLike = connection.fetch ?? ((request) => globalThis.fetch(request));
  const url = `${feedUrl(connection.baseUrl, since)}&limit=1`;
  try {
    const init: RequestInit = { headers: { Accept: "application/json" } };
    if (signal !== undefined) init.signal = signal;
    const response = await doFetch(new Request(url, init));
    if (response.ok) {
      await response.body?.cancel();
      return new FeedError("the change feed's event stream closed");
    }
    const error = await errorAnswer(response);
    if (!RETRYABLE.has(response.status)) throw error;
    return error;
  } catch (error) {
    if (error instanceof FeedError) throw error;
    return error;
  }
}
