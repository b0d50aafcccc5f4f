/**
 * Coalesces calls made in the same turn of the event loop into one: a worker running many jobs at once
 * asks the database once for all of them instead of once each. Each caller gets its own result (by
 * position) or the batch's error. Batches hold at most `maxBatch` items.
 */
export function createBatcher<I, O>(run: (items: I[]) => Promise<O[]>, maxBatch = 100): (item: I) => Promise<O> {
  let pending: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const batch = pending.slice(0, maxBatch);
    pending = pending.slice(maxBatch);
    if (pending.length > 0) schedule();
    run(batch.map((entry) => entry.item)).then(
      (results) => batch.forEach((entry, index) => entry.resolve(results[index]!)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    );
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      schedule();
    });
}
