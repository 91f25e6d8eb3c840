"use client";

import { useActionState, useState } from "react";
import { type OrderFormState, placeOrder } from "@/components/demo/order-actions";
import { useEventSource } from "@/components/use-event-source";
import type { HistoryEvent } from "@/lib/features/history";

type Order = HistoryEvent<"orders">;

/** The orders a page rendered on the server, then the live ones after them. */
export function OrdersFeed({ initial, position }: { initial: Order[]; position: string | null }) {
  const [orders, setOrders] = useState<Array<{ id: string; item: string; qty: number }>>(() =>
    initial.map((order) => ({ id: order.id, ...order.data })),
  );
  const { status } = useEventSource("/stream?channel=orders", {
    // From exactly where the server render stopped; without one (Redis was down), the
    // newest 10 instead.
    after: position,
    rewind: position === null ? 10 : 0,
    events: {
      order: (data, meta) => setOrders((list) => [...list, { id: meta.id, ...data }].slice(-100)),
    },
    onReset: () => setOrders([]),
  });
  const [state, action, pending] = useActionState<OrderFormState, FormData>(placeOrder, null);
  return (
    <section className="flex flex-col gap-4">
      <p className="text-sm text-zinc-500" data-testid="orders-status" data-status={status}>
        stream: {status}
      </p>
      <ol className="flex flex-col gap-1" data-testid="orders">
        {orders.map((order) => (
          <li key={order.id} data-testid="order" data-id={order.id} className="font-mono text-sm">
            {order.qty} × {order.item}
          </li>
        ))}
      </ol>
      <form action={action} className="flex flex-wrap items-end gap-2">
        <label className="flex flex-col text-sm">
          item
          <input name="item" defaultValue="tea" className="rounded border px-2 py-1" />
        </label>
        <label className="flex flex-col text-sm">
          quantity
          <input name="qty" defaultValue="1" className="w-24 rounded border px-2 py-1" />
        </label>
        <button
          type="submit"
          disabled={pending}
          className="rounded bg-zinc-900 px-3 py-1.5 text-white dark:bg-zinc-100 dark:text-zinc-900"
        >
          Place order
        </button>
      </form>
      {state?.ok === false && (
        <p role="alert" data-testid="order-error" className="text-sm text-red-600">
          {state.error}
        </p>
      )}
    </section>
  );
}
