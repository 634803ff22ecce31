// A tiny inline SVG line of recent values (no chart library): scaled to its own maximum, labelled for readers.
import { html } from "./ui.js";

export function Sparkline({ values, label, width = 160, height = 32 }) {
  // One sample is drawn as a level line, so a chart never shows up empty.
  if (values.length === 1) values = [values[0], values[0]];
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`)
    .join(" ");
  return html`<svg class="spark" role="img" aria-label=${label} viewBox=${`0 0 ${width} ${height}`} width=${width} height=${height}>
    <polyline fill="none" stroke="currentColor" stroke-width="2" points=${points || `0,${height - 2} ${width},${height - 2}`} />
  </svg>`;
}
