/**
 * A value that views watch: set it and every subscriber hears. Plain TypeScript (no DOM), so
 * state logic is tested without a browser; `use_store.ts` connects it to Preact.
 *
 * @module
 */

/** A watched value. */
export interface Store<T> {
  get(): T;
  set(value: T): void;
  update(change: (value: T) => T): void;
  /** Calls `listener` on every change; returns the function that stops it. */
  subscribe(listener: (value: T) => void): () => void;
}

/**
 * Creates a store.
 *
 * @example
 * ```ts
 * const count = createStore(0);
 * const stop = count.subscribe((n) => console.log(n));
 * count.update((n) => n + 1); // logs 1
 * stop();
 * ```
 */
export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<(value: T) => void>();
  const set = (next: T) => {
    if (Object.is(next, value)) return;
    value = next;
    for (const listener of [...listeners]) listener(value);
  };
  return {
    get: () => value,
    set,
    update: (change) => set(change(value)),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
