// Errors as the console shows them: the gRPC code, the stable reason of the
// google.rpc.ErrorInfo detail the server attaches (RETENTION_GOVERNANCE_ACTIVE,
// LEGAL_HOLD_ACTIVE, ...) and the server's message, which names the field or
// rule. Connect calls and the plain-HTTP archive routes answer differently;
// both end up here as an ApiError.

import { ConnectError } from "@connectrpc/connect";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

// gRPC's code names by number; Connect's Code enum uses the same numbers.
const codeNames = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

const errorInfoType = "google.rpc.ErrorInfo";

/** ApiError is a failed call: code, reason (may be empty) and message. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly reason: string,
    readonly detail: string,
  ) {
    super(`${code}${reason ? ` (${reason})` : ""}: ${detail}`);
    this.name = "ApiError";
  }
}

/** toApiError classifies anything thrown by a call. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ConnectError) {
    // Thrown inside the transport (refused origin, not signed in): the
    // client wraps it, keeping it as the cause.
    if (err.cause instanceof ApiError) return err.cause;
    let reason = "";
    for (const d of err.details) {
      // Incoming details are undecoded {type, value}: ErrorInfo is read
      // from its wire form, so no google.rpc code need be generated.
      if ("type" in d && d.type === errorInfoType) {
        reason = decodeErrorInfoReason(d.value);
        if (reason) break;
      }
    }
    return new ApiError(codeNames[err.code] ?? `CODE_${err.code}`, reason, err.rawMessage);
  }
  if (err instanceof Error) return new ApiError("UNKNOWN", "", err.message);
  return new ApiError("UNKNOWN", "", String(err));
}

/** decodeErrorInfoReason reads field 1 (reason) of a google.rpc.ErrorInfo. */
export function decodeErrorInfoReason(b: Uint8Array): string {
  try {
    const r = new BinaryReader(b);
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no === 1 && wt === WireType.LengthDelimited) return r.string();
      r.skip(wt);
    }
  } catch {
    // A detail that does not decode carries no reason; the code and
    // message are still shown.
  }
  return "";
}

/**
 * fromHttpStatus reads the google.rpc.Status JSON body the plain-HTTP
 * archive routes answer an error with.
 */
export function fromHttpStatus(httpStatus: number, body: string): ApiError {
  try {
    const st = JSON.parse(body) as { code?: number; message?: string; details?: Array<Record<string, unknown>> };
    const info = (st.details ?? []).find((d) => String(d["@type"] ?? "").endsWith(`/${errorInfoType}`));
    const code = typeof st.code === "number" ? (codeNames[st.code] ?? `CODE_${st.code}`) : `HTTP_${httpStatus}`;
    return new ApiError(code, typeof info?.reason === "string" ? info.reason : "", st.message ?? body);
  } catch {
    return new ApiError(`HTTP_${httpStatus}`, "", body.trim() || `HTTP status ${httpStatus}`);
  }
}
