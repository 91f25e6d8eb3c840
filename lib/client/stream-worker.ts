/// <reference lib="webworker" />
import { StreamHost } from "@/lib/client/host";
import { CLIENT_LOCK_PREFIX, type ClientMessage } from "@/lib/client/protocol";

/**
 * The SharedWorker that holds the streams of every tab of the origin (see `tab.ts`). A tab
 * leaves by saying `bye` on `pagehide`; if it cannot (it crashed), the host learns it when
 * it gets the lock the tab held while it lived.
 */
declare const self: SharedWorkerGlobalScope;

const host = new StreamHost();
const watched = new Set<string>();

self.onconnect = (event: MessageEvent) => {
  const port = event.ports[0];
  port.onmessage = ({ data }: MessageEvent<{ clientId: string; message: ClientMessage }>) => {
    const { clientId, message } = data;
    if (!watched.has(clientId) && self.navigator.locks) {
      watched.add(clientId);
      void self.navigator.locks.request(`${CLIENT_LOCK_PREFIX}${clientId}`, () => {
        watched.delete(clientId);
        host.remove(clientId);
      });
    }
    host.receive(clientId, message, (reply) => port.postMessage(reply));
  };
  port.start();
};

self.addEventListener("online", () => host.receive("", { type: "wake" }, () => {}));
