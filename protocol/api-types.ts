/** @module The control node's HTTP API: header names, error codes and the JSON bodies of every route, shared by the node, the firmware and the tests. */

/** Request-signing headers (docs/protocol.md "Authentication"). */
export const HEADER_DEVICE = "x-pvrlink-device";
export const HEADER_TIMESTAMP = "x-pvrlink-timestamp";
export const HEADER_NONCE = "x-pvrlink-nonce";
export const HEADER_CONTENT_SHA256 = "x-pvrlink-content-sha256";
export const HEADER_SIGNATURE = "x-pvrlink-signature";
/** Stands in for the body hash on streamed data routes, whose bodies are AEAD-sealed end to end. */
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/** Every stable error code the API returns, in `{"error":{"code","message"}}`. */
export type ErrorCode =
  | "bad_request"
  | "body_too_large"
  | "unsupported_media_type"
  | "not_found"
  | "stale_request"
  | "replayed_request"
  | "bad_signature"
  | "unknown_device"
  | "unauthorized"
  | "rate_limited"
  | "invalid_token"
  | "name_taken"
  | "permission_denied"
  | "callee_not_found"
  | "callee_not_connected"
  | "callee_busy"
  | "not_registered"
  | "policy_is_device"
  | "group_not_found"
  | "group_exists"
  | "not_group_owner"
  | "session_not_found"
  | "session_ended"
  | "extension_refused"
  | "transfer_not_found"
  | "transfer_too_large"
  | "quota_exceeded"
  | "offset_mismatch"
  | "internal_error"
  // Issue 21 item 2: the node-wide spool cap, and the free space kept for the database (both 507).
  | "spool_full"
  | "insufficient_storage"
  // Issue 21 item 9: a registration of a loopback, private, link-local or special-purpose address.
  | "address_not_public"
  // Issue 17 item 2: a device's list for a query that is not (or no longer) waiting for it.
  | "list_request_not_found"
  // Relay routes (control/relay) may add their own codes; clients treat any string as a code.
  | (string & {});

export interface ApiErrorBody {
  error: { code: ErrorCode; message: string };
}

/** A device as peers see it: its id, its name, and the direct-channel address it registered (null if never). */
export interface PeerInfo {
  id: string;
  name: string;
  address: string | null;
  port: number | null;
  /** The NAT mapping the node saw in the peer's latest keepalive, if any (useful for hole punching). */
  mapped?: { address: string; port: number };
  /** The peer's X25519 identity key (raw, base64url) as it published it; the other peer pins it by name. */
  publicKey?: string;
  /**
   * The host name the peer registered (seed A variation 3). In a query answer `address` is then what the node
   * resolved it to just now; elsewhere (a pending grant's caller) `address` is null.
   */
  host?: string;
}

/**
 * node: the node holds the list and judges (seed A); device: the device judges each caller (seed B embodiment 2);
 * list: the device sends its list for each query and the node judges that query by it (seed B embodiment 1).
 */
export type AllowPolicy = "node" | "device" | "list";
export type SessionMode = "live" | "store";
export type SessionState = "active" | "ended";

// ---- Enrollment --------------------------------------------------------------------------------------------

export interface EnrollRequest {
  token: string;
  name: string;
}
export interface EnrollResponse {
  id: string;
  name: string;
  /** 32 CSPRNG bytes, base64url. Shown once; the node stores it for MAC verification and never logs it. */
  secret: string;
}
/** What `pvrlink control enroll` and `POST /admin/devices` print: the credential plus where the node listens. */
export interface DeviceCredential extends EnrollResponse {
  node: NodeAddresses;
}
/**
 * Where and how a recorder reaches the node. `http` is a URL (https:// unless the node runs --insecure-http);
 * `pin` (`sha256/BASE64` of the node certificate's SPKI) when recorders pin a self-signed certificate, absent
 * when the node's certificate is checked against the system CAs.
 */
export interface NodeAddresses {
  http: string;
  udp: string;
  pin?: string;
}

// ---- Registration ------------------------------------------------------------------------------------------

export interface RegistrationRequest {
  address: string;
  port: number;
}
export interface RegistrationResponse {
  id: string;
  name: string;
  address: string;
  port: number;
}

// ---- Allow-lists, policy, groups ---------------------------------------------------------------------------

/** Seed A FIG. 3: Create replaces the list; Add and Delete edit it; Add and Delete may come together. */
export interface AllowListUpdate {
  create?: string[];
  add?: string[];
  delete?: string[];
}
export interface AllowListResponse {
  policy: AllowPolicy;
  /** Lower-cased device names and `@group` names. Empty under policy "device": the node keeps no copy. */
  entries: string[];
}
export interface PolicyRequest {
  policy: AllowPolicy;
}
export interface GroupCreateRequest {
  name: string;
}
export interface GroupMembersUpdate {
  add?: string[];
  delete?: string[];
}
export interface GroupResponse {
  name: string;
  owner: string;
  /** Lower-cased device names. */
  members: string[];
}

// ---- Query and sessions ------------------------------------------------------------------------------------

export interface QueryRequest {
  callee: string;
  storeIfBusy?: boolean;
  /** Bytes the caller means to send: the node's store offer checks them (seed A S2611, S2202). */
  size?: number;
}

/** The `store` field of a 409 callee_busy: the node's offer to store, or why it cannot (seed A S2611). */
export type StoreOfferAnswer =
  | { offered: true; quotaLeft?: number; threshold?: number }
  | { offered: false; reason: string; message: string };

