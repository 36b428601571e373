/**
 * `deno task emergency <command>`: the manual's emergency commands, made safe: each shows what it
 * will do, asks for confirmation (or --yes), and reports what it did. See docs/ops.md.
 *
 * @example
 * ```sh
 * deno task emergency                           # who to call, and the commands
 * deno task emergency terminate-idle            # sessions idle in a transaction > 1h
 * deno task emergency flush-cache --yes         # the platform's fp:* Redis keys only
 * deno task emergency purge-stream              # the TASKS stream
 * ```
 *
 * @module
 */
import {
  flushCacheCommand,
  purgeStreamCommand,
  terminateIdleCommand,
} from "./emergency/run_emergency.ts";
import { TASKS_STREAM } from "@platform/lib/events";
import { loadContacts, renderContacts } from "./contacts/contacts.ts";
import { parseDurationFlag, parseFlags, runMain } from "./shared/cli.ts";
import { loadOpsConfig } from "./shared/config.ts";
import { OPS_SESSION_SPARE_MS } from "./shared/db.ts";
import { ExitCode, UsageError } from "./shared/errors.ts";
import type { Output } from "./shared/output.ts";

const USAGE = `Usage: deno task emergency [<command>] [--yes] [--json]

Without a command: the emergency contacts (ops/contacts.yaml, or CONTACTS_FILE) and this list.

Commands:
  contacts                          who to call: the emergency contacts file, checked
  terminate-idle [--older-than 1h] [--all-databases] [--spare-ops-for 6h | --include-ops]
                                    terminate sessions idle in a transaction for longer than that
                                    (the manual's pg_terminate_backend query) in DATABASE_URL's
                                    database, or in every database of the server. The ops programs'
                                    sessions (fp-ops-*, e.g. a backup's snapshot) are spared while
                                    their transaction is younger than --spare-ops-for (default 6h);
                                    --include-ops terminates them too
  flush-cache                       delete the platform's Redis keys (REDIS_KEY_PREFIX, fp:*) with
                                    SCAN + UNLINK; never FLUSHDB (REDIS_URL)
  purge-stream [--stream TASKS]     delete the messages of a JetStream stream that it lists (TASKS,
                                    PROPOSALS, PRESENCE or NOTIFICATIONS; the manual's nats stream
                                    purge TASKS --force); those
                                    published after the listing are kept. Purged events are lost for
                                    good: find a stuck consumer first (deno task doctor) (NATS_URL)

Each shows what it will do and asks for confirmation on a terminal; --yes confirms in advance.
Without a terminal and without --yes it refuses.

Exit codes: 0 done (or nothing to do), 1 failed or refused (or the contacts file is broken),
64 bad usage.`;

/**
 * The emergency program; returns its exit code.
 *
 * @example
 * ```ts
 * const code = await emergencyCli(["flush-cache", "--yes"], Output.console());
 * ```
 */
export async function emergencyCli(
  args: string[],
  output: Output,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<number> {
  const { flags, positionals } = parseFlags(args, {
    boolean: ["yes", "json", "all-databases", "include-ops"],
    string: ["older-than", "stream", "spare-ops-for"],
    short: { y: "yes" },
  });
  if (flags.help) {
    output.line(USAGE);
    return ExitCode.ok;
  }
  const [command, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, USAGE);
  if (!command || command === "contacts") {
    const list = await loadContacts(env.CONTACTS_FILE);
    if (flags.json) output.line(JSON.stringify({ command: "contacts", ...list }, null, 2));
    else output.line(renderContacts(list) + (command ? "" : `\n\n${USAGE}`));
    return list.problem ? ExitCode.failure : ExitCode.ok;
  }
  const config = loadOpsConfig(env);
  const yes = flags.yes === true;
  const human = flags.json ? output.linesToStderr() : output;
  let result: unknown;
  switch (command) {
    case "terminate-idle": {
      if (flags.stream) throw new UsageError("--stream belongs to purge-stream");
      const olderThan = parseDurationFlag((flags["older-than"] as string) ?? "1h", "older-than");
      const includeOps = flags["include-ops"] === true;
      const spareFor = flags["spare-ops-for"] as string | undefined;
      if (includeOps && spareFor !== undefined) {
        throw new UsageError("--include-ops spares no ops session; drop --spare-ops-for");
      }
      result = await terminateIdleCommand(config.databaseUrl, olderThan, human, {
        yes,
        allDatabases: flags["all-databases"] === true,
        spareOpsForMs: spareFor === undefined
          ? OPS_SESSION_SPARE_MS
          : parseDurationFlag(spareFor, "spare-ops-for"),
        includeOps,
      });
      break;
    }
    case "flush-cache":
      if (flags.stream || flags["older-than"] || terminateIdleOnly(flags)) {
        throw new UsageError("flush-cache takes no options but --yes");
      }
      result = await flushCacheCommand(config.redisUrl, config.redisKeyPrefix, human, { yes });
      break;
    case "purge-stream":
      if (flags["older-than"] || terminateIdleOnly(flags)) {
        throw new UsageError(
          "--older-than, --all-databases, --spare-ops-for and --include-ops belong to terminate-idle",
        );
      }
      result = await purgeStreamCommand(
        config.natsUrl,
        (flags.stream as string) ?? TASKS_STREAM.name,
        human,
        { yes },
      );
      break;
    default:
      throw new UsageError(`unknown command "${command}"`, USAGE);
  }
  if (flags.json) output.line(JSON.stringify({ command, ...result as object }, null, 2));
  return ExitCode.ok;
}

function terminateIdleOnly(flags: Record<string, unknown>): boolean {
  return flags["all-databases"] === true || flags["include-ops"] === true ||
    flags["spare-ops-for"] !== undefined;
}

if (import.meta.main) await runMain((output) => emergencyCli(Deno.args, output));
