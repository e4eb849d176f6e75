import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from "chart.js";
import { useEffect, useRef } from "preact/hooks";
import { DEFAULT_MODELS } from "../../../core/models/catalog";
import { html } from "./html";

// Only the pieces the cost page draws (tree-shaken): lines, bars, a doughnut.
Chart.register(LineController, LineElement, PointElement, BarController, BarElement, DoughnutController, ArcElement, CategoryScale, LinearScale, Tooltip, Legend, Filler);
Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
Chart.defaults.color = "#374151";
Chart.defaults.animation = false;

export const COLORS = { slm: "#0f766e", llm: "#7c3aed", cost: "#1d4ed8", baseline: "#6b7280", savings: "#15803d" };
export const PALETTE = ["#0f766e", "#7c3aed", "#1d4ed8", "#b45309", "#be123c", "#4d7c0f", "#0369a1", "#6b21a8"];

const SHADES = { slm: ["#0f766e", "#14b8a6", "#115e59", "#5eead4"], llm: ["#7c3aed", "#a78bfa", "#5b21b6", "#c4b5fd"] };

/**
 * The default catalog's models get fixed colours (teal shades for SLMs, violet for LLMs, as in the tier
 * charts), so no two of them ever share one; any other model id hashes into the palette.
 */
const KNOWN: ReadonlyMap<string, string> = (() => {
  const used = { slm: 0, llm: 0 };
  return new Map(DEFAULT_MODELS.map((m) => [m.id, SHADES[m.tier][used[m.tier]++ % SHADES[m.tier].length]!]));
})();

/**
 * A model's colour, keyed by its id alone, so the organization's and the operator's charts colour a
 * model the same whatever else they show or in which order (they used to colour by position).
 */
export function modelColor(model: string): string {
  const known = KNOWN.get(model);
  if (known) return known;
  // FNV-1a: a stable hash of the id.
  let hash = 0x811c9dc5;
  for (let i = 0; i < model.length; i++) hash = Math.imul(hash ^ model.charCodeAt(i), 0x01000193) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

/** Colours for a list of models: each model's own `modelColor`. */
export const modelColors = (models: string[]): string[] => models.map(modelColor);

/**
 * A Chart.js canvas. The canvas is an image with a text alternative (`summary`); the numbers behind it
 * are in a table next to it for screen readers and keyboard users.
 */
export function ChartView({ config, summary, height = 240, id }: { config: ChartConfiguration; summary: string; height?: number; id: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  useEffect(() => {
    chart.current = new Chart(canvas.current!, { ...config, options: { responsive: true, maintainAspectRatio: false, ...config.options } });
    return () => chart.current?.destroy();
  }, []);
  useEffect(() => {
    if (!chart.current) return;
    chart.current.data = config.data;
    chart.current.update("none");
  }, [config.data]);
  return html`<div class="chart" style=${`height:${height}px`}><canvas id=${id} ref=${canvas} role="img" aria-label=${summary}></canvas></div>`;
}
