/**
 * The Picus client for TypeScript: openapi-fetch over the types openapi-typescript generates
 * from openapi/picus.yaml (src/generated/schema.ts; `npm run generate`), plus a follower of
 * the change feed's event stream.
 *
 *     const picus = createPicusClient("http://127.0.0.1:8000/picus");
 *     const { data, error, response } = await picus.GET("/get/{id}", { params: { path: { id: 1 } } });
 *
 * Every operation is typed from the spec: paths, parameters (headers such as `If-Match`,
 * `If-None-Match` and `Idempotency-Key` included), bodies, and answers, with every error
 * answer typed as the spec's `Problem`.
 */

import createClient, { type Client, type Middleware } from "openapi-fetch";
import { type FeedConnection, type FetchLike, type FollowOptions, followChanges } from "./feed.js";
import type { components, operations, paths } from "./generated/schema.js";

export type { components, operations, paths };
export { FeedError, followChanges } from "./feed.js";
export type { FeedConnection, FetchLike, FollowOptions } from "./feed.js";

type Schemas = components["schemas"];
/** Any JSON value: what Picus stores. */
export type Document = Schemas["Document"];
export type Item = Schemas["Item"];
export type Created = Schemas["Created"];
export type Change = Schemas["Change"];
/** The RFC 9457 problem document of every error answer. */
export type Problem = Schemas["Problem"];

/**
 * The media types the typed client reads: JSON, and `application/problem+json` errors (the
 * feed's `text/event-stream` form is read by `followChanges`).
 */
export type JsonMedia = `${string}/json` | `${string}/${string}+json`;

export interface PicusClientOptions {
  /** An API key (`picus keys new`), sent as `X-API-Key` on every request. */
  apiKey?: string | undefined;
  /** A fetch to use instead of the global one (for tests, proxies, retries). */
  fetch?: FetchLike | undefined;
}

export type PicusClient = Client<paths, JsonMedia> & {
  /** The API root this client was made for. */
  readonly baseUrl: string;
  /**
   * Follow the change feed as Server-Sent Events: each change after `options.since`, then
   * each new one as it commits, resuming after dropped connections. Ends when
   * `options.signal` aborts or the loop breaks.
   */
  followChanges(options?: FollowOptions): AsyncGenerator<Change, void, undefined>;
};

const MERGE_PATCH = "application/merge-patch+json";

/** The spec's PATCH takes `application/merge-patch+json`; openapi-fetch sends JSON as application/json. */
const mergePatch: Middleware = {
  onRequest({ request }) {
    if (request.method === "PATCH" && request.headers.get("Content-Type") === "application/json") {
      request.headers.set("Content-Type", MERGE_PATCH);
    }
    return undefined;
  },
};

/**
 * `GET /changes` answers an event stream to `Accept: text/event-stream` and JSON otherwise;
 * the typed client asks for JSON by name (fetch would send `Accept: *\/*`).
 */
const jsonFeed: Middleware = {
  onRequest({ request, schemaPath }) {
    if (schemaPath === "/changes" && !request.headers.get("Accept")?.includes("/json")) {
      request.headers.set("Accept", "application/json");
    }
    return undefined;
  },
};

/**
 * A typed client for the Picus API at `baseUrl`: the API root, as the spec's `servers` say
 * (e.g. "http://127.0.0.1:8000/picus").
 */
export function createPicusClient(baseUrl: string, options: PicusClientOptions = {}): PicusClient {
  const root = baseUrl.replace(/\/+$/, "");
  const headers: Record<string, string> = {};
  if (options.apiKey !== undefined) headers["X-API-Key"] = options.apiKey;
  const client = createClient<paths, JsonMedia>({
    baseUrl: root,
    headers,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  client.use(mergePatch, jsonFeed);
  const connection: FeedConnection = {
    baseUrl: root,
    headers,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  };
  return Object.assign(client, {
    baseUrl: root,
    followChanges: (follow: FollowOptions = {}) => followChanges(connection, follow),
  });
}

/**
 * The query of the `Link: <...>; rel="next"` page of a paged answer (`GET /list` with a
 * `limit`, the JSON change feed), to pass as `params.query` of the same call; undefined on
 * the last page.
 */
export function nextPage(response: Response): Record<string, number> | undefined {
  const link = response.headers.get("Link");
  if (link === null) return undefined;
  for (const part of link.split(",")) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match === null) continue;
    const [, target = "", params = ""] = match;
    if (!/;\s*rel="?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/.test(params)) continue;
    const query: Record<string, number> = {};
    for (const [name, value] of new URL(target, "http://picus.invalid").searchParams) {
      query[name] = Number(value);
    }
    return query;
  }
  return undefined;
}

/** `Picus-Changes-Latest` of an answer (`GET /list`, the JSON change feed), if it has one. */
export function changesLatest(response: Response): number | undefined {
  const value = response.headers.get("Picus-Changes-Latest");
  return value === null || !/^[0-9]+$/.test(value) ? undefined : Number(value);
}
