// Input of the report: one or more models' analysis results plus an optional control-experiment summary.
import type { AnalysisResults } from "../pipeline/analyze.js";

/**
 * One point of a control curve: `metric` measured on `target`-language prompts while steering with the
 * `source` language's concept vector at `coefficient`. Values read back from JSON may be null (NaN).
 */
export interface ControlCurvePoint {
  /** Model name (a key of ReportInput.models); optional when only one model was steered. */
  model?: string;
  concept?: string;
  source: string;
  target: string;
  coefficient: number;
  metric: string;
  value: number | null;
  /** Confidence interval bounds (omit or null when there are none). */
  lo?: number | null;
  hi?: number | null;
}

/** The control figures' input (named apart from steer's ControlSummary, a different shape): every metric present gets its own figure. */
export interface ControlCurves {
  curves: ControlCurvePoint[];
  /** The metric that measures the steered behaviour (default: "rate" if present, else the first metric); the rest are side effects. */
  primaryMetric?: string;
  /** Human-readable label and description per metric. */
  metrics?: Record<string, { label?: string; description?: string }>;
  notes?: string[];
}

export interface ReportInput {
  title?: string;
  /** model name → its analysis results, in display order. */
  models: Record<string, AnalysisResults>;
  control?: ControlCurves;
  /** Free-form remarks shown under the title (e.g. the planted ground truth of a demo). */
  notes?: string[];
}

export interface BuildReportOptions {
  /** Path of the HTML file to write. */
  out: string;
  /** Where each figure is written as SVG and PNG (default: `figures/` next to the HTML file). */
  figuresDir?: string;
  /** Also write PNGs (default true). */
  png?: boolean;
  /** PNG resolution multiplier (default 2). */
  pngScale?: number;
}

export interface FigureOutput {
  id: string;
  title: string;
  section: string;
  svg: string;
  png?: string;
  width: number;
  height: number;
}

export interface ReportOutput {
  html: string;
  figuresDir: string;
  figures: FigureOutput[];
  bytes: number;
  seconds: number;
  /** Warnings from Vega/Vega-Lite while compiling and rendering (empty when all is well). */
  warnings: string[];
}
