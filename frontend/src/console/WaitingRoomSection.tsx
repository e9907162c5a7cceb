/** The event editor's "Waiting room" section: on or off, when it opens (the venue's local time),
 * people admitted per minute, the most shopping at once, minutes to shop. Saved with PUT on its
 * own (an event on sale can still change its room); the API's validation errors on the fields. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import type { WaitingRoomSettings, WaitingRoomSettingsIn } from "../api/types";
import { Field } from "../components/Field";
import { Loading } from "../components/Loading";
import { formatDateTime } from "../i18n/format";
import { fieldErrors } from "./fieldErrors";
import { Problem, useConsole } from "./shared";
import { utcToZoned, zonedToUtc } from "./zoned";

type NumberField = "admission_per_minute" | "max_shoppers" | "shopping_minutes";

/** The contract's limits (CONTRACT-20 / API docs), checked here too so a typo is named at once. */
export const LIMITS: Record<NumberField, { min: number; max: number }> = {
  admission_per_minute: { min: 1, max: 100_000 },
  max_shoppers: { min: 1, max: 1_000_000 },
  shopping_minutes: { min: 1, max: 120 },
};

const NUMBER_TYPES = /^(int_|greater_than|less_than|finite_number|multiple_of)/;

export function WaitingRoomSection({ eventId, timezone }: { eventId: string; timezone: string }) {
  const { api, t } = useConsole();
  const settings = useQuery({ queryKey: ["waiting-room", eventId], queryFn: () => api.waitingRoom(eventId) });
  const headingId = useId();
  return (
    <section className="console-section" id="waiting-room" aria-labelledby={headingId}>
      <h2 id={headingId}>{t("room.title")}</h2>
      <p className="muted">{t("room.intro")}</p>
      {settings.isPending ? (
        <Loading />
      ) : settings.error ? (
        <Problem error={settings.error} />
      ) : (
        <WaitingRoomForm settings={settings.data} timezone={timezone} />
      )}
    </section>
  );
}

interface Draft {
  enabled: boolean;
  opensAt: string; // datetime-local, the venue's wall clock
  numbers: Record<NumberField, string>;
}

function toDraft(settings: WaitingRoomSettings, timezone: string): Draft {
  return {
    enabled: settings.enabled,
    opensAt: settings.opens_at ? utcToZoned(settings.opens_at, timezone) : "",
    numbers: {
      admission_per_minute: String(settings.admission_per_minute),
      max_shoppers: String(settings.max_shoppers),
      shopping_minutes: String(settings.shopping_minutes),
    },
  };
}

/** The body to send, or what is wrong with the draft, field by field. */
export function validate(
  draft: Draft,
  timezone: string,
  t: (key: string, options?: Record<string, unknown>) => string,
  locale: string,
): { body: WaitingRoomSettingsIn | null; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const numbers = {} as Record<NumberField, number>;
  for (const name of Object.keys(LIMITS) as NumberField[]) {
    const { min, max } = LIMITS[name];
    const text = draft.numbers[name].trim();
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) errors[name] = numberMessage(name, t, locale);
    numbers[name] = value;
  }
  if (draft.enabled && !draft.opensAt) errors.opens_at = t("room.needOpensAt");
  if (Object.keys(errors).length) return { body: null, errors };
  return {
    body: { enabled: draft.enabled, opens_at: draft.opensAt ? zonedToUtc(draft.opensAt, timezone) : null, ...numbers },
    errors,
  };
}

function numberMessage(name: NumberField, t: (key: string, options?: Record<string, unknown>) => string, locale: string) {
  const format = new Intl.NumberFormat(locale);
  return t("room.wholeNumber", { min: format.format(LIMITS[name].min), max: format.format(LIMITS[name].max) });
}

/** The API's 422 per field: the numbers' limits in the reader's language, else its own sentence. */
function apiErrors(
  error: unknown,
  sent: WaitingRoomSettingsIn | null,
  t: (key: string, options?: Record<string, unknown>) => string,
  locale: string,
): Record<string, string> {
  const found = fieldErrors(error);
  if (!(error instanceof ApiError)) return found;
  for (const item of error.problem?.errors ?? []) {
    const name = String(item.loc[item.loc.length - 1] ?? "");
    if (name in LIMITS && NUMBER_TYPES.test(item.type)) found[name] = numberMessage(name as NumberField, t, locale);
    if (name === "opens_at" && sent && sent.opens_at === null) found.opens_at = t("room.needOpensAt");
  }
  return found;
}

function WaitingRoomForm({ settings, timezone }: { settings: WaitingRoomSettings; timezone: string }) {
  const { t, api, locale } = useConsole();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => toDraft(settings, timezone));
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [sent, setSent] = useState<WaitingRoomSettingsIn | null>(null);
  const checkboxId = useId();
  const save = useMutation({
    mutationFn: (body: WaitingRoomSettingsIn) => api.saveWaitingRoom(settings.event_id, body),
    onSuccess: (saved) => {
      queryClient.setQueryData(["waiting-room", settings.event_id], saved);
      setDraft(toDraft(saved, timezone));
    },
  });
  const errors = { ...apiErrors(save.error, sent, t, locale), ...invalid };
  const general = Object.entries(errors).filter(([name]) => !["enabled", "opens_at", ...Object.keys(LIMITS)].includes(name));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { body, errors: found } = validate(draft, timezone, t, locale);
    setInvalid(found);
    save.reset();
    if (!body) return;
    setSent(body);
    save.mutate(body);
  };
  const number = (name: NumberField) => ({
    value: draft.numbers[name],
    inputMode: "numeric" as const,
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, numbers: { ...draft.numbers, [name]: e.target.value } }),
    error: errors[name],
  });

  return (
    <form className="console-form" onSubmit={submit} noValidate>
      <div className={errors.enabled ? "field field-invalid" : "field"}>
        <label htmlFor={checkboxId} className="checkbox">
          <input
            id={checkboxId}
            type="checkbox"
            checked={draft.enabled}
            onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })}
          />{" "}
          {t("room.enabled")}
        </label>
        {errors.enabled && <p className="field-error">{errors.enabled}</p>}
      </div>
      <Field
        label={t("room.opensAt")}
        type="datetime-local"
        value={draft.opensAt}
        hint={t("room.opensAtHint", { zone: timezone })}
        onChange={(e) => setDraft({ ...draft, opensAt: e.target.value })}
        error={errors.opens_at}
      />
      <Field label={t("room.perMinute")} {...number("admission_per_minute")} />
      <Field label={t("room.maxShoppers")} {...number("max_shoppers")} />
      <Field label={t("room.minutes")} hint={t("room.minutesHint")} {...number("shopping_minutes")} />
      {general.map(([name, message]) => (
        <p key={name} className="field-error">
          {message}
        </p>
      ))}
      <Problem error={save.error} />
      {save.isSuccess && (
        <p className="notice notice-success" role="status">
          {save.data.enabled && save.data.opens_at
            ? t("room.savedOn", { time: formatDateTime(save.data.opens_at, locale, timezone) })
            : t("room.savedOff")}
        </p>
      )}
      <div className="console-actions">
        <button type="submit" className="button" disabled={save.isPending}>
          {save.isPending ? t("room.saving") : t("room.save")}
        </button>
      </div>
    </form>
  );
}
