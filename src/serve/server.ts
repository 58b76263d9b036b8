// The web explorer's HTTP server (Node's http): fixed routes only (no paths from requests reach the file system),
// every request checked (Host, Origin, token), generations streamed as server-sent events over a fetch() body so
// that a closed tab, a stop or an edit closes the request and aborts the engine through its AbortSignal.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SessionOptions } from "../engine/session.js";
import type { ReportInput } from "../report/index.js";
import { accessPolicy, checkRequest, isLoopback, type AccessPolicy } from "./security.js";
import { ServeError } from "./errors.js";
import { QueueError } from "./queue.js";
import { parsePlayground } from "./params.js";
import { runPlayground, type PlaygroundEvent } from "./playground.js";
import { browserFigures, facets, type RunsFilter } from "./runs.js";
import { loadSlots, modelSlots, normsOf, vectorSourceFor, type ModelSlot, type VectorSource } from "./sources.js";
import { quantComparison, quantFigures, type QuantResult } from "./quant.js";
import { APP_CSS, APP_JS, indexHtml } from "./page.js";

export interface ExplorerOptions {
  models: readonly string[];
  vectors: readonly VectorSource[];
  runs?: ReportInput;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** Requests that may wait per model behind the running one (default 4); more are answered 503 BUSY. */
  maxWaiting?: number;
  maxTokensLimit?: number;
  session?: SessionOptions;
  /** Force an access token even on loopback (it is always required beyond loopback). */
  token?: string;
  /** Slow motion between streamed tokens (tests, demos). */
  tokenDelayMs?: number;
  /** Pairs per concept and language captured for the quantization view. */
  quantPairs?: number;
}

export interface Explorer {
  server: Server;
  /** The URL to open (with the token when one is required). */
  url: string;
  port: number;
  token?: string;
  slots: readonly ModelSlot[];
  /** Resolves when every model has loaded (or failed). */
  ready: Promise<void>;
  close(): Promise<void>;
}

// Vega compiles its chart expressions with Function(), hence 'unsafe-eval'; nothing else may load from anywhere.
const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Content-Security-Policy": "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...SECURITY_HEADERS, ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(value), extra);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

let vegaJs: Promise<Buffer> | undefined;
function vegaBundle(): Promise<Buffer> {
  // The browser build of the Vega runtime from the package the report already depends on (served, never a CDN).
  vegaJs ??= readFile(join(dirname(fileURLToPath(import.meta.resolve("vega"))), "vega.min.js"));
  return vegaJs;
}

function listParam(q: URLSearchParams, name: string): string[] | undefined {
  const v = q.getAll(name).flatMap((x) => x.split(",")).filter(Boolean);
  return v.length ? v : undefined;
}

