/** @module ControlApiError: the node's refusal (HTTP status and stable code), and the one place a response becomes one. */
import type { ApiErrorBody } from "./api-types.ts";

/**
 * A refusal from the node: HTTP status plus the stable code of its `{"error":{"code","message"}}` body. The
 * client's one translation of every non-2xx answer (a 404, a 429, a 503), so a plain Error: `status` and `code`
 * carry the meaning, which no single built-in does.
 */
export class ControlApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error body's other fields (e.g. `store` on callee_busy, `received` on offset_mismatch). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ControlApiError";
  }
}

/** The node's refusal in a non-2xx response, as a ControlApiError (`http_error` when the body is not the API's error shape). */
export async function responseFailure(res: Response): Promise<ControlApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as ApiErrorBody;
    if (typeof body?.error?.code === "string") {
      const { code, message, ...details } = body.error as Record<string, unknown>;
      return new ControlApiError(res.status, String(code), `${res.status} ${code}: ${message}`, details);
    }
  } catch {
    // not our error shape: fall through
  }
  return new ControlApiError(res.status, "http_error", `HTTP ${res.status}: ${text.slice(0, 200)}`);
}

/** The JSON body of a 2xx response; any other status throws its ControlApiError. */
export async function responseJson<T>(res: Response): Promise<T> {
  if (!res.ok) throw await responseFailure(res);
  return (await res.json()) as T;
}
