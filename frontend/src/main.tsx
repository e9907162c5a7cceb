import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import { createServices } from "./app/services";
import { loadConfig } from "./config";
import { setupI18n } from "./i18n";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);
const i18n = setupI18n();

loadConfig().then(
  (config) => {
    root.render(
      <StrictMode>
        <App services={createServices(config)} i18n={i18n} />
      </StrictMode>,
    );
  },
  (error: unknown) => {
    console.error(error);
    root.render(
      <main className="page">
        <h1>{i18n.t("app.name")}</h1>
        <p role="alert">{i18n.t("app.configFailed")}</p>
      </main>,
    );
  },
);
