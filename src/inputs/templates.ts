/** The placeholders of the tags input: which exist, and the check that a template uses only those. */
import { InputError, quote } from './errors.js'
import { Inputs } from './names.js'

export const TEMPLATE_VARIABLES = [
  'distro',
  'version',
  'major',
  'minor',
  'patch',
  'branch',
  'sha',
  'date'
] as const

/** Check user templates: known variables only. */
export function checkTemplates(templates: readonly string[]): void {
  for (const template of templates) {
    for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
      if (!(TEMPLATE_VARIABLES as readonly string[]).includes(m[1])) {
        throw new InputError(
          Inputs.Tags,
          `unknown placeholder {${m[1]}} in ${quote(template)}; use ${TEMPLATE_VARIABLES.map(v => `{${v}}`).join(', ')}`
        )
      }
    }
  }
}
