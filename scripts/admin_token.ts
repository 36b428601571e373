/**
 * `deno task admin-token [name] [--ttl=3600]`: prints an admin access token signed with the
 * first of JWT_SECRETS, for operators (the /debug routes, acting on any user's data). Its
 * subject is `operator:<name>`. Treat it like the secret itself.
 *
 * @module
 */
import { TokenService } from "@platform/lib/auth";
import { ConfigError, loadBaseConfig } from "@platform/lib/config";

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(
    "usage: deno task admin-token [name] [--ttl=SECONDS]\n" +
      "Prints an admin token (subject operator:<name>) signed with the first of JWT_SECRETS.",
  );
  Deno.exit(0);
}
const name = Deno.args.find((a) => !a.startsWith("--")) ?? Deno.env.get("USER") ?? "operator";
const ttlArg = Deno.args.find((a) => a.startsWith("--ttl="));
const ttl = ttlArg ? Number(ttlArg.slice(6)) : 3600;
if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400) {
  console.error("--ttl must be whole seconds from 60 to 86400");
  Deno.exit(2);
}
try {
  const config = loadBaseConfig("admin-token", 0);
  if (config.usingDevelopmentSecret) {
    console.error(
      "warning: JWT_SECRETS is not set; this token only works with the development secret",
    );
  }
  const { token } = await new TokenService(config.jwtSecrets, ttl).issue({
    subject: `operator:${name}`,
    role: "admin",
  });
  console.log(token);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    Deno.exit(2);
  }
  throw error;
}
