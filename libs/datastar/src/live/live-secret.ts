/** The generated live token secret kept on disk while developing, so tokens survive restarts. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MIN_SECRET_LENGTH } from '../datastar.constants';

/** `<dir>/secret`: read, else created once (mode 0600); undefined when the folder cannot be used. */
export function keptSecret(dir: string): { secret: string; file: string } | undefined {
  const file = join(dir, 'secret');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 2; attempt++) {
      const existing = read(file);
      if (existing !== undefined && existing.length >= MIN_SECRET_LENGTH) return { secret: existing, file };
      try {
        // 'wx': two processes starting together agree on the first one written.
        writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: existing === undefined ? 'wx' : 'w' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    const secret = read(file);
    return secret !== undefined && secret.length >= MIN_SECRET_LENGTH ? { secret, file } : undefined;
  } catch {
    return undefined;
  }
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
