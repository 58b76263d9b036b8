// Errors a caller can branch on: every error valuelens throws on purpose carries a stable `code` (README,
// "Error codes"). One AbortError for every cancellation, whichever layer noticed it.

export type ErrorCode =
  | "VALUELENS_ABORTED"
  | "VALUELENS_USAGE"
  | "VALUELENS_BAD_LAYER"
  | "VALUELENS_BAD_MODEL"
  | "VALUELENS_DISPOSED"
  | "VALUELENS_BUSY"
  | "VALUELENS_BAD_MANIFEST"
  | "VALUELENS_BAD_DATA"
  | "VALUELENS_MISSING_DATA"
  | "VALUELENS_PROVENANCE_MISMATCH"
  | "VALUELENS_OUTPUT"
  | "VALUELENS_LOCKED"
  | "VALUELENS_CLASSIFIER";

export class ValuelensError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The operation was cancelled (an AbortSignal fired, or Ctrl-C); `name` is "AbortError" as on the platform. */
export class AbortError extends ValuelensError {
  constructor(message = "The operation was aborted", options?: ErrorOptions) {
    super("VALUELENS_ABORTED", message, options);
  }
}

/** A command line that cannot be run as given (the CLI exits 2). */
export class UsageError extends ValuelensError {
  constructor(message: string, options?: ErrorOptions) {
    super("VALUELENS_USAGE", message, options);
  }
}

/** A layer list or layer site that does not parse or does not exist in the model. */
export class LayerError extends ValuelensError {
  constructor(message: string, options?: ErrorOptions) {
    super("VALUELENS_BAD_LAYER", message, options);
  }
}

/** A model file that is missing, unreadable, or not usable as asked. */
export class ModelError extends ValuelensError {
  constructor(message: string, options?: ErrorOptions) {
    super("VALUELENS_BAD_MODEL", message, options);
  }
}

/** A call on a Model or Session after its dispose(). */
export class DisposedError extends ValuelensError {
  constructor(message: string) {
    super("VALUELENS_DISPOSED", message);
  }
}

/** A call on a Session while one of its generate() iterators is open. */
export class BusyError extends ValuelensError {
  constructor(message: string) {
    super("VALUELENS_BUSY", message);
  }
}

/** True for any cancellation: ours, the platform's (`signal.throwIfAborted()`, fetch) or the addon's. */
export function isAbortError(e: unknown): boolean {
  return e instanceof Error && (e.name === "AbortError" || (e as { code?: unknown }).code === "ABORT_ERR");
}

/** The one AbortError for a cancellation that surfaced as another error; other errors pass through. */
export function toAbortError(e: unknown): unknown {
  if (e instanceof AbortError || !isAbortError(e)) return e;
  return new AbortError((e as Error).message, { cause: e });
}

/** `signal.throwIfAborted()`, throwing the one AbortError. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}
