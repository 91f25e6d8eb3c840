import "server-only";

/** Something with frames queued for its client, written in one chunk per flush. */
export interface Flushable {
  flush(now: number): void;
}

/** Joins byte chunks into one. */
export function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

// Process-wide write batching: connections with pending frames, flushed once per turn, in
// slices, so the first sockets are written (and the kernel and clients get busy) while the
// next slice is still being prepared, instead of all writes waiting for all the work.
const FLUSH_SLICE = 64;
let dirty: Flushable[] = [];
let flushing: Flushable[] = [];
let flushIndex = 0;
let flushScheduled = false;

/** Queues a stream for this turn's flush (call when its first frame of the turn is queued). */
export function scheduleFlush(connection: Flushable): void {
  dirty.push(connection);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flushSlice);
}

function flushSlice(): void {
  if (flushIndex >= flushing.length) {
    flushing = dirty;
    dirty = [];
    flushIndex = 0;
  }
  const now = Date.now();
  const end = Math.min(flushing.length, flushIndex + FLUSH_SLICE);
  for (; flushIndex < end; flushIndex++) flushing[flushIndex].flush(now);
  if (flushIndex < flushing.length || dirty.length > 0) setImmediate(flushSlice);
  else flushScheduled = false;
}
