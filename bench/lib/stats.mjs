// Medians, percentiles and plain-text tables.

export function median(values) {
  const list = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!list.length) return NaN;
  const mid = list.length >> 1;
  return list.length % 2 ? list[mid] : (list[mid - 1] + list[mid]) / 2;
}

/** Nearest-rank percentile of an unsorted list (p in 0..100). */
export function percentile(values, p) {
  if (!values.length) return NaN;
  const list = Float64Array.from(values).sort();
  const rank = Math.min(list.length - 1, Math.max(0, Math.ceil((p / 100) * list.length) - 1));
  return list[rank];
}

export function fmt(value, digits = 0) {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
export const fmtRatio = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '–');

/** A markdown table (also readable in a terminal). */
export function table(headers, rows) {
  const cells = [headers, ...rows].map((row) => row.map((c) => String(c)));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) => `| ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}

/** "met" or "MISSED" with the gap, for a goal `actual >= target` (or `<=` when `atMost`). */
export function verdict(label, actual, target, { atMost = false, unit = '', digits = 2 } = {}) {
  if (!Number.isFinite(actual) || !Number.isFinite(target)) return { label, ok: false, info: true, text: `${label}: not measured (contender left out)` };
  const ok = atMost ? actual <= target : actual >= target;
  const show = (v) => `${v.toFixed(digits)}${unit}`;
  const gap = atMost ? actual - target : target - actual;
  const text = ok
    ? `${label}: met (${show(actual)} ${atMost ? '<=' : '>='} ${show(target)})`
    : `${label}: MISSED by ${show(gap)} (${show(actual)} vs goal ${atMost ? '<=' : '>='} ${show(target)})`;
  return { label, ok, text };
}
