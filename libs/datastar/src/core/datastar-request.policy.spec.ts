import { ForbiddenException } from '@nestjs/common';
import { CROSS_SITE_REFUSED, DATASTAR_REQUEST_REQUIRED } from '../datastar.messages';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import { DatastarRequestPolicy } from './datastar-request.policy';
import { resolveDatastarSettings } from './datastar-settings';

const policy = (allowCrossSite?: DatastarModuleOptions['allowCrossSite']) =>
  new DatastarRequestPolicy(resolveDatastarSettings({ allowCrossSite }));

/** An Express-like request (Node lowercases header names). */
const req = (headers: Record<string, string>) => ({ headers });
const datastar = (headers: Record<string, string> = {}) => req({ 'datastar-request': 'true', ...headers });
const crossSite = (origin?: string) =>
  datastar({ 'sec-fetch-site': 'cross-site', ...(origin === undefined ? {} : { origin }) });

/** What `check` threw, or undefined. */
function refusal(check: () => void): ForbiddenException | undefined {
  try {
    check();
  } catch (error) {
    return error as ForbiddenException;
  }
  return undefined;
}

describe('DatastarRequestPolicy', () => {
  describe('Datastar-Request: true is required', () => {
    it.each([
      ['missing', {}],
      ['false', { 'datastar-request': 'false' }],
      ['empty', { 'datastar-request': '' }],
    ])('%s: 403 saying what to send', (_, headers) => {
      const error = refusal(() => policy().check(req(headers)));
      expect(error).toBeInstanceOf(ForbiddenException);
      expect(error!.getStatus()).toBe(403);
      expect(error!.message).toBe(DATASTAR_REQUEST_REQUIRED);
    });

    it('is checked before the site, even when every site is allowed', () => {
      expect(refusal(() => policy(true).check(req({ 'sec-fetch-site': 'same-origin' })))?.message).toBe(
        DATASTAR_REQUEST_REQUIRED,
      );
    });

    it("is read from a Fastify request's raw request", () => {
      expect(() => policy().check({ headers: {}, raw: datastar() })).not.toThrow();
      expect(refusal(() => policy().check({ headers: datastar().headers, raw: req({}) }))?.message).toBe(
        DATASTAR_REQUEST_REQUIRED,
      );
    });
  });

  describe('Sec-Fetch-Site', () => {
    it.each([['same-origin'], ['same-site'], ['none'], [undefined]])('%s is allowed', (site) => {
      expect(() => policy().check(datastar(site === undefined ? {} : { 'sec-fetch-site': site }))).not.toThrow();
    });

    it('cross-site is refused by default', () => {
      const error = refusal(() => policy().check(crossSite('https://evil.example')));
      expect(error).toBeInstanceOf(ForbiddenException);
      expect(error!.message).toBe(CROSS_SITE_REFUSED);
    });

    it('allowCrossSite: true allows every site', () => {
      expect(() => policy(true).check(crossSite('https://anyone.example'))).not.toThrow();
      expect(() => policy(true).check(crossSite())).not.toThrow();
    });
  });

  describe('allowCrossSite: [origins]', () => {
    const allowing = policy(['https://App.Example.com', 'http://localhost:5173']);

    it('allows those origins, whatever the case of the Origin header', () => {
      expect(() => allowing.check(crossSite('https://app.example.com'))).not.toThrow();
      expect(() => allowing.check(crossSite('HTTPS://APP.EXAMPLE.COM'))).not.toThrow();
      expect(() => allowing.check(crossSite('http://localhost:5173'))).not.toThrow();
    });

    it.each([
      ['another host', 'https://evil.example'],
      ['another scheme', 'http://app.example.com'],
      ['another port', 'https://app.example.com:8443'],
      ['a subdomain', 'https://x.app.example.com'],
      ['the opaque origin', 'null'],
    ])('refuses %s', (_, origin) => {
      expect(refusal(() => allowing.check(crossSite(origin)))?.message).toBe(CROSS_SITE_REFUSED);
    });

    it('refuses a cross-site request without Origin', () => {
      expect(refusal(() => allowing.check(crossSite()))?.message).toBe(CROSS_SITE_REFUSED);
    });
  });
});
