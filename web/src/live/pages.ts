/**
 * Reading a paged list (`page_size`, `page_token`, `next_page_token`) as far as a view wants it,
 * so no list stops silently at its first page: a view shows what it has and offers more while
 * the service says there is more.
 *
 * @module
 */

/** One page as a list RPC answers it. */
export interface Page<T> {
  items: T[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/** What a view has of a list: its first items, and whether the service has more. */
export interface Paged<T> {
  items: T[];
  more: boolean;
}

/**
 * Reads pages from the first until at least `want` items (Infinity: to the end) or the last page.
 * A service that answers the same token twice is an error, not an endless loop.
 *
 * @example
 * ```ts
 * const { items, more } = await collectPages(async (pageToken) => {
 *   const r = await api.tasks.listTasks({ mine: true, pageSize: 50, pageToken });
 *   return { items: r.tasks, nextPageToken: r.nextPageToken };
 * }, 50);
 * ```
 */
export async function collectPages<T>(
  fetchPage: (pageToken: string) => Promise<Page<T>>,
  want: number,
): Promise<Paged<T>> {
  const items: T[] = [];
  const seen = new Set<string>();
  let token = "";
  while (true) {
    const page = await fetchPage(token);
    items.push(...page.items);
    if (page.nextPageToken === "") return { items, more: false };
    if (seen.has(page.nextPageToken)) {
      throw new Error("the service answered the same page token twice; the list stops here");
    }
    seen.add(page.nextPageToken);
    token = page.nextPageToken;
    if (items.length >= want) return { items, more: true };
  }
}

/**
 * How much of a list a view wants: one page at first, one page more at each "Show more".
 *
 * @example
 * ```ts
 * const window = new ListWindow(50);
 * window.grow(); // window.want === 100
 * ```
 */
export class ListWindow {
  /** How many items the view wants now. */
  want: number;

  constructor(readonly pageSize: number) {
    this.want = pageSize;
  }

  /** Wants one page more. */
  grow(): void {
    this.want += this.pageSize;
  }
}
