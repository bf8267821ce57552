/**
 * Renders rows (the first is the header) as text columns two spaces apart, each as wide as its widest cell, with no
 * trailing spaces; one line per row, ending in a newline.
 */
export function alignColumns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}
