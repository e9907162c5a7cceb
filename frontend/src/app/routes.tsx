/** Every page and its URL. Pages load their code on first visit (the home page's bundle stays
 * small); a page is a module exporting `Component`. README: "Adding a page". */
import type { RouteObject } from "react-router";
import { Loading } from "../components/Loading";
import { HomePage } from "../pages/HomePage";
import { Layout } from "./Layout";
import { RouteError } from "./RouteError";

export const routes: RouteObject[] = [
  {
    element: <Layout />,
    errorElement: <RouteError />,
    hydrateFallbackElement: <Loading />,
    children: [
      {
        errorElement: <RouteError />,
        children: [
          { index: true, element: <HomePage /> },
          { path: "events/:eventId", lazy: () => import("../pages/EventPage") },
          { path: "checkout/:holdId", lazy: () => import("../pages/CheckoutPage") },
          { path: "bookings", lazy: () => import("../pages/BookingsPage") },
          { path: "bookings/:bookingId", lazy: () => import("../pages/BookingPage") },
          { path: "signin", lazy: () => import("../pages/SignInPage") },
          { path: "register", lazy: () => import("../pages/RegisterPage") },
          { path: "*", lazy: () => import("../pages/NotFoundPage") },
        ],
      },
    ],
  },
];
