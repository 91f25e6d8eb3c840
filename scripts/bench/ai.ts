// `npm run bench:ai`: resumable AI answers, next-sse (`lib/ai`) beside vercel/resumable-stream
// (what the AI SDK docs use), one sitting, one private Redis. Each answer is a model stream
// of numbered tokens at a fixed rate; its asker reads the POST's stream and `--viewers` - 1
// more resume it (the GET). Loopback only, bounded in time; prints a table and one JSON line.
// Options: --answers N (200) --tokens T (2000) --rate R tokens/s per answer (50)
// --viewers V (1,5: a list runs each) --systems next-sse,resumable-stream (both) --runs R
// (1: more alternate between the systems, and the table gives each figure's median)
// --elsewhere (the viewers besides the asker, and the reloads, are served by a second
// instance: its own Redis connections, as another server would)
import { parseArgs } from "node:util";
import type { UIMessageChunk } from "ai";
import { Redis } from "ioredis";
import { startRedisServer } from "@/tests/support/redis-server";
import { harness, type System } from "./ai-systems";

const { values } = parseArgs({
  options: {
    answers: { type: "string", default: "200" },
    tokens: { type: "string", default: "2000" },
    rate: { type: "string", default: "50" },
    viewers: { type: "string", default: "1,5" },
    systems: { type: "string", default: "next-sse,resumable-stream" },
    elsewhere: { type: "boolean", default: false },
    runs: { type: "string", default: "1" },
  },
});
const ANSWERS = Number(values.answers);
const TOKENS = Number(values.tokens);
const RATE = Number(values.rate);
const RUNS = Number(values.runs);

/** All answers' models: one timer hands every answer its next token, `RATE` times a second. */
function models(count: number) {
  const controllers: Array<ReadableStreamDefaultController<UIMessageChunk>> = [];
  const streams = Array.from(
    { length: count },
    () =>
      new ReadableStream<UIMessageChunk>({
        start(controller) {
          controllers.push(controller);
          controller.enqueue({ type: "start" });
          controller.enqueue({ type: "text-start", id: "t" });
        },
      }),
  );
  let sent = 0;
  const done = new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      sent++;
      const at = performance.now().toFixed(3);
      for (const controller of controllers) {
        controller.enqueue({ type: "text-delta", id: "t", delta: `${sent}@${at} ` });
      }
      if (sent === TOKENS) {
        clearInterval(timer);
        for (const controller of controllers) {
          controller.enqueue({ type: "text-end", id: "t" });
          controller.enqueue({ type: "finish" });
          controller.close();
        }
        resolve();
      }
    }, 1000 / RATE);
  });
  return { streams, done };
}

interface ViewerResult {
  latencies: number[];
  numbers: number[];
  firstTokenMs: number;
}

/** Reads one viewer: every token's number and latency, and how soon its first came. */
async function view(
  stream: ReadableStream<Uint8Array | string>,
  openedAt: number,
): Promise<ViewerResult> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const result: ViewerResult = { latencies: [], numbers: [], firstTokenMs: -1 };
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += typeof value === "string" ? value : decoder.decode(value, { stream: true });
    let end = text.indexOf("\n\n");
    while (end >= 0) {
      const data = text.slice(6, end);
      text = text.slice(end + 2);
      end = text.indexOf("\n\n");
      if (!data.startsWith('{"type":"text-delta"')) continue;
      const delta = (JSON.parse(data) as { delta: string }).delta;
      const [n, at] = delta.trim().split("@");
      const now = performance.now();
      if (result.firstTokenMs < 0) result.firstTokenMs = now - openedAt;
      result.numbers.push(Number(n));
      result.latencies.push(now - Number(at));
    }
  }
  return result;
}

