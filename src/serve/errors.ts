// Errors of the web explorer, each with a stable code and the HTTP status it is answered with.
export type ServeErrorCode = "BAD_REQUEST" | "NOT_FOUND" | "METHOD_NOT_ALLOWED" | "MODEL_NOT_READY" | "NO_VECTORS" | "BUSY" | "INTERNAL";

const STATUS: Record<ServeErrorCode, number> = {
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  MODEL_NOT_READY: 409,
  NO_VECTORS: 409,
  BUSY: 503,
  INTERNAL: 500,
};

export class ServeError extends Error {
  constructor(
    readonly code: ServeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ServeError";
  }

  get status(): number {
    return STATUS[this.code];
  }
}
