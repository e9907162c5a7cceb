/** The search field with suggestions as one types: the ARIA 1.2 combobox pattern (a listbox
 * popup, arrow keys move through it, Enter picks, Escape closes), suggestions debounced. */
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState, type FormEvent, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import { useApi } from "../../app/services";

const DEBOUNCE_MS = 200;

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export function SearchBox({ initial, onSearch }: { initial: string; onSearch: (q: string) => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const listId = useId();
  const inputId = useId();
  const [text, setText] = useState(initial);
  const [shown, setShown] = useState(initial);
  if (shown !== initial) {
    // A new search in the URL (back, a link): start from its text.
    setShown(initial);
    setText(initial);
  }
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const typed = useDebounced(text.trim(), DEBOUNCE_MS);

  const { data } = useQuery({
    queryKey: ["suggest", typed],
    queryFn: ({ signal }) => api.suggest(typed, signal),
    enabled: typed.length >= 1,
    staleTime: 60_000,
    retry: false,
  });
  const suggestions = typed ? (data?.suggestions ?? []) : [];
  const expanded = open && suggestions.length > 0;

  const choose = (value: string) => {
    setText(value);
    setOpen(false);
    setActive(-1);
    onSearch(value);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "ArrowDown" && suggestions.length) {
      event.preventDefault();
      setOpen(true);
      setActive((index) => (index + 1) % suggestions.length);
    } else if (event.key === "ArrowUp" && suggestions.length) {
      event.preventDefault();
      setActive((index) => (index <= 0 ? suggestions.length - 1 : index - 1));
    } else if (event.key === "Escape") {
      setOpen(false);
      setActive(-1);
    } else if (event.key === "Enter" && expanded && active >= 0) {
      event.preventDefault();
      choose(suggestions[active]!);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    choose(text.trim());
  };

  return (
    <form role="search" className="search" onSubmit={submit}>
      <label htmlFor={inputId}>{t("home.searchLabel")}</label>
      <div className="search-row">
        <div className="combobox">
          <input
            id={inputId}
            type="search"
            role="combobox"
            autoComplete="off"
            aria-autocomplete="list"
            aria-expanded={expanded}
            aria-controls={listId}
            aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
            placeholder={t("home.searchPlaceholder")}
            value={text}
            onChange={(event) => {
              setText(event.target.value);
              setOpen(true);
              setActive(-1);
            }}
            onKeyDown={onKeyDown}
            onBlur={() => setTimeout(() => setOpen(false), 150)}
            onFocus={() => setOpen(true)}
          />
          <ul id={listId} role="listbox" aria-label={t("home.suggestions")} hidden={!expanded} className="suggestions">
            {suggestions.map((suggestion, index) => (
              // Keyboard users move through the options from the input (aria-activedescendant).
              // eslint-disable-next-line jsx-a11y/click-events-have-key-events
              <li
                key={suggestion}
                id={`${listId}-${index}`}
                role="option"
                aria-selected={index === active}
                onMouseDown={(event) => event.preventDefault()}
                onClick={() => choose(suggestion)}
              >
                {suggestion}
              </li>
            ))}
          </ul>
        </div>
        <button type="submit" className="button">
          {t("home.searchButton")}
        </button>
      </div>
    </form>
  );
}
