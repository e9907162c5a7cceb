import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { DoorStore, oneAtATime, SYNC_BATCH, sync, type DoorApi, type ScanRecord, type ServerScanResult } from "./queue";
import { decide, importPublicKey, verifySecret, type PublicKeyDocument } from "./verify";

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Plays booking's TicketSigner: an Ed25519 key and secrets signed with it. */
async function signer(kid = "k1") {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const document: PublicKeyDocument = { algorithm: "Ed25519", kid, jwk: { kty: "OKP", crv: "Ed25519", x: jwk.x! } };
  const issue = async (claims: { tid: string; bid?: string; eid?: string; seat?: string; kid?: string }) => {
    const payload = encoder.encode(
      JSON.stringify({ v: 1, kid, bid: "b1", eid: "event-1", seat: "A-1-1", ...claims }),
    );
    const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, payload));
    return `${base64url(payload)}.${base64url(signature)}`;
  };
  return { document, key: await importPublicKey(document), issue };
}

const nothingKnown = { eventId: "event-1", revoked: new Set<string>(), used: new Map() };

describe("offline verification", () => {
  it("accepts the platform's signature and reads the ticket", async () => {
    const { key, issue } = await signer();
    const claims = await verifySecret(await issue({ tid: "t1", seat: "B-2-7" }), key, "k1");
    expect(claims).toMatchObject({ tid: "t1", eid: "event-1", seat: "B-2-7" });
  });

  it("refuses tampered, mixed-up, foreign and malformed secrets", async () => {
    const { key, issue } = await signer();
    const other = await signer();
    const secret = await issue({ tid: "t1" });
    const [payload, signature] = secret.split(".") as [string, string];
    const forgedPayload = base64url(encoder.encode(JSON.stringify({ v: 1, kid: "k1", tid: "t2", bid: "b", eid: "event-1", seat: "A-1-2" })));
    const otherSignature = (await issue({ tid: "t3" })).split(".")[1];
    for (const bad of [
      `${forgedPayload}.${signature}`,
      `${payload}.${otherSignature}`,
      await other.issue({ tid: "t1" }),
      "not a ticket",
      `${payload}`,
      `${payload}.${signature}.x`,
      `${payload}.%%%`,
      "",
    ]) {
      expect(await verifySecret(bad, key, "k1"), bad).toBeNull();
    }
    // Signed by this key but naming another key id: not a ticket of this key.
    expect(await verifySecret(await issue({ tid: "t1", kid: "k2" }), key, "k1")).toBeNull();
  });

  it("says valid, already used, revoked, wrong event or invalid", async () => {
    const { key, issue } = await signer();
    const first = { scan_id: "s0", device_id: "door-north", scanned_at: "2030-01-01T19:00:00Z" };
    const knowledge = { eventId: "event-1", revoked: new Set(["t-refunded"]), used: new Map([["t-in", first]]) };
    expect((await decide(await issue({ tid: "t-new" }), key, "k1", knowledge)).verdict).toBe("valid");
    const used = await decide(await issue({ tid: "t-in" }), key, "k1", knowledge);
    expect(used.verdict).toBe("already_used");
    expect(used.first).toEqual(first);
    expect((await decide(await issue({ tid: "t-refunded" }), key, "k1", knowledge)).verdict).toBe("revoked");
    expect((await decide(await issue({ tid: "t-x", eid: "event-2" }), key, "k1", knowledge)).verdict).toBe("wrong_event");
    expect((await decide("garbage", key, "k1", nothingKnown)).verdict).toBe("invalid");
  });
});

/** The server's side of check-in, as booking's door.py answers: first scan of a ticket wins. */
class FakeServer implements DoorApi {
  firsts = new Map<string, { scan_id: string; device_id: string; scanned_at: string }>();
  revoked: string[] = [];
  down = false;
  calls = 0;
  /** The size of each check-in request, in order. */
  batches: number[] = [];
  /** The network drops on this check-in request (1-based). */
  dropOnCall: number | null = null;
  /** Check-ins per page of the list (the server pages it with a cursor). */
  pageSize = 100;

