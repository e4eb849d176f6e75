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
import { html } from "./html";

// Only the pieces the cost page draws (tree-shaken): lines, bars, a doughnut.
Chart.register(LineController, LineElement, PointElement, BarController, BarElement, DoughnutController, ArcElement, CategoryScale, LinearScale, Tooltip, Legend, Filler);
Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
Chart.defaults.color = "#374151";
Chart.defaults.animation = false;

export const COLORS = { slm: "#0f766e", llm: "#7c3aed", cost: "#1d4ed8", baseline: "#6b7280", savings: "#15803d" };
export const PALETTE = ["#0f766e", "#7c3aed", "#1d4ed8", "#b45309", "#be123c", "#4d7c0f", "#0369a1", "#6b21a8"];
const SHADES = { slm: ["#0f766e", "#14b8a6", "#115e59", "#5eead4"], llm: ["#7c3aed", "#a78bfa", "#5b21b6", "#c4b5fd"] };

/** Colours per model: teal shades for SLMs, violet for LLMs (as in the tier charts); others from the palette. */
export function modelColors(models: string[], tierOf: (model: string) => "slm" | "llm" | undefined): string[] {
  const used = { slm: 0, llm: 0 };
  return models.map((model, i) => {
    const tier = tierOf(model);
    if (!tier) return PALETTE[(i + 2) % PALETTE.length]!;
    return SHADES[tier][used[tier]++ % SHADES[tier].length]!;
  });
}

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