export async function startExplorer(opts: ExplorerOptions): Promise<Explorer> {
  const host = opts.host ?? "127.0.0.1";
  const token = opts.token ?? (isLoopback(host) ? undefined : (await import("./security.js")).newToken());
  const slots = modelSlots(opts.models, opts.maxWaiting ?? 4);
  const maxTokensLimit = opts.maxTokensLimit ?? 256;
  let policy: AccessPolicy = accessPolicy(host, opts.port ?? 0, token);
  let quant: Promise<QuantResult> | undefined;
  const open = new Set<ServerResponse>();

  const slotOf = (q: URLSearchParams): ModelSlot => {
    const name = q.get("model") ?? slots[0]?.name;
    const s = slots.find((x) => x.name === name);
    if (!s) throw new ServeError("NOT_FOUND", `no model '${name}' (serving: ${slots.map((x) => x.name).join(", ")})`);
    if (s.state !== "ready") throw new ServeError("MODEL_NOT_READY", s.state === "loading" ? `model ${s.name} is still loading` : `model ${s.name} failed to load: ${s.error}`);
    return s;
  };

  const info = () => ({
    models: slots.map((s) => ({
      name: s.name,
      state: s.state,
      ...(s.error ? { error: s.error } : {}),
      ...(s.model ? { arch: s.model.arch, nLayer: s.model.nLayer, nEmbd: s.model.nEmbd, vectors: vectorSourceFor(opts.vectors, s)?.name ?? null } : {}),
    })),
    vectors: opts.vectors.map((v) => {
      const rows = v.vectors.rows;
      return {
        name: v.name,
        nEmbd: v.vectors.nEmbd,
        concepts: [...new Set(rows.map((r) => r.concept))],
        langs: [...new Set(rows.map((r) => r.lang))],
        layers: [...new Set(rows.map((r) => r.layer))],
        residual: v.activations !== undefined,
      };
    }),
    runs: opts.runs ? facets(opts.runs) : null,
    quant: slots.length >= 2,
    maxWaiting: opts.maxWaiting ?? 4,
    maxTokensLimit,
  });

  const status = () => ({ models: slots.map((s) => ({ name: s.name, state: s.state, busy: s.queue.busy, waiting: s.queue.waiting })), streams: open.size });

  async function generate(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> {
    const slot = slotOf(q);
    const body = parsePlayground(q, maxTokensLimit);
    const src = vectorSourceFor(opts.vectors, slot, q.get("vectors") ?? undefined);
    if (!src) throw new ServeError("NO_VECTORS", `no vector file fits model ${slot.name} (give --vectors FILE or a run folder)`);
    if (slot.queue.full) throw new ServeError("BUSY", `model ${slot.name} is busy: ${slot.queue.waiting} request(s) waiting; try again shortly`);
    const ac = new AbortController();
    // The request's socket closing (tab closed, fetch aborted) is what cancels the engine work.
    res.on("close", () => {
      if (!res.writableFinished) ac.abort();
    });
    res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", "X-Accel-Buffering": "no", ...SECURITY_HEADERS });
    open.add(res);
    res.on("close", () => open.delete(res));
    const emit = (event: string, data: unknown): void => {
      if (!res.writableEnded && !res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    try {
      const norms = body.scale === "residual" ? await normsOf(src) : undefined;
      if (body.scale === "residual" && !norms) throw new ServeError("BAD_REQUEST", `scale residual needs activations.arrow next to ${src.name}'s vectors`);
      await slot.queue.run(
        () => runPlayground(body, { session: slot.session!, vectors: src.vectors, ...(norms ? { residualNorms: norms } : {}), signal: ac.signal, emit: (e: PlaygroundEvent) => emit(e.type, e), ...(opts.tokenDelayMs ? { tokenDelayMs: opts.tokenDelayMs } : {}) }),
        { signal: ac.signal, onPosition: (position) => emit("queue", { position }) },
      );
      emit("done", {});
    } catch (e) {
      if (!ac.signal.aborted) {
        const code = e instanceof ServeError || e instanceof QueueError ? e.code : "GENERATION_FAILED";
        emit("failure", { code, message: e instanceof Error ? e.message : String(e) });
      }
    } finally {
      res.end();
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const q = url.searchParams;
    switch (url.pathname) {
      case "/": {
        // A valid token in the URL becomes a same-site cookie, so the page's own scripts and requests carry it.
        const cookie: Record<string, string> = token ? { "Set-Cookie": `vl_token=${token}; HttpOnly; SameSite=Strict; Path=/` } : {};
        return send(res, 200, "text/html; charset=utf-8", indexHtml(), cookie);
      }
      case "/app.js":
        return send(res, 200, "text/javascript; charset=utf-8", APP_JS);
      case "/app.css":
        return send(res, 200, "text/css; charset=utf-8", APP_CSS);
      case "/vendor/vega.min.js":
        return send(res, 200, "text/javascript; charset=utf-8", await vegaBundle());
      case "/api/info":
        return sendJson(res, 200, info());
      case "/api/status":
        return sendJson(res, 200, status());
      case "/api/generate":
        return generate(req, res, q);
      case "/api/runs/figures": {
        if (!opts.runs) throw new ServeError("NOT_FOUND", "no run folders were given (valuelens serve --vectors RUN_DIR)");
        const f: RunsFilter = {};
        const m = listParam(q, "models");
        const c = listParam(q, "concepts");
        const l = listParam(q, "langs");
        if (m) f.models = m;
        if (c) f.concepts = c;
        if (l) f.langs = l;
        if (q.get("layer")) f.maxLayer = Number(q.get("layer"));
        return sendJson(res, 200, { figures: browserFigures(opts.runs, f) });
      }
      case "/api/quant": {
        if (slots.length < 2) throw new ServeError("NOT_FOUND", "the quantization view needs two or more --model files");
        await Promise.all(slots.map((s) => (s.state === "loading" ? ready : undefined)));
        quant ??= quantComparison(slots, { pairsPerCell: opts.quantPairs ?? 16 }).catch((e: unknown) => {
          quant = undefined; // a busy or failed attempt is retried on the next request
          throw e;
        });
        const result = await quant;
        return sendJson(res, 200, { ...result, figures: quantFigures(result) });
      }
      default:
        throw new ServeError("NOT_FOUND", `no such page: ${url.pathname}`);
    }
  }

  const server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://placeholder");
    } catch {
      return sendError(res, 400, "BAD_REQUEST", "bad request URL");
    }
    const refusal = checkRequest(req, url, policy);
    if (refusal) return sendError(res, refusal.status, refusal.code, refusal.message);
    // GET only: a HEAD on /api/generate would start engine work nobody reads.
    if (req.method !== "GET") return sendError(res, 405, "METHOD_NOT_ALLOWED", "only GET is served");
    route(req, res, url).catch((e: unknown) => {
      const se = e instanceof ServeError ? e : e instanceof QueueError ? new ServeError("BUSY", e.message) : new ServeError("INTERNAL", e instanceof Error ? e.message : String(e));
      if (res.headersSent) res.end();
      else sendError(res, se.status, se.code, se.message);
    });
  });
  server.requestTimeout = 0; // streams may run long; the engine queue, not a timer, bounds the work
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  policy = accessPolicy(host, port, token);
  const shown = isLoopback(host) ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const ready = loadSlots(slots, opts.session ?? { contextSize: 2048, batchSize: 512, maxSequences: 8 }).then(() => {
    // Measured ahead of the first "× residual norm" request, which would otherwise wait for it.
    for (const v of opts.vectors) void normsOf(v).catch(() => undefined);
  });
  return {
    server,
    url: `http://${shown}:${port}/${token ? `?token=${token}` : ""}`,
    port,
    ...(token ? { token } : {}),
    slots,
    ready,
    async close() {
      for (const r of open) r.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await ready;
      for (const s of slots) s.model?.dispose();
    },
  };
}
