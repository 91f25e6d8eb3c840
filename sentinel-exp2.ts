import { startSentinelGroup } from "./tests/support/redis-sentinel";
import { startAppServer } from "./tests/support/next-server";
import { openStream } from "./tests/support/sse-client";
import { TEST_PUBLISH_TOKEN } from "./tests/support/env";
(async () => {
const group = await startSentinelGroup();
const server = await startAppServer({
  SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN, SSE_MAX_STREAMS_PER_CLIENT: "0", SSE_PUBLISH_PER_MINUTE: "0",
  SSE_REDIS_TIMEOUT_MS: "1000", SSE_REDIS_AUDIT_MS: "1000",
  SSE_REDIS_SENTINELS: group.sentinels.join(","), SSE_REDIS_SENTINEL_MASTER: group.master,
  SSE_REDIS_WAIT_REPLICAS: process.env.WAITR ?? "1", DEBUG_RECOVERY: "1",
});
let killedAt = 0;
const log = (m: string) => console.log(`${killedAt ? Date.now() - killedAt : 0} ms: ${m}`);
const stream = await openStream(`${server.url}/stream?channel=exp`);
const others = await Promise.all([1,2,3,4,5,6,7].map((i) => openStream(`${server.url}/stream?channel=exp${i}`)));
let seen = 0;
let outLen = 0;
const outWatch = setInterval(() => {
  const out = server.output();
  if (out.length > outLen) { for (const l of out.slice(outLen).split("\n")) if (l.trim()) log(`SERVER ${l}`); outLen = out.length; }
}, 20);
const watch = setInterval(() => {
  const n = stream.events.filter((e) => e.event !== "position").length;
  if (n !== seen) { log(`follower has ${n} events`); seen = n; }
}, 20);
let seq = 0; let stop = false;
const pub = (async () => {
  while (!stop) {
    const n = seq++;
    const r = await fetch(`${server.url}/api/publish`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${TEST_PUBLISH_TOKEN}` }, body: JSON.stringify({ channel: "exp", data: n, id: `e${n}` }) }).catch(() => null);
    if (killedAt) log(`publish ${n}: ${r?.status}`);
    await new Promise((res) => setTimeout(res, 250));
  }
})();
await new Promise((r) => setTimeout(r, 2000));
const victim = await group.currentMaster();
killedAt = Date.now();
await victim.kill();
while ((await group.currentMaster()) === victim) await new Promise((r) => setTimeout(r, 50));
log("SENTINELS SWITCHED");
await victim.restart();
log("victim restarted");
await new Promise((r) => setTimeout(r, 9000));
stop = true; await pub; clearInterval(watch); clearInterval(outWatch);
console.log("ended:", await Promise.race([stream.ended.then(() => "yes"), new Promise((r) => setTimeout(() => r("no"), 10))]));
console.log(server.output().split("\n").filter((l) => l.includes("next-sse")).slice(-15).join("\n"));
stream.close(); await server.stop(); await group.stop(); process.exit(0);

})();
