// valuelens serve over HTTP on loopback: the playground stream (steering moves the planted words), security
// defaults (Host, Origin, token, no paths from requests), the bounded queue under a 20-client load, and abort.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasVocabs, tempDir } from "./helpers/fixtures.js";
import { parseSse, playQuery, serveWorld, startWorldExplorer, type ServeWorld } from "./helpers/serve-world.js";
import type { Explorer } from "../src/serve/server.js";

const tmp = tempDir("valuelens-serve-");
afterAll(() => tmp.cleanup());

/** A raw GET with chosen headers (fetch would set Host and Origin itself). */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: "127.0.0.1", port, path, headers, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on("error", reject);
    r.end();
  });
}

describe.skipIf(!hasVocabs)("serve", () => {
  let world: ServeWorld;
  let ex: Explorer;
  let base: string;

  beforeAll(async () => {
    world = await serveWorld(tmp.dir);
    ex = await startWorldExplorer(world, { maxWaiting: 4 });
    base = `http://127.0.0.1:${ex.port}`;
  }, 60_000);
  afterAll(async () => ex?.close());

  async function play(coef: number, extra: Record<string, string> = {}) {
    const r = await fetch(`${base}/api/generate?${playQuery(coef, extra)}`);
    expect(r.status).toBe(200);
    return parseSse(await r.text());
  }

  test("a generation streams token events for each arm, then scores; steering raises the planted positive words' share", async () => {
    const share = (text: string) => {
      const words = text.split(/\s+/).filter(Boolean);
      const pos = new Set(["good", "kind", "fair", "honest", "help", "care", "love", "safe", "true", "peace", "gift", "trust"]);
      return words.length ? words.filter((w) => pos.has(w.replace(/[^a-z]/g, ""))).length / words.length : 0;
    };
    const shares: number[] = [];
    const shifts: number[] = [];
    for (const coef of [0, 1, 2, 3, 4, 8]) {
      const events = await play(coef, { random: "1" });
      expect(events.at(-1)?.event).toBe("done");
      const tokens = events.filter((e) => e.event === "token");
      expect(tokens.filter((e) => e.data.arm === "steer").length).toBeGreaterThan(1);
      expect(tokens.filter((e) => e.data.arm === "random").length).toBeGreaterThan(1);
      const ends = new Map(events.filter((e) => e.event === "end").map((e) => [e.data.arm as string, e.data.text as string]));
      // Streamed pieces add up to the final text.
      expect(tokens.filter((e) => e.data.arm === "steer").map((e) => e.data.text).join("")).toBe(ends.get("steer"));
      const scores = events.find((e) => e.event === "scores")!.data as { arms: Array<{ arm: string; representation: number | null; logprobShift: number }> };
      const steer = scores.arms.find((a) => a.arm === "steer")!;
      if (coef > 0) expect(steer.logprobShift).toBeGreaterThan(0);
      shifts.push(steer.logprobShift);
      expect(steer.representation).not.toBeNull();
      shares.push(share(ends.get("steer")!));
      if (coef === 0) expect(ends.get("steer")).toBe(ends.get("base"));
    }
    console.log(`planted positive share at coefficients 0, 1, 2, 3, 4, 8: ${shares.map((x) => x.toFixed(2)).join(", ")}`);
    console.log(`log p(pos) − log p(neg) shift at those coefficients: ${shifts.map((x) => x.toFixed(2)).join(", ")}`);
    // Greedy outputs flip in steps; the continuation log-probs move continuously: strictly rising with the coefficient.
    for (let i = 1; i < shifts.length; i++) expect(shifts[i]).toBeGreaterThan(shifts[i - 1]);
    // Monotone within one word of slack; the strongest steering is mostly planted positive words.
    for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThanOrEqual(shares[i - 1] - 0.07);
    expect(shares.at(-1)!).toBeGreaterThanOrEqual(0.5);
    expect(shares.at(-1)!).toBeGreaterThan(shares[0] + 0.3);
  }, 60_000);

  test("bad requests get JSON errors with a code; only fixed routes exist (no paths from requests)", async () => {
    const bad = await fetch(`${base}/api/generate?${playQuery(1, { layers: "9" })}`);
    const events = parseSse(await bad.text());
    expect(events.at(-1)?.event).toBe("failure");
    const missing = await fetch(`${base}/api/generate?concept=morality`);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
    for (const p of ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/vendor/../package.json", "/app.js/../../package.json", "/vendor/vega.min.js%2f..%2f..%2fpackage.json"]) {
      const r = await rawGet(ex.port, p, { Host: `127.0.0.1:${ex.port}` });
      expect(r.status, p).toBe(404);
      expect(r.body).not.toMatch(/root:|"name": "valuelens"/);
    }
    const post = await fetch(`${base}/api/info`, { method: "POST" });
    expect(post.status).toBe(405);
  });

  test("foreign Origin, cross-site fetch and a bad Host are refused; the page's own origin is accepted", async () => {
    const host = `127.0.0.1:${ex.port}`;
    expect((await rawGet(ex.port, "/api/info", { Host: host, Origin: "http://evil.example" })).status).toBe(403);
    expect((await rawGet(ex.port, "/api/info", { Host: host, Origin: "null" })).status).toBe(403);
    expect((await rawGet(ex.port, "/api/info", { Host: host, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors" })).status).toBe(403);
    const rebind = await rawGet(ex.port, "/api/info", { Host: `evil.example:${ex.port}` });
    expect(rebind.status).toBe(421);
    expect(JSON.parse(rebind.body).error.code).toBe("BAD_HOST");
    expect((await rawGet(ex.port, "/api/info", { Host: host, Origin: `http://${host}` })).status).toBe(200);
    expect((await rawGet(ex.port, "/api/info", { Host: `localhost:${ex.port}` })).status).toBe(200);
    const page = await fetch(`${base}/`);
    expect(page.headers.get("access-control-allow-origin")).toBeNull();
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
  });

  test("20 concurrent clients: each is answered in full or told busy (503 JSON), within bounded time and memory", async () => {
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const r = await fetch(`${base}/api/generate?${playQuery(4 + (i % 3))}`);
        if (r.status === 503) return { kind: "busy" as const, code: ((await r.json()) as { error: { code: string } }).error.code };
        const events = parseSse(await r.text());
        return { kind: "answered" as const, last: events.at(-1)?.event, queued: events.some((e) => e.event === "queue" && (e.data.position as number) > 0) };
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const answered = results.filter((r) => r.kind === "answered");
    const busy = results.filter((r) => r.kind === "busy");
    expect(answered.length + busy.length).toBe(20);
    // One running + 4 waiting at most when all arrive together; the rest are refused at once.
    expect(answered.length).toBeGreaterThanOrEqual(5);
    for (const a of answered) expect(a.last).toBe("done");
    for (const b of busy) expect(b.code).toBe("BUSY");
    expect(answered.some((a) => a.queued)).toBe(true);
    expect(seconds).toBeLessThan(30);
    const status = (await (await fetch(`${base}/api/status`)).json()) as { models: Array<{ busy: boolean; waiting: number }>; streams: number };
    expect(status.models[0]).toMatchObject({ busy: false, waiting: 0 });
    expect(status.streams).toBe(0);
    const grew = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
    const rss = process.memoryUsage().rss / 2 ** 20;
    console.log(`load: 20 clients in ${seconds.toFixed(2)} s, ${answered.length} answered, ${busy.length} busy, heap +${grew.toFixed(1)} MiB, rss ${rss.toFixed(0)} MiB`);
    expect(grew).toBeLessThan(64);
  }, 60_000);

  test("closing the request aborts the generation: the engine is free again within 1 s", async () => {
    const slow = await startWorldExplorer(world, { tokenDelayMs: 50, maxTokensLimit: 256 });
    try {
      const ac = new AbortController();
      const r = await fetch(`http://127.0.0.1:${slow.port}/api/generate?${playQuery(4, { max: "200" })}`, { signal: ac.signal });
      const reader = r.body!.getReader();
      let seen = "";
      while (!seen.includes("event: token")) seen += new TextDecoder().decode((await reader.read()).value);
      expect(slow.slots[0].queue.busy).toBe(true);
      const t0 = performance.now();
      ac.abort();
      while (slow.slots[0].queue.busy && performance.now() - t0 < 2000) await new Promise((res) => setTimeout(res, 5));
      const ms = performance.now() - t0;
      console.log(`abort: engine free ${ms.toFixed(0)} ms after the request closed`);
      expect(slow.slots[0].queue.busy).toBe(false);
      expect(ms).toBeLessThan(1000);
      // The session is usable and unsteered afterwards.
      expect(slow.slots[0].session!.steering).toEqual([]);
      const again = parseSse(await (await fetch(`http://127.0.0.1:${slow.port}/api/generate?${playQuery(0, { max: "3" })}`)).text());
      expect(again.at(-1)?.event).toBe("done");
    } finally {
      await slow.close();
    }
  }, 60_000);

  test("bound to every interface: a random token is made and required; any Host name, but only its own Origin", async () => {
    const wide = await startWorldExplorer(world, { host: "0.0.0.0" });
    try {
      expect(wide.token).toMatch(/^[\w-]{20,}$/);
      expect(wide.url).toContain(`token=${wide.token}`);
      const h = { Host: `workstation.lan:${wide.port}` };
      expect((await rawGet(wide.port, "/api/info", h)).status).toBe(401);
      expect((await rawGet(wide.port, `/api/info?token=${wide.token}`, h)).status).toBe(200);
      expect((await rawGet(wide.port, `/api/info?token=${wide.token}`, { ...h, Origin: `http://workstation.lan:${wide.port}` })).status).toBe(200);
      expect((await rawGet(wide.port, `/api/info?token=${wide.token}`, { ...h, Origin: "http://evil.example" })).status).toBe(403);
    } finally {
      await wide.close();
    }
  }, 30_000);

  test("beyond loopback a token is required on every request (query or cookie)", async () => {
    // Bound to loopback but with a token forced: the same check runs as for --host 0.0.0.0.
    const locked = await startWorldExplorer(world, { token: "s3cret-token" });
    try {
      const h = { Host: `127.0.0.1:${locked.port}` };
      expect((await rawGet(locked.port, "/api/info", h)).status).toBe(401);
      expect((await rawGet(locked.port, "/app.js", h)).status).toBe(401);
      expect((await rawGet(locked.port, "/api/info?token=wrong", h)).status).toBe(401);
      expect((await rawGet(locked.port, "/api/info?token=s3cret-token", h)).status).toBe(200);
      expect((await rawGet(locked.port, "/app.js", { ...h, Cookie: "vl_token=s3cret-token" })).status).toBe(200);
      expect(locked.url).toContain("token=s3cret-token");
    } finally {
      await locked.close();
    }
  }, 30_000);
});
