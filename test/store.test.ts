// Activation store: round trips, filters, matrix alignment, crash safety and resume, vector store, hashing.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { roundToF16 } from "../src/util/f16.js";
import { RowKeyIndex } from "../src/store/activations.js";
import { scanStream } from "../src/store/ipc.js";
import {
  ProvenanceMismatchError,
  clearSha256Cache,
  inspectActivations,
  loadActivationMatrix,
  openActivationWriter,
  readActivationBatches,
  readActivations,
  readProvenance,
  readVectors,
  sha256File,
  writeVectors,
  type ActivationBlock,
  type ActivationFilter,
  type ActivationRow,
  type VectorRow,
} from "../src/store/index.js";
import { LAYERS, makeProvenance, syntheticColumns, syntheticRow } from "./fixtures/store-rows.mjs";
import { spawnStoreChild } from "./helpers/store-child.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "valuelens-store-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
const fresh = (name = "acts") => join(dir, `${name}-${++fileNo}.arrow`);

type Row = ActivationRow & { layer: string; vector: Float32Array };

async function readAll(path: string, filter?: ActivationFilter): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const b of readActivations(path, filter)) rows.push(...blockRows(b));
  return rows;
}

function blockRows(b: ActivationBlock): Row[] {
  return Array.from({ length: b.nRows }, (_, i) => ({
    itemId: b.itemId[i],
    concept: b.concept[i],
    lang: b.lang[i],
    side: b.side[i],
    split: b.split[i],
    template: b.template[i],
    layer: b.layer[i],
    tokenCount: b.tokenCount[i],
    vector: b.vectors.slice(i * b.nEmbd, (i + 1) * b.nEmbd),
  }));
}

const rowsOf = (first: number, n: number, d: number): Row[] => Array.from({ length: n }, (_, i) => syntheticRow(first + i, d));

/** An uninterrupted run of rows 0..n-1. */
async function writeReference(path: string, n: number, d: number, batchRows: number): Promise<void> {
  const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", batchRows });
  await w.append(rowsOf(0, n, d));
  await w.close();
}

