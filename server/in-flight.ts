/**
 * The requests a stopping server finishes before it says it has stopped, and refuses once it
 * stops (server/notify-server.ts `shutdown`): a REST call under way is answered, a new one, on a
 * keep-alive connection the listen socket's close does not end, is told to go elsewhere.
 */
export class InFlight {
  private running = 0;
  private closed = false;

  /** Counts one more request, or says no (`false`) once the server stops. */
  enter(): boolean {
    if (this.closed) return false;
    this.running += 1;
    return true;
  }

  leave(): void {
    this.running -= 1;
  }

  /** From now on, `enter` says no. */
  close(): void {
    this.closed = true;
  }

  get stopping(): boolean {
    return this.closed;
  }

  get idle(): boolean {
    return this.running === 0;
  }
}
