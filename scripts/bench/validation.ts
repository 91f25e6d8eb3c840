// `npm run bench:validation`: what checking a publish against its channel's declaration
// costs. Publishes 1 KB events in-process (the in-memory broker: no network, so the check is
// not hidden behind Redis's round trip) on `orders`, which declares a zod schema, and on an
// undeclared channel, and prints publishes per second of each and the check's cost per event.
// Options: --events N (20000) --rounds R (5, the median is printed).
import { parseArgs } from "node:util";
import { publishEvent } from "@/lib/features/publish";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    rounds: { type: "string", default: "5" },
  },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);

// No Redis: the in-memory broker, so the figure is the publish path itself.
delete process.env.SSE_REDIS_URL;
delete process.env.REDIS_URL;
process.env.SSE_HISTORY_MAX_LEN = "1000";

// 1 KB as JSON: an order with a note (not in the schema: zod objects let it through).
const order = { item: "tea", qty: 2, note: "n".repeat(1000) };

async function rate(channel: string, typed: boolean): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < EVENTS; i++) {
    if (typed) await publishEvent(order, { channel: "orders", type: "order" });
    else await publishEvent(order, { channel, type: "order" });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return EVENTS / seconds;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

async function main(): Promise<void> {
  const typed: number[] = [];
  const plain: number[] = [];
  await rate("bench-warm", false);
  await rate("orders", true);
  for (let round = 0; round < ROUNDS; round++) {
    typed.push(await rate("orders", true));
    plain.push(await rate("bench-plain", false));
  }
  const withSchema = median(typed);
  const without = median(plain);
  const perEventUs = (1 / withSchema - 1 / without) * 1e6;
  console.log(
    `events of ${JSON.stringify(order).length} bytes, ${EVENTS} per round, median of ${ROUNDS}`,
  );
  console.log(`publishes/s with a schema (orders):      ${Math.round(withSchema)}`);
  console.log(`publishes/s without (undeclared channel): ${Math.round(without)}`);
  console.log(`the check's cost per publish:            ${perEventUs.toFixed(2)} µs`);
  console.log(
    `NEXT_SSE_VALIDATION_BENCH ${JSON.stringify({ withSchema: Math.round(withSchema), without: Math.round(without), perEventUs: Number(perEventUs.toFixed(2)) })}`,
  );
}

void main();
