/**
 * A Watch stream does not outlive its token (issue 21): it ends with `unauthenticated` when the
 * token expires, and a new stream with a fresh token resumes from the last cursor.
 */
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { TokenService } from "@platform/lib/auth";
import { WatchRecorder } from "../e2e/watch_recorder.ts";
import { PlatformEnv, TEST_SECRET } from "./orchestrator_env.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };

Deno.test(
  { name: "a Watch stream ends with unauthenticated when its token expires", ...opts },
  async () => {
    const env = await PlatformEnv.start();
    try {
      const orchestrator = await env.startOrchestrator();
      const tokens = new TokenService([TEST_SECRET], 3600);
      const userId = crypto.randomUUID();
      const shortLived = await tokens.issue({ subject: userId, role: "developer" }, 3);
      const opened = Date.now();
      const watch = await WatchRecorder.open(orchestrator.url, shortLived.token);
      while (!watch.ended && Date.now() - opened < 10_000) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const endedAfter = Date.now() - opened;
      assert.ok(watch.ended, "the stream outlived its token");
      assert.equal(watch.error?.code, Code.Unauthenticated, String(watch.error));
      assert.match(watch.error!.rawMessage, /expired.*fresh token/);
      assert.ok(endedAfter >= 2000 && endedAfter < 5000, `ended after ${endedAfter} ms`);
      // Keep-alives came until then (WATCH_KEEPALIVE_SECONDS=1 in the test env).
      assert.ok(watch.frames.length >= 2, `${watch.frames.length} frames`);

      // A fresh token resumes from the last cursor.
      const fresh = await tokens.issue({ subject: userId, role: "developer" });
      const resumed = await WatchRecorder.open(
        orchestrator.url,
        fresh.token,
        undefined,
        watch.cursor,
      );
      assert.equal(resumed.error, undefined);
      await resumed.stop();
    } finally {
      await env.stop();
    }
  },
);
