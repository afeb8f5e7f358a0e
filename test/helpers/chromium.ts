import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); playwright-core never downloads a browser here. */
export const CHROMIUM = '/usr/bin/chromium';

// Headless as root, and quiet: this machine has no network, so Chromium's background traffic is off.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Chromium with a fresh temporary profile.
 * @throws {Error} when Chromium is missing: browser tests fail rather than skip (CI installs it).
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run 'apt-get install -y chromium' (as .ci/run does)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}
