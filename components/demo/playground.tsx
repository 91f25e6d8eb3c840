"use client";

import { useActionState, useEffect, useId, useMemo, useRef, useState } from "react";
import { refreshDemoToken } from "@/components/demo/actions";
import { type PublishFormState, publishFromPlayground } from "@/components/demo/playground-actions";
import { PublishCode, type PublishDraft, readDraft } from "@/components/demo/publish-code";
import { type EventMeta, useEventSource } from "@/components/use-event-source";
import { isValidChannel } from "@/lib/sse/channel";
import { publishedAtMs } from "@/lib/sse/ids";

interface Entry {
  key: number;
  at: string;
  channel: string;
  type: string;
  id: string;
  data: string;
  delayMs: number | undefined;
  /** Published before this connection opened: rewound (or replayed) from history. */
  history: boolean;
}

const MAX_LOG = 100;
const DEFAULT_TYPES = ["message", "update", "greeting"];

const card =
  "rounded-xl border border-zinc-200 bg-white p-4 shadow-sm dark:border-zinc-800 dark:bg-zinc-900";
const button =
  "rounded-lg px-3 py-1.5 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 disabled:opacity-40";
const input =
  "w-full rounded-lg border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-950";

function badge(status: string, resumed: boolean, reset: boolean): { label: string; tone: string } {
  if (reset)
    return {
      label: "reset: history had a gap",
      tone: "bg-rose-100 text-rose-900 dark:bg-rose-900/40 dark:text-rose-200",
    };
  if (status === "open" && resumed)
    return {
      label: "resumed",
      tone: "bg-sky-100 text-sky-900 dark:bg-sky-900/40 dark:text-sky-200",
    };
  if (status === "open")
    return {
      label: "open",
      tone: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/40 dark:text-emerald-200",
    };
  if (status === "closed")
    return {
      label: "closed",
      tone: "bg-zinc-200 text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200",
    };
  return {
    label: status,
    tone: "bg-amber-100 text-amber-900 dark:bg-amber-900/40 dark:text-amber-200",
  };
}

/**
 * The playground: pick channels (one private, with the page's token), connect, watch the
 * events arrive with their delay, publish through a Server Action, see the subscribers of
 * each channel across instances, and drop the connection to see it resume.
 */