  async checkIn(_eventId: string, scans: Pick<ScanRecord, "scan_id" | "secret" | "device_id" | "scanned_at">[]) {
    this.calls += 1;
    if (this.down || this.calls === this.dropOnCall) throw new Error("network down");
    this.batches.push(scans.length);
    return scans.map((scan): ServerScanResult => {
      const ticket = JSON.parse(atob(scan.secret.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))).tid as string;
      if (this.revoked.includes(ticket)) return { scan_id: scan.scan_id, result: "revoked", ticket_id: ticket, first_scan: null };
      const first = this.firsts.get(ticket) ?? { scan_id: scan.scan_id, device_id: scan.device_id, scanned_at: scan.scanned_at };
      this.firsts.set(ticket, first);
      return {
        scan_id: scan.scan_id,
        result: first.scan_id === scan.scan_id ? "valid" : "already_used",
        ticket_id: ticket,
        first_scan: first,
      };
    });
  }

  async revocations() {
    if (this.down) throw new Error("network down");
    return { tickets: this.revoked.map((ticket_id) => ({ ticket_id })) };
  }

  async checkins(_eventId: string, cursor?: string) {
    const all = [...this.firsts].map(([ticket_id, first]) => ({ ticket_id, ...first }));
    const start = cursor ? Number(cursor) : 0;
    const end = start + this.pageSize;
    return { items: all.slice(start, end), next_cursor: end < all.length ? String(end) : null };
  }
}

async function scanner(name: string, device: string, signed: Awaited<ReturnType<typeof signer>>) {
  const store = await DoorStore.open(name);
  await store.saveEvent({ event_id: "event-1", public_key: signed.document, revoked: [], checkins: {}, synced_at: null });
  let n = 0;
  const scan = async (secret: string) => {
    const decision = await decide(secret, signed.key, "k1", await store.knowledge("event-1"));
    const record: ScanRecord = {
      scan_id: `${device}-${++n}`,
      event_id: "event-1",
      device_id: device,
      secret,
      scanned_at: new Date(Date.now() + n).toISOString(),
      verdict: decision.verdict,
      ticket_id: decision.claims?.tid ?? null,
      seat_id: decision.claims?.seat ?? null,
      synced: 0,
    };
    await store.record(record);
    return decision.verdict;
  };
  return { store, scan };
}

describe("the sync queue", () => {
  it("keeps scans made offline, sends them when the network returns, and remembers across a reopen", async () => {
    const signed = await signer();
    const server = new FakeServer();
    const { store, scan } = await scanner("queue-offline", "door-1", signed);
    server.down = true;
    expect(await scan(await signed.issue({ tid: "t1" }))).toBe("valid");
    const again = await scan(await signed.issue({ tid: "t1" }));
    expect(again).toBe("already_used"); // this device remembers, offline
    await expect(sync(store, server, "event-1")).rejects.toThrow("network down");
    expect(await store.pending("event-1")).toHaveLength(2); // nothing lost
    store.close();

    const reopened = await DoorStore.open("queue-offline");
    server.down = false;
    const outcome = await sync(reopened, server, "event-1");
    expect(outcome.sent).toBe(2);
    expect(outcome.flagged).toEqual([]); // the second scan was refused here already
    expect(await reopened.pending("event-1")).toEqual([]);
    const [first, second] = await reopened.scans("event-1");
    expect([first!.server_result, second!.server_result]).toEqual(["valid", "already_used"]);
    // A retried sync (its answer lost) sends nothing twice.
    expect((await sync(reopened, server, "event-1")).sent).toBe(0);
    reopened.close();
  });

  it("flags a ticket let in on two devices, and each refuses it after syncing", async () => {
    const signed = await signer();
    const server = new FakeServer();
    const north = await scanner("queue-north", "door-north", signed);
    const south = await scanner("queue-south", "door-south", signed);
    const ticket = await signed.issue({ tid: "t-shared" });
    // Both offline: each lets the same ticket in.
    expect(await north.scan(ticket)).toBe("valid");
    expect(await south.scan(ticket)).toBe("valid");
    expect((await sync(north.store, server, "event-1")).flagged).toEqual([]);
    const southOutcome = await sync(south.store, server, "event-1");
    expect(southOutcome.flagged).toHaveLength(1);
    expect(southOutcome.flagged[0]!.flag).toEqual({
      reason: "scanned_twice",
      first: expect.objectContaining({ device_id: "door-north" }),
    });
    // After syncing, a third device that only downloaded the list refuses it too.
    const west = await scanner("queue-west", "door-west", signed);
    await sync(west.store, server, "event-1");
    expect(await west.scan(ticket)).toBe("already_used");
  });

  it("refuses a refunded ticket once the revocation list is synced, and flags one let in before", async () => {
    const signed = await signer();
    const server = new FakeServer();
    const door = await scanner("queue-revoked", "door-1", signed);
    const early = await signed.issue({ tid: "t-early" });
    const late = await signed.issue({ tid: "t-late" });
    expect(await door.scan(early)).toBe("valid"); // offline, before the refund reached us
    server.revoked = ["t-early", "t-late"];
    const outcome = await sync(door.store, server, "event-1");
    expect(outcome.flagged.map((scan) => scan.flag?.reason)).toEqual(["revoked"]);
    expect(await door.scan(late)).toBe("revoked");
  });
});

