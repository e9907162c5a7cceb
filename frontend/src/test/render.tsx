/** Rendering a component as the app does: i18n, services (with a fake fetch), query client,
 * auth and a router. */
import { QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { I18nextProvider } from "react-i18next";
import { MemoryRouter } from "react-router";
import { createQueryClient } from "../app/App";
import { createServices, ServicesProvider } from "../app/services";
import { AuthProvider } from "../auth/AuthProvider";
import { setupI18n, type Language } from "../i18n";

export function renderWithApp(ui: ReactElement, { language = "en" as Language, path = "/" } = {}) {
  const i18n = setupI18n(language);
  const services = createServices({ apiBaseUrl: "http://api.test", stripePublishableKey: null }, localStorage, null);
  const queryClient = createQueryClient();
  const result = render(
    <I18nextProvider i18n={i18n}>
      <ServicesProvider services={services}>
        <QueryClientProvider client={queryClient}>
          <AuthProvider>
            <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
          </AuthProvider>
        </QueryClientProvider>
      </ServicesProvider>
    </I18nextProvider>,
  );
  return { ...result, i18n, services, queryClient };
}

/** A fetch answering JSON (or problem+json) per "METHOD path". */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? "application/problem+json" : "application/json";
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": type, ...headers },
  });
}
