import { readFileSync } from 'node:fs';

/** A process's resident memory (VmRSS, worker threads included) in kB, from /proc; undefined once it is gone. */
export function vmRssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // the process is gone
  }
}
