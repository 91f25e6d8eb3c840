import { expect, test } from "@playwright/test";
import { mintTestToken, publishViaApi, STREAM_SERVERS, uniqueChannel } from "../support/env";

// GET /api/channels/NAME/history: pages of a channel's history, on both ways of serving.
async function publishNumbered(channel: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const response = await publishViaApi({ channel, data: { n: i }, type: "count" });
    ids.push((await response.json()).events[0].id);
  }
  return ids;
}

for (const server of STREAM_SERVERS) {
  test.describe(`history API (${server.name})`, () => {
    const history = (channel: string, query = "") =>
      fetch(`${server.url()}/api/channels/${channel}/history${query}`);

    test("pages newest first by default, with a cursor to the next page", async () => {
      const channel = uniqueChannel("hist");
      const ids = await publishNumbered(channel, 5);
      const first = await (await history(channel, "?limit=2")).json();
      expect(first.channel).toBe(channel);
      expect(first.events.map((e: { data: { n: number } }) => e.data.n)).toEqual([4, 3]);
      expect(first.events[0]).toMatchObject({ id: ids[4], type: "count", data: { n: 4 } });
      expect(Date.parse(first.events[0].publishedAt)).toBeGreaterThan(Date.now() - 60_000);
      const second = await (await history(channel, first.next)).json();
      expect(second.events.map((e: { id: string }) => e.id)).toEqual([ids[2], ids[1]]);
      const third = await (await history(channel, second.next)).json();
      expect(third.events.map((e: { id: string }) => e.id)).toEqual([ids[0]]);
      expect(third.next).toBeNull();
    });

    test("oldest first, and after/before bound the page", async () => {
      const channel = uniqueChannel("hist");
      const ids = await publishNumbered(channel, 5);
      const page = await (
        await history(channel, `?order=oldest&after=${ids[0]}&before=${ids[4]}`)
      ).json();
      expect(page.events.map((e: { id: string }) => e.id)).toEqual(ids.slice(1, 4));
      expect(page.next).toBeNull();
      const empty = await (await history(uniqueChannel("none"))).json();
      expect(empty).toEqual({ channel: expect.any(String), events: [], next: null });
    });

    test("400 names the bad parameter; private channels need their token", async () => {
      const channel = uniqueChannel("hist");
      for (const [query, code] of [
        ["?limit=0", "invalid_limit"],
        ["?limit=101", "invalid_limit"],
        ["?limit=x", "invalid_limit"],
        ["?order=sideways", "invalid_order"],
        ["?before=yesterday", "invalid_before"],
        ["?after=1-2-3", "invalid_after"],
      ]) {
        const response = await history(channel, query);
        expect(response.status).toBe(400);
        expect((await response.json()).error.code).toBe(code);
      }
      const secret = uniqueChannel("private-hist");
      expect((await history(secret)).status).toBe(401);
      const allowed = await history(secret, `?token=${mintTestToken([secret], 60)}`);
      expect(allowed.status).toBe(200);
    });
  });
}
