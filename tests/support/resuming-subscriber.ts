import { connect, type Socket } from "node:net";
import { ChunkedBody } from "./chunked-body";

/** What a fleet of subscribers saw: for the rolling-restart and shutdown tests. */
export interface FleetLog {
  /** Every connect attempt (ms, performance.now()). */
  connects: number[];
  /** Non-200 answers: status, and whether they carried Retry-After. */
  refusals: Array<{ status: number; retryAfter: boolean }>;
  /** Per lost connection: ms from its end to the first event of the next one. */
  resumeMs: number[];
  /** Resumes slower than 5 s: how many connects each took, and what the last one met. */
  slow?: Array<{ ms: number; attempts: number; lastStatus: number | undefined }>;
}

/**
 * A browser-like SSE subscriber over a raw socket (cheap enough for thousands): reconnects
 * after a stream ends, with its Last-Event-ID, after the stream's `retry:` hint (or a
 * refusal's Retry-After), and records each event's `seq` on its channel, in order.
 */
export class ResumingSubscriber {
  readonly seqs: number[] = [];
  lastEventId: string | undefined;
  private socket: Socket | undefined;
  private stopped = false;
  private retryMs = 500;
  private lostAt: number | undefined;
  private attempts = 0;
  private lastStatus: number | undefined;
  private head = true;
  private chunked: ChunkedBody | undefined;
  private buffer = "";
  private text = "";

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly channel: string,
    private readonly log: FleetLog,
  ) {}

  start(): void {
    if (this.stopped) return;
    this.log.connects.push(performance.now());
    this.attempts++;
    this.head = true;
    this.chunked = undefined;
    this.buffer = "";
    this.text = "";
    const socket = connect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setEncoding("latin1");
    socket.on("connect", () => {
      const resume = this.lastEventId === undefined ? "" : `Last-Event-ID: ${this.lastEventId}\r\n`;
      socket.write(
        `GET /stream?channel=${this.channel} HTTP/1.1\r\nHost: ${this.host}\r\nAccept: text/event-stream\r\n${resume}\r\n`,
      );
    });
    socket.on("data", (data: string) => this.receive(data));
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.socket !== socket || this.stopped) return;
      this.lostAt ??= performance.now();
      setTimeout(() => this.start(), this.retryMs);
    });
  }

  stop(): void {
    this.stopped = true;
    this.socket?.destroy();
  }

  private receive(data: string): void {
    this.buffer += data;
    if (this.head) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = this.buffer.slice(0, end);
      const status = Number(head.slice(9, 12));
      this.lastStatus = status;
      this.buffer = this.buffer.slice(end + 4);
      this.head = false;
      if (status !== 200) {
        const retryAfter = /\r\nretry-after:\s*(\d+)/i.exec(head);
        this.log.refusals.push({ status, retryAfter: retryAfter !== null });
        this.retryMs = retryAfter === null ? 1000 : Number(retryAfter[1]) * 1000;
        this.socket?.destroy();
        return;
      }
      this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head) ? new ChunkedBody() : undefined;
    }
    this.text += this.chunked === undefined ? this.buffer : this.chunked.feed(this.buffer);
    this.buffer = "";
    // The last chunk: the response is over (a proxy keeps the connection, a browser would
    // not wait for it), so this stream ends here.
    const ended = this.chunked?.ended ?? false;
    let end = this.text.indexOf("\n\n");
    while (end >= 0) {
      this.event(this.text.slice(0, end));
      this.text = this.text.slice(end + 2);
      end = this.text.indexOf("\n\n");
    }
    if (ended) this.socket?.destroy();
  }

  private event(block: string): void {
    let data: string | undefined;
    let id: string | undefined;
    let isEvent = false;
    for (const line of block.split("\n")) {
      if (line.startsWith("retry: ")) this.retryMs = Number(line.slice(7));
      else if (line.startsWith("id: ")) id = line.slice(4);
      else if (line.startsWith("data: ")) data = line.slice(6);
      else if (line.startsWith("event: ")) isEvent = true;
    }
    if (data === undefined && id === undefined && !isEvent) return;
    if (this.lostAt !== undefined) {
      const ms = performance.now() - this.lostAt;
      this.log.resumeMs.push(ms);
      if (ms > 5000)
        this.log.slow?.push({
          ms: Math.round(ms),
          attempts: this.attempts,
          lastStatus: this.lastStatus,
        });
      this.lostAt = undefined;
    }
    this.attempts = 0;
    this.retryMs = 500;
    if (id !== undefined) this.lastEventId = id;
    if (data === undefined || !data.startsWith('{"seq":')) return;
    this.seqs.push((JSON.parse(data) as { seq: number }).seq);
  }
}

/** The most connect attempts within any one second. */
export function peakPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while (sorted[to] - sorted[from] >= 1000) from++;
    peak = Math.max(peak, to - from + 1);
  }
  return peak;
}

/** p50, p99 and max of a list of numbers. */
export function spread(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return {
    p50: Math.round(at(0.5)),
    p99: Math.round(at(0.99)),
    max: Math.round(sorted.at(-1) ?? 0),
  };
}
