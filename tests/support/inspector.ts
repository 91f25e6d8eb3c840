import WebSocket from "ws";

/** A DevTools protocol session with a Node process started with `--inspect=127.0.0.1:0`. */
export interface InspectorSession {
  /** Runs a full garbage collection, then evaluates `expression` in the process. */
  evaluateAfterGc<T>(expression: string): Promise<T>;
  close(): void;
}

/** Connects to the inspector whose address the process printed in `output`. */
export async function connectInspector(output: string): Promise<InspectorSession> {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
  if (!url) throw new Error(`no inspector address in the server's output:\n${output}`);
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  let nextId = 1;
  const pending = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();
  socket.on("message", (raw) => {
    const message = JSON.parse(raw.toString());
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (message) =>
        message.error ? reject(new Error(JSON.stringify(message.error))) : resolve(message.result),
      );
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    async evaluateAfterGc<T>(expression: string) {
      await call("HeapProfiler.collectGarbage");
      const result = (await call("Runtime.evaluate", { expression, returnByValue: true })) as {
        result: { value: T };
        exceptionDetails?: unknown;
      };
      if (result.exceptionDetails) throw new Error(JSON.stringify(result.exceptionDetails));
      return result.result.value;
    },
    close: () => socket.close(),
  };
}
