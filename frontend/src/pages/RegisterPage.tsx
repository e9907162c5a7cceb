import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { describeError } from "../api/problems";
import { safeNext } from "../auth/RequireAuth";
import { useAuth } from "../auth/AuthProvider";
import { Field } from "../components/Field";
import { Page } from "../components/Page";

interface RegisterForm {
  name: string;
  email: string;
  password: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function Component() {
  const { t, i18n } = useTranslation();
  const { register: createAccount, status } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [failure, setFailure] = useState<string | null>(null);
  const { register, handleSubmit, formState, setError } = useForm<RegisterForm>();

  if (status === "signedIn" && !formState.isSubmitting) return <Navigate to={next} replace />;

  const onSubmit = handleSubmit(async ({ name, email, password }) => {
    setFailure(null);
    try {
      await createAccount(name.trim(), email.trim(), password);
      navigate(next, { replace: true });
    } catch (error) {
      const described = describeError(error, t, i18n.language);
      for (const [field, message] of Object.entries(described.fields)) {
        if (field === "name" || field === "email" || field === "password") setError(field, { message });
      }
      setFailure(described.message);
    }
  });

  const errors = formState.errors;
  return (
    <Page title={t("auth.registerTitle")}>
      <form onSubmit={onSubmit} noValidate className="form">
        {failure && (
          <div className="notice notice-error" role="alert">
            <p>{failure}</p>
          </div>
        )}
        <Field
          label={t("auth.name")}
          autoComplete="name"
          error={errors.name?.message}
          {...register("name", { required: t("auth.required", { field: t("fields.name") }) })}
        />
        <Field
          label={t("auth.email")}
          type="email"
          autoComplete="email"
          error={errors.email?.message}
          {...register("email", {
            required: t("auth.required", { field: t("fields.email") }),
            pattern: { value: EMAIL, message: t("auth.invalidEmail") },
          })}
        />
        <Field
          label={t("auth.password")}
          type="password"
          autoComplete="new-password"
          hint={t("auth.passwordHint")}
          error={errors.password?.message}
          {...register("password", {
            required: t("auth.required", { field: t("fields.password") }),
            minLength: { value: 8, message: t("fields.minLength", { count: 8 }) },
          })}
        />
        <button type="submit" className="button" disabled={formState.isSubmitting}>
          {formState.isSubmitting ? t("auth.working") : t("auth.submitRegister")}
        </button>
      </form>
      <p>
        {t("auth.haveAccount")} <Link to={`/signin${params.get("next") ? `?next=${encodeURIComponent(next)}` : ""}`}>{t("auth.signInTitle")}</Link>
      </p>
    </Page>
  );
}
