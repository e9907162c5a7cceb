/** Door check-in: choose an event, then scan tickets with the camera (or type their code). Every
 * scan is decided on this device — the signature offline, then what the scanner knows — shown in
 * big words and colour, saved in IndexedDB and synced when the network is there. */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { formatTime } from "../i18n/format";
import { Page } from "../components/Page";
import { Loading } from "../components/Loading";
import { Problem, RequireRole, useConsole } from "../console/shared";
import { DoorStore, oneAtATime, refresh, sync, type ScanRecord } from "./queue";
import { decide, importPublicKey, type Decision } from "./verify";
import "../console/console.css";

const SYNC_EVERY_MS = 10_000;
const SCAN_EVERY_MS = 250;

export function Component() {
  return (
    <RequireRole roles={["organizer", "admin", "staff"]}>
      <Door />
    </RequireRole>
  );
}

function Door() {
  const { eventId } = useParams();
  return eventId ? <Scanner eventId={eventId} /> : <ChooseEvent />;
}

function ChooseEvent() {
  const { t, api, locale } = useConsole();
  const events = useQuery({ queryKey: ["door-events"], queryFn: () => api.managedEvents({ status: "on_sale" }) });
  return (
    <Page title={t("door.title")}>
      <h2>{t("door.choose")}</h2>
      {events.isPending && <Loading />}
      {events.error && <Problem error={events.error} />}
      {events.data && events.data.items.length === 0 && <p>{t("door.noEvents")}</p>}
      <ul className="console-list">
        {events.data?.items.map((event) => (
          <li key={event.event_id}>
            <Link to={`/door/${event.event_id}`}>{event.title}</Link>{" "}
            <span className="muted">{new Date(event.starts_at).toLocaleString(locale)}</span>
          </li>
        ))}
      </ul>
    </Page>
  );
}

function deviceId(): string {
  const key = "ticketing.door.device";
  let found = localStorage.getItem(key);
  if (!found) {
    found = `door-${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36)}`;
    localStorage.setItem(key, found);
  }
  return found;
}

function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener("online", on);
    window.addEventListener("offline", off);
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", off);
    };
  }, []);
  return online;
}

interface Ready {
  store: DoorStore;
  key: CryptoKey;
  kid: string;
}

