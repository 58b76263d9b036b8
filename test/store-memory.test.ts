// Streaming check: writing 20k rows must not need much more memory than writing 1k (rows go to disk per batch),
// and reading a file back is bounded by a batch too. Each run is a fresh child process.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { runStoreChild } from "./helpers/store-child.js";

const dir = mkdtempSync(join(tmpdir(), "valuelens-store-mem-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1 << 20;
const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;

interface WriteStats {
  rows: number;
  rssGrowth: number;
  liveGrowth: number;
  gc: boolean;
}

test("writer memory is flat in the number of rows (nEmbd 1024, float32, 256-row batches)", async () => {
  const nEmbd = 1024;
  const run = async (rows: number, gcEvery: number) =>
    JSON.parse(await runStoreChild("memory", join(dir, `w-${rows}-${gcEvery}.arrow`), { rows, nEmbd, batchRows: 256, gcEvery })) as WriteStats;
  // With a GC every 4 chunks the numbers measure what the writer holds; without (reported only), they include
  // garbage V8 has not collected yet, most of it the test's own row generator.
  const small = await run(1000, 4);
  const large = await run(20000, 4);
  const smallNoGc = await run(1000, 0);
  const largeNoGc = await run(20000, 0);
  expect(small.gc).toBe(true);
  const dataBytes = 20000 * nEmbd * 4;
  expect(statSync(join(dir, "w-20000-4.arrow")).size).toBeGreaterThan(dataBytes);
  console.log(
    `store memory, writer (data written: 1k rows = ${mib(1000 * nEmbd * 4)}, 20k rows = ${mib(dataBytes)}):\n` +
      `  peak RSS growth, GC every 4 appends: 1k ${mib(small.rssGrowth)}, 20k ${mib(large.rssGrowth)}\n` +
      `  peak live (heap + ArrayBuffers) growth: 1k ${mib(small.liveGrowth)}, 20k ${mib(large.liveGrowth)}\n` +
      `  peak RSS growth, no forced GC: 1k ${mib(smallNoGc.rssGrowth)}, 20k ${mib(largeNoGc.rssGrowth)}`,
  );
  expect(large.rssGrowth).toBeLessThan(1.5 * small.rssGrowth + 16 * MiB);
  // What stays live is the has() key index (~200 bytes per text), not the vectors.
  expect(large.liveGrowth).toBeLessThan(16 * MiB);

  const read = JSON.parse(await runStoreChild("read", join(dir, "w-20000-4.arrow"), { gcEvery: 1 })) as { rows: number; rssGrowth: number; liveGrowth: number };
  const readFiltered = JSON.parse(await runStoreChild("read", join(dir, "w-20000-4.arrow"), { gcEvery: 1, filter: { layers: ["2"] } })) as { rows: number; rssGrowth: number; liveGrowth: number };
  console.log(
    `store memory, readActivations over 20k rows: peak RSS growth ${mib(read.rssGrowth)}, live ${mib(read.liveGrowth)}; ` +
      `layer filter (${readFiltered.rows} rows): RSS ${mib(readFiltered.rssGrowth)}, live ${mib(readFiltered.liveGrowth)}`,
  );
  expect(read.rows).toBe(20000);
  expect(read.rssGrowth).toBeLessThan(dataBytes / 2);
  expect(read.liveGrowth).toBeLessThan(24 * MiB);
});
