// A small RFC 4180 CSV reader (the data sets are plain CSV; no dependency needed).

import { readFile } from "node:fs/promises";
import { ValuelensError } from "../util/errors.js";

export interface CsvRecord {
  /** 1-based line of the record's first character in the file. */
  line: number;
  fields: string[];
}

export class CsvError extends ValuelensError {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super("VALUELENS_BAD_DATA", `${file}:${line}: ${message}`);
  }
}

/** Strips a leading UTF-8 byte-order mark. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parses CSV text into records. Records end at LF or CRLF outside quotes; a quoted field may hold commas,
 * quotes (doubled) and line breaks, kept verbatim. A quote inside an unquoted field is taken literally (real
 * files do this); text after a closing quote other than a separator or line end is an error. A final line break
 * does not produce an empty record; an empty line elsewhere gives a record with one empty field.
 */
export function parseCsv(text: string, file = "<csv>"): CsvRecord[] {
  const s = stripBom(text);
  const out: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  const n = s.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    for (;;) {
      let field = "";
      if (s.charCodeAt(i) === 34 /* " */) {
        const quoteLine = line;
        i++;
        for (;;) {
          const q = s.indexOf('"', i);
          if (q < 0) throw new CsvError(file, quoteLine, "unterminated quoted field");
          const chunk = s.slice(i, q);
          for (let k = chunk.indexOf("\n"); k >= 0; k = chunk.indexOf("\n", k + 1)) line++;
          field += chunk;
          if (s.charCodeAt(q + 1) === 34) {
            field += '"';
            i = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        const c = s.charCodeAt(i);
        if (i < n && c !== 44 && c !== 10 && !(c === 13 && s.charCodeAt(i + 1) === 10)) {
          throw new CsvError(file, line, `unexpected character ${JSON.stringify(s[i])} after a closing quote`);
        }
      } else {
        const start = i;
        while (i < n) {
          const c = s.charCodeAt(i);
          if (c === 44 || c === 10 || (c === 13 && s.charCodeAt(i + 1) === 10)) break;
          i++;
        }
        field = s.slice(start, i);
      }
      fields.push(field);
      if (i >= n) break;
      const c = s.charCodeAt(i);
      if (c === 44) {
        i++;
        continue;
      }
      i += c === 13 ? 2 : 1; // end of record
      line++;
      break;
    }
    out.push({ line: startLine, fields });
  }
  return out;
}

export async function readCsvFile(path: string): Promise<CsvRecord[]> {
  return parseCsv(await readFile(path, "utf8"), path);
}

/** A CSV with a header row: `get(record, name)` looks columns up case-insensitively. */
export interface CsvTable {
  file: string;
  header: string[];
  records: CsvRecord[];
  /** Column index of `name` (case-insensitive, surrounding spaces ignored), or -1. */
  index(name: string): number;
}

export function csvTable(records: CsvRecord[], file: string, required: readonly string[] = []): CsvTable {
  if (records.length === 0) throw new CsvError(file, 1, "empty file, expected a header row");
  const header = records[0].fields.map((h) => h.trim());
  const lower = header.map((h) => h.toLowerCase());
  const index = (name: string): number => lower.indexOf(name.toLowerCase());
  const missing = required.filter((r) => index(r) < 0);
  if (missing.length > 0) {
    throw new CsvError(file, records[0].line, `missing column(s) ${missing.join(", ")} (header: ${header.join(",")})`);
  }
  return { file, header, records: records.slice(1), index };
}

export async function readCsvTable(path: string, required: readonly string[] = []): Promise<CsvTable> {
  return csvTable(await readCsvFile(path), path, required);
}

/** The field of column `col` (an index from `CsvTable.index`); a short record is an error naming file and line. */
export function field(table: CsvTable, rec: CsvRecord, col: number, name: string): string {
  if (col < 0 || col >= rec.fields.length) {
    throw new CsvError(table.file, rec.line, `record has ${rec.fields.length} field(s), column "${name}" missing`);
  }
  return rec.fields[col];
}
