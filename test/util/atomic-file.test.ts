// The atomic file writer on a temp directory: replacement, permissions, clean-up after failures, stale temp files.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeStaleTempFiles, syncDirectory, writeFileAtomic } from '../../firmware/util/atomic-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offhook-atomic-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates the file, then replaces it, leaving no temp file', async () => {
    const file = join(dir, 'a.json');
    await writeFileAtomic(file, 'first');
    expect(readFileSync(file, 'utf8')).toBe('first');
    await writeFileAtomic(file, new TextEncoder().encode('second, longer'));
    expect(readFileSync(file, 'utf8')).toBe('second, longer');
    await writeFileAtomic(file, '');
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('creates new files with the mode asked for', async () => {
    const file = join(dir, 'secret.json');
    await writeFileAtomic(file, 'x', { mode: 0o600 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('rejects when the directory is missing', async () => {
    await expect(writeFileAtomic(join(dir, 'nope', 'a.json'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('removes its temp file and leaves the target alone when the rename fails', async () => {
    // A non-empty directory in the target's place: rename(2) over it fails.
    const target = join(dir, 'busy');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'keep');
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['busy']);
    expect(readFileSync(join(target, 'inside'), 'utf8')).toBe('keep');
  });

  it('serialized writes of one file end with the last content', async () => {
    const file = join(dir, 'n.json');
    for (let i = 0; i < 20; i++) await writeFileAtomic(file, String(i));
    expect(readFileSync(file, 'utf8')).toBe('19');
  });
});

describe('removeStaleTempFiles', () => {
  it("removes only this file's temp files", async () => {
    const file = join(dir, 'history.json');
    writeFileSync(file, 'kept');
    writeFileSync(join(dir, '.history.json.tmp-123-abcd'), 'partial');
    writeFileSync(join(dir, '.history.json.tmp-9-ef'), '');
    writeFileSync(join(dir, '.settings.json.tmp-1-aa'), 'other file');
    const removed = await removeStaleTempFiles(file);
    expect(removed.sort()).toEqual(['.history.json.tmp-123-abcd', '.history.json.tmp-9-ef']);
    expect(readdirSync(dir).sort()).toEqual(['.settings.json.tmp-1-aa', 'history.json']);
  });

  it('returns nothing for a missing directory', async () => {
    expect(await removeStaleTempFiles(join(dir, 'nope', 'x.json'))).toEqual([]);
  });
});

describe('syncDirectory', () => {
  it('fsyncs a directory, and rejects for a missing one', async () => {
    await syncDirectory(dir);
    await expect(syncDirectory(join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
