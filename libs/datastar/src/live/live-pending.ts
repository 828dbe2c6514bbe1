/**
 * Live sessions waiting for their stream (a page was served, its `data-init` has not connected
 * yet), counted in total and per client: a page GET past either cap is refused before anything
 * is mounted. The per-client map holds only clients with a waiting session, so it is bounded by
 * the total cap too.
 */
export class LivePending {
  private total = 0;
  private readonly clients = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerClient: number,
  ) {}

  /** Sessions waiting in total. */
  get size(): number {
    return this.total;
  }

  /** Takes a slot for `client`: its release function (idempotent), or which cap is full. */
  take(client: string): (() => void) | 'server' | 'client' {
    if (this.total >= this.maxTotal) return 'server';
    const mine = this.clients.get(client) ?? 0;
    if (mine >= this.maxPerClient) return 'client';
    this.total++;
    this.clients.set(client, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.clients.get(client) ?? 1) - 1;
      if (left > 0) this.clients.set(client, left);
      else this.clients.delete(client);
    };
  }
}
