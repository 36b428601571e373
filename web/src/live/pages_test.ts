import assert from "node:assert/strict";
import { collectPages, ListWindow } from "./pages.ts";

/** A list of `total` numbers served `size` at a time. */
function server(total: number, size: number) {
  const asked: string[] = [];
  const fetchPage = (token: string) => {
    asked.push(token);
    const from = token === "" ? 0 : Number(token);
    const items = Array.from({ length: Math.min(size, total - from) }, (_, i) => from + i);
    const next = from + size < total ? String(from + size) : "";
    return Promise.resolve({ items, nextPageToken: next });
  };
  return { asked, fetchPage };
}

Deno.test("a list is read until the view has what it wants, and says there is more", async () => {
  const s = server(120, 50);
  const first = await collectPages(s.fetchPage, 50);
  assert.equal(first.items.length, 50);
  assert.equal(first.more, true);
  const window = new ListWindow(50);
  window.grow();
  window.grow();
  assert.equal(window.want, 150);
  const all = await collectPages(s.fetchPage, window.want);
  assert.deepEqual(all.items, Array.from({ length: 120 }, (_, i) => i));
  assert.equal(all.more, false);
});

Deno.test("Infinity reads to the end; an exact last page says no more", async () => {
  const s = server(100, 50);
  const all = await collectPages(s.fetchPage, Infinity);
  assert.equal(all.items.length, 100);
  assert.equal(all.more, false);
  assert.deepEqual(s.asked, ["", "50"]);
  assert.deepEqual(await collectPages(server(0, 50).fetchPage, 50), { items: [], more: false });
});

Deno.test("a token answered twice is an error, not an endless loop", async () => {
  const stuck = () => Promise.resolve({ items: [1], nextPageToken: "same" });
  await assert.rejects(collectPages(stuck, Infinity), /same page token twice/);
});
