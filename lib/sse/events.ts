/**
 * The app's event map: event type -> the data it carries. Shared by `publish` on the server
 * and `useEventSource` in the browser, so both sides agree on every payload. Add your own.
 */
export interface AppEvents {
  greeting: { message: string };
}

/** The data of an event type: typed for the types in AppEvents, unknown for the rest. */
export type EventData<T extends string> = T extends keyof AppEvents ? AppEvents[T] : unknown;

/**
 * Reserved event a stream with history sends once it is subscribed and caught up (and again
 * after a broker reconnect): no data, its id is the stream's position.
 */
export const POSITION_EVENT = "position";

/** Reserved event a stream sends when history could not fill a gap: refetch your state. */
export const RESET_EVENT = "reset";

/** Data of the `reset` event. */
export interface ResetData {
  channels: string[];
}