export function Playground({
  channels,
  privateChannel,
  token,
}: {
  channels: string[];
  privateChannel: string;
  token: string;
}) {
  const formId = useId();
  const [options, setOptions] = useState(channels);
  const [selected, setSelected] = useState<string[]>(channels.slice(0, 2));
  const [custom, setCustom] = useState("");
  const [connected, setConnected] = useState(true);
  const [log, setLog] = useState<Entry[]>([]);
  const [types, setTypes] = useState(DEFAULT_TYPES);
  const [resumed, setResumed] = useState(false);
  const [reset, setReset] = useState(false);
  const [counts, setCounts] = useState<Record<string, number>>({});
  const [rewind, setRewind] = useState(0);
  const [draft, setDraft] = useState<PublishDraft>(() => ({
    channel: channels[0],
    type: "message",
    data: '{"text": "hello"}',
  }));
  const seq = useRef(0);
  // When the current stream was asked for: events published before it came from history.
  const requestedAt = useRef(Date.now());

  const url = useMemo(() => {
    if (!connected || selected.length === 0) return null;
    const query = new URLSearchParams(selected.map((c) => ["channel", c]));
    return `/stream?${query}`;
  }, [connected, selected]);
  // Before the stream's own effects (declared below): its events all come after this.
  useEffect(() => {
    if (url !== null) requestedAt.current = Date.now();
  }, [url]);
  // The page's token first, then fresh ones when it expires; in a header, not the URL.
  const latestToken = useRef(token);
  const renderTokenUsed = useRef(false);
  const getToken = async () => {
    if (!renderTokenUsed.current) {
      renderTokenUsed.current = true;
      return latestToken.current;
    }
    const fresh = await refreshDemoToken(privateChannel);
    if (fresh !== null) latestToken.current = fresh;
    return fresh;
  };

  const onEvent = (data: unknown, meta: EventMeta) => {
    const publishedAt = publishedAtMs(meta.id);
    setLog((entries) =>
      [
        {
          key: ++seq.current,
          at: new Date().toLocaleTimeString(),
          channel: meta.channel ?? "?",
          type: meta.type,
          id: meta.id,
          data: typeof data === "string" ? data : JSON.stringify(data),
          delayMs: publishedAt === undefined ? undefined : Math.max(0, Date.now() - publishedAt),
          history: publishedAt !== undefined && publishedAt < requestedAt.current,
        },
        ...entries,
      ].slice(0, MAX_LOG),
    );
  };
  const events = Object.fromEntries(types.map((type) => [type, onEvent]));
  const { status, error, reconnect } = useEventSource(url, {
    events,
    onReset: () => setReset(true),
    rewind,
    getToken: selected.includes(privateChannel) ? getToken : undefined,
  });

  // "resumed": open again on the URL that was open before (a reconnect, not a new choice).
  const openedUrl = useRef<string | null>(null);
  useEffect(() => {
    if (status !== "open") return;
    if (openedUrl.current === url) {
      setResumed(true);
      return;
    }
    openedUrl.current = url;
    setResumed(false);
    setReset(false);
  }, [status, url]);

  // Subscribers of each selected channel, across instances.
  useEffect(() => {
    if (selected.length === 0) return;
    let stopped = false;
    const poll = async () => {
      const next: Record<string, number> = {};
      for (const channel of selected) {
        const headers: Record<string, string> =
          channel === privateChannel ? { Authorization: `Bearer ${latestToken.current}` } : {};
        const response = await fetch(`/api/channels/${channel}`, { headers }).catch(() => null);
        if (response?.ok) next[channel] = (await response.json()).subscribers;
      }
      if (!stopped) setCounts(next);
    };
    void poll();
    const timer = setInterval(poll, 2000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [selected, privateChannel]);

  const [published, publishAction, publishing] = useActionState<PublishFormState, FormData>(
    async (previous, form) => {
      const type = String(form.get("type") ?? "").trim() || "message";
      const result = await publishFromPlayground(previous, form);
      if (result?.ok && !types.includes(type)) setTypes((t) => [...t, type]);
      return result;
    },
    null,
  );

  const toggle = (channel: string) =>
    setSelected((list) =>
      list.includes(channel) ? list.filter((c) => c !== channel) : [...list, channel],
    );
  const addCustom = () => {
    const name = custom.trim();
    if (!isValidChannel(name)) return;
    if (!options.includes(name)) setOptions((o) => [...o, name]);
    if (!selected.includes(name)) setSelected((s) => [...s, name]);
    setCustom("");
  };
  const shown = badge(status, resumed, reset);

  return (
    <div className="grid gap-4 md:grid-cols-[minmax(0,1fr)_minmax(0,1.4fr)]">
      <div className="flex flex-col gap-4">
        <fieldset className={card}>
          <legend className="px-1 text-sm font-semibold">Channels</legend>
          <ul className="flex flex-col gap-1.5">
            {options.map((channel) => (
              <li key={channel} className="flex items-center justify-between gap-2 text-sm">
                <label className="flex items-center gap-2">
                  <input
                    type="checkbox"
                    checked={selected.includes(channel)}
                    onChange={() => toggle(channel)}
                  />
                  <code className="font-mono">{channel}</code>
                  {channel === privateChannel && (
                    <span className="rounded bg-zinc-100 px-1.5 text-xs dark:bg-zinc-800">
                      private
                    </span>
                  )}
                </label>
                {selected.includes(channel) && (
                  <span data-testid={`pg-count-${channel}`} className="text-xs text-zinc-500">
                    {counts[channel] ?? "–"} subscribed
                  </span>
                )}
              </li>
            ))}
          </ul>
          <div className="mt-3 flex gap-2">
            <label className="sr-only" htmlFor={`${formId}-custom`}>
              Add a channel
            </label>
            <input
              id={`${formId}-custom`}
              className={input}
              placeholder="another-channel"
              value={custom}
              onChange={(e) => setCustom(e.target.value)}
              onKeyDown={(e) => e.key === "Enter" && addCustom()}
            />
            <button
              type="button"
              onClick={addCustom}
              className={`${button} bg-zinc-100 dark:bg-zinc-800`}
            >
              Add
            </button>
          </div>
          <div className="mt-3 flex flex-wrap items-center gap-2">
            <button
              type="button"
              onClick={() => setConnected((c) => !c)}
              className={`${button} bg-zinc-900 text-white dark:bg-zinc-100 dark:text-zinc-900`}
            >
              {connected ? "Disconnect" : "Connect"}
            </button>
            <button
              type="button"
              onClick={reconnect}
              disabled={status !== "open"}
              className={`${button} bg-zinc-100 dark:bg-zinc-800`}
            >
              Drop connection
            </button>
            <label className="flex items-center gap-1 text-xs">
              Rewind
              <input
                type="number"
                name="rewind"
                min={0}
                max={100}
                value={rewind}
                onChange={(e) => setRewind(Math.max(0, Math.min(100, Number(e.target.value) || 0)))}
                className={`${input} w-16`}
                title="Show each channel's last N events first (?rewind=N)"
              />
            </label>
            <span
              role="status"
              data-testid="pg-status"
              data-status={status}
              data-resumed={resumed}
              className={`rounded-full px-2.5 py-0.5 text-xs font-medium ${shown.tone}`}
            >
              {url === null ? "disconnected" : shown.label}
            </span>
          </div>
          {error && <p className="mt-2 text-sm text-rose-700 dark:text-rose-300">{error}</p>}
        </fieldset>

        <form
          action={publishAction}
          onChange={(event) => setDraft(readDraft(new FormData(event.currentTarget)))}
          className={card}
          aria-labelledby={`${formId}-publish`}
        >
          <h2 id={`${formId}-publish`} className="mb-2 text-sm font-semibold">
            Publish (Server Action)
          </h2>
          {/* The action publishes to the private channel only with the page's token. */}
          <input type="hidden" name="token" value={token} />
          <div className="grid grid-cols-2 gap-2">
            <label className="text-xs">
              Channel
              <select name="channel" className={input} defaultValue={selected[0] ?? options[0]}>
                {options.map((channel) => (
                  <option key={channel}>{channel}</option>
                ))}
              </select>
            </label>
            <label className="text-xs">
              Type
              <input
                name="type"
                list={`${formId}-types`}
                defaultValue="message"
                className={input}
              />
              <datalist id={`${formId}-types`}>
                {types.map((type) => (
                  <option key={type} value={type} />
                ))}
              </datalist>
            </label>
          </div>
          <label className="mt-2 block text-xs">
            Data (JSON)
            <textarea
              name="data"
              rows={3}
              defaultValue={'{"text": "hello"}'}
              className={`${input} font-mono`}
            />
          </label>
          <div className="mt-2 flex items-center gap-3">
            <button
              type="submit"
              disabled={publishing}
              className={`${button} bg-sky-600 text-white`}
            >
              Publish
            </button>
            {published?.ok === false && (
              <p
                role="alert"
                data-testid="pg-error"
                className="text-sm text-rose-700 dark:text-rose-300"
              >
                {published.error}
              </p>
            )}
            {published?.ok && (
              <p data-testid="pg-published" className="text-xs text-zinc-500">
                sent {published.id} to {published.receivers} instance(s)
              </p>
            )}
          </div>
          <PublishCode draft={draft} />
        </form>
      </div>

      <section className={card} aria-labelledby={`${formId}-log`}>
        <h2 id={`${formId}-log`} className="mb-2 text-sm font-semibold">
          Events
        </h2>
        <ol
          aria-live="polite"
          data-testid="pg-log"
          className="flex max-h-[32rem] flex-col gap-1.5 overflow-y-auto"
        >
          {log.length === 0 && (
            <li className="text-sm text-zinc-500">Nothing yet: publish something.</li>
          )}
          {log.map((entry) => (
            <li
              key={entry.key}
              data-testid="pg-event"
              data-channel={entry.channel}
              data-type={entry.type}
              data-history={entry.history}
              className="rounded-lg bg-zinc-50 px-2.5 py-1.5 font-mono text-xs dark:bg-zinc-800"
            >
              <div className="flex flex-wrap gap-x-3 text-zinc-500">
                <span>{entry.at}</span>
                <span className="font-semibold text-zinc-800 dark:text-zinc-200">
                  {entry.channel}
                </span>
                <span>{entry.type}</span>
                <span className="truncate" title={entry.id}>
                  {entry.id}
                </span>
                {entry.history ? (
                  <span className="rounded bg-amber-100 px-1 text-amber-900 dark:bg-amber-900 dark:text-amber-100">
                    history
                  </span>
                ) : (
                  entry.delayMs !== undefined && <span>{entry.delayMs} ms</span>
                )}
              </div>
              <div data-testid="pg-event-data" className="break-all">
                {entry.data}
              </div>
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}
