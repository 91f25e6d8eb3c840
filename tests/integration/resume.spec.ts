import { expect, test } from "@playwright/test";
import { publishViaApi, STREAM_SERVERS, uniqueChannel } from "../support/env";
import { openStream, type TestStream } from "../support/sse-client";

async function publish(channel: string, data: string): Promise<string> {
  const response = await publishViaApi({ channel, data });
  expect(response.status).toBe(200);
  return (await response.json()).events[0].id;
}

for (const server of STREAM_SERVERS) {
  test.describe(server.name, () => {
    const app = server.url;

    test("channels named after Object.prototype members work like any other", async () => {
      // Such names are valid; positions kept in a plain object once broke them all.
      for (const channel of ["constructor", "toString", "valueOf", "__proto__"]) {
        await publish(channel, "kept in history");
        const s = await openStream(`${app()}/stream?channel=${channel}`);
        expect(s.response.status).toBe(200);
        await publish(channel, "live");
        expect((await s.waitForEvents(1)).map((e) => e.data)).toEqual(["live"]);
        s.close();
        await publish(channel, "missed");
        const resumed = await openStream(`${app()}/stream?channel=${channel}`, {
          "Last-Event-ID": s.lastEventId ?? "",
        });
        expect((await resumed.waitForEvents(1)).map((e) => e.data)).toEqual(["missed"]);
        resumed.close();
      }
      const both = await openStream(`${app()}/stream?channel=__proto__&channel=constructor`);
      await publish("__proto__", "a");
      await publish("constructor", "b");
      const events = await both.waitForEvents(2);
      expect(events.map((e) => [e.data, e.id?.split("/")[0]])).toEqual([
        ["a", "__proto__"],
        ["b", "constructor"],
      ]);
      both.close();
    });

    test("?rewind=N shows a channel's last N events, then live ones, each once", async () => {
      const channel = uniqueChannel("rewind");
      for (let i = 0; i < 20; i++) await publish(channel, String(i));
      const s = await openStream(`${app()}/stream?channel=${channel}&rewind=10`);
      await publish(channel, "live");
      const events = await s.waitForEvents(11);
      expect(events.map((e) => e.data)).toEqual([
        ...Array.from({ length: 10 }, (_, i) => String(i + 10)),
        "live",
      ]);
      // A reconnect resumes from where it stood: no rewind twice.
      s.close();
      await publish(channel, "missed");
      const again = await openStream(`${app()}/stream?channel=${channel}&rewind=10`, {
        "Last-Event-ID": s.lastEventId ?? "",
      });
      expect((await again.waitForEvents(1)).map((e) => e.data)).toEqual(["missed"]);
      again.close();
      for (const bad of ["101", "-1", "x"]) {
        const refused = await fetch(`${app()}/stream?channel=${channel}&rewind=${bad}`);
        expect(refused.status).toBe(400);
        expect((await refused.json()).error.code).toBe("invalid_rewind");
      }
    });

    test("a resume that missed more than the backlog bound (1 MiB) completes", async () => {
      test.setTimeout(60_000);
      const channel = uniqueChannel("big");
      const first = await openStream(`${app()}/stream?channel=${channel}`);
      await publish(channel, "seen");
      await first.waitForEvents(1);
      first.close();
      // 2.5 MB missed: more than SSE_MAX_BACKLOG_BYTES, so it must come in pages.
      const padding = "x".repeat(10 * 1024);
      for (let i = 0; i < 250; i++) await publish(channel, `${i}|${padding}`);
      const resumed = await openStream(`${app()}/stream?channel=${channel}`, {
        "Last-Event-ID": first.lastEventId ?? "",
      });
      await publish(channel, "live");
      const events = await resumed.waitForEvents(251, 30_000);
      expect(events.slice(0, 250).map((e) => Number(e.data.split("|")[0]))).toEqual(
        Array.from({ length: 250 }, (_, i) => i),
      );
      expect(events[250].data).toBe("live");
      resumed.close();
    });

    test("a reconnect with Last-Event-ID gets every missed event once, then live ones", async () => {
      const channel = uniqueChannel();
      const first = await openStream(`${app()}/stream?channel=${channel}`);
      await publish(channel, "1");
      await first.waitForEvents(1);
      first.close();
      for (const n of ["2", "3", "4"]) await publish(channel, n);
      const resumed = await openStream(`${app()}/stream?channel=${channel}`, {
        "Last-Event-ID": first.lastEventId ?? "",
      });
      await publish(channel, "5");
      const events = await resumed.waitForEvents(4);
      expect(events.map((e) => e.data)).toEqual(["2", "3", "4", "5"]);
      resumed.close();
    });

    test("?lastEventId= resumes a page's first connection", async () => {
      const channel = uniqueChannel();
      const id = await publish(channel, "seen");
      await publish(channel, "missed");
      const s = await openStream(`${app()}/stream?channel=${channel}&lastEventId=${id}`);
      const [event] = await s.waitForEvents(1);
      expect(event.data).toBe("missed");
      s.close();
    });

    test("no gap and no duplicate at the switch from replay to live, under continuous publishing", async () => {
      const channel = uniqueChannel();
      let publishing = true;
      let sent = 0;
      const publisher = (async () => {
        while (publishing) {
          await publish(channel, String(++sent));
        }
      })();
      const received: string[] = [];
      let lastEventId: string | undefined;
      for (let round = 0; round < 8; round++) {
        const s: TestStream = await openStream(
          `${app()}/stream?channel=${channel}`,
          lastEventId ? { "Last-Event-ID": lastEventId } : {},
        );
        await s.waitForEvents(round === 0 ? 3 : 10);
        s.close();
        await s.ended;
        received.push(...s.events.map((e) => e.data));
        lastEventId = s.lastEventId;
      }
      publishing = false;
      await publisher;
      const first = Number(received[0]);
      const expected = Array.from({ length: received.length }, (_, i) => String(first + i));
      expect(received).toEqual(expected);
    });

    test("resumes several channels at once and names each event's channel", async () => {
      const [a, b] = [uniqueChannel("a"), uniqueChannel("b")];
      const url = `${app()}/stream?channel=${a}&channel=${b}`;
      const s = await openStream(url);
      await publish(a, "a1");
      await s.waitForEvents(1);
      s.close();
      await publish(b, "b1");
      await publish(a, "a2");
      const resumed = await openStream(url, { "Last-Event-ID": s.lastEventId ?? "" });
      const events = await resumed.waitForEvents(2);
      expect(events.map((e) => [(e.id ?? "").split("/")[0], e.data])).toEqual([
        [a, "a2"],
        [b, "b1"],
      ]);
      resumed.close();
    });

    test("says reset when the id is unknown", async () => {
      const channel = uniqueChannel();
      const s = await openStream(`${app()}/stream?channel=${channel}`, {
        "Last-Event-ID": "12345-0",
      });
      const [event] = await s.waitForEvents(1);
      expect(event.event).toBe("reset");
      expect(JSON.parse(event.data)).toEqual({ channels: [channel] });
      s.close();
    });
  });
}
