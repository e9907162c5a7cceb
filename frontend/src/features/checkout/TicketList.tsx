import { useTranslation } from "react-i18next";
import type { Ticket } from "../../api/types";

/** The tickets with their QR codes. The API's SVG is shown as an image (never as markup), and
 * the list prints one ticket per page. */
export function TicketList({ tickets, title }: { tickets: Ticket[]; title: string }) {
  const { t } = useTranslation();
  return (
    <ul className="tickets">
      {tickets.map((ticket) => (
        <li key={ticket.ticket_id} className="ticket">
          <h3>{t("bookings.ticket", { seat: ticket.seat_id })}</h3>
          <p className="ticket-event">{title}</p>
          <img
            className="qr"
            src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(ticket.qr_svg)}`}
            alt={t("bookings.qrAlt", { seat: ticket.seat_id })}
            width={180}
            height={180}
          />
          <p className="ticket-id">{ticket.ticket_id}</p>
        </li>
      ))}
    </ul>
  );
}
