import { useEffect, useRef, type ReactNode } from "react";
import { useTranslation } from "react-i18next";

/** A page's heading and document title. The heading takes focus when the page opens, so a
 * screen reader announces where a link led (single-page apps otherwise stay silent). */
export function Page({ title, children, wide }: { title: string; children: ReactNode; wide?: boolean }) {
  const { t } = useTranslation();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · ${t("app.name")}`;
  }, [title, t]);
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
  }, []);
  return (
    <div className={wide ? "page page-wide" : "page"}>
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </div>
  );
}
