// The explorer's engine queue and request checks, without an engine: one job at a time, a bounded wait list with
// positions, busy at once past the bound, aborts while waiting; Host / Origin / Fetch-Metadata / token rules.
import type { IncomingMessage } from "node:http";
import { describe, expect, test } from "vitest";
import { EngineQueue, QueueError } from "../src/serve/queue.js";
import { accessPolicy, checkRequest } from "../src/serve/security.js";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("EngineQueue", () => {
  test("runs one job at a time in order, tells positions, refuses past the bound", async () => {
    const q = new EngineQueue(2);
    const order: string[] = [];
    const gate = deferred();
    const positions: Record<string, number[]> = { b: [], c: [] };
    const a = q.run(async () => {
      order.push("a");
      await gate.promise;
    });
    const b = q.run(async () => void order.push("b"), { onPosition: (p) => positions.b.push(p) });
    const c = q.run(async () => void order.push("c"), { onPosition: (p) => positions.c.push(p) });
    expect(q.busy).toBe(true);
    expect(q.waiting).toBe(2);
    await expect(q.run(async () => order.push("d"))).rejects.toMatchObject({ code: "BUSY" });
    gate.resolve();
    await Promise.all([a, b, c]);
    expect(order).toEqual(["a", "b", "c"]);
    expect(positions.b).toEqual([1, 0]);
    // c moves up when b starts, then starts itself.
    expect(positions.c).toEqual([2, 1, 0]);
    expect(q.busy).toBe(false);
  });

  test("an abort while waiting leaves the queue and moves the others up; a failing job frees the slot", async () => {
    const q = new EngineQueue(3);
    const gate = deferred();
    const a = q.run(() => gate.promise);
    const ac = new AbortController();
    const b = q.run(async () => "b", { signal: ac.signal });
    const cPos: number[] = [];
    const c = q.run(async () => "c", { onPosition: (p) => cPos.push(p) });
    ac.abort();
    await expect(b).rejects.toBeInstanceOf(QueueError);
    await expect(b).rejects.toMatchObject({ code: "ABORTED", name: "AbortError" });
    expect(q.waiting).toBe(1);
    gate.resolve();
    await a;
    expect(await c).toBe("c");
    expect(cPos).toEqual([2, 1, 0]);
    await expect(q.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(q.busy).toBe(false);
    expect(await q.run(async () => 1)).toBe(1);
  });
});

function req(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe("request checks", () => {
  const url = (p: string) => new URL(p, "http://x");
  const loop = accessPolicy("127.0.0.1", 7860);

  test("loopback: own Host names only, own Origin only, cross-site fetches refused except navigations to /", () => {
    expect(checkRequest(req({ host: "127.0.0.1:7860" }), url("/api/info"), loop)).toBeNull();
    expect(checkRequest(req({ host: "localhost:7860", origin: "http://localhost:7860" }), url("/api/info"), loop)).toBeNull();
    expect(checkRequest(req({ host: "attacker.example:7860" }), url("/"), loop)?.code).toBe("BAD_HOST");
    expect(checkRequest(req({ host: "127.0.0.1:7861" }), url("/"), loop)?.code).toBe("BAD_HOST");
    expect(checkRequest(req({}), url("/"), loop)?.code).toBe("BAD_HOST");
    expect(checkRequest(req({ host: "127.0.0.1:7860", origin: "http://localhost:7860" }), url("/"), loop)?.code).toBe("FOREIGN_ORIGIN");
    expect(checkRequest(req({ host: "127.0.0.1:7860", "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors" }), url("/api/generate"), loop)?.code).toBe("CROSS_SITE");
    expect(checkRequest(req({ host: "127.0.0.1:7860", "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }), url("/"), loop)).toBeNull();
    expect(checkRequest(req({ host: "127.0.0.1:7860", "sec-fetch-site": "same-origin" }), url("/api/info"), loop)).toBeNull();
  });

  test("a named host accepts only its name; a wildcard bind needs a token and accepts any well-formed Host", () => {
    const named = accessPolicy("192.168.1.5", 80, "tok");
    expect(checkRequest(req({ host: "192.168.1.5:80" }), url("/?token=tok"), named)).toBeNull();
    expect(checkRequest(req({ host: "192.168.1.5:80" }), url("/"), named)?.code).toBe("TOKEN_REQUIRED");
    expect(checkRequest(req({ host: "192.168.1.5:80", cookie: "a=b; vl_token=tok" }), url("/app.js"), named)).toBeNull();
    expect(checkRequest(req({ host: "10.0.0.1:80" }), url("/?token=tok"), named)?.code).toBe("BAD_HOST");
    expect(() => accessPolicy("0.0.0.0", 80)).toThrow(/token/);
    const wide = accessPolicy("0.0.0.0", 80, "tok");
    expect(checkRequest(req({ host: "box.lan:80" }), url("/?token=tok"), wide)).toBeNull();
    expect(checkRequest(req({ host: "box.lan:80", origin: "http://evil.example" }), url("/?token=tok"), wide)?.code).toBe("FOREIGN_ORIGIN");
    expect(checkRequest(req({ host: "bad host\r\n" }), url("/?token=tok"), wide)?.code).toBe("BAD_HOST");
  });
});
