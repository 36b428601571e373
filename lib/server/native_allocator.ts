/**
 * The native allocator's hold on memory. Deno's Rust code allocates with glibc malloc, whose
 * mmap threshold grows to the size of the largest block freed: after one 16 MiB scrypt buffer is
 * freed, every later one comes from a per-thread arena instead of mmap, and stays there after the
 * hash is done (64 concurrent logins took a User Service from 80 MB to 700 MB, for good). A
 * fixed threshold (1 MiB, glibc's `M_MMAP_THRESHOLD`) keeps large blocks on mmap, so freeing them
 * gives the memory back at once; the same holds for any other large native buffer (big request
 * bodies, TLS, database results).
 *
 * Set with `mallopt` through Deno's FFI; where that is not possible (no glibc, no FFI permission)
 * nothing changes and the reason is returned. `MALLOC_MMAP_THRESHOLD_` in the environment (read
 * by glibc at start) does the same.
 *
 * @module
 */

const M_MMAP_THRESHOLD = -3;
/** Blocks from this size up are mmapped and returned to the system when freed. */
export const MMAP_THRESHOLD_BYTES = 1 << 20;

/**
 * Fixes glibc's mmap threshold; returns undefined when done, or why it could not be.
 *
 * @example
 * ```ts ignore
 * const skipped = tuneNativeAllocator();
 * if (skipped) logger.info("native allocator left as is", { reason: skipped });
 * ```
 */
export function tuneNativeAllocator(): string | undefined {
  if (Deno.build.os !== "linux") return `not Linux (${Deno.build.os})`;
  if (Deno.env.get("MALLOC_MMAP_THRESHOLD_") !== undefined) return undefined; // glibc has it
  let lib: Deno.DynamicLibrary<{ mallopt: { parameters: ["i32", "i32"]; result: "i32" } }>;
  try {
    lib = Deno.dlopen("libc.so.6", { mallopt: { parameters: ["i32", "i32"], result: "i32" } });
  } catch (error) {
    return `cannot load libc.so.6 through FFI: ${(error as Error).message}`;
  }
  try {
    return lib.symbols.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) === 1
      ? undefined
      : "mallopt refused M_MMAP_THRESHOLD";
  } finally {
    lib.close();
  }
}
