/**
 * "Run again if asked while running": a task that must not overlap itself, where a request
 * that comes during a round means the round may already be out of date (a reconnect while
 * subscriptions were being confirmed; a broker recovery while a stream caught up), so one
 * more round follows it, however many requests came.
 */
export class Rounds {
  private running = false;
  private asked = false;

  /** Whether another round was asked for since the current one began. */
  get askedAgain(): boolean {
    return this.asked;
  }

  /**
   * Asks for a round after the current one, without starting one now: for a task whose
   * first round is started by its owner (a stream's first catch-up).
   */
  ask(): void {
    this.asked = true;
  }

  /**
   * Runs `round`, then again while another was asked for meanwhile; `first` is true for the
   * first round of this call. During rounds, a call only asks for one more and resolves at
   * once. A round that throws ends the call with its error.
   */
  async run(round: (first: boolean) => Promise<void>): Promise<void> {
    if (this.running) {
      this.asked = true;
      return;
    }
    this.running = true;
    try {
      // An `ask` from before this call stays set through the first round: one more follows.
      let first = true;
      do {
        await round(first);
        first = false;
      } while (this.consume());
    } catch (error) {
      this.asked = false;
      throw error;
    } finally {
      this.running = false;
    }
  }

  private consume(): boolean {
    const asked = this.asked;
    this.asked = false;
    return asked;
  }
}
