// `npm run docs:settings`: writes docs/settings.md from the config schema and .env.example.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { settingsPage } from "./settings-page";

writeFileSync(join(__dirname, "..", "..", "docs", "settings.md"), settingsPage());
console.log("docs/settings.md written");
