/** The admission tokens this tab holds, one per event whose waiting room let the customer in
 * (and the receipts of its places in queues).
 *
 * A token is short-lived and bound to the account and the event, so it lives in memory and in
 * sessionStorage (a reload keeps it, a closed tab forgets it) and never in localStorage. Other tabs
 * of the same browser hear of an admission through a BroadcastChannel, so a second tab on the same
 * event starts shopping too instead of polling a queue it already left (the server gives every
 * tab of an account the same place anyway). Signing out forgets them all. */

export interface Admission {
  token: string;
  /** When the shopping time ends (ISO 8601, the server's `admitted_until`). */
  until: string;
}

const PREFIX = "ticketing.admission.";
const RECEIPT_PREFIX = "ticketing.queue-receipt.";
export const ADMISSION_CHANNEL = "ticketing.admission";

type Message = { eventId: string; admission: Admission | null; forgotten?: string };

export class Admissions {
  private readonly memory = new Map<string, Admission | null>();
  private readonly ended = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private readonly storage: Storage;
  private readonly channel: BroadcastChannel | null;
  private readonly now: () => number;

  constructor(storage: Storage = sessionStorage, channel: BroadcastChannel | null = null, now: () => number = Date.now) {
    this.storage = storage;
    this.channel = channel;
    this.now = now;
    channel?.addEventListener("message", (event: MessageEvent<Message>) => {
      const { eventId, admission, forgotten } = event.data;
      if (admission) this.store(eventId, admission);
      else if (forgotten && this.read(eventId)?.token === forgotten) this.store(eventId, null);
    });
  }

  /** The event's admission while its shopping time lasts; null otherwise. */
  get(eventId: string): Admission | null {
    const admission = this.read(eventId);
    return admission && Date.parse(admission.until) > this.now() ? admission : null;
  }

  token(eventId: string): string | null {
    return this.get(eventId)?.token ?? null;
  }

  admit(eventId: string, admission: Admission): void {
    this.ended.delete(eventId);
    this.store(eventId, admission);
    this.channel?.postMessage({ eventId, admission } satisfies Message);
  }

  /** The shopping time ended or the server refused the token: drop it here and in the other tabs
   * (unless one of them has a newer one meanwhile), remembering why for the waiting page. */
  forget(eventId: string, why?: string): void {
    const token = this.read(eventId)?.token;
    if (!token) return;
    if (why) this.ended.set(eventId, why);
    this.store(eventId, null);
    this.channel?.postMessage({ eventId, admission: null, forgotten: token } satisfies Message);
  }

  /** Why this tab's admission to the event ended, if it did. */
  endedBecause(eventId: string): string | undefined {
    return this.ended.get(eventId);
  }

  /** The receipt of this tab's place in the event's queue (the gateway signs it; it gives the
   * place back should the room lose its state). */
  receipt(eventId: string): string | null {
    return this.storage.getItem(RECEIPT_PREFIX + eventId);
  }

  keepReceipt(eventId: string, receipt: string | null): void {
    if (receipt) this.storage.setItem(RECEIPT_PREFIX + eventId, receipt);
    else this.storage.removeItem(RECEIPT_PREFIX + eventId);
  }

  /** Signed out: a token is the account's, never the next person's at this computer. */
  clear(): void {
    for (const key of Object.keys(this.storage)) {
      if (key.startsWith(PREFIX) || key.startsWith(RECEIPT_PREFIX)) this.storage.removeItem(key);
    }
    this.memory.clear();
    this.ended.clear();
    this.notify();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private read(eventId: string): Admission | null {
    if (this.memory.has(eventId)) return this.memory.get(eventId) ?? null;
    let admission: Admission | null = null;
    try {
      admission = JSON.parse(this.storage.getItem(PREFIX + eventId) ?? "null") as Admission | null;
    } catch {
      admission = null;
    }
    this.memory.set(eventId, admission);
    return admission;
  }

  private store(eventId: string, admission: Admission | null): void {
    this.memory.set(eventId, admission);
    if (admission) this.storage.setItem(PREFIX + eventId, JSON.stringify(admission));
    else this.storage.removeItem(PREFIX + eventId);
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
