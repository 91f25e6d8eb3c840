import "server-only";
import type { UIMessageChunk } from "ai";
import {
  type AnswerEnd,
  type AnswerEndData,
  answerChannel,
  chunksBody,
  endBody,
  isTerminal,
  terminalChunk,
  WATCH_EVERY_MS,
} from "@/lib/ai/answer-channel";
import type { AnswerStore } from "@/lib/ai/answer-store";
import { encodeChunk, LocalAnswer } from "@/lib/ai/local-answer";
import { type Broker, isBrokerUnavailable } from "@/lib/broker";
import type { HistoryOptions } from "@/lib/history/types";
import { createLogger } from "@/lib/ops/log";
import { singleton } from "@/lib/ops/singleton";

/** A lease this long, renewed three times within it: a dead runner is seen within 6 s. */
export const LEASE_MS = 6000;
/** How long one watch word (see WATCH_EVERY_MS) keeps the answer's writes per turn. */
const WATCHED_FOR_MS = 2.5 * WATCH_EVERY_MS;
/** How long a batch that Redis does not take is retried before the answer fails. */
const RETRY_FOR_MS = 60_000;
const RETRY_EVERY_MS = 250;

export interface AnswerRun {
  broker: Broker;
  store: AnswerStore;
  chatId: string;
  answerId: string;
  /** The generation's UI message chunks (`streamText(...).toUIMessageStream()`). */
  stream: ReadableStream<UIMessageChunk>;
  /** Aborts the generation: the stop endpoint, or the answer's size bound. */
  abort: AbortController;
  retention: HistoryOptions;
  maxBytes: number;
  /** Gathering time of a write while another instance serves the answer (0: one turn). */
  flushMs: number;
  /** Time between writes while no other instance serves it. */
  storeMs: number;
}

/** An answer this process runs. */
export interface RunningAnswer {
  /** Its chunks for the viewers on this process. */
  local: LocalAnswer;
  abort: AbortController;
  /** A viewer on another instance follows it: write per turn (`flushMs`) for a while. */
  watched(): void;
  done: Promise<AnswerEnd>;
}

/** The answers' log (process-wide: it remembers the last line, to not repeat it). */
const log = () => singleton("ai-log", createLogger);

/**
 * Starts one answer: reads the generation's chunks whatever happens to the connections that
 * asked for it, hands each at once to the viewers on this process, writes them to the
 * answer's channel in batches (in order, each under the id the answer gives it, so a write
 * retried through a Redis restart is kept once), holds the answer's lease while it runs, and
 * always ends the channel with a terminal chunk and an `answer-end` event.
 *
 * The batches are `storeMs` apart while only this process serves the answer (Redis keeps it
 * for reloads elsewhere and for a Redis restart), and `flushMs` apart (one event-loop turn
 * by default) while a viewer on another instance says it watches: that viewer reads Redis.
 */
export function startAnswer(run: AnswerRun): RunningAnswer {
  const local = new LocalAnswer();
  const pace: Pace = { watchedUntil: 0, hurry: () => {} };
  return {
    local,
    abort: run.abort,
    watched() {
      pace.watchedUntil = Date.now() + WATCHED_FOR_MS;
      pace.hurry();
    },
    done: runAnswer(run, local, pace),
  };
}

/** How often the runner writes: what the watch words say, and how it is told to write now. */
interface Pace {
  /** Until when a viewer on another instance follows the answer. */
  watchedUntil: number;
  /** Set by the runner: writes what waits at once (a viewer elsewhere just came). */
  hurry(): void;
}

async function runAnswer(run: AnswerRun, local: LocalAnswer, pace: Pace): Promise<AnswerEnd> {
  const { broker, store, answerId, abort } = run;
  const channel = answerChannel(answerId);
  let batch: UIMessageChunk[] = [];
  let sequence = 0;
  let bytes = 0;
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let writes: Promise<void> = Promise.resolve();
  let sawTerminal: UIMessageChunk | undefined;
  let failure: string | undefined;

  // The answer numbers its own batches (`<start ms>-<n>`): a write retried through a Redis
  // restart is kept once, and costs XADD and PUBLISH, no script.
  const startedAt = Date.now();
  const publish = async (body: string, write: { at: string } | { id: string }) => {
    const started = Date.now();
    for (;;) {
      try {
        await broker.publish(channel, { body, ...write, retention: run.retention });
        return;
      } catch (error) {
        if (!isBrokerUnavailable(error) || Date.now() - started > RETRY_FOR_MS) throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS));
      }
    }
  };
  const flush = () => {
    if (timer !== undefined) {
      clearTimeout(timer as NodeJS.Timeout);
      clearImmediate(timer as NodeJS.Immediate);
    }
    timer = undefined;
    if (batch.length === 0) return writes;
    const body = chunksBody(batch);
    const at = `${startedAt}-${sequence++}`;
    batch = [];
    writes = writes.then(() => publish(body, { at }));
    return writes;
  };
  // Answers started together (a deploy, one prompt to many) would write together, every
  // `storeMs`, in one burst that delays every token of that moment: the first write comes
  // after a random half to whole of it, and the next keep that phase.
  let storeIn = Math.round(run.storeMs * (0.5 + 0.5 * Math.random()));
  const schedule = () => {
    if (timer !== undefined) return;
    let ms = run.flushMs;
    if (Date.now() >= pace.watchedUntil) {
      ms = storeIn;
      storeIn = run.storeMs;
    }
    // What arrived in one turn goes in one write (the model's chunks often come in bursts).
    timer = ms === 0 ? setImmediate(() => void flush()) : setTimeout(() => void flush(), ms);
  };
  pace.hurry = () => {
    if (timer !== undefined) void flush();
  };
  const lease = async () => {
    try {
      await store.renewLease(answerId, LEASE_MS);
    } catch {
      log().warn("an answer's lease could not be renewed (Redis unavailable)");
    }
  };
  await lease();
  // Renewed 3 to 3.75 times per lease: answers started together drift apart.
  const renewing = setInterval(() => void lease(), (LEASE_MS / 3) * (0.8 + 0.2 * Math.random()));
  const reader = run.stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const frame = encodeChunk(value);
      bytes += frame.length;
      if (bytes > run.maxBytes) {
        failure = `the answer passed its bound of ${run.maxBytes} bytes`;
        abort.abort(new Error(failure));
        break;
      }
      batch.push(value);
      local.push(value, frame);
      if (isTerminal(value)) {
        sawTerminal = value;
        void flush();
      } else schedule();
    }
  } catch (error) {
    if (!abort.signal.aborted) failure = error instanceof Error ? error.message : String(error);
  } finally {
    reader.releaseLock();
  }
  const end: AnswerEndData =
    failure !== undefined
      ? { reason: "failed", error: failure }
      : abort.signal.aborted || sawTerminal?.type === "abort"
        ? { reason: "stopped" }
        : sawTerminal?.type === "error"
          ? { reason: "failed", error: sawTerminal.errorText }
          : { reason: "finished" };
  if (sawTerminal === undefined || failure !== undefined) {
    const last = terminalChunk(end);
    batch.push(last);
    local.push(last);
  }
  local.end();
  try {
    await flush();
    // The first end wins (an instance that saw the lease run out may have written one).
    await publish(endBody(end), { id: "end" });
  } catch {
    log().warn("an answer's last chunks could not be written (Redis unavailable)");
  } finally {
    clearInterval(renewing);
    await Promise.allSettled([store.clearActive(run.chatId, answerId), store.dropLease(answerId)]);
  }
  return end.reason;
}
