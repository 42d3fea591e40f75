/** Tiny helpers for self-contained HTML reports (no scripts, no external assets). */

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An HTML table from a header row and body rows (cells are escaped). */
export function htmlTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A data: URI for PNG bytes, to embed images in a single-file report. */
export function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}

/** A whole page: title plus body sections (already HTML). */
export function htmlPage(title: string, sections: readonly string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img.frames { image-rendering: pixelated; max-width: 100%; }
img, svg { max-width: 100%; height: auto; }
.muted { color: #777; font-size: 0.9em; }
.verdict { font-size: 1.15em; padding: 0.6em 0.9em; border-left: 5px solid #888; background: #f6f6f6; }
.verdict.good { border-color: #2a9d4b; } .verdict.warn { border-color: #d9a400; } .verdict.bad { border-color: #c0392b; }
figure.rollout { margin: 1em 0; }
table.frames { table-layout: fixed; width: 100%; border-collapse: collapse; margin: 0.3em 0; }
table.frames th, table.frames td { border: none; padding: 1px; text-align: center; font-weight: normal; font-size: 0.8em; color: #555; }
table.frames th:first-child { width: 3.5em; text-align: right; padding-right: 4px; }
table.frames img { width: 100%; image-rendering: pixelated; display: block; }
</style></head>
<body><h1>${escapeHtml(title)}</h1>
${sections.join('\n')}
</body></html>
`;
}
