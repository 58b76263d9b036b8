// Request checks of the web explorer: Host (DNS rebinding), Origin and Fetch-Metadata (foreign pages), and the
// access token required when the server is reachable beyond loopback.
import type { IncomingMessage } from "node:http";
import { randomBytes, timingSafeEqual } from "node:crypto";

export interface AccessPolicy {
  /**
   * Host header values accepted ("127.0.0.1:7860", "localhost:7860", …); null when bound to every interface
   * (0.0.0.0, ::), where the machine's names are not known: the token then stands against DNS rebinding.
   */
  hosts: ReadonlySet<string> | null;
  /** Required on every request when set (query `token=` or the `vl_token` cookie). */
  token?: string;
}

export type Refusal = { status: 403 | 401 | 421; code: "BAD_HOST" | "FOREIGN_ORIGIN" | "CROSS_SITE" | "TOKEN_REQUIRED"; message: string };

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A random URL-safe token (128 bits). */
export function newToken(): string {
  return randomBytes(16).toString("base64url");
}

/** The Host and Origin values the app answers to when listening on host:port. */
export function accessPolicy(host: string, port: number, token?: string): AccessPolicy {
  if (host === "0.0.0.0" || host === "::" || host === "[::]") {
    if (!token) throw new Error("binding to every interface needs an access token");
    return { hosts: null, token };
  }
  const names = isLoopback(host) ? ["127.0.0.1", "localhost", "[::1]"] : [host.includes(":") && !host.startsWith("[") ? `[${host}]` : host];
  return { hosts: new Set(names.map((n) => `${n}:${port}`)), ...(token ? { token } : {}) };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieToken(req: IncomingMessage): string | undefined {
  const raw = req.headers.cookie ?? "";
  for (const part of raw.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === "vl_token") return v.join("=");
  }
  return undefined;
}

/** Why a request is refused, or null when it may proceed. */
export function checkRequest(req: IncomingMessage, url: URL, policy: AccessPolicy): Refusal | null {
  const host = (req.headers.host ?? "").toLowerCase();
  if (!/^[a-z0-9.\-[\]:]+$/.test(host) || (policy.hosts !== null && !policy.hosts.has(host))) {
    return { status: 421, code: "BAD_HOST", message: `unexpected Host '${req.headers.host ?? ""}'` };
  }
  const origin = req.headers.origin;
  // A browser sends Origin on cross-origin and on state-changing requests: only the app's own (its Host) is accepted.
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`) return { status: 403, code: "FOREIGN_ORIGIN", message: `requests from ${origin} are refused` };
  // Fetch Metadata catches cross-site GETs that carry no Origin (img, script, navigations with side effects).
  const site = req.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") {
    const nav = req.headers["sec-fetch-mode"] === "navigate" && url.pathname === "/";
    if (!nav) return { status: 403, code: "CROSS_SITE", message: "cross-site requests are refused" };
  }
  if (policy.token) {
    const given = url.searchParams.get("token") ?? cookieToken(req);
    if (!given || !sameSecret(given, policy.token)) return { status: 401, code: "TOKEN_REQUIRED", message: "this server needs the access token printed at start-up" };
  }
  return null;
}
