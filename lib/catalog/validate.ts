import type { ChannelRules } from "@/lib/catalog/catalog";
import { describeStandardIssue } from "@/lib/catalog/standard-schema";
import { SseInputError } from "@/lib/sse/frame";

/**
 * Checks one event against its channel's declaration: a declared type (on a strict
 * channel) and data its schema accepts. Answers the data as the schema gives it back.
 * @throws SseInputError naming the type, or the data's path and the schema's message
 * (`data.qty: expected number`), a 400.
 */
export async function checkEvent(
  rules: ChannelRules,
  channel: string,
  type: string | undefined,
  data: unknown,
): Promise<unknown> {
  if (rules.events === undefined) return data;
  const name = type ?? "message";
  const schema = rules.events.get(name);
  if (schema === undefined) {
    if (!rules.strict) return data;
    const declared = [...rules.events.keys()].join(", ");
    throw new SseInputError(
      "type",
      `type: "${name}" is not an event type of channel ${channel} (declared: ${declared})`,
    );
  }
  let result = schema["~standard"].validate(data);
  if (result instanceof Promise) result = await result;
  if (result.issues !== undefined) {
    throw new SseInputError("data", describeStandardIssue(result.issues[0], "data"));
  }
  return result.value;
}
