/**
 * Work on several items at once: `step` runs on each item, at most `most` at once; after a
 * failure no further item starts, and the first error is thrown once the running ones ended.
 */
export async function inParallel<T>(
  items: readonly T[],
  most: number,
  step: (item: T) => Promise<void>
): Promise<void> {
  const queue = [...items]
  let failure: { error: unknown } | undefined
  const worker = async (): Promise<void> => {
    for (
      let item = queue.shift();
      item !== undefined && failure === undefined;
      item = queue.shift()
    ) {
      try {
        await step(item)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(most, items.length) }, worker))
  if (failure !== undefined) throw failure.error
}
