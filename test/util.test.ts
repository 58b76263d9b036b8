import { describe, expect, test } from "vitest";
import { canonicalJson } from "../src/util/canonical-json.js";

describe("canonicalJson", () => {
  test("sorts keys at every depth: equal content gives equal text", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: "x" } })).toBe('{"a":{"c":"x","d":[1,2]},"b":1}');
    expect(canonicalJson({ a: { c: "x", d: [1, 2] }, b: 1 })).toBe(canonicalJson({ b: 1, a: { d: [1, 2], c: "x" } }));
  });

  test("undefined follows JSON.stringify: members left out, elements and values null", () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(canonicalJson([1, undefined, 3])).toBe("[1,null,3]");
    expect(canonicalJson(undefined)).toBe("null");
    // So a record hashes the same before and after a round trip through a file.
    const record = { x: [undefined, 1], y: undefined, z: { w: undefined } };
    expect(canonicalJson(JSON.parse(JSON.stringify(record)))).toBe(canonicalJson(record));
  });
});
