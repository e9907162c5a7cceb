/** i18next with both languages bundled (a few kB each): switching needs no request. */
import i18next from "i18next";
import { initReactI18next } from "react-i18next";
import { en } from "./en";
import { ko } from "./ko";

export const LANGUAGES = [
  { code: "en", label: "English" },
  { code: "ko", label: "한국어" },
] as const;
export type Language = (typeof LANGUAGES)[number]["code"];

const STORAGE_KEY = "ticketing.language";

export function preferredLanguage(): Language {
  const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (stored === "en" || stored === "ko") return stored;
  const browser = globalThis.navigator?.languages ?? [];
  return browser.some((tag) => tag.toLowerCase().startsWith("ko")) &&
    !browser[0]?.toLowerCase().startsWith("en")
    ? "ko"
    : "en";
}

export function setupI18n(language: Language = preferredLanguage()) {
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    resources: { en: { translation: en }, ko: { translation: ko } },
    lng: language,
    fallbackLng: "en",
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
    initImmediate: false, // resources are bundled: ready synchronously
    showSupportNotice: false,
  });
  const apply = (lng: string) => {
    document.documentElement.lang = lng;
  };
  apply(language);
  instance.on("languageChanged", (lng) => {
    apply(lng);
    globalThis.localStorage?.setItem(STORAGE_KEY, lng);
  });
  return instance;
}
