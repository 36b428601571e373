/**
 * Comparison of a restored database's row counts with the backup's manifest.
 *
 * @module
 */

/** One table's expected and actual count. */
export interface CountComparison {
  /** The table. */
  table: string;
  /** Its count in the manifest; unset when the manifest has no such table. */
  expected?: number;
  /** Its count in the restored database; unset when it has no such table. */
  actual?: number;
  /** Whether both are there and equal. */
  ok: boolean;
}

/**
 * Compares counts table by table (a table missing on either side is a mismatch).
 *
 * @example
 * ```ts
 * compareCounts({ tasks: 3 }, { tasks: 2 }); // [{ table: "tasks", expected: 3, actual: 2, ok: false }]
 * ```
 */
export function compareCounts(
  expected: Record<string, number>,
  actual: Record<string, number>,
): CountComparison[] {
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return tables.map((table) => ({
    table,
    expected: expected[table],
    actual: actual[table],
    ok: expected[table] !== undefined && expected[table] === actual[table],
  }));
}
