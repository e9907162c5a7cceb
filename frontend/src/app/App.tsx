import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { i18n as I18n } from "i18next";
import { useState } from "react";
import { I18nextProvider } from "react-i18next";
import { createBrowserRouter, RouterProvider } from "react-router";
import { ApiError } from "../api/client";
import { AuthProvider } from "../auth/AuthProvider";
import { routes } from "./routes";
import { ServicesProvider, type Services } from "./services";

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        // A 4xx will not get better by asking again; a network hiccup may.
        retry: (failures, error) =>
          failures < 2 && !(error instanceof ApiError && error.status !== null && error.status < 500),
      },
      mutations: { retry: false },
    },
  });
}

export function App({ services, i18n }: { services: Services; i18n: I18n }) {
  const [queryClient] = useState(createQueryClient);
  const [router] = useState(() => createBrowserRouter(routes));
  return (
    <I18nextProvider i18n={i18n}>
      <ServicesProvider services={services}>
        <QueryClientProvider client={queryClient}>
          <AuthProvider>
            <RouterProvider router={router} />
          </AuthProvider>
        </QueryClientProvider>
      </ServicesProvider>
    </I18nextProvider>
  );
}
