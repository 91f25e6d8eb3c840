import { connect, type Socket } from "node:net";
import { ChunkedBody } from "@/tests/support/chunked-body";

/** One delivery: which message, and how long after it was sent it arrived (ms). */
export interface Delivery {
  seq: number;
  latencyMs: number;
}

/**
 * A minimal SSE subscriber over a raw socket: HTTP/1.1 (chunked, or a body that runs until
 * the connection closes, as `npm start` sends), token matching.
 */
export class BenchSubscriber {
  readonly seen = new Set<number>();
  duplicates = 0;
  /** Set when the first body bytes arrive (the stream is subscribed and open). */
  readyAt: number | undefined;
  closedEarly = false;
  private socket: Socket | undefined;
  private headerDone = false;
  /** The body's chunked decoding, when it is chunked (behind a proxy). */
  private chunked: ChunkedBody | undefined;
  private buffer = "";
  private text = "";

  constructor(
    private readonly onDelivery: (d: Delivery) => void,
    private readonly onReady: () => void,
  ) {}

  open(host: string, port: number, path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => {
        socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: text/event-stream\r\n\r\n`);
        resolve();
      });
      socket.setEncoding("latin1");
      socket.on("data", (data: string) => this.receive(data));
      socket.on("error", reject);
      socket.on("close", () => {
        this.closedEarly = true;
      });
      this.socket = socket;
    });
  }

  close(): void {
    this.closedEarly = false;
    this.socket?.removeAllListeners("close");
    this.socket?.destroy();
  }

  private receive(data: string): void {
    const now = performance.now();
    this.buffer += data;
    if (!this.headerDone) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      if (!this.buffer.startsWith("HTTP/1.1 200")) {
        throw new Error(`stream refused: ${this.buffer.slice(0, this.buffer.indexOf("\r\n"))}`);
      }
      this.headerDone = true;
      const chunked = /\r\ntransfer-encoding:\s*chunked/i.test(this.buffer.slice(0, end));
      this.chunked = chunked ? new ChunkedBody() : undefined;
      this.buffer = this.buffer.slice(end + 4);
    }
    if (this.chunked === undefined) {
      this.text += this.buffer;
    } else {
      this.text += this.chunked.feed(this.buffer);
    }
    this.buffer = "";
    if (this.readyAt === undefined && this.text.length > 0) {
      this.readyAt = now;
      this.onReady();
    }
    this.scan(now);
  }

  /** Finds complete events in the decoded text and reports their tokens (`bench:SEQ:SENT`). */
  private scan(now: number): void {
    const last = this.text.lastIndexOf("\n\n");
    if (last < 0) return;
    const complete = this.text.slice(0, last);
    this.text = this.text.slice(last + 2);
    let at = complete.indexOf("bench:");
    while (at >= 0) {
      const seqEnd = complete.indexOf(":", at + 6);
      const sentEnd = complete.indexOf("|", seqEnd + 1);
      const seq = Number(complete.slice(at + 6, seqEnd));
      const sent = Number(complete.slice(seqEnd + 1, sentEnd));
      if (this.seen.has(seq)) this.duplicates++;
      else {
        this.seen.add(seq);
        this.onDelivery({ seq, latencyMs: now - sent });
      }
      at = complete.indexOf("bench:", sentEnd);
    }
  }
}
