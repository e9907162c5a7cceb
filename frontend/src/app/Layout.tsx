import { Suspense } from "react";
import { useTranslation } from "react-i18next";
import { Link, NavLink, Outlet, useNavigate } from "react-router";
import { useAuth } from "../auth/AuthProvider";
import { Loading } from "../components/Loading";
import { HoldProvider, useHold } from "../features/holds/HoldProvider";
import { OfflineBanner } from "../components/OfflineBanner";
import { LANGUAGES } from "../i18n";

export function Layout() {
  return (
    <HoldProvider>
      <Shell />
    </HoldProvider>
  );
}

function Shell() {
  const { t, i18n } = useTranslation();
  const { status, user, signOut } = useAuth();
  const { release } = useHold();
  const navigate = useNavigate();
  return (
    <>
      <a className="skip-link" href="#main">
        {t("app.skipToContent")}
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          <svg aria-hidden="true" className="brand-mark" viewBox="0 0 32 32" width="24" height="24">
            <path d="M5 10h22v4a2 2 0 0 0 0 4v4H5v-4a2 2 0 0 0 0-4z" fill="currentColor" />
          </svg>
          {t("app.name")}
        </Link>
        <nav aria-label={t("app.mainNav")} className="site-nav">
          <NavLink to="/" end>
            {t("app.home")}
          </NavLink>
          {status === "signedIn" && <NavLink to="/bookings">{t("app.bookings")}</NavLink>}
          {(user?.role === "organizer" || user?.role === "admin") && <NavLink to="/console">{t("app.console")}</NavLink>}
          {(user?.role === "organizer" || user?.role === "admin" || user?.role === "staff") && (
            <NavLink to="/door">{t("app.door")}</NavLink>
          )}
          {user?.role === "admin" && <NavLink to="/admin">{t("app.admin")}</NavLink>}
          {status === "signedOut" && (
            <>
              <NavLink to="/signin">{t("app.signIn")}</NavLink>
              <NavLink to="/register">{t("app.register")}</NavLink>
            </>
          )}
          {status === "signedIn" && (
            <>
              <span className="signed-in">{t("app.signedInAs", { name: user?.name ?? "" })}</span>
              <button
                type="button"
                className="link-button"
                onClick={async () => {
                  await release(); // while the token still works
                  await signOut();
                  navigate("/", { state: { notice: "signedOut" } });
                }}
              >
                {t("app.signOut")}
              </button>
            </>
          )}
        </nav>
        <label className="language">
          <span>{t("app.language")}</span>
          <select value={i18n.resolvedLanguage} onChange={(event) => void i18n.changeLanguage(event.target.value)}>
            {LANGUAGES.map((language) => (
              <option key={language.code} value={language.code} lang={language.code}>
                {language.label}
              </option>
            ))}
          </select>
        </label>
      </header>
      <OfflineBanner />
      <main id="main">
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
      <footer className="site-footer">
        <p>{t("app.footer")}</p>
        <p>
          <Link to="/status">{t("app.status")}</Link>
        </p>
      </footer>
    </>
  );
}
