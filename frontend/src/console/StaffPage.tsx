/** An organizer's door staff: people who may check tickets in for their events, nothing else. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Field } from "../components/Field";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { Problem, RequireRole, useConsole } from "./shared";
import "./console.css";

export function Component() {
  return (
    <RequireRole roles={["organizer"]}>
      <Staff />
    </RequireRole>
  );
}

function Staff() {
  const { t, api } = useConsole();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [notice, setNotice] = useState<string | null>(null);
  const staff = useQuery({ queryKey: ["staff"], queryFn: api.staff });
  const add = useMutation({
    mutationFn: () => api.addStaff(email.trim()),
    onSuccess: async (user) => {
      setEmail("");
      setNotice(t("staff.added", { name: user.name }));
      await queryClient.invalidateQueries({ queryKey: ["staff"] });
    },
  });
  const remove = useMutation({
    mutationFn: (userId: string) => api.removeStaff(userId),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["staff"] }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };
  return (
    <Page title={t("staff.title")}>
      <p>{t("staff.intro")}</p>
      <form className="console-form" onSubmit={submit}>
        <Field label={t("staff.email")} type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" />
        <button type="submit" className="button" disabled={add.isPending}>
          {t("staff.add")}
        </button>
      </form>
      {notice && (
        <p className="notice notice-success" role="status">
          {notice}
        </p>
      )}
      <Problem error={add.error ?? remove.error} />
      {staff.isPending && <Loading />}
      <Problem error={staff.error} />
      {staff.data?.items.length === 0 && <p>{t("staff.none")}</p>}
      <ul className="console-list">
        {staff.data?.items.map((user) => (
          <li key={user.id}>
            {user.name} <span className="muted">{user.email}</span>{" "}
            <button type="button" className="button secondary" onClick={() => remove.mutate(user.id)}>
              {t("staff.remove", { name: user.name })}
            </button>
          </li>
        ))}
      </ul>
    </Page>
  );
}
