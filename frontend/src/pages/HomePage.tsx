/** Browse and search events on sale; every filter lives in the URL (shareable, reloadable). */
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useSearchParams } from "react-router";
import type { SearchHit } from "../api/types";
import { useApi } from "../app/services";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { SearchBox } from "../features/search/SearchBox";
import { formatMoney, formatShortDateTime } from "../i18n/format";

const FILTERS = ["q", "city", "category", "from", "to"] as const;

export function HomePage() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const filter = Object.fromEntries(FILTERS.map((key) => [key, params.get(key) ?? ""])) as Record<
    (typeof FILTERS)[number],
    string
  >;

  const results = useInfiniteQuery({
    queryKey: ["search", filter],
    queryFn: ({ pageParam, signal }) =>
      api.search(
        {
          q: filter.q,
          city: filter.city,
          category: filter.category,
          date_from: filter.from,
          date_to: filter.to,
          cursor: pageParam,
          limit: 12,
        },
        signal,
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
  });

  const update = (changes: Partial<typeof filter>) => {
    const next = new URLSearchParams();
    for (const key of FILTERS) {
      const value = key in changes ? changes[key] : filter[key];
      if (value) next.set(key, value);
    }
    setParams(next);
  };

  const applyFilters = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    update({
      city: String(form.get("city") ?? ""),
      category: String(form.get("category") ?? ""),
      from: String(form.get("from") ?? ""),
      to: String(form.get("to") ?? ""),
    });
  };

  const first = results.data?.pages[0];
  const items = results.data?.pages.flatMap((page) => page.items) ?? [];
  const facets = first?.facets ?? { city: {}, category: {} };
  const cities = Object.keys(facets.city).sort();
  const categories = Object.keys(facets.category).sort();
  if (filter.city && !cities.includes(filter.city)) cities.push(filter.city);
  if (filter.category && !categories.includes(filter.category)) categories.push(filter.category);
  const notice = (location.state as { notice?: string } | null)?.notice;

  return (
    <Page title={filter.q ? t("home.resultsFor", { q: filter.q }) : t("home.title")} wide>
      {notice === "signedOut" && (
        <p className="notice" role="status">
          {t("auth.signedOut")}
        </p>
      )}
      {!filter.q && <p className="lead">{t("home.intro")}</p>}
      <SearchBox initial={filter.q} onSearch={(q) => update({ q })} />
      <form className="filters" onSubmit={applyFilters} aria-label={t("home.filters")} key={params.toString()}>
        <label>
          {t("home.city")}
          <select name="city" defaultValue={filter.city}>
            <option value="">{t("home.anyCity")}</option>
            {cities.map((city) => (
              <option key={city} value={city}>
                {city}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("home.category")}
          <select name="category" defaultValue={filter.category}>
            <option value="">{t("home.anyCategory")}</option>
            {categories.map((category) => (
              <option key={category} value={category}>
                {t(`categories.${category}`, { defaultValue: category })}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("home.dateFrom")}
          <input type="date" name="from" defaultValue={filter.from} />
        </label>
        <label>
          {t("home.dateTo")}
          <input type="date" name="to" defaultValue={filter.to} />
        </label>
        <div className="filter-actions">
          <button type="submit" className="button secondary">
            {t("home.apply")}
          </button>
          {(filter.city || filter.category || filter.from || filter.to) && (
            <button type="button" className="link-button" onClick={() => update({ city: "", category: "", from: "", to: "" })}>
              {t("home.clear")}
            </button>
          )}
        </div>
      </form>

      <section className="results" aria-labelledby="results-heading" aria-busy={results.isFetching}>
        <h2 id="results-heading" className="results-count">
          {first ? t("home.results", { count: first.total }) : t("home.onSale")}
        </h2>
        {results.isPending && <Loading />}
        {results.isError && <ErrorMessage error={results.error} onRetry={() => void results.refetch()} />}
        {first && items.length === 0 && <p>{t("home.noResults")}</p>}
        <ul className="event-grid">
          {items.map((hit) => (
            <EventCard key={hit.event_id} hit={hit} locale={i18n.language} />
          ))}
        </ul>
        {results.hasNextPage && (
          <button
            type="button"
            className="button secondary"
            disabled={results.isFetchingNextPage}
            onClick={() => void results.fetchNextPage()}
          >
            {t("home.more")}
          </button>
        )}
      </section>
    </Page>
  );
}

function EventCard({ hit, locale }: { hit: SearchHit; locale: string }) {
  const { t } = useTranslation();
  return (
    <li className="event-card">
      <h3>
        <Link to={`/events/${hit.event_id}`}>{hit.title}</Link>
      </h3>
      <p className="event-meta">
        <span>{t(`categories.${hit.category}`, { defaultValue: hit.category })}</span>
        <span>
          {hit.venue_name}, {hit.city}
        </span>
      </p>
      <p>
        <time dateTime={hit.starts_at}>{formatShortDateTime(hit.starts_at, locale)}</time>
      </p>
      <p className="price">{t("home.from", { price: formatMoney(hit.min_price_cents, hit.currency, locale) })}</p>
    </li>
  );
}
