// Registers PixlStash's settings in ComfyUI's settings dialog. The nodes read them on the server side
// from ComfyUI's settings file, so the token never travels inside a workflow.
import { app } from "../../scripts/app.js";

app.registerExtension({
  name: "PixlStash.Settings",
  settings: [
    {
      id: "PixlStash.ServerURL",
      category: ["PixlStash", "Server", "URL"],
      name: "PixlStash server URL",
      type: "text",
      defaultValue: "http://127.0.0.1:9537",
      tooltip: "Where `pixlstash serve` listens. The PIXLSTASH_URL environment variable overrides it.",
    },
    {
      id: "PixlStash.Token",
      category: ["PixlStash", "Server", "Token"],
      name: "PixlStash token",
      type: "text",
      defaultValue: "",
      tooltip: "From `pixlstash token create --scope read` (searches, loaders) or `--scope write` (the Picture Saver). "
        + "The PIXLSTASH_TOKEN environment variable overrides it.",
    },
  ],
});
