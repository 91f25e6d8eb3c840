import "server-only";
import type { UIMessageChunk } from "ai";
import { isTerminal, SSE_DONE, sseChunk } from "@/lib/ai/answer-channel";

const encoder = new TextEncoder();
const DONE = encoder.encode(SSE_DONE);

/** A chunk as the AI SDK's UI message stream carries it (its size counts toward the bound). */
export function encodeChunk(chunk: UIMessageChunk): Uint8Array {
  return encoder.encode(sseChunk(chunk));
}

/**
 * An answer as the process that runs it sees it: every chunk so far, encoded once, and the
 * viewers on this process that follow it. They read it straight from the generation, so a
 * token reaches them without waiting for Redis, and Redis is written in batches for the
 * viewers elsewhere (see the runner). Memory is bounded by the answer's size bound.
 */
export class LocalAnswer {
  private readonly frames: Uint8Array[] = [];
  private readonly viewers = new Set<ReadableStreamDefaultController<Uint8Array>>();
  private terminal = false;
  private done = false;

  /** `onIdle`: the last viewer left before the end (an answer followed from elsewhere stops). */
  constructor(private readonly onIdle?: () => void) {}

  /** A chunk of the answer (`encodeChunk`'s frame), for every local viewer; nothing after the first terminal one. */
  push(chunk: UIMessageChunk, frame = encodeChunk(chunk)): void {
    if (this.terminal) return;
    this.terminal = isTerminal(chunk);
    this.frames.push(frame);
    for (const viewer of this.viewers) viewer.enqueue(frame);
  }

  /** The answer ended (the runner pushed its terminal chunk first): every viewer ends. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.frames.push(DONE);
    for (const viewer of this.viewers) {
      viewer.enqueue(DONE);
      viewer.close();
    }
    this.viewers.clear();
  }

  /** The answer cannot be followed any more: every viewer errors. */
  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    for (const viewer of this.viewers) viewer.error(error);
    this.viewers.clear();
  }

  /** A viewer: the answer from its first chunk, then live. Cancelling it leaves the answer. */
  view(): ReadableStream<Uint8Array> {
    let self: ReadableStreamDefaultController<Uint8Array> | undefined;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        // What came so far in one chunk: a reload mid-answer gets it in one write.
        if (this.frames.length > 0) controller.enqueue(Buffer.concat(this.frames));
        if (this.done) controller.close();
        else {
          self = controller;
          this.viewers.add(controller);
        }
      },
      cancel: () => {
        if (self === undefined || !this.viewers.delete(self)) return;
        if (this.viewers.size === 0 && !this.done) this.onIdle?.();
      },
    });
  }
}
