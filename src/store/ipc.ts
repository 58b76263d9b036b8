// Low-level Arrow IPC plumbing: encoding record batches as self-contained stream messages, scanning a
// (possibly torn) stream file for its last complete batch, and streaming batches back from it.
import { open, type FileHandle } from "node:fs/promises";
import {
  Message,
  RecordBatch,
  RecordBatchReader,
  RecordBatchStreamWriter,
  Schema,
  type TypeMap,
} from "apache-arrow";

/** First bytes of the Arrow IPC *file* format ("ARROW1" + 2 padding bytes). */
const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31];

/** The end-of-stream marker: continuation token + zero metadata length. */
export const EOS_BYTES = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);

/** Bytes of one framed IPC message at the start of `bytes` (continuation + length + metadata; no body). */
function framedMetadataLength(bytes: Uint8Array): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = dv.getInt32(0, true);
  return first === -1 ? 8 + dv.getInt32(4, true) : 4 + first;
}

/** The schema message, framed, as written at the head of a stream file. */
export function encodeSchemaMessage(schema: Schema): Uint8Array {
  const w = new RecordBatchStreamWriter();
  w.reset(undefined, schema);
  return w.toUint8Array(true);
}

/**
 * One batch as stream messages (its dictionaries as non-delta batches, then the record batch), without the schema.
 * A fresh writer per batch makes every batch carry its own full dictionaries, so a file can be truncated after any
 * batch and appended to again without any writer state.
 */
export function encodeBatchMessages(batch: RecordBatch): Uint8Array {
  const w = new RecordBatchStreamWriter();
  w.write(batch);
  const bytes = w.toUint8Array(true);
  return bytes.subarray(framedMetadataLength(bytes));
}

export interface StreamScan {
  /** "file" for the Arrow IPC file format (then only `schema` and `batches` are meaningful). */
  format: "stream" | "file";
  size: number;
  /** Null when not even the schema message is complete. */
  schema: Schema | null;
  schemaEnd: number;
  /** Byte offset just after the last complete record batch (or after the schema when there is none). */
  validEnd: number;
  batches: number;
  rows: number;
  /** The stream ends with an end-of-stream marker right after `validEnd`. */
  complete: boolean;
  /** Bytes after `validEnd` that are not an end-of-stream marker (a torn tail). */
  tornBytes: number;
}

async function readExactly(fh: FileHandle, position: number, length: number): Promise<Uint8Array | null> {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) return null;
    got += bytesRead;
  }
  return buf;
}

function isFileFormat(head: Uint8Array | null): boolean {
  return head !== null && FILE_MAGIC.every((b, i) => head[i] === b);
}

/**
 * Walk the message frames of an IPC stream file, reading only message headers, and find where the last complete
 * record batch ends. Anything unparsable or cut short ends the walk: that is the torn tail of a killed writer.
 */
export async function scanStream(path: string): Promise<StreamScan> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const scan: StreamScan = { format: "stream", size, schema: null, schemaEnd: 0, validEnd: 0, batches: 0, rows: 0, complete: false, tornBytes: size };
    const magic = await readExactly(fh, 0, 8);
    if (isFileFormat(magic)) {
      // The file format's schema lives in its footer (arrow JS writes no schema message after the magic).
      scan.format = "file";
      const reader = await RecordBatchReader.from(fh);
      await reader.open();
      scan.schema = reader.schema;
      scan.batches = reader.isFile() ? reader.numRecordBatches : 0;
      scan.complete = true;
      scan.tornBytes = 0;
      scan.validEnd = size;
      return scan;
    }
    let pos = 0;
    for (;;) {
      const prefix = await readExactly(fh, pos, 8);
      if (prefix === null) break;
      const dv = new DataView(prefix.buffer);
      let metaLen: number;
      let metaStart: number;
      if (dv.getInt32(0, true) === -1) {
        metaLen = dv.getInt32(4, true);
        metaStart = pos + 8;
      } else {
        metaLen = dv.getInt32(0, true); // pre-0.15 framing without the continuation token
        metaStart = pos + 4;
      }
      if (metaLen === 0) {
        if (scan.schema !== null && pos === scan.validEnd) scan.complete = true;
        break;
      }
      if (metaLen < 0 || metaStart + metaLen > size) break;
      const meta = await readExactly(fh, metaStart, metaLen);
      if (meta === null) break;
      let msg: Message;
      try {
        msg = Message.decode(meta);
      } catch {
        break;
      }
      const end = metaStart + metaLen + msg.bodyLength;
      if (msg.bodyLength < 0 || end > size) break;
      if (scan.schema === null) {
        if (!msg.isSchema()) throw new Error(`${path}: not an Arrow IPC stream (first message is not a schema)`);
        scan.schema = msg.header() as Schema;
        scan.schemaEnd = scan.validEnd = end;
      } else if (msg.isRecordBatch()) {
        scan.batches++;
        scan.rows += Number((msg.header() as { length: number | bigint }).length);
        scan.validEnd = end;
      } else if (msg.isSchema()) {
        break; // a second schema is not part of this stream
      }
      pos = end;
    }
    scan.tornBytes = size - scan.validEnd - (scan.complete ? EOS_BYTES.length : 0);
    return scan;
  } finally {
    await fh.close();
  }
}

/** The schema (with metadata) of an Arrow IPC stream or file. */
export async function readSchema(path: string): Promise<Schema> {
  const scan = await scanStream(path);
  if (scan.schema === null) throw new Error(`${path}: no complete Arrow schema message (empty or torn file)`);
  return scan.schema;
}

/**
 * Complete record batches of an Arrow IPC stream (only up to the last complete batch, so a live or killed writer's
 * `.partial` is fine) or file, one at a time.
 */
export async function* streamBatches<T extends TypeMap = TypeMap>(path: string): AsyncGenerator<RecordBatch<T>> {
  const scan = await scanStream(path);
  if (scan.schema === null) throw new Error(`${path}: no complete Arrow schema message (empty or torn file)`);
  if (scan.format === "file") {
    const fh = await open(path, "r");
    try {
      const reader = await RecordBatchReader.from<T>(fh);
      for await (const batch of reader) if (batch.numRows > 0) yield batch;
    } finally {
      await fh.close().catch(() => undefined);
    }
    return;
  }
  if (scan.batches === 0) return;
  // Feed arrow an async iterable of chunks, not a Node stream: its Node-stream adapter leaks promises per message.
  const fh = await open(path, "r");
  try {
    const reader = await RecordBatchReader.from<T>(readChunks(fh, scan.validEnd));
    for await (const batch of reader) if (batch.numRows > 0) yield batch;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function* readChunks(fh: FileHandle, end: number, chunkBytes = 1 << 20): AsyncGenerator<Uint8Array> {
  for (let pos = 0; pos < end; ) {
    const buf = new Uint8Array(Math.min(chunkBytes, end - pos));
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) throw new Error("file shrank while being read");
    pos += bytesRead;
    yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
  }
}

export { syncDir } from "../util/output.js";
