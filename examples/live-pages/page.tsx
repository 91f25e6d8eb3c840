import { readLatest } from "@/lib/features/history";
import { OrdersFeed } from "./orders-feed";

// app/orders/page.tsx: a Server Component
export default async function Orders() {
  const { events, position } = await readLatest("orders", 10);
  return (
    <OrdersFeed initial={events.map(({ id, data }) => ({ id, ...data }))} position={position} />
  );
}
