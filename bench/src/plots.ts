/**
 * Recall@10 vs queries/s plots in the style of ann-benchmarks (x = recall, y = queries/s on a log
 * scale, one line per engine through its sweep points), specified in Vega-Lite, rendered headless to
 * SVG by Vega (`view.toSVG()`) and rasterised to PNG by resvg with the system fonts.
 */
import fs from "node:fs";
import path from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import { ENGINE_NAMES } from "./engines/registry.js";
import type { AnnResultsFile } from "./run-types.js";

/** One plotted point. */
interface PlotRow {
  engine: string;
  recall: number;
  qps: number;
  setting: string;
  /** On the engine's Pareto frontier (no other point of it has both higher recall and higher QPS). */
  pareto: boolean;
}

/**
 * Rows of the recall/QPS plot for one results file (engines that ran, single-thread QPS). As in
 * ann-benchmarks, each engine's line joins its Pareto-optimal points; the others are drawn faintly.
 */
export function plotRows(results: AnnResultsFile): PlotRow[] {
  const rows: PlotRow[] = [];
  for (const e of results.engines) {
    if (e.status !== "ok") continue;
    const pts = e.points.filter((p) => Number.isFinite(p.recall) && p.qps1 > 0);
    for (const p of pts) {
      const dominated = pts.some((o) => o !== p && o.recall >= p.recall && o.qps1 >= p.qps1 && (o.recall > p.recall || o.qps1 > p.qps1));
      rows.push({ engine: e.engine, recall: p.recall, qps: p.qps1, setting: p.label, pareto: !dominated });
    }
  }
  return rows;
}

/** The Vega-Lite specification of the plot for one dataset. */
export function plotSpec(results: AnnResultsFile): vegaLite.TopLevelSpec {
  const rows = plotRows(results);
  const minRecall = rows.reduce((m, r) => Math.min(m, r.recall), 1);
  const lo = Math.max(0, Math.floor(Math.min(minRecall, 0.9) * 20) / 20);
  const d = results.dataset;
  const m = results.machine;
  const engines = ENGINE_NAMES.filter((name) => rows.some((r) => r.engine === name));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `${d.name}: recall@${results.knobs.k} vs queries/s (one thread)`,
      subtitle: `${d.count.toLocaleString("en-US")} × ${d.dim}, ${d.metric}${d.kind === "synthetic" ? ", SYNTHETIC data" : ""} — ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, ${m.date.slice(0, 10)}`,
    },
    width: 640,
    height: 400,
    background: "white",
    config: { font: "DejaVu Sans", view: { stroke: "#ddd" }, legend: { symbolOpacity: 1 } },
    data: { values: rows },
    encoding: {
      x: { field: "recall", type: "quantitative", title: `recall@${results.knobs.k}`, scale: { domain: [lo, 1], zero: false } },
      y: { field: "qps", type: "quantitative", title: "queries/s, one thread (log scale)", scale: { type: "log" } },
      color: { field: "engine", type: "nominal", title: "engine", scale: { domain: engines, scheme: "tableau10" } },
      shape: { field: "engine", type: "nominal", title: "engine", scale: { domain: engines } },
      order: { field: "recall", type: "quantitative" },
      tooltip: [{ field: "engine" }, { field: "setting" }, { field: "recall", format: ".4f" }, { field: "qps", format: ",.1f" }],
    },
    layer: [
      { mark: { type: "point", size: 30, filled: true, opacity: 0.35 } },
      { transform: [{ filter: "datum.pareto" }], mark: { type: "line", point: { size: 50, filled: true }, strokeWidth: 2 } },
      // OmenDB drawn again on top, larger, so exact engines stacked at recall 1 do not hide it.
      { transform: [{ filter: "datum.engine === 'omendb' && datum.pareto" }], mark: { type: "point", size: 160, filled: true, stroke: "black", strokeWidth: 1 } },
    ],
  } as vegaLite.TopLevelSpec;
}

/** Renders the plot of one results file to `<dir>/<dataset>.svg` and `.png`; returns both paths. */
export async function renderPlot(results: AnnResultsFile, dir: string): Promise<{ svg: string; png: string }> {
  fs.mkdirSync(dir, { recursive: true });
  const compiled = vegaLite.compile(plotSpec(results)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svgText = await view.toSVG();
  view.finalize();
  const base = path.join(dir, results.dataset.name);
  fs.writeFileSync(`${base}.svg`, svgText);
  const png = new Resvg(svgText, {
    fitTo: { mode: "zoom", value: 2 },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  })
    .render()
    .asPng();
  fs.writeFileSync(`${base}.png`, png);
  return { svg: `${base}.svg`, png: `${base}.png` };
}
