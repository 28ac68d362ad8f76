// Why a .node file failed to load, in words: the ELF header's architecture against this Node's, or the Node ABI.
import { closeSync, openSync, readSync } from 'node:fs';

/** ELF e_machine values (elf.h) by Node's process.arch, with the Debian architecture name. */
const MACHINES: Readonly<Record<number, { elf: string; arch: string; debian: string }>> = {
  3: { elf: 'Intel 80386', arch: 'ia32', debian: 'i386' },
  40: { elf: 'ARM (32-bit)', arch: 'arm', debian: 'armhf' },
  62: { elf: 'x86-64', arch: 'x64', debian: 'amd64' },
  183: { elf: 'AArch64', arch: 'arm64', debian: 'arm64' },
  243: { elf: 'RISC-V', arch: 'riscv64', debian: 'riscv64' },
};

function machineOf(arch: string): { machine: number; elf: string; debian: string } | undefined {
  for (const [machine, m] of Object.entries(MACHINES)) if (m.arch === arch) return { machine: Number(machine), elf: m.elf, debian: m.debian };
  return undefined;
}

/** The first bytes of a file (fewer when it is shorter; none when it cannot be read). */
function head(file: string, bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    return buffer.subarray(0, readSync(fd, buffer, 0, bytes, 0));
  } catch {
    return Buffer.alloc(0);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * What is wrong with a native module that dlopen refused, or '' when nothing more can be said. glibc's
 * own words mislead: an arm64 file on x86-64 is "cannot open shared object file: No such file or directory".
 */
export function nativeFileProblem(file: string, loadError: unknown, arch: string = process.arch): string {
  const h = head(file, 20);
  const expected = machineOf(arch);
  const rebuild = expected ? ` (built for ${expected.debian}: install offhook_<version>_${expected.debian}.deb from \`make package\`, or rebuild from source)` : '';
  if (h.length >= 20 && h.readUInt32BE(0) === 0x7f454c46) {
    const little = h[5] === 1;
    const machine = little ? h.readUInt16LE(18) : h.readUInt16BE(18);
    const bits = h[4] === 2 ? 64 : 32;
    if (expected && machine !== expected.machine) {
      const found = MACHINES[machine];
      return `: it is a ${bits}-bit ${found ? `${found.elf} ELF file (${found.debian})` : `ELF file for machine ${machine}`}, but this Node runs on ${arch} and needs a ${expected.elf} one${rebuild}`;
    }
  } else if (h.length > 0) {
    return ': it is not an ELF shared object';
  }
  const text = loadError instanceof Error ? loadError.message : String(loadError);
  if (/NODE_MODULE_VERSION|undefined symbol: _ZN(2v8|4node)/.test(text)) {
    return `: it was built for another Node.js version than this one (${process.version}, NODE_MODULE_VERSION ${process.versions.modules})${rebuild}`;
  }
  return '';
}
