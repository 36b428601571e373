/**
 * The baseline of the GetUser benchmark: a bare `Deno.serve` answering a JSON body the size of
 * a GetUser response, with no routing, protocol or database. Prints its port.
 *
 * @module
 */
const body = JSON.stringify({
  user: {
    id: crypto.randomUUID(),
    email: "dev@example.com",
    role: "ROLE_DEVELOPER",
    displayName: "Bench Developer",
    skillTags: ["go", "postgresql", "typescript"],
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  },
});
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  await req.arrayBuffer();
  return new Response(body, { headers: { "content-type": "application/json" } });
});
console.log(JSON.stringify({ port: (server.addr as Deno.NetAddr).port }));
