import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { describeError } from "../api/problems";
import { safeNext } from "../auth/RequireAuth";
import { useAuth } from "../auth/AuthProvider";
import { Field } from "../components/Field";
import { Page } from "../components/Page";

interface SignInForm {
  email: string;
  password: string;
}

export function Component() {
  const { t, i18n } = useTranslation();
  const { signIn, status } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [failure, setFailure] = useState<string | null>(null);
  const { register, handleSubmit, formState } = useForm<SignInForm>();

  if (status === "signedIn" && !formState.isSubmitting) return <Navigate to={next} replace />;

  const onSubmit = handleSubmit(async ({ email, password }) => {
    setFailure(null);
    try {
      await signIn(email.trim(), password);
      navigate(next, { replace: true });
    } catch (error) {
      setFailure(describeError(error, t, i18n.language, "signIn").message);
    }
  });

  const errors = formState.errors;
  return (
    <Page title={t("auth.signInTitle")}>
      {params.get("next") && <p className="lead">{t("auth.signInToContinue")}</p>}
      <form onSubmit={onSubmit} noValidate className="form">
        {failure && (
          <div className="notice notice-error" role="alert">
            <p>{failure}</p>
          </div>
        )}
        <Field
          label={t("auth.email")}
          type="email"
          autoComplete="email"
          error={errors.email?.message}
          {...register("email", { required: t("auth.required", { field: t("fields.email") }) })}
        />
        <Field
          label={t("auth.password")}
          type="password"
          autoComplete="current-password"
          error={errors.password?.message}
          {...register("password", { required: t("auth.required", { field: t("fields.password") }) })}
        />
        <button type="submit" className="button" disabled={formState.isSubmitting}>
          {formState.isSubmitting ? t("auth.working") : t("auth.submitSignIn")}
        </button>
      </form>
      <p>
        {t("auth.noAccount")}{" "}
        <Link to={`/register${params.get("next") ? `?next=${encodeURIComponent(next)}` : ""}`}>{t("auth.registerTitle")}</Link>
      </p>
    </Page>
  );
}
