// The coordinator address `KEY@HOST:PORT`, checked as crates/protocol/src/address.rs parses
// it. KEY is the coordinator's ed25519 public key as 52 base32 characters (RFC 4648, no
// padding, written in lowercase); an `idleshare://` prefix is accepted; IPv6 hosts are
// bracketed. Whether the key is a valid curve point is left to the node.

const SCHEME = "idleshare://";
/** Characters in a printed key: 32 bytes of base32 without padding. */
export const KEY_CHARS = 52;

export type AddressParts = { key: string; host: string; port: number };
export type AddressCheck = { ok: true; value: AddressParts } | { ok: false; message: string };

/**
 * Why a key is not a node id, or null. 52 base32 characters carry 260 bits for 256, so the
 * last character's low 4 bits must be zero: it is `a` or `q`.
 */
export function checkKey(key: string): string | null {
  if (key.length === 0) return "The key before '@' is missing.";
  if (!/^[a-z2-7]+$/i.test(key)) return "The key must be base32: letters a–z and digits 2–7.";
  if (key.length !== KEY_CHARS) return `The key must be ${KEY_CHARS} characters long (it has ${key.length}).`;
  if (!/[aq]$/i.test(key)) return "The key is not a valid public key (check its last character).";
  return null;
}

/** Parses an address as the node does; empty text is not an address (see `checkCoordinator`). */
export function parseCoordinatorAddress(text: string): AddressCheck {
  let rest = text.trim();
  if (rest.startsWith(SCHEME)) rest = rest.slice(SCHEME.length);
  const at = rest.indexOf("@");
  if (at < 0) return { ok: false, message: "An address looks like KEY@HOST:PORT (the '@' is missing)." };
  const key = rest.slice(0, at);
  const keyProblem = checkKey(key);
  if (keyProblem) return { ok: false, message: keyProblem };
  const hostPort = rest.slice(at + 1);
  let host: string;
  let port: string;
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) return { ok: false, message: `The host "${hostPort}" is malformed.` };
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (!after.startsWith(":")) return { ok: false, message: "The address must end with :PORT." };
    port = after.slice(1);
  } else {
    const colon = hostPort.lastIndexOf(":");
    if (colon < 0) return { ok: false, message: "The address must end with :PORT." };
    host = hostPort.slice(0, colon);
    port = hostPort.slice(colon + 1);
    if (host.includes(":")) return { ok: false, message: "Put an IPv6 host in brackets: KEY@[::1]:PORT." };
  }
  if (host.length === 0 || !/^[A-Za-z0-9.\-:_]+$/.test(host)) {
    return { ok: false, message: `The host "${host}" is empty or malformed.` };
  }
  // Rust's u16 parse: ASCII digits with an optional leading '+', 1..=65535.
  const portNumber = /^\+?[0-9]+$/.test(port) ? Number(port) : NaN;
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65_535) {
    return { ok: false, message: `The port "${port}" is not a number between 1 and 65535.` };
  }
  return { ok: true, value: { key: key.toLowerCase(), host, port: portNumber } };
}

/** The form's check: empty means the embedded local network and is fine. */
export function checkCoordinator(text: string): string | null {
  if (text.trim() === "") return null;
  const parsed = parseCoordinatorAddress(text);
  return parsed.ok ? null : parsed.message;
}

/** What the preferences store: null for the local network, else the trimmed text. */
export function coordinatorPreference(text: string): string | null {
  const trimmed = text.trim();
  return trimmed === "" ? null : trimmed;
}

/** "coord.example.org:7350" from a full address, for labels; the text itself if it does not parse. */
export function coordinatorHostPort(text: string): string {
  const parsed = parseCoordinatorAddress(text);
  if (!parsed.ok) return text;
  const { host, port } = parsed.value;
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