describe("a long queue", () => {
  it("goes in batches, and a network drop mid-way keeps what was not answered for the next sync", async () => {
    const signed = await signer();
    const server = new FakeServer();
    server.pageSize = 64; // the check-ins come back over several pages
    const door = await scanner("queue-long", "door-1", signed);
    const total = 2 * SYNC_BATCH + 50;
    for (let i = 0; i < total; i++) expect(await door.scan(await signed.issue({ tid: `t${i}` }))).toBe("valid");

    server.dropOnCall = 2;
    await expect(sync(door.store, server, "event-1")).rejects.toThrow("network down");
    expect(server.batches).toEqual([SYNC_BATCH]);
    expect(await door.store.pending("event-1")).toHaveLength(total - SYNC_BATCH);

    const outcome = await sync(door.store, server, "event-1");
    expect(server.batches).toEqual([SYNC_BATCH, SYNC_BATCH, 50]);
    expect(outcome).toEqual({ sent: total - SYNC_BATCH, flagged: [] });
    expect(await door.store.pending("event-1")).toEqual([]);
    // Every page of the server's check-ins was read.
    const cache = await door.store.event("event-1");
    expect(Object.keys(cache!.checkins)).toHaveLength(total);
  });
});

describe("one sync at a time", () => {
  it("never overlaps, and runs once more after a run that was asked for again meanwhile", async () => {
    let active = 0;
    let most = 0;
    let runs = 0;
    const gates: (() => void)[] = [];
    const run = oneAtATime(async () => {
      runs += 1;
      active += 1;
      most = Math.max(most, active);
      await new Promise<void>((resolve) => gates.push(resolve));
      active -= 1;
    });
    const first = run();
    const during = [run(), run(), run()]; // three scans while the first sync runs
    expect(runs).toBe(1);
    gates.shift()!();
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(runs).toBe(2); // one more, not three
    gates.shift()!();
    await Promise.all([first, ...during]);
    expect(runs).toBe(2);
    expect(most).toBe(1);
    // Idle again: the next call runs at once.
    const later = run();
    expect(runs).toBe(3);
    gates.shift()!();
    await later;
  });

  it("is usable again after a run that threw", async () => {
    let fail = true;
    let runs = 0;
    const run = oneAtATime(async () => {
      runs += 1;
      if (fail) throw new Error("server down");
    });
    await expect(run()).rejects.toThrow("server down");
    fail = false;
    await run();
    expect(runs).toBe(2);
  });
});
