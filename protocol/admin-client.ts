/** @module AdminClient: the operator's typed client for the control node's /admin routes (Authorization: Bearer). */
import type {
  AccountingEntry,
  AdminDevice,
  AdminSession,
  DeviceCredential,
  EnrollmentTokenResponse,
  SessionState,
  SpoolUsage,
} from "./api-types.ts";
import { responseFailure, responseJson } from "./control-api-error.ts";

/** The operator's client for /admin (Authorization: Bearer). */
export class AdminClient {
  readonly #fetch: typeof fetch;
  constructor(
    readonly baseUrl: string,
    readonly token: string,
    f: typeof fetch = fetch,
  ) {
    this.#fetch = f;
  }

  raw(method: string, path: string, body?: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    return this.#fetch(
      `${this.baseUrl}${path}`,
      body === undefined ? { method, headers } : { method, headers, body },
    );
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return responseJson<T>(
      await this.raw(method, path, body === undefined ? undefined : JSON.stringify(body)),
    );
  }

  devices(): Promise<AdminDevice[]> {
    return this.#call("GET", "/admin/devices");
  }
  enroll(name: string): Promise<DeviceCredential> {
    return this.#call("POST", "/admin/devices", { name });
  }
  async removeDevice(id: string): Promise<void> {
    const res = await this.raw("DELETE", `/admin/devices/${encodeURIComponent(id)}`);
    if (!res.ok) throw await responseFailure(res);
  }
  enrollmentToken(ttlSec?: number): Promise<EnrollmentTokenResponse> {
    return this.#call("POST", "/admin/enrollment-tokens", ttlSec === undefined ? {} : { ttlSec });
  }
  sessions(state?: SessionState): Promise<AdminSession[]> {
    return this.#call("GET", `/admin/sessions${state ? `?state=${state}` : ""}`);
  }
  /** Forces an end; both peers get an `end` trigger; tells which of them acknowledged it. */
  endSession(
    id: string,
    reason?: string,
  ): Promise<{ id: string; state: "ended"; acknowledged: { caller: boolean; callee: boolean } }> {
    return this.#call(
      "POST",
      `/admin/sessions/${encodeURIComponent(id)}/end`,
      reason === undefined ? {} : { reason },
    );
  }
  accounting(q: { device?: string; from?: number; to?: number } = {}): Promise<AccountingEntry[]> {
    const p = new URLSearchParams();
    if (q.device !== undefined) p.set("device", q.device);
    if (q.from !== undefined) p.set("from", String(q.from));
    if (q.to !== undefined) p.set("to", String(q.to));
    const qs = p.toString();
    return this.#call("GET", `/admin/accounting${qs ? `?${qs}` : ""}`);
  }
  spool(): Promise<SpoolUsage> {
    return this.#call("GET", "/admin/spool");
  }
}
