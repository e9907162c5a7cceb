/** Create or edit a draft: venue, details, price tiers and which tier each section sells at; then
 * publish it. Times are typed in the venue's local time. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { useNavigate, useParams } from "react-router";
import type { Event, PriceTier } from "../api/types";
import { Field } from "../components/Field";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { minorDigits } from "../i18n/format";
import type { EventIn } from "./api";
import { fieldErrors } from "./fieldErrors";
import { Problem, RequireRole, useConsole } from "./shared";
import { WaitingRoomSection } from "./WaitingRoomSection";
import { utcToZoned, zonedToUtc } from "./zoned";
import "./console.css";

export function Component() {
  return (
    <RequireRole roles={["organizer", "admin"]}>
      <EventLoader />
    </RequireRole>
  );
}

function EventLoader() {
  const { eventId } = useParams();
  const { api, t } = useConsole();
  const event = useQuery({ queryKey: ["event", eventId], queryFn: () => api.event(eventId!), enabled: !!eventId });
  // The waiting room is set on the event's venue's clock; an event on sale can still change it.
  const venue = useQuery({
    queryKey: ["venue", event.data?.venue_id],
    queryFn: () => api.venue(event.data!.venue_id),
    enabled: !!event.data,
  });
  if (!eventId) return <EventForm />;
  if (event.isPending) return <Loading />;
  if (event.error) return <Problem error={event.error} />;
  const room =
    event.data.status === "cancelled" ? null : venue.data ? (
      <WaitingRoomSection eventId={event.data.event_id} timezone={venue.data.timezone} />
    ) : (
      <Problem error={venue.error} />
    );
  if (event.data.status !== "draft") {
    return (
      <Page title={t("event.editTitle")}>
        <p className="notice">
          {t("event.notDraft", { status: t(`status.${event.data.status}`) })} {room ? t("event.roomBelow") : null}
        </p>
        {room}
      </Page>
    );
  }
  return <EventForm existing={event.data}>{room}</EventForm>;
}

interface TierDraft {
  tier: string;
  price: string; // major units, as typed
  currency: string;
}

function toDraft(tier: PriceTier): TierDraft {
  const digits = minorDigits(tier.currency);
  return { tier: tier.tier, price: (tier.price_cents / 10 ** digits).toFixed(digits), currency: tier.currency };
}

function toTier(draft: TierDraft): PriceTier {
  const currency = draft.currency.trim().toUpperCase();
  let digits = 2;
  try {
    digits = minorDigits(currency);
  } catch {
    // An unknown currency: the API says so on the field.
  }
  return { tier: draft.tier.trim(), price_cents: Math.round(Number(draft.price) * 10 ** digits), currency };
}

function EventForm({ existing, children }: { existing?: Event; children?: ReactNode }) {
  const { t, api } = useConsole();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const venues = useQuery({ queryKey: ["venues"], queryFn: () => api.venues() });
  const [venueId, setVenueId] = useState(existing?.venue_id ?? "");
  const venue = venues.data?.items.find((item) => item.venue_id === venueId);
  const zone = venue?.timezone ?? "UTC";
  const [title, setTitle] = useState(existing?.title ?? "");
  const [description, setDescription] = useState(existing?.description ?? "");
  const [category, setCategory] = useState(existing?.category ?? "concert");
  const [startsAt, setStartsAt] = useState(existing && venue ? utcToZoned(existing.starts_at, zone) : "");
  const [endsAt, setEndsAt] = useState(existing?.ends_at && venue ? utcToZoned(existing.ends_at, zone) : "");
  const [tiers, setTiers] = useState<TierDraft[]>(
    existing ? existing.price_tiers.map(toDraft) : [{ tier: "Standard", price: "50", currency: "EUR" }],
  );
  const [sectionTiers, setSectionTiers] = useState<Record<string, string>>(existing?.section_tiers ?? {});
  const [loadedTimes, setLoadedTimes] = useState(!existing);
  if (existing && venue && !loadedTimes) {
    // The venue (and its time zone) arrived after the draft: show its times in that zone.
    setStartsAt(utcToZoned(existing.starts_at, venue.timezone));
    setEndsAt(existing.ends_at ? utcToZoned(existing.ends_at, venue.timezone) : "");
    setLoadedTimes(true);
  }

  const body = (): EventIn => ({
    venue_id: venueId,
    title,
    description,
    category,
    starts_at: startsAt ? zonedToUtc(startsAt, zone) : "",
    ends_at: endsAt ? zonedToUtc(endsAt, zone) : null,
    price_tiers: tiers.map(toTier),
    section_tiers: Object.fromEntries(
      (venue?.sections ?? []).map((section) => [section.section_id, sectionTiers[section.section_id] ?? tiers[0]?.tier ?? ""]),
    ),
  });
  const save = useMutation({
    mutationFn: () => (existing ? api.updateEvent(existing.event_id, body()) : api.createEvent(body())),
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: ["managed-events"] });
      queryClient.setQueryData(["event", saved.event_id], saved);
      navigate(`/console/events/${saved.event_id}`, { state: { notice: t("event.saved") } });
    },
  });
  const errors = fieldErrors(save.error, t);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  if (venues.isPending) return <Loading />;
  return (
    <Page title={existing ? t("event.editTitle") : t("event.newTitle")} wide>
      <Problem error={venues.error} />
      <form className="console-form" onSubmit={submit} noValidate>
        <div className={errors.venue_id ? "field field-invalid" : "field"}>
          <label htmlFor="event-venue">{t("event.venue")}</label>
          <select
            id="event-venue"
            value={venueId}
            onChange={(event) => setVenueId(event.target.value)}
            aria-invalid={errors.venue_id ? true : undefined}
            aria-describedby={errors.venue_id ? "event-venue-error" : undefined}
          >
            <option value="">{t("event.chooseVenue")}</option>
            {venues.data?.items.map((item) => (
              <option key={item.venue_id} value={item.venue_id}>
                {item.name} ({item.city})
              </option>
            ))}
          </select>
          {errors.venue_id && (
            <p id="event-venue-error" className="field-error">
              {errors.venue_id}
            </p>
          )}
        </div>
        <Field label={t("event.title")} value={title} onChange={(e) => setTitle(e.target.value)} error={errors.title} />
        <div className="field">
          <label htmlFor="event-description">{t("event.description")}</label>
          <textarea id="event-description" rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <Field label={t("event.category")} value={category} onChange={(e) => setCategory(e.target.value)} error={errors.category} />
        <Field
          label={t("event.startsAt")}
          type="datetime-local"
          value={startsAt}
          hint={zone}
          onChange={(e) => setStartsAt(e.target.value)}
          error={errors.starts_at}
        />
        <Field
          label={t("event.endsAt")}
          type="datetime-local"
          value={endsAt}
          hint={zone}
          onChange={(e) => setEndsAt(e.target.value)}
          error={errors.ends_at}
        />
        <fieldset>
          <legend>{t("event.tiers")}</legend>
          {errors.price_tiers && <p className="field-error">{errors.price_tiers}</p>}
          {errors[""] && <p className="field-error">{errors[""]}</p>}
          {tiers.map((tier, index) => (
            <div className="row-line" key={index}>
              <Field
                label={t("event.tierName")}
                value={tier.tier}
                onChange={(e) => setTiers(tiers.map((each, i) => (i === index ? { ...each, tier: e.target.value } : each)))}
                error={errors[`price_tiers.${index}.tier`]}
              />
              <Field
                label={t("event.price")}
                inputMode="decimal"
                value={tier.price}
                onChange={(e) => setTiers(tiers.map((each, i) => (i === index ? { ...each, price: e.target.value } : each)))}
                error={errors[`price_tiers.${index}.price_cents`]}
              />
              <Field
                label={t("event.currency")}
                value={tier.currency}
                maxLength={3}
                onChange={(e) => setTiers(tiers.map((each, i) => (i === index ? { ...each, currency: e.target.value } : each)))}
                error={errors[`price_tiers.${index}.currency`]}
              />
              <button
                type="button"
                className="button secondary"
                disabled={tiers.length === 1}
                onClick={() => setTiers(tiers.filter((_, i) => i !== index))}
              >
                {t("event.removeTier", { name: tier.tier || index + 1 })}
              </button>
            </div>
          ))}
          <button
            type="button"
            className="button secondary"
            onClick={() => setTiers([...tiers, { tier: "", price: "", currency: tiers[0]?.currency ?? "EUR" }])}
          >
            {t("event.addTier")}
          </button>
        </fieldset>
        {venue && (
          <fieldset>
            <legend>{t("event.sectionTiers")}</legend>
            {errors.section_tiers && <p className="field-error">{errors.section_tiers}</p>}
            {venue.sections.map((section) => (
              <div className="field" key={section.section_id}>
                <label htmlFor={`tier-${section.section_id}`}>
                  {t("event.sectionTier", { name: section.name, id: section.section_id })}
                </label>
                <select
                  id={`tier-${section.section_id}`}
                  value={sectionTiers[section.section_id] ?? tiers[0]?.tier ?? ""}
                  onChange={(e) => setSectionTiers({ ...sectionTiers, [section.section_id]: e.target.value })}
                >
                  {tiers.map((tier, index) => (
                    <option key={index} value={tier.tier}>
                      {tier.tier}
                    </option>
                  ))}
                </select>
              </div>
            ))}
          </fieldset>
        )}
        <Problem error={save.error} />
        <div className="console-actions">
          <button type="submit" className="button" disabled={save.isPending}>
            {t("event.saveDraft")}
          </button>
        </div>
      </form>
      {children}
    </Page>
  );
}
