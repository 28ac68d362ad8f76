// A .node of the wrong architecture, ELF class or Node ABI fails with the file, the expected architecture and how to rebuild.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon, NativeAddonError, nativeAddonCandidates } from '../../firmware/media/native-addon.js';
import { nativeFileProblem } from '../../firmware/media/native-file-check.js';

const built = nativeAddonCandidates().find((f) => existsSync(f));
const dir = mkdtempSync(join(tmpdir(), 'offhook-wrong-arch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The real addon with its ELF header patched: e_machine (offset 18) and / or EI_CLASS (offset 4). */
function patched(name: string, patch: (header: Buffer) => void): string {
  if (built === undefined) throw new Error('the addon is not built');
  const bytes = readFileSync(built);
  patch(bytes);
  const file = join(dir, `${name}.node`);
  writeFileSync(file, bytes);
  return file;
}

function loadError(path: string): NativeAddonError {
  try {
    loadNativeAddon({ path });
  } catch (err) {
    if (err instanceof NativeAddonError) return err;
    throw err;
  }
  throw new Error(`${path} loaded`);
}

const other = process.arch === 'arm64' ? { machine: 62, name: 'x86-64', debian: 'amd64' } : { machine: 183, name: 'AArch64', debian: 'arm64' };
const own = process.arch === 'arm64' ? 'AArch64' : 'x86-64';
const ownDebian = process.arch === 'arm64' ? 'arm64' : 'amd64';

describe.skipIf(built === undefined || (process.arch !== 'x64' && process.arch !== 'arm64'))('a native addon built for something else', () => {
  it(`names the file, its architecture (${other.debian}) and the one expected, and how to rebuild`, () => {
    const file = patched('other-machine', (b) => b.writeUInt16LE(other.machine, 18));
    const err = loadError(file);
    expect(err.reason).toBe('unloadable');
    expect(err.message).toContain(file);
    expect(err.message).toContain(`it is a 64-bit ${other.name} ELF file (${other.debian}), but this Node runs on ${process.arch} and needs a ${own} one`);
    expect(err.message).toContain(`install offhook_<version>_${ownDebian}.deb from \`make package\``);
    expect(err.message).toContain('make build');
    // glibc alone says "No such file or directory" about a file that exists.
    expect(err.message).toContain('cannot open shared object file');
  });

  it('explains a 32-bit ELF (wrong ELF class)', () => {
    const file = patched('elf32', (b) => {
      b[4] = 1;
      b.writeUInt16LE(40, 18);
    });
    const err = loadError(file);
    expect(err.message).toMatch(/wrong ELF class: ELFCLASS32|cannot open shared object/);
    expect(err.message).toContain(`it is a 32-bit ARM (32-bit) ELF file (armhf), but this Node runs on ${process.arch}`);
  });

  it('says when the file is no shared object at all', () => {
    const file = join(dir, 'text.node');
    writeFileSync(file, 'not a library\n'.repeat(4));
    expect(loadError(file).message).toContain('it is not an ELF shared object');
  });
});

describe('nativeFileProblem', () => {
  it('recognises a Node ABI mismatch (NODE_MODULE_VERSION, missing V8 symbols)', () => {
    const file = built ?? join(dir, 'none.node');
    const abi = new Error(`The module '${file}' was compiled against a different Node.js version using NODE_MODULE_VERSION 108.`);
    expect(nativeFileProblem(file, abi)).toContain('it was built for another Node.js version than this one');
    expect(nativeFileProblem(file, new Error(`${file}: undefined symbol: _ZN2v88internal20CanHaveInternalFieldEi`))).toContain('another Node.js version');
    expect(nativeFileProblem(file, new Error('something else'))).toBe('');
  });
});
