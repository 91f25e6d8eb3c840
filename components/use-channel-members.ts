"use client";

import { useCallback, useEffect, useEffectEvent, useRef, useState } from "react";
import type { EventSourceStatus } from "@/components/use-event-source";
import type { ChannelMember, MembersData } from "@/lib/sse/events";

/** What `useChannelMembers` returns. */
export interface ChannelMembers {
  /** The users on the channel, each once, by `sub`. */
  members: ChannelMember[];
  /** Hand it the stream's `members` events (`events: { members: onMembers }`). */
  onMembers: (data: unknown) => void;
}

/**
 * The members of a private channel: the list (`GET /api/channels/NAME/members`) read each
 * time its stream opens, kept current by the stream's `members` events (open it with
 * `?members=1`). Members events have no history, so a reconnect reads the list again;
 * events that arrive while it is read are applied again on top of it, in order, so a join
 * or leave that races the read is not lost.
 */
export function useChannelMembers(
  channel: string,
  status: EventSourceStatus,
  /** The channel's token, for the list (it has the stream's access rules). */
  token: () => string | undefined,
): ChannelMembers {
  const [members, setMembers] = useState<ReadonlyMap<string, ChannelMember>>(() => new Map());
  const reading = useRef<MembersData[] | null>(null);
  // The newest token when the list is read, not a value captured during a render.
  const readToken = useEffectEvent(() => token());

  useEffect(() => {
    if (status !== "open") return;
    let cancelled = false;
    const pending: MembersData[] = [];
    reading.current = pending;
    const bearer = readToken();
    void fetch(`/api/channels/${encodeURIComponent(channel)}/members`, {
      headers: bearer === undefined ? {} : { Authorization: `Bearer ${bearer}` },
    })
      .then(async (response) => (response.ok ? await response.json() : null))
      .then((body: { members?: ChannelMember[] } | null) => {
        if (cancelled || body?.members === undefined) return;
        const next = new Map(body.members.map((member) => [member.sub, member]));
        for (const change of pending) apply(next, change);
        reading.current = null;
        setMembers(next);
      })
      .catch(() => {
        // The list could not be read: the events still keep what is shown current.
      });
    return () => {
      cancelled = true;
    };
  }, [channel, status]);

  const onMembers = useCallback((data: unknown) => {
    const change = data as MembersData;
    reading.current?.push(change);
    setMembers((current) => {
      const next = new Map(current);
      apply(next, change);
      return next;
    });
  }, []);

  return { members: [...members.values()], onMembers };
}

function apply(members: Map<string, ChannelMember>, change: MembersData): void {
  if (change.action === "join") {
    const { sub, info } = change;
    members.set(sub, info === undefined ? { sub } : { sub, info });
  } else members.delete(change.sub);
}
