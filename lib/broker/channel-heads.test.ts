import { describe, expect, it } from "vitest";
import { ChannelHeads } from "@/lib/broker/channel-heads";

const NOW = 1_800_000_000_000;
const id = (msAgo: number, seq = 0) => `${NOW - msAgo}-${seq}`;

function confirmed(channel = "c", maxAgeMs = 60_000, enabled = true) {
  const heads = new ChannelHeads(maxAgeMs, enabled);
  heads.confirm(channel);
  return heads;
}

describe("ChannelHeads", () => {
  it("keeps the newest id of a confirmed channel, from live events and reads", () => {
    const heads = confirmed();
    heads.see("c", id(500, 1));
    heads.see("c", id(500, 0));
    expect(heads.newest("c", NOW)).toBe(id(500, 1));
    heads.seeRead(heads.readTicket(), "c", id(100));
    expect(heads.newest("c", NOW)).toBe(id(100));
    expect(heads.newest("other", NOW)).toBeUndefined();
  });

  it("records nothing before a channel's SUBSCRIBE is confirmed, or when disabled", () => {
    const heads = new ChannelHeads(60_000);
    heads.see("c", id(10));
    expect(heads.newest("c", NOW)).toBeUndefined();
    const off = confirmed("c", 60_000, false);
    off.see("c", id(10));
    expect(off.newest("c", NOW)).toBeUndefined();
  });

  it("forgets a channel on unsubscribe and everything on a subscriber drop", () => {
    const heads = confirmed();
    heads.see("c", id(10));
    heads.forget("c");
    heads.see("c", id(5));
    expect(heads.newest("c", NOW)).toBeUndefined();
    heads.confirm("c");
    heads.see("c", id(5));
    heads.lost();
    expect(heads.newest("c", NOW)).toBeUndefined();
    heads.see("c", id(4));
    expect(heads.newest("c", NOW)).toBeUndefined();
    heads.restored();
    heads.see("c", id(3));
    expect(heads.newest("c", NOW)).toBe(id(3));
  });

  it("does not record a read sent while the subscription was down, or one that spans a drop", () => {
    const heads = confirmed();
    heads.lost();
    const sentWhileDown = heads.readTicket();
    heads.restored();
    heads.seeRead(sentWhileDown, "c", id(10));
    expect(heads.newest("c", NOW)).toBeUndefined();
    const spanning = heads.readTicket();
    heads.lost();
    heads.restored();
    heads.seeRead(spanning, "c", id(10));
    expect(heads.newest("c", NOW)).toBeUndefined();
  });

  it("serves a head only while history surely holds it; 0-0 (never published) always", () => {
    const heads = confirmed("c", 1000);
    heads.see("c", id(999));
    expect(heads.newest("c", NOW)).toBe(id(999));
    expect(heads.newest("c", NOW + 1)).toBeUndefined();
    const empty = confirmed("e", 1000);
    empty.seeRead(empty.readTicket(), "e", "0-0");
    expect(empty.newest("e", NOW + 10 ** 9)).toBe("0-0");
  });
});
