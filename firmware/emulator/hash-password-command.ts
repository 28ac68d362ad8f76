// `offhook hash-password`: reads a password without echoing it and prints its scrypt hash for emulator.passwordHash.
import { hashPassword } from './password.js';

export interface HashPasswordIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  output: NodeJS.WritableStream;
  /** Prompts and messages (stderr), so that stdout holds only the hash. */
  messages: NodeJS.WritableStream;
}

/** Reads one line; on a terminal in raw mode, so the password is not echoed. */
function readSecretLine(io: HashPasswordIo, prompt: string): Promise<string | undefined> {
  const tty = io.input.isTTY === true && typeof io.input.setRawMode === 'function';
  if (tty) io.messages.write(prompt);
  return new Promise((resolve) => {
    let text = '';
    const finish = (value: string | undefined): void => {
      io.input.off('data', onData);
      io.input.off('end', onEnd);
      if (tty) {
        io.input.setRawMode?.(false);
        io.messages.write('\n');
      }
      io.input.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return finish(text);
        if (ch === '\u0003' || ch === '\u0004') return finish(undefined); // Ctrl-C, Ctrl-D
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const onEnd = (): void => finish(text === '' ? undefined : text);
    if (tty) io.input.setRawMode?.(true);
    io.input.on('data', onData);
    io.input.on('end', onEnd);
    io.input.resume();
  });
}

/** Exit status 0 with the hash on stdout; 1 when no password was given or the two entries differ. */
export async function runHashPassword(io: HashPasswordIo): Promise<number> {
  const password = await readSecretLine(io, 'Password for the emulator page: ');
  if (!password) {
    io.messages.write('offhook: no password given\n');
    return 1;
  }
  if (io.input.isTTY) {
    const again = await readSecretLine(io, 'Again: ');
    if (again !== password) {
      io.messages.write('offhook: the two passwords differ\n');
      return 1;
    }
  }
  io.output.write(`${await hashPassword(password)}\n`);
  io.messages.write('Put it in the config file as\n  emulator:\n    passwordHash: "<the line above>"\n');
  return 0;
}
