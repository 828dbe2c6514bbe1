import { appendsMessage, BROWSER_ID, roomCount, startSample, type SampleInstance } from './fixtures/sample';
import { dataOf, eventually, SseStream } from './fixtures/sse-client';

/** The sample's chat resumes: a message sent while a tab's stream was down shows once it is back. */
describe('sample /chat: a tab that comes back gets what it missed', () => {
  let sample: SampleInstance;
  const opened: SseStream[] = [];
  /** The tab's stream as the client reopens it: same tab, and the last id it saw. */
  const tab = async (tabId: string, lastEventId?: string) => {
    const stream = await SseStream.open(sample.base, '/ds/chat/stream', {
      signals: { tabId },
      headers: { cookie: `ds_bid=${BROWSER_ID}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    });
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

  it('a message sent while the stream was down arrives, once, after the reconnect', async () => {
    const first = await tab('tab-replay');
    await eventually('the stream in the room', () => roomCount(sample) === 1);
    expect((await sample.say('ann', 'before the cut')).status).toBe(200);
    const seen = await first.waitFor('the first message', appendsMessage('before the cut'));
    expect(seen.id).toBeDefined();
    first.close();
    await eventually('the room to empty', () => roomCount(sample) === 0);
    expect((await sample.say('bob', 'while it was down')).status).toBe(200);
    const back = await tab('tab-replay', seen.id);
    await back.waitFor('the missed message', appendsMessage('while it was down'));
    expect((await sample.say('ann', 'after it came back')).status).toBe(200);
    await back.waitFor('the live message', appendsMessage('after it came back'));
    const messages = back.events.filter((e) => dataOf(e, 'selector') === '#messages');
    expect(messages.map((e) => /before|while|after/.exec(dataOf(e, 'elements') ?? '')?.[0])).toEqual(['while', 'after']);
  });

  it('an id the room cannot resume from gets the whole list again, then live messages', async () => {
    expect((await sample.say('cy', 'kept in history')).status).toBe(200);
    const back = await tab('tab-resync', 'not-an-id-of-ours');
    const list = await back.waitFor('the list again', (e) => dataOf(e, 'selector') === '#messages' && dataOf(e, 'mode') === 'inner');
    expect(dataOf(list, 'elements')).toContain('kept in history');
  });
});
