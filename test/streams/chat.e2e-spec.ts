import { Agent, request } from 'node:http';
import { ChatRoom, PRESENCE_MS, ROOM } from '../../sample/src/chat/chat-room.service';
import { appendsMessage, lastOnline, onlineValues, roomCount, startSample, type SampleInstance } from './fixtures/sample';
import { eventually, sleep, type SseStream } from './fixtures/sse-client';

/** The sample's /chat room in one process (in-memory pub/sub), driven as two browser tabs would. */
describe('sample /chat (one process)', () => {
  let sample: SampleInstance;
  const opened: SseStream[] = [];
  const tab = async (tabId: string) => {
    const stream = await sample.tab(tabId);
    opened.push(stream);
    return stream;
  };
  beforeAll(async () => {
    sample = await startSample();
  });
  afterEach(async () => {
    opened.splice(0).forEach((s) => s.close());
    await eventually('the room to empty', () => roomCount(sample) === 0);
  });
  afterAll(() => sample?.close());

  it('the page carries the room, the stream action and a per-tab id', async () => {
    const res = await fetch(`${sample.base}/chat`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="messages"');
    expect(html).toContain('data-init="@get(&quot;/ds/chat/stream&quot;)"');
    // data-signals:tab-id is the `tabId` signal the stream registry deduplicates by.
    expect(html).toContain('data-signals:tab-id="sessionStorage.dsTabId ||');
  });

  it('two tabs: a POSTed message reaches both as an escaped #messages append; online goes 1 -> 2', async () => {
    const a = await tab('tab-a');
    expect(a.status).toBe(200);
    await a.until('online 1 on tab A', () => lastOnline(a) === 1);
    const b = await tab('tab-b');
    await Promise.all([a, b].map((s) => s.until('online 2', () => lastOnline(s) === 2)));
    // A saw the room grow; nobody ever saw a count above the real one.
    expect(onlineValues(a).filter((n) => n > 0)).toEqual([1, 2]);
    expect(onlineValues(b).every((n) => n <= 2)).toBe(true);

    const sent = await sample.say('ann <admin>', `<b>hi</b> & "x" 'y'`);
    expect(sent.status).toBe(200);
    // The sender's input is cleared through the POST's own response.
    expect(sent.text).toContain('data: signals {"message":""}');
    const escaped = '<strong>ann &lt;admin&gt;</strong>: &lt;b&gt;hi&lt;/b&gt; &amp; &quot;x&quot; &#x27;y&#x27;</li>';
    const [gotA, gotB] = await Promise.all([a, b].map((s) => s.waitFor('the message', appendsMessage(escaped))));
    for (const event of [gotA, gotB]) {
      const li = event.data.filter((l) => l.startsWith('elements ')).join('\n');
      expect(li).toMatch(/^elements <li><span class="muted">\d\d:\d\d:\d\d<\/span> <strong>/);
      expect(li).not.toContain('<b>');
      expect(li).not.toContain('<admin>');
    }
    // A reload shows it: the room keeps recent history for new pages...
    expect(await (await fetch(`${sample.base}/chat`)).text()).toContain(escaped);
    // ...as text, rendered (escaped) only when sent: history holds no markup.
    const stored = sample.app.get(ChatRoom).recent().at(-1)!;
    expect(stored).toEqual({ name: 'ann <admin>', text: `<b>hi</b> & "x" 'y'`, at: expect.stringMatching(/^\d\d:\d\d:\d\d$/) });
  });

  it('presence is coalesced: 1,000 tabs opening cost a linear number of online patches, not N²/2', async () => {
    const N = 1000;
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const counts: number[] = new Array(N).fill(0);
    const requests: Array<ReturnType<typeof request>> = [];
    const opening = Array.from({ length: N }, (_, i) => new Promise<void>((resolve, reject) => {
      const url = new URL('/ds/chat/stream', sample.base);
      url.searchParams.set('datastar', JSON.stringify({ tabId: `crowd-${i}` }));
      const req = request(url, { agent, headers: { 'datastar-request': 'true', cookie: 'ds_bid=crowd-browser-00000000' } }, (res) => {
        res.setEncoding('utf8');
        let pending = '';
        res.on('data', (chunk: string) => {
          pending += chunk;
          const lines = pending.split('\n');
          pending = lines.pop()!;
          counts[i] += lines.filter((line) => line.startsWith('data: signals {"online":')).length;
        });
        res.on('error', () => undefined);
        resolve();
      });
      req.on('error', reject);
      req.end();
      requests.push(req);
    }));
    const started = Date.now();
    try {
      await Promise.all(opening);
      await eventually('1,000 streams in the room', () => roomCount(sample) === N, 30_000);
      // Settle: the last coalesced update has gone out to everyone.
      await sleep(600);
      const total = counts.reduce((a, b) => a + b, 0);
      // A stream gets one patch when it opens, then at most one per coalescing window (it got one
      // per later tab before: the first of 1,000 got about 1,000)...
      const windows = Math.ceil((Date.now() - started) / PRESENCE_MS) + 2;
      expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...counts)).toBeLessThanOrEqual(windows + 1);
      // ...so the total is a multiple of N set by time, not by N (it was about N²/2 = 500,000).
      expect(total).toBeLessThan(100 * N);
    } finally {
      requests.forEach((req) => req.destroy());
      agent.destroy();
    }
    await eventually('the room to empty', () => roomCount(sample) === 0, 10_000);
  });

  it('reopening a tab (same tabId) ends its old stream and leaves the online count unchanged', async () => {
    const a1 = await tab('tab-r1');
    const b = await tab('tab-r2');
    await Promise.all([a1, b].map((s) => s.until('online 2', () => lastOnline(s) === 2)));
    const a2 = await tab('tab-r1');
    expect(await a1.waitForEnd()).toBe('end');
    // The new stream starts with the current count, which never moved.
    await a2.until('online on the reopened tab', () => lastOnline(a2) !== undefined);
    await sleep(150);
    expect(onlineValues(a2)).toEqual([2]);
    expect(onlineValues(b).filter((n) => n > 2)).toEqual([]);
    expect(lastOnline(b)).toBe(2);
    expect(roomCount(sample)).toBe(2);
    expect(sample.streams.count(ROOM)).toBe(2);

    // Closing a tab is seen by the others.
    b.close();
    await a2.until('online 1', () => lastOnline(a2) === 1);
  });
});
