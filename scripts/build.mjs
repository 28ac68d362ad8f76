#!/usr/bin/env node
// Bundles the firmware with esbuild into dist/offhook.mjs and puts the native addon and board profiles beside it.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const args = new Set(process.argv.slice(2));

/** Packages with native code of their own stay external: they load their .node files from node_modules. */
const external = ['i2c-bus', 'onoff', 'epoll', '*.node'];

/** ESM output that still lets bundled CommonJS packages (pino, yaml) call require() for node built-ins. */
const banner = "import { createRequire as __offhookCreateRequire } from 'node:module'; const require = __offhookCreateRequire(import.meta.url);";

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  external,
  logLevel: 'warning',
  define: { OFFHOOK_VERSION: JSON.stringify(pkg.version) },
};

mkdirSync(dist, { recursive: true });
await build({
  ...common,
  entryPoints: [join(root, 'firmware/cli.ts')],
  outfile: join(dist, 'offhook.mjs'),
  banner: { js: `#!/usr/bin/env node\n${banner}` },
});
chmodSync(join(dist, 'offhook.mjs'), 0o755);

// The addon beside the bundle: firmware/media/native-addon.ts looks there first.
const addon = join(root, 'build/Release/offhook_native.node');
if (existsSync(addon)) copyFileSync(addon, join(dist, 'offhook_native.node'));
else console.warn(`build: ${addon} is missing; run \`make build\` (node-gyp) to build the native addon`);

mkdirSync(join(dist, 'board'), { recursive: true });
for (const f of readdirSync(join(root, 'board'))) {
  if (f.endsWith('.yaml')) copyFileSync(join(root, 'board', f), join(dist, 'board', f));
}

// The emulator's page beside the bundle: firmware/emulator/web-server.ts serves ./web/ next to itself.
mkdirSync(join(dist, 'web'), { recursive: true });
for (const f of readdirSync(join(root, 'firmware/emulator/web'))) copyFileSync(join(root, 'firmware/emulator/web', f), join(dist, 'web', f));

if (args.has('--bench')) {
  const benchDir = join(root, 'scripts/bench');
  const entries = readdirSync(benchDir).filter((f) => f.endsWith('.ts')).map((f) => join(benchDir, f));
  if (entries.length > 0) {
    await build({ ...common, entryPoints: entries, outdir: join(dist, 'bench'), outExtension: { '.js': '.mjs' }, banner: { js: banner } });
  }
}