async function commandCalls(admin: Redis): Promise<number> {
  const info = (await admin.info("commandstats")) as string;
  return [...info.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function run(system: System, viewers: number, url: string, admin: Redis) {
  const h = harness(system, url);
  // Where the other viewers and the reloads are served: here, or by a second instance.
  const other = values.elsewhere ? harness(system, url) : h;
  await admin.flushall();
  await admin.config("RESETSTAT");
  const { streams, done } = models(ANSWERS);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const ids = streams.map((_, i) => `bench-${system}-${viewers}-${Date.now()}-${i}`);
  const views: Array<Promise<ViewerResult>> = [];
  for (const [i, id] of ids.entries()) {
    views.push(view(await h.ask(id, streams[i]), performance.now()));
    for (let v = 1; v < viewers; v++) views.push(view(await other.resume(id), performance.now()));
  }
  // Halfway, a reload per answer: how soon the resumed stream shows its first token.
  await new Promise((resolve) => setTimeout(resolve, (TOKENS / RATE / 2) * 1000));
  const reloads = await Promise.all(
    ids.slice(0, Math.min(50, ids.length)).map(async (id) => {
      const opened = performance.now();
      const reader = (await other.resume(id)).getReader();
      await reader.read();
      const ms = performance.now() - opened;
      await reader.cancel();
      return ms;
    }),
  );
  await done;
  const results = await Promise.all(views);
  const seconds = (performance.now() - started) / 1000;
  await h.settled(ids);
  const used = process.cpuUsage(cpu);
  const calls = await commandCalls(admin);
  await h.close();
  if (other !== h) await other.close();
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  let lost = 0;
  let repeated = 0;
  for (const r of results) {
    const seen = new Set(r.numbers);
    repeated += r.numbers.length - seen.size;
    lost += TOKENS - seen.size;
    if (r.numbers.some((n, i) => i > 0 && n <= r.numbers[i - 1])) repeated++;
  }
  const emitted = ANSWERS * TOKENS;
  reloads.sort((a, b) => a - b);
  return {
    system,
    viewers: values.elsewhere ? `${viewers} (${viewers - 1} elsewhere)` : viewers,
    tokensPerSecond: Math.round(latencies.length / seconds),
    p50: Number(percentile(latencies, 50).toFixed(1)),
    p99: Number(percentile(latencies, 99).toFixed(1)),
    commandsPerToken: Number((calls / emitted).toFixed(2)),
    cpuPercent: Math.round(((used.user + used.system) / 1e6 / seconds) * 100),
    resumeP50: Number(percentile(reloads, 50).toFixed(1)),
    resumeP99: Number(percentile(reloads, 99).toFixed(1)),
    lost,
    repeated,
  };
}

/** Per system and viewer count, each figure's median over the runs (lost and repeated: summed). */
function medians(rows: Array<Awaited<ReturnType<typeof run>>>) {
  const groups = new Map<string, typeof rows>();
  for (const row of rows) {
    const key = `${row.system}\t${row.viewers}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].map((group) => {
    const median = (pick: (row: (typeof group)[number]) => number) =>
      group.map(pick).sort((a, b) => a - b)[Math.floor(group.length / 2)];
    return {
      system: group[0].system,
      viewers: group[0].viewers,
      tokensPerSecond: median((r) => r.tokensPerSecond),
      p50: median((r) => r.p50),
      p99: median((r) => r.p99),
      commandsPerToken: median((r) => r.commandsPerToken),
      cpuPercent: median((r) => r.cpuPercent),
      resumeP50: median((r) => r.resumeP50),
      resumeP99: median((r) => r.resumeP99),
      lost: group.reduce((sum, r) => sum + r.lost, 0),
      repeated: group.reduce((sum, r) => sum + r.repeated, 0),
    };
  });
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const admin = new Redis(redis.url);
  const systems = (values.systems ?? "").split(",") as System[];
  const rows: Array<Awaited<ReturnType<typeof run>>> = [];
  try {
    for (const viewers of (values.viewers ?? "1").split(",").map(Number)) {
      // Runs alternate between the systems, so a slow moment of the machine hits both.
      for (let r = 1; r <= RUNS; r++) {
        for (const system of systems) {
          console.error(`running ${system}, ${viewers} viewer(s) per answer, run ${r}/${RUNS}...`);
          rows.push(await run(system, viewers, redis.url, admin));
        }
      }
    }
  } finally {
    admin.disconnect();
    await redis.stop();
  }
  console.log(`${ANSWERS} answers x ${TOKENS} tokens at ${RATE} tokens/s each`);
  if (RUNS > 1) {
    console.log("every run:");
    console.table(rows);
    console.log(`the median of ${RUNS} runs:`);
  }
  console.table(medians(rows));
  console.log(`NEXT_SSE_AI_BENCH ${JSON.stringify(rows)}`);
  process.exit(0);
}

void main();
