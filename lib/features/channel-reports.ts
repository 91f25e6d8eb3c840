import "server-only";

/** How a process reports per-channel state (stream counts, members) to a shared store. */
export interface ChannelReportsOptions {
  /** A change is reported this long after it happened, with the others of that time (ms). */
  debounceMs: number;
  /** Everything `refreshed()` names is reported again this often (ms): entries expire. */
  refreshMs: number;
  /** The channels each refresh reports (besides those still due). */
  refreshed(): Iterable<string>;
  /** Reports these channels; calls `retry` for those that failed. */
  report(channels: Iterable<string>): void;
  /** While true (a server shutting down), nothing is reported. */
  paused?(): boolean;
}

/**
 * Per-channel reports, debounced and refreshed: presence counts and members both work this
 * way. Held in a process singleton by its user; its timers do not keep the process alive.
 */
export class ChannelReports {
  private readonly due = new Set<string>();
  private flush: NodeJS.Timeout | undefined;
  private refresh: NodeJS.Timeout | undefined;

  constructor(private readonly options: ChannelReportsOptions) {}

  /** These channels changed: report them with the next flush, and keep refreshing. */
  changed(channels: Iterable<string>): void {
    for (const channel of channels) this.due.add(channel);
    if (this.options.paused?.()) return;
    this.flush ??= setTimeout(() => {
      this.flush = undefined;
      this.options.report(this.takeDue());
    }, this.options.debounceMs);
    this.flush.unref();
    this.keepRefreshing();
  }

  /** A report of these channels failed: they go again with the next one. */
  retry(channels: Iterable<string>): void {
    for (const channel of channels) this.due.add(channel);
  }

  /** Starts the refresh (idempotent). */
  keepRefreshing(): void {
    this.refresh ??= setInterval(() => {
      if (this.options.paused?.()) return;
      this.options.report(new Set([...this.options.refreshed(), ...this.takeDue()]));
    }, this.options.refreshMs);
    this.refresh.unref();
  }

  private takeDue(): string[] {
    const channels = [...this.due];
    this.due.clear();
    return channels;
  }
}
