#!/usr/bin/env node
// The `konbini` command: runs the CLI under Node 24.
import { fileURLToPath } from 'node:url'
import { run } from './node24.mjs'

run([fileURLToPath(new URL('../src/cli.ts', import.meta.url)), ...process.argv.slice(2)])
