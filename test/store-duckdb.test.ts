// Parquet export read back by DuckDB: per-layer mean L2 norms, provenance metadata, float16 and vector files.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { afterAll, beforeAll, expect, test } from "vitest";
import { exportParquet, openActivationWriter, readActivations, writeVectors, type VectorType } from "../src/store/index.js";
import { makeProvenance, syntheticRow } from "./fixtures/store-rows.mjs";

let dir: string;
let db: DuckDBInstance;
let con: DuckDBConnection;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "valuelens-duckdb-"));
  db = await DuckDBInstance.create(":memory:");
  con = await db.connect();
});
afterAll(() => {
  con?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

const sqlPath = (p: string) => `'${p.replaceAll("'", "''")}'`;

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return (await con.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

async function writeActs(path: string, n: number, d: number, vectorType: VectorType): Promise<void> {
  const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType, batchRows: 37 });
  for (let i = 0; i < n; i += 50) await w.append(Array.from({ length: Math.min(50, n - i) }, (_, j) => syntheticRow(i + j, d)));
  await w.close();
}

/** Mean L2 norm per layer and row count, computed in TS from what the Arrow readers return. */
async function tsNorms(path: string): Promise<Map<string, { n: number; mean: number }>> {
  const acc = new Map<string, { n: number; sum: number }>();
  for await (const b of readActivations(path)) {
    for (let i = 0; i < b.nRows; i++) {
      let s = 0;
      for (let k = 0; k < b.nEmbd; k++) s += b.vectors[i * b.nEmbd + k] ** 2;
      const a = acc.get(b.layer[i]) ?? { n: 0, sum: 0 };
      a.n++;
      a.sum += Math.sqrt(s);
      acc.set(b.layer[i], a);
    }
  }
  return new Map([...acc].map(([l, a]) => [l, { n: a.n, mean: a.sum / a.n }]));
}

const NORM_SQL = (p: string) => `
  SELECT layer, count(*)::INTEGER AS n,
         avg(sqrt(list_sum(list_transform(vector, x -> x::DOUBLE * x)))) AS mean_norm,
         avg(sqrt(list_inner_product(vector, vector))) AS mean_norm_ip
  FROM read_parquet(${sqlPath(p)}) GROUP BY layer ORDER BY layer`;

async function expectNormsMatch(arrowPath: string, parquetPath: string): Promise<void> {
  const want = await tsNorms(arrowPath);
  const rows = await query(NORM_SQL(parquetPath));
  expect(rows.map((r) => r.layer)).toEqual([...want.keys()].sort());
  for (const r of rows) {
    const w = want.get(r.layer as string)!;
    expect(r.n).toBe(w.n);
    expect(Math.abs((r.mean_norm as number) - w.mean) / w.mean).toBeLessThan(1e-4);
    expect(Math.abs((r.mean_norm_ip as number) - w.mean) / w.mean).toBeLessThan(1e-4);
  }
}

test("float32 activations: DuckDB's per-layer mean L2 norm matches TS, metadata is kept", async () => {
  const d = 96;
  const arrow = join(dir, "f32.arrow");
  const parquet = join(dir, "f32.parquet");
  await writeActs(arrow, 600, d, "float32");
  const res = await exportParquet(arrow, parquet);
  expect(res.rows).toBe(600);
  await expectNormsMatch(arrow, parquet);

  const schema = await query(`DESCRIBE SELECT * FROM read_parquet(${sqlPath(parquet)})`);
  expect(Object.fromEntries(schema.map((r) => [r.column_name, r.column_type]))).toEqual({
    item_id: "VARCHAR",
    concept: "VARCHAR",
    lang: "VARCHAR",
    side: "VARCHAR",
    split: "VARCHAR",
    template: "VARCHAR",
    layer: "VARCHAR",
    token_count: "INTEGER",
    vector: "FLOAT[]",
  });
  // Row-level equality on a sample: the exported vector is the stored one.
  const one = await query(`SELECT item_id, side, layer, vector FROM read_parquet(${sqlPath(parquet)}) WHERE item_id = 'item-7' AND side = 'neg' AND layer = '2'`);
  expect(one.length).toBe(1);
  const idx = Array.from({ length: 600 }, (_, i) => syntheticRow(i, d)).findIndex((r) => r.itemId === "item-7" && r.side === "neg" && r.layer === "2");
  expect(one[0].vector).toEqual(Array.from(syntheticRow(idx, d).vector));

  const kv = await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${sqlPath(parquet)}) WHERE decode(key) = 'valuelens'`);
  expect(kv.length).toBe(1);
  expect(JSON.parse(kv[0].v as string)).toEqual({ ...makeProvenance(d), kind: "activations" });
  expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
});

test("float16 activations export as float32 lists equal to the decoded values", async () => {
  const d = 64;
  const arrow = join(dir, "f16.arrow");
  const parquet = join(dir, "f16.parquet");
  await writeActs(arrow, 300, d, "float16");
  await exportParquet(arrow, parquet, { compression: "zstd" });
  await expectNormsMatch(arrow, parquet);
  const first = await query(`SELECT vector FROM read_parquet(${sqlPath(parquet)}) LIMIT 1`);
  const it = readActivations(arrow);
  const b = (await it.next()).value!;
  await it.return(undefined);
  expect(first[0].vector).toEqual(Array.from(b.vectors.subarray(0, d)));
});

test("a torn .partial exports its complete batches; an empty file exports an empty table", async () => {
  const d = 16;
  const path = join(dir, "torn.arrow");
  const w = await openActivationWriter(path, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32", batchRows: 10 });
  await w.append(Array.from({ length: 35 }, (_, i) => syntheticRow(i, d)));
  await w.abort(); // 3 full batches + a short one flushed by abort
  const partial = `${path}.partial`;
  truncateSync(partial, statSync(partial).size - 5);
  const parquet = join(dir, "torn.parquet");
  expect((await exportParquet(partial, parquet)).rows).toBe(30);
  expect((await query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlPath(parquet)})`))[0].n).toBe(30);

  const empty = join(dir, "empty.arrow");
  const e = await openActivationWriter(empty, { provenance: makeProvenance(d), nEmbd: d, vectorType: "float32" });
  await e.close();
  const emptyPq = join(dir, "empty.parquet");
  expect((await exportParquet(empty, emptyPq)).rows).toBe(0);
  expect((await query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlPath(emptyPq)})`))[0].n).toBe(0);
});

test("vector files export too", async () => {
  const d = 8;
  const path = join(dir, "vectors.arrow");
  const unit = new Float32Array(d).fill(1 / Math.sqrt(d));
  await writeVectors(path, makeProvenance(d), [
    { concept: "morality", lang: "en", layer: "3", method: "pca", unit, raw: unit.map((x) => 2 * x), sign: -1, explainedVariance: 0.5, nTrain: 40 },
    { concept: "morality", lang: "fr", layer: "3", method: "mean_diff", unit, raw: unit, sign: 1, explainedVariance: null, nTrain: 41 },
  ]);
  const parquet = join(dir, "vectors.parquet");
  await exportParquet(path, parquet);
  const rows = await query(
    `SELECT lang, method, sign::INTEGER AS sign, explained_variance AS ev, n_train::INTEGER AS n, list_inner_product(unit, unit) AS uu FROM read_parquet(${sqlPath(parquet)}) ORDER BY lang`,
  );
  expect(rows.map((r) => [r.lang, r.method, r.sign, r.ev, r.n])).toEqual([
    ["en", "pca", -1, 0.5, 40],
    ["fr", "mean_diff", 1, null, 41],
  ]);
  for (const r of rows) expect(r.uu as number).toBeCloseTo(1, 5);
  expect(existsSync(parquet)).toBe(true);
});
