import "server-only";
import { BrokerUnavailableError, isBrokerUnavailable } from "@/lib/broker/types";

/** The message of an unknown thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Settles like `promise`, or rejects with BrokerUnavailableError after `timeoutMs`; a
 * rejection becomes a BrokerUnavailableError naming the operation, so callers answer 503.
 */
export function withTimeout<T>(
  operation: string,
  timeoutMs: number,
  promise: Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new BrokerUnavailableError(`redis ${operation} timed out after ${timeoutMs} ms`, {
            operation,
          }),
        ),
      timeoutMs,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // Already named (a nested limit, or a publish its replicas did not take): as it is.
        if (isBrokerUnavailable(error)) reject(error);
        else {
          reject(
            new BrokerUnavailableError(`redis ${operation} failed: ${errorMessage(error)}`, {
              cause: error,
              operation,
            }),
          );
        }
      },
    );
  });
}
