// A small async queue: what an async iterator over events reads from. Bounded: a consumer that
// stops reading loses the oldest events, never memory.

export class EventQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private waiters: Array<(r: IteratorResult<T>) => void> = [];
  private done = false;

  constructor(private readonly limit: number, private readonly onReturn?: () => void) {}

  push(item: T): void {
    if (this.done) return;
    const w = this.waiters.shift();
    if (w) return w({ value: item, done: false });
    this.items.push(item);
    if (this.items.length > this.limit) this.items.shift();
  }

  /** Ends the iteration; what is buffered is still read. */
  end(): void {
    if (this.done) return;
    this.done = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((r) => this.waiters.push(r));
  }

  return(): Promise<IteratorResult<T>> {
    this.items = [];
    this.end();
    this.onReturn?.();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
