// First: make navigator.language usable by Intl before any library reads it (see the module).
import "./lib/localeGuard";
import { mount } from "svelte";
import "./styles/app.css";
import App from "./App.svelte";
import { inTauri } from "./api";
import { isPage, type Page } from "./lib/pages";

// Outside Tauri (the dev fake), ?page=NAME helps design review.
let initialPage: Page = "dashboard";
if (!inTauri()) {
  const params = new URLSearchParams(location.search);
  const page = params.get("page");
  if (page && isPage(page)) initialPage = page;
}

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app");
mount(App, { target, props: { initialPage } });
