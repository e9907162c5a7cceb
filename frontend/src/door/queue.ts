/** The scanner's memory, in IndexedDB so it survives a reload, a crash and a network outage: every
 * scan (queued until the server has it), and per event the public key, the revoked tickets and
 * the tickets already let in (downloaded at each sync).
 *
 * Sync: queued scans go to the server (200 at a time, each with its own scan_id, so a sync retried
 * after a lost answer is a replay); the server's answer flags a ticket that was also let in
 * elsewhere, or let in here offline although it had been refunded; then the event's revocation
 * list and check-ins are downloaded, so this device refuses what others let in. */
import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import type { DoorKnowledge, FirstScan, PublicKeyDocument, Verdict } from "./verify";

export interface ScanRecord {
  scan_id: string;
  event_id: string;
  device_id: string;
  secret: string;
  scanned_at: string;
  /** What the door said when it was scanned (offline, from what the scanner knew). */
  verdict: Verdict;
  ticket_id: string | null;
  seat_id: string | null;
  synced: 0 | 1;
  /** What the server said at sync. */
  server_result?: Verdict;
  /** Set when the server's answer contradicts a let-in: where and when the ticket was let in first. */
  flag?: { reason: "scanned_twice" | "revoked"; first: FirstScan | null };
}

export interface EventCache {
  event_id: string;
  public_key: PublicKeyDocument;
  revoked: string[];
  checkins: Record<string, FirstScan>;
  synced_at: string | null;
}

interface DoorDB extends DBSchema {
  scans: { key: string; value: ScanRecord; indexes: { by_event: string } };
  events: { key: string; value: EventCache };
}

export interface ServerScanResult {
  scan_id: string;
  result: Verdict;
  ticket_id: string | null;
  first_scan: (FirstScan & { recorded_at?: string }) | null;
}

/** What sync needs of the API (booking's door routes). */
export interface DoorApi {
  checkIn(eventId: string, scans: Pick<ScanRecord, "scan_id" | "secret" | "device_id" | "scanned_at">[]): Promise<ServerScanResult[]>;
  revocations(eventId: string): Promise<{ tickets: { ticket_id: string }[] }>;
  checkins(eventId: string, cursor?: string): Promise<{ items: ({ ticket_id: string } & FirstScan)[]; next_cursor: string | null }>;
}

export const SYNC_BATCH = 200;

export class DoorStore {
  private constructor(private readonly db: IDBPDatabase<DoorDB>) {}

  static async open(name = "ticketing-door"): Promise<DoorStore> {
    const db = await openDB<DoorDB>(name, 1, {
      upgrade(database) {
        const scans = database.createObjectStore("scans", { keyPath: "scan_id" });
        scans.createIndex("by_event", "event_id");
        database.createObjectStore("events", { keyPath: "event_id" });
      },
    });
    return new DoorStore(db);
  }

  close(): void {
    this.db.close();
  }

  event(eventId: string): Promise<EventCache | undefined> {
    return this.db.get("events", eventId);
  }

  async saveEvent(cache: EventCache): Promise<void> {
    await this.db.put("events", cache);
  }

  async record(scan: ScanRecord): Promise<void> {
    await this.db.put("scans", scan);
  }

  async scans(eventId: string): Promise<ScanRecord[]> {
    const found = await this.db.getAllFromIndex("scans", "by_event", eventId);
    return found.sort((a, b) => a.scanned_at.localeCompare(b.scanned_at));
  }

  async pending(eventId: string): Promise<ScanRecord[]> {
    return (await this.scans(eventId)).filter((scan) => scan.synced === 0);
  }

  /** What the scanner decides offline with: revocations, and every ticket let in (by the server's
   * list, and by this device, synced or not). */
  async knowledge(eventId: string): Promise<DoorKnowledge> {
    const cache = await this.event(eventId);
    const used = new Map<string, FirstScan>(Object.entries(cache?.checkins ?? {}));
    for (const scan of await this.scans(eventId)) {
      if (scan.verdict === "valid" && scan.ticket_id && !used.has(scan.ticket_id)) {
        used.set(scan.ticket_id, { scan_id: scan.scan_id, device_id: scan.device_id, scanned_at: scan.scanned_at });
      }
    }
    return { eventId, revoked: new Set(cache?.revoked ?? []), used };
  }
}

export interface SyncOutcome {
  sent: number;
  /** Scans let in here that the server says should not have been. */
  flagged: ScanRecord[];
}

/** Send what is queued, then download what the others did. Throws (the queue kept) when the
 * network or the server fails; a later sync picks up where this one stopped. */
export async function sync(store: DoorStore, api: DoorApi, eventId: string): Promise<SyncOutcome> {
  const pending = await store.pending(eventId);
  const flagged: ScanRecord[] = [];
  for (let start = 0; start < pending.length; start += SYNC_BATCH) {
    const batch = pending.slice(start, start + SYNC_BATCH);
    const results = await api.checkIn(
      eventId,
      batch.map(({ scan_id, secret, device_id, scanned_at }) => ({ scan_id, secret, device_id, scanned_at })),
    );
    const byId = new Map(results.map((result) => [result.scan_id, result]));
    for (const scan of batch) {
      const result = byId.get(scan.scan_id);
      if (!result) continue;
      const synced: ScanRecord = { ...scan, synced: 1, server_result: result.result };
      if (scan.verdict === "valid" && result.result === "already_used") {
        synced.flag = { reason: "scanned_twice", first: result.first_scan };
      } else if (scan.verdict === "valid" && result.result === "revoked") {
        synced.flag = { reason: "revoked", first: null };
      }
      if (synced.flag) flagged.push(synced);
      await store.record(synced);
    }
  }
  await refresh(store, api, eventId);
  return { sent: pending.length, flagged };
}

/** The event's revocation list and check-ins, as the server has them now. */
export async function refresh(store: DoorStore, api: DoorApi, eventId: string): Promise<void> {
  const cache = await store.event(eventId);
  if (!cache) throw new Error(`no public key for event ${eventId} yet`);
  const revocations = await api.revocations(eventId);
  const checkins: Record<string, FirstScan> = {};
  let cursor: string | undefined;
  do {
    const page = await api.checkins(eventId, cursor);
    for (const item of page.items) {
      checkins[item.ticket_id] = { scan_id: item.scan_id, device_id: item.device_id, scanned_at: item.scanned_at };
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  await store.saveEvent({
    ...cache,
    revoked: revocations.tickets.map((ticket) => ticket.ticket_id),
    checkins,
    synced_at: new Date().toISOString(),
  });
}

/** `task` one run at a time: a call while it runs returns that run, and the task runs once more
 * straight after it (a scan recorded mid-sync was not in that sync's batch). */
export function oneAtATime(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await task();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}
