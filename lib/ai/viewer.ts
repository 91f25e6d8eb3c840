import "server-only";
import type { UIMessageChunk } from "ai";
import {
  ANSWER_END_EVENT,
  type AnswerEndData,
  answerChannel,
  answerIdBody,
  CHUNKS_EVENT,
  endBody,
  isTerminal,
  SSE_DONE,
  sseChunk,
  terminalChunk,
  WATCH_CHANNEL,
} from "@/lib/ai/answer-channel";
import type { AnswerStore } from "@/lib/ai/answer-store";
import { WATCH_EVERY_MS } from "@/lib/ai/runner";
import type { Broker } from "@/lib/broker";
import { subscribe } from "@/lib/features/subscribe";
import type { HistoryOptions } from "@/lib/history/types";
import { ORIGIN_ID } from "@/lib/sse/ids";

/** Quiet this long, a viewer asks whether the answer's runner still holds its lease. */
const QUIET_MS = 2000;

export interface AnswerView {
  broker: Broker;
  store: AnswerStore;
  answerId: string;
  retention: HistoryOptions;
}

/**
 * One viewer of an answer, as the AI SDK's UI message stream (`data: <chunk>` … `data:
 * [DONE]`): the whole answer from its first chunk, then live, ending with it. Closing it
 * (a reload, a closed tab, the client's `stop()`) leaves the answer running. A viewer that
 * hears nothing while the answer's lease has run out ends the answer as `interrupted`, for
 * every viewer (the first end written wins).
 */
export function viewAnswer(view: AnswerView): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const stop = new AbortController();
  const channel = answerChannel(view.answerId);
  let lastEventAt = Date.now();
  let watchdog: NodeJS.Timeout | undefined;
  let watching: NodeJS.Timeout | undefined;
  const stopTimers = () => {
    clearInterval(watchdog);
    clearInterval(watching);
  };
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      // The instance running the answer writes it per turn while it hears this (else in
      // batches a second apart: its own viewers read it from memory).
      const watch = () =>
        void view.broker
          .publish(WATCH_CHANNEL, { body: answerIdBody(view.answerId), transient: true })
          .catch(() => {});
      watch();
      watching = setInterval(watch, WATCH_EVERY_MS);
      watchdog = setInterval(async () => {
        if (Date.now() - lastEventAt < QUIET_MS) return;
        lastEventAt = Date.now();
        try {
          if (await view.store.leaseHeld(view.answerId)) return;
          const body = endBody({
            reason: "interrupted",
            error: "the instance running the answer stopped",
          });
          await view.broker.publish(channel, { body, id: "end", retention: view.retention });
        } catch {
          // Redis unavailable: asked again on the next quiet round.
        }
      }, QUIET_MS / 2);
      let terminal = false;
      const finish = () => {
        controller.enqueue(encoder.encode(SSE_DONE));
        controller.close();
      };
      try {
        const events = subscribe([channel], {
          broker: view.broker,
          after: ORIGIN_ID,
          signal: stop.signal,
        });
        for await (const event of events) {
          lastEventAt = Date.now();
          if (event.type === CHUNKS_EVENT) {
            for (const chunk of event.data as UIMessageChunk[]) {
              if (terminal) continue;
              terminal = isTerminal(chunk);
              controller.enqueue(encoder.encode(sseChunk(chunk)));
            }
          } else if (event.type === ANSWER_END_EVENT || event.type === "reset") {
            const end: AnswerEndData =
              event.type === "reset"
                ? { reason: "failed", error: "the answer is no longer kept" }
                : (event.data as AnswerEndData);
            if (!terminal) controller.enqueue(encoder.encode(sseChunk(terminalChunk(end))));
            finish();
            return;
          }
        }
      } catch (error) {
        if (!stop.signal.aborted) controller.error(error);
      } finally {
        stopTimers();
      }
    },
    cancel() {
      // The viewer left; the answer goes on.
      stopTimers();
      stop.abort();
    },
  });
}