describe("round trip", () => {
  test("float32 rows and columns come back exactly, in order, across batches", async () => {
    const d = 48;
    const path = fresh();
    const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", batchRows: 7 });
    expect(existsSync(`${path}.partial`)).toBe(true);
    await w.append(rowsOf(0, 20, d));
    await w.append(syntheticColumns(20, 25, d, new Float32Array(25 * d)));
    // Broadcast scalars in the columnar form.
    const vecs = new Float32Array(3 * d).map((_, k) => k / 7);
    await w.append({ itemId: ["x1", "x2", "x3"], concept: "truthfulness", lang: "ja", side: "neg", split: "test", template: "chat", layer: 9, tokenCount: 4, vectors: vecs });
    expect(w.rowCount).toBe(48);
    expect(existsSync(path)).toBe(false); // nothing under the final name before close
    await w.close();
    expect(existsSync(path)).toBe(true);
    expect(existsSync(`${path}.partial`)).toBe(false);

    const got = await readAll(path);
    const want = rowsOf(0, 45, d);
    for (let i = 0; i < 3; i++) {
      want.push({ itemId: `x${i + 1}`, concept: "truthfulness", lang: "ja", side: "neg", split: "test", template: "chat", layer: "9", tokenCount: 4, vector: vecs.slice(i * d, (i + 1) * d) });
    }
    expect(got).toEqual(want);

    const info = await inspectActivations(path);
    expect(info).toMatchObject({ nEmbd: d, vectorType: "float32", rows: 48, batches: 7, complete: true, tornBytes: 0 });
    const prov = await readProvenance(path);
    expect(prov).toEqual({ ...makeProvenance(d), kind: "activations" });

    let batches = 0;
    for await (const b of readActivationBatches(path)) batches += b.numRows > 0 ? 1 : 0;
    expect(batches).toBe(7);
  });

  test("float16 vectors decode to the f16-rounded values", async () => {
    const d = 32;
    const path = fresh();
    const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float16", batchRows: 5 });
    const rows = rowsOf(0, 12, d);
    rows[0].vector[0] = 1e-6; // subnormal in f16
    rows[0].vector[1] = 70000; // overflows f16
    await w.append(rows);
    await w.close();
    const got = await readAll(path);
    expect(got.length).toBe(12);
    for (let i = 0; i < rows.length; i++) {
      expect(got[i].itemId).toBe(rows[i].itemId);
      for (let k = 0; k < d; k++) {
        const v = rows[i].vector[k];
        expect(got[i].vector[k]).toBe(roundToF16(v));
        if (Math.abs(v) < 65504) expect(Math.abs(got[i].vector[k] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25);
      }
    }
    expect((await inspectActivations(path)).vectorType).toBe("float16");
  });

  test("filters select exactly the matching rows", async () => {
    const d = 8;
    const path = fresh();
    await writeReference(path, 120, d, 16);
    const all = rowsOf(0, 120, d);
    const filters: ActivationFilter[] = [
      { layers: ["final_norm"] },
      { layers: [1, "2"], langs: ["fr"] },
      { concepts: ["fairness"], sides: ["neg"] },
      { splits: ["val", "test"], langs: ["en"] },
      { itemIds: ["item-3", "item-11"], layers: ["2"] },
      { templates: ["chat"] },
      { langs: ["de"] },
    ];
    for (const f of filters) {
      const want = all.filter(
        (r) =>
          (f.layers === undefined || f.layers.map(String).includes(r.layer)) &&
          (f.langs === undefined || f.langs.includes(r.lang)) &&
          (f.concepts === undefined || f.concepts.includes(r.concept)) &&
          (f.splits === undefined || f.splits.includes(r.split)) &&
          (f.sides === undefined || f.sides.includes(r.side)) &&
          (f.templates === undefined || f.templates.includes(r.template)) &&
          (f.itemIds === undefined || [...f.itemIds].includes(r.itemId)),
      );
      expect(await readAll(path, f)).toEqual(want);
    }
  });

  test("loadActivationMatrix aligns pos/neg by item and drops one-sided pairs", async () => {
    const d = 16;
    const path = fresh();
    const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", batchRows: 3 });
    const row = (itemId: string, side: "pos" | "neg", layer: string, seed: number, extra: Partial<Row> = {}): Row => ({
      itemId,
      concept: "morality",
      lang: "en",
      side,
      split: "train",
      template: "plain",
      layer,
      tokenCount: 3,
      vector: new Float32Array(d).map((_, k) => seed * 100 + k),
      ...extra,
    });
    // neg before pos for some, interleaved layers, a pair missing its neg, another missing its pos, other splits.
    await w.append([
      row("a", "neg", "1", 1),
      row("b", "pos", "1", 2),
      row("a", "pos", "1", 3),
      row("a", "pos", "2", 99),
      row("c", "pos", "1", 4),
      row("d", "neg", "1", 5),
      row("b", "neg", "1", 6),
      row("e", "pos", "1", 7, { split: "test" }),
      row("e", "neg", "1", 8, { split: "test" }),
      row("a", "pos", "1", 9, { lang: "fr" }),
    ]);
    await w.close();
    const m = await loadActivationMatrix(path, { concept: "morality", lang: "en", layer: 1, split: "train" });
    expect(m.itemIds).toEqual(["a", "b"]);
    expect(m.dropped).toBe(2);
    expect(m.droppedIds).toEqual(["c", "d"]);
    expect(m.nEmbd).toBe(d);
    expect(Array.from(m.pos.subarray(0, 2))).toEqual([300, 301]);
    expect(Array.from(m.neg.subarray(0, 2))).toEqual([100, 101]);
    expect(Array.from(m.pos.subarray(d, d + 2))).toEqual([200, 201]);
    expect(Array.from(m.neg.subarray(d, d + 2))).toEqual([600, 601]);
    const all = await loadActivationMatrix(path, { concept: "morality", lang: "en", layer: "1" });
    expect(all.itemIds).toEqual(["a", "b", "e"]);
    const none = await loadActivationMatrix(path, { concept: "morality", lang: "sw", layer: "1" });
    expect(none).toMatchObject({ itemIds: [], dropped: 0, nEmbd: d });
  });

  test("several templates need an explicit template for the matrix", async () => {
    const d = 4;
    const path = fresh();
    const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32" });
    const base = { itemId: "a", concept: "morality", lang: "en", split: "train" as const, layer: "1", tokenCount: 1 };
    await w.append([
      { ...base, side: "pos", template: "plain", vector: [1, 0, 0, 0] },
      { ...base, side: "neg", template: "plain", vector: [0, 1, 0, 0] },
      { ...base, side: "pos", template: "chat", vector: [2, 0, 0, 0] },
      { ...base, side: "neg", template: "chat", vector: [0, 2, 0, 0] },
    ]);
    await w.close();
    await expect(loadActivationMatrix(path, { concept: "morality", lang: "en", layer: 1 })).rejects.toThrow(/template/);
    const m = await loadActivationMatrix(path, { concept: "morality", lang: "en", layer: 1, template: "chat" });
    expect(Array.from(m.pos)).toEqual([2, 0, 0, 0]);
  });

  test("append validates rows", async () => {
    const d = 4;
    const w = await openActivationWriter(fresh(), { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32" });
    const r = syntheticRow(0, d);
    await w.append([r]);
    expect(w.has(r)).toBe(true);
    expect(w.has({ ...r, layer: "final_norm" })).toBe(false);
    expect(w.hasAll(r, ["1"])).toBe(true);
    expect(w.hasAll(r, ["1", "2"])).toBe(false);
    await expect(w.append([r])).rejects.toThrow(/duplicate/);
    await expect(w.append([{ ...syntheticRow(1, d), template: "nope" }])).rejects.toThrow(/template "nope"/);
    await expect(w.append([{ ...syntheticRow(2, d), vector: new Float32Array(3) }])).rejects.toThrow(/nEmbd/);
    await expect(w.append({ ...syntheticColumns(3, 2, d, new Float32Array(2 * d)), itemId: ["only-one"] })).rejects.toThrow(/itemId/);
    // A rejected call takes none of its rows, even the valid ones before the bad one.
    await expect(w.append([syntheticRow(5, d), syntheticRow(6, d), syntheticRow(5, d)])).rejects.toThrow(/duplicate/);
    await expect(w.append([syntheticRow(7, d), { ...syntheticRow(8, d), side: "both" as "pos" }])).rejects.toThrow(/side/);
    expect(w.has(syntheticRow(5, d)) || w.has(syntheticRow(6, d)) || w.has(syntheticRow(7, d))).toBe(false);
    expect(w.rowCount).toBe(1);
    await expect(openActivationWriter(fresh(), { provenance: makeProvenance(8), nEmbd: d, vectorType: "float32" })).rejects.toThrow(/nEmbd/);
    await w.abort();
  });
});

test("the key index handles more than 31 layers and keeps texts apart", () => {
  const idx = new RowKeyIndex();
  const t = { itemId: "a", concept: "morality", lang: "en", side: "pos" as const, template: "plain" };
  const layers = Array.from({ length: 70 }, (_, i) => String(i));
  for (const l of layers.filter((_, i) => i % 3 !== 1)) expect(idx.add(t, l)).toBe(true);
  expect(idx.add(t, "0")).toBe(false);
  expect(idx.add(t, "69")).toBe(false);
  for (const [i, l] of layers.entries()) expect(idx.has(t, l)).toBe(i % 3 !== 1);
  expect(idx.has({ ...t, side: "neg" }, "0")).toBe(false);
  expect(idx.has({ ...t, itemId: "b" }, "0")).toBe(false);
  expect(idx.has(t, "final_norm")).toBe(false);
  expect(idx.size).toBe(layers.filter((_, i) => i % 3 !== 1).length);
});

describe("crash safety and resume", () => {
  const d = 24;
  const B = 10;

  test("a reader sees only the complete batches of a torn .partial; resume completes it", async () => {
    const ref = fresh("ref");
    await writeReference(ref, 95, d, B);
    const want = await readAll(ref);

    const path = fresh();
    const partial = `${path}.partial`;
    const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", batchRows: B });
    await w.append(rowsOf(0, 3 * B, d)); // 3 full batches
    const endOf3 = statSync(partial).size;
    await w.append(rowsOf(3 * B, B, d)); // the 4th, to be torn
    const endOf4 = statSync(partial).size;
    await w.abort(); // stands in for the kill: the handle is gone, nothing is finalised
    expect(existsSync(path)).toBe(false);
    const intact = readFileSync(partial);

    // Cut inside the continuation marker, the metadata, the dictionary messages and the vector body.
    const cuts = [1, 4, 9, 60, 300, Math.floor((endOf4 - endOf3) / 2), endOf4 - endOf3 - 1].map((c) => endOf3 + c);
    for (const cut of cuts) {
      writeFileSync(partial, intact.subarray(0, cut));
      const got = await readAll(partial);
      expect(got).toEqual(want.slice(0, 3 * B));
      const info = await inspectActivations(partial);
      expect(info).toMatchObject({ rows: 3 * B, batches: 3, complete: false, tornBytes: cut - endOf3 });
    }

    // Resume from the last torn state: keys of complete batches only, then finish the run.
    const r = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", batchRows: B, resume: true });
    expect(r.resumedRows).toBe(3 * B);
    expect(statSync(partial).size).toBe(endOf3); // torn tail dropped
    const todo = rowsOf(0, 95, d).filter((x) => !r.has(x));
    expect(todo.length).toBe(95 - 3 * B);
    expect(todo[0]).toEqual(syntheticRow(3 * B, d));
    await r.append(todo);
    await r.close();
    expect(existsSync(partial)).toBe(false);
    expect(await readAll(path)).toEqual(want);
    expect(await inspectActivations(path)).toMatchObject({ rows: 95, complete: true, tornBytes: 0 });
  });

  test("a .partial killed before its schema was written starts over on resume", async () => {
    const path = fresh();
    writeFileSync(`${path}.partial`, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x40));
    await expect(readAll(`${path}.partial`)).rejects.toThrow(/schema/);
    const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", resume: true });
    expect(w.resumedRows).toBe(0);
    await w.append(rowsOf(0, 5, d));
    await w.close();
    expect((await readAll(path)).length).toBe(5);
  });

  test("resume continues a finished file, which stays valid until close", async () => {
    const path = fresh();
    await writeReference(path, 30, d, B);
    const before = readFileSync(path);
    const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", batchRows: B, resume: true });
    expect(w.resumedRows).toBe(30);
    await w.append(rowsOf(30, 25, d));
    expect(readFileSync(path).equals(before)).toBe(true);
    await w.close();
    const ref = fresh("ref");
    await writeReference(ref, 55, d, B);
    expect(await readAll(path)).toEqual(await readAll(ref));
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  test("resume: false discards a stale .partial", async () => {
    const path = fresh();
    const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", batchRows: B });
    await w.append(rowsOf(0, 20, d));
    await w.abort();
    const w2 = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", batchRows: B });
    expect(w2.has(syntheticRow(0, d))).toBe(false);
    await w2.append(rowsOf(100, 3, d));
    await w2.close();
    expect((await readAll(path)).map((r) => r.itemId)).toEqual(rowsOf(100, 3, d).map((r) => r.itemId));
  });

  test("resume refuses a different provenance and leaves the file untouched", async () => {
    const path = fresh();
    const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", batchRows: B });
    await w.append(rowsOf(0, 20, d));
    await w.abort();
    const partial = readFileSync(`${path}.partial`);
    const base = makeProvenance(d);
    const bad = [
      { provenance: { ...base, model: { ...base.model, sha256: "cd".repeat(32) } }, re: /model\.sha256/ },
      { provenance: { ...base, position: "mean" as const }, re: /position/ },
      { provenance: { ...base, templates: { plain: "{text}!" } }, re: /templates/ },
    ];
    for (const b of bad) {
      const p = openActivationWriter(path, { provenance: b.provenance, nEmbd: d, vectorType: "float32", resume: true });
      await expect(p).rejects.toBeInstanceOf(ProvenanceMismatchError);
      await expect(openActivationWriter(path, { provenance: b.provenance, nEmbd: d, vectorType: "float32", resume: true })).rejects.toThrow(b.re);
    }
    await expect(openActivationWriter(path, { provenance: base, nEmbd: d, vectorType: "float16", resume: true })).rejects.toThrow(/vectorType/);
    await expect(
      openActivationWriter(path, { provenance: { ...base, model: { ...base.model, nEmbd: 32 } }, nEmbd: 32, vectorType: "float32", resume: true }),
    ).rejects.toThrow(/nEmbd/);
    expect(readFileSync(`${path}.partial`).equals(partial)).toBe(true);
    // Version, time and extra may differ.
    const ok = await openActivationWriter(path, {
      provenance: { ...base, valuelensVersion: "9.9.9", createdAt: "2030-01-01T00:00:00Z", extra: { note: 1 } },
      nEmbd: d,
      vectorType: "float32",
      resume: true,
    });
    expect(ok.resumedRows).toBe(20);
    expect(ok.provenance.createdAt).toBe(base.createdAt);
    await ok.abort();
  });

  test("a SIGKILLed child leaves a readable .partial that resume completes", async () => {
    const path = fresh();
    const total = 200;
    const child = spawnStoreChild("crash", path, { nEmbd: d, batchRows: B, batches: total, delayMs: 5 });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    await new Promise<void>((res, rej) => {
      let out = "";
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes("batch 3\n")) {
          child.kill("SIGKILL");
          res();
        }
      });
      child.on("exit", (code) => rej(new Error(`child exited (${code}) before the kill: ${stderr}`)));
    });
    await new Promise((res) => child.once("close", res));
    expect(child.signalCode).toBe("SIGKILL");
    expect(existsSync(path)).toBe(false);

    const partial = `${path}.partial`;
    const got = await readAll(partial);
    expect(got.length % B).toBe(0);
    expect(got.length).toBeGreaterThanOrEqual(3 * B);
    expect(got).toEqual(rowsOf(0, got.length, d));
    const scan = await scanStream(partial);
    expect(scan.complete).toBe(false);

    const n = 70 * B + 3; // finish with a different total than the child planned: the run's rows are the caller's
    const r = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", batchRows: B, resume: true });
    expect(r.resumedRows).toBe(got.length);
    await r.append(rowsOf(0, n, d).filter((x) => !r.has(x)));
    await r.close();
    const ref = fresh("ref");
    await writeReference(ref, n, d, B);
    expect(await readAll(path)).toEqual(await readAll(ref));
  });
});

describe("vector store", () => {
  const d = 12;
  const vrow = (concept: string, lang: string, layer: string, method: VectorRow["method"], seed: number): VectorRow => ({
    concept,
    lang,
    layer,
    method,
    unit: new Float32Array(d).map((_, k) => Math.sin(seed + k)),
    raw: new Float32Array(d).map((_, k) => Math.cos(seed * k)),
    sign: seed % 2 === 0 ? 1 : -1,
    explainedVariance: method === "pca" ? 0.25 + seed / 100 : null,
    nTrain: 10 * seed,
  });

  test("round trip, atomically, with provenance", async () => {
    const path = fresh("vectors");
    const rows = [vrow("morality", "en", "12", "mean_diff", 1), vrow("morality", "en", "12", "pca", 2), vrow("fairness", "zh", "final_norm", "logistic", 3)];
    const prov = makeProvenance(d, { extra: { methods: ["mean_diff", "pca"] } });
    await writeVectors(path, prov, rows);
    const got = await readVectors(path);
    expect(got.nEmbd).toBe(d);
    expect(got.provenance).toEqual({ ...prov, kind: "vectors" });
    expect(got.rows).toEqual(rows);
    expect(await readProvenance(path)).toEqual({ ...prov, kind: "vectors" });
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);

    // Rewriting replaces the file whole; empty is fine.
    await writeVectors(path, prov, []);
    expect((await readVectors(path)).rows).toEqual([]);
  });

  test("rejects malformed rows without touching an existing file", async () => {
    const path = fresh("vectors");
    const prov = makeProvenance(d);
    await writeVectors(path, prov, [vrow("morality", "en", "1", "random", 4)]);
    const before = readFileSync(path);
    await expect(writeVectors(path, prov, [{ ...vrow("m", "en", "1", "pca", 1), unit: new Float32Array(3) }])).rejects.toThrow(/nEmbd/);
    await expect(writeVectors(path, prov, [vrow("m", "en", "1", "pca", 1), vrow("m", "en", "1", "pca", 2)])).rejects.toThrow(/duplicate/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

test("sha256File streams, caches by size+mtime and notices changes", async () => {
  clearSha256Cache();
  const path = join(dir, "model.bin");
  const data = new Uint8Array(3 << 20).map((_, i) => (i * 31) & 0xff);
  writeFileSync(path, data);
  const want = createHash("sha256").update(data).digest("hex");
  expect(await sha256File(path)).toBe(want);
  expect(await sha256File(path)).toBe(want);
  data[0] ^= 1;
  writeFileSync(path, data);
  utimesSync(path, new Date(), new Date(Date.now() + 5000));
  expect(await sha256File(path)).toBe(createHash("sha256").update(data).digest("hex"));
});

test("LAYERS fixture is what the rows use", () => {
  expect(new Set(rowsOf(0, 12, 2).map((r) => r.layer))).toEqual(new Set(LAYERS));
});
