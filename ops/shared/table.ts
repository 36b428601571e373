/**
 * Plain-text tables for terminals and logs.
 *
 * @module
 */

/** A column: header and alignment (numbers read best right-aligned). */
export interface Column {
  header: string;
  align?: "left" | "right";
}

/**
 * Renders rows under headers, columns padded to their widest cell.
 *
 * @example
 * ```ts
 * renderTable([{ header: "table" }, { header: "rows", align: "right" }], [["tasks", "100"]]);
 * // table  rows
 * // -----  ----
 * // tasks   100
 * ```
 */
export function renderTable(columns: Column[], rows: string[][]): string {
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...rows.map((row) => [...(row[i] ?? "")].length))
  );
  const pad = (text: string, i: number) => {
    const gap = " ".repeat(Math.max(0, widths[i] - [...text].length));
    return columns[i].align === "right" ? gap + text : text + gap;
  };
  const lines = [
    columns.map((c, i) => pad(c.header, i)).join("  "),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map((row) => columns.map((_, i) => pad(row[i] ?? "", i)).join("  ")),
  ];
  return lines.map((line) => line.trimEnd()).join("\n");
}
