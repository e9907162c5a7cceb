/** Every page and its URL. Pages load their code on first visit (the home page's bundle stays
 * small); a page is a module exporting `Component`. README: "Adding a page". */
import type { RouteObject } from "react-router";
import { Loading } from "../components/Loading";
import { EventPage } from "../pages/EventPage";
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
          { path: "events/:eventId", element: <EventPage /> },
          { path: "events/:eventId/waiting-room", lazy: () => import("../pages/WaitingRoomPage") },
          { path: "checkout/:holdId", lazy: () => import("../pages/CheckoutPage") },
          { path: "bookings", lazy: () => import("../pages/BookingsPage") },
          { path: "bookings/:bookingId", lazy: () => import("../pages/BookingPage") },
          { path: "signin", lazy: () => import("../pages/SignInPage") },
          { path: "register", lazy: () => import("../pages/RegisterPage") },
          // The organizer console, the door, the admin and the status page (issue 19).
          { path: "console", lazy: () => import("../console/ConsoleHome") },
          { path: "console/venues/new", lazy: () => import("../console/VenueEditor") },
          { path: "console/venues/:venueId", lazy: () => import("../console/VenueEditor") },
          { path: "console/events/new", lazy: () => import("../console/EventEditor") },
          { path: "console/events/:eventId/edit", lazy: () => import("../console/EventEditor") },
          { path: "console/events/:eventId", lazy: () => import("../console/SalesDashboard") },
          { path: "console/staff", lazy: () => import("../console/StaffPage") },
          { path: "door", lazy: () => import("../door/DoorPage") },
          { path: "door/:eventId", lazy: () => import("../door/DoorPage") },
          { path: "admin", lazy: () => import("../console/AdminPage") },
          { path: "status", lazy: () => import("../status/StatusPage") },
          { path: "*", lazy: () => import("../pages/NotFoundPage") },
        ],
      },
    ],
  },
];
