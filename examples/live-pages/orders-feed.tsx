"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useEventSource } from "@/components/use-event-source";

type Order = { id: string; item: string; qty: number };

export function OrdersFeed({ initial, position }: { initial: Order[]; position: string | null }) {
  const router = useRouter();
  const [orders, setOrders] = useState(initial);
  useEventSource("/stream?channel=orders", {
    after: position, // from exactly where the render stopped
    events: { order: (order, { id }) => setOrders((list) => [...list, { id, ...order }]) },
    onReset: () => router.refresh(), // history no longer reached back: render again
  });
  return (
    <ul>
      {orders.map((order) => (
        <li key={order.id}>
          {order.qty} × {order.item}
        </li>
      ))}
    </ul>
  );
}
