/**
 * No function in src/ is longer than 80 lines, unless the comment right above it says why (it
 * holds "longer than 80 lines"): a reader should not lose the thread. Functions are read with the
 * TypeScript parser: declarations, methods, and function and arrow expressions.
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

const LIMIT = 80

interface Long {
  readonly where: string
  readonly lines: number
}

/** Functions of a source text longer than `limit` lines without a note saying why. Pure. */
function longFunctions(file: string, text: string, limit = LIMIT): Long[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found: Long[] = []
  const visit = (node: ts.Node): void => {
    if (
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isFunctionExpression(node) ||
      ts.isArrowFunction(node)
    ) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart()).line
      const lines = sf.getLineAndCharacterOfPosition(node.getEnd()).line - start + 1
      // the note is the comment before the statement that holds the function
      const holder = ts.isArrowFunction(node) || ts.isFunctionExpression(node) ? node.parent : node
      const note = text.slice(holder.getFullStart(), holder.getStart())
      if (lines > limit && !/longer than \d+ lines/.test(note)) {
        found.push({ where: `${file}:${start + 1}`, lines })
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return found
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const full = path.posix.join(dir, name)
    if (statSync(full).isDirectory()) return sourceFiles(full)
    return full.endsWith('.ts') ? [full] : []
  })
}

describe('function length', () => {
  it(`no function in src/ is longer than ${LIMIT} lines without a note saying why`, () => {
    const long = sourceFiles('src').flatMap(f => longFunctions(f, readFileSync(f, 'utf8')))
    expect(long).toEqual([])
  })

  it('the check finds a long function, and lets one with a note pass', () => {
    const body = Array.from({ length: 4 }, (_, i) => `  const a${i} = ${i}`).join('\n')
    const fn = (note: string) =>
      `${note}function f() {\n${body}\n}\nconst g = () => {\n${body}\n}\n`
    expect(longFunctions('x.ts', fn(''), 3)).toEqual([
      { where: 'x.ts:1', lines: 6 },
      { where: 'x.ts:7', lines: 6 }
    ])
    expect(longFunctions('x.ts', fn('/** longer than 3 lines: a table */\n'), 3)).toEqual([
      { where: 'x.ts:8', lines: 6 }
    ])
  })
})
