/** Create or edit a venue: seated sections (rows of seats) and standing ones, with a live preview
 * of the seat map it makes and the API's validation errors on the fields they concern. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate, useParams } from "react-router";
import { Field } from "../components/Field";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import type { SeatedSectionIn, StandingSectionIn, VenueIn } from "./api";
import { fieldErrors } from "./fieldErrors";
import { Problem, RequireRole, useConsole } from "./shared";
import "./console.css";

export function Component() {
  return (
    <RequireRole roles={["organizer", "admin"]}>
      <VenueLoader />
    </RequireRole>
  );
}

const PREVIEW_SEATS_PER_ROW = 60;

const blank: VenueIn = {
  name: "",
  city: "",
  country: "",
  address: "",
  timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  sections: [{ section_id: "A", name: "Stalls", kind: "seated", rows: [{ label: "1", seats: 10 }] }],
};

function VenueLoader() {
  const { venueId } = useParams();
  const { api } = useConsole();
  const venue = useQuery({ queryKey: ["venue", venueId], queryFn: () => api.venue(venueId!), enabled: !!venueId });
  if (!venueId) return <VenueForm initial={blank} />;
  if (venue.isPending) return <Loading />;
  if (venue.error) return <Problem error={venue.error} />;
  const { name, city, country, address, timezone, sections } = venue.data;
  const editable: VenueIn = {
    name,
    city,
    country,
    address,
    timezone,
    sections: sections.map((section) =>
      section.kind === "seated"
        ? { section_id: section.section_id, name: section.name, kind: "seated", rows: section.rows }
        : { section_id: section.section_id, name: section.name, kind: "standing", capacity: section.capacity },
    ),
  };
  return <VenueForm initial={editable} venueId={venueId} locked={venue.data.in_use} />;
}

function VenueForm({ initial, venueId, locked }: { initial: VenueIn; venueId?: string; locked?: boolean }) {
  const { t, api } = useConsole();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [venue, setVenue] = useState<VenueIn>(initial);
  const save = useMutation({
    mutationFn: () => (venueId ? api.replaceVenue(venueId, venue) : api.createVenue(venue)),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["venues"] });
      navigate("/console", { state: { notice: t("venue.saved") } });
    },
  });
  const errors = fieldErrors(save.error, t);
  const set = (patch: Partial<VenueIn>) => setVenue((current) => ({ ...current, ...patch }));
  const setSection = (index: number, section: SeatedSectionIn | StandingSectionIn) =>
    set({ sections: venue.sections.map((existing, i) => (i === index ? section : existing)) });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const text = (key: keyof VenueIn, label: string, hint?: string) => (
    <Field
      label={label}
      hint={hint}
      value={venue[key] as string}
      onChange={(event) => set({ [key]: event.target.value })}
      error={errors[key]}
    />
  );
  return (
    <Page title={venueId ? t("venue.editTitle") : t("venue.newTitle")} wide>
      {locked && <p className="notice">{t("venue.locked")}</p>}
      <div className="console-grid">
        <form className="console-form" onSubmit={submit} noValidate>
          {text("name", t("venue.name"))}
          {text("city", t("venue.city"))}
          {text("country", t("venue.country"))}
          {text("address", t("venue.address"))}
          {text("timezone", t("venue.timezone"), t("venue.timezoneHint"))}
          <h2>{t("venue.sections")}</h2>
          {errors.sections && <p className="field-error">{errors.sections}</p>}
          {venue.sections.map((section, index) => (
            <SectionEditor
              key={index}
              index={index}
              section={section}
              errors={errors}
              onChange={(changed) => setSection(index, changed)}
              onRemove={() => set({ sections: venue.sections.filter((_, i) => i !== index) })}
            />
          ))}
          <div className="console-actions">
            <button
              type="button"
              className="button secondary"
              onClick={() =>
                set({
                  sections: [
                    ...venue.sections,
                    { section_id: "", name: "", kind: "seated", rows: [{ label: "1", seats: 10 }] },
                  ],
                })
              }
            >
              {t("venue.addSeated")}
            </button>
            <button
              type="button"
              className="button secondary"
              onClick={() =>
                set({ sections: [...venue.sections, { section_id: "", name: "", kind: "standing", capacity: 100 }] })
              }
            >
              {t("venue.addStanding")}
            </button>
          </div>
          <Problem error={save.error} />
          <button type="submit" className="button" disabled={save.isPending || locked}>
            {t("venue.save")}
          </button>
        </form>
        <SeatMapPreview venue={venue} />
      </div>
    </Page>
  );
}

function SectionEditor({
  index,
  section,
  errors,
  onChange,
  onRemove,
}: {
  index: number;
  section: SeatedSectionIn | StandingSectionIn;
  errors: Record<string, string>;
  onChange: (section: SeatedSectionIn | StandingSectionIn) => void;
  onRemove: () => void;
}) {
  const { t } = useConsole();
  const at = `sections.${index}`;
  const number = (value: string) => (value === "" ? 0 : Number(value));
  return (
    <fieldset>
      <legend>{t("venue.section", { number: index + 1 })}</legend>
      <Field
        label={t("venue.sectionId")}
        hint={t("venue.sectionIdHint")}
        value={section.section_id}
        onChange={(event) => onChange({ ...section, section_id: event.target.value })}
        error={errors[`${at}.section_id`]}
      />
      <Field
        label={t("venue.sectionName")}
        value={section.name}
        onChange={(event) => onChange({ ...section, name: event.target.value })}
        error={errors[`${at}.name`]}
      />
      {errors[at] && <p className="field-error">{errors[at]}</p>}
      {section.kind === "standing" ? (
        <Field
          label={t("venue.capacity")}
          type="number"
          min={1}
          value={section.capacity}
          onChange={(event) => onChange({ ...section, capacity: number(event.target.value) })}
          error={errors[`${at}.capacity`]}
        />
      ) : (
        <>
          <h3>{t("venue.rows")}</h3>
          {errors[`${at}.rows`] && <p className="field-error">{errors[`${at}.rows`]}</p>}
          {section.rows.map((row, r) => (
            <div className="row-line" key={r}>
              <Field
                label={t("venue.rowLabel")}
                value={row.label}
                onChange={(event) =>
                  onChange({
                    ...section,
                    rows: section.rows.map((each, i) => (i === r ? { ...each, label: event.target.value } : each)),
                  })
                }
                error={errors[`${at}.rows.${r}.label`]}
              />
              <Field
                label={t("venue.seats")}
                type="number"
                min={1}
                value={row.seats}
                onChange={(event) =>
                  onChange({
                    ...section,
                    rows: section.rows.map((each, i) => (i === r ? { ...each, seats: number(event.target.value) } : each)),
                  })
                }
                error={errors[`${at}.rows.${r}.seats`]}
              />
              <button
                type="button"
                className="button secondary"
                onClick={() => onChange({ ...section, rows: section.rows.filter((_, i) => i !== r) })}
              >
                {t("venue.removeRow", { label: row.label || r + 1 })}
              </button>
            </div>
          ))}
          <button
            type="button"
            className="button secondary"
            onClick={() =>
              onChange({
                ...section,
                rows: [...section.rows, { label: String(section.rows.length + 1), seats: section.rows.at(-1)?.seats ?? 10 }],
              })
            }
          >
            {t("venue.addRow")}
          </button>
        </>
      )}
      <button type="button" className="button secondary" onClick={onRemove}>
        {t("venue.removeSection", { name: section.name || section.section_id || index + 1 })}
      </button>
    </fieldset>
  );
}

function SeatMapPreview({ venue }: { venue: VenueIn }) {
  const { t } = useConsole();
  const places = venue.sections.reduce(
    (sum, section) =>
      sum + (section.kind === "standing" ? section.capacity || 0 : section.rows.reduce((n, row) => n + (row.seats || 0), 0)),
    0,
  );
  const shortened = venue.sections.some(
    (section) => section.kind === "seated" && section.rows.some((row) => row.seats > PREVIEW_SEATS_PER_ROW),
  );
  return (
    <section className="preview" aria-labelledby="venue-preview" aria-live="polite">
      <h2 id="venue-preview">{t("venue.preview")}</h2>
      <p>{t("venue.previewSummary", {
          sections: t("venue.countSections", { count: venue.sections.length }),
          places: t("venue.countPlaces", { count: places }),
        })}</p>
      {shortened && <p className="muted">{t("venue.previewTooBig", { max: PREVIEW_SEATS_PER_ROW })}</p>}
      {venue.sections.map((section, index) => (
        <div className="preview-section" key={index}>
          {section.kind === "standing" ? (
            <p className="preview-standing">
              {t("venue.previewStanding", {
                name: section.name,
                id: section.section_id,
                capacity: t("venue.countPlaces", { count: section.capacity }),
              })}
            </p>
          ) : (
            <>
              <p>
                {t("venue.previewSeated", {
                  name: section.name,
                  id: section.section_id,
                  rows: t("venue.countRows", { count: section.rows.length }),
                  seats: t("venue.countSeats", { count: section.rows.reduce((n, row) => n + (row.seats || 0), 0) }),
                })}
              </p>
              {section.rows.slice(0, 50).map((row, r) => (
                <div className="preview-row" key={r} role="img" aria-label={t("venue.previewRow", { label: row.label, seats: t("venue.countSeats", { count: row.seats }) })}>
                  <b aria-hidden="true">{row.label}</b>
                  {Array.from({ length: Math.min(Math.max(row.seats, 0), PREVIEW_SEATS_PER_ROW) }, (_, n) => (
                    <span key={n} className="preview-seat" />
                  ))}
                </div>
              ))}
            </>
          )}
        </div>
      ))}
    </section>
  );
}
