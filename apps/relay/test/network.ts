import { execFile } from 'node:child_process'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Devnet, type DevnetOptions, startDevnet } from '../src/cli/devnet.ts'
import type { DevnetFile } from '../src/cli/context.ts'

const cliPath = fileURLToPath(new URL('../src/cli.ts', import.meta.url))

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export interface TestNetwork {
  /** A work folder whose `.konbini` links to the devnet's data, so the CLI finds it. */
  workDir: string
  dataDir: string
  file: DevnetFile
  /** The processes: `devnet.nodes[i].kill('SIGKILL')`, `.start()` again, `devnet.metas[…]`. */
  devnet: Devnet
  /** Runs the real `konbini` CLI in `workDir`. */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>
  stop(): Promise<void>
}

/** Starts a devnet (real processes, ephemeral ports on 127.0.0.1, no portal) in a temp folder. */
export async function startTestNetwork(options: Partial<DevnetOptions> = {}): Promise<TestNetwork> {
  const workDir = await mkdtemp(join(tmpdir(), 'konbini-test-'))
  const dataDir = join(workDir, 'data')
  const net = await startDevnet({ dataDir, resources: 4, web: false, basePort: 0, webDistDir: '.next-test', log: () => {}, ...options })
  await symlink(dataDir, join(workDir, '.konbini'))
  return {
    workDir,
    dataDir,
    file: net.file,
    devnet: net,
    cli: (args, env = {}) => runCli(args, workDir, env),
    async stop() {
      await net.stop()
      await rm(workDir, { recursive: true, force: true })
    },
  }
}

/** Runs the CLI as its own process and collects its output (never throws on a non-zero exit). */
export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}
