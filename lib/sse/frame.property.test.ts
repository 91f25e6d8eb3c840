import { createParser, type EventSourceMessage } from "eventsource-parser";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeEvent, SseInputError, serializeData } from "@/lib/sse/frame";

/** Parses a whole stream the way a browser does (eventsource-parser follows the spec). */
function parse(stream: string): { events: EventSourceMessage[]; retry: number | undefined } {
  const events: EventSourceMessage[] = [];
  let retry: number | undefined;
  const parser = createParser({
    onEvent: (event) => events.push(event),
    onRetry: (ms) => {
      retry = ms;
    },
  });
  parser.feed(stream);
  return { events, retry };
}

// Strings from the whole of Unicode, with line breaks and NUL often enough to matter.
const text = fc.oneof(
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: fc.constantFrom("a", " ", ":", "\r", "\n", "\0", "é", "data: ", "id: x") }),
);
const safeField = text.filter((s) => !/[\r\n\0]/.test(s));
const data = fc.oneof(text, fc.jsonValue());

describe("encodeEvent round-trips through a spec-compliant parser", () => {
  it("what comes out equals what went in", () => {
    fc.assert(
      fc.property(
        data,
        fc.option(safeField, { nil: undefined }),
        fc.option(safeField, { nil: undefined }),
        fc.option(fc.nat({ max: 1e9 }), { nil: undefined }),
        (value, type, id, retry) => {
          const frame = encodeEvent({ data: value, type, id, retry });
          const { events, retry: parsedRetry } = parse(frame);
          expect(events).toHaveLength(1);
          // The wire format has one line-break convention: CRLF and CR arrive as LF.
          expect(events[0].data).toBe(serializeData(value).replace(/\r\n|\r/g, "\n"));
          expect(events[0].event).toBe(type === "" ? undefined : type);
          expect(events[0].id).toBe(id);
          expect(parsedRetry).toBe(retry);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("no type or id can inject a field or an event: it is refused or carried whole", () => {
    fc.assert(
      fc.property(text, text, text, (value, type, id) => {
        let frame: string;
        try {
          frame = encodeEvent({ data: value, type, id });
        } catch (error) {
          expect(error).toBeInstanceOf(SseInputError);
          expect(/[\r\n\0]/.test(type) || /[\r\n\0]/.test(id)).toBe(true);
          return;
        }
        const { events, retry } = parse(frame + frame);
        expect(events).toHaveLength(2);
        for (const event of events) {
          expect(event.event).toBe(type === "" ? undefined : type);
          expect(event.id).toBe(id);
        }
        expect(retry).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});
