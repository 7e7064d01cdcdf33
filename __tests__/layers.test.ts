/**
 * The layers of src/: the README's layout table lists the folders from top to bottom, and an
 * import may only point to its own folder or to one below it.
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'

/** The folders of the README's layout table that are under src/, in table order (top first). */
function layersFromReadme(readme: string): string[] {
  const section = readme.slice(readme.indexOf('### Layout'))
  return [...section.matchAll(/^\| `(src(?:\/[\w-]+)?)` \|/gm)].map(m => m[1])
}

/** Every relative import of a file: static, re-exports and dynamic import(). */
function importsOf(source: string): string[] {
  const specs = [
    ...source.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g),
    ...source.matchAll(/\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)
  ]
  return specs.map(m => m[1])
}

interface Violation {
  readonly file: string
  readonly imports: string
  readonly why: string
}

/** Imports that point up the layer order, or out of the known layers. Pure. */
function violations(files: ReadonlyMap<string, string>, layers: readonly string[]): Violation[] {
  const found: Violation[] = []
  for (const [file, source] of files) {
    const from = path.posix.dirname(file)
    const mine = layers.indexOf(from)
    for (const spec of importsOf(source)) {
      const target = path.posix.normalize(path.posix.join(from, spec))
      const theirs = layers.indexOf(path.posix.dirname(target))
      if (mine < 0 || theirs < 0) {
        found.push({ file, imports: target, why: 'a folder missing from the layout table' })
      } else if (theirs < mine) {
        found.push({ file, imports: target, why: `${layers[theirs]} is above ${from}` })
      }
    }
  }
  return found
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const full = path.posix.join(dir, name)
    if (statSync(full).isDirectory()) return sourceFiles(full)
    return full.endsWith('.ts') ? [full] : []
  })
}

describe('layers', () => {
  const layers = layersFromReadme(readFileSync('README.md', 'utf8'))
  const files = new Map(sourceFiles('src').map(f => [f, readFileSync(f, 'utf8')]))

  it('the README lists every folder of src/, each once', () => {
    const folders = [...new Set([...files.keys()].map(f => path.posix.dirname(f)))].sort()
    expect([...layers].sort()).toEqual(folders)
    expect(new Set(layers).size).toBe(layers.length)
  })

  it('no import points from a lower folder to a higher one', () => {
    expect(violations(files, layers)).toEqual([])
  })

  it('the check finds an import that points up, and one into an unlisted folder', () => {
    const sample = new Map([
      ['src/low/a.ts', "import { b } from '../high/b.js'\nconst c = await import('./c.js')"],
      ['src/high/b.ts', "export { a } from '../low/a.js'\nimport x from '../elsewhere/x.js'"]
    ])
    expect(violations(sample, ['src/high', 'src/low'])).toEqual([
      { file: 'src/low/a.ts', imports: 'src/high/b.js', why: 'src/high is above src/low' },
      {
        file: 'src/high/b.ts',
        imports: 'src/elsewhere/x.js',
        why: 'a folder missing from the layout table'
      }
    ])
  })
})