/** The session material a peer receives once (seed A FIG. 5 (d)/(e), seed B FIG. 4A/4B). */
export interface SessionGrant {
  id: string;
  /** One-time password, 16 CSPRNG bytes base64url; valid until connectBy and for one connection only. */
  password: string;
  /** AES-256 session key, 32 CSPRNG bytes base64url. */
  key: string;
  /** Permitted duration in seconds. */
  duration: number;
  /** Unix ms when the lease ends (start + duration; moved by extensions). */
  expiresAt: number;
  /** Unix ms after which the password is no longer valid for a first connection. */
  connectBy: number;
  mode: SessionMode;
  /**
   * Seed A variation 9: the callee's own one-time password (16 CSPRNG bytes base64url), independent of
   * `password`. The callee presents it in ACCEPTED; the caller verifies it before sending any data.
   */
  calleePassword?: string;
  /**
   * Issue 21 item 6: the node's contact ticket (base64url HMAC-SHA256, crypto/contact-ticket.ts) under a key of
   * the callee's device secret over the session id and connectBy. The caller puts it in the direct-channel
   * preamble, so a callee that has not fetched the grant yet can tell the node's caller from a stranger
   * before it asks the node anything. Live sessions only.
   */
  contactTicket?: string;
}

export interface QueryResponse {
  session: SessionGrant;
  callee: PeerInfo;
}
/** 202 answer to a query with storeIfBusy when the callee is busy: upload to the spool under this session. */
export interface QueryStoreResponse {
  /** Why the data goes to the spool: the callee is busy, or (issue 19 item 7) its box is off. */
  code: "callee_busy" | "callee_not_connected";
  session: SessionGrant;
  callee: { id: string; name: string; publicKey?: string };
}

export interface PendingSession extends SessionGrant {
  caller: PeerInfo;
}

export interface ExtendResponse {
  expiresAt: number;
  duration: number;
  extensions: number;
}

/** End reasons a callee reports once it has the recording: filed, or already held so nothing new was filed. */
export const END_DONE = "done";
export const END_DONE_ALREADY_HELD = "done: already held";

export interface EndRequest {
  reason: string;
  bytesDirect?: number;
  bytesRelay?: number;
  /** Which path carried bytesDirect (issue 15); absent when nothing went direct. */
  directPath?: DirectPath;
}

/** The direct paths, in the order the caller prefers them: same LAN (punched), port forward (TCP), punched (QUIC). */
export const DIRECT_PATHS = ["lan", "port-forward", "punched"] as const;
export type DirectPath = (typeof DIRECT_PATHS)[number];

export interface SessionStatus {
  id: string;
  mode: SessionMode;
  state: SessionState;
  reason: string | null;
  startedAt: number;
  expiresAt: number;
  duration: number;
  extensions: number;
  caller: { id: string; name: string };
  callee: { id: string; name: string };
}

// ---- Accounting and admin ----------------------------------------------------------------------------------

/** One peer's end report as the accounting log keeps it (issue 21 item 4: what the node could check). */
export interface AccountingReport {
  /** Unix ms the report reached the node (for rows migrated from before issue 16: the session's end). */
  reportedAt: number;
  reason: string;
  /** The peer's claim: direct bytes never pass the node. */
  bytesDirect: number;
  /** Capped at what the node itself carried for the session. */
  bytesRelay: number;
  /** The path of the peer's direct bytes, or null (nothing direct, or a peer that predates issue 15). */
  directPath: DirectPath | null;
  /** What the node did not take on trust (capped relay, unverified direct bytes), or null. */
  note: string | null;
}

/**
 * One ended session in the accounting log (issue 16): the node's own figures, and each peer's report beside them
 * (null until it arrives). The two reports are kept as sent, so a disagreement between them stays visible.
 */
export interface AccountingEntry {
  sessionId: string;
  callerId: string;
  calleeId: string;
  /** Null only for a row migrated without its session. */
  mode: SessionMode | null;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** The session's end reason: the first end's. */
  reason: string;
  /** Who ended it: a peer's device id, "admin" for a forced end, "node" (expired, revoked, superseded). */
  endedBy: string;
  /** Unix ms the node revoked it (a permission went, issue 21 item 3), or null. */
  revokedAt: number | null;
  /** Bytes the node relayed for the session, its own count. */
  bytesRelayNode: number;
  caller: AccountingReport | null;
  callee: AccountingReport | null;
}

export interface AdminDevice {
  id: string;
  name: string;
  policy: AllowPolicy;
  createdAt: number;
  registration: { address: string; port: number; at: number } | null;
  keepalive: { address: string; port: number; at: number; intervalSec: number } | null;
  connected: boolean;
  /** Unix ms when the operator disabled the device, or null. */
  disabledAt: number | null;
  /** The fingerprint of the X25519 identity key the device published (issue 13), or null before it did. */
  keyFingerprint: string | null;
}

export interface AdminSession extends SessionStatus {
  bytesRelayNode: number;
}

export interface EnrollmentTokenResponse {
  token: string;
  expiresAt: number;
  /** The node to redeem it at, with the certificate pin the recorder must see there. */
  node?: NodeAddresses;
}

export interface SpoolUsage {
  files: number;
  bytes: number;
}

// ---- Relay and store-and-forward (served by control/relay; kept loose where that module owns the details) ----

export type TransferKind = "relay" | "store";

export interface TransferRequest {
  session: string;
  size: number;
  kind: TransferKind;
  label?: string;
  /** Repeated on every attempt of this create (docs/protocol.md "Idempotency keys"); the client draws one. */
  idempotencyKey?: string;
}

export interface TransferInfo {
  id: string;
  received: number;
  complete: boolean;
  [field: string]: unknown;
}

export interface InboxEntry {
  [field: string]: unknown;
}