function Scanner({ eventId }: { eventId: string }) {
  const { t, api, door, locale } = useConsole();
  const online = useOnline();
  const device = useState(deviceId)[0];
  const [ready, setReady] = useState<Ready | null>(null);
  const [setupError, setSetupError] = useState<string | null>(null);
  const [decision, setDecision] = useState<Decision | null>(null);
  const [scans, setScans] = useState<ScanRecord[]>([]);
  const [syncedAt, setSyncedAt] = useState<string | null>(null);
  const [revokedKnown, setRevokedKnown] = useState(0);
  const [syncFailed, setSyncFailed] = useState(false);
  const [flagged, setFlagged] = useState<ScanRecord[]>([]);
  const event = useQuery({ queryKey: ["event", eventId], queryFn: () => api.event(eventId), retry: false });

  const reload = useCallback(async (store: DoorStore) => {
    setScans((await store.scans(eventId)).reverse());
    const cache = await store.event(eventId);
    setSyncedAt(cache?.synced_at ?? null);
    setRevokedKnown(cache?.revoked.length ?? 0);
  }, [eventId]);

  useEffect(() => {
    let store: DoorStore | null = null;
    let cancelled = false;
    void (async () => {
      if (!globalThis.crypto?.subtle) {
        setSetupError(t("door.noCrypto"));
        return;
      }
      store = await DoorStore.open();
      let cache = await store.event(eventId);
      try {
        const document = await api.publicKey();
        cache = { revoked: [], checkins: {}, synced_at: null, ...cache, event_id: eventId, public_key: document };
        await store.saveEvent(cache);
        await refresh(store, door, eventId);
      } catch {
        // Offline: what was downloaded last time will do.
      }
      if (!cache) {
        setSetupError(t("door.setupFailed"));
        return;
      }
      try {
        const key = await importPublicKey(cache.public_key);
        if (!cancelled) setReady({ store, key, kid: cache.public_key.kid });
      } catch {
        setSetupError(t("door.noCrypto"));
      }
      await reload(store);
    })();
    return () => {
      cancelled = true;
      store?.close();
    };
  }, [api, door, eventId, reload, t]);

  const syncNow = useMemo(() => {
    if (!ready) return () => Promise.resolve();
    return oneAtATime(async () => {
      try {
        const outcome = await sync(ready.store, door, eventId);
        if (outcome.flagged.length) setFlagged((previous) => [...outcome.flagged, ...previous]);
        setSyncFailed(false);
      } catch {
        setSyncFailed(true);
      } finally {
        await reload(ready.store);
      }
    });
  }, [door, eventId, ready, reload]);

  useEffect(() => {
    if (!ready || !online) return;
    const now = setTimeout(() => void syncNow(), 0); // at once when the network returns
    const timer = setInterval(() => void syncNow(), SYNC_EVERY_MS);
    return () => {
      clearTimeout(now);
      clearInterval(timer);
    };
  }, [online, ready, syncNow]);

  const checking = useRef(false);
  const check = useCallback(
    async (secret: string) => {
      if (!ready || checking.current) return; // the camera reads the same code a few times a second
      checking.current = true;
      const found = await decide(secret, ready.key, ready.kid, await ready.store.knowledge(eventId));
      setDecision(found);
      await ready.store.record({
        scan_id: crypto.randomUUID(),
        event_id: eventId,
        device_id: device,
        secret: secret.trim(),
        scanned_at: new Date().toISOString(),
        verdict: found.verdict,
        ticket_id: found.claims?.tid ?? null,
        seat_id: found.claims?.seat ?? null,
        synced: 0,
      });
      checking.current = false;
      await reload(ready.store);
      if (navigator.onLine) void syncNow();
    },
    [device, eventId, ready, reload, syncNow],
  );

  const pending = scans.filter((scan) => scan.synced === 0).length;
  const title = event.data?.title ?? "";
  return (
    <Page title={t("door.scanTitle", { title })} wide>
      {setupError && (
        <div className="notice notice-error" role="alert">
          <p>{setupError}</p>
        </div>
      )}
      {!ready && !setupError && <Loading />}
      {ready && (
        <div className="door">
          <Verdict decision={decision} />
          <div className="door-controls">
            <Camera paused={decision !== null} onCode={(code) => void check(code)} />
            {decision && (
              <button type="button" className="button door-next" onClick={() => setDecision(null)}>
                {t("door.next")}
              </button>
            )}
            <ManualEntry onSubmit={(code) => void check(code)} />
          </div>
          <section aria-labelledby="door-sync" className="door-sync">
            <h2 id="door-sync">{t("door.syncNow")}</h2>
            {!online && <p className="notice">{t("door.offline")}</p>}
            <p>
              {t("door.pending", { count: pending })} ·{" "}
              {syncedAt ? t("door.synced", { time: formatTime(new Date(syncedAt), locale) }) : t("door.neverSynced")}
            </p>
            <p>{t("door.revokedKnown", { count: revokedKnown })}</p>
            {syncFailed && online && <p className="notice notice-error">{t("door.syncFailed")}</p>}
            <button type="button" className="button secondary" onClick={() => void syncNow()} disabled={!online}>
              {t("door.syncNow")}
            </button>
            <p className="muted">{t("door.device", { device })}</p>
            {flagged.length > 0 && (
              <div className="notice notice-error" role="alert">
                <h3>{t("door.flagged")}</h3>
                <ul>
                  {flagged.map((scan) => (
                    <li key={scan.scan_id}>
                      {scan.flag?.reason === "revoked"
                        ? t("door.flagRevoked", { seat: scan.seat_id, here: formatTime(new Date(scan.scanned_at), locale) })
                        : t("door.flagTwice", {
                            seat: scan.seat_id,
                            here: formatTime(new Date(scan.scanned_at), locale),
                            device: scan.flag?.first?.device_id ?? "?",
                            time: scan.flag?.first ? formatTime(new Date(scan.flag.first.scanned_at), locale) : "?",
                          })}
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </section>
          <section aria-labelledby="door-recent">
            <h2 id="door-recent">{t("door.recent")}</h2>
            <ul className="console-list">
              {scans.slice(0, 10).map((scan) => (
                <li key={scan.scan_id}>
                  {formatTime(new Date(scan.scanned_at), locale)} · {scan.seat_id ?? "—"} · {t(`door.${scan.verdict}`)}
                </li>
              ))}
            </ul>
          </section>
        </div>
      )}
    </Page>
  );
}

const ICONS = { valid: "✓", already_used: "!", revoked: "✕", wrong_event: "✕", invalid: "✕" } as const;

function Verdict({ decision }: { decision: Decision | null }) {
  const { t, locale } = useConsole();
  return (
    <section
      className={`verdict verdict-${decision?.verdict ?? "ready"}`}
      role="status"
      aria-label={t("door.result")}
      aria-live="assertive"
      aria-atomic="true"
    >
      {decision ? (
        <>
          <p className="verdict-word">
            <span aria-hidden="true" className="verdict-icon">
              {ICONS[decision.verdict]}
            </span>{" "}
            {t(`door.${decision.verdict}`)}
          </p>
          {decision.claims && decision.verdict !== "invalid" && <p>{t("door.seat", { seat: decision.claims.seat })}</p>}
          {decision.first && (
            <p>
              {t("door.firstUse", {
                device: decision.first.device_id,
                time: formatTime(new Date(decision.first.scanned_at), locale),
              })}
            </p>
          )}
        </>
      ) : (
        <p className="verdict-word">{t("door.ready")}</p>
      )}
    </section>
  );
}

function ManualEntry({ onSubmit }: { onSubmit: (code: string) => void }) {
  const { t } = useConsole();
  const [code, setCode] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (code.trim()) onSubmit(code.trim());
    setCode("");
  };
  return (
    <form onSubmit={submit} className="door-manual">
      <div className="field">
        <label htmlFor="ticket-code">{t("door.manual")}</label>
        <p id="ticket-code-hint" className="hint">
          {t("door.manualHint")}
        </p>
        <input
          id="ticket-code"
          aria-describedby="ticket-code-hint"
          value={code}
          onChange={(event) => setCode(event.target.value)}
          autoComplete="off"
          spellCheck={false}
        />
      </div>
      <button type="submit" className="button">
        {t("door.check")}
      </button>
    </form>
  );
}

/** The camera, read a few times a second with jsQR (loaded when the camera starts). */
function Camera({ paused, onCode }: { paused: boolean; onCode: (code: string) => void }) {
  const { t } = useConsole();
  const video = useRef<HTMLVideoElement>(null);
  const [on, setOn] = useState(false);
  const [failed, setFailed] = useState(false);
  const latest = useRef({ paused, onCode });
  useEffect(() => {
    latest.current = { paused, onCode };
  });

  useEffect(() => {
    if (!on) return;
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setInterval> | undefined;
    let stopped = false;
    void (async () => {
      try {
        const [{ default: jsQR }, media] = await Promise.all([
          import("jsqr"),
          navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }),
        ]);
        stream = media;
        if (stopped || !video.current) return;
        video.current.srcObject = media;
        await video.current.play();
        const canvas = document.createElement("canvas");
        const context = canvas.getContext("2d", { willReadFrequently: true });
        timer = setInterval(() => {
          const element = video.current;
          if (!element || !context || latest.current.paused || element.videoWidth === 0) return;
          canvas.width = element.videoWidth;
          canvas.height = element.videoHeight;
          context.drawImage(element, 0, 0);
          const image = context.getImageData(0, 0, canvas.width, canvas.height);
          const code = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
          if (code?.data) latest.current.onCode(code.data);
        }, SCAN_EVERY_MS);
      } catch {
        setFailed(true);
        setOn(false);
      }
    })();
    return () => {
      stopped = true;
      if (timer) clearInterval(timer);
      stream?.getTracks().forEach((track) => track.stop());
    };
  }, [on]);

  return (
    <div className="door-camera">
      <button type="button" className="button secondary" onClick={() => setOn((value) => !value)} aria-pressed={on}>
        {on ? t("door.stopCamera") : t("door.startCamera")}
      </button>
      {failed && (
        <p className="notice notice-error" role="alert">
          {t("door.cameraFailed")}
        </p>
      )}
      {on && <p className="hint">{t("door.cameraHint")}</p>}
      <video ref={video} muted playsInline className={on ? "door-video" : "door-video hidden"} aria-label={t("door.camera")} />
    </div>
  );
}
