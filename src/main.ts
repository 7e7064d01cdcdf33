/**
 * Entry of both steps: one bundle serves the main and the post step. The main step leaves the
 * isPost state behind, which the runner hands back to the post step.
 */
import { post, run } from './action.js'
import { coreRuntime } from './runtime.js'
import { States } from './inputs/names.js'

const rt = coreRuntime()
if (rt.getState(States.IsPost) === 'true') {
  await post(rt)
} else {
  rt.saveState(States.IsPost, 'true')
  await run(rt)
}
