/**
 * Preact glue for {@link Store}: a component re-renders when the store changes.
 *
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import type { Store } from "./store.ts";

/**
 * The store's current value; the component re-renders on every change.
 *
 * @example
 * ```tsx
 * function Badge() {
 *   const session = useStore(sessionStore);
 *   return <span>{session?.user.displayName}</span>;
 * }
 * ```
 */
export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(() => store.get());
  useEffect(() => {
    setValue(store.get());
    return store.subscribe((next) => setValue(() => next));
  }, [store]);
  return value;
}
