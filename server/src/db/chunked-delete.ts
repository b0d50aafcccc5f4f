/** Rows expired by retention tasks are deleted in chunks of this many, so no statement holds locks (or a replica) for long. */
export const DELETE_CHUNK = 5000;

/** Runs a chunked delete until a chunk comes back short (or shutdown asks to stop); returns the number deleted. */
export async function deleteInChunks(run: () => Promise<bigint | number>, signal?: AbortSignal): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = Number(await run());
    total += deleted;
    if (deleted < DELETE_CHUNK || signal?.aborted) return total;
  }
}
