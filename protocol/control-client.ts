/** @module A typed client for every control-node HTTP route: signs each request with the device's HTTP subkey; the firmware and the tests use it. */
import { isIP } from "node:net";
import { randomToken } from "../crypto/random-token.ts";
import {
  type AccountingEntry,
  type AdminDevice,
  type AdminSession,
  type AllowListResponse,
  type AllowListUpdate,
  type AllowPolicy,
  type ApiErrorBody,
  type DeviceCredential,
  type EndRequest,
  type EnrollmentTokenResponse,
  type EnrollResponse,
  type ExtendResponse,
  type GroupMembersUpdate,
  type GroupResponse,
  type InboxEntry,
  type PendingSession,
  type QueryResponse,
  type QueryStoreResponse,
  type RegistrationResponse,
  type SessionState,
  type SessionStatus,
  type SpoolUsage,
  type TransferInfo,
  type TransferRequest,
  UNSIGNED_PAYLOAD,
} from "./api-types.ts";
import { type NodeTrust, NodeTrustError, nodeFetch } from "./node-fetch.ts";
import { httpKeyFromSecret, signRequest } from "./request-signature.ts";

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

async function failure(res: Response): Promise<ControlApiError> {
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

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

export interface RawOptions {
  /** Override the signing clock (tests of the timestamp window). */
  now?: number;
  /** Reuse a nonce (tests of the replay guard). */
  nonce?: string;
  /** Replace or add headers after signing (tests of forged requests). */
  headers?: Record<string, string>;
  /** Sign UNSIGNED-PAYLOAD instead of the body hash (streamed data routes). */
  unsigned?: boolean;
  /**
   * Send the call to the next node URL when one fails before answering. Default: for GET, PUT and DELETE (which
   * the API keeps idempotent), never for a streamed body (it cannot be sent twice); a POST only when it says so
   * (it carries an idempotency key, or repeating it changes nothing).
   */
  retry?: boolean;
}

type Body = Uint8Array | string | ReadableStream<Uint8Array>;

export interface ControlClientOptions {
  /** e.g. "https://127.0.0.1:8650" */
  baseUrl: string;
  /**
   * Further HTTP nodes of a cluster (same deployment, same trust): a call that fails before any answer
   * (connection refused or reset) is sent again, re-signed, to the next one; the one that answered is used first
   * from then on. Only calls that are safe twice are retried (see RawOptions.retry).
   */
  fallbackUrls?: readonly string[];
  deviceId: string;
  /** The device secret, base64url, as enrollment printed it. */
  secret: string;
  /** How to check the node's certificate (protocol/node-fetch.ts); without it, a plain fetch (in-process tests). */
  trust?: NodeTrust;
  fetch?: typeof fetch;
}

/** Bytes of CSPRNG behind each idempotency key the client draws (22 base64url characters). */
const IDEMPOTENCY_KEY_BYTES = 16;

/**
 * The key goes in the Idempotency-Key header, not the body: a node from before idempotency keys refuses an
 * unknown QUERY field but ignores a header, so a newer recorder still works against it (without the guarantee).
 */
function idempotencyHeader(key: string | undefined): Record<string, string> {
  return { "idempotency-key": key ?? randomToken(IDEMPOTENCY_KEY_BYTES) };
}

/** One device's view of the API. Methods throw ControlApiError on any non-2xx answer. */
export class ControlClient {
  readonly #httpKey: Uint8Array;
  readonly #fetch: typeof fetch;
  readonly #urls: readonly string[];
  /** Index into #urls of the node that answered last: calls go there first. */
  #current = 0;

  constructor(readonly opts: ControlClientOptions) {
    this.#httpKey = httpKeyFromSecret(opts.secret);
    this.#fetch = opts.fetch ?? (opts.trust === undefined ? fetch : nodeFetch(opts.trust));
    this.#urls = [opts.baseUrl, ...(opts.fallbackUrls ?? [])];
  }

  get deviceId(): string {
    return this.opts.deviceId;
  }

  /** The node URL calls go to first: the one that answered last (baseUrl until a fallback has answered). */
  get currentUrl(): string {
    return this.#urls[this.#current]!;
  }

  /** Redeems an enrollment token (the one unauthenticated device route). */
  static async enroll(
    baseUrl: string,
    token: string,
    name: string,
    f: typeof fetch = fetch,
  ): Promise<EnrollResponse> {
    const res = await f(`${baseUrl}/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, name }),
    });
    return json<EnrollResponse>(res);
  }

  /**
   * Sends one signed request and returns the raw Response; the building block of every method. A call that may
   * be retried goes to each node URL in turn until one answers (any HTTP status is an answer); each attempt is
   * signed afresh (a new nonce: the replay guard is shared by the cluster's nodes). A node whose certificate
   * fails the trust check is never passed over: that error is thrown at once.
   */
  async raw(method: string, pathAndQuery: string, body?: Body, o: RawOptions = {}): Promise<Response> {
    const streamed = body instanceof ReadableStream;
    const retry = !streamed && (o.retry ?? (method === "GET" || method === "PUT" || method === "DELETE"));
    const tries = retry ? this.#urls.length : 1;
    let lastError: unknown;
    for (let i = 0; i < tries; i++) {
      const at = (this.#current + i) % this.#urls.length;
      try {
        const res = await this.#send(this.#urls[at]!, { method, pathAndQuery, body, o });
        this.#current = at;
        return res;
      } catch (err) {
        if (err instanceof NodeTrustError || (err as Error | null)?.name === "AbortError") throw err;
        lastError = err;
      }
    }
    throw lastError;
  }

  #send(
    baseUrl: string,
    r: { method: string; pathAndQuery: string; body: Body | undefined; o: RawOptions },
  ): Promise<Response> {
    const { method, pathAndQuery, body, o } = r;
    const streamed = body instanceof ReadableStream;
    if (streamed && !o.unsigned) throw new TypeError("Cannot sign a streamed body: pass unsigned: true");
    const headers: Record<string, string> = {
      ...signRequest({
        deviceId: this.opts.deviceId,
        httpKey: this.#httpKey,
        method,
        pathAndQuery,
        ...(o.unsigned
          ? { body: UNSIGNED_PAYLOAD }
          : body === undefined
            ? {}
            : { body: body as Uint8Array | string }),
        ...(o.now === undefined ? {} : { now: o.now }),
        ...(o.nonce === undefined ? {} : { nonce: o.nonce }),
      }),
    };
    if (body !== undefined && !streamed) headers["content-type"] = "application/json";
    if (streamed) headers["content-type"] = "application/octet-stream";
    Object.assign(headers, o.headers);
    const init: RequestInit & { duplex?: "half" } = { method, headers };
    if (body !== undefined) {
      init.body = body as RequestInit["body"];
      if (streamed) init.duplex = "half";
    }
    return this.#fetch(`${baseUrl}${pathAndQuery}`, init);
  }

  async #call<T>(method: string, path: string, body?: unknown, o: RawOptions = {}): Promise<T> {
    return json<T>(await this.raw(method, path, body === undefined ? undefined : JSON.stringify(body), o));
  }

  /** Publishes this recorder's X25519 identity key (raw, base64url); the node gives it to its session peers. */
  publishIdentity(publicKey: string): Promise<{ publicKey: string }> {
    return this.#call("PUT", "/v1/identity", { publicKey });
  }

  /** address: an IP address, or a DNS host name (seed A variation 3), which is sent as `host`. */
  register(address: string, port: number): Promise<RegistrationResponse> {
    const body = isIP(address) === 0 ? { host: address, port } : { address, port };
    return this.#call("PUT", "/v1/registration", body);
  }
  registration(): Promise<RegistrationResponse> {
    return this.#call("GET", "/v1/registration");
  }

  allowList(): Promise<AllowListResponse> {
    return this.#call("GET", "/v1/allow-list");
  }
  /** Seed A FIG. 3: {create} replaces, {add}/{delete} edit, both together in one request. */
  updateAllowList(u: AllowListUpdate): Promise<AllowListResponse> {
    return this.#call("PUT", "/v1/allow-list", u);
  }
  /** Policy "list" (seed B embodiment 1): this device's list for the query whose `list` trigger carried `request`. */
  async sendPermissionList(
    request: string,
    list: { entries: string[]; groups: Record<string, string[]> },
  ): Promise<void> {
    const res = await this.raw("POST", "/v1/permission-list", JSON.stringify({ request, ...list }));
    if (!res.ok) throw await failure(res);
  }
  setPolicy(policy: AllowPolicy): Promise<AllowListResponse> {
    return this.#call("PUT", "/v1/policy", { policy });
  }

  createGroup(name: string): Promise<GroupResponse> {
    return this.#call("POST", "/v1/groups", { name });
  }
  group(name: string): Promise<GroupResponse> {
    return this.#call("GET", `/v1/groups/${encodeURIComponent(name)}`);
  }
  updateGroup(name: string, u: GroupMembersUpdate): Promise<GroupResponse> {
    return this.#call("PUT", `/v1/groups/${encodeURIComponent(name)}/members`, u);
  }
  async deleteGroup(name: string): Promise<void> {
    const res = await this.raw("DELETE", `/v1/groups/${encodeURIComponent(name)}`);
    if (!res.ok) throw await failure(res);
  }

  /** QUERY: 200 gives a live session and the callee's address; 202 (storeIfBusy, callee busy) a store session. */
  async query(
    callee: string,
    opts: { storeIfBusy?: boolean; size?: number; idempotencyKey?: string } = {},
  ): Promise<({ status: 200 } & QueryResponse) | ({ status: 202 } & QueryStoreResponse)> {
    const body = {
      callee,
      ...(opts.storeIfBusy === undefined ? {} : { storeIfBusy: opts.storeIfBusy }),
      ...(opts.size === undefined ? {} : { size: opts.size }),
    };
    // One key for every attempt of this QUERY: a retry on another node supersedes what an earlier attempt got.
    const res = await this.raw("POST", "/v1/query", JSON.stringify(body), {
      retry: true,
      headers: idempotencyHeader(opts.idempotencyKey),
    });
    if (res.status === 200) return { status: 200, ...((await res.json()) as QueryResponse) };
    if (res.status === 202) return { status: 202, ...((await res.json()) as QueryStoreResponse) };
    throw await failure(res);
  }

  /** The callee's copies of sessions issued for it; each is handed out once. */
  pendingSessions(): Promise<PendingSession[]> {
    return this.#call("GET", "/v1/sessions/pending");
  }
  session(id: string): Promise<SessionStatus> {
    return this.#call("GET", `/v1/sessions/${encodeURIComponent(id)}`);
  }
  extend(id: string): Promise<ExtendResponse> {
    return this.#call("POST", `/v1/sessions/${encodeURIComponent(id)}/extend`, {});
  }
  /** Retried on the next node: the node answers a repeat of the same report as the first, counting it once. */
  end(id: string, e: EndRequest): Promise<SessionStatus> {
    return this.#call("POST", `/v1/sessions/${encodeURIComponent(id)}/end`, e, { retry: true });
  }

  // Relay and store-and-forward (control/relay).
  /** Retried on the next node with the same idempotency key: a retry returns the transfer, not a second one. */
  createTransfer(t: TransferRequest): Promise<{ transfer: TransferInfo }> {
    const { idempotencyKey, ...body } = t;
    return this.#call("POST", "/v1/transfers", body, {
      retry: true,
      headers: idempotencyHeader(idempotencyKey),
    });
  }
  /** Appends sealed bytes at offset (which must equal what the node holds); streamed bodies go UNSIGNED-PAYLOAD. */
  async uploadData(
    id: string,
    offset: number,
    body: Uint8Array | ReadableStream<Uint8Array>,
  ): Promise<{ received: number }> {
    const res = await this.raw("PUT", `/v1/transfers/${encodeURIComponent(id)}/data?offset=${offset}`, body, {
      unsigned: true,
      headers: { "content-type": "application/octet-stream" },
    });
    return json(res);
  }
  /** Completing twice answers the same state (the node's completion is idempotent), so it is retried. */
  completeTransfer(id: string, c: { size: number; sha256?: string }): Promise<TransferInfo> {
    return this.#call("POST", `/v1/transfers/${encodeURIComponent(id)}/complete`, c, { retry: true });
  }
  transfer(id: string): Promise<TransferInfo> {
    return this.#call("GET", `/v1/transfers/${encodeURIComponent(id)}`);
  }
  /** The sender gives a transfer up: the node drops what it holds and frees the quota (204). */
  async cancelTransfer(id: string): Promise<void> {
    const res = await this.raw("DELETE", `/v1/transfers/${encodeURIComponent(id)}`);
    if (!res.ok) throw await failure(res);
  }
  /** The raw streamed download; read res.body. */
  async downloadData(id: string, offset = 0): Promise<Response> {
    const res = await this.raw("GET", `/v1/transfers/${encodeURIComponent(id)}/data?offset=${offset}`);
    if (!res.ok) throw await failure(res);
    return res;
  }
  ackTransfer(id: string): Promise<unknown> {
    return this.#call("POST", `/v1/transfers/${encodeURIComponent(id)}/ack`, {});
  }
  inbox(): Promise<InboxEntry[]> {
    return this.#call("GET", "/v1/inbox");
  }
}

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
    return json<T>(await this.raw(method, path, body === undefined ? undefined : JSON.stringify(body)));
  }

  devices(): Promise<AdminDevice[]> {
    return this.#call("GET", "/admin/devices");
  }
  enroll(name: string): Promise<DeviceCredential> {
    return this.#call("POST", "/admin/devices", { name });
  }
  async removeDevice(id: string): Promise<void> {
    const res = await this.raw("DELETE", `/admin/devices/${encodeURIComponent(id)}`);
    if (!res.ok) throw await failure(res);
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
