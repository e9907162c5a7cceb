/** Every error the app can meet, as a sentence a person understands (in their language), plus
 * the messages of the form fields a 422 names. Never a raw status code or a blank. */
import type { TFunction } from "i18next";
import { ApiError } from "./client";
import { formatList } from "../i18n/format";

export interface Described {
  message: string;
  /** Field name (the last part of a validation error's `loc`) → what is wrong with it. */
  fields: Record<string, string>;
}

/** Where the error happened, when that changes what it means (a 401 at sign-in is wrong
 * credentials, anywhere else an ended session). */
export type ErrorContext = "signIn" | "default";

const SLUG_MESSAGES: Record<string, string> = {
  "too-many-seats": "errors.tooManySeats",
  "too-many-holds": "errors.tooManyHolds",
  "event-closed": "errors.eventClosed",
  "event-started": "errors.eventStarted",
  "unknown-seats": "errors.unknownSeats",
  "unknown-section": "errors.unknownSeats",
  "hold-expired": "errors.holdExpired",
  "hold-released": "errors.holdExpired",
  "hold-not-yours": "errors.holdNotYours",
  "hold-booked": "errors.holdBooked",
  "email-taken": "errors.emailTaken",
  "not-cancellable": "errors.notCancellable",
  "payment-in-progress": "errors.paymentInProgress",
  "not-confirmed": "errors.notConfirmed",
  "idempotency-in-progress": "errors.inProgress",
  "search-unavailable": "errors.searchUnavailable",
  "upstream-unavailable": "errors.unavailable",
  "upstream-unreachable": "errors.unavailable",
  "upstream-timeout": "errors.timeout",
  "dependency-unavailable": "errors.unavailable",
  "provider-unavailable": "errors.paymentFailed",
  "provider-error": "errors.paymentFailed",
  busy: "errors.inProgress",
  "waiting-room-required": "errors.waitingRoomRequired",
  "not-in-queue": "errors.notInQueue",
  "waiting-room-unavailable": "errors.roomUnavailable",
};

// What auth says about a weak password, by its English wording, in the reader's language.
const FIELD_MESSAGES: [RegExp, string][] = [
  [/at least (\d+) characters/, "fields.minLength"],
  [/too common or repetitive/, "fields.common"],
  [/must not be your email/, "fields.notEmail"],
  [/two kinds of character/, "fields.twoKinds"],
];

function fieldMessage(t: TFunction, error: { msg: string; type: string }): string {
  if (error.type === "missing") return t("fields.required");
  if (error.type === "string_too_short") return t("fields.tooShort");
  if (error.type === "string_too_long") return t("fields.tooLong");
  for (const [pattern, key] of FIELD_MESSAGES) {
    const match = pattern.exec(error.msg);
    if (match) return t(key, { count: Number(match[1] ?? 0) });
  }
  // The service's own sentence (English), rather than nothing.
  return error.msg ? error.msg.replace(/^Value error, /, "") : t("fields.invalid");
}

export function seatsTakenMessage(t: TFunction, locale: string, seats: string[]): string {
  return t("event.seatsTaken", { count: seats.length, seats: formatList(seats, locale) });
}

export function describeError(
  error: unknown,
  t: TFunction,
  locale: string,
  context: ErrorContext = "default",
): Described {
  const fields: Record<string, string> = {};
  if (!(error instanceof ApiError)) return { message: t("errors.unexpected"), fields };
  if (error.kind === "offline") return { message: t("errors.offline"), fields };
  if (error.kind === "network") return { message: t("errors.network"), fields };
  if (error.kind === "timeout") return { message: t("errors.timeout"), fields };
  if (error.kind === "unexpected") return { message: t("errors.unexpected"), fields };

  const problem = error.problem ?? {};
  const slug = error.slug;
  const status = error.status ?? 0;
  for (const item of problem.errors ?? []) {
    const name = String(item.loc[item.loc.length - 1] ?? "");
    if (name && !(name in fields)) fields[name] = fieldMessage(t, item);
  }

  if (slug === "seats-unavailable") {
    if (typeof problem.available === "number") {
      return { message: t("event.placesTaken", { count: problem.available }), fields };
    }
    return { message: seatsTakenMessage(t, locale, problem.unavailable ?? []), fields };
  }
  if (slug === "rate-limited" || slug === "login-throttled" || status === 429) {
    const seconds = error.retryAfterS;
    return {
      message: seconds ? t("errors.rateLimited", { seconds }) : t("errors.rateLimitedNoTime"),
      fields,
    };
  }
  const known = slug ? SLUG_MESSAGES[slug] : undefined;
  if (known) {
    return { message: t(known, { limit: problem.limit ?? "", seconds: error.retryAfterS ?? "" }), fields };
  }
  if (status === 401) {
    return { message: t(context === "signIn" ? "auth.wrongCredentials" : "errors.unauthorized"), fields };
  }
  if (status === 422 || status === 400) {
    return { message: t(Object.keys(fields).length ? "errors.invalid" : "errors.badRequest"), fields };
  }
  const byStatus: Record<number, string> = {
    402: "errors.paymentFailed",
    403: "errors.forbidden",
    404: "errors.notFound",
    409: "errors.conflict",
    413: "errors.tooLarge",
    502: "errors.unavailable",
    503: "errors.unavailable",
    504: "errors.timeout",
  };
  return { message: t(byStatus[status] ?? (status >= 500 ? "errors.server" : "errors.unexpected")), fields };
}
