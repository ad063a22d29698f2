// The report's charts as PNG files: the same Chart.js configurations as index.html, drawn on
// @napi-rs/canvas (a Skia canvas shipped as prebuilt binaries inside npm packages, so no native
// toolchain is needed).
import { createCanvas, type Canvas } from "@napi-rs/canvas";
import { Chart, registerables, type ChartConfiguration, type Plugin } from "chart.js";
import type { ChartSpec } from "./charts.js";
import { faultWindowsPlugin } from "./fault-windows-plugin.js";

export const PNG_WIDTH_PX = 1200;

let registered = false;

function register(): void {
  if (registered) return;
  Chart.register(...registerables, faultWindowsPlugin());
  registered = true;
}

/** Paints the canvas white first: a PNG is transparent by default and unreadable on dark viewers. */
const whiteBackground: Plugin = {
  id: "whiteBackground",
  beforeDraw: (chart) => {
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

function withTitle(spec: ChartSpec): ChartConfiguration {
  const options = (spec.config.options ?? {}) as Record<string, unknown>;
  const plugins = (options.plugins ?? {}) as Record<string, unknown>;
  return {
    ...spec.config,
    options: { ...options, plugins: { ...plugins, title: { display: true, text: spec.title } } },
    plugins: [whiteBackground],
  } as ChartConfiguration;
}

/**
 * Draws one chart on a new canvas of the spec's height (plus room for the title) and hands the
 * canvas to `use` before the chart is destroyed (destroying a chart clears its canvas).
 */
function withChart<T>(spec: ChartSpec, use: (canvas: Canvas) => T): T {
  register();
  const canvas = createCanvas(PNG_WIDTH_PX, spec.heightPx + 30);
  const chart = new Chart(
    canvas as unknown as ConstructorParameters<typeof Chart>[0],
    withTitle(structuredClone(spec) as ChartSpec),
  );
  try {
    return use(canvas);
  } finally {
    chart.destroy();
  }
}

/** One PNG holding `specs` stacked top to bottom. */
export function renderPng(specs: readonly ChartSpec[]): Buffer {
  const height = specs.reduce((sum, s) => sum + s.heightPx + 30, 0);
  const out = createCanvas(PNG_WIDTH_PX, height);
  const ctx = out.getContext("2d");
  let y = 0;
  for (const spec of specs) {
    withChart(spec, (canvas) => ctx.drawImage(canvas, 0, y));
    y += spec.heightPx + 30;
  }
  return out.toBuffer("image/png");
}
