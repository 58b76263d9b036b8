// A JSON parser that keeps object keys in file order. JSON.parse puts integer-like keys ("2" before "10")
// first, whereas the paper's Python loader flattens MVALUE dicts in file order, which its split depends on.
import { ValuelensError } from "../util/errors.js";

export type OrderedJson = null | boolean | number | string | OrderedJson[] | OrderedObject;

/** An object as its entries in file order. A repeated key keeps its first position and last value (as Python). */
export class OrderedObject {
  readonly entries: [string, OrderedJson][] = [];
  private readonly pos = new Map<string, number>();
  duplicates = 0;

  set(key: string, value: OrderedJson): void {
    const i = this.pos.get(key);
    if (i === undefined) {
      this.pos.set(key, this.entries.length);
      this.entries.push([key, value]);
    } else {
      this.entries[i][1] = value;
      this.duplicates++;
    }
  }

  get(key: string): OrderedJson | undefined {
    const i = this.pos.get(key);
    return i === undefined ? undefined : this.entries[i][1];
  }

  has(key: string): boolean {
    return this.pos.has(key);
  }

  keys(): string[] {
    return this.entries.map((e) => e[0]);
  }
}

export class JsonSyntaxError extends ValuelensError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super("VALUELENS_BAD_DATA", `${file}:${line}:${column}: invalid JSON: ${message}`);
  }
}

export function parseOrderedJson(text: string, file = "<json>"): OrderedJson {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let i = 0;

  const fail = (msg: string, at = i): never => {
    let line = 1;
    let col = 1;
    for (let k = 0; k < at && k < s.length; k++) {
      if (s.charCodeAt(k) === 10) {
        line++;
        col = 1;
      } else col++;
    }
    throw new JsonSyntaxError(file, line, col, msg);
  };
  const ws = (): void => {
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const str = (): string => {
    // caller checked the opening quote
    i++;
    let out = "";
    let start = i;
    for (;;) {
      if (i >= s.length) fail("unterminated string");
      const c = s.charCodeAt(i);
      if (c === 34) {
        out += s.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail("control character in string");
      if (c === 92) {
        out += s.slice(start, i);
        const e = s[i + 1];
        switch (e) {
          case '"':
          case "\\":
          case "/":
            out += e;
            i += 2;
            break;
          case "b":
            out += "\b";
            i += 2;
            break;
          case "f":
            out += "\f";
            i += 2;
            break;
          case "n":
            out += "\n";
            i += 2;
            break;
          case "r":
            out += "\r";
            i += 2;
            break;
          case "t":
            out += "\t";
            i += 2;
            break;
          case "u": {
            const hex = s.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
            out += String.fromCharCode(parseInt(hex, 16));
            i += 6;
            break;
          }
          default:
            fail(`bad escape \\${e ?? ""}`);
        }
        start = i;
        continue;
      }
      i++;
    }
  };
  const value = (): OrderedJson => {
    ws();
    if (i >= s.length) fail("unexpected end of input");
    const c = s[i];
    if (c === "{") {
      i++;
      const obj = new OrderedObject();
      ws();
      if (s[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (s[i] !== '"') fail("expected a string key");
        const k = str();
        ws();
        if (s[i] !== ":") fail('expected ":"');
        i++;
        obj.set(k, value());
        ws();
        if (s[i] === ",") {
          i++;
          continue;
        }
        if (s[i] === "}") {
          i++;
          return obj;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === "[") {
      i++;
      const arr: OrderedJson[] = [];
      ws();
      if (s[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (s[i] === ",") {
          i++;
          continue;
        }
        if (s[i] === "]") {
          i++;
          return arr;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    if (s.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (s.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (s.startsWith("null", i)) {
      i += 4;
      return null;
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(s.slice(i, i + 64));
    if (!m) return fail(`unexpected character ${JSON.stringify(c)}`);
    i += m[0].length;
    return Number(m[0]);
  };

  const v = value();
  ws();
  if (i < s.length) fail("trailing characters after the JSON value");
  return v;
}

export function describeJsonType(v: OrderedJson | undefined): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof OrderedObject) return "object";
  return typeof v;
}
