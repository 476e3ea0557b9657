/**
 * A Server-Sent Events parser, as the HTML standard's "event stream interpretation" says:
 * lines end in CRLF, LF or CR (also split across chunks), `data` lines are joined with LF,
 * comments (`: keep-alive`) are skipped, `id` sets the last event id (kept across events,
 * ignored when it contains NUL), and `retry` sets the reconnection time.
 */

/** One dispatched event. */
export interface SseEvent {
  /** The `event` field, or "message" when there was none. */
  readonly type: string;
  /** The `data` lines joined with "\n". */
  readonly data: string;
  /** The last event id when this event was dispatched (what `Last-Event-ID` resends). */
  readonly lastEventId: string;
}

export class SseParser {
  /** The last event id seen so far (the `id` field persists across events). */
  lastEventId = "";
  /** The reconnection time in milliseconds, once the stream has sent a `retry` field. */
  retry: number | undefined = undefined;

  private pending = "";
  private data: string[] = [];
  private eventType = "";
  private seenBytes = false;

  /** Feed decoded text; returns the events completed by it, in order. */
  push(text: string): SseEvent[] {
    if (!this.seenBytes && text.length > 0) {
      this.seenBytes = true;
      if (text.startsWith("\uFEFF")) text = text.slice(1);
    }
    this.pending += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const cr = this.pending.indexOf("\r", start);
      const lf = this.pending.indexOf("\n", start);
      if (cr === -1 && lf === -1) break;
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // A CR at the very end may be the first half of a CRLF split across chunks.
        if (cr === this.pending.length - 1) break;
        end = cr;
        next = this.pending[cr + 1] === "\n" ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      const event = this.line(this.pending.slice(start, end));
      if (event) events.push(event);
      start = next;
    }
    this.pending = this.pending.slice(start);
    return events;
  }

  /**
   * The stream ended. A CR held back as a possible CRLF still ends its line (and may end an
   * event); an unterminated event is then dropped, as the standard says.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.pending.endsWith("\r")) {
      const event = this.line(this.pending.slice(0, -1));
      if (event) events.push(event);
    }
    this.pending = "";
    this.data = [];
    this.eventType = "";
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.eventType = value;
        break;
      case "data":
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const data = this.data;
    const type = this.eventType || "message";
    this.data = [];
    this.eventType = "";
    if (data.length === 0) return undefined;
    return { type, data: data.join("\n"), lastEventId: this.lastEventId };
  }
}
