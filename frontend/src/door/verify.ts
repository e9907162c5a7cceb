/** Checking a ticket at the door without the network: its secret's Ed25519 signature against the
 * platform's public key (WebCrypto), then what this scanner knows of the event (revoked tickets,
 * tickets already let in). booking's door.py decides the same way once the scan syncs.
 *
 * secret = base64url(payload JSON) "." base64url(signature of payload); the payload is
 * {v, kid, tid, bid, eid, seat}. */

export interface PublicKeyDocument {
  algorithm: "Ed25519";
  kid: string;
  jwk: { kty: "OKP"; crv: "Ed25519"; x: string; kid?: string };
}

export interface TicketClaims {
  tid: string;
  bid: string;
  eid: string;
  seat: string;
  kid: string;
}

export type Verdict = "valid" | "already_used" | "revoked" | "wrong_event" | "invalid";

export interface FirstScan {
  scan_id: string;
  device_id: string;
  scanned_at: string;
}

export interface Decision {
  verdict: Verdict;
  claims: TicketClaims | null;
  /** For already used: the scan that let the ticket in. */
  first: FirstScan | null;
}

export interface DoorKnowledge {
  eventId: string;
  revoked: ReadonlySet<string>;
  /** ticket id → its first scan, from this device and from the server's list. */
  used: ReadonlyMap<string, FirstScan>;
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export async function importPublicKey(document: PublicKeyDocument): Promise<CryptoKey> {
  if (document.algorithm !== "Ed25519") throw new Error(`unsupported algorithm ${document.algorithm}`);
  return crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", x: document.jwk.x },
    { name: "Ed25519" },
    false,
    ["verify"],
  );
}

/** The ticket's claims if its signature is the platform's; null for anything else. */
export async function verifySecret(secret: string, key: CryptoKey, kid: string): Promise<TicketClaims | null> {
  const parts = secret.trim().split(".");
  if (parts.length !== 2) return null;
  try {
    const payload = fromBase64Url(parts[0]!);
    const signature = fromBase64Url(parts[1]!);
    if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, signature, payload))) return null;
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    const fields = ["tid", "bid", "eid", "seat", "kid"] as const;
    if (fields.some((field) => typeof claims[field] !== "string")) return null;
    if (claims.kid !== kid) return null;
    return claims as unknown as TicketClaims;
  } catch {
    return null;
  }
}

/** What the person at the door is told, from the signature and what the scanner knows. */
export async function decide(
  secret: string,
  key: CryptoKey,
  kid: string,
  knowledge: DoorKnowledge,
): Promise<Decision> {
  const claims = await verifySecret(secret, key, kid);
  if (claims === null) return { verdict: "invalid", claims: null, first: null };
  if (claims.eid !== knowledge.eventId) return { verdict: "wrong_event", claims, first: null };
  if (knowledge.revoked.has(claims.tid)) return { verdict: "revoked", claims, first: null };
  const first = knowledge.used.get(claims.tid);
  if (first) return { verdict: "already_used", claims, first };
  return { verdict: "valid", claims, first: null };
}
