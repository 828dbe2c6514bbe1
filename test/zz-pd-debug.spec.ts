import { DatastarPage } from 'nestjs-datastar/testing';
import { startFixtureServer } from '../libs/datastar/src/testing/counter-app.fixture';
it('debug', async () => {
  const app = await startFixtureServer();
  const page = await DatastarPage.open(app.url, '/clock', { runtime: 'client', clientPath: '/work/cache/datastar.js' });
  const w = page.window as any;
  console.log('vis', w.document.visibilityState, w.document.hidden, page.runtime, JSON.stringify(page.requests), page.errors);
  await new Promise((r) => setTimeout(r, 300));
  console.log('after', JSON.stringify(page.requests), page.signals, page.errors, app.streams);
  const f = w.document.createElement('form'); f.innerHTML = '<input name="a" value="1"><button name="go" value="yes">x</button>';
  const fd = new w.FormData(f); fd.append('go', 'yes');
  console.log('fd', [...fd.entries()], [...new w.URLSearchParams(fd)].join('|'), w.eval('URLSearchParams') === w.URLSearchParams, w.eval('FormData') === w.FormData);
  await page.close();
  await app.close();
});
