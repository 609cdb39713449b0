// The PixlStash connection in ComfyUI's settings dialog (Settings > PixlStash). The URL and token go to the
// pack's own route, which keeps them in a file ComfyUI does not serve; they are never a ComfyUI setting,
// because ComfyUI answers GET /settings/<id> to anyone who can reach it. The token is shown masked.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function sourceLine(connection) {
  if (connection.error) return connection.error;
  const token = connection.token ? `token ${connection.token}` : "no token yet";
  const places = [...new Set([connection.url_from, connection.token_from].filter(Boolean))];
  return `Server ${connection.url} with ${token}, from ${places.join(" and ")}.`;
}

function connectionForm() {
  const status = element("p", { class: "pixlstash-status", role: "status", "aria-live": "polite" }, "Reading…");
  const url = element("input", {
    id: "pixlstash-url", type: "url", class: "p-inputtext", autocomplete: "off", spellcheck: "false",
    style: "width:100%",
  });
  const token = element("input", {
    id: "pixlstash-token", type: "password", class: "p-inputtext", autocomplete: "off", style: "width:100%",
    placeholder: "paste a token to replace the stored one",
  });
  const save = element("button", { type: "button", class: "p-button p-component" }, "Save and check");
  const form = element(
    "div", { class: "pixlstash-connection", style: "display:flex;flex-direction:column;gap:.5rem;min-width:18rem" },
    status,
    element("label", { for: "pixlstash-url" }, "Server URL"), url,
    element("label", { for: "pixlstash-token" }, "Token (from `pixlstash token create --scope write`)"), token,
    save,
  );
  const show = (connection) => {
    status.textContent = sourceLine(connection);
    if (connection.url) url.value = connection.url;
    const fromEnvironment = connection.url_from === "PIXLSTASH_URL" && connection.token_from === "PIXLSTASH_TOKEN";
    for (const field of [url, token, save]) field.disabled = fromEnvironment;
    if (fromEnvironment) status.textContent += " ComfyUI's environment sets both, and wins over this page.";
  };
  api.fetchApi("/pixlstash/connection").then((r) => r.json()).then(show, (e) => { status.textContent = String(e); });
  save.addEventListener("click", async () => {
    status.textContent = "Checking…";
    const body = { url: url.value };
    if (token.value) body.token = token.value;
    const response = await api.fetchApi("/pixlstash/connection", { method: "POST", body: JSON.stringify(body) });
    const answer = await response.json();
    token.value = "";
    if (!response.ok) { status.textContent = answer.error; return; }
    show(answer);
    status.textContent = `${answer.check.message} ${status.textContent}`;
  });
  return form;
}

app.registerExtension({
  name: "PixlStash.Settings",
  settings: [
    {
      id: "PixlStash.Connection",
      category: ["PixlStash", "Server", "Connection"],
      name: "PixlStash server",
      type: () => connectionForm(),
      defaultValue: "",
      tooltip: "PIXLSTASH_URL and PIXLSTASH_TOKEN in ComfyUI's environment win over what is entered here.",
    },
  ],
});
