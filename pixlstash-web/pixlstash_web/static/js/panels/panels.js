// The side panels' host: opens one panel at a time, keeps the live ones current, and hands each panel
// module (stats, insights, dataset, tasks, snapshots, settings, help, people, history, folders) its frame.

import { renderCuration } from "./curation.js";
import { renderDataset } from "./dataset.js";
import { renderFolders } from "./folders.js";
import { renderHelp } from "./help.js";
import { renderHistory } from "./history.js";
import { renderInsights } from "./insights.js";
import { renderPeople } from "./people.js";
import { renderSettings } from "./settings.js";
import { renderSnapshots } from "./snapshots.js";
import { renderStats } from "./stats.js";
import { renderTasks } from "./tasks.js";
import { esc } from "../ui.js";

const $ = (id) => document.getElementById(id);
let current = null;
let currentOptions = {};
let eventsBound = false;

export function openPanel(app, name, options = {}) {
  const panel = $("panel");
  if (current === name && !panel.hidden && !Object.keys(options).length) { closePanel(); return; }
  current = name;
  currentOptions = options;
  panel.hidden = false;
  $("app").classList.remove("sidebar-open");  // a phone's drawer gives way to the panel opened from it
  panel.dataset.panel = name;
  if (!eventsBound) {
    eventsBound = true;
    let timer = 0;
    // What is open when the timer fires is asked again then: the panel may have closed or become another.
    const renderAgain = (shown, wait) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (panel.hidden || current !== shown) return;
        if (shown === "tasks") renderTasks(app, panel, FRAME);
        else if (shown === "history") renderHistory(app, panel, header, bindClose);
        else renderDataset(app, panel, FRAME, currentOptions);
      }, wait);
    };
    window.addEventListener("pixlstash:event", (e) => {
      if (current === "tasks" && !panel.hidden && (e.detail.kind === "job.progress" || e.detail.kind === "comfy.run")) {
        renderAgain("tasks", 150);
      }
    });
    // An edit, undo or redo anywhere: an open history panel shows it, an open dataset check is made again.
    const edited = () => {
      if (["history", "dataset"].includes(current) && !panel.hidden) renderAgain(current, 300);
    };
    window.addEventListener("pixlstash:history", edited);
    window.addEventListener("pixlstash:event", (e) => { if (!["job.progress", "comfy.run"].includes(e.detail.kind)) edited(); });
  }
  // Clear what the panel showed before while the new content loads: a button left from the last
  // opening could be clicked, and its answer then lost when the new content arrives.
  panel.innerHTML = `${header(name[0].toUpperCase() + name.slice(1))}<p class="muted">Loading…</p>`;
  bindClose(panel);
  ({ stats: (a, p) => renderStats(a, p, FRAME), tasks: (a, p) => renderTasks(a, p, FRAME),
    insights: (a, p) => renderInsights(a, p, FRAME), dataset: (a, p, o) => renderDataset(a, p, FRAME, o),
    snapshots: (a, p, o) => renderSnapshots(a, p, FRAME, o),
    settings: (a, p) => renderSettings(a, p, header, bindClose),
    help: (a, p) => renderHelp(a, p, FRAME), people: (a, p, o) => renderPeople(a, p, { header, bindClose }, o),
    history: (a, p) => renderHistory(a, p, header, bindClose),
    folders: (a, p) => renderFolders(a, p, header, bindClose),
    curation: (a, p, o) => renderCuration(a, p, FRAME, o) })[name](app, panel, options);
}

/** The view changed: an open statistics or insights panel shows the new view's figures, never the old ones. */
export function viewChanged(app) {
  const panel = $("panel");
  if (current === "stats" && !panel.hidden) renderStats(app, panel, FRAME);
  if (current === "insights" && !panel.hidden) renderInsights(app, panel, FRAME);
}

export function closePanel() {
  $("panel").hidden = true;
  current = null;
}

function header(title) {
  return `<h2>${esc(title)} <button class="icon" data-close aria-label="Close panel">✕</button></h2>`;
}

function bindClose(panel) {
  panel.querySelector("[data-close]").onclick = closePanel;
}

// What every panel module is handed: its title bar and the close button's binding.
const FRAME = { header, bindClose };
