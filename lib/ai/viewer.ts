import "server-only";
import type { UIMessageChunk } from "ai";
import {
  ANSWER_END_EVENT,
  type AnswerEndData,
  answerChannel,
  answerIdBody,
  CHUNKS_EVENT,
  endBody,
  terminalChunk,
  WATCH_CHANNEL,
  WATCH_EVERY_MS,
} from "@/lib/ai/answer-channel";
import type { AnswerStore } from "@/lib/ai/answer-store";
import { LocalAnswer } from "@/lib/ai/local-answer";
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
 * An answer another instance runs, as this instance follows it: one subscription to its
 * channel, whatever the number of viewers here, decoded and encoded once, each viewer a
 * `LocalAnswer.view()` of it (the whole answer from its first chunk, then live, ending with
 * it). Closing a viewer (a reload, a closed tab, the client's `stop()`) leaves the answer
 * running; when the last one here closes, the subscription ends (`onGone`). While it
 * follows, it tells the running instance so (which then writes per turn), and if it hears
 * nothing while the answer's lease has run out, it ends the answer as `interrupted`, for
 * every viewer on every instance (the first end written wins).
 */
export function followAnswer(view: AnswerView, onGone: () => void): LocalAnswer {
  const stop = new AbortController();
  const channel = answerChannel(view.answerId);
  // The last viewer here left: stop following, and forget it now, so that a viewer who
  // comes meanwhile follows it anew instead of joining what is stopping.
  const answer = new LocalAnswer(() => {
    stop.abort();
    onGone();
  });
  let lastEventAt = Date.now();
  const watch = () =>
    void view.broker
      .publish(WATCH_CHANNEL, { body: answerIdBody(view.answerId), transient: true })
      .catch(() => {});
  watch();
  const watching = setInterval(watch, WATCH_EVERY_MS);
  const watchdog = setInterval(async () => {
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
  void (async () => {
    try {
      const events = subscribe([channel], {
        broker: view.broker,
        after: ORIGIN_ID,
        signal: stop.signal,
      });
      for await (const event of events) {
        lastEventAt = Date.now();
        if (event.type === CHUNKS_EVENT) {
          for (const chunk of event.data as UIMessageChunk[]) answer.push(chunk);
        } else if (event.type === ANSWER_END_EVENT || event.type === "reset") {
          const end: AnswerEndData =
            event.type === "reset"
              ? { reason: "failed", error: "the answer is no longer kept" }
              : (event.data as AnswerEndData);
          answer.push(terminalChunk(end));
          answer.end();
          return;
        }
      }
    } catch (error) {
      if (!stop.signal.aborted) answer.fail(error);
    } finally {
      clearInterval(watching);
      clearInterval(watchdog);
      onGone();
    }
  })();
  return answer;
}
