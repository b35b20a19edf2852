/** @module A typed client for every control-node HTTP route: signs each request with the device's HTTP subkey; the firmware and the tests use it. */
import { isIP } from "node:net";
import { randomToken } from "../crypto/random-token.ts";
import {
  type AllowListResponse,
  type AllowListUpdate,
  type AllowPolicy,
  type EndRequest,
  type EnrollResponse,
  type ExtendResponse,
  type GroupMembersUpdate,
  type GroupResponse,
  type InboxEntry,
  type PendingSession,
  type QueryResponse,
  type QueryStoreResponse,
  type RegistrationResponse,
  type SessionStatus,
  type TransferInfo,
  type TransferRequest,
  UNSIGNED_PAYLOAD,
} from "./api-types.ts";
import { responseFailure, responseJson } from "./control-api-error.ts";
import { type NodeTrust, NodeTrustError, nodeFetch } from "./node-fetch.ts";
import { httpKeyFromSecret, signRequest } from "./request-signature.ts";

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
    return responseJson<EnrollResponse>(res);
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
    return responseJson<T>(
      await this.raw(method, path, body === undefined ? undefined : JSON.stringify(body), o),
    );
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
    if (!res.ok) throw await responseFailure(res);
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
    if (!res.ok) throw await responseFailure(res);
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
    throw await responseFailure(res);
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
    return responseJson(res);
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
    if (!res.ok) throw await responseFailure(res);
  }
  /** The raw streamed download; read res.body. */
  async downloadData(id: string, offset = 0): Promise<Response> {
    const res = await this.raw("GET", `/v1/transfers/${encodeURIComponent(id)}/data?offset=${offset}`);
    if (!res.ok) throw await responseFailure(res);
    return res;
  }
  ackTransfer(id: string): Promise<unknown> {
    return this.#call("POST", `/v1/transfers/${encodeURIComponent(id)}/ack`, {});
  }
  inbox(): Promise<InboxEntry[]> {
    return this.#call("GET", "/v1/inbox");
  }
}
