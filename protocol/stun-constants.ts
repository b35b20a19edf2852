/** @module Named wire values of STUN (RFC 8489) and the pvrlink attributes that ride in its comprehension-optional range. */

/** Fixed header length: type, length, magic cookie, transaction id (RFC 8489 5). */
export const STUN_HEADER_BYTES = 20;
/** Magic cookie, fixed value in every RFC 5389/8489 message (RFC 8489 5). */
export const MAGIC_COOKIE = 0x2112a442;
/** Transaction id length: 96 bits (RFC 8489 5). */
export const TRANSACTION_ID_BYTES = 12;
/** Attributes are padded to a multiple of 4 bytes (RFC 8489 14). */
export const ATTRIBUTE_ALIGN = 4;
/** Type-length header in front of every attribute value (RFC 8489 14). */
export const ATTRIBUTE_HEADER_BYTES = 4;
/** Largest datagram we build or accept; RFC 8489 6.1 wants messages kept below the path MTU, 548 bytes for IPv4 when unknown. */
export const STUN_MAX_MESSAGE_BYTES = 1280;

/** Binding method (RFC 8489 18.2). */
export const METHOD_BINDING = 0x001;
/** Class bits folded into the message type: C1 at bit 8, C0 at bit 4 (RFC 8489 5, figure 3). */
export const CLASS_REQUEST = 0b00;
export const CLASS_INDICATION = 0b01;
export const CLASS_SUCCESS = 0b10;
export const CLASS_ERROR = 0b11;
/** Binding Request, Success Response and Error Response as assembled type values (RFC 8489 5, 18.2). */
export const BINDING_REQUEST = 0x0001;
export const BINDING_SUCCESS = 0x0101;
export const BINDING_ERROR = 0x0111;

/** Comprehension-required attributes (0x0000-0x7FFF), RFC 8489 14 and 18.3. */
export const ATTR_MAPPED_ADDRESS = 0x0001;
export const ATTR_USERNAME = 0x0006;
export const ATTR_MESSAGE_INTEGRITY = 0x0008;
export const ATTR_ERROR_CODE = 0x0009;
export const ATTR_UNKNOWN_ATTRIBUTES = 0x000a;
export const ATTR_REALM = 0x0014;
export const ATTR_NONCE = 0x0015;
export const ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001c;
export const ATTR_PASSWORD_ALGORITHM = 0x001d;
export const ATTR_USERHASH = 0x001e;
export const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
/** Comprehension-optional attributes (0x8000-0xFFFF), RFC 8489 14 and 18.3. */
export const ATTR_PASSWORD_ALGORITHMS = 0x8002;
export const ATTR_ALTERNATE_DOMAIN = 0x8003;
export const ATTR_SOFTWARE = 0x8022;
export const ATTR_ALTERNATE_SERVER = 0x8023;
export const ATTR_FINGERPRINT = 0x8028;
/** First comprehension-optional type: below it, an unknown attribute makes the request fail with 420 (RFC 8489 14). */
export const COMPREHENSION_OPTIONAL_MIN = 0x8000;

/**
 * pvrlink keepalive attributes. They sit in the Expert Review comprehension-optional block (0xC000-0xFFFF,
 * RFC 8489 18.3) at values IANA has not assigned, so a plain STUN server ignores them instead of failing.
 */
/** Device's clock at send time, unix milliseconds as an unsigned 64-bit integer: the keepalive replay window. */
export const ATTR_PVRLINK_TIMESTAMP = 0xfd70;
/** Keepalive interval the device announces, seconds as an unsigned 32-bit integer. */
export const ATTR_PVRLINK_INTERVAL = 0xfd71;

/**
 * pvrlink session-binding attributes (docs/nat.md "Per-session mappings"). PVRLINK-SESSION is
 * comprehension-required (Expert Review block 0x4000-0x7FFF, RFC 8489 18.3): a node that does not know it answers
 * 420 instead of taking the request for a keepalive and moving the device's trigger mapping to a session socket.
 */
/** The session id the request binds a mapping to, UTF-8 text. */
export const ATTR_PVRLINK_SESSION = 0x7d72;
/** The sender's own (LAN) address of its session socket, XOR-encoded like XOR-MAPPED-ADDRESS. */
export const ATTR_PVRLINK_LOCAL_ADDRESS = 0xfd73;
/** In a response: the session peer's mapping as the node saw it, XOR-encoded. */
export const ATTR_PVRLINK_PEER_ADDRESS = 0xfd74;
/** In a response: the peer's LAN address, sent only when both mappings share one public address (same router). */
export const ATTR_PVRLINK_PEER_LOCAL_ADDRESS = 0xfd75;

/** HMAC-SHA1 value length of MESSAGE-INTEGRITY (RFC 8489 14.5). */
export const MESSAGE_INTEGRITY_BYTES = 20;
/** Full HMAC-SHA256 value length of MESSAGE-INTEGRITY-SHA256; truncation to 16..32 in steps of 4 is allowed (RFC 8489 14.6). */
export const MESSAGE_INTEGRITY_SHA256_BYTES = 32;
export const MESSAGE_INTEGRITY_SHA256_MIN_BYTES = 16;
/** FINGERPRINT value: CRC-32 (ISO 3309) of the message XOR this constant, "STUN" in ASCII (RFC 8489 14.7). */
export const FINGERPRINT_XOR = 0x5354554e;
export const FINGERPRINT_BYTES = 4;

/** USERNAME is at most 509 bytes (RFC 8489 14.3). */
export const USERNAME_MAX_BYTES = 509;
/** SOFTWARE and the ERROR-CODE reason phrase are at most 763 bytes (RFC 8489 14.14, 14.8). */
export const TEXT_MAX_BYTES = 763;

/** Address families inside (XOR-)MAPPED-ADDRESS (RFC 8489 14.1). */
export const FAMILY_IPV4 = 0x01;
export const FAMILY_IPV6 = 0x02;

/** ERROR-CODE values used here (RFC 8489 14.8). */
export const ERROR_BAD_REQUEST = 400;
export const ERROR_UNAUTHENTICATED = 401;
/** Forbidden (RFC 8656 18 registers it for STUN): authenticated, but not a party of the named session. */
export const ERROR_FORBIDDEN = 403;
export const ERROR_UNKNOWN_ATTRIBUTE = 420;
export const ERROR_SERVER_ERROR = 500;
