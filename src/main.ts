/**
 * Entry of both steps: one bundle serves the main and the post step. The main step marks itself
 * in the state, which the runner hands back to the post step.
 */
import { run } from './action.js'
import { post } from './post.js'
import { coreRuntime } from './runtime.js'
import { isPostStep, markMainStep } from './state.js'
import { realTools } from './tools.js'

const rt = coreRuntime()
if (isPostStep(rt)) {
  await post(rt, realTools())
} else {
  markMainStep(rt)
  // A cancelled workflow sends SIGINT, then SIGTERM: stop children and containers, then fail.
  const cancel = new AbortController()
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => cancel.abort(new Error(`cancelled by ${sig}`)))
  }
  await run(rt, realTools(cancel.signal))
}
