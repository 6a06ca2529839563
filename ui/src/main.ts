// First: make navigator.language usable by Intl before any library reads it (see the module).
import "./lib/localeGuard";
import { mount } from "svelte";
import "./styles/app.css";
import App from "./App.svelte";
import { inTauri } from "./api";
import { isPage, type Page } from "./lib/pages";

// Outside Tauri (the dev fake), ?theme=dark|light and ?page=NAME help design review.
let initialPage: Page = "dashboard";
if (!inTauri()) {
  const params = new URLSearchParams(location.search);
  const theme = params.get("theme");
  if (theme === "dark" || theme === "light") document.documentElement.dataset.theme = theme;
  const page = params.get("page");
  if (page && isPage(page)) initialPage = page;
}

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app");
mount(App, { target, props: { initialPage } });
