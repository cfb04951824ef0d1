import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

/**
 * Headless Chromium for the browser tests, driven by playwright-core: Debian's `chromium` by default
 * (`.ci/run` installs it), or CHROMIUM_PATH (GitHub's runners have Google Chrome). Where there is no
 * browser the tests skip, saying so, instead of failing.
 */
export const BROWSER = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasBrowser = existsSync(BROWSER);

/** Screenshots go here (gitignored; the GitHub workflow keeps them as an artifact). */
export const SCREENSHOTS = resolve(__dirname, '..', '..', 'tmp', 'screenshots');

/** `test`, or `test.skip` with a printed reason when no browser is installed. */
export const browserTestNamed = (what: string): jest.It => {
  if (!hasBrowser)
    console.warn(`${what} browser test SKIPPED: no Chromium at ${BROWSER} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  return hasBrowser ? test : test.skip;
};

/**
 * The flags the machines here need: no sandbox (root in CI), and nothing that reaches out on its
 * own (background networking, component updates, sync, QUIC), since only loopback is reachable.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserSession {
  readonly page: Page;
  /** Every URL the page requested, in order. */
  readonly requested: string[];
  close(): Promise<void>;
}

/** A fresh browser profile and one page, recording the requests it makes. */
export const openBrowser = async (viewport: { readonly width: number; readonly height: number }): Promise<BrowserSession> => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const userDataDir = mkdtempSync(join(tmpdir(), 'relay-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: BROWSER,
      headless: true,
      viewport,
      args: CHROMIUM_ARGS,
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  return {
    page,
    requested,
    close: async () => {
      await context?.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
};
