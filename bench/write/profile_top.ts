/**
 * Prints the top functions of a V8 `.cpuprofile` by self time and by module (the share of
 * samples), for the notes taken before optimising (`BENCH_CPU_PROF=dir ./deno task bench:write`).
 *
 * Run: `./deno run -R bench/write/profile_top.ts <file.cpuprofile> [top=25]`
 *
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

if (import.meta.main) {
  const profile = JSON.parse(await Deno.readTextFile(Deno.args[0])) as Profile;
  const top = Number(Deno.args[1] ?? 25);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const modules = new Map<string, number>();
  for (const id of profile.samples) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(node_modules|deno|npm|src|lib|services)\//, "$1/");
    const key = `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
    const module = url === ""
      ? functionName
      : url.replace(/^.*\/(npm\/[^/]+\/[^/]+|[^/]+\/[^/]+)\/[^/]*$/, "$1");
    modules.set(module, (modules.get(module) ?? 0) + 1);
  }
  const total = profile.samples.length;
  const print = (title: string, counts: Map<string, number>) => {
    console.log(title);
    for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`  ${(100 * n / total).toFixed(1).padStart(5)}%  ${key}`);
    }
  };
  print(`self time, ${total} samples:`, self);
  print("by file's folder:", modules);
}
