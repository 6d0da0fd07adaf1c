// charts.js — stacked bar charts per day (uPlot, drawn on a canvas: nothing inline for the CSP
// to refuse). Each series is drawn as the sum of itself and the series after it, largest first,
// so the bands stack; the legend shows each series' own value.
import uPlot from "uplot";
import { useEffect, useRef } from "preact/hooks";
import { html } from "./ui.js";

const COLORS = ["#1f4f99", "#d9822b", "#2b9a66", "#b4446c", "#6b5bd2", "#7a8a99", "#c9a227", "#3aa3c7"];

// "2026-12-04" -> unix seconds at 00:00 UTC.
export const daySeconds = (day) => Date.UTC(+day.slice(0, 4), +day.slice(5, 7) - 1, +day.slice(8, 10)) / 1000;

// Every day from the first to the last (inclusive), as unix seconds.
export function dayRange(firstDay, lastDay) {
  const out = [];
  for (let t = daySeconds(firstDay); t <= daySeconds(lastDay); t += 86400) out.push(t);
  return out;
}

// days: unix seconds; series: [{label, values (one per day)}]; format(value) for axis and legend.
export function StackedBars({ title, days, series, format, height = 220 }) {
  const ref = useRef(null);
  const key = JSON.stringify([days, series]);
  useEffect(() => {
    if (!ref.current || days.length === 0) return undefined;
    const stacked = series.map((_, i) => days.map((__, d) => series.slice(i).reduce((a, s) => a + (s.values[d] || 0), 0)));
    const bars = uPlot.paths.bars({ size: [0.6, 48] });
    const top = Math.max(1e-9, ...(stacked[0] ?? [0]));
    const opts = {
      title,
      width: Math.max(320, ref.current.clientWidth || 640),
      height,
      scales: { x: { time: true, range: () => [days[0] - 43200, days[days.length - 1] + 43200] }, y: { range: () => [0, top * 1.1] } },
      axes: [{ splits: () => days.filter((_, i) => i % Math.ceil(days.length / 12) === 0),
               values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)) },
             { size: 84, values: (u, ticks) => ticks.map(format) }],
      series: [{ label: "day", value: (u, t) => (t == null ? "—" : new Date(t * 1000).toISOString().slice(0, 10)) },
               ...series.map((s, i) => ({
                 label: s.label, stroke: COLORS[i % COLORS.length], fill: COLORS[i % COLORS.length] + "cc", width: 1,
                 paths: bars, points: { show: false },
                 value: (u, v, si, di) => (di == null ? "—" : format(series[i].values[di] || 0)),
               }))],
      cursor: { drag: { x: false, y: false } },
    };
    const plot = new uPlot(opts, [days, ...stacked], ref.current);
    return () => plot.destroy();
  }, [key]);
  if (days.length === 0) return html`<div class="chart empty"><h4>${title}</h4><p class="muted">No usage in this period.</p></div>`;
  return html`<div class="chart" ref=${ref} data-chart=${title}></div>`;
}
