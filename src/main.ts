/**
 * Entry of both steps: one bundle serves the main and the post step. The main step leaves the
 * isPost state behind, which the runner hands back to the post step.
 */
import { post, run } from './action.js'
import { coreRuntime } from './runtime.js'
import { realTools } from './tools.js'
import { States } from './inputs/names.js'

const rt = coreRuntime()
if (rt.getState(States.IsPost) === 'true') {
  await post(rt, realTools())
} else {
  rt.saveState(States.IsPost, 'true')
  // A cancelled workflow sends SIGINT, then SIGTERM: stop children and containers, then fail.
  const cancel = new AbortController()
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => cancel.abort(new Error(`cancelled by ${sig}`)))
  }
  await run(rt, realTools(cancel.signal))
}
