import type { ChannelEvent, ChannelName, DeclaredEvents } from "@/lib/catalog/typing";
import type { channels } from "@/lib/channels";

/** The app's declarations (`lib/channels.ts`), as types: nothing of it runs from here. */
export type App = (typeof channels)["declarations"];

/** A channel name the app allows. */
export type AppChannel = ChannelName<App>;

/** One event of channel `C`, typed by its declaration. */
export type AppEvent<C extends string> = ChannelEvent<App, C>;

/** Every declared event type with its data (the hook's handlers take these). */
export type AppEvents = DeclaredEvents<App>;
